"""Build script for fastmel's compiled core.

Metadata lives in setup.cfg; this file only describes the Cython extensions.
"""
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.path.join("src", "fastmel", "_include")

# Compiler directives are set here, once, for every module.  The kernels work
# on raw pointers, which these checks never touch; boundscheck and wraparound
# stay on because they also govern indexing of Python objects (tuples, lists,
# ndarrays), where turning them off silently misreads negative indices (numpy
# 2.5 made ndarray a sequence, so Cython passes ``a[-1]`` through unchanged).
CYTHON_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": True,
    "wraparound": True,
    "cdivision": True,
    "initializedcheck": False,
    "nonecheck": False,
    "embedsignature": True,
}


def extension(name):
    """An extension for ``fastmel.<name>`` built from ``src/fastmel/<name>.pyx``."""
    return Extension(
        f"fastmel.{name}",
        [os.path.join("src", "fastmel", f"{name}.pyx")],
        include_dirs=[numpy.get_include(), INCLUDE],
        # Built against any numpy 2.x, the modules also run on the oldest numpy
        # setup.cfg admits.
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                       ("NPY_TARGET_VERSION", "NPY_1_25_API_VERSION")],
        # No FMA contraction: a fused multiply-add rounds once where the
        # separate operations round twice, so code built with it (CFLAGS with
        # -march, or an AVX-512 target clone) would give other bits than the
        # portable build; every kernel promises the same bits on every CPU.
        # No errno from sqrt: fastmel never reads it, and setting it keeps
        # loops over sqrt from vectorising (the square root's bits are IEEE's).
        extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno"],
    )


setup(
    ext_modules=cythonize(
        [extension(name) for name in ("_checks", "_plan", "_spectral", "_streambase", "_stream",
                                      "_iir", "_noise", "_convolve", "_overlap_add", "_chain",
                                      "_delta", "_pcen", "_istft", "_kaldi")],
        compiler_directives=CYTHON_DIRECTIVES,
        include_path=[os.path.join("src")],
        # The generated C depends on the interpreter and on numpy's .pxd, so
        # each stack gets its own copy: one checkout builds for several Pythons.
        build_dir=os.path.join(
            "build", f"cython-{sys.implementation.cache_tag}-numpy{numpy.__version__}"),
    ),
)

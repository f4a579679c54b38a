"""Build script for fastmel's compiled core.

Metadata lives in setup.cfg; this file only describes the Cython extensions.
"""
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
INCLUDE = os.path.join("src", "fastmel", "_include")

# Compiler directives are set here, once, for every module.
CYTHON_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
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
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )


setup(
    ext_modules=cythonize(
        [extension(name) for name in ("_plan", "_spectral", "_stream", "_iir", "_convolve")],
        compiler_directives=CYTHON_DIRECTIVES,
        include_path=[os.path.join("src")],
    ),
)

"""Typed public API of the simulation and front-end modules, and the compiled
modules' stubs.

Every public function, method and property written in Python in these modules
carries annotations, every read-only setting of a front-end has a declared
type, a type checker (when one is installed) accepts ordinary use and refuses
misuse, and each stub's constructor takes the arguments its ``.pyx`` does.
stubtest checks the rest of the stubs against the compiled modules, but it
cannot see a Cython class's ``__init__`` or ``__cinit__`` (they are C slots
that report ``(*args, **kwargs)``): that part is checked here from the
sources.
"""
import ast
import re
from pathlib import Path

import pytest

import fastmel
from _mypy import (assert_annotated, assert_every_line_flagged_from, mypy_errors, mypy_report,
                   public_python_callables)
from fastmel.extractors import _Setting

MODULES = ("chain", "convolution", "deltas", "design", "frontends", "iir", "noise", "pcen")
PACKAGE = Path(fastmel.__file__).resolve().parent


CALLABLES = public_python_callables(MODULES)


def test_the_api_is_found():
    # the walk above must reach the API, or the checks below check nothing
    names = {name for name, _ in CALLABLES}
    for expected in ("fastmel.convolution.convolve", "fastmel.convolution.Convolver.__init__",
                     "fastmel.convolution.Convolver.partitions", "fastmel.noise.add_noise",
                     "fastmel.iir.Bandpass.sr", "fastmel.iir.Bandpass.__call__",
                     "fastmel.pcen.pcen", "fastmel.pcen.PCEN.hop_length",
                     "fastmel.deltas.Delta.width", "fastmel.deltas.delta",
                     "fastmel.design.butter_bandpass", "fastmel.frontends.KaldiFbank.__init__",
                     "fastmel.frontends.KaldiFbank.n_out", "fastmel.frontends.WhisperLogMel.melspec",
                     "fastmel.frontends.TorchaudioMFCC.n_fft"):
        assert expected in names


@pytest.mark.parametrize("name, func", CALLABLES, ids=[name for name, _ in CALLABLES])
def test_public_callable_is_annotated(name, func):
    assert_annotated(name, func)


@pytest.mark.parametrize("cls", [fastmel.frontends.WhisperLogMel,
                                 fastmel.frontends.TorchaudioMelSpectrogram,
                                 fastmel.frontends.TorchaudioMFCC,
                                 fastmel.frontends.KaldiFbank, fastmel.frontends.KaldiMFCC])
def test_every_frontend_setting_has_a_declared_type(cls):
    settings = {name for klass in cls.__mro__ for name, value in vars(klass).items()
                if isinstance(value, _Setting) and klass.__module__ == "fastmel.frontends"}
    declared = {name for klass in cls.__mro__
                for name in vars(klass).get("__annotations__", {})}
    assert settings, cls
    # melkwargs is a _CopiedSetting, whose own __get__ declares its type (a dict)
    assert settings - {"melkwargs"} <= declared, \
        f"{cls.__name__}: settings without a type: {settings - declared}"


# -- the stubs' constructors against the .pyx sources ---------------------------

def _pyx_constructors(source):
    """{class name: (method, [(parameter, default or None, keyword-only)])} of each
    ``cdef class`` with a ``def __init__`` or ``def __cinit__`` in a .pyx source."""
    found = {}
    for match in re.finditer(r"^cdef class (\w+)\b.*?:\n(.*?)(?=^\S|\Z)", source, re.M | re.S):
        cls, body = match.groups()
        method = re.search(r"^    def (__init__|__cinit__)\(self,?(.*?)\):", body, re.M | re.S)
        if method is None:
            continue
        params, keyword_only = [], False
        for item in method.group(2).split(","):
            item = " ".join(item.split())
            if not item:
                continue
            if item == "*":
                keyword_only = True
                continue
            if item.startswith("*"):
                params.append((item, None, False))
                continue
            declared, _, default = item.partition("=")
            params.append((declared.split()[-1], default.strip() or None, keyword_only))
        found[cls] = (method.group(1), params)
    return found


def _stub_constructors(source):
    """The same, from a .pyi stub's ``__init__`` / ``__new__``."""
    found = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name in ("__init__", "__new__"):
                a = item.args
                positional = a.posonlyargs + a.args
                defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
                params = [(p.arg, None if d is None else ast.unparse(d), False)
                          for p, d in zip(positional[1:], defaults[1:])]
                params += [(p.arg, None if d is None else ast.unparse(d), True)
                           for p, d in zip(a.kwonlyargs, a.kw_defaults)]
                if a.vararg:
                    params.append((f"*{a.vararg.arg}", None, False))
                if a.kwarg:
                    params.append((f"**{a.kwarg.arg}", None, False))
                found[node.name] = (item.name, params)
    return found


STUBS = sorted(p.stem for p in PACKAGE.glob("_*.pyi"))


def test_every_compiled_module_has_its_stub():
    assert STUBS and STUBS == sorted(p.stem for p in PACKAGE.glob("_*.pyx"))


@pytest.mark.parametrize("module", STUBS)
def test_stub_constructors_match_the_pyx(module):
    pyx = _pyx_constructors((PACKAGE / f"{module}.pyx").read_text())
    stub = _stub_constructors((PACKAGE / f"{module}.pyi").read_text())
    # Stream's __cinit__(*args, **kwargs) only lets engines' constructors pass
    # their arguments through: its stub has no constructor of its own.
    pyx.pop("Stream", None)
    assert set(stub) == set(pyx), f"{module}: constructors in the stub {sorted(stub)}, " \
                                  f"in the .pyx {sorted(pyx)}"
    for cls, (method, params) in pyx.items():
        stub_method, stub_params = stub[cls]
        # __cinit__'s arguments are taken by tp_new: the stub says __new__
        assert stub_method == {"__init__": "__init__", "__cinit__": "__new__"}[method], cls
        assert stub_params == params, f"{module}.{cls}.{method}"


def test_the_constructor_parser_reads_the_pyx():
    # a parser that found nothing would pass the check above vacuously
    plan = _pyx_constructors((PACKAGE / "_plan.pyx").read_text())
    assert plan["RealPlan"] == ("__cinit__", [("n_fft", None, False), ("is_double", None, False),
                                              ("inverse", "False", False)])
    kaldi = _pyx_constructors((PACKAGE / "_kaldi.pyx").read_text())
    assert kaldi["KaldiKernel"][1][0] == ("is_double", None, True)
    assert len(kaldi["KaldiKernel"][1]) == 20


# -- a type checker on code that uses the API -----------------------------------

_USE = '''
    from typing import Any

    import numpy as np
    import numpy.typing as npt
    import fastmel
    from fastmel.frontends import KaldiFbank, TorchaudioMelSpectrogram, WhisperLogMel

    x32 = np.zeros(16000, dtype=np.float32)
    x64 = np.zeros(16000)
    ir = np.array([1.0, 0.5, 0.25])
    wet32: npt.NDArray[np.float32] = fastmel.convolve(x32, ir, mode="same")
    wet64: npt.NDArray[np.float64] = fastmel.convolve(x64, ir)
    wet: npt.NDArray[np.floating[Any]] = fastmel.convolve([0.0, 1.0], [1.0])
    room = fastmel.Convolver(ir, block_size=128, dtype=np.float64)
    head: int = room.partitions[0]
    out: npt.NDArray[np.floating[Any]] = room.process(x32[:160])
    tail = room.flush()
    again: fastmel.Convolver = room.stream()
    noisy32: npt.NDArray[np.float32] = fastmel.add_noise(x32, x64, snr_db=10.0, rng=0)
    mixer = fastmel.NoiseMixer(x64, snr_db=5, signal_power=0.1)
    mixed: npt.NDArray[np.float32] = mixer(x32)
    bp = fastmel.Bandpass(16000, 300, 3400, order=2)
    sr: float = bp.sr
    order: int = bp.order
    sos: npt.NDArray[np.float64] = bp.sos
    band: npt.NDArray[np.float64] = bp(x64)
    taps: npt.NDArray[np.float64] = fastmel.filters.bandpass_fir(16000, 300, 3400, num_taps=31)
    kaldi = KaldiFbank(num_mel_bins=40)
    chain = fastmel.Chain([room, mixer.stream(), bp.stream(), kaldi.stream(),
                           fastmel.PCEN(sr=16000, hop_length=160)])
    frames = chain.process(x32)
    latency: int = chain.latency
    P, zf = fastmel.pcen(np.ones((40, 10)), return_zf=True)
    P2: npt.NDArray[np.floating[Any]] = fastmel.pcen(np.ones((40, 10)), max_size=3)
    d: npt.NDArray[np.float32] = fastmel.feature.delta(np.ones((13, 20), np.float32), width=5,
                                                       polyorder=2)
    width: int = fastmel.Delta(width=5).width
    fbank: npt.NDArray[np.floating[Any]] = KaldiFbank(num_mel_bins=40, rng=0)(x32)
    n_out: int = KaldiFbank().n_out
    whisper: npt.NDArray[np.floating[Any]] = WhisperLogMel(n_mels=128)(x32)
    ta = TorchaudioMelSpectrogram(n_mels=64, f_max=None)
'''

# Each line is misuse a type checker must report.
_MISUSE = '''
    import numpy as np
    import numpy.typing as npt
    import fastmel
    from fastmel.frontends import KaldiFbank, WhisperLogMel

    x64 = np.zeros(16000)
    ir = np.array([1.0, 0.5])
    fastmel.convolve(x64, ir, mode=2)
    fastmel.Convolver(ir, block_size="256")
    fastmel.add_noise(x64, x64, snr="10")
    fastmel.add_noise(x64, x64, snr_db=10, rng="seed")
    fastmel.Bandpass(16000, 300, 3400, 4)
    fastmel.Bandpass(16000, 300, 3400).sos = ir
    fastmel.Chain([1, 2])
    fastmel.PCEN(sr=16000, hop_length=160.5)
    fastmel.feature.delta(x64, width=9, polyorder="2")
    fastmel.feature.delta(x64, widht=9)
    fastmel.NoiseMixer(x64, gain="0.1")
    KaldiFbank(num_mel_bins="80")
    WhisperLogMel(n_mels=80, pad_or_trim="yes")
    fastmel.filters.butter_bandpass(16000, 300, 3400, order=4.5)
'''


def test_type_checker_accepts_ordinary_use(tmp_path):
    assert mypy_errors(tmp_path, _USE) == []


def test_type_checker_refuses_misuse(tmp_path):
    assert_every_line_flagged_from(tmp_path, _MISUSE, "mode=2")


_DTYPES = '''
    import numpy as np
    import fastmel

    x32 = np.zeros(16000, dtype=np.float32)
    x64 = np.zeros(16000)
    ir = np.ones(3)
    reveal_type(fastmel.convolve(x32, ir))
    reveal_type(fastmel.convolve(x64, ir))
    reveal_type(fastmel.add_noise(x32, x64, snr_db=0))
    reveal_type(fastmel.add_noise(x64, x32, snr_db=0))
    reveal_type(fastmel.convolve([0.0], ir))
    reveal_type(fastmel.Bandpass(16000, 300, 3400)(x64))
    reveal_type(fastmel.NoiseMixer(x64, gain=0.1)(x32))
    reveal_type(fastmel.PCEN()(x64))
    reveal_type(fastmel.Delta()(x32))
    reveal_type(fastmel.feature.delta(x64))
'''


def test_type_checker_sees_the_dtype_follow_the_input(tmp_path):
    # float32 in gives float32 out, float64 gives float64, as at run time (a
    # Convolver's output is in its own working dtype, whatever the input's)
    revealed = [line for line in mypy_report(tmp_path, _DTYPES) if "Revealed type" in line]
    bits = ["32", "64", "32", "64", None, "64", "32", "64", "32", "64"]
    assert len(revealed) == len(bits), revealed
    # a list has no dtype to follow (float64 at run time): any float, for the checker
    assert "floating[Any]" in revealed[4], revealed[4]
    for line, n in zip(revealed, bits):
        if n is None:
            continue
        # numpy's stubs spell float32 floating[_32Bit], float64 a class of its own
        other = "64" if n == "32" else "32"
        assert re.search(rf"numpy\.float{n}\b|_{n}Bit\]", line), line
        assert not re.search(rf"numpy\.float{other}\b|_{other}Bit\]", line), line

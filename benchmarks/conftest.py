"""Shared workload table, audio and timed callables for the fastmel benchmarks.

Used by ``test_bench_logmel.py`` (pytest-benchmark) and by ``report.py`` (plain
perf_counter script), so both time exactly the same calls on the same data.

The workloads are the ones of SPEC.md section 3:

* W1 = 60 s at 16 kHz, n_fft 512, win_length 400, hop 160, 80 mels, dB (top_db 80).
* W2 = 60 s at 22.05 kHz, librosa defaults (n_fft 2048, hop 512, 128 mels), dB.

Streaming (``test_bench_stream.py``, ``report.py``'s streaming table): W1 with
top_db=None, fed in 160- and 1600-sample chunks, against kaldi-native-fbank's
OnlineFbank fed the same 160-sample chunks.

Audio is the bundled speech clip tiled (``np.resize``) to exactly 60 s, float32.
Everything is single-threaded where we control it (pyfftw ``threads=1``); the
numpy/BLAS thread count is left as the environment sets it.

This directory is not collected by a plain ``pytest`` run (setup.cfg has
``testpaths = tests``); run it explicitly: ``pytest benchmarks/ --benchmark-only``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib

import numpy as np
import pytest

# --------------------------------------------------------------------------- #
# Workload table (the MelSpectrogram / melspectrogram parameters)
# --------------------------------------------------------------------------- #


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    sr: int
    n_fft: int
    win_length: int
    hop_length: int
    n_mels: int
    top_db: float = 80.0
    duration: float = 60.0  # seconds

    @property
    def n_samples(self) -> int:
        return int(round(self.duration * self.sr))

    @property
    def n_frames(self) -> int:
        # center=True framing, as in librosa: 1 + len(y) // hop
        return 1 + self.n_samples // self.hop_length

    @property
    def label(self) -> str:
        return (
            f"{self.name}: {self.duration:g} s @ {self.sr} Hz, n_fft={self.n_fft} "
            f"win={self.win_length} hop={self.hop_length}, {self.n_mels} mels, dB"
        )

    def mel_kwargs(self) -> dict:
        """Keyword arguments shared by librosa/fastmel melspectrogram and fastmel.MelSpectrogram."""
        return dict(
            sr=self.sr,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            n_mels=self.n_mels,
        )


WORKLOADS: dict[str, Workload] = {
    "W1": Workload("W1", sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80),
    # librosa defaults: n_fft=2048, win_length=None (== n_fft), hop=512, n_mels=128
    "W2": Workload("W2", sr=22050, n_fft=2048, win_length=2048, hop_length=512, n_mels=128),
}

# dB agreement used as a sanity check (SPEC section 2: 0.01 dB above max - 80 dB).
DB_TOLERANCE = 0.01

# --------------------------------------------------------------------------- #
# Audio
# --------------------------------------------------------------------------- #

_REPO_DATA = pathlib.Path(__file__).resolve().parent.parent / "src" / "fastmel" / "data"


def _speech_path(sr: int) -> pathlib.Path:
    name = f"speech_{sr}.flac"
    p = _REPO_DATA / name
    if p.exists():
        return p
    try:  # installed (non-editable) package
        import importlib.resources

        p = pathlib.Path(str(importlib.resources.files("fastmel") / "data" / name))
        if p.exists():
            return p
    except Exception:
        pass
    raise FileNotFoundError(f"bundled speech clip {name} not found (looked in {_REPO_DATA})")


@functools.lru_cache(maxsize=None)
def _load_audio_cached(name: str) -> np.ndarray:
    import soundfile as sf

    wl = WORKLOADS[name]
    clip, sr = sf.read(str(_speech_path(wl.sr)), dtype="float32", always_2d=False)
    if sr != wl.sr:
        raise ValueError(f"{name}: speech clip has sr={sr}, expected {wl.sr}")
    if clip.ndim != 1:
        clip = clip.mean(axis=-1, dtype=np.float32)
    y = np.ascontiguousarray(np.resize(clip, wl.n_samples), dtype=np.float32)
    return y


def load_audio(wl: Workload) -> np.ndarray:
    """Deterministic 60 s float32 mono signal: the bundled speech clip tiled to length.

    Returns a fresh copy so a callee that (wrongly) writes to its input cannot
    change what the other candidates see.
    """
    return _load_audio_cached(wl.name).copy()


# --------------------------------------------------------------------------- #
# Timed callables (built once; the returned zero-argument function is timed)
# --------------------------------------------------------------------------- #


def make_librosa(wl: Workload, y: np.ndarray):
    import librosa

    kw = wl.mel_kwargs()
    top_db = wl.top_db

    def run():
        return librosa.power_to_db(librosa.feature.melspectrogram(y=y, **kw), top_db=top_db)

    return run


def make_fastmel_extractor(fastmel, wl: Workload, y: np.ndarray):
    m = fastmel.MelSpectrogram(**wl.mel_kwargs(), to_db=True, top_db=wl.top_db, dtype=np.float32)

    def run():
        return m(y)

    return run


def make_fastmel_functions(fastmel, wl: Workload, y: np.ndarray):
    kw = wl.mel_kwargs()
    top_db = wl.top_db

    def run():
        return fastmel.power_to_db(fastmel.feature.melspectrogram(y=y, **kw), top_db=top_db)

    return run


def _windowed_frames(wl: Workload, y: np.ndarray) -> np.ndarray:
    """(n_frames, n_fft) float32 frames of y as librosa frames them (center, zero pad, hann)."""
    import scipy.signal

    win = scipy.signal.get_window("hann", wl.win_length, fftbins=True).astype(np.float32)
    lpad = (wl.n_fft - wl.win_length) // 2
    window = np.zeros(wl.n_fft, dtype=np.float32)
    window[lpad : lpad + wl.win_length] = win
    yp = np.pad(y, wl.n_fft // 2)
    frames = np.lib.stride_tricks.sliding_window_view(yp, wl.n_fft)[:: wl.hop_length]
    assert frames.shape[0] == wl.n_frames, (frames.shape, wl.n_frames)
    return frames * window


def make_fft_floor_batched(wl: Workload, y: np.ndarray | None = None):
    """Floor (i): one batched FFTW r2c plan over an aligned (n_frames, n_fft) float32 array.

    axis -1, FFTW_MEASURE, threads=1, out-of-place into (n_frames, n_fft//2+1) complex64.
    Only ``.execute()`` is timed. The input holds the real windowed frames of ``y``
    (the transform time does not depend on the values, but it keeps it honest).
    """
    import pyfftw

    nf = wl.n_fft
    a = pyfftw.empty_aligned((wl.n_frames, nf), dtype=np.float32)
    b = pyfftw.empty_aligned((wl.n_frames, nf // 2 + 1), dtype=np.complex64)
    plan = pyfftw.FFTW(a, b, axes=(-1,), direction="FFTW_FORWARD", flags=("FFTW_MEASURE",), threads=1)
    # FFTW_MEASURE scribbles on the arrays while planning: fill afterwards.
    if y is None:
        a[:] = np.random.default_rng(0).standard_normal(a.shape, dtype=np.float32)
    else:
        a[:] = _windowed_frames(wl, y)
    b[:] = 0
    return plan.execute


def make_fft_floor_hot(wl: Workload, y: np.ndarray | None = None):
    """Floor (ii): n_frames single-frame r2c transforms on ONE hot aligned n_fft buffer.

    Done without a Python per-frame loop: a batched FFTW plan (howmany = n_frames)
    whose input and output distance between transforms is 0 (stride-0 views made
    with ``as_strided``), so FFTW's own loop transforms the same aligned n_fft
    buffer into the same n_fft//2+1 output n_frames times, i.e. the data stay in
    L1/L2. Checked against a Python loop of single-frame ``execute()`` calls minus
    the per-call overhead: same time within a few percent.
    """
    import pyfftw
    from numpy.lib.stride_tricks import as_strided

    nf = wl.n_fft
    a1 = pyfftw.empty_aligned(nf, dtype=np.float32)
    b1 = pyfftw.empty_aligned(nf // 2 + 1, dtype=np.complex64)
    a = as_strided(a1, shape=(wl.n_frames, nf), strides=(0, a1.itemsize), writeable=True)
    b = as_strided(b1, shape=(wl.n_frames, nf // 2 + 1), strides=(0, b1.itemsize), writeable=True)
    plan = pyfftw.FFTW(a, b, axes=(-1,), direction="FFTW_FORWARD", flags=("FFTW_MEASURE",), threads=1)
    if y is None:
        a1[:] = np.random.default_rng(0).standard_normal(nf, dtype=np.float32)
    else:  # a representative frame from the middle of the signal
        a1[:] = _windowed_frames(wl, y)[wl.n_frames // 2]
    b1[:] = 0
    plan.execute()
    ref = np.fft.rfft(a1.astype(np.float64))
    err = np.abs(b1 - ref).max() / max(np.abs(ref).max(), 1e-30)
    assert err < 1e-4, f"stride-0 FFTW plan gave a wrong transform (rel err {err:g})"
    return plan.execute


def max_db_error(out: np.ndarray, ref: np.ndarray, top_db: float = 80.0) -> float:
    """Max |out - ref| in dB where ref is above ref.max() - top_db (SPEC section 2)."""
    out = np.asarray(out)
    ref = np.asarray(ref)
    if out.shape != ref.shape:
        return float("inf")
    mask = ref > ref.max() - top_db
    if not mask.any():
        return float(np.abs(out - ref).max())
    return float(np.abs(out.astype(np.float64) - ref.astype(np.float64))[mask].max())


def import_fastmel():
    """Import fastmel and check the API the benchmarks use; raise ImportError with a clear reason."""
    try:
        import fastmel
    except Exception as exc:  # ImportError, or a broken extension module
        raise ImportError(
            f"cannot import fastmel ({type(exc).__name__}: {exc}); "
            "build/install it first: python -m pip install -e ."
        ) from exc
    missing = [
        n
        for n, ok in [
            ("fastmel.MelSpectrogram", hasattr(fastmel, "MelSpectrogram")),
            ("fastmel.power_to_db", hasattr(fastmel, "power_to_db")),
            (
                "fastmel.feature.melspectrogram",
                hasattr(getattr(fastmel, "feature", None), "melspectrogram"),
            ),
        ]
        if not ok
    ]
    if missing:
        raise ImportError(f"fastmel ({fastmel.__file__}) imports but lacks: {', '.join(missing)}")
    return fastmel


# --------------------------------------------------------------------------- #
# Streaming (SPEC section 3, W1 in 10 ms / 100 ms chunks)
# --------------------------------------------------------------------------- #

# The streaming comparison runs on W1 with top_db=None: a top_db relative to the
# whole-signal maximum is not causal, so it cannot stream (SPEC section 1). The
# offline reference for the throughput ratio is computed with the same setting.
STREAM_WORKLOAD = "W1"
STREAM_CHUNK_SIZES = (160, 1600)  # samples: 10 ms and 100 ms at 16 kHz
KNF_CHUNK_SIZE = 160

# SPEC section 3 streaming targets.
TARGET_STREAM_RATIO = {160: 0.35, 1600: 0.8}  # stream throughput / offline throughput, at least
TARGET_KNF_SPEEDUP = 10.0  # fastmel per-chunk cost vs kaldi-native-fbank OnlineFbank, at least


def split_chunks(y: np.ndarray, chunk: int) -> list[np.ndarray]:
    """Consecutive views ``y[i:i+chunk]`` (the last one may be shorter); no copies."""
    return [y[i : i + chunk] for i in range(0, len(y), chunk)]


def make_fastmel_stream_extractor(fastmel, wl: Workload):
    """The MelSpectrogram both the streaming and its offline reference use (dB, top_db=None)."""
    return fastmel.MelSpectrogram(**wl.mel_kwargs(), to_db=True, top_db=None, dtype=np.float32)


def make_fastmel_offline_nodb(fastmel, wl: Workload, y: np.ndarray):
    """Offline ``m(y)`` with top_db=None: the throughput reference of the streaming ratio."""
    m = make_fastmel_stream_extractor(fastmel, wl)

    def run():
        return m(y)

    return run


def make_fastmel_stream(fastmel, wl: Workload, chunks: list[np.ndarray]):
    """A new ``m.stream()``, ``process`` on every pre-sliced chunk, then ``flush()``.

    Returns the list of outputs (the frames a real-time user gets after each chunk,
    then the flushed rest); their concatenation along the last axis is the full
    spectrogram. Creating the stream (under a microsecond) is inside the timing.
    """
    m = make_fastmel_stream_extractor(fastmel, wl)

    def run():
        s = m.stream()
        process = s.process
        outs = [process(c) for c in chunks]
        outs.append(s.flush())
        return outs

    return run


def import_knf():
    """Import kaldi-native-fbank; raise ImportError with a clear reason if it is missing."""
    try:
        import kaldi_native_fbank as knf
    except Exception as exc:
        raise ImportError(
            f"kaldi-native-fbank not installed ({type(exc).__name__}: {exc}); "
            "install the bench extra: python -m pip install -e '.[bench]'"
        ) from exc
    return knf


def make_knf_online(knf, wl: Workload, chunks: list[np.ndarray], tolist: bool = False, kaldi_defaults: bool = False):
    """kaldi-native-fbank OnlineFbank fed the same chunks, reading every ready frame after each.

    ``accept_waveform(sr, chunk)`` then ``get_frame(i)`` for each newly ready frame; at the end
    ``input_finished()`` and the last frames. Returns the number of frames read.
    With ``tolist=True`` each chunk is passed as ``chunk.tolist()`` (converted inside the
    timing): pybind11 turns a Python list into its ``std::vector<float>`` faster than it
    walks a numpy array element by element, so this is the fastest way to feed it numpy audio.
    ``kaldi_defaults``: see ``fastmel.cli.bench.knf_fbank_options``.
    """
    from fastmel.cli.bench import knf_fbank_options  # the options `fastmel bench` uses

    opts = knf_fbank_options(knf, wl, kaldi_defaults)
    sr = float(wl.sr)
    OnlineFbank = knf.OnlineFbank

    def run():
        f = OnlineFbank(opts)
        accept = f.accept_waveform
        get_frame = f.get_frame
        got = 0
        for c in chunks:
            accept(sr, c.tolist() if tolist else c)
            n = f.num_frames_ready
            while got < n:
                get_frame(got)
                got += 1
        f.input_finished()
        n = f.num_frames_ready
        while got < n:
            get_frame(got)
            got += 1
        return got

    return run


# --------------------------------------------------------------------------- #
# pytest fixtures
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="session", params=list(WORKLOADS), ids=list(WORKLOADS))
def workload(request) -> Workload:
    return WORKLOADS[request.param]


@pytest.fixture(scope="session")
def audio(workload) -> np.ndarray:
    return load_audio(workload)


@pytest.fixture(scope="session")
def librosa_reference(workload, audio) -> np.ndarray:
    """librosa's dB mel spectrogram of the workload (also warms librosa/numba up)."""
    return make_librosa(workload, audio)()


@pytest.fixture(scope="session")
def fastmel_module():
    try:
        return import_fastmel()
    except ImportError as exc:
        pytest.skip(str(exc))


def blas_thread_info() -> str:
    """Report (never change) the BLAS/OpenMP thread pools numpy/scipy will use."""
    try:
        import threadpoolctl
    except ImportError:
        return "BLAS threads: unknown (threadpoolctl not installed)"
    import numpy  # noqa: F401  (load numpy's BLAS so it is listed)
    import scipy.linalg  # noqa: F401

    pools = threadpoolctl.threadpool_info()
    if not pools:
        return "BLAS threads: no thread pools found"
    return "thread pools: " + ", ".join(
        f"{p.get('internal_api')}({os.path.basename(p.get('filepath', ''))[:24]})={p.get('num_threads')}"
        for p in pools
    )


def pytest_report_header(config):
    lines = ["fastmel benchmark workloads:"]
    lines += [f"  {wl.label} -> {wl.n_frames} frames" for wl in WORKLOADS.values()]
    lines.append(
        f"  streaming: {STREAM_WORKLOAD} with top_db=None in chunks of "
        f"{', '.join(map(str, STREAM_CHUNK_SIZES))} samples; kaldi-native-fbank in {KNF_CHUNK_SIZE}"
    )
    lines.append(
        "  single thread: pyfftw threads=1; numpy/BLAS threads unchanged "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})"
    )
    lines.append("  " + blas_thread_info())
    return lines

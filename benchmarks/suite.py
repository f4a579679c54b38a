"""Workloads and candidates of fastmel's benchmarks (SPEC.md section 3), in one place.

The ``test_bench_*.py`` files time these with pytest-benchmark, and ``report.py`` turns
one run's JSON into the README's tables.  Every candidate is a :class:`Candidate`: its
objects, plans, chunk views and inputs are built by the maker, outside the timing, for
fastmel and its peers alike; ``setup`` (untimed) returns the state to its start before
each timed round; ``run`` is what is timed.

Workloads (audio: the bundled speech clip tiled to length, float32; one thread):

* W1 = 60 s at 16 kHz, n_fft 512, win 400, hop 160, 80 mels, dB (top_db 80).
* W2 = 60 s at 22.05 kHz, librosa's defaults (n_fft 2048, hop 512), 128 mels, dB.
* W3 = W1 cut into 1 s clips, one call each, against one call on the whole 60 s.
* W1 streamed (top_db None: a whole-signal top_db cannot stream) in 160- and
  1600-sample chunks; kaldi-native-fbank's OnlineFbank fed the same 160-sample chunks.
* Convolver: 10 s of seeded noise at 48 kHz through a 1 s synthetic room response
  (RT60 0.6 s), blocks 64 / 256 / 1024; ``convolve`` on the whole 10 s.
* Bandpass (Butterworth order 4, 300-3400 Hz at 16 kHz): the speech tiled to 10 s, in
  160-sample chunks and as one whole signal.

Peers are optional: a missing one is skipped with the reason, never an error.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import pathlib
import subprocess
import sys

import numpy as np

INSTALL_HINT = "python -m pip install -e '.[bench]'"


# --------------------------------------------------------------------------- #
# Workloads
# --------------------------------------------------------------------------- #

@dataclasses.dataclass(frozen=True)
class Workload:
    """A log-mel workload of SPEC section 3."""

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
        return 1 + self.n_samples // self.hop_length  # centred framing, as librosa's

    @property
    def label(self) -> str:
        return (f"{self.name}: {self.duration:g} s at {self.sr} Hz, n_fft {self.n_fft}, "
                f"win {self.win_length}, hop {self.hop_length}, {self.n_mels} mels, dB")

    def mel_kwargs(self) -> dict:
        return dict(sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
                    win_length=self.win_length, n_mels=self.n_mels)


WORKLOADS = {
    "W1": Workload("W1", sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80),
    "W2": Workload("W2", sr=22050, n_fft=2048, win_length=2048, hop_length=512, n_mels=128),
}
CLIP_SECONDS = 1.0                # W3
STREAM_CHUNKS = (160, 1600)
KNF_CHUNK = 160
DB_TOLERANCE = 0.01               # SPEC section 2: dB within 0.01 above max - 80 dB

CONV_SR, IR_SECONDS, RT60, CONV_SECONDS = 48000, 1.0, 0.6, 10.0
CONV_BLOCKS = (64, 256, 1024)
BP_SR, BP_LOW, BP_HIGH, BP_ORDER, BP_CHUNK, BP_SECONDS = 16000, 300.0, 3400.0, 4, 160, 10.0
SILENCE_LEAD_SECONDS, SILENCE_SECONDS = 1.0, 10.0
REL_TOL = 1e-5                    # SPEC section 2: float32 outputs vs a float64 reference


def split_chunks(y, chunk):
    """Consecutive views ``y[..., i:i+chunk]`` (the last may be shorter); no copies."""
    return [y[..., i:i + chunk] for i in range(0, y.shape[-1], chunk)]


@functools.lru_cache(maxsize=None)
def _speech(sr: int, n: int) -> np.ndarray:
    import importlib.util

    import soundfile as sf

    # find_spec locates the package without importing it: the peers' benchmarks need the
    # clip, not fastmel
    spec = importlib.util.find_spec("fastmel")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"fastmel's bundled speech clip needs fastmel's source; {INSTALL_HINT}")
    path = pathlib.Path(spec.submodule_search_locations[0]) / "data" / f"speech_{sr}.flac"
    clip, got = sf.read(str(path), dtype="float32", always_2d=False)
    if got != sr:
        raise ValueError(f"speech_{sr}.flac has sr={got}, expected {sr}")
    if clip.ndim != 1:
        clip = clip.mean(axis=-1, dtype=np.float32)
    return np.ascontiguousarray(np.resize(clip, n), dtype=np.float32)


def speech(sr: int, n: int) -> np.ndarray:
    """The bundled speech clip at ``sr``, tiled to ``n`` samples; a fresh copy each call."""
    return _speech(sr, n).copy()


def load_audio(wl: Workload) -> np.ndarray:
    """The workload's float32 signal (a fresh copy, so no candidate sees another's writes)."""
    return speech(wl.sr, wl.n_samples)


def make_rir(sr=CONV_SR, seconds=IR_SECONDS, rt60=RT60, seed=1) -> np.ndarray:
    """Seeded white noise under an exponential decay of 60 dB in ``rt60``, peak 1."""
    n = int(round(sr * seconds))
    env = 10.0 ** (-3.0 * (np.arange(n) / sr) / rt60)
    ir = np.random.default_rng(seed).standard_normal(n) * env
    return np.ascontiguousarray(ir / np.abs(ir).max(), dtype=np.float32)


def conv_input() -> np.ndarray:
    n = int(round(CONV_SR * CONV_SECONDS))
    return (0.1 * np.random.default_rng(2).standard_normal(n)).astype(np.float32)


def bandpass_inputs():
    """(speech 10 s, its first 1 s, 10 s of zeros), float32 at 16 kHz."""
    y = speech(BP_SR, int(round(BP_SR * BP_SECONDS)))
    lead = y[:int(round(BP_SR * SILENCE_LEAD_SECONDS))].copy()
    return y, lead, np.zeros(int(round(BP_SR * SILENCE_SECONDS)), dtype=np.float32)


def butter_sos() -> np.ndarray:
    import scipy.signal

    return scipy.signal.butter(BP_ORDER, [BP_LOW, BP_HIGH], btype="bandpass", fs=BP_SR,
                               output="sos")


# --------------------------------------------------------------------------- #
# Peers and checks
# --------------------------------------------------------------------------- #

def import_peer(module: str, pip_name: str | None = None, hint: str = INSTALL_HINT):
    """Import an optional peer; ImportError saying how to get it when it is missing."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = pip_name or module
        if isinstance(exc, ModuleNotFoundError) and exc.name not in (None, module.split(".")[0]):
            # the package is there, one of its own modules is not (an unbuilt extension)
            raise ImportError(f"{name} cannot be imported ({exc})") from exc
        raise ImportError(f"{name} not installed ({exc}); to get it: {hint}") from exc
    except Exception as exc:  # a peer broken on this stack
        raise ImportError(f"{pip_name or module} cannot be imported "
                          f"({type(exc).__name__}: {exc})") from exc


def rel_error(out, ref) -> float:
    """max |out - ref| / max |ref| in float64 (inf on a shape mismatch)."""
    out = np.asarray(out, dtype=np.complex128 if np.iscomplexobj(out) else np.float64)
    ref = np.asarray(ref)
    if out.shape != ref.shape:
        return float("inf")
    return float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-300))


def max_db_error(out, ref, top_db=80.0) -> float:
    """max |out - ref| in dB where ref is above ref.max() - top_db (SPEC section 2)."""
    out, ref = np.asarray(out, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if out.shape != ref.shape:
        return float("inf")
    return float(np.abs(out - ref)[ref > ref.max() - top_db].max())


def count_subnormal(a) -> int:
    a = np.abs(np.asarray(a))
    return int(np.count_nonzero((a > 0) & (a < np.finfo(a.dtype).tiny)))


# --------------------------------------------------------------------------- #
# Candidates
# --------------------------------------------------------------------------- #

@dataclasses.dataclass
class Candidate:
    """``run`` is timed; ``setup`` (untimed, may be None) restores the start state first."""

    run: object
    setup: object = None
    info: dict = dataclasses.field(default_factory=dict)

    def output(self):
        """One untimed run from the start state, for the correctness checks."""
        if self.setup is not None:
            self.setup()
        return self.run()


def call(fn, *args, **kwargs) -> Candidate:
    return Candidate(lambda: fn(*args, **kwargs))


# Offline log-mel, float32 unless stated.

def librosa_logmel(librosa, wl, y):
    kw = wl.mel_kwargs()
    return Candidate(lambda: librosa.power_to_db(librosa.feature.melspectrogram(y=y, **kw),
                                                 top_db=wl.top_db))


def fastmel_extractor(fastmel, wl, y, dtype=np.float32):
    m = fastmel.MelSpectrogram(**wl.mel_kwargs(), to_db=True, top_db=wl.top_db, dtype=dtype)
    return call(m, y)


def fastmel_functions(fastmel, wl, y):
    kw = wl.mel_kwargs()
    return Candidate(lambda: fastmel.power_to_db(fastmel.feature.melspectrogram(y=y, **kw),
                                                 top_db=wl.top_db))


def fastmel_clips(fastmel, wl, y, seconds=CLIP_SECONDS):
    """W3: the extractor called once per ``seconds`` clip (views made outside the timing)."""
    m = fastmel.MelSpectrogram(**wl.mel_kwargs(), to_db=True, top_db=wl.top_db,
                               dtype=np.float32)
    clips = split_chunks(y, int(round(seconds * wl.sr)))

    def run():
        return [m(c) for c in clips]

    return Candidate(run, info={"n_clips": len(clips)})


def audioflux_logmel(af, wl, y):
    """audioflux's mel BFT (power) then its power_to_db: the same work, its own filterbank."""
    from audioflux.type import SpectralDataType, SpectralFilterBankScaleType, WindowType

    if wl.n_fft & (wl.n_fft - 1):
        raise ValueError("audioflux needs a power-of-two n_fft")
    bft = af.BFT(num=wl.n_mels, radix2_exp=wl.n_fft.bit_length() - 1, samplate=wl.sr,
                 slide_length=wl.hop_length, scale_type=SpectralFilterBankScaleType.MEL,
                 window_type=WindowType.HANN, data_type=SpectralDataType.POWER)
    to_db = af.utils.power_to_db
    return Candidate(lambda: to_db(bft.bft(y, result_type=1), min_db=-wl.top_db))


def torchaudio_logmel(torch, torchaudio, wl, y):
    torch.set_num_threads(1)
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=wl.sr, n_fft=wl.n_fft, win_length=wl.win_length, hop_length=wl.hop_length,
        n_mels=wl.n_mels, pad_mode="constant", norm="slaney", mel_scale="slaney")
    db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=wl.top_db)
    t = torch.from_numpy(y)

    def run():
        with torch.inference_mode():
            return db(mel(t))

    return Candidate(run)


# Complex STFT (W1's framing), complex64.

def fastmel_stft(fastmel, wl, y):
    s = fastmel.STFT(n_fft=wl.n_fft, hop_length=wl.hop_length, win_length=wl.win_length,
                     dtype=np.float32)
    return call(s, y)


def torch_stft(torch, wl, y):
    """torch.stft on one thread, centred with zero padding like fastmel's default."""
    torch.set_num_threads(1)
    t = torch.from_numpy(y)
    window = torch.hann_window(wl.win_length, dtype=torch.float32)

    def run():
        return torch.stft(t, n_fft=wl.n_fft, hop_length=wl.hop_length, win_length=wl.win_length,
                          window=window, center=True, pad_mode="constant", return_complex=True)

    return Candidate(run)


# FFT floor.

class WorkerClock:
    """A clock that advances only by the time the floor's worker process reports.

    Given to pytest-benchmark as the floor's timer, so a round counts the transforms and
    not the pipe to the worker.
    """

    def __init__(self):
        self.elapsed = 0.0

    def __call__(self):
        return self.elapsed


FLOOR_CLOCK = WorkerClock()


class FloorWorker:
    """``floor.py`` in a process of its own; ``run()`` has it do ``count`` transforms."""

    def __init__(self, n_fft, count, clock=FLOOR_CLOCK):
        script = pathlib.Path(__file__).with_name("floor.py")
        self.clock = clock
        self.proc = subprocess.Popen([sys.executable, str(script), str(n_fft), str(count)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self.proc.stdout.readline().strip()
        if ready != "ready":
            self.close()
            raise RuntimeError(f"the floor process did not start (said {ready!r})")

    def run(self):
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        self.clock.elapsed += float(self.proc.stdout.readline())

    def close(self):
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


# Streaming log-mel (W1, top_db None).

def fastmel_stream_extractor(fastmel, wl):
    return fastmel.MelSpectrogram(**wl.mel_kwargs(), to_db=True, top_db=None, dtype=np.float32)


def fastmel_stream(fastmel, wl, chunks):
    """The W1 log-mel stream over the chunks (``stream_of``)."""
    return stream_of(fastmel_stream_extractor(fastmel, wl), chunks)


def stream_of(fe, chunks):
    """A fresh ``fe.stream()`` (made untimed), ``process`` per chunk, then ``flush``."""
    state = {}

    def setup():
        state["s"] = fe.stream()

    def run():
        s = state["s"]
        process = s.process
        outs = [process(c) for c in chunks]
        outs.append(s.flush())
        return outs

    return Candidate(run, setup, {"n_chunks": len(chunks)})


def stream_into_of(fe, chunks):
    """``stream_of`` without an allocation per chunk: ``process_into`` into one
    output made in the untimed setup with room for the frames of any chunk
    (a real-time loop hands each chunk's frames on before the next chunk),
    then ``flush``.  The run returns how many frames were written in all;
    ``frames_of`` collects them (untimed) for the correctness check."""
    state = {}
    longest = max((c.shape[-1] for c in chunks), default=0)

    def setup():
        s = fe.stream()
        state["s"] = s
        state["out"] = np.empty((s.n_out, s.output_length(longest) + 1), s.dtype)

    def run():
        s, out = state["s"], state["out"]
        process_into = s.process_into
        n = 0
        for c in chunks:
            n += process_into(c, out)
        return n + s.flush().shape[-1]

    def frames_of():
        setup()
        s, parts = state["s"], []
        for c in chunks:
            n = s.process_into(c, state["out"])
            parts.append(state["out"][:, :n].copy())
        parts.append(s.flush())
        return np.concatenate(parts, axis=-1)

    cand = Candidate(run, setup, {"n_chunks": len(chunks)})
    cand.frames_of = frames_of
    return cand


def knf_fbank_options(knf, wl, kaldi_defaults=False):
    """OnlineFbank options as close to a workload as Kaldi allows.

    Same frame sizes (FFT rounded up to a power of two), bins over 0 .. sr/2, hann window,
    no dither (a Gaussian draw per sample, about doubling knf's cost), no pre-emphasis,
    no DC removal, snip_edges=False (centred framing): Kaldi's log mel power on Kaldi's
    mel scale, a different filterbank and the same work.  ``kaldi_defaults``: only rate,
    frame sizes and bins set.
    """
    opts = knf.FbankOptions()
    fo = opts.frame_opts
    fo.samp_freq = float(wl.sr)
    fo.frame_length_ms = 1000.0 * wl.win_length / wl.sr
    fo.frame_shift_ms = 1000.0 * wl.hop_length / wl.sr
    opts.mel_opts.num_bins = wl.n_mels
    if not kaldi_defaults:
        fo.dither = 0.0
        fo.preemph_coeff = 0.0
        fo.remove_dc_offset = False
        fo.snip_edges = False
        fo.round_to_power_of_two = True
        fo.window_type = "hann"
        opts.mel_opts.low_freq = 0.0
        opts.mel_opts.high_freq = 0.0  # <= 0: relative to Nyquist
    return opts


def knf_online(knf, wl, chunks, feed="lists", opts=None):
    """OnlineFbank (made untimed) fed the chunks, reading every newly ready frame.

    ``feed="lists"``: each chunk converted to a Python list outside the timing (pybind11
    fills its ``std::vector<float>`` from a list faster than from an array);
    ``"numpy"``: the array views themselves.  ``opts``: the FbankOptions, by default
    ``knf_fbank_options(knf, wl)``.
    """
    opts = knf_fbank_options(knf, wl) if opts is None else opts
    sr = float(wl.sr)
    fed = [c.tolist() for c in chunks] if feed == "lists" else chunks
    state = {}

    def setup():
        state["f"] = knf.OnlineFbank(opts)

    def run():
        f = state["f"]
        accept, get_frame = f.accept_waveform, f.get_frame
        got = 0
        for c in fed:
            accept(sr, c)
            n = f.num_frames_ready
            while got < n:
                get_frame(got)
                got += 1
        f.input_finished()
        while got < f.num_frames_ready:
            get_frame(got)
            got += 1
        return got

    return Candidate(run, setup, {"n_chunks": len(chunks)})


# Recording simulation.

def fastmel_convolver(fastmel, ir, chunks, block):
    conv = fastmel.Convolver(ir, block_size=block, dtype=np.float32)

    def run():
        process = conv.process
        return [process(c) for c in chunks]

    return Candidate(run, conv.reset, {"n_chunks": len(chunks), "block": block})


def pedalboard_convolver(pedalboard, ir, chunks2d, block, sr=CONV_SR):
    """pedalboard.Convolution fed (1, B) chunks with ``reset=False``, reset untimed."""
    plugin = pedalboard.Convolution(ir, mix=1.0, sample_rate=sr)

    def run():
        process = plugin.process
        return [process(c, sample_rate=sr, buffer_size=block, reset=False) for c in chunks2d]

    return Candidate(run, plugin.reset, {"n_chunks": len(chunks2d), "block": block})


def fastmel_bandpass_chunks(fastmel, chunks, lead=()):
    """``bp.process`` per chunk; setup: ``bp.reset()`` then the lead chunks (untimed)."""
    bp = fastmel.Bandpass(BP_SR, BP_LOW, BP_HIGH, order=BP_ORDER)

    def setup():
        bp.reset()
        for c in lead:
            bp.process(c)

    def run():
        process = bp.process
        return [process(c) for c in chunks]

    return Candidate(run, setup, {"n_chunks": len(chunks)})


def scipy_sosfilt_chunks(scipy_signal, sos, chunks, lead=()):
    """``y, zi = sosfilt(sos, chunk, zi=zi)`` per chunk from float32 zeros, zi carried;
    scipy computes in ``np.result_type(sos, chunk, zi)``."""
    zi0 = np.zeros((sos.shape[0], 2), dtype=np.float32)
    state = {}
    sosfilt = scipy_signal.sosfilt

    def setup():
        zi = zi0
        for c in lead:
            _, zi = sosfilt(sos, c, zi=zi)
        state["zi"] = zi

    def run():
        zi, outs = state["zi"], []
        for c in chunks:
            y, zi = sosfilt(sos, c, zi=zi)
            outs.append(y)
        return outs

    return Candidate(run, setup, {"n_chunks": len(chunks)})


def fastmel_bandpass_whole(fastmel, x):
    bp = fastmel.Bandpass(BP_SR, BP_LOW, BP_HIGH, order=BP_ORDER)
    return call(bp, x)


def blas_one_thread():
    """A context holding BLAS/OpenMP pools to one thread (threadpoolctl), or None."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1)


def environment() -> dict:
    """What the report states about the machine."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__}

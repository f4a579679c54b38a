"""``fastmel bench``: the SPEC benchmark workloads, timed on this machine.

fastmel runs beside every peer that is installed (librosa, scipy,
pedalboard, kaldi-native-fbank: pip install 'fastmel[bench]') and beside the
FFT floor (one batched pyfftw r2c plan over all frames, FFTW_MEASURE):

* W1: 60 s at 16 kHz, n_fft 512, win 400, hop 160, 80 mels, dB (top_db 80)
* W2: 60 s at 22.05 kHz, librosa's defaults (n_fft 2048, hop 512), 128 mels, dB
* W1 streamed in 160- and 1600-sample chunks (top_db None), against
  kaldi-native-fbank's OnlineFbank fed the same 160-sample chunks
* Convolver with a 1 s impulse response at 48 kHz, blocks 64 / 256 / 1024, on
  10 s of audio (pedalboard's Convolution alike), and ``convolve`` against
  ``scipy.signal.fftconvolve``
* Bandpass (Butterworth order 4, 300-3400 Hz at 16 kHz) in 160-sample chunks,
  against ``scipy.signal.sosfilt`` with carried ``zi``

Audio is the bundled speech clip tiled to length (seeded noise for the 48 kHz
convolution).  Every time is the least of ``--repeats`` runs after a warm-up,
on one thread (pyfftw threads=1; BLAS/OpenMP pools limited to one thread
through threadpoolctl when it is installed); objects, plans and chunk views
are made outside the timing.  ``--quick`` times 10 s of audio (2 s for the
48 kHz convolution) instead.

The exit status is 1 when a correctness check fails (a stream that does not
equal its offline result bit for bit); a target that is missed is reported,
not an error: the targets were set on one particular 2-vCPU machine.
"""
import argparse
import contextlib
import dataclasses
import gc
import importlib
import os
import platform
import sys
import time
from importlib import resources

import numpy as np

from fastmel.cli.options import positive_int

FULL_SECONDS = 60.0
QUICK_SECONDS = 10.0
CONV_SECONDS = {False: 10.0, True: 2.0}  # by --quick
CONV_SR = 48000
CONV_BLOCKS = (64, 256, 1024)
IR_RT60 = 0.6
BP_SR, BP_LOW, BP_HIGH, BP_ORDER, BP_CHUNK = 16000, 300.0, 3400.0, 4, 160
BP_SECONDS = 10.0
STREAM_CHUNKS = (160, 1600)
KNF_CHUNK = 160

# SPEC section 3.
TARGET_LIBROSA = 5.0            # fastmel offline log-mel, times faster than librosa
TARGET_FLOOR = 1.3              # fastmel offline log-mel, at most this times the FFT floor
TARGET_STREAM = {160: 0.35, 1600: 0.8}   # stream throughput / offline throughput, at least
TARGET_KNF = 10.0               # times faster than OnlineFbank per 160-sample chunk
TARGET_CONVOLVER = {64: 600.0, 256: 900.0, 1024: 1200.0}   # x real time
TARGET_CONVOLVE = 1.5           # times faster than scipy.signal.fftconvolve
TARGET_BANDPASS = 5.0           # times faster than sosfilt with carried zi

PEERS = {
    "librosa": "librosa",
    "scipy": "scipy",
    "pedalboard": "pedalboard",
    "kaldi-native-fbank": "kaldi_native_fbank",
}
INSTALL_HINT = "pip install 'fastmel[bench]'"


@dataclasses.dataclass(frozen=True)
class Workload:
    """One offline log-mel workload of SPEC section 3."""

    name: str
    sr: int
    n_fft: int
    win_length: int
    hop_length: int
    n_mels: int
    top_db: float = 80.0

    def mel_kwargs(self):
        return dict(sr=self.sr, n_fft=self.n_fft, win_length=self.win_length,
                    hop_length=self.hop_length, n_mels=self.n_mels)

    def describe(self, seconds):
        return (f"{self.name}: {seconds:g} s at {self.sr / 1000:g} kHz, n_fft {self.n_fft}, "
                f"win {self.win_length}, hop {self.hop_length}, {self.n_mels} mels, dB")


W1 = Workload("W1", 16000, 512, 400, 160, 80)
W2 = Workload("W2", 22050, 2048, 2048, 512, 128)


# --------------------------------------------------------------------------- #
# Timing and tables
# --------------------------------------------------------------------------- #

@contextlib.contextmanager
def one_thread():
    """BLAS/OpenMP pools held to one thread while timing, when threadpoolctl can do it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(limits=1):
        yield True


def best_time(run, repeats, *, setup=None, warmup=1):
    """Least wall time (s) of ``repeats`` calls of run after ``warmup`` calls, GC off;
    ``setup`` (untimed) runs before every call."""
    for _ in range(warmup):
        if setup:
            setup()
        run()
    best = float("inf")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(max(1, repeats)):
            if setup:
                setup()
            t0 = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


class Table:
    """Rows of one Markdown table: a candidate, its times, and how fastmel compares."""

    HEADER = ("candidate", "chunk", "total ms", "us per chunk", "x real time",
              "comparison", "SPEC target", "met")

    def __init__(self, title, audio_seconds):
        self.title = title
        self.audio_seconds = audio_seconds
        self.rows = []

    def add(self, candidate, seconds=None, *, chunk=None, n_chunks=None, comparison="",
            target="", met=None, missing=None):
        if missing is not None:
            self.rows.append((candidate, _chunk_text(chunk), missing, "", "", "", target, ""))
            return
        per_chunk = f"{seconds / n_chunks * 1e6:.2f}" if n_chunks else ""
        met_text = "" if met is None else ("yes" if met else "NO")
        self.rows.append((candidate, _chunk_text(chunk), f"{seconds * 1e3:.2f}", per_chunk,
                          f"{self.audio_seconds / seconds:,.0f}x", comparison, target, met_text))

    def print(self, out):
        print(f"### {self.title}\n", file=out)
        print("| " + " | ".join(self.HEADER) + " |", file=out)
        print("|---|---|" + "--:|" * 3 + "---|---|---|", file=out)
        for row in self.rows:
            print("| " + " | ".join(row) + " |", file=out)
        print(file=out)


def _chunk_text(chunk):
    return "whole" if chunk is None else str(chunk)


def _faster(peer_s, fastmel_s, target):
    """(comparison text, met) for 'fastmel at least target times faster than the peer'."""
    ratio = peer_s / fastmel_s
    return f"fastmel {ratio:.1f}x faster", ratio >= target


def _import_optional(module):
    try:
        return importlib.import_module(module)
    except Exception:  # a missing or broken peer is reported, never fatal
        return None


def _version(module):
    return getattr(module, "__version__", "?")


def knf_fbank_options(knf, wl, kaldi_defaults=False):
    """kaldi-native-fbank OnlineFbank options as close to a workload as Kaldi allows.

    ``wl`` has ``sr``, ``win_length``, ``hop_length`` and ``n_mels``.  Frames of the
    same sizes (FFT rounded up to a power of two), mel bins over 0 .. sr/2, hann
    window, no dither (dither draws a Gaussian per sample and roughly doubles
    knf's cost), no pre-emphasis, no DC removal, snip_edges=False (centred
    framing).  The output is Kaldi's log mel power on Kaldi's mel scale: a
    different filterbank, the same amount of work.

    ``kaldi_defaults=True``: Kaldi's own defaults (dither, povey window,
    pre-emphasis, DC removal, snip_edges=True) with only the rate, frame sizes
    and bins set, for context.
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


def cpu_model():
    """The processor's model name (for benchmark reports)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --------------------------------------------------------------------------- #
# Audio
# --------------------------------------------------------------------------- #

def speech(sr, seconds):
    """The bundled speech clip at ``sr`` (16000 or 22050), tiled to ``seconds``, float32."""
    import soundfile as sf

    with resources.as_file(resources.files("fastmel") / "data" / f"speech_{sr}.flac") as path:
        clip, rate = sf.read(str(path), dtype="float32", always_2d=True)
    clip = clip.mean(axis=1, dtype=np.float32)
    if rate != sr:
        raise RuntimeError(f"bundled clip speech_{sr}.flac is at {rate} Hz")
    return np.ascontiguousarray(np.resize(clip, int(round(seconds * sr))))


def synthetic_rir(sr=CONV_SR, seconds=1.0, rt60=IR_RT60, seed=1):
    """Seeded white noise under an envelope falling 60 dB in rt60, peak 1, float32."""
    n = int(round(sr * seconds))
    ir = np.random.default_rng(seed).standard_normal(n) * 10.0 ** (-3.0 * np.arange(n) / sr / rt60)
    return (ir / np.abs(ir).max()).astype(np.float32)


def chunks_of(y, size):
    """Consecutive views of ``y`` along its last axis (the last may be shorter)."""
    return [y[..., i:i + size] for i in range(0, y.shape[-1], size)]


def fft_floor(wl, y):
    """The FFT floor: ``execute`` of one batched pyfftw r2c plan (FFTW_MEASURE,
    threads=1) over every frame fastmel computes (centre-padded, windowed)."""
    import pyfftw

    import fastmel

    n_frames = 1 + y.shape[-1] // wl.hop_length
    frames = pyfftw.empty_aligned((n_frames, wl.n_fft), dtype=np.float32)
    spectra = pyfftw.empty_aligned((n_frames, wl.n_fft // 2 + 1), dtype=np.complex64)
    plan = pyfftw.FFTW(frames, spectra, axes=(-1,), flags=("FFTW_MEASURE",), threads=1)
    # FFTW_MEASURE overwrites the arrays while planning: fill them afterwards.
    window = np.zeros(wl.n_fft, dtype=np.float32)
    left = (wl.n_fft - wl.win_length) // 2
    window[left:left + wl.win_length] = fastmel.filters.get_window("hann", wl.win_length)
    padded = np.pad(y, wl.n_fft // 2)
    view = np.lib.stride_tricks.sliding_window_view(padded, wl.n_fft)[::wl.hop_length]
    frames[:] = view[:n_frames] * window
    return plan.execute, n_frames


# --------------------------------------------------------------------------- #
# Sections
# --------------------------------------------------------------------------- #

def offline_logmel(wl, seconds, repeats, peers, notes):
    import fastmel

    y = speech(wl.sr, seconds)
    table = Table(f"Offline log-mel, {wl.describe(seconds)}, float32", seconds)
    m = fastmel.MelSpectrogram(**wl.mel_kwargs(), to_db=True, top_db=wl.top_db)
    t_fm = best_time(lambda: m(y), repeats)
    table.add("fastmel `MelSpectrogram(..., to_db=True, top_db=80)(y)`", t_fm)
    librosa = peers["librosa"]
    if librosa is None:
        table.add("librosa", missing="not installed", target=f">= {TARGET_LIBROSA:g}x faster")
    else:
        def run_librosa():
            return librosa.power_to_db(
                librosa.feature.melspectrogram(y=y, **wl.mel_kwargs()), top_db=wl.top_db)

        t = best_time(run_librosa, repeats)
        text, met = _faster(t, t_fm, TARGET_LIBROSA)
        table.add(f"librosa {_version(librosa)} `power_to_db(melspectrogram(y=y, ...))`", t,
                  comparison=text, target=f">= {TARGET_LIBROSA:g}x faster", met=met)
        ref, out = run_librosa(), m(y)
        loud = ref > ref.max() - wl.top_db
        diff = float(np.abs(out.astype(np.float64) - ref)[loud].max())
        notes.append(f"{wl.name}: largest dB difference from librosa where librosa is within "
                     f"80 dB of its maximum: {diff:.2g} dB (SPEC: 0.01 dB)")
    floor, n_frames = fft_floor(wl, y)
    t = best_time(floor, repeats)
    ratio = t_fm / t
    table.add(f"FFT floor: pyfftw r2c plan over {n_frames} frames x {wl.n_fft}", t,
              comparison=f"fastmel takes {ratio:.2f}x its time",
              target=f"<= {TARGET_FLOOR:g}x its time", met=ratio <= TARGET_FLOOR)
    return table, True


def streaming_logmel(seconds, repeats, peers, notes):
    import fastmel

    wl = W1
    y = speech(wl.sr, seconds)
    table = Table(f"Streaming log-mel, {wl.describe(seconds)} (top_db None)", seconds)
    m = fastmel.MelSpectrogram(**wl.mel_kwargs(), to_db=True, top_db=None)
    offline = m(y)
    t_off = best_time(lambda: m(y), repeats)
    table.add("fastmel offline `m(y)`", t_off)
    ok = True
    per_chunk = {}
    for size in STREAM_CHUNKS:
        chunks = chunks_of(y, size)
        stream = m.stream()

        def run(stream=stream, chunks=chunks):
            process = stream.process
            outs = [process(c) for c in chunks]
            outs.append(stream.flush())
            return outs

        same = np.array_equal(np.concatenate(run(), axis=-1), offline)
        ok &= same
        notes.append(f"fastmel stream in {size}-sample chunks == offline, bit for bit: "
                     f"{'yes' if same else 'NO'}")
        t = best_time(run, repeats, setup=stream.reset)
        per_chunk[size] = t / len(chunks)
        ratio = t_off / t
        table.add("fastmel `m.stream().process(chunk)`", t, chunk=size, n_chunks=len(chunks),
                  comparison=f"{ratio:.2f} of offline throughput",
                  target=f">= {TARGET_STREAM[size]:g} of offline",
                  met=ratio >= TARGET_STREAM[size])
    knf = peers["kaldi-native-fbank"]
    target = f">= {TARGET_KNF:g}x faster per chunk"
    if knf is None:
        table.add("kaldi-native-fbank OnlineFbank", chunk=KNF_CHUNK, missing="not installed",
                  target=target)
        return table, ok
    opts = knf_fbank_options(knf, wl)
    # pybind11 converts a list to the std::vector it wants faster than it walks a
    # numpy array, so knf gets its fastest input; the conversion is timed, as a
    # real-time caller holding numpy buffers would pay it.
    chunks = chunks_of(y, KNF_CHUNK)

    def run_knf():
        fbank = knf.OnlineFbank(opts)
        got = 0
        for c in chunks:
            fbank.accept_waveform(float(wl.sr), c.tolist())
            while got < fbank.num_frames_ready:
                fbank.get_frame(got)
                got += 1
        fbank.input_finished()
        while got < fbank.num_frames_ready:
            fbank.get_frame(got)
            got += 1

    t = best_time(run_knf, repeats)
    text, met = _faster(t / len(chunks), per_chunk[KNF_CHUNK], TARGET_KNF)
    table.add(f"kaldi-native-fbank {_version(knf)} OnlineFbank, `accept_waveform` + `get_frame`",
              t, chunk=KNF_CHUNK, n_chunks=len(chunks), comparison=text, target=target, met=met)
    notes.append("kaldi-native-fbank options: 25/10 ms frames, FFT 512, 80 bins, hann, dither 0, "
                 "no pre-emphasis or DC removal, snip_edges False (its own mel scale and log)")
    return table, ok


def convolution(seconds, repeats, peers, notes):
    import fastmel

    ir = synthetic_rir()
    x = (0.1 * np.random.default_rng(2).standard_normal(int(seconds * CONV_SR))).astype(np.float32)
    table = Table(f"Convolution: 1 s impulse response at 48 kHz (RT60 {IR_RT60:g} s), "
                  f"{seconds:g} s of audio, float32", seconds)
    pedalboard = peers["pedalboard"]
    fm_block = {}
    for block in CONV_BLOCKS:
        conv = fastmel.Convolver(ir, block_size=block)
        chunks = chunks_of(x, block)

        def run(conv=conv, chunks=chunks):
            process = conv.process
            for c in chunks:
                process(c)

        t = best_time(run, repeats, setup=conv.reset)
        fm_block[block] = t
        target = TARGET_CONVOLVER[block]
        table.add(f"fastmel `Convolver(ir, block_size={block}).process(chunk)`", t, chunk=block,
                  n_chunks=len(chunks), target=f">= {target:g}x real time",
                  met=seconds / t >= target)
    for block in CONV_BLOCKS:
        if pedalboard is None:
            table.add("pedalboard Convolution", chunk=block, missing="not installed")
            continue
        plugin = pedalboard.Convolution(ir, mix=1.0, sample_rate=CONV_SR)
        chunks = chunks_of(x[None, :], block)

        def run(plugin=plugin, chunks=chunks, block=block):
            process = plugin.process
            for c in chunks:
                process(c, sample_rate=CONV_SR, buffer_size=block, reset=False)

        t = best_time(run, repeats, setup=plugin.reset)
        text, _ = _faster(t, fm_block[block], 0)
        table.add(f"pedalboard {_version(pedalboard)} `Convolution.process(chunk, reset=False)`",
                  t, chunk=block, n_chunks=len(chunks), comparison=text)
    t_fm = best_time(lambda: fastmel.convolve(x, ir), repeats)
    table.add("fastmel `convolve(x, ir)` (offline, full output)", t_fm)
    scipy = peers["scipy"]
    target = f">= {TARGET_CONVOLVE:g}x faster"
    if scipy is None:
        table.add("scipy.signal.fftconvolve", missing="not installed", target=target)
    else:
        import scipy.signal

        t = best_time(lambda: scipy.signal.fftconvolve(x, ir), repeats)
        text, met = _faster(t, t_fm, TARGET_CONVOLVE)
        table.add(f"scipy {_version(scipy)} `signal.fftconvolve(x, ir)`", t, comparison=text,
                  target=target, met=met)
    if pedalboard is not None:
        notes.append("pedalboard's Convolution (JUCE) normalises the impulse response and "
                     "processes on the calling thread; its outputs are not compared here")
    return table, True


def bandpass(seconds, repeats, peers, notes):
    import fastmel

    y = speech(BP_SR, seconds)
    chunks = chunks_of(y, BP_CHUNK)
    table = Table(f"Band-pass: Butterworth order {BP_ORDER}, {BP_LOW:g}-{BP_HIGH:g} Hz at "
                  f"{BP_SR / 1000:g} kHz, {seconds:g} s of speech in {BP_CHUNK}-sample chunks, "
                  f"float32", seconds)
    bp = fastmel.Bandpass(BP_SR, BP_LOW, BP_HIGH, order=BP_ORDER)

    def run():
        process = bp.process
        for c in chunks:
            process(c)

    t_fm = best_time(run, repeats, setup=bp.reset)
    table.add("fastmel `Bandpass(...).process(chunk)`", t_fm, chunk=BP_CHUNK,
              n_chunks=len(chunks))
    scipy = peers["scipy"]
    target = f">= {TARGET_BANDPASS:g}x faster"
    if scipy is None:
        table.add("scipy.signal.sosfilt, carried zi", chunk=BP_CHUNK, missing="not installed",
                  target=target)
        return table, True
    import scipy.signal

    sos = scipy.signal.butter(BP_ORDER, [BP_LOW, BP_HIGH], btype="bandpass", fs=BP_SR,
                              output="sos")

    def run_scipy():
        zi = np.zeros((sos.shape[0], 2), dtype=np.float32)
        sosfilt = scipy.signal.sosfilt
        for c in chunks:
            _, zi = sosfilt(sos, c, zi=zi)

    t = best_time(run_scipy, repeats)
    text, met = _faster(t, t_fm, TARGET_BANDPASS)
    table.add(f"scipy {_version(scipy)} `signal.sosfilt(sos, chunk, zi=zi)`", t, chunk=BP_CHUNK,
              n_chunks=len(chunks), comparison=text, target=target, met=met)
    return table, True


# --------------------------------------------------------------------------- #
# Command
# --------------------------------------------------------------------------- #

def add_parser(sub):
    p = sub.add_parser(
        "bench", help="time fastmel beside librosa, scipy, pedalboard, kaldi-native-fbank",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help=f"{QUICK_SECONDS:g} s of audio instead of {FULL_SECONDS:g} s "
                        f"(a few seconds in all)")
    p.add_argument("--repeats", type=positive_int, default=None,
                   help="timed runs per candidate, the least is shown "
                        "(default 10, 3 with --quick)")
    p.set_defaults(run=run)
    return p


def run(args):
    import pyfftw

    import fastmel

    out = sys.stdout
    repeats = args.repeats or (3 if args.quick else 10)
    seconds = QUICK_SECONDS if args.quick else FULL_SECONDS
    conv_seconds = CONV_SECONDS[args.quick]
    peers = {name: _import_optional(module) for name, module in PEERS.items()}

    print("## fastmel bench\n", file=out)
    print(f"- fastmel {fastmel.__version__}; {cpu_model()}, {os.cpu_count()} CPUs; "
          f"Python {platform.python_version()}; numpy {np.__version__}; "
          f"pyfftw {_version(pyfftw)}", file=out)
    print("- peers: " + "; ".join(
        f"{name} {_version(mod)}" if mod is not None else f"{name} not installed"
        for name, mod in peers.items())
        + (f" (to get them: {INSTALL_HINT})" if None in peers.values() else ""), file=out)
    notes = []
    ok = True
    with one_thread() as limited:
        pools = ("held to 1 thread by threadpoolctl" if limited
                 else "as the environment sets them")
        print(f"- least of {repeats} timed run{'s' * (repeats > 1)} after one warm-up, one "
              f"thread (pyfftw threads=1; BLAS/OpenMP pools {pools}); objects, plans and chunk "
              f"views made outside the timing", file=out)
        print("- these numbers are for this machine, now; the SPEC targets were set on a "
              "2-vCPU machine" + ("; --quick times shorter audio, so per-call overheads weigh "
                                  "more than in the SPEC's workloads" if args.quick else ""),
              file=out)
        print(file=out, flush=True)
        sections = [
            lambda: offline_logmel(W1, seconds, repeats, peers, notes),
            lambda: offline_logmel(W2, seconds, repeats, peers, notes),
            lambda: streaming_logmel(seconds, repeats, peers, notes),
            lambda: convolution(conv_seconds, repeats, peers, notes),
            lambda: bandpass(BP_SECONDS, repeats, peers, notes),
        ]
        for section in sections:
            table, passed = section()
            ok &= passed
            table.print(out)
            out.flush()
    print("Checks and notes:", file=out)
    for note in notes:
        print(f"- {note}", file=out)
    if not ok:
        print("fastmel bench: a streamed result differs from the offline one", file=sys.stderr)
        return 1
    return 0

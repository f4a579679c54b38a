"""One streaming protocol for every stage (issue 9).

The same tests run over every kind of stream fastmel makes: the feature
streams (mel, including reflect padding and float64; STFT; MFCC), Bandpass,
Convolver (float32 and float64), NoiseMixer (mono and per-channel noise),
Delta (which takes frames: mode "interp" and an extending mode), Chain
(including one ending in a Delta after an MFCC stream), and the inverse STFT,
whose chunks are frames of complex spectra (..., n_bins, frames) rather than
samples.  Each test states one rule of fastmel.Stream's protocol; a stage that
breaks it fails under its own name.  Chunks are short, so the file runs in
seconds.
"""
import copy
import pathlib
import pickle
import re

import numpy as np
import pytest

import fastmel
from conftest import assert_bits_equal
from fastmel import ParameterError
from fastmel._istft import InverseStream
from fastmel._stream import FrameStream
from fastmel.convolution import partition_plan

SR = 16000
F32_MAX = float(np.finfo(np.float32).max)
_rng = np.random.default_rng(11)
IR = (_rng.standard_normal(700) * np.exp(-np.arange(700) / 100)).astype(np.float32)
NOISE = _rng.standard_normal(1234).astype(np.float32)
MEL = dict(sr=SR, n_fft=512, hop_length=160, n_mels=40)
SRC = pathlib.Path(fastmel.__file__).parent


def _noise_rows(channels):
    """Per-channel noise: one distinct row per channel."""
    return np.stack([np.roll(NOISE, 37 * c) * (1 + c / 10) for c in range(channels)])


def _extractor(name):
    return {
        "mel": lambda: fastmel.MelSpectrogram(**MEL),
        "mel-f64": lambda: fastmel.MelSpectrogram(**MEL, dtype=np.float64),
        "mel-reflect": lambda: fastmel.MelSpectrogram(**MEL, pad_mode="reflect"),
        "stft": lambda: fastmel.STFT(n_fft=256, hop_length=64),
        "mfcc": lambda: fastmel.MFCC(sr=SR, n_fft=400, hop_length=160, n_mels=40, top_db=None),
    }[name]()


def _mfcc_delta_chain(mode):
    return fastmel.Chain([_extractor("mfcc").stream(), fastmel.Delta(width=5, mode=mode)])


def make(name, channels=2, gain=0.1):
    """A new stream of stage ``name`` (``channels``: the per-channel noise's rows;
    ``gain``: the noise mixers')."""
    if name in FEATURES:
        return _extractor(name).stream()
    return {
        "istft": lambda: fastmel.ISTFT(n_fft=256, hop_length=64).stream(),
        "bandpass": lambda: fastmel.Bandpass(SR, 100, 7000),
        "convolver-f32": lambda: fastmel.Convolver(IR, block_size=64),
        "convolver-f64": lambda: fastmel.Convolver(IR, block_size=64, dtype=np.float64),
        "noise-mono": lambda: fastmel.NoiseMixer(NOISE, gain=gain, offset=7),
        "noise-per-channel": lambda: fastmel.NoiseMixer(_noise_rows(channels), gain=gain,
                                                        offset=7),
        "chain": lambda: fastmel.Chain([fastmel.Convolver(IR, block_size=64),
                                        fastmel.NoiseMixer(NOISE, gain=gain),
                                        fastmel.Bandpass(SR, 100, 7000),
                                        fastmel.MelSpectrogram(**MEL).stream()]),
        "chain-signal": lambda: fastmel.Chain([fastmel.Bandpass(SR, 100, 7000),
                                               fastmel.Convolver(IR, block_size=64,
                                                                 dtype=np.float64)]),
        # order 2 (with a spacing of 0.5 for width 5): deltas that can overflow (a
        # refused chunk); width 5 "interp" holds its first outputs back for 4 frames
        "delta": lambda: fastmel.Delta(width=5, order=2, delta=0.5),
        "delta-mirror": lambda: fastmel.Delta(width=3, order=2, mode="mirror"),
        # "nearest": flushes whatever the length (the protocol's tests feed a few frames)
        "chain-mfcc-delta": lambda: _mfcc_delta_chain("nearest"),
    }[name]()


FEATURES = ["mel", "mel-f64", "mel-reflect", "stft", "mfcc"]
#: stages whose chunks are frames (..., n_features, j), not samples
TAKES_FRAMES = ["delta", "delta-mirror"]
#: stages whose chunks are frames of complex spectra, (..., n_bins, frames)
SPECTRA = ["istft"]
STAGES = FEATURES + ["bandpass", "convolver-f32", "convolver-f64", "noise-mono",
                     "noise-per-channel", "chain", "chain-signal", "chain-mfcc-delta"
                     ] + TAKES_FRAMES + SPECTRA
#: the class of each stage's streams (and of their stream() and copies)
KIND = dict({name: FrameStream for name in FEATURES}, bandpass=fastmel.Bandpass,
            **{"convolver-f32": fastmel.Convolver, "convolver-f64": fastmel.Convolver,
               "noise-mono": fastmel.NoiseMixer, "noise-per-channel": fastmel.NoiseMixer,
               "chain": fastmel.Chain, "chain-signal": fastmel.Chain,
               "chain-mfcc-delta": fastmel.Chain, "delta": fastmel.Delta,
               "delta-mirror": fastmel.Delta, "istft": InverseStream})
#: the leading shape the tests feed (per-channel noise fixes it to its rows)
LEAD = {name: () for name in STAGES}
LEAD["noise-per-channel"] = (2,)
LEAD.update({name: (4,) for name in TAKES_FRAMES})   # 4 features
LEAD["istft"] = (129,)          # the bins axis is part of the leading shape
#: the working dtype (what ``dtype`` says at rest); None: the first chunk's
WORKING = {name: None for name in STAGES}
WORKING.update({"mel": np.float32, "mel-f64": np.float64, "mel-reflect": np.float32,
                "stft": np.float32, "mfcc": np.float32, "convolver-f32": np.float32,
                "convolver-f64": np.float64, "istft": np.complex64})
#: what flush() returns from a stream never fed: (shape, dtype)
AT_REST_FLUSH = {
    "mel": ((40, 0), np.float32), "mel-f64": ((40, 0), np.float64),
    "mel-reflect": ((40, 0), np.float32), "stft": ((129, 0), np.complex64),
    "mfcc": ((20, 0), np.float32), "bandpass": ((0,), np.float32),
    "convolver-f32": ((0,), np.float32), "convolver-f64": ((0,), np.float64),
    "noise-mono": ((0,), np.float32), "noise-per-channel": ((0,), np.float32),
    "chain": ((40, 0), np.float32),          # its last stage's (a mel stream)
    "chain-signal": ((0,), np.float64),      # its last stage's (a float64 convolver)
    # a delta stream never fed does not know its features: as for one row of frames
    "delta": ((0,), np.float32), "delta-mirror": ((0,), np.float32),
    "chain-mfcc-delta": ((0,), np.float32),  # its last stage's (a Delta)
    "istft": ((0,), np.float32),
}
#: latency: a chain's adds its stages', frames counted in the hop's samples
#: after a feature stream; a delta's is in frames (width - 1 in mode "interp",
#: whose first outputs wait for width frames); the other signal stages look at
#: no later sample
LATENCY = {"delta": 4, "delta-mirror": 1, "chain-mfcc-delta": 199 + 2 * 160,
           "chain": 255, "chain-signal": 0, "bandpass": 0, "convolver-f32": 0,
           "convolver-f64": 0, "noise-mono": 0, "noise-per-channel": 0}

#: the complex type a spectra stage gets where the others get a float type
COMPLEX_OF = {np.dtype(k): np.dtype(v) for k, v in [
    (np.float32, np.complex64), (np.float64, np.complex128), (np.float16, np.clongdouble),
    (np.longdouble, np.clongdouble), (">f4", ">c8"), (">f8", ">c16")]}


def kind_for(name, dtype):
    """``dtype``, or for a spectra stage its complex counterpart."""
    return COMPLEX_OF[np.dtype(dtype)] if name in SPECTRA else np.dtype(dtype)


def signal(lead, n, dtype=np.float32, seed=0):
    """Noise at speech-like levels, decaying (so levels spread)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(lead) + (n,)) * 0.1 * np.exp(-np.arange(n) / (2 * n))
    return x.astype(dtype)


def signal_for(name, lead, n, dtype=np.float32, seed=0):
    """``signal``, or for a spectra stage complex values of ``kind_for(dtype)``."""
    if name not in SPECTRA:
        return signal(lead, n, dtype, seed)
    x = signal(lead, n, np.float64, seed) + 1j * signal(lead, n, np.float64, seed + 100)
    return x.astype(kind_for(name, dtype))


def chunks_of(name, n=1200, dtype=np.float32, seed=0, sizes=(0, 1, 313, 160, 7)):
    """``signal_for`` cut into chunks of ``sizes`` (then the rest)."""
    x = signal_for(name, LEAD[name], n, dtype, seed)
    bounds = np.cumsum(sizes)
    return [x[..., a:b] for a, b in zip([0, *bounds], [*bounds, n])]


def run(stream, chunks):
    """Every output of feeding ``chunks``, then the flush."""
    return [stream.process(c) for c in chunks] + [stream.flush()]


def assert_outputs_equal(got, want, what):
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        assert_bits_equal(g, w, f"{what}, output {i}")


def state(stream):
    """Everything a stream would pickle: the protocol's state (leading shape,
    dtype, samples in) and the engine's; a chain's with its stages'."""
    own = stream.__reduce__()[1][-1]
    if isinstance(stream, fastmel.Chain):
        return own, [state(s) for s in stream.stages]
    return own


def assert_same_state(a, b, path="state"):
    """Equal, arrays bit for bit (dtype, shape and bytes)."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{path}: {a.dtype}{a.shape}"
        assert a.tobytes() == b.tobytes(), f"{path}: values differ"
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_same_state(a[k], b[k], f"{path}/{k}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{path}/{i}")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def assert_at_rest(stream, name):
    assert stream.lead is None and stream.samples_in == 0
    want = WORKING[name]
    assert stream.dtype == (None if want is None else np.dtype(want))
    if isinstance(stream, fastmel.Chain):
        assert state(stream) == (None, [None] * len(stream.stages))
    else:
        assert state(stream) is None


# --- 1. stream(): a new stream of the same kind, at rest, independent -------------------------

@pytest.mark.parametrize("name", STAGES)
def test_stream_is_a_new_stream_of_the_same_kind_at_rest(name):
    chunks = chunks_of(name)
    want = run(make(name), chunks)
    fed = make(name)
    fed.process(chunks[2])
    for source in (make(name), fed):
        before = state(source)
        s = source.stream()
        assert type(s) is KIND[name] and isinstance(s, fastmel.Stream)
        assert s is not source
        assert_at_rest(s, name)
        # its own stream() is the same again
        assert type(s.stream()) is KIND[name]
        # feeding the new stream leaves the source alone, and gives a fresh stream's output
        assert_outputs_equal(run(s, chunks), want, f"{name}: stream() of a stream")
        assert_same_state(state(source), before)
    # feeding the source leaves a stream made from it alone
    s = fed.stream()
    s.process(chunks[1])
    before = state(s)
    fed.process(chunks[3])
    assert_same_state(state(s), before)


@pytest.mark.parametrize("name", FEATURES)
def test_extractor_stream_is_a_frame_stream(name):
    ext = _extractor(name)
    assert type(ext.stream()) is FrameStream
    assert isinstance(ext.stream(), fastmel.Stream)


# --- 2. a stream never fed flushes an empty result; flush leaves it at rest -------------------

@pytest.mark.parametrize("name", STAGES)
def test_never_fed_flush_is_empty_in_the_stages_dtype(name):
    shape, dtype = AT_REST_FLUSH[name]
    s = make(name)
    for _ in range(2):
        out = s.flush()
        assert out.shape == shape and out.dtype == dtype, (out.shape, out.dtype)
        assert_at_rest(s, name)
    # after a reset, and after a flush of a fed stream, it is at rest again
    s.process(chunks_of(name)[2])
    s.reset()
    assert_at_rest(s, name)
    out = s.flush()
    assert out.shape == shape and out.dtype == dtype
    s.process(chunks_of(name)[2])
    s.flush()
    assert_at_rest(s, name)
    if isinstance(s, fastmel.Chain):
        assert all(stage.lead is None for stage in s.stages)
    out = s.flush()
    assert out.shape == shape and out.dtype == dtype


# --- 3. readable attributes, repr, read-only configuration -----------------------------------

@pytest.mark.parametrize("name", STAGES)
def test_protocol_attributes_through_a_streams_life(name):
    s = make(name)
    latency = s.latency
    assert type(latency) is int and latency >= 0
    if name in LATENCY:
        assert latency == LATENCY[name]
    at_rest = repr(s)
    assert_at_rest(s, name)
    x = chunks_of(name, dtype=np.float64)
    s.process(x[2])
    s.process(x[3])
    fed_dtype = np.dtype(WORKING[name] or np.float64)
    assert s.lead == LEAD[name] and s.dtype == fed_dtype
    assert type(s.samples_in) is int and s.samples_in == 313 + 160
    assert s.latency == latency
    text = repr(s)
    assert text != at_rest
    if not isinstance(s, fastmel.Chain):     # a chain shows its stages as they are now
        assert at_rest in text
    unit = "frames" if name in TAKES_FRAMES or name in SPECTRA else "samples"
    assert f"after {s.samples_in} {unit}" in text
    assert f"leading shape {LEAD[name]}" in text and str(fed_dtype) in text
    s.reset()
    assert_at_rest(s, name)
    assert repr(s) == at_rest and s.latency == latency
    s.process(x[2])
    s.flush()
    assert_at_rest(s, name)
    assert repr(s) == at_rest and s.latency == latency


@pytest.mark.parametrize("name", STAGES)
def test_protocol_attributes_cannot_be_set(name):
    s = make(name)
    s.process(chunks_of(name)[2])
    for attr in ("lead", "dtype", "samples_in", "latency"):
        value = getattr(s, attr)
        with pytest.raises(AttributeError):
            setattr(s, attr, value)
        with pytest.raises(AttributeError):
            delattr(s, attr)
        assert getattr(s, attr) == value


def test_feature_stream_repr_names_its_extractor():
    for name in FEATURES:
        ext = _extractor(name)
        assert repr(ext.stream()) == f"{ext!r}.stream()"


def test_bandpass_repr_shows_its_attributes():
    bp = fastmel.Bandpass(16000, 300.5, 3400, order=3)
    assert (bp.sr, bp.low_hz, bp.high_hz, bp.order) == (16000, 300.5, 3400, 3)
    assert repr(bp) == f"Bandpass({bp.sr!r}, {bp.low_hz!r}, {bp.high_hz!r}, order={bp.order!r})"
    again = eval(repr(bp), {"Bandpass": fastmel.Bandpass})
    assert_bits_equal(again.sos, bp.sos, "the repr's Bandpass")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convolver_repr_shows_its_attributes(dtype):
    c = fastmel.Convolver(IR.astype(np.float64), block_size=32, dtype=dtype)
    assert c.block_size == 32
    assert c.partitions == partition_plan(len(IR), block_size=32)
    assert_bits_equal(c.ir, IR.astype(np.float64).astype(dtype)[None], "ir in the working dtype")
    assert repr(c) == (f"Convolver(<ir {c.ir.shape} {c.ir.dtype}>, block_size={c.block_size}, "
                       f"dtype={c.dtype.name})")


@pytest.mark.parametrize("noise", [NOISE, _noise_rows(3).astype(np.float64)],
                         ids=["mono", "per-channel"])
def test_noise_mixer_repr_shows_its_attributes(noise):
    n = fastmel.NoiseMixer(noise, gain=0.25, offset=9)
    assert (n.gain, n.offset) == (0.25, 9)
    assert_bits_equal(n.noise, noise, "noise as given")
    assert repr(n) == (f"NoiseMixer(<noise {n.noise.shape} {n.noise.dtype}>, gain={n.gain!r}, "
                       f"offset={n.offset!r})")


def test_chain_repr_shows_its_stages():
    c = make("chain")
    assert type(c.stages) is tuple and len(c.stages) == 4
    assert repr(c) == f"Chain([{', '.join(repr(s) for s in c.stages)}])"


#: configuration a stage shows (in its repr) or is made of: readable, never settable
CONFIG = {
    "bandpass": ["sr", "low_hz", "high_hz", "order", "sos"],
    "convolver-f32": ["block_size", "partitions", "ir", "levels", "head_length"],
    "noise-mono": ["gain", "offset", "noise"],
    "noise-per-channel": ["gain", "offset", "noise"],
    "chain": ["stages"],
    "mel": ["n_out"],
    "delta": ["width", "order", "mode", "polyorder", "delta", "cval", "coeffs"],
}


@pytest.mark.parametrize("name", list(CONFIG))
def test_configuration_cannot_be_changed(name):
    s = make(name)
    for attr in CONFIG[name]:
        value = getattr(s, attr)
        with pytest.raises(AttributeError):
            setattr(s, attr, value)
        with pytest.raises(AttributeError):
            delattr(s, attr)
        if isinstance(value, np.ndarray):
            # arrays of the configuration are read-only: writing into them would
            # change the stream without changing its repr, stream() or pickles
            with pytest.raises(ValueError, match="read-only"):
                value[...] = 0


# --- 4. the first chunk's layout ----------------------------------------------------------

# A spectra stage's layout is fixed by its bins axis, which the engine checks
# (tests/test_istft.py): no transposed-looking shape to refuse, no empty first
# chunk needed.  Frames are short along time by nature (next test).
@pytest.mark.parametrize("name", [name for name in STAGES
                                  if name not in TAKES_FRAMES and name not in SPECTRA])
def test_transposed_first_chunk_is_refused_and_the_stream_stays_at_rest(name):
    s = make(name)
    for shape in [(1000, 2), (2, 1000, 2)]:
        with pytest.raises(ParameterError, match=r"chunk\.T"):
            s.process(signal(shape[:-1], shape[-1]))
        assert_at_rest(s, name)
    chunks = chunks_of(name)
    assert_outputs_equal(run(s, chunks), run(make(name), chunks), f"{name} after the refusal")


@pytest.mark.parametrize("name", TAKES_FRAMES)
def test_a_stage_taking_frames_takes_short_first_chunks(name):
    """Frames are short along time by nature (a mel stream's (128, 1)): no
    first chunk of frames looks like a transposed signal."""
    for shape in [(1000, 2), (2, 1000, 1), (128, 1)]:
        x = signal(shape[:-1], 60, seed=4)
        s = make(name)
        got = [s.process(x[..., :shape[-1]])] + run(s, [x[..., shape[-1]:]])
        assert s.lead is None                # flushed
        assert_bits_equal(np.concatenate(got, axis=-1),
                          np.concatenate(run(make(name), [x]), axis=-1), f"{name} {shape}")


@pytest.mark.parametrize("name", [name for name in STAGES if name not in SPECTRA])
def test_empty_first_chunk_fixes_a_many_channel_layout(name):
    channels, n = 100, 40
    s = make(name, channels=channels)
    x = signal((channels,), n, seed=3)
    if name not in TAKES_FRAMES:             # see the test below
        with pytest.raises(ParameterError,
                           match=r"empty first chunk of shape \(\.\.\., channels, 0\)"):
            s.process(x[:, :2])
        assert_at_rest(s, name)
    first = s.process(x[:, :0])
    assert first.shape[0] == channels and first.shape[-1] == 0
    assert s.lead == (channels,) and s.samples_in == 0
    outs = [first] + [s.process(x[:, a:a + 2]) for a in range(0, n, 2)] + [s.flush()]
    ref = make(name, channels=channels)
    want = [ref.process(x), ref.flush()]
    assert_bits_equal(np.concatenate(outs, axis=-1), np.concatenate(want, axis=-1),
                      f"{name}: 2-sample chunks of {channels} channels")


# --- 5. a refused call leaves the stream as it was ------------------------------------------

def _square(n, amplitude, dtype, period=16):
    t = np.arange(n)
    return (amplitude * np.sign(np.sin(2 * np.pi * t / period + 0.1))).astype(dtype)


#: per stage: a chunk beyond its limits (finite samples whose result would
#: overflow), and the gain of the noise mixers that makes it so
OVERFLOW = {
    "mel": (1e21, np.float32), "mel-reflect": (1e21, np.float32), "mfcc": (1e21, np.float32),
    "stft": (1e37, np.float32), "mel-f64": (1e160, np.float64),
    "bandpass": (3e38, np.float32), "convolver-f32": (3e38, np.float32),
    "convolver-f64": (1.7e308, np.float64), "noise-mono": (3.4e38, np.float32),
    "noise-per-channel": (3.4e38, np.float32), "chain": (3e38, np.float32),
    "chain-signal": (3e38, np.float32), "chain-mfcc-delta": (1e21, np.float32),
    "delta": (3e38, np.float32), "delta-mirror": (3e38, np.float32),
    "istft": (1e37, np.complex64),
}
LOUD_GAIN = 1e37


def _bad_chunks(name, lead, fed):
    """(what, chunk, error) refused by a stream of stage ``name`` (``fed``: after
    a float32 first chunk of leading shape ``lead``)."""
    x = signal_for(name, lead, 50, seed=9)
    nan, inf = x.copy(), x.copy()
    nan[..., 17] = np.nan
    inf[..., 3] = -np.inf
    value, dtype = OVERFLOW[name]
    bad = [("nan", nan, ParameterError), ("inf", inf, ParameterError),
           ("int16", (x.real * 1000).astype(np.int16), TypeError),
           ("bool", x.real > 0, TypeError),
           ("overflow", np.broadcast_to(_square(300, value, dtype), lead + (300,)),
            ParameterError)]
    # the other kind of float: complex for the stages of samples, real for spectra
    bad.append(("float32", x.real.astype(np.float32), TypeError) if name in SPECTRA
               else ("complex64", x.astype(np.complex64), TypeError))
    if fed:
        bad.append(("leading shape", signal_for(name, (3,) + lead, 50), ParameterError))
        if (WORKING[name] or np.float32) in (np.float32, np.complex64):
            # a float64 chunk beyond float32's range: inf once converted
            bad.append(("beyond float32", np.full(lead + (5,), 1e39, kind_for(name, np.float64)),
                        ParameterError))
    return bad


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("fed", [False, True], ids=["first", "later"])
@pytest.mark.parametrize("name", STAGES)
def test_refused_chunk_leaves_the_stream_as_it_was(name, fed):
    gain = LOUD_GAIN if name.startswith("noise") else 0.1
    before = chunks_of(name, seed=1)[:3] if fed else []
    after = chunks_of(name, seed=2)
    for what, bad, error in _bad_chunks(name, LEAD[name], fed):
        tried, ref = make(name, gain=gain), make(name, gain=gain)
        for c in before:
            tried.process(c)
            ref.process(c)
        for _ in range(2):
            with pytest.raises(error):
                tried.process(bad)
            assert_same_state(state(tried), state(ref), f"{name} after a refused {what} chunk")
        if not fed:
            assert_at_rest(tried, name)
        assert_outputs_equal(run(tried, after), run(ref, after),
                             f"{name} after a refused {what} chunk")


def _loud_tail_convolver():
    # the IR's last tap meets loud input only in the tail: flush() overflows
    ir = np.zeros(16)
    ir[0], ir[15] = 1e-3, 3.0
    return fastmel.Convolver(ir, block_size=16)


def _loud_tail_chain():
    return fastmel.Chain([fastmel.NoiseMixer(NOISE, gain=0.1, offset=3), _loud_tail_convolver()])


def _reflect_chain():
    return fastmel.Chain([fastmel.NoiseMixer(NOISE, gain=0.1), fastmel.Bandpass(SR, 100, 7000),
                          make("mel-reflect")])


#: streams whose flush() raises: (maker, chunks fed, chunks fed after the failed flush)
FLUSH_RAISES = {
    "mel-reflect, empty chunk": (lambda: make("mel-reflect"), [np.zeros(0, np.float32)],
                                 chunks_of("mel-reflect")),
    "chain ending in mel-reflect, empty chunk": (_reflect_chain, [np.zeros(0, np.float32)],
                                                 chunks_of("mel-reflect")),
    "convolver tail overflow": (_loud_tail_convolver,
                                [np.full(10, 3e38, np.float32)], [np.zeros(5, np.float32)]),
    "chain, a later stage's tail overflows": (_loud_tail_chain, [np.full(10, 3e38, np.float32)],
                                              [np.zeros(5, np.float32)]),
    # mode "interp" fits its edges to width frames: fewer cannot be flushed
    "delta, fewer frames than its width": (lambda: make("delta"), [signal((4,), 3)],
                                           chunks_of("delta")),
    "chain ending in a delta, 2 frames": (lambda: _mfcc_delta_chain("interp"), [signal((), 300)],
                                          chunks_of("chain-mfcc-delta")),
}


@pytest.mark.parametrize("case", list(FLUSH_RAISES))
def test_flush_that_raises_leaves_the_stream_as_it_was(case):
    maker, fed, then = FLUSH_RAISES[case]
    tried, ref = maker(), maker()
    for c in fed:
        tried.process(c)
        ref.process(c)
    for _ in range(2):
        with pytest.raises(ParameterError):
            tried.flush()
        for s, r in zip(getattr(tried, "stages", [tried]), getattr(ref, "stages", [ref])):
            assert (s.lead, s.dtype, s.samples_in) == (r.lead, r.dtype, r.samples_in), s
        assert (tried.lead, tried.samples_in) == (ref.lead, ref.samples_in)
    outs = [tried.process(c) for c in then]
    want = [ref.process(c) for c in then]
    assert_outputs_equal(outs, want, f"{case}: after the failed flush")


# --- 6. dtype: the first chunk's, or the working dtype; later chunks converted -----------------

#: later chunks of every other float kind; each is converted as ``astype`` converts
LATER_DTYPES = [np.float64, np.float16, np.dtype(">f4"), np.longdouble, np.float32,
                np.dtype(">f8")]


@pytest.mark.parametrize("first", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("name", STAGES)
def test_dtype_is_fixed_and_later_chunks_are_converted(name, first):
    # float16 and long double are converted as the offline calls convert them
    first_as = {np.float16: np.float32}.get(first, first)
    want_dtype = np.dtype(WORKING[name] or first_as)
    x = chunks_of(name, n=900, dtype=np.float64, sizes=(200, 0, 1, 313, 160, 7))
    # not representable in float32 (or float16): conversions must round like astype
    x = [c + 1e-9 for c in x]
    kinds = [first] + [LATER_DTYPES[i % len(LATER_DTYPES)] for i in range(len(x) - 1)]
    kinds = [kind_for(name, k) for k in kinds]
    s, ref = make(name), make(name)
    got = [s.process(x[0].astype(kinds[0]))]
    assert s.dtype == want_dtype
    got += [s.process(c.astype(k)) for c, k in zip(x[1:], kinds[1:])] + [s.flush()]
    want = [ref.process(c.astype(k).astype(want_dtype)) for c, k in zip(x, kinds)]
    assert ref.dtype == want_dtype
    want.append(ref.flush())
    assert_outputs_equal(got, want, f"{name}: chunks of {[np.dtype(k).str for k in kinds]}")
    # Bandpass and NoiseMixer output the stream's dtype; the others their working
    # dtype's (complex for an STFT), a chain its last stage's (as when never fed)
    fixed_output = WORKING[name] is not None or name.startswith("chain")
    assert got[0].dtype == (AT_REST_FLUSH[name][1] if fixed_output else want_dtype)


# --- 7. architecture: compiled modules import only compiled modules -----------------------

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<src>[.\w]+)[ \t]+c?import[ \t]+(?P<names>\([^)]*\)|[^\n#]+)"
    r"|c?import[ \t]+(?P<mods>[^\n#]+))", re.M)


def _fastmel_imports(text):
    """The fastmel modules an importing text names (relative imports included)."""
    for m in _IMPORT.finditer(text):
        if m.group("src"):
            src = m.group("src")
            if src.startswith("."):
                src = "fastmel" + ("." + src.lstrip(".") if src.strip(".") else "")
            if src == "fastmel":
                names = m.group("names").strip("()").replace("\n", " ")
                for name in names.split(","):
                    yield "fastmel." + name.split(" as ")[0].strip()
            elif src.startswith("fastmel."):
                yield src
        else:
            for mod in m.group("mods").split(","):
                mod = mod.split(" as ")[0].strip()
                if mod == "fastmel" or mod.startswith("fastmel."):
                    yield mod


def test_import_scanner_sees_every_form():
    text = ("from fastmel._checks cimport x\n    from fastmel import _plan, exceptions as e\n"
            "import fastmel.feature\ncimport fastmel._plan as p\nfrom . import (_spectral,\n"
            "    _noise)\nfrom .iir import Bandpass\nimport numpy, fastmel\n")
    assert list(_fastmel_imports(text)) == [
        "fastmel._checks", "fastmel._plan", "fastmel.exceptions", "fastmel.feature",
        "fastmel._plan", "fastmel._spectral", "fastmel._noise", "fastmel.iir", "fastmel"]


def test_compiled_modules_import_only_compiled_modules():
    compiled = {p.stem for p in SRC.glob("*.pyx")}
    python = {p.stem for p in SRC.glob("*.py")}
    sources = sorted(SRC.glob("*.pyx")) + sorted(SRC.glob("*.pxd"))
    assert len(sources) > 10
    seen, wrong = set(), []
    for path in sources:
        text = path.read_text()
        assert "import_module" not in text and "__import__" not in text, path.name
        for mod in _fastmel_imports(text):
            seen.add(mod)
            stem = mod.split(".")[1] if "." in mod else ""
            if stem not in compiled or stem in python:
                wrong.append(f"{path.name} imports {mod}")
    assert not wrong, wrong
    assert "fastmel._streambase" in seen and "fastmel._checks" in seen   # the scan found them
    assert not any("exceptions" in mod for mod in seen)


# --- 8. Chain: what it refuses, and its stream() ---------------------------------------------

@pytest.mark.parametrize("stages", [
    lambda: [make("mel"), fastmel.Bandpass(SR, 100, 7000)],
    lambda: [make("stft"), make("mel")],
    lambda: [fastmel.Bandpass(SR, 100, 7000), make("mfcc"), fastmel.NoiseMixer(NOISE, gain=1)],
    # a chain that ends in a feature stream is one too
    lambda: [fastmel.Chain([fastmel.Bandpass(SR, 100, 7000), make("mel")]),
             fastmel.Bandpass(SR, 100, 7000)],
    # and so are a delta stream and a chain ending in one (frames in, frames out)
    lambda: [make("mfcc"), make("delta"), fastmel.Bandpass(SR, 100, 7000)],
    lambda: [make("chain-mfcc-delta"), make("mel")],
    lambda: [make("mel"), make("delta"), object_stage()],
], ids=["mel-first", "stft-then-mel", "mfcc-middle", "nested-chain-ending-in-mel",
        "delta-then-bandpass", "nested-chain-ending-in-delta-then-mel", "delta-then-other"])
def test_chain_refuses_a_stage_taking_samples_after_frames(stages):
    with pytest.raises(ParameterError, match="gives frames: a feature stream can only be "
                                             r"followed by stages that take frames \(fastmel"):
        fastmel.Chain(stages())


def object_stage():
    """A stage that is not a fastmel stream: it takes samples."""
    class Gain:
        latency = 0

        def process(self, x):
            return 2 * x

        def flush(self):
            return np.zeros(0, np.float32)

        def reset(self):
            pass
    return Gain()


@pytest.mark.parametrize("stages", [
    lambda: [fastmel.Bandpass(SR, 100, 7000), make("delta")],
    lambda: [object_stage(), make("delta-mirror")],
    lambda: [make("convolver-f32"), fastmel.Chain([make("delta"), make("delta-mirror")])],
], ids=["bandpass-then-delta", "other-then-delta", "convolver-then-chain-of-deltas"])
def test_chain_refuses_a_stage_taking_frames_after_samples(stages):
    with pytest.raises(ParameterError, match=r"takes frames \(\.\.\., n_features, j\), but "
                                             r"stage 0 .* gives samples: put it after a feature"):
        fastmel.Chain(stages())


@pytest.mark.parametrize("stages", [
    lambda: [make("stft"), make("delta")],
    lambda: [fastmel.Chain([make("bandpass"), make("stft")]), make("delta-mirror")],
], ids=["stft-then-delta", "chain-ending-in-stft-then-delta"])
def test_chain_refuses_a_stage_taking_frames_after_complex_frames(stages):
    with pytest.raises(ParameterError, match=r"takes real frames, but stage 0 .* gives complex"):
        fastmel.Chain(stages())


def test_chain_of_stages_taking_frames_takes_frames():
    """A chain that starts with a stage taking frames takes frames itself (no
    transposed-layout check, frames counted, latency in frames)."""
    c = fastmel.Chain([make("delta"), make("delta-mirror")])
    assert c.latency == 4 + 1
    x = signal((40,), 30, seed=5)
    got = [c.process(x[:, :1])] + run(c, [x[:, 1:]])       # a (40, 1) first chunk
    d1, d2 = make("delta"), make("delta-mirror")
    want = d2(d1(x))
    assert_bits_equal(np.concatenate(got, axis=-1), want, "delta of delta, chained")
    c.process(x[:, :3])
    assert "after 3 frames" in repr(c)


def test_chain_refuses_a_stage_twice():
    bp = fastmel.Bandpass(SR, 100, 7000)
    conv = fastmel.Convolver(IR)
    for stages in ([bp, bp], [bp, conv, bp], [bp, fastmel.Chain([conv, bp])],
                   [fastmel.Chain([bp]), fastmel.Chain([conv, bp])]):
        with pytest.raises(ParameterError, match="twice"):
            fastmel.Chain(stages)


@pytest.mark.parametrize("stages", [[], [object()], [fastmel.MelSpectrogram(**MEL)],
                                    [fastmel.Bandpass(SR, 100, 7000), None]],
                         ids=["empty", "object", "extractor", "none"])
def test_chain_refuses_an_empty_list_and_non_streams(stages):
    with pytest.raises(ParameterError):
        fastmel.Chain(stages)


@pytest.mark.parametrize("name", ["chain", "chain-signal"])
def test_chain_stream_is_a_new_chain_of_new_stages(name):
    c = make(name)
    c.process(chunks_of(name)[2])
    new = c.stream()
    assert type(new) is fastmel.Chain
    assert [type(s) for s in new.stages] == [type(s) for s in c.stages]
    assert all(a is not b for a, b in zip(new.stages, c.stages))
    assert [repr(s) for s in new.stages] == [repr(s) for s in make(name).stages]
    assert all(s.lead is None for s in new.stages)


# --- 9. pickle and deepcopy, at rest, fed and flushed, resume bit for bit -------------------

def _pickled(s):
    return pickle.loads(pickle.dumps(s))


@pytest.mark.parametrize("when", ["at-rest", "fed", "flushed"])
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("name", STAGES)
def test_copies_resume_bit_for_bit(name, how, when):
    chunks = chunks_of(name, n=2500, sizes=(700, 1, 313, 0, 160))
    s = make(name)
    if when != "at-rest":
        for c in chunks[:3]:
            s.process(c)
    if when == "flushed":
        s.flush()
    cp = _pickled(s) if how == "pickle" else copy.deepcopy(s)
    assert type(cp) is type(s) and cp is not s
    assert (cp.lead, cp.dtype, cp.samples_in, cp.latency, repr(cp)) == (
        s.lead, s.dtype, s.samples_in, s.latency, repr(s))
    if isinstance(s, fastmel.Chain):
        assert all(a is not b for a, b in zip(cp.stages, s.stages))
    rest = chunks[3:] if when == "fed" else chunks
    assert_outputs_equal(run(cp, rest), run(s, rest), f"{name}: {how} {when}")


# --- subclasses and the feature streams' configuration -----------------------------------------

class MyBandpass(fastmel.Bandpass):
    pass


class MyConvolver(fastmel.Convolver):
    pass


class MyMixer(fastmel.NoiseMixer):
    pass


class MyDelta(fastmel.Delta):
    pass


@pytest.mark.parametrize("make_sub", [lambda: MyBandpass(SR, 100, 7000),
                                      lambda: MyConvolver(IR, block_size=64),
                                      lambda: MyMixer(NOISE, gain=0.1, offset=7),
                                      lambda: MyDelta(width=7, mode="nearest")],
                         ids=["bandpass", "convolver", "noise", "delta"])
def test_a_subclass_keeps_its_class(make_sub):
    """stream(), pickling and copying make the subclass, named as such in repr."""
    s = make_sub()
    x = (_rng.standard_normal(300) * 0.1).astype(np.float32)
    s.process(x)
    for other in (s.stream(), pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert type(other) is type(s)
        assert repr(other).lstrip("<").startswith(type(s).__name__ + "(")
    resumed = pickle.loads(pickle.dumps(s))
    assert_bits_equal(resumed.process(x), s.process(x), "resumed subclass")


@pytest.mark.parametrize("name", FEATURES)
def test_feature_stream_shows_its_extractor(name):
    """What a feature stream's repr shows is readable: the extractor that made it."""
    ext = _extractor(name)
    s = ext.stream()
    assert s.extractor is ext
    assert repr(s) == f"{ext!r}.stream()"
    with pytest.raises(AttributeError):
        s.extractor = None


@pytest.mark.parametrize("first", [True, False], ids=["first-chunk", "later-chunk"])
def test_a_chain_in_a_chain_is_taken_back_whole(first):
    """A chain that is a stage of another keeps every call (its last stage
    included): a chunk the outer chain's last stage refuses leaves the inner
    chain's stages as they were too, bit for bit afterwards."""
    def outer():
        inner = fastmel.Chain([fastmel.Convolver(IR, block_size=64),
                               fastmel.NoiseMixer(NOISE, gain=0.1)])
        return fastmel.Chain([inner, fastmel.Bandpass(SR, 100, 7000),
                              fastmel.MelSpectrogram(**MEL).stream()])
    rng = np.random.default_rng(21)
    good = [(rng.standard_normal(k) * 0.1).astype(np.float32) for k in (700, 333)]
    tried, ref = outer(), outer()
    outs, want = [], []
    if not first:
        outs.append(tried.process(good[0]))
        want.append(ref.process(good[0]))
    with pytest.raises(ParameterError, match="magnitude"):
        tried.process((rng.standard_normal(500) * 1e21).astype(np.float32))
    for x in good[1:]:
        outs.append(tried.process(x))
        want.append(ref.process(x))
    outs.append(tried.flush())
    want.append(ref.flush())
    assert_bits_equal(np.concatenate(outs, axis=-1), np.concatenate(want, axis=-1),
                      "after the refused chunk")

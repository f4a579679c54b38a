"""Recording-simulation benchmarks (SPEC.md section 3): streaming/offline convolution, band-pass.

Run (on an otherwise idle machine):
    python -m pytest benchmarks/test_bench_simulation.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

Workloads and timed callables live in ``benchmarks/report_simulation.py`` (which prints the same
measurements as Markdown tables with real-time factors, ratios and targets):

* group "convolver-64" / "convolver-256" / "convolver-1024": 10 s of seeded noise at 48 kHz through
  a 1 s synthetic RIR (RT60 0.6 s), fed in B-sample pre-sliced chunks:
    fastmel_convolver[B]   c.process(chunk) per chunk, c = fastmel.Convolver(ir, block_size=B)
    pedalboard[B]          p.process(chunk, sample_rate=48000, buffer_size=B, reset=False) per
                           (1, B) chunk, p = pedalboard.Convolution(ir, mix=1.0, sample_rate=48000)
  Targets: fastmel >= 600x / 900x / 1200x real time (10 s / min time).
* group "convolve-offline": scipy.signal.fftconvolve(x, ir) vs fastmel.convolve(x, ir) on the
  whole 10 s. Target: fastmel >= 1.5x fftconvolve.
* group "bandpass-160": the bundled speech tiled to 10 s at 16 kHz, 160-sample chunks:
    fastmel_bandpass        bp.process(chunk), bp = fastmel.Bandpass(16000, 300, 3400)
    scipy_sosfilt[float64]  y, zi = sosfilt(sos, chunk, zi=zi), sos = butter(4, [300, 3400],
                            "bandpass", fs=16000, output="sos"), zi from float32 zeros (4, 2);
                            scipy computes in float64 since sos is float64
    scipy_sosfilt[float32]  the same with sos.astype(float32): scipy's float32 path
  Target: fastmel >= 5x scipy_sosfilt[float64].
* group "bandpass-160-silence": the same candidates on 10 s of zeros that follow 1 s of speech
  (the speech is fed in the untimed setup): the cost of subnormal numbers in the decaying state.

Objects and FFTW plans are built outside the timing; each timed round starts from rest (reset
and lead-in in pedantic's untimed setup). extra_info holds n_chunks, us_per_chunk_min and
real_time_factor (from the min). Before timing, fastmel's outputs are checked against a float64
scipy reference (max |diff| <= 1e-5 of the reference's peak); pedalboard's after a least-squares
gain (JUCE normalises the impulse response), loosely (1e-4), as a sanity check only.
"""

import numpy as np
import pytest

from report_simulation import (  # benchmarks/ is on sys.path (rootdir conftest.py)
    BP_CHUNK,
    BP_SR,
    CONV_BLOCKS,
    CONV_SR,
    REL_TOL,
    bandpass_inputs,
    butter_sos,
    conv_input,
    count_subnormal,
    fastmel_bandpass,
    fastmel_convolve,
    fastmel_convolver,
    gain_fit_error,
    import_fastmel_sim,
    import_pedalboard,
    make_rir,
    pedalboard_convolver,
    rel_error,
    scipy_fftconvolve,
    scipy_sosfilt_stream,
    split_chunks,
)

CONV_ROUNDS = 20
BP_ROUNDS = 30
WARMUP_ROUNDS = 2


# --------------------------------------------------------------------------- #
# Fixtures
# --------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def fm():
    try:
        return import_fastmel_sim()
    except ImportError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def pb():
    try:
        return import_pedalboard()
    except ImportError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def rir():
    return make_rir()


@pytest.fixture(scope="module")
def conv_x():
    return conv_input()


@pytest.fixture(scope="module")
def conv_ref(conv_x, rir):
    """float64 full convolution: the accuracy reference."""
    import scipy.signal

    return scipy.signal.fftconvolve(conv_x.astype(np.float64), rir.astype(np.float64))


@pytest.fixture(scope="module")
def bp_signals():
    speech, lead, zeros = bandpass_inputs()
    return {
        "speech": (split_chunks(speech, BP_CHUNK), (), speech),
        "silence": (split_chunks(zeros, BP_CHUNK), split_chunks(lead, BP_CHUNK), np.concatenate([lead, zeros])),
    }


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _run(benchmark, cand, rounds, group, name, n_chunks, audio_seconds, **info):
    benchmark.group = group
    benchmark.name = name
    benchmark.extra_info.update(n_chunks=n_chunks, audio_seconds=audio_seconds, **info)
    setup = cand.setup
    benchmark.pedantic(
        cand.run,
        setup=(lambda: (setup(), None)[1]) if setup is not None else None,
        rounds=rounds,
        warmup_rounds=WARMUP_ROUNDS,
        iterations=1,
    )
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    if stats is not None and stats.min > 0:
        benchmark.extra_info["us_per_chunk_min"] = stats.min / n_chunks * 1e6
        benchmark.extra_info["real_time_factor"] = audio_seconds / stats.min


# --------------------------------------------------------------------------- #
# Streaming convolution
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("block", CONV_BLOCKS, ids=[str(b) for b in CONV_BLOCKS])
def test_fastmel_convolver(benchmark, fm, rir, conv_x, conv_ref, block):
    chunks = split_chunks(conv_x, block)
    cand = fastmel_convolver(fm, rir, chunks, block)
    out = cand.outputs()
    err = rel_error(out, conv_ref)
    assert out.dtype == np.float32, out.dtype
    assert err <= REL_TOL, f"Convolver(block_size={block}) vs fftconvolve: rel err {err:g} > {REL_TOL:g}"
    _run(
        benchmark,
        cand,
        CONV_ROUNDS,
        f"convolver-{block}",
        f"fastmel_convolver[{block}]",
        len(chunks),
        conv_x.size / CONV_SR,
        block=block,
        partitions=repr(cand.obj.partitions),
        rel_err=err,
    )


@pytest.mark.parametrize("block", CONV_BLOCKS, ids=[str(b) for b in CONV_BLOCKS])
def test_pedalboard_convolver(benchmark, pb, rir, conv_x, conv_ref, block):
    chunks2d = split_chunks(conv_x[None, :], block)
    cand = pedalboard_convolver(pb, rir, chunks2d, block)
    out = cand.outputs()
    assert out.size == conv_x.size, f"pedalboard returned {out.size} of {conv_x.size} samples"
    gain, err = gain_fit_error(out, conv_ref[: conv_x.size])
    assert err <= 1e-4, f"pedalboard output is not the convolution (rel err {err:g} after gain {gain:g})"
    _run(
        benchmark,
        cand,
        CONV_ROUNDS,
        f"convolver-{block}",
        f"pedalboard[{block}]",
        len(chunks2d),
        conv_x.size / CONV_SR,
        block=block,
        pedalboard_version=pb.__version__,
        ir_normalisation_gain=gain,
        rel_err_after_gain=err,
    )


# --------------------------------------------------------------------------- #
# Offline convolution
# --------------------------------------------------------------------------- #


def test_scipy_fftconvolve(benchmark, rir, conv_x, conv_ref):
    cand = scipy_fftconvolve(conv_x, rir)
    err = rel_error(cand.outputs(), conv_ref)
    _run(benchmark, cand, CONV_ROUNDS, "convolve-offline", "scipy_fftconvolve", 1, conv_x.size / CONV_SR, rel_err=err)


def test_fastmel_convolve(benchmark, fm, rir, conv_x, conv_ref):
    cand = fastmel_convolve(fm, conv_x, rir)
    out = cand.outputs()
    err = rel_error(out, conv_ref)
    assert out.dtype == np.float32, out.dtype
    assert err <= REL_TOL, f"convolve vs fftconvolve: rel err {err:g} > {REL_TOL:g}"
    _run(benchmark, cand, CONV_ROUNDS, "convolve-offline", "fastmel_convolve", 1, conv_x.size / CONV_SR, rel_err=err)


# --------------------------------------------------------------------------- #
# Band-pass, 160-sample chunks
# --------------------------------------------------------------------------- #

SIGNALS = ("speech", "silence")
_GROUPS = {"speech": f"bandpass-{BP_CHUNK}", "silence": f"bandpass-{BP_CHUNK}-silence"}


def _bp_reference(full, lead_chunks):
    import scipy.signal

    n_lead = sum(c.shape[-1] for c in lead_chunks)
    return scipy.signal.sosfilt(butter_sos(), full.astype(np.float64))[n_lead:]


@pytest.mark.parametrize("signal", SIGNALS)
def test_fastmel_bandpass(benchmark, fm, bp_signals, signal):
    chunks, lead_chunks, full = bp_signals[signal]
    cand = fastmel_bandpass(fm, chunks, lead_chunks)
    out = cand.outputs()
    err = rel_error(out, _bp_reference(full, lead_chunks))
    assert out.dtype == np.float32, out.dtype
    assert err <= REL_TOL, f"Bandpass vs sosfilt ({signal}): rel err {err:g} > {REL_TOL:g}"
    _run(
        benchmark,
        cand,
        BP_ROUNDS,
        _GROUPS[signal],
        f"fastmel_bandpass[{signal}]",
        len(chunks),
        len(chunks) * BP_CHUNK / BP_SR,
        rel_err=err,
        subnormal_outputs=count_subnormal(out),
    )


@pytest.mark.parametrize("sos_dtype", ["float64", "float32"])
@pytest.mark.parametrize("signal", SIGNALS)
def test_scipy_sosfilt(benchmark, bp_signals, signal, sos_dtype):
    chunks, lead_chunks, full = bp_signals[signal]
    sos = butter_sos().astype(sos_dtype)
    cand = scipy_sosfilt_stream(sos, chunks, lead_chunks)
    out = cand.outputs()
    err = rel_error(out, _bp_reference(full, lead_chunks))
    _run(
        benchmark,
        cand,
        BP_ROUNDS,
        _GROUPS[signal],
        f"scipy_sosfilt[{sos_dtype}-sos,{signal}]",
        len(chunks),
        len(chunks) * BP_CHUNK / BP_SR,
        rel_err=err,
        compute_dtype=str(out.dtype),
        subnormal_outputs=count_subnormal(out),
        subnormal_final_zi=count_subnormal(cand.state["zi_end"]),
    )

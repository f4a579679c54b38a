"""Recording simulation (SPEC section 3): convolution and band-pass, float32.

Groups (candidates in ``suite.py``; objects made outside the timing, reset untimed):

* ``convolver-64`` / ``-256`` / ``-1024``: 10 s of noise at 48 kHz through a 1 s room
  response in B-sample chunks: fastmel's Convolver, pedalboard's Convolution.
* ``convolve``: the whole 10 s, ``fastmel.convolve`` against ``scipy.signal.fftconvolve``.
* ``bandpass-160``: speech at 16 kHz in 160-sample chunks, ``Bandpass.process`` against
  ``sosfilt`` with carried ``zi`` (float64 sos as butter gives it, and float32 sos).
* ``bandpass-160-silence``: the same on 10 s of zeros after 1 s of speech (fed untimed):
  the cost of subnormal numbers in a decaying state.
* ``bandpass-whole``: the 10 s as one signal, ``Bandpass(x)`` against ``sosfilt(sos, x)``.

fastmel's outputs are checked against a float64 scipy reference before timing (1e-5 of the
peak, SPEC section 2); pedalboard's after a least-squares gain, since JUCE normalises the
impulse response.
"""
import numpy as np
import pytest

import suite
from conftest import bench


@pytest.fixture(scope="module")
def rir():
    return suite.make_rir()


@pytest.fixture(scope="module")
def conv_x():
    return suite.conv_input()


@pytest.fixture(scope="module")
def conv_ref(scipy_signal, conv_x, rir):
    return scipy_signal.fftconvolve(conv_x.astype(np.float64), rir.astype(np.float64))


def _info(x, sr):
    return {"audio_seconds": x.shape[-1] / sr}


@pytest.mark.parametrize("block", suite.CONV_BLOCKS)
def test_fastmel_convolver(benchmark, rounds, fastmel_module, rir, conv_x, conv_ref, block):
    cand = suite.fastmel_convolver(fastmel_module, rir, suite.split_chunks(conv_x, block), block)
    out = np.concatenate(cand.output())
    err = suite.rel_error(out, conv_ref[:out.size])
    assert out.dtype == np.float32 and err <= suite.REL_TOL, (out.dtype, err)
    bench(benchmark, cand, f"convolver-{block}", "fastmel_convolver", rounds,
          **_info(conv_x, suite.CONV_SR))


@pytest.mark.parametrize("block", suite.CONV_BLOCKS)
def test_pedalboard_convolver(benchmark, rounds, pedalboard_module, rir, conv_x, conv_ref, block):
    chunks = suite.split_chunks(conv_x[None, :], block)
    cand = suite.pedalboard_convolver(pedalboard_module, rir, chunks, block)
    out = np.concatenate(cand.output(), axis=-1).reshape(-1).astype(np.float64)
    ref = conv_ref[:out.size]
    gain = float(out @ ref / (ref @ ref))
    # a sanity check only: JUCE's convolution is not float64-exact
    assert suite.rel_error(out, gain * ref) <= 1e-4
    bench(benchmark, cand, f"convolver-{block}", "pedalboard", rounds,
          version=pedalboard_module.__version__, **_info(conv_x, suite.CONV_SR))


def test_fastmel_convolve(benchmark, rounds, fastmel_module, rir, conv_x, conv_ref):
    cand = suite.call(fastmel_module.convolve, conv_x, rir)
    assert suite.rel_error(cand.output(), conv_ref) <= suite.REL_TOL
    bench(benchmark, cand, "convolve", "fastmel_convolve", rounds, **_info(conv_x, suite.CONV_SR))


def test_scipy_fftconvolve(benchmark, rounds, scipy_signal, rir, conv_x):
    bench(benchmark, suite.call(scipy_signal.fftconvolve, conv_x, rir), "convolve",
          "scipy_fftconvolve", rounds, **_info(conv_x, suite.CONV_SR))


@pytest.fixture(scope="module")
def bp_signals():
    y, lead, zeros = suite.bandpass_inputs()
    return {"speech": (y, ()), "silence": (zeros, suite.split_chunks(lead, suite.BP_CHUNK))}


@pytest.fixture(scope="module")
def bp_refs(scipy_signal, bp_signals):
    sos = suite.butter_sos()
    out = {}
    for name, (x, lead) in bp_signals.items():
        full = np.concatenate(list(lead) + [x]).astype(np.float64)
        out[name] = scipy_signal.sosfilt(sos, full)[full.size - x.size:]
    return out


_BP_GROUP = {"speech": f"bandpass-{suite.BP_CHUNK}", "silence": f"bandpass-{suite.BP_CHUNK}-silence"}


@pytest.mark.parametrize("signal", ["speech", "silence"])
def test_fastmel_bandpass_chunks(benchmark, rounds, fastmel_module, bp_signals, bp_refs, signal):
    x, lead = bp_signals[signal]
    cand = suite.fastmel_bandpass_chunks(fastmel_module, suite.split_chunks(x, suite.BP_CHUNK), lead)
    out = np.concatenate(cand.output())
    assert out.dtype == np.float32 and suite.rel_error(out, bp_refs[signal]) <= suite.REL_TOL
    bench(benchmark, cand, _BP_GROUP[signal], "fastmel_bandpass", rounds,
          subnormal_outputs=suite.count_subnormal(out), **_info(x, suite.BP_SR))


@pytest.mark.parametrize("sos_dtype", ["float64", "float32"])
@pytest.mark.parametrize("signal", ["speech", "silence"])
def test_scipy_sosfilt_chunks(benchmark, rounds, scipy_signal, bp_signals, signal, sos_dtype):
    x, lead = bp_signals[signal]
    sos = suite.butter_sos().astype(sos_dtype)
    cand = suite.scipy_sosfilt_chunks(scipy_signal, sos, suite.split_chunks(x, suite.BP_CHUNK), lead)
    out = np.concatenate(cand.output())
    bench(benchmark, cand, _BP_GROUP[signal], f"scipy_sosfilt[{sos_dtype}-sos]", rounds,
          compute_dtype=str(out.dtype), **_info(x, suite.BP_SR))


def test_fastmel_bandpass_whole(benchmark, rounds, fastmel_module, bp_signals, bp_refs):
    x = bp_signals["speech"][0]
    cand = suite.fastmel_bandpass_whole(fastmel_module, x)
    assert suite.rel_error(cand.output(), bp_refs["speech"]) <= suite.REL_TOL
    bench(benchmark, cand, "bandpass-whole", "fastmel_bandpass", rounds, **_info(x, suite.BP_SR))


@pytest.mark.parametrize("sos_dtype", ["float64", "float32"])
def test_scipy_sosfilt_whole(benchmark, rounds, scipy_signal, bp_signals, sos_dtype):
    x = bp_signals["speech"][0]
    sos = suite.butter_sos().astype(sos_dtype)
    bench(benchmark, suite.call(scipy_signal.sosfilt, sos, x), "bandpass-whole",
          f"scipy_sosfilt[{sos_dtype}-sos]", rounds, **_info(x, suite.BP_SR))

"""KaldiFbank/KaldiMFCC against torchaudio.compliance.kaldi (the other Kaldi
front-end speech toolkits use), where torch is installed (CI's optional torch
leg); tests/test_kaldi.py compares them with kaldi-native-fbank.

torchaudio computes Kaldi's features with torch's FFT in the waveform's dtype;
the float32 operations are Kaldi's, so the tolerances are test_kaldi's (their
reasoning is written there)."""
import numpy as np
import pytest

from _torchaudio import import_torchaudio
from fastmel.frontends import KaldiFbank, KaldiMFCC
from test_kaldi import check_fbank, check_mfcc, signals  # noqa: F401 (a fixture)

# fastmel's keywords -> torchaudio.compliance.kaldi's, where the names differ
_NAMES = {"sr": "sample_frequency", "preemph_coeff": "preemphasis_coefficient"}

# torchaudio's defaults that differ from Kaldi's (and fastmel's): the energy
# floor (1.0 there); fastmel's are passed explicitly.
FBANK_OPTIONS = [
    dict(),
    dict(num_mel_bins=80),
    dict(num_mel_bins=80, snip_edges=False, use_energy=True),
    dict(window_type="hamming", preemph_coeff=0.0, remove_dc_offset=False, use_power=False),
    dict(sr=8000, num_mel_bins=40, low_freq=64.0, high_freq=-400.0, raw_energy=False,
         use_energy=True, energy_floor=1.0),
    dict(frame_length=50.0, frame_shift=12.5, window_type="blackman", use_log_fbank=False),
    dict(sr=44100, window_type="rectangular", round_to_power_of_two=False, num_mel_bins=40),
]


def torch_kwargs(fe):
    """torchaudio.compliance.kaldi's keywords for extractor fe's settings."""
    names = ["sr", "frame_length", "frame_shift", "window_type", "blackman_coeff",
             "snip_edges", "dither", "preemph_coeff", "remove_dc_offset",
             "round_to_power_of_two", "num_mel_bins", "low_freq", "high_freq",
             "use_energy", "raw_energy", "energy_floor"]
    kw = {_NAMES.get(k, k): getattr(fe, k) for k in names}
    if isinstance(fe, KaldiMFCC):
        kw.update(num_ceps=fe.num_ceps, cepstral_lifter=fe.cepstral_lifter)
    else:
        kw.update(use_log_fbank=fe.use_log_fbank, use_power=fe.use_power)
    return kw


def ids(kw):
    return ",".join(f"{k}={v}" for k, v in kw.items()) or "defaults"


@pytest.mark.parametrize("kw", FBANK_OPTIONS, ids=ids)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fbank_equals_torchaudio(signals, kw, dtype):  # noqa: F811 (the fixture)
    torch = import_torchaudio() and __import__("torch")
    from torchaudio.compliance import kaldi
    fe = KaldiFbank(dtype=dtype, **kw)
    y = signals[(fe.sr, 32768.0)].astype(dtype)
    want = kaldi.fbank(torch.from_numpy(y)[None], **torch_kwargs(fe)).numpy().T
    check_fbank(fe(y), want, kw)


MFCC_OPTIONS = [dict(), dict(use_energy=False), dict(num_ceps=20, num_mel_bins=40,
                                                     cepstral_lifter=0.0, snip_edges=False)]


@pytest.mark.parametrize("kw", MFCC_OPTIONS, ids=ids)
def test_mfcc_equals_torchaudio(signals, kw):  # noqa: F811 (the fixture)
    torch = import_torchaudio() and __import__("torch")
    from torchaudio.compliance import kaldi
    fe = KaldiMFCC(**kw)
    y = signals[(fe.sr, 32768.0)]
    want = kaldi.mfcc(torch.from_numpy(y)[None], **torch_kwargs(fe)).numpy().T.astype(np.float64)
    fb = KaldiFbank(**{k: v for k, v in kw.items() if k not in ("num_ceps", "cepstral_lifter")})
    fb_kw = torch_kwargs(fb)
    log_err = np.max(np.abs(fb(y).astype(np.float64)
                            - kaldi.fbank(torch.from_numpy(y)[None], **fb_kw).numpy().T))
    check_mfcc(fe(y).astype(np.float64), want, fe, log_err)

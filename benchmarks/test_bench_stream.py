"""Streaming log-mel (SPEC section 3), group ``stream-W1``.

W1 with top_db None (a whole-signal top_db cannot stream); chunks are views made outside the
timing, and each stream object is made in the untimed setup, fastmel's and knf's alike:

* ``fastmel_offline``: ``m(y)`` on the whole 60 s, the throughput reference.
* ``fastmel_stream[160]`` / ``[1600]``: ``s.process(chunk)`` per chunk, then ``s.flush()``;
  the concatenation must equal the offline output bit for bit.
* ``fastmel_stream_into[160]`` / ``[1600]``: ``s.process_into(chunk, out)`` per chunk into one
  output made untimed (no allocation per chunk, as a real-time loop runs), then ``s.flush()``;
  the frames written must equal the offline output bit for bit.
* ``knf_online[lists]`` / ``[numpy]``: kaldi-native-fbank's OnlineFbank (dither 0) fed the
  same 160-sample chunks as prebuilt Python lists or as the array views, reading every
  newly ready frame.
"""
import numpy as np
import pytest

import suite
from conftest import bench

WL = suite.WORKLOADS["W1"]
GROUP = "stream-W1"


@pytest.fixture(scope="module")
def y():
    return suite.load_audio(WL)


@pytest.fixture(scope="module")
def offline(fastmel_module, y):
    return suite.fastmel_stream_extractor(fastmel_module, WL)(y)


def test_fastmel_offline(benchmark, rounds, fastmel_module, y):
    m = suite.fastmel_stream_extractor(fastmel_module, WL)
    bench(benchmark, suite.call(m, y), GROUP, "fastmel_offline", rounds,
          n_chunks=len(suite.split_chunks(y, suite.KNF_CHUNK)))


@pytest.mark.parametrize("chunk", suite.STREAM_CHUNKS)
def test_fastmel_stream(benchmark, rounds, fastmel_module, y, offline, chunk):
    cand = suite.fastmel_stream(fastmel_module, WL, suite.split_chunks(y, chunk))
    full = np.concatenate(cand.output(), axis=-1)
    assert full.dtype == offline.dtype and np.array_equal(full, offline), (
        f"the stream in {chunk}-sample chunks differs from the offline result")
    bench(benchmark, cand, GROUP, f"fastmel_stream[{chunk}]", rounds, chunk=chunk)


@pytest.mark.parametrize("chunk", suite.STREAM_CHUNKS)
def test_fastmel_stream_into(benchmark, rounds, fastmel_module, y, offline, chunk):
    fe = suite.fastmel_stream_extractor(fastmel_module, WL)
    cand = suite.stream_into_of(fe, suite.split_chunks(y, chunk))
    full = cand.frames_of()
    assert full.dtype == offline.dtype and np.array_equal(full, offline), (
        f"process_into in {chunk}-sample chunks differs from the offline result")
    assert cand.output() == offline.shape[-1]
    bench(benchmark, cand, GROUP, f"fastmel_stream_into[{chunk}]", rounds, chunk=chunk)


@pytest.mark.parametrize("feed", ["lists", "numpy"])
def test_knf_online(benchmark, rounds, knf_module, y, feed):
    cand = suite.knf_online(knf_module, WL, suite.split_chunks(y, suite.KNF_CHUNK), feed)
    # snip_edges=False: round(n_samples / hop) frames (librosa's centred framing has one more)
    assert cand.output() == (WL.n_samples + WL.hop_length // 2) // WL.hop_length
    bench(benchmark, cand, GROUP, f"knf_online[{feed}]", rounds, chunk=suite.KNF_CHUNK,
          version=getattr(knf_module, "__version__", "?"))

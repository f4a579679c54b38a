"""Streaming log-mel benchmarks (SPEC.md section 3), pytest-benchmark group "W1-stream".

Run:
    python -m pytest benchmarks/test_bench_stream.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

All on W1 (60 s at 16 kHz, n_fft 512, win 400, hop 160, 80 mels, dB) with top_db=None
(a whole-signal top_db cannot stream); chunks are pre-sliced views of the audio, made
outside the timing:
  * fastmel_offline         m(y), m = fastmel.MelSpectrogram(..., to_db=True, top_db=None, dtype=float32)
  * fastmel_stream[160]     s = m.stream(); s.process(chunk) for 6000 chunks of 160 samples; s.flush()
  * fastmel_stream[1600]    the same in 600 chunks of 1600 samples
  * knf_online[160-numpy]   kaldi-native-fbank OnlineFbank: accept_waveform(sr, chunk), then
                            get_frame(i) for every newly ready frame; input_finished() at the end
  * knf_online[160-tolist]  the same with accept_waveform(sr, chunk.tolist()) (faster in knf)
  * knf_online[160-kaldi-defaults]  numpy chunks, Kaldi's default options (dither etc.): context only,
                            the setting the SPEC's "about 21 us per chunk" refers to
Times are per whole 60 s stream; extra_info holds n_chunks and the min per-chunk cost in us.
Targets: stream/offline throughput >= 0.35 (160) and >= 0.8 (1600); >= 10x knf per chunk.
``benchmarks/report.py`` prints these as a table with the ratios.

After timing, the concatenated stream output must equal the offline output bit for bit
(np.array_equal): a property of fastmel (SPEC section 1), so a mismatch fails the test.
"""

import numpy as np
import pytest

from conftest import (  # benchmarks/ is on sys.path (pytest rootdir-relative conftest import)
    KNF_CHUNK_SIZE,
    STREAM_CHUNK_SIZES,
    STREAM_WORKLOAD,
    WORKLOADS,
    import_knf,
    load_audio,
    make_fastmel_offline_nodb,
    make_fastmel_stream,
    make_knf_online,
    split_chunks,
)

pytestmark = pytest.mark.benchmark(min_rounds=20, warmup=True, warmup_iterations=3, disable_gc=True)

GROUP = f"{STREAM_WORKLOAD}-stream"


@pytest.fixture(scope="module")
def stream_workload():
    return WORKLOADS[STREAM_WORKLOAD]


@pytest.fixture(scope="module")
def stream_audio(stream_workload):
    return load_audio(stream_workload)


@pytest.fixture(scope="module")
def offline_nodb(fastmel_module, stream_workload, stream_audio):
    """fastmel's offline W1 dB spectrogram with top_db=None: the bit-exact stream reference."""
    return make_fastmel_offline_nodb(fastmel_module, stream_workload, stream_audio)()


@pytest.fixture(scope="module")
def knf_module():
    try:
        return import_knf()
    except ImportError as exc:
        pytest.skip(str(exc))


def _setup(benchmark, wl, kind, n_chunks, chunk):
    benchmark.group = GROUP
    benchmark.name = kind
    benchmark.extra_info.update(
        workload=wl.name, top_db=None, chunk=chunk, n_chunks=n_chunks, **wl.mel_kwargs()
    )


def _per_chunk(benchmark, n_chunks):
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    if stats is not None and n_chunks:
        benchmark.extra_info["us_per_chunk_min"] = stats.min / n_chunks * 1e6


def test_fastmel_offline(benchmark, fastmel_module, stream_workload, stream_audio, offline_nodb):
    wl = stream_workload
    n_ref_chunks = len(split_chunks(stream_audio, KNF_CHUNK_SIZE))
    _setup(benchmark, wl, "fastmel_offline", n_ref_chunks, None)
    benchmark.extra_info["per_chunk_is"] = f"total / {n_ref_chunks} (per {KNF_CHUNK_SIZE} samples of audio)"
    run = make_fastmel_offline_nodb(fastmel_module, wl, stream_audio)
    run()
    out = benchmark(run)
    _per_chunk(benchmark, n_ref_chunks)
    assert out.shape == (wl.n_mels, wl.n_frames) and out.dtype == np.float32, (out.shape, out.dtype)
    assert np.array_equal(out, offline_nodb), "offline output changed between calls"


@pytest.mark.parametrize("chunk", STREAM_CHUNK_SIZES, ids=[str(c) for c in STREAM_CHUNK_SIZES])
def test_fastmel_stream(benchmark, fastmel_module, stream_workload, stream_audio, offline_nodb, chunk):
    wl = stream_workload
    chunks = split_chunks(stream_audio, chunk)
    _setup(benchmark, wl, f"fastmel_stream[{chunk}]", len(chunks), chunk)
    run = make_fastmel_stream(fastmel_module, wl, chunks)
    run()
    outs = benchmark(run)
    _per_chunk(benchmark, len(chunks))
    assert len(outs) == len(chunks) + 1
    full = np.concatenate(outs, axis=-1)
    benchmark.extra_info["bit_exact_vs_offline"] = bool(
        full.shape == offline_nodb.shape and np.array_equal(full, offline_nodb)
    )
    assert full.shape == offline_nodb.shape, f"stream shape {full.shape} != offline {offline_nodb.shape}"
    assert full.dtype == offline_nodb.dtype, f"stream dtype {full.dtype} != offline {offline_nodb.dtype}"
    assert np.array_equal(full, offline_nodb), (
        f"stream output in {chunk}-sample chunks differs from offline "
        f"(max |diff| {np.abs(full.astype(np.float64) - offline_nodb).max():g})"
    )


@pytest.mark.parametrize("feed", ["numpy", "tolist", "kaldi-defaults"])
def test_knf_online(benchmark, knf_module, stream_workload, stream_audio, feed):
    wl = stream_workload
    chunks = split_chunks(stream_audio, KNF_CHUNK_SIZE)
    _setup(benchmark, wl, f"knf_online[{KNF_CHUNK_SIZE}-{feed}]", len(chunks), KNF_CHUNK_SIZE)
    benchmark.extra_info["knf_version"] = getattr(knf_module, "__version__", "?")
    run = make_knf_online(
        knf_module, wl, chunks, tolist=(feed == "tolist"), kaldi_defaults=(feed == "kaldi-defaults")
    )
    run()
    n_frames = benchmark(run)
    _per_chunk(benchmark, len(chunks))
    if feed == "kaldi-defaults":  # snip_edges=True: only whole windows
        assert n_frames == 1 + (wl.n_samples - wl.win_length) // wl.hop_length, n_frames
    else:  # snip_edges=False: round(n_samples / hop) frames (librosa's centre framing: one more)
        assert n_frames == (wl.n_samples + wl.hop_length // 2) // wl.hop_length, n_frames

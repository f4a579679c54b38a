"""pytest fixtures of fastmel's benchmarks; the workloads and candidates are in ``suite.py``.

Run the whole suite and its tables with ``python -m benchmarks.report`` (from the repository
root), or the timings alone with ``python -m pytest benchmarks --benchmark-only``.  A plain
``python -m pytest`` does not collect this folder (setup.cfg: ``testpaths = tests``).

Timed rounds: ``--benchmark-min-rounds`` (pytest-benchmark's option) for the candidates run
through :func:`bench`, after one warm-up round.  BLAS/OpenMP pools are held to one thread
for the whole session when threadpoolctl is installed.
"""
import os

import numpy as np
import pytest

import suite
from suite import (  # noqa: F401  (re-exported: the per-feature benchmark files import them)
    DB_TOLERANCE,
    WORKLOADS,
    Workload,
    knf_fbank_options,
    load_audio,
    max_db_error,
    split_chunks,
)


def bench(benchmark, cand, group, name, rounds, **info):
    """Time ``cand.run`` (``cand.setup`` untimed before every round) and return its output."""
    benchmark.group = group
    benchmark.name = name
    benchmark.extra_info.update(cand.info, **info)
    setup = cand.setup
    return benchmark.pedantic(cand.run, setup=(lambda: setup() and None) if setup else None,
                              rounds=rounds, warmup_rounds=1, iterations=1)


@pytest.fixture(scope="session")
def rounds(request):
    return max(1, int(request.config.getoption("benchmark_min_rounds")))


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    limits = suite.blas_one_thread()
    if limits is None:
        yield
    else:
        with limits:
            yield


def _peer(module, pip_name=None, hint=suite.INSTALL_HINT):
    try:
        return suite.import_peer(module, pip_name, hint)
    except ImportError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def fastmel_module():
    import fastmel  # not a peer: if it does not import, that is the error to see

    return fastmel


@pytest.fixture(scope="session")
def librosa_module():
    return _peer("librosa")


@pytest.fixture(scope="session")
def scipy_signal():
    return _peer("scipy.signal", "scipy")


@pytest.fixture(scope="session")
def knf_module():
    return _peer("kaldi_native_fbank", "kaldi-native-fbank")


@pytest.fixture(scope="session")
def pedalboard_module():
    return _peer("pedalboard")


@pytest.fixture(scope="session")
def audioflux_module():
    return _peer("audioflux")


@pytest.fixture(scope="session")
def torch_module():
    # optional, and large: not in the bench extra
    return _peer("torch", hint="python -m pip install torch torchaudio (CPU wheels suffice)")


@pytest.fixture(scope="session", params=list(WORKLOADS), ids=list(WORKLOADS))
def workload(request) -> Workload:
    return WORKLOADS[request.param]


@pytest.fixture(scope="session")
def audio(workload) -> np.ndarray:
    return load_audio(workload)


@pytest.fixture(scope="session")
def librosa_reference(librosa_module, workload, audio) -> np.ndarray:
    """librosa's dB mel spectrogram of the workload (also warms numba up)."""
    return suite.librosa_logmel(librosa_module, workload, audio).run()


def pytest_benchmark_update_machine_info(config, machine_info):
    """The CPU model, load and rounds, for report.py's table header."""
    env = suite.environment()
    try:
        env["load"] = "/".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        pass
    env["rounds"] = int(config.getoption("benchmark_min_rounds"))
    machine_info["fastmel"] = env


def pytest_report_header(config):
    env = suite.environment()
    return [f"fastmel benchmarks on {env['cpu']} ({env['cpus']} CPUs), Python {env['python']}, "
            f"numpy {env['numpy']}; workloads: "
            + "; ".join(wl.label for wl in WORKLOADS.values())]

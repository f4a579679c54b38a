"""torchaudio for the reference tests, imported without its compiled extension.

PyPI's torchaudio wheels are CUDA builds: their extension (torchaudio.lib._torchaudio)
links libtorch_cuda.so, which a CPU build of torch does not have, so a plain
``import torchaudio`` fails beside a CPU torch.  The references the tests use
(transforms.MelSpectrogram, transforms.MFCC, compliance.kaldi) are pure Python
over torch and never call the extension, and torchaudio skips loading it when
``importlib.util.find_spec`` cannot find it (torchaudio/_extension/__init__.py).
"""
import importlib.util
import sys

import pytest

_EXTENSION = "torchaudio.lib._torchaudio"


def import_torchaudio():
    """torchaudio (with torch's default dtype float32), or a pytest skip when
    torch or torchaudio is not installed."""
    pytest.importorskip("torch", reason="torch is not installed (optional: tests/test_torchaudio.py)")
    if "torchaudio" not in sys.modules:
        if importlib.util.find_spec("torchaudio") is None:
            pytest.skip("torchaudio is not installed (optional: tests/test_torchaudio.py)")
        find_spec = importlib.util.find_spec

        def without_extension(name, *args, **kwargs):
            return None if name == _EXTENSION else find_spec(name, *args, **kwargs)

        importlib.util.find_spec = without_extension
        try:
            import torchaudio  # noqa: F401
        finally:
            importlib.util.find_spec = find_spec
    return sys.modules["torchaudio"]

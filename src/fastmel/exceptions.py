"""fastmel's exception types."""
# ParameterError is defined in the compiled input checks, which raise it; this
# is its public home.
from fastmel._checks import ParameterError

__all__ = ["ParameterError"]


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)

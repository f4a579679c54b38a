"""fastmel's exception types."""
# ParameterError is defined in the compiled input checks, which raise it; this
# is its public home.
from fastmel._checks import ParameterError

__all__ = ["ParameterError"]

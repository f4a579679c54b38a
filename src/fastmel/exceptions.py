"""fastmel's exception types."""

__all__ = ["ParameterError"]


class ParameterError(ValueError):
    """A parameter or a piece of data that fastmel cannot work with.

    The message names the parameter, the value received and what is allowed.
    """

from collections.abc import Iterable
from typing import Any, Protocol, type_check_only

from typing_extensions import disjoint_base

from fastmel._streambase import Stream

@type_check_only
class _Stage(Protocol):
    # What a Chain takes besides fastmel's streams: the protocol's three calls
    # (``latency`` and ``stream()`` are used when present).
    def process(self, chunk: Any, /) -> Any: ...
    def flush(self) -> Any: ...
    def reset(self) -> Any: ...

@disjoint_base
class ChainStream(Stream):
    @property
    def stages(self) -> tuple[_Stage, ...]: ...
    def __init__(self, stages: Iterable[_Stage]) -> None: ...

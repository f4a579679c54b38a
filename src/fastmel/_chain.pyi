from collections.abc import Iterable

from fastmel._streambase import Stream

class ChainStream(Stream):
    stages: tuple[object, ...]
    def __init__(self, stages: Iterable[object]) -> None: ...

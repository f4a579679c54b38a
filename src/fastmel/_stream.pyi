from typing_extensions import Self, disjoint_base

from fastmel._analysis import Framing
from fastmel._spectral import SpectralKernel
from fastmel._streambase import Stream

@disjoint_base
class FrameStream(Stream):
    @property
    def n_out(self) -> int: ...
    @property
    def extractor(self) -> object: ...
    # Cython's __cinit__: the arguments are taken by tp_new.
    def __new__(cls, owner: object, kernel: SpectralKernel, framing: Framing) -> Self: ...

from fastmel._spectral import SpectralKernel
from fastmel._streambase import Stream

class FrameStream(Stream):
    n_out: int
    extractor: object
    def __init__(self, owner: object, kernel: SpectralKernel, framing: object) -> None: ...

class RealPlan:
    n_fft: int
    n_bins: int
    is_double: bool
    inverse: bool
    def __init__(self, n_fft: int, is_double: bool, inverse: bool = ...) -> None: ...

def get_plan(n_fft: int, is_double: bool, inverse: bool = ...) -> RealPlan: ...

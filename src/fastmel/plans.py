"""How fastmel chooses its FFT plans, and what that promises about the bits.

FFTW computes the same transform with different algorithms (codelets, radix
orders, SIMD instruction sets), and each rounds differently in the last bits.
Which one is fastest depends on the CPU, so a plan timed on one machine can be
1.5x slower on another; a plan timed at every start would make two processes
on the same machine disagree.  fastmel therefore has two plan modes:

``"machine"`` (the default)
    Each transform size is tuned once per machine: ``FFTW_MEASURE``
    searches, bounded by :data:`TUNE_TIME_LIMIT` seconds per size, precision
    and direction (a first search that runs out of time gets
    ``FFTW_ESTIMATE``'s plan, as FFTW does; sizes above :data:`TUNE_MAX_SIZE`
    use ``FFTW_ESTIMATE``, which times nothing), repeated while they are cheap
    (:data:`TUNE_SEARCHES`, :data:`TUNE_REPEAT_BUDGET`); the plans they found
    and the portable plan are then timed by fastmel and the fastest is kept,
    so that one search disturbed by a busy machine cannot keep a slow plan.
    The result is stored in a per-user cache directory, keyed by the CPU model,
    its instruction-set flags, the FFTW build and :data:`PLAN_FORMAT`.  Every
    process on the machine then builds its plans from that file, so they all
    compute identical bits: a stream pickled in one process and resumed in
    another, or local Dask workers, agree with each other and with a single
    process.  The first process to need a size tunes it under a file lock;
    one that loses the race uses the winner's plan, never its own.  The
    directory is ``$FASTMEL_CACHE_DIR``, else ``$XDG_CACHE_HOME/fastmel``,
    else ``~/.cache/fastmel``.  If it cannot be written, fastmel warns once
    (:class:`PlanCacheWarning`) and uses portable plans in that process.  A
    damaged cache file is detected (format and checksums) and its plans are
    tuned again.

``"portable"``
    Plans come from the wisdom shipped in ``fastmel/data`` (made by
    ``scripts/make_fftw_wisdom.py``), so every machine that can load it runs
    the same plans and gives identical bits.  pyFFTW's FFTW 3.3.5 has SSE2
    and AVX codelets (no AVX2, FMA or AVX-512 ones), and the shipped plans
    use both: every x86-64 CPU with AVX (Intel since Sandy Bridge, AMD since
    Bulldozer) loads them.  FFTW refuses them on a CPU without AVX, because
    it signs wisdom with the solvers it registered and registers its AVX
    codelets only where AVX exists; there, and for sizes the wisdom does not
    cover, ``FFTW_ESTIMATE`` plans are used, which pick codelets by the
    CPU's instruction sets too, and fastmel warns once
    (:class:`PlanCacheWarning`).  Portable plans are slower than tuned ones
    on most CPUs (up to 1.5x in the FFT).

Choose the mode with the environment variable ``FASTMEL_PLANS`` (``machine``
or ``portable``), inherited by worker processes, or with
:func:`set_plan_mode` before the process makes its first plan.  Within a
process, every object uses the plans of one mode, so a stream and the
offline function agree bit for bit in either mode; processes that must agree
with each other must use the same mode.

FFTW's wisdom is global to the process: fastmel plans with only its own
wisdom loaded and restores whatever wisdom was there before, so other
pyFFTW users in the process neither see nor change fastmel's plans.
"""
from fastmel._plan import (PLAN_FORMAT, TUNE_MAX_SIZE, TUNE_REPEAT_BUDGET, TUNE_SEARCHES,
                           TUNE_TIME_LIMIT, PlanCacheWarning, get_plan_mode, machine_key,
                           plan_cache_file, set_plan_mode)

__all__ = ["set_plan_mode", "get_plan_mode", "plan_cache_file", "machine_key",
           "PlanCacheWarning", "PLAN_FORMAT", "TUNE_TIME_LIMIT", "TUNE_MAX_SIZE", "TUNE_SEARCHES",
           "TUNE_REPEAT_BUDGET"]


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)

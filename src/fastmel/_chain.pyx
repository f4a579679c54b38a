"""Chains of streaming stages, as one stream.

A chunk is checked once, at the chain's input (the stream base's acceptance);
each fastmel stage then takes the output of the one before through its
unchecked entry (``Stream.feed``: the layout is verified, the samples are
not scanned again: every stage's output is finite by its own guarantee), and
every stage but the last keeps a checkpoint of the call.  A stage that refuses
its input leaves itself unchanged and the stages before it are taken back:
the chain commits all stages or none.
"""
import copy
import functools

import numpy as np

cimport numpy as cnp

from fastmel._checks import ParameterError
from fastmel._streambase cimport Chunk, Stream, enter, leave

cnp.import_array()

_PROTOCOL = ("process", "flush", "reset")


cdef class ChainStream(Stream):
    """Streaming stages run one after another (see fastmel.Chain)."""

    cdef readonly tuple stages
    """The stages, in order, as given (a tuple)."""
    cdef list engines                    # per stage: the Stream, or None for other objects
    cdef bint keeping                    # the next call is to be kept (a chain in a chain)
    cdef bint kept                       # the last call was kept: every stage can take it back

    def __init__(self, stages):
        stages = list(stages)
        if not stages:
            raise ParameterError("a Chain needs at least one stage")
        for i, stage in enumerate(stages):
            missing = [name for name in _PROTOCOL if not callable(getattr(stage, name, None))]
            if missing:
                raise ParameterError(
                    f"stage {i} ({type(stage).__name__}) is not a stream: it lacks "
                    f"{', '.join(missing)}")
        members = [id(stage) for stage in _members(stages)]
        if len(set(members)) < len(members):
            raise ParameterError("a stage appears twice in the chain; give each place its own "
                                 "stream (stage.stream())")
        for i, stage in enumerate(stages):
            if isinstance(stage, Stream) and (<Stream>stage).is_complex:
                raise ParameterError(
                    f"stage {i} ({stage!r}) takes frames of complex spectra, not samples: it "
                    f"cannot be in a Chain (feed its output to the chain instead)")
        self.stages = tuple(stages)
        self.engines = [stage if isinstance(stage, Stream) else None for stage in stages]
        self.link()

    cdef int link(self) except -1:
        """Check that each stage takes what the one before gives (samples, or
        frames after a feature stream; real frames where a stage takes frames:
        not an STFT's complex ones), and take the chain's shape from its
        ends: it takes what its first stage takes, gives what its last gives,
        and its latency, in its input's units, adds the stages' latencies, each
        scaled by the input items per item that reach that stage."""
        cdef Stream st
        cdef Py_ssize_t i, hop = 1
        gives_frames = False
        gives = np.dtype(np.float32)         # what the stages give float32 input
        lag = 0
        for i, stage in enumerate(self.stages):
            st = self.engines[i]
            takes_frames = st is not None and st.frames_in
            if i and takes_frames and gives.kind == "c":
                raise ParameterError(
                    f"stage {i} ({stage!r}) takes real frames, but stage {i - 1} "
                    f"({self.stages[i - 1]!r}) gives complex ones (an STFT's)")
            if i and takes_frames != gives_frames:
                before = self.stages[i - 1]
                if gives_frames:
                    raise ParameterError(
                        f"stage {i} ({stage!r}) takes samples, but stage {i - 1} ({before!r}) "
                        f"gives frames: a feature stream can only be followed by stages that "
                        f"take frames (fastmel.Delta)")
                raise ParameterError(
                    f"stage {i} ({stage!r}) takes frames (..., n_features, j), but stage "
                    f"{i - 1} ({before!r}) gives samples: put it after a feature stream")
            lag += int(getattr(stage, "latency", 0)) * hop
            if st is not None:
                hop *= st.hop
                gives_frames = st.frames_out
                gives = _gives(st, gives)
        st = self.engines[0]
        self.frames_in = st is not None and st.frames_in
        self.frames_out = gives_frames
        self.hop = hop
        # the chain's frames are its last stage's (an empty flush at rest too)
        st = self.engines[len(self.engines) - 1]
        if st is not None:
            self.n_out = st.n_out
        self.lag = lag
        return 0

    def __repr__(self):
        label = f"{type(self).__name__}([{', '.join(repr(s) for s in self.stages)}])"
        if self.lead_shape is None:
            return label
        return (f"<{label} after {self.n_in} {self.unit()} of leading shape {self.lead_shape}, "
                f"{self.work_dtype}>")

    def stream(self):
        """A new chain of new streams of the same stages, at rest."""
        return type(self)([stage.stream() if hasattr(stage, "stream") else _fresh_copy(stage)
                           for stage in self.stages])

    cdef object engine_dtype(self, object dtype):
        # what the last stage gives (where fastmel's stages say: others keep it)
        cdef Stream st
        for st in self.engines:
            if st is not None:
                dtype = _gives(st, dtype)
        return dtype

    cdef int engine_save(self, Py_ssize_t k) except -1:
        # this chain is a stage of another: its last stage keeps the call too
        self.keeping = True
        return 0

    cdef int engine_undo(self) except -1:
        cdef Stream st
        if self.kept:
            for st in self.engines:
                if st is not None:
                    st._rollback()
        self.kept = False
        return 0

    cdef object engine_out_lead(self, tuple lead):
        cdef Stream st
        for st in self.engines:
            if st is None:
                return None                  # (engine_count refuses such chains first)
            got = st.engine_out_lead(lead)
            lead = got if got is not None else lead + ((st.n_out,) if st.n_out else ())
        return lead

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        # each stage's output is the next one's chunk
        cdef Stream st
        for st in self.engines:
            if st is None:
                return -1
            k = st.engine_count(k)
            if k < 0:
                return -1
        return k

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef Py_ssize_t i, n = len(self.stages), passed = 0
        cdef Stream st
        cdef bint keep_all = self.keeping
        self.keeping = False
        self.kept = False
        out = x
        if x.ndim != self.lead_nd + 1:
            out = x.reshape(self.lead_shape + (c.k,))
        try:
            for i in range(n):
                st = self.engines[i]
                if st is None:
                    out = self.stages[i].process(out)
                else:
                    enter(&st.busy, st)
                    try:
                        out = st.feed(out, keep_all or i < n - 1, True)
                    finally:
                        leave(&st.busy)
                passed = i + 1
        except BaseException:
            for i in range(n):
                st = self.engines[i]
                if st is not None:
                    if i < passed and (keep_all or i < n - 1):
                        st._rollback()
                elif self.n_in == 0:
                    # another kind of stage (the one that failed part-way
                    # included) can only be taken back to its start
                    self.stages[i].reset()
            raise
        self.kept = keep_all
        self.n_in += c.k
        return out

    cdef object owed(self):
        """The first stage's flush goes through the rest, then the next stage
        flushes, and so on (at rest too: each stage returns its own empty result).

        A stage that raises is unchanged, but the stages before it have
        flushed: they are put back from their states, saved before each is
        touched (other kinds of stage cannot be), so a flush that raises
        leaves the chain as it was.
        """
        cdef Py_ssize_t touched = 0
        saved = []
        try:
            carry = None
            for stage in self.stages:
                saved.append(_saved(stage))
                parts = []
                if carry is not None and carry.shape[-1]:
                    parts.append(stage.process(carry))
                touched = len(saved)
                parts.append(stage.flush())
                parts = [p for p in parts if p.shape[-1]] or parts[-1:]
                carry = np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
        except BaseException:
            for stage, state in zip(self.stages[:touched], saved):
                _put_back(stage, state)
            raise
        return carry

    cdef int restart(self) except -1:
        self.clear()
        for stage in self.stages:
            stage.reset()
        return 0

    cdef object rebuilder(self):
        # the stages pickle (and, restored, check) their own state
        return functools.partial(type(self), list(self.stages))


def _members(stages):
    """The stages and, recursively, the stages of the chains among them."""
    for stage in stages:
        yield stage
        if isinstance(stage, ChainStream):
            yield from _members(stage.stages)


def _saved(stage):
    """A fastmel stream's state as it pickles it (a chain's with its stages'), or
    None for another kind of stage."""
    if not isinstance(stage, Stream):
        return None
    own = stage.__reduce__()[1][-1]
    if isinstance(stage, ChainStream):
        return own, [_saved(s) for s in stage.stages]
    return own


def _put_back(stage, state):
    """Install a state from _saved."""
    if not isinstance(stage, Stream):
        return
    if isinstance(stage, ChainStream):
        state, inner = state
        for s, st in zip(stage.stages, inner):
            _put_back(s, st)
    stage._set_state(state)


def _fresh_copy(stage):
    fresh = copy.deepcopy(stage)
    fresh.reset()
    return fresh


cdef object _gives(Stream st, object dtype):
    """What stage ``st`` gives for chunks of ``dtype``: a stage with a working
    dtype of its own converts them to it first."""
    return st.engine_dtype(st.fixed_dtype if st.fixed_dtype is not None else dtype)

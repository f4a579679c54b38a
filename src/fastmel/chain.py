"""Chains of streaming stages: sound -> room -> noise -> microphone -> features."""
import numpy as np

from fastmel import _checks
from fastmel._streambase import InUse, check_state_lead
from fastmel.exceptions import ParameterError

__all__ = ["Chain"]

_PROTOCOL = ("process", "flush", "reset")


class Chain:
    """Streaming stages run one after another, as one stream.

    Each ``process`` output feeds the next stage; ``flush()`` flushes the
    first stage, pushes what it owes through the rest, then flushes the next,
    and so on, so the chain's total output equals running each stage
    offline in turn.  A feature stream (``MelSpectrogram(...).stream()``) can
    only be last: it turns samples into frames.

    Parameters
    ----------
    stages : sequence of streams
        Objects with ``process``, ``flush``, ``reset`` (and ``latency``).

    Examples
    --------
    >>> chain = fastmel.Chain([fastmel.Convolver(rir), fastmel.NoiseMixer(noise, gain=0.1),
    ...                        fastmel.Bandpass(16000, 100, 7000),
    ...                        fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160).stream()])
    >>> frames = [chain.process(c) for c in chunks] + [chain.flush()]
    """

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
        self.stages = stages
        self._layout = _checks.ChannelLayout()
        self._in_use = InUse(self)

    @property
    def latency(self):
        """Total look-ahead of the stages, in input samples."""
        return sum(int(getattr(stage, "latency", 0)) for stage in self.stages)

    def process(self, chunk):
        """Feed a chunk through every stage; returns the last stage's output.

        The chunk is checked once up front (dtype, finite samples, the chain's
        channel layout).  A chunk that any stage rejects (a channel count its
        impulse responses do not fit, or an overflow) leaves every stage as it
        was: the chain goes on as if the call never happened.  Stages other than
        fastmel's (no ``_checkpoint``) are only taken back on a first chunk, by
        ``reset()``.

        Raises
        ------
        RuntimeError
            Another thread is inside this chain.
        """
        with self._in_use:
            return self._process(chunk)

    def _process(self, chunk):
        x, lead = self._layout.check(chunk)
        x = x.reshape(lead + (x.shape[-1],))
        first = self._layout.lead is None
        last = len(self.stages) - 1
        passed = []
        try:
            for i, stage in enumerate(self.stages):
                # A stage refusing the chunk leaves itself unchanged; the stages
                # before it, which took the chunk, are taken back to their
                # checkpoints.  The last stage needs none: nothing follows it.
                checkpoint = getattr(stage, "_checkpoint", None) if i < last else None
                if checkpoint is not None:
                    checkpoint(x.shape[-1])
                x = stage.process(x)
                passed.append(stage if checkpoint is not None else None)
        except Exception:
            for i, stage in enumerate(self.stages):
                taken = passed[i] if i < len(passed) else None
                if taken is not None:
                    taken._rollback()
                elif first:
                    # a stage of another kind (the one that failed part-way
                    # included) can only be taken back from its start
                    stage.reset()
            raise
        self._layout.accept(lead)
        return x

    def flush(self):
        """End of stream for every stage, in order; returns what the chain still owes."""
        with self._in_use:
            return self._flush()

    def _flush(self):
        carry = None
        for stage in self.stages:
            parts = []
            if carry is not None and carry.shape[-1]:
                parts.append(stage.process(carry))
            parts.append(stage.flush())
            parts = [p for p in parts if p.shape[-1]] or parts[-1:]
            carry = np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
        self._layout = _checks.ChannelLayout()
        return carry

    def reset(self):
        """Reset every stage."""
        with self._in_use:
            self._layout = _checks.ChannelLayout()
            for stage in self.stages:
                stage.reset()

    def __reduce__(self):
        with self._in_use:
            return (_restore, (list(self.stages), self._layout.lead))


def _restore(stages, lead):
    """A chain from pickled stages (each restored, and checked, by its own
    pickling) and the chain's leading shape (checked here)."""
    if type(stages) is not list:
        raise ValueError(f"fastmel: restored stream state: stages must be a list, "
                         f"got {type(stages).__name__}")
    chain = Chain(stages)
    if lead is not None:
        chain._layout.accept(check_state_lead(lead))
    return chain

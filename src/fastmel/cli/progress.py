"""A small progress line for long commands (no dependency).

Shown on stderr only when it is a terminal and the user did not ask for quiet;
it redraws at most ten times a second.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Files done out of a total, audio hours per second and the time left."""

    def __init__(self, total: int, *, quiet: bool = False,
                 stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total = total
        self.done = 0
        self.audio_seconds = 0.0
        self.start = time.monotonic()
        self._drawn = 0.0

    def update(self, files: int = 1, audio_seconds: float = 0.0) -> None:
        self.done += files
        self.audio_seconds += audio_seconds
        now = time.monotonic()
        if self.enabled and (now - self._drawn >= 0.1 or self.done == self.total):
            self._drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        rate = self.audio_seconds / 3600.0 / elapsed
        eta = (self.total - self.done) * elapsed / self.done if self.done else 0.0
        line = (f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} files, "
                f"{rate:.3f} h audio/s, ETA {_clock(eta)} ")
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.start

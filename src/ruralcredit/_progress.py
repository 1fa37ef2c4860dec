"""A progress bar for long work on the command line (layer 5, private).

On a terminal it redraws one line in place::

    [##########..........]  5/10   3.1 s  features and scores: household

elsewhere (a log file, CI) it writes one line per step, so the record of what ran stays readable::

    [ 5/10]   3.1 s  features and scores: household

It is a plain callable taking a message, so it can be passed wherever a ``progress`` callback is taken
(:func:`ruralcredit.pipeline.run_county`).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 20


class ProgressBar:
    """Count steps towards a known total and show each one with the elapsed time.

    Parameters
    ----------
    total : int, optional
        Steps expected; ``None`` shows the count only. Steps past the total raise the total (an
        estimate that was short never shows more than 100 %).
    stream : text stream, optional
        Where to write (default: standard error, so standard output stays the command's result).
    """

    def __init__(self, total: int | None = None, stream: TextIO | None = None) -> None:
        if total is not None and total < 0:
            raise ValueError(f"total must be >= 0, got {total}")
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._t0 = time.perf_counter()
        self._live = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, message: str) -> None:
        """Start the next step, described by ``message``."""
        self.done += 1
        if self.total is not None and self.done > self.total:
            self.total = self.done
        self.stream.write(self.render(message))
        self.stream.flush()

    def render(self, message: str) -> str:
        """The text written for the current step (with ``\\r`` on a terminal, a newline elsewhere)."""
        elapsed = time.perf_counter() - self._t0
        if self.total is None:
            counter = f"[{self.done:>2}]"
        else:
            width = len(str(self.total))
            counter = f"[{self.done:>{width}}/{self.total}]"
        if not self._live:
            return f"  {counter} {elapsed:6.1f} s  {message}\n"
        filled = _WIDTH if not self.total else round(_WIDTH * self.done / self.total)
        bar = "#" * filled + "." * (_WIDTH - filled)
        return f"\r\x1b[2K[{bar}] {counter[1:-1].strip()} {elapsed:6.1f} s  {message}"

    def close(self) -> None:
        """End the bar's line on a terminal (nothing to do elsewhere)."""
        if self._live and self.done:
            self.stream.write("\n")
            self.stream.flush()

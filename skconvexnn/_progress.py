"""What a solver says while it runs (``verbose``).

- ``verbose=0``: nothing.
- ``verbose=1``: a progress bar on one line (redrawn in place on a terminal, a new line
  at most every few seconds otherwise): iterations, objective, relative duality gap,
  and how far the gap has come towards ``tol`` (on a log scale).
- ``verbose>=2``: one log line per update.
"""

import math
import sys
import time

#: Seconds between redraws on a terminal, and between lines elsewhere.
_TTY_INTERVAL = 0.1
_LOG_INTERVAL = 2.0
_WIDTH = 20


class Progress:
    """Progress of one solve towards a relative duality gap ``tol``.

    Parameters
    ----------
    verbose : int
    max_iter : int
    tol : float
    label : str, default="skconvexnn"
    stream : file, default=None
        Where to write; ``sys.stdout`` when None (as scikit-learn's ``verbose``).
    """

    def __init__(self, verbose, max_iter, tol, label="skconvexnn", stream=None):
        self.verbose = int(verbose)
        self.max_iter = max_iter
        self.tol = tol
        self.label = label
        self.stream = sys.stdout if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self._last_draw = -math.inf
        self._first_gap = None
        self._gap = math.nan
        self._drawn = False

    def _fraction(self, gap):
        if self._first_gap is None or not gap > 0:
            return 1.0 if gap == 0 else 0.0
        if self._first_gap <= self.tol or gap <= self.tol:
            return 1.0
        return max(0.0, min(1.0, math.log(self._first_gap / gap)
                            / math.log(self._first_gap / self.tol)))

    def update(self, n_iter, objective, gap=None, note="", force=False):
        """Report iteration ``n_iter``; ``gap`` (relative) when a certificate was
        computed, else the last one is shown."""
        if self.verbose <= 0:
            return
        if gap is not None:
            self._gap = gap
            if self._first_gap is None and gap > 0 and math.isfinite(gap):
                self._first_gap = gap
        now = time.perf_counter()
        if self.verbose == 1 and not force and now - self._last_draw < (
                _TTY_INTERVAL if self.tty else _LOG_INTERVAL):
            return
        self._last_draw = now
        text = (f"iter {n_iter:>6d}/{self.max_iter}  objective {objective:.8g}  "
                f"relative gap {self._gap:.2e} (tol {self.tol:.0e})  "
                f"{now - self.start:6.1f} s")
        if note:
            text += f"  {note}"
        if self.verbose == 1:
            filled = int(round(_WIDTH * self._fraction(self._gap)))
            text = f"[{self.label}] |{'#' * filled}{'.' * (_WIDTH - filled)}| {text}"
            if self.tty:
                self.stream.write("\r" + text + "\033[K")
            else:
                self.stream.write(text + "\n")
        else:
            self.stream.write(f"[{self.label}] {text}\n")
        self._drawn = True
        self.stream.flush()

    def close(self, n_iter, objective, gap, status):
        """The final line: ``status`` says how the solve ended."""
        if self.verbose <= 0:
            return
        self.update(n_iter, objective, gap, note=status, force=True)
        if self.verbose == 1 and self.tty:
            self.stream.write("\n")
            self.stream.flush()

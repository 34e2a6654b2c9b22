"""Memory planned before a solve: the estimate of its largest arrays, and the check.

Each program states what a solve allocates in terms of the data's shape (``n`` rows,
``d`` columns with the intercept), the number of gates ``P``, of outputs ``c``, and the
dtype (:meth:`skconvexnn.programs.ConvexProgram.memory_plan`); :func:`check_memory_plan`
compares the total with the budget (:func:`skconvexnn.set_config`) before any work.
The estimates are upper bounds by design: a test compares them with the peak that
``tracemalloc`` traces over a grid of shapes for every program.
"""

from dataclasses import dataclass

from ._config import memory_budget

#: Interpreter-side overhead of a solve not proportional to the data (lists, small arrays).
BASE_BYTES = 2 * 2**20


class MemoryBudgetError(MemoryError, ValueError):
    """A solve would need more memory than the budget allows (raised before any work)."""


@dataclass
class MemoryPlan:
    """The estimated largest allocations of one solve, in bytes, by what they hold."""

    terms: dict

    @property
    def total(self):
        return BASE_BYTES + sum(self.terms.values())

    def describe(self):
        """The terms, largest first, in readable units."""
        parts = sorted(self.terms.items(), key=lambda item: -item[1])
        return ", ".join(f"{name} {_readable(size)}" for name, size in parts if size)


def _readable(size):
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:.0f} B"


def check_memory_plan(plan, program, shape, n_gates, n_outputs):
    """Raise :class:`MemoryBudgetError` if ``plan`` exceeds the memory budget.

    The message says what was asked, what it would need and what to change.
    """
    budget = memory_budget()
    if plan.total <= budget:
        return
    n, d = shape
    raise MemoryBudgetError(
        f"{type(program).__name__} on {n} x {d} data with {n_gates} gates and "
        f"{n_outputs} output(s) would need about {_readable(plan.total)} "
        f"({plan.describe()}), more than the memory budget of {_readable(budget)}. "
        f"Use fewer patterns (n_patterns) or features, float32 data, or raise the "
        f"budget with skconvexnn.set_config(memory_budget=...) if the machine has the "
        f"memory.")

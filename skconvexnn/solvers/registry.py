"""The solvers, as objects that say what they solve and what they need, in one registry.

A solver says which kind of program it solves (``solves``: ``"group_lasso"`` for the
gated and ReLU programs, ``"robust"`` for the robust one; a program says its kind and
its default solver), what it asks of the loss (``loss_needs``: attributes of
:class:`~skconvexnn.losses.Loss`, such as a gradient for FISTA) and, for the group-lasso
programs, the method run on the groups in play (``inner``) and whether a working set
of groups grows around it. A new inner method (a second-order one, say) is a function
and one entry here; a :class:`Solver` object can also be passed as ``solver``.
"""

from dataclasses import dataclass, field

from .admm import admm, admm_memory
from .fista import fista
from .reweighting import reweighting, reweighting_memory


@dataclass(frozen=True)
class Solver:
    """One solver of the convex programs.

    Attributes
    ----------
    name : str
        What the ``solver`` parameters take.
    solves : str
        The kind of program it solves (``"group_lasso"`` or ``"robust"``).
    summary : str
        One line for error messages and docs.
    loss_needs : dict
        Attributes a loss must have, with their values (``{"smooth": True}``).
    inner : callable or None
        For the group-lasso programs: the method run on the groups in play, with
        :func:`~skconvexnn.solvers.fista.fista`'s signature. A result with a
        ``momentum`` (FISTA's) gets it back, moved to the next working set, as
        ``momentum=`` of the next run.
    working_set : bool
        Whether the groups in play grow as a working set (else: all of them).
    programs : tuple of str
        Names of the programs of its kind it solves (empty: all of them).
    memory : callable or None
        ``memory(n_samples, n_features, n_patterns, n_outputs)``: bytes of the arrays
        the solver adds to the program's own (a dict by what they hold), planned
        before the solve.
    """

    name: str
    solves: str
    summary: str
    loss_needs: dict = field(default_factory=dict)
    inner: object = None
    working_set: bool = False
    programs: tuple = ()
    memory: object = None

    def check_loss(self, loss):
        """Raise ValueError if ``loss`` (a specification) lacks what this solver needs."""
        missing = [_NEEDS.get(need, need) for need, value in self.loss_needs.items()
                   if getattr(loss, need) != value]
        if missing:
            raise ValueError(f"loss={loss.name!r} does not suit solver {self.name!r} "
                             f"({self.summary}), which needs {' and '.join(missing)}.")

    def check_program(self, program):
        """Raise ValueError if this solver does not solve ``program``."""
        if self.programs and program.name not in self.programs:
            names = " and ".join(self.programs)
            plural = "s" if len(self.programs) > 1 else ""
            raise ValueError(f"solver {self.name!r} ({self.summary}) solves only the "
                             f"{names} program{plural}, not the {program.name} one: use "
                             f"'auto'.")


#: What each loss ability means, for error messages.
_NEEDS = {"smooth": "a loss with a gradient",
          "quadratic": "the squared-error loss",
          "bounded_curvature": "a loss of bounded curvature (a quadratic majorizer)",
          "robust": "a loss with a worst case over the l_inf ball"}


#: Every solver, by name.
SOLVERS = {solver.name: solver for solver in (
    Solver("working_set", "group_lasso", "FISTA on a working set of groups grown from the full gradient",
           loss_needs={"smooth": True}, inner=fista, working_set=True),
    Solver("fista", "group_lasso", "FISTA on every group", loss_needs={"smooth": True}, inner=fista),
    Solver("reweighting", "group_lasso",
           "iterative reweighting of the gated program's kernels (multiple kernel "
           "learning) on a working set of groups",
           loss_needs={"quadratic": True}, inner=reweighting, working_set=True,
           programs=("gated", "three_layer_gated"), memory=reweighting_memory),
    Solver("admm", "group_lasso",
           "ADMM on every group with one factorisation and no cone projections (Bai, "
           "Gautam & Sojoudi 2022)",
           loss_needs={"smooth": True, "bounded_curvature": True}, inner=admm,
           programs=("gated", "relu"), memory=admm_memory),
    Solver("pdhg", "robust", "restarted primal-dual hybrid gradient (the robust program)",
           loss_needs={"robust": True}),
)}


def solver_names(kind):
    """Names of the registered solvers of programs of ``kind``."""
    return tuple(name for name, solver in SOLVERS.items() if solver.solves == kind)


def resolve_solver(solver, kind, default):
    """The :class:`Solver` for a program of ``kind`` (``"group_lasso"`` or
    ``"robust"``): ``solver`` is a name of :data:`SOLVERS`, ``"auto"`` (``default``) or
    a :class:`Solver`. ValueError if it does not solve that kind of program."""
    if solver == "auto":
        solver = default
    if not isinstance(solver, Solver):
        if solver not in SOLVERS:
            raise ValueError(f"solver must be 'auto', a Solver or one of "
                             f"{list(solver_names(kind))}; got {solver!r}.")
        solver = SOLVERS[solver]
    if solver.solves != kind:
        raise ValueError(f"solver {solver.name!r} solves {solver.solves} programs, not "
                         f"this {kind} one: use 'auto' or one of "
                         f"{list(solver_names(kind))}.")
    return solver

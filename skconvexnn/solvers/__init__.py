"""Solvers of the convex programs; each returns weights, objective and certificate."""

from .fista import FistaResult, fista
from .registry import SOLVERS, Solver, resolve_solver, solver_names
from .working_set import GroupLassoResult, solve_group_lasso

__all__ = ["FistaResult", "GroupLassoResult", "SOLVERS", "Solver", "fista", "resolve_solver",
           "solve_group_lasso", "solver_names"]

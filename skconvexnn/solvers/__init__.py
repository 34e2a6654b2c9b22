"""Solvers of the convex programs; each returns weights, objective and certificate."""

from .fista import FistaResult, fista
from .working_set import SOLVERS, GroupLassoResult, solve_group_lasso

__all__ = ["FistaResult", "GroupLassoResult", "SOLVERS", "fista", "solve_group_lasso"]

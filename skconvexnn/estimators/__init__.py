"""scikit-learn estimators over the convex solvers: thin classes sharing one fit helper."""

from ._gated import GatedReLUClassifier, GatedReLURegressor

__all__ = ["GatedReLUClassifier", "GatedReLURegressor"]

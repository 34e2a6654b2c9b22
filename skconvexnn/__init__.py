"""skconvexnn: two-layer ReLU networks trained to the global optimum, as scikit-learn estimators."""

__version__ = "0.1.0.dev0"

from .estimators import (ConvexReLUClassifier, ConvexReLURegressor, GatedReLUClassifier,
                         GatedReLURegressor)
from .functional import GatedReLUSolution, ReLUSolution, solve_gated_relu, solve_relu

__all__ = [
    "ConvexReLUClassifier",
    "ConvexReLURegressor",
    "GatedReLUClassifier",
    "GatedReLURegressor",
    "GatedReLUSolution",
    "ReLUSolution",
    "solve_gated_relu",
    "solve_relu",
    "__version__",
]

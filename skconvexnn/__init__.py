"""skconvexnn: two-layer ReLU networks trained to the global optimum, as scikit-learn estimators."""

__version__ = "0.1.0.dev0"

from .estimators import (ConvexReLUClassifier, ConvexReLUClassifierCV, ConvexReLURegressor,
                         ConvexReLURegressorCV, GatedReLUClassifier, GatedReLUClassifierCV,
                         GatedReLURegressor, GatedReLURegressorCV,
                         RobustConvexReLUClassifier, RobustConvexReLURegressor)
from .functional import (GatedReLUSolution, ReLUSolution, RobustReLUSolution,
                         solve_gated_relu, solve_relu, solve_robust_relu)
from ._config import config_context, get_config, set_config
from ._memory import MemoryBudgetError
from ._path import RegularizationPath, alpha_max, path

__all__ = [
    "ConvexReLUClassifier",
    "ConvexReLUClassifierCV",
    "ConvexReLURegressor",
    "ConvexReLURegressorCV",
    "GatedReLUClassifier",
    "GatedReLUClassifierCV",
    "GatedReLURegressor",
    "GatedReLURegressorCV",
    "GatedReLUSolution",
    "MemoryBudgetError",
    "ReLUSolution",
    "RegularizationPath",
    "RobustConvexReLUClassifier",
    "RobustConvexReLURegressor",
    "RobustReLUSolution",
    "alpha_max",
    "config_context",
    "get_config",
    "path",
    "set_config",
    "solve_gated_relu",
    "solve_relu",
    "solve_robust_relu",
    "__version__",
]

"""skconvexnn: two-layer ReLU networks trained to the global optimum, as scikit-learn estimators."""

__version__ = "0.1.0.dev0"

from .estimators import (ConvexReLUClassifier, ConvexReLUClassifierCV, ConvexReLURegressor,
                         ConvexReLURegressorCV, GatedReLUClassifier, GatedReLUClassifierCV,
                         GatedReLURegressor, GatedReLURegressorCV,
                         RobustConvexReLUClassifier, RobustConvexReLURegressor,
                         SDPRelaxationClassifier, SDPRelaxationRegressor,
                         ThreeLayerConvexReLUClassifier, ThreeLayerConvexReLURegressor,
                         ThreeLayerGatedReLUClassifier, ThreeLayerGatedReLURegressor)
from .functional import (GatedReLUSolution, ReLUSolution, RobustReLUSolution,
                         ThreeLayerGatedReLUSolution, ThreeLayerReLUSolution,
                         solve_gated_relu, solve_relu, solve_robust_relu,
                         solve_three_layer_gated_relu, solve_three_layer_relu)
from ._config import config_context, get_config, set_config
from ._memory import MemoryBudgetError
from ._path import RegularizationPath, alpha_max, path
from .polish import PolishResult, polish_mlp
from .sdp import SDPRelaxationResult, relu_lower_bound, solve_sdp_relaxation

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
    "PolishResult",
    "ReLUSolution",
    "RegularizationPath",
    "RobustConvexReLUClassifier",
    "RobustConvexReLURegressor",
    "RobustReLUSolution",
    "SDPRelaxationClassifier",
    "SDPRelaxationRegressor",
    "SDPRelaxationResult",
    "ThreeLayerConvexReLUClassifier",
    "ThreeLayerConvexReLURegressor",
    "ThreeLayerGatedReLUClassifier",
    "ThreeLayerGatedReLURegressor",
    "ThreeLayerGatedReLUSolution",
    "ThreeLayerReLUSolution",
    "alpha_max",
    "config_context",
    "get_config",
    "path",
    "polish_mlp",
    "relu_lower_bound",
    "set_config",
    "solve_gated_relu",
    "solve_relu",
    "solve_robust_relu",
    "solve_sdp_relaxation",
    "solve_three_layer_gated_relu",
    "solve_three_layer_relu",
    "__version__",
]

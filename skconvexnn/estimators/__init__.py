"""scikit-learn estimators over the convex solvers: thin classes sharing one fit helper."""

from ._cv import (ConvexReLUClassifierCV, ConvexReLURegressorCV, GatedReLUClassifierCV,
                  GatedReLURegressorCV)
from ._gated import GatedReLUClassifier, GatedReLURegressor
from ._relu import ConvexReLUClassifier, ConvexReLURegressor
from ._robust import RobustConvexReLUClassifier, RobustConvexReLURegressor
from ._sdp import SDPRelaxationClassifier, SDPRelaxationRegressor
from ._three_layer import (ThreeLayerConvexReLUClassifier, ThreeLayerConvexReLURegressor,
                           ThreeLayerGatedReLUClassifier, ThreeLayerGatedReLURegressor)

__all__ = ["ConvexReLUClassifier", "ConvexReLUClassifierCV", "ConvexReLURegressor",
           "ConvexReLURegressorCV", "GatedReLUClassifier", "GatedReLUClassifierCV",
           "GatedReLURegressor", "GatedReLURegressorCV", "RobustConvexReLUClassifier",
           "RobustConvexReLURegressor", "SDPRelaxationClassifier", "SDPRelaxationRegressor",
           "ThreeLayerConvexReLUClassifier",
           "ThreeLayerConvexReLURegressor", "ThreeLayerGatedReLUClassifier",
           "ThreeLayerGatedReLURegressor"]

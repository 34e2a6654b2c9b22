"""partial_fit of the two-layer gated and ReLU estimators: a stochastic proximal method
on the same convex program, batch after batch."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.preprocessing import StandardScaler

from skconvexnn import (ConvexReLUClassifier, ConvexReLUClassifierCV, ConvexReLURegressor,
                        GatedReLUClassifier, GatedReLURegressor, RobustConvexReLUClassifier,
                        ThreeLayerGatedReLUClassifier)
from skconvexnn.estimators._base import PARTIAL_FIT_ITERATIONS

CLASSIFIERS = [GatedReLUClassifier, ConvexReLUClassifier]
REGRESSORS = [GatedReLURegressor, ConvexReLURegressor]


def _classification(n=120, n_classes=2, seed=0):
    X, y = make_classification(n_samples=n, n_features=5, n_informative=3,
                               n_classes=n_classes, random_state=seed)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_partial_fit_on_the_same_rows_reaches_fits_optimum(Estimator, n_classes):
    X, y = _classification(n_classes=n_classes)
    params = dict(n_patterns=8, alpha=1e-2, tol=1e-8, max_iter=20000, random_state=0)
    fit = Estimator(**params).fit(X, y)
    stream = Estimator(**params)
    for _ in range(150):
        stream.partial_fit(X, y, classes=np.unique(y))
    assert stream.n_iter_ <= PARTIAL_FIT_ITERATIONS
    # The same program (the gates are drawn by the same seed from the same rows): its
    # optimum, within the certificates of the two points.
    bound = (fit.duality_gap_ + stream.duality_gap_) * fit.objective_
    assert abs(stream.objective_ - fit.objective_) <= bound + 1e-10
    assert stream.duality_gap_ < 1e-3
    assert (stream.predict(X) == fit.predict(X)).mean() >= 0.98


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_partial_fit_learns_a_shuffled_stream_of_batches(Estimator):
    X, y = _classification(n=900, n_classes=3, seed=1)
    rng = np.random.default_rng(0)
    stream = Estimator(n_patterns=10, alpha=1e-3, random_state=0)
    for _ in range(4):
        for batch in np.array_split(rng.permutation(800), 8):
            stream.partial_fit(X[batch], y[batch], classes=[0, 1, 2])
    fit = Estimator(n_patterns=10, alpha=1e-3, random_state=0).fit(X[:800], y[:800])
    assert stream.score(X[800:], y[800:]) >= fit.score(X[800:], y[800:]) - 0.05
    np.testing.assert_array_equal(stream.classes_, [0, 1, 2])
    # A batch may miss classes (here a single one): the update still runs.
    single = np.flatnonzero(y[:800] == 0)[:30]
    stream.partial_fit(X[single], y[single])
    assert stream.n_iter_ > 0


@pytest.mark.parametrize("Estimator", REGRESSORS)
def test_regressor_partial_fit_keeps_the_first_scale_and_bias(Estimator):
    X, y = make_regression(n_samples=150, n_features=4, noise=5.0, random_state=0)
    y = 100 + 3 * y
    params = dict(n_patterns=8, alpha=1e-3, tol=1e-8, max_iter=20000, random_state=0)
    fit = Estimator(**params).fit(X, y)
    stream = Estimator(**params)
    for _ in range(150):
        stream.partial_fit(X, y)
    assert stream.target_scale_ == fit.target_scale_
    np.testing.assert_allclose(stream.intercepts_[-1], fit.intercepts_[-1])
    # Restarted every 10 iterations, the method converges more slowly than one fit
    # (the ReLU program: a 2% gap after 1500 iterations); its gap certifies where it is.
    assert fit.objective_ * (1 - 1e-8) <= stream.objective_ <= fit.objective_ * 1.05
    assert stream.objective_ - fit.objective_ <= (
        stream.duality_gap_ * stream.objective_ + 1e-10)
    assert stream.score(X, y) == pytest.approx(fit.score(X, y), abs=1e-2)
    with pytest.raises(ValueError, match="outputs"):
        stream.partial_fit(X, np.column_stack([y, y]))


def test_partial_fit_errors():
    X, y = _classification()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        GatedReLUClassifier().partial_fit(X, y)
    clf = GatedReLUClassifier(n_patterns=4).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y + 1)
    with pytest.raises(ValueError, match="is not the same as on last call"):
        clf.partial_fit(X, y, classes=[0, 2])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match="at least 2 classes"):
        GatedReLUClassifier().partial_fit(X, np.zeros(len(X)), classes=[0])
    # Only where the program is one of a stream's batches: not the robust, CV or
    # three-layer estimators.
    for other in (RobustConvexReLUClassifier(), ConvexReLUClassifierCV(),
                  ThreeLayerGatedReLUClassifier()):
        assert not hasattr(other, "partial_fit")


def test_a_fit_after_partial_fit_starts_over():
    X, y = _classification()
    clf = GatedReLUClassifier(n_patterns=6, random_state=0)
    clf.partial_fit(X[:20], y[:20], classes=[0, 1])
    refit = clf.fit(X, y)
    cold = GatedReLUClassifier(n_patterns=6, random_state=0).fit(X, y)
    np.testing.assert_allclose(refit.objective_, cold.objective_)

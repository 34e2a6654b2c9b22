"""skconvexnn.neural_network: scikit-learn's MLP classes, trained by the convex programs."""

import os
import pathlib
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
import sklearn.neural_network
from sklearn.datasets import load_iris, make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skconvexnn import ConvexReLUClassifier, ThreeLayerConvexReLUClassifier
from skconvexnn.neural_network import (IgnoredParameterWarning, MLPClassifier,
                                       MLPRegressor, VANISHING_ALPHA)

SUITE = pathlib.Path(__file__).parent / "sklearn_suite"
sys.path.insert(0, str(SUITE))
from mlp_plugin import INAPPLICABLE  # noqa: E402

ROOT = pathlib.Path(__file__).parent.parent


def _data(n=120, seed=0, n_classes=2):
    X, y = make_classification(n_samples=n, n_features=5, n_informative=3,
                               n_classes=n_classes, random_state=seed)
    return StandardScaler().fit_transform(X), y


def test_scikit_learns_own_mlp_tests_pass_except_the_inapplicable_ones(tmp_path):
    # The installed scikit-learn's test_mlp.py, with only the classes swapped (the
    # plugin); the inapplicable tests are strict xfails, so one that starts passing
    # fails this run too. Run from an empty folder, so that the installed skconvexnn is
    # imported, not the source tree (`python -m` puts the working folder on sys.path).
    path = [str(SUITE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                           if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "sklearn.neural_network.tests.test_mlp",
         "-p", "mlp_plugin", "-q", "-p", "no:cacheprovider", "-W", "ignore"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    summary = result.stdout.strip().splitlines()[-1]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    xfailed = int(re.search(r"(\d+) xfailed", summary).group(1))
    assert "failed," not in summary.replace("xfailed", "")
    assert passed >= 40 and xfailed <= 20, summary


def test_the_readme_lists_every_inapplicable_test_with_its_reason():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### scikit-learn's own MLP tests"):]
    for name in INAPPLICABLE:
        assert f"`{name}`" in section, name


def test_the_classes_are_scikit_learns_with_its_parameters():
    for ours, theirs in ((MLPClassifier, sklearn.neural_network.MLPClassifier),
                         (MLPRegressor, sklearn.neural_network.MLPRegressor)):
        assert issubclass(ours, theirs)
        assert ours().get_params() == theirs().get_params()


def test_only_relu_and_one_or_two_hidden_layers():
    X, y = _data()
    with pytest.raises(ValueError, match="activation='relu' only"):
        MLPClassifier(activation="tanh").fit(X, y)
    with pytest.raises(ValueError, match="one or two hidden layers"):
        MLPClassifier(hidden_layer_sizes=(4, 4, 4)).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        MLPClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    with pytest.raises(ValueError):  # scikit-learn's own validation still runs first
        MLPClassifier(learning_rate="fast").fit(X, y)


def test_optimizer_parameters_warn_that_they_have_no_effect():
    X, y = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", IgnoredParameterWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = MLPClassifier(hidden_layer_sizes=8, random_state=0).fit(X, y)
    with pytest.warns(IgnoredParameterWarning, match="solver, momentum"):
        tuned = MLPClassifier(hidden_layer_sizes=8, solver="sgd", momentum=0.5,
                              random_state=0).fit(X, y)
    np.testing.assert_allclose(tuned.predict_proba(X), plain.predict_proba(X))


def test_alpha_is_in_mlps_scale_and_the_fit_is_the_convex_estimators():
    X, y = _data(n=100)
    mlp = MLPClassifier(hidden_layer_sizes=10, alpha=0.5, max_iter=5000, tol=1e-6,
                        random_state=0).fit(X, y)
    convex = mlp.convex_estimator_
    assert convex.alpha == pytest.approx(0.5 / 100)
    assert mlp.converged_ and 0 <= mlp.duality_gap_ <= 1e-6
    assert convex.n_patterns == 5 and mlp.coefs_[0].shape[1] <= 10
    # The same program as the convex estimator's on the same patterns: one optimum.
    reference = ConvexReLUClassifier(n_patterns=5, alpha=0.5 / 100, patterns="random",
                                     tol=1e-6, max_iter=5000,
                                     random_state=convex.random_state).fit(X, y)
    gap = (mlp.duality_gap_ + reference.duality_gap_) * reference.objective_
    assert abs(mlp.loss_ - reference.objective_) <= gap + 1e-12
    # scikit-learn's forward pass through the exported weights is the convex model.
    np.testing.assert_allclose(mlp.predict_proba(X), reference.predict_proba(X),
                               atol=1e-3)
    # A larger weight decay gives smaller weights (test_alpha's claim, certified).
    stronger = MLPClassifier(hidden_layer_sizes=10, alpha=5.0, max_iter=5000, tol=1e-6,
                             random_state=0).fit(X, y)
    assert stronger.loss_ > mlp.loss_
    assert sum(np.abs(c).sum() for c in stronger.coefs_) < sum(
        np.abs(c).sum() for c in mlp.coefs_)


def test_alpha_zero_solves_the_vanishing_penalty():
    X, y = _data(n=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=6, alpha=0, random_state=0).fit(X, y)
    assert mlp.convex_estimator_.alpha == VANISHING_ALPHA
    decayed = MLPClassifier(hidden_layer_sizes=6, alpha=10.0, max_iter=2000,
                            random_state=0).fit(X, y)
    # Without weight decay: a lower loss, larger weights, no worse training accuracy.
    assert mlp.loss_ < decayed.loss_
    assert sum(np.abs(c).sum() for c in mlp.coefs_) > sum(
        np.abs(c).sum() for c in decayed.coefs_)
    assert mlp.score(X, y) >= decayed.score(X, y)


def test_tol_zero_runs_to_max_iter_and_warns():
    X, y = _data(n=60)
    with pytest.warns(ConvergenceWarning):
        mlp = MLPClassifier(hidden_layer_sizes=6, tol=0, max_iter=30,
                            random_state=0).fit(X, y)
    assert mlp.n_iter_ == 30 and not mlp.converged_


def test_multilabel_targets_get_one_sigmoid_per_label():
    X, Y = make_multilabel_classification(n_samples=60, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    mlp = MLPClassifier(hidden_layer_sizes=20, alpha=1.0, max_iter=5000, tol=1e-5,
                        random_state=0).fit(X, Y)
    assert mlp.converged_ and mlp.out_activation_ == "logistic"
    proba = mlp.predict_proba(X)
    assert proba.shape == Y.shape
    assert not np.allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(mlp.predict(X), proba > 0.5)
    assert mlp.score(X, Y) > 0.5  # subset accuracy of the certified optimum


def test_warm_start_counts_iterations_up_to_max_iter_and_keeps_the_classes():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    mlp = MLPClassifier(hidden_layer_sizes=6, warm_start=True, max_iter=10, tol=0,
                        random_state=0)
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X, y)
    first = mlp.loss_
    mlp.set_params(max_iter=40)
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X, y)
    assert mlp.n_iter_ == 40 and mlp.loss_ < first
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has "
                                         "the same classes"):
        mlp.fit(X, np.where(y == 2, 3, y))


def test_early_stopping_keeps_the_best_validation_point_of_the_path():
    X, y = _data(n=200, n_classes=3)
    mlp = MLPClassifier(hidden_layer_sizes=10, early_stopping=True, max_iter=300,
                        random_state=0).fit(X, y)
    scores = mlp.validation_scores_
    assert len(scores) == mlp.n_iter_ and mlp.best_validation_score_ == max(scores)
    assert mlp.best_loss_ is None
    # The model kept is the best point's: its own validation score is the best.
    _, X_val, _, y_val, _, _ = mlp._validation_split(
        X, mlp._label_binarizer.transform(y).astype(bool), np.ones(len(y)))
    assert mlp.score(X_val, y_val) == pytest.approx(mlp.best_validation_score_)
    plain = MLPClassifier(hidden_layer_sizes=10, max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain.fit(X, y)
    assert plain.validation_scores_ is None and plain.best_loss_ is not None


def test_partial_fit_on_the_same_rows_converges_to_fits_optimum():
    X, y = _data(n=80)
    fit = MLPClassifier(hidden_layer_sizes=8, alpha=2.0, max_iter=5000, tol=1e-8,
                        random_state=0).fit(X, y)
    stream = MLPClassifier(hidden_layer_sizes=8, alpha=2.0, random_state=0)
    for _ in range(100):
        stream.partial_fit(X, y, classes=[0, 1])
    assert stream.n_iter_ > 0 and stream.t_ == stream.n_iter_ * len(X)
    assert stream.loss_ == pytest.approx(fit.loss_, rel=1e-4)
    np.testing.assert_array_equal(stream.predict(X), fit.predict(X))
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")


def test_partial_fit_learns_from_a_stream_of_batches():
    X, y = _data(n=600, seed=1)
    stream = MLPClassifier(hidden_layer_sizes=10, alpha=1.0, random_state=0)
    for epoch in range(5):
        for batch in np.array_split(np.arange(500), 5):
            stream.partial_fit(X[batch], y[batch], classes=[0, 1])
    fit = MLPClassifier(hidden_layer_sizes=10, alpha=1.0, max_iter=2000,
                        random_state=0).fit(X[:500], y[:500])
    assert stream.n_iter_ == 25 * 10
    assert stream.score(X[500:], y[500:]) >= fit.score(X[500:], y[500:]) - 0.05


def test_regressor_scale_poisson_and_dtype():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 3))
    y = 300 * np.maximum(X[:, 0], 0) - 200 * X[:, 1] + 5 * rng.standard_normal(150)
    reg = MLPRegressor(hidden_layer_sizes=20, alpha=1e-2, max_iter=3000,
                       random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.97
    assert reg.convex_estimator_.alpha == pytest.approx(
        1e-2 / (150 * reg.convex_estimator_.target_scale_))
    counts = rng.poisson(np.exp(0.5 * X[:, 0]))
    poisson = MLPRegressor(loss="poisson", hidden_layer_sizes=10, alpha=1.0,
                           max_iter=3000, random_state=0).fit(X, counts)
    assert poisson.out_activation_ == "exp" and (poisson.predict(X) > 0).all()
    reg32 = MLPRegressor(hidden_layer_sizes=20, alpha=1e-2, max_iter=3000,
                         random_state=0).fit(X.astype(np.float32), y)
    assert all(c.dtype == np.float32 for c in reg32.coefs_ + reg32.intercepts_)
    assert reg32.predict(X.astype(np.float32)).dtype == np.float32


def test_two_hidden_layers_are_the_three_layer_program():
    X, y = _data(n=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(8, 4), alpha=1.0, max_iter=2000,
                            random_state=0).fit(X, y)
    assert isinstance(mlp.convex_estimator_, ThreeLayerConvexReLUClassifier)
    assert mlp.n_layers_ == 4 and len(mlp.coefs_) == 3
    assert mlp.score(X, y) > 0.8


def test_a_warm_fit_of_another_width_starts_cold():
    X, y = _data(n=80)
    mlp = MLPClassifier(hidden_layer_sizes=4, alpha=1.0, warm_start=True, max_iter=2000,
                        random_state=0).fit(X, y)
    assert mlp.convex_estimator_.n_patterns == 2
    mlp.set_params(hidden_layer_sizes=12).fit(X, y)
    assert mlp.convex_estimator_.n_patterns == 6
    assert mlp.convex_estimator_.gates_.shape[1] <= 6 < mlp.n_iter_


def test_one_class_fits_as_mlp_does():
    # scikit-learn's MLP fits a single label (it always predicts it); so does this.
    X, _ = _data(n=30)
    y = np.zeros(30, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(hidden_layer_sizes=4, random_state=0).fit(X, y)
        theirs = sklearn.neural_network.MLPClassifier(hidden_layer_sizes=4,
                                                      random_state=0).fit(X, y)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.predict_proba(X).shape == theirs.predict_proba(X).shape

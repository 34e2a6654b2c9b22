"""ConvergenceDisplay / PathDisplay: they draw the estimators' own data."""

import doctest
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skconvexnn.plotting  # noqa: E402
from skconvexnn import (ConvexReLUClassifier, ConvexReLURegressor,  # noqa: E402
                        GatedReLUClassifier, GatedReLURegressor, GatedReLURegressorCV,
                        path)
from skconvexnn.plotting import ConvergenceDisplay, PathDisplay  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = np.maximum(X @ np.array([1.0, -1.0, 0.5]), 0) + 0.05 * rng.standard_normal(60)
    return X, y


@pytest.fixture(scope="module")
def regressor(data):
    return GatedReLURegressor(n_patterns=10, tol=1e-6, random_state=0).fit(*data)


@pytest.fixture(scope="module")
def cv_regressor(data):
    return GatedReLURegressorCV(n_patterns=10, alphas=6, cv=3, random_state=0).fit(*data)


def _clipped_gaps(estimator):
    return np.maximum(estimator.convergence_history_["duality_gap"],
                      ConvergenceDisplay.gap_floor)


def test_convergence_display_draws_the_estimators_data(regressor):
    display = ConvergenceDisplay.from_estimator(regressor)
    history = regressor.convergence_history_
    curve = np.asarray(regressor.loss_curve_)

    np.testing.assert_array_equal(display.objective_line_.get_xdata(),
                                  np.arange(1, curve.size + 1))
    np.testing.assert_array_equal(display.objective_line_.get_ydata(), curve)
    np.testing.assert_array_equal(display.objective_points_.get_xdata(), history["n_iter"])
    np.testing.assert_array_equal(display.objective_points_.get_ydata(),
                                  history["objective"])
    np.testing.assert_array_equal(display.gap_line_.get_xdata(), history["n_iter"])
    np.testing.assert_array_equal(display.gap_line_.get_ydata(), _clipped_gaps(regressor))
    np.testing.assert_array_equal(display.tol_line_.get_ydata(), [regressor.tol] * 2)

    assert display.ax_.shape == (2,)
    assert display.figure_ is display.ax_[0].figure is display.ax_[1].figure
    assert display.ax_[1].get_yscale() == "log"
    assert display.ax_[1].get_xlabel() == "FISTA iterations"
    assert display.ax_[1].get_ylabel() == "Relative duality gap"


def test_convergence_display_time_axis_uses_history_times(regressor):
    display = ConvergenceDisplay.from_estimator(regressor, x="time")
    history = regressor.convergence_history_

    for line in (display.objective_line_, display.objective_points_, display.gap_line_):
        np.testing.assert_array_equal(line.get_xdata(), history["time"])
    np.testing.assert_array_equal(display.objective_line_.get_ydata(), history["objective"])
    np.testing.assert_array_equal(display.gap_line_.get_ydata(), _clipped_gaps(regressor))
    assert [axis.get_xlabel() for axis in display.ax_] == ["Time (s)"] * 2


def test_zero_gap_is_clipped_for_the_log_scale():
    history = {"n_iter": np.array([0, 5, 9]), "time": np.array([0.0, 0.1, 0.2]),
               "objective": np.array([1.0, 0.5, 0.4]),
               "duality_gap": np.array([0.9, 1e-3, 0.0])}
    display = ConvergenceDisplay(loss_curve=np.linspace(0.9, 0.4, 9),
                                 convergence_history=history, tol=1e-3).plot()
    display.figure_.canvas.draw()

    gaps = display.gap_line_.get_ydata()
    np.testing.assert_array_equal(gaps, [0.9, 1e-3, ConvergenceDisplay.gap_floor])
    assert 0 < display.ax_[1].get_ylim()[0] <= ConvergenceDisplay.gap_floor


@pytest.mark.parametrize("estimator", [
    GatedReLUClassifier(n_patterns=10, random_state=0),
    ConvexReLUClassifier(n_patterns=10, random_state=0),
    ConvexReLURegressor(n_patterns=10, random_state=0),
], ids=lambda est: type(est).__name__)
def test_convergence_display_takes_the_last_pipeline_step(data, estimator):
    X, y = data
    target = y > np.median(y) if "Classifier" in type(estimator).__name__ else y
    pipeline = make_pipeline(StandardScaler(), estimator).fit(X, target)

    display = ConvergenceDisplay.from_estimator(pipeline)

    np.testing.assert_array_equal(display.gap_line_.get_ydata(),
                                  _clipped_gaps(pipeline[-1]))


def test_convergence_display_draws_on_given_axes(regressor):
    _, axes = plt.subplots(2, 1)
    display = ConvergenceDisplay.from_estimator(regressor, ax=axes)
    assert list(display.ax_) == list(axes)

    _, single = plt.subplots()
    with pytest.raises(ValueError, match="pair of matplotlib Axes"):
        ConvergenceDisplay.from_estimator(regressor, ax=single)


def test_convergence_display_rejects_bad_input(data, regressor):
    with pytest.raises(ValueError, match="x must be one of"):
        ConvergenceDisplay.from_estimator(regressor, x="seconds")
    with pytest.raises(NotFittedError):
        ConvergenceDisplay.from_estimator(GatedReLURegressor())
    with pytest.raises(NotFittedError):
        ConvergenceDisplay.from_estimator(make_pipeline(StandardScaler(),
                                                        GatedReLURegressor()))
    with pytest.raises(ValueError, match="convergence_history_.*Ridge"):
        ConvergenceDisplay.from_estimator(Ridge().fit(*data))


def test_path_display_from_path(data):
    X, y = data
    gates = np.random.default_rng(1).standard_normal((3, 10))
    result = path(X, y, gates, alphas=6)

    display = PathDisplay.from_path(result)

    np.testing.assert_array_equal(display.line_.get_xdata(), result.alphas)
    np.testing.assert_array_equal(display.line_.get_ydata(), result.objectives)
    np.testing.assert_array_equal(display.n_active_line_.get_ydata(), result.n_active)
    assert display.n_active_line_.get_ydata()[0] == 0
    assert display.fill_between_ is None and display.alpha_lines_ == []
    assert [axis.get_xscale() for axis in display.ax_] == ["log", "log"]


def test_path_display_from_cv_estimator(cv_regressor):
    results = cv_regressor.cv_results_

    display = PathDisplay.from_estimator(cv_regressor)

    np.testing.assert_array_equal(display.line_.get_xdata(), cv_regressor.alphas_)
    np.testing.assert_array_equal(display.line_.get_ydata(), results["mean_test_score"])
    np.testing.assert_array_equal(display.n_active_line_.get_ydata(),
                                  results["mean_n_neurons"])
    band = display.fill_between_.get_paths()[0].vertices[:, 1]
    mean, std = results["mean_test_score"], results["std_test_score"]
    np.testing.assert_allclose([band.min(), band.max()],
                               [(mean - std).min(), (mean + std).max()])
    assert len(display.alpha_lines_) == 2
    for line in display.alpha_lines_:
        np.testing.assert_array_equal(line.get_xdata(), [cv_regressor.alpha_] * 2)
    assert "R$^2$" in display.ax_[0].get_ylabel()
    assert [axis.get_xscale() for axis in display.ax_] == ["log", "log"]


def test_path_display_from_cv_pipeline(data):
    pipeline = make_pipeline(StandardScaler(), GatedReLURegressorCV(
        n_patterns=10, alphas=4, cv=2, scoring="neg_mean_squared_error",
        random_state=0)).fit(*data)

    display = PathDisplay.from_estimator(pipeline)

    np.testing.assert_array_equal(display.line_.get_ydata(),
                                  pipeline[-1].cv_results_["mean_test_score"])
    assert "neg_mean_squared_error" in display.ax_[0].get_ylabel()


def test_path_display_rejects_non_cv_estimators(regressor):
    with pytest.raises(NotFittedError):
        PathDisplay.from_estimator(GatedReLURegressorCV())
    with pytest.raises(ValueError, match="cv_results_.*GatedReLURegressor"):
        PathDisplay.from_estimator(regressor)


def test_cv_estimator_has_a_convergence_display(cv_regressor):
    display = ConvergenceDisplay.from_estimator(cv_regressor)
    np.testing.assert_array_equal(display.gap_line_.get_ydata(),
                                  _clipped_gaps(cv_regressor))


def test_missing_matplotlib_names_the_extra(monkeypatch, regressor):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'skconvexnn\[plots\]'"):
        ConvergenceDisplay.from_estimator(regressor)


def test_docstring_examples():
    result = doctest.testmod(skconvexnn.plotting, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

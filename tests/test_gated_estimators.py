"""GatedReLUClassifier / GatedReLURegressor: behaviour beyond scikit-learn's contract."""

import importlib.util
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import sparse
from scipy.special import expit, softmax
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skconvexnn import GatedReLUClassifier, GatedReLURegressor
from skconvexnn.losses import make_loss
from skconvexnn.patterns import activation_patterns, add_intercept_column


def _classification(n_classes=2, n=80, seed=0):
    X, y = make_classification(n_samples=n, n_features=5, n_informative=4,
                               n_redundant=0, n_classes=n_classes, random_state=seed)
    return X, y


def _regression(n_outputs=1, n=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    Y = np.maximum(X @ rng.standard_normal((4, n_outputs)), 0) + 0.05 * rng.standard_normal(
        (n, n_outputs))
    return X, (Y[:, 0] if n_outputs == 1 else Y)


def _convex_output(est, X):
    """``sum_j D_j X U_j`` (plus the fixed output bias) from ``gates_`` and
    ``convex_coef_``, written independently of the package's own products."""
    X_aug = add_intercept_column(X) if est.fit_intercept else X
    mask = X_aug @ est.gates_ >= 0
    F = np.einsum("np,npc->nc", mask, np.einsum("nd,dpc->npc", X_aug, est.convex_coef_))
    return _target_scale(est) * F + est.intercepts_[1]


def _target_scale(est):
    """What a regressor divided ``y`` by for its program (1 for a classifier)."""
    return getattr(est, "target_scale_", 1.0)


def _targets(est, y):
    """``y`` encoded as the estimator's loss sees it, (n, c)."""
    if isinstance(est, GatedReLUClassifier):
        if len(est.classes_) == 2:
            return (2.0 * (y == est.classes_[1]) - 1)[:, None]
        return np.eye(len(est.classes_))[np.searchsorted(est.classes_, y)]
    return y[:, None] if y.ndim == 1 else y


def _objective_of_outputs(est, F, y):
    """The convex objective computed from the model's outputs on the training rows
    (both divided by a regressor's target scale: the program it solved)."""
    weights = est.convex_coef_
    penalty = est.alpha * np.sqrt(np.einsum("rjk,rjk->jk", weights, weights)).sum()
    scale = _target_scale(est)
    return make_loss(est.loss, _targets(est, y) / scale).value(F / scale) + penalty


# --- bad input: a clear ValueError before any kernel runs -----------------------------

@pytest.fixture
def no_solver(monkeypatch):
    """Fail loudly if validation lets bad input reach the solver."""
    def solver_must_not_run(*args, **kwargs):
        raise AssertionError("bad input reached the solver")
    for program in (GatedReLUClassifier, GatedReLURegressor):
        monkeypatch.setattr(program, "_path", solver_must_not_run)


X_OK, Y_OK = _classification()
BAD_FITS = {
    "nan": (np.where(np.eye(80, 5) > 0, np.nan, X_OK), Y_OK, {}, "NaN"),
    "inf": (np.where(np.eye(80, 5) > 0, np.inf, X_OK), Y_OK, {}, "infinity"),
    "empty": (np.empty((0, 5)), np.empty(0), {}, "0 sample"),
    "one sample": (X_OK[:1], Y_OK[:1], {}, "1 sample"),
    "one class": (X_OK, np.zeros(80), {}, "1 class"),
    "one weighted class": (X_OK, Y_OK, {"sample_weight": (Y_OK == 1) * 1.0}, "1 class"),
    "X 1d": (X_OK[:, 0], Y_OK, {}, "2D array"),
    "X 3d": (X_OK[:, :, None], Y_OK, {}, "dim 3"),
    "y wrong length": (X_OK, Y_OK[:-1], {}, "inconsistent numbers of samples"),
    "negative weight": (X_OK, Y_OK, {"sample_weight": -np.ones(80)}, "Negative values"),
    "weights wrong shape": (X_OK, Y_OK, {"sample_weight": np.ones(3)}, "sample_weight"),
    "regression target": (X_OK, np.linspace(0, 1, 80), {}, "Unknown label type"),
}
BAD_PARAMS = {
    "negative alpha": ({"alpha": -1.0}, "alpha"),
    "zero alpha": ({"alpha": 0.0}, "alpha"),
    "n_patterns=0": ({"n_patterns": 0}, "n_patterns"),
    "unknown backend": ({"backend": "torch"}, "backend"),
    "unknown solver": ({"solver": "sgd"}, "solver"),
    "unknown loss": ({"loss": "hinge"}, "loss"),
    "tol=0": ({"tol": 0.0}, "tol"),
    "max_iter=0": ({"max_iter": 0}, "max_iter"),
    "n_jobs=0": ({"n_jobs": 0}, "n_jobs"),
}


@pytest.mark.parametrize("case", list(BAD_FITS), ids=list(BAD_FITS))
def test_bad_input_raises_value_error_before_the_solver(case, no_solver):
    X, y, kwargs, match = BAD_FITS[case]
    with pytest.raises(ValueError, match=match):
        GatedReLUClassifier().fit(X, y, **kwargs)


@pytest.mark.parametrize("case", list(BAD_PARAMS), ids=list(BAD_PARAMS))
@pytest.mark.parametrize("Estimator", [GatedReLUClassifier, GatedReLURegressor])
def test_bad_parameters_raise_value_error_before_the_solver(Estimator, case, no_solver):
    params, match = BAD_PARAMS[case]
    if Estimator is GatedReLURegressor and case == "unknown loss":
        params = {"loss": "log_loss"}
    with pytest.raises(ValueError, match=match):
        Estimator(**params).fit(X_OK, Y_OK)


@pytest.mark.parametrize("case", ["nan", "3d", "wrong length", "overflow X", "overflow y"])
def test_regressor_rejects_bad_targets_and_overflow(case, no_solver):
    X, y = _regression()
    bad = {"nan": (X, np.where(np.arange(80) == 3, np.nan, y), "NaN"),
           "3d": (X, y[:, None, None], "dim"),
           "wrong length": (X, y[:-1], "inconsistent numbers of samples"),
           "overflow X": (X * 1e200, y, "overflow"),
           "overflow y": (X, y * 1e200, "overflow")}
    X_bad, y_bad, match = bad[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the ValueError comes first, not a RuntimeWarning
        with pytest.raises(ValueError, match=match):
            GatedReLURegressor().fit(X_bad, y_bad)


def test_predict_rejects_a_different_number_of_features():
    X, y = _regression()
    fitted = GatedReLURegressor(random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :3])


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None,
                    reason="CuPy is installed: the missing-CuPy error cannot happen")
def test_cupy_backend_without_cupy_is_an_import_error(no_solver):
    with pytest.raises(ImportError, match="skconvexnn\\[gpu\\]"):
        GatedReLUClassifier(backend="cupy").fit(X_OK, Y_OK)


# Up to 1e150: larger entries are refused up front (their squares overflow float64).
finite_floats = st.floats(min_value=-1e150, max_value=1e150, allow_nan=False,
                          allow_infinity=False, width=64)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    X=hnp.arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 4)),
                 elements=st.one_of(finite_floats,
                                    st.sampled_from([0.0, 1e-300, -1e150, 1e150]))),
    data=st.data(),
)
def test_fit_on_odd_arrays_gives_finite_predictions_or_value_error(X, data):
    n = X.shape[0]
    rows = data.draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=3))
    if rows:  # duplicate some rows
        X = np.vstack([X, X[rows]])
    y = data.draw(hnp.arrays(np.int64, X.shape[0], elements=st.integers(0, 2)))
    for est, target in ((GatedReLUClassifier(n_patterns=5, max_iter=200, random_state=0), y),
                        (GatedReLURegressor(n_patterns=5, max_iter=200, random_state=0),
                         y * 1.5)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X, target)
        except ValueError:
            continue
        out = est.predict(X)
        assert out.shape == (X.shape[0],)
        if isinstance(est, GatedReLURegressor):
            assert np.all(np.isfinite(out))
        else:
            assert np.all(np.isin(out, np.unique(y)))
            assert np.all(np.isfinite(est.decision_function(X)))


# --- the fitted model is the convex model ------------------------------------------------

def test_unscaled_data_model_reproduces_the_convex_model_on_training_rows():
    # scnn maps its weights back to the raw feature scale but not its gates, so on raw
    # breast_cancer its network differs from the convex model it solved. Here gates,
    # patterns and weights live in one space: the returned model's training outputs
    # give back the objective the solver certified.
    X, y = load_breast_cancer(return_X_y=True)
    est = GatedReLUClassifier(random_state=0, max_iter=20000).fit(X, y)
    assert est.converged_
    scores = est.decision_function(X)
    np.testing.assert_allclose(scores, _convex_output(est, X)[:, 0], rtol=1e-9, atol=1e-9)
    assert _objective_of_outputs(est, scores[:, None], y) == pytest.approx(est.objective_,
                                                                          rel=1e-10)
    assert est.score(X, y) > 0.9
    # and the same patterns as on standardized data, because the gates are affine-aware
    Xs = StandardScaler().fit_transform(X)
    est_s = GatedReLUClassifier(random_state=0).fit(Xs, y)
    np.testing.assert_array_equal(
        activation_patterns(add_intercept_column(X), est.gates_)[0],
        activation_patterns(add_intercept_column(Xs), est_s.gates_)[0])


@pytest.mark.parametrize("Estimator,data", [
    (GatedReLUClassifier, _classification(2)), (GatedReLUClassifier, _classification(3)),
    (GatedReLURegressor, _regression(1)), (GatedReLURegressor, _regression(3)),
])
def test_network_reproduces_convex_model_and_its_weight_decay_objective(Estimator, data):
    X, y = data
    est = Estimator(alpha=1e-2, random_state=0, tol=1e-8).fit(X, y)
    F = _convex_output(est, X)
    network_out = est._forward(X)
    np.testing.assert_allclose(network_out, F, rtol=1e-10, atol=1e-12)
    W1, W2 = est.coefs_
    b1, b2 = est.intercepts_
    assert W1.shape == (X.shape[1], est.n_neurons_) and W2.shape == (est.n_neurons_,
                                                                    est.n_outputs_)
    # weight decay of the network (output bias unregularized, as in MLP) = group penalty;
    # in the units of y a regressor's program has alpha * s and s^2 times its objective
    scale = _target_scale(est)
    loss = make_loss(est.loss, _targets(est, y))
    weight_decay = 0.5 * est.alpha * scale * (np.sum(W1 ** 2) + np.sum(b1 ** 2)
                                              + np.sum(W2 ** 2))
    assert loss.value(network_out) + weight_decay == pytest.approx(
        scale ** 2 * est.objective_, rel=1e-10)
    assert 0 <= est.duality_gap_ <= est.tol and est.converged_


# --- input types ---------------------------------------------------------------------------

def test_float32_is_kept_end_to_end():
    X, y = _regression()
    est = GatedReLURegressor(random_state=0).fit(X.astype(np.float32), y)
    assert est.converged_ and est.duality_gap_ <= est.tol
    assert est.convex_coef_.dtype == np.float32
    assert est.predict(X.astype(np.float32)).dtype == np.float32
    ref = GatedReLURegressor(random_state=0).fit(X, y)
    assert est.objective_ == pytest.approx(ref.objective_, rel=1e-3)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_gives_the_dense_fit(fmt):
    X, y = _classification(3)
    X[np.abs(X) < 0.7] = 0
    dense = GatedReLUClassifier(random_state=0, tol=1e-8).fit(X, y)
    sp = GatedReLUClassifier(random_state=0, tol=1e-8).fit(sparse.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(sp.gates_, dense.gates_, rtol=1e-12)
    np.testing.assert_allclose(sp.decision_function(sparse.csr_matrix(X)),
                               dense.decision_function(X), rtol=1e-5, atol=1e-6)


def test_dataframe_feature_names_are_kept():
    pd = pytest.importorskip("pandas")
    X, y = _classification()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    est = GatedReLUClassifier(random_state=0).fit(frame, y)
    np.testing.assert_array_equal(est.feature_names_in_, frame.columns)
    np.testing.assert_array_equal(est.predict(frame), est.predict(X))


def test_string_labels_and_probabilities():
    X, y = _classification(3)
    labels = np.array(["ant", "bee", "cat"])[y]
    est = GatedReLUClassifier(random_state=0).fit(X, labels)
    proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], est.predict(X))
    np.testing.assert_allclose(np.exp(est.predict_log_proba(X)), proba, rtol=1e-10)
    assert est.out_activation_ == "softmax" and est.score(X, labels) > 0.9


@pytest.mark.parametrize("n_classes", [2, 3])
def test_squared_error_classifier_probabilities_are_mlps_output_activation(n_classes):
    X, y = _classification(n_classes)
    est = GatedReLUClassifier(loss="squared_error", random_state=0).fit(X, y)
    proba, scores = est.predict_proba(X), est.decision_function(X)
    expected = (np.column_stack([1 - expit(scores), expit(scores)]) if n_classes == 2
                else softmax(scores, axis=1))
    np.testing.assert_allclose(proba, expected, rtol=1e-12)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], est.predict(X))
    assert est.out_activation_ == ("logistic" if n_classes == 2 else "softmax")
    assert est.score(X, y) > 0.9


def test_regressor_keeps_the_shape_of_y():
    X, y = _regression(3)
    est = GatedReLURegressor(random_state=0).fit(X, y)
    assert est.predict(X).shape == (80, 3) and est.n_outputs_ == 3
    assert est.score(X, y) > 0.9
    assert GatedReLURegressor(random_state=0).fit(X, y[:, :1]).predict(X).shape == (80, 1)
    assert GatedReLURegressor(random_state=0).fit(X, y[:, 0]).predict(X).shape == (80,)


# --- fitting behaviour ---------------------------------------------------------------------

def test_same_seed_same_fit_bit_for_bit():
    X, y = _classification(3)
    a = GatedReLUClassifier(random_state=3).fit(X, y)
    b = GatedReLUClassifier(random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.convex_coef_, b.convex_coef_)
    np.testing.assert_array_equal(a.gates_, b.gates_)
    c = GatedReLUClassifier(random_state=4).fit(X, y)
    assert not np.array_equal(a.gates_, c.gates_)


@pytest.mark.parametrize("Estimator,data", [(GatedReLUClassifier, _classification(3, n=40)),
                                            (GatedReLURegressor, _regression(2, n=40))])
def test_sample_weight_equals_repetition_to_solver_tolerance(Estimator, data):
    X, y = data
    w = np.random.default_rng(0).integers(0, 4, size=len(y))
    # tol 1e-7: at 1e-9 the weighted classifier's gap stalled at 1.9e-8 after 200000
    # iterations on an AMD EPYC machine (objectives already equal to 4e-15).
    weighted = Estimator(random_state=0, tol=1e-7, max_iter=200000).fit(
        X, y, sample_weight=w)
    repeated = Estimator(random_state=0, tol=1e-7, max_iter=200000).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w, axis=0))
    assert weighted.converged_ and repeated.converged_
    assert weighted.objective_ == pytest.approx(repeated.objective_, rel=2e-7)
    method = "predict_proba" if Estimator is GatedReLUClassifier else "predict"
    np.testing.assert_allclose(getattr(weighted, method)(X), getattr(repeated, method)(X),
                               atol=1e-3)


def test_warm_start_resumes_from_the_previous_solution():
    X, y = _regression()
    est = GatedReLURegressor(alpha=1e-2, random_state=0, warm_start=True, tol=1e-6).fit(X, y)
    gates, first_iter = est.gates_.copy(), est.n_iter_
    est.fit(X, y)
    np.testing.assert_array_equal(est.gates_, gates)
    assert est.n_iter_ == 0 < first_iter
    est.set_params(alpha=5e-3).fit(X, y)  # a path step starts from the last solution
    cold = GatedReLURegressor(alpha=5e-3, random_state=0, tol=1e-6).fit(X, y)
    assert est.objective_ == pytest.approx(cold.objective_, rel=1e-5)


def test_non_convergence_warns_and_returns_a_usable_model():
    X, y = _classification(3)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        est = GatedReLUClassifier(max_iter=3, tol=1e-12, random_state=0).fit(X, y)
    assert not est.converged_ and est.n_iter_ <= 3
    assert est.duality_gap_ > 1e-12
    assert np.all(np.isfinite(est.predict_proba(X)))


def test_verbose_reports_objective_and_gap(capsys):
    X, y = _classification()
    est = GatedReLUClassifier(verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    # Not a terminal: the bar's first and last states, no redraw characters.
    assert lines and all("objective" in line and "relative gap" in line for line in lines)
    assert lines[-1].endswith("converged") and "|" + "#" * 20 + "|" in lines[-1]
    assert f"iter {est.n_iter_:>6d}/" in lines[-1] and "\r" not in "".join(lines)
    GatedReLUClassifier(verbose=2, random_state=0).fit(X, y)
    log = capsys.readouterr().out.splitlines()
    assert len(log) >= est.n_iter_  # a line per iteration
    GatedReLUClassifier(verbose=0, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


def test_progress_bar_redraws_one_line_on_a_terminal():
    import io

    from skconvexnn._progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = Progress(1, max_iter=100, tol=1e-4, stream=stream)
    bar.update(0, 1.0, 1e-1, force=True)
    bar.update(10, 0.5, 10**-2.5, force=True)  # halfway from 1e-1 to tol, in log scale
    bar.close(20, 0.4, 1e-5, "converged")
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("converged\x1b[K\n")
    assert "|" + "#" * 10 + "." * 10 + "|" in text.split("\r")[2]


def test_works_in_pipeline_and_grid_search():
    X, y = _classification(3, n=90)
    search = GridSearchCV(make_pipeline(StandardScaler(), GatedReLUClassifier(random_state=0)),
                          {"gatedreluclassifier__alpha": [1e-3, 1e-2]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.7
    assert search.best_estimator_[-1].duality_gap_ <= search.best_estimator_[-1].tol


def test_regressor_predictions_shift_with_the_targets():
    X, y = _regression()
    base = GatedReLURegressor(random_state=0, tol=1e-6).fit(X, y)
    shifted = GatedReLURegressor(random_state=0, tol=1e-6).fit(X, y + 1000.0)
    assert base.converged_ and shifted.converged_
    np.testing.assert_allclose(shifted.predict(X) - 1000.0, base.predict(X), atol=1e-6)
    assert shifted.objective_ == pytest.approx(base.objective_, rel=1e-6)
    assert shifted.intercepts_[1][0] == pytest.approx(y.mean() + 1000.0)
    no_bias = GatedReLURegressor(random_state=0, fit_intercept=False).fit(X, y)
    assert not no_bias.intercepts_[1].any()


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_regressor_predictions_scale_with_the_targets(loss):
    # The program fits y over its scale: on 1000 y + 500 it is the program on y, not one
    # 1000 times less regularized that the default max_iter cannot certify.
    X, y = _regression()
    base = GatedReLURegressor(loss=loss, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        raw = GatedReLURegressor(loss=loss, random_state=0).fit(X, 1000 * y + 500)
    assert base.converged_ and raw.converged_ and raw.n_iter_ <= 3 * base.n_iter_
    assert raw.target_scale_ == pytest.approx(1000 * base.target_scale_, rel=1e-12)
    if loss == "squared_error":
        assert base.target_scale_ == pytest.approx(np.std(y), rel=1e-12)
    else:  # a robust spread: the median absolute deviation, in standard deviations
        mad = np.median(np.abs(y - np.median(y)))
        assert base.target_scale_ == pytest.approx(1.4826 * mad, rel=0.05)
    # One program (Huber's location is found to 1e-10, not exactly shifted): the two
    # objectives are within their certified gaps of its optimum, and the predictions
    # agree (exactly, up to rounding, for the squared error's exact mean).
    bound = raw.duality_gap_ * raw.objective_ + base.duality_gap_ * base.objective_
    assert abs(raw.objective_ - base.objective_) <= bound + 1e-12
    exact = loss == "squared_error"
    np.testing.assert_allclose(raw.predict(X), 1000 * base.predict(X) + 500,
                               rtol=1e-6 if exact else 0,
                               atol=(1e-6 if exact else 1e-2) * raw.target_scale_)


def test_target_scale_is_one_for_constant_targets_and_a_poisson_loss():
    X, y = _regression()
    constant = GatedReLURegressor(random_state=0).fit(X, np.full(len(y), 3.0))
    assert constant.target_scale_ == 1
    with warnings.catch_warnings():  # only the scale matters here, not the optimum
        warnings.simplefilter("ignore", ConvergenceWarning)
        poisson = GatedReLURegressor(loss="poisson", random_state=0, max_iter=20).fit(
            X, np.round(5 * np.abs(y)))
    assert poisson.target_scale_ == 1


def test_warm_started_fit_is_certified_against_a_cold_reference():
    X, y = _classification(3)
    ref = GatedReLUClassifier(alpha=3e-3, random_state=0, tol=1e-10, max_iter=100000).fit(X, y)
    est = GatedReLUClassifier(alpha=3e-2, random_state=0, warm_start=True).fit(X, y)
    est.set_params(alpha=3e-3, tol=1e-4).fit(X, y)
    np.testing.assert_array_equal(est.gates_, ref.gates_)
    assert est.converged_
    assert est.objective_ - ref.objective_ <= est.duality_gap_ * est.objective_ + 1e-12


def test_warm_start_does_not_reuse_gates_across_fit_intercept():
    X, y = _regression()
    est = GatedReLURegressor(random_state=0, warm_start=True).fit(X, y)
    X_more = np.hstack([X, X[:, :1] ** 2])  # one more feature, intercept column dropped
    est.set_params(fit_intercept=False).fit(X_more, y)
    assert est.gates_.shape[0] == X_more.shape[1]
    cold = GatedReLURegressor(random_state=0, fit_intercept=False).fit(X_more, y)
    np.testing.assert_array_equal(est.gates_, cold.gates_)


@pytest.mark.parametrize("solver", ["working_set", "fista"])
def test_float32_sparse_input_and_both_solvers(solver):
    X, y = _classification(3)
    X[np.abs(X) < 0.5] = 0
    X32 = sparse.csr_matrix(X.astype(np.float32))
    est = GatedReLUClassifier(random_state=0, solver=solver).fit(X32, y)
    ref = GatedReLUClassifier(random_state=0, solver=solver, tol=1e-8).fit(X, y)
    assert est.convex_coef_.dtype == np.float32 and est.converged_
    assert est.decision_function(X32).dtype == np.float32
    assert est.objective_ - ref.objective_ <= est.duality_gap_ * est.objective_ + 1e-6


def test_class_with_only_zero_weight_is_kept_but_never_predicted():
    X, y = _classification(3)
    w = (y != 2).astype(float)
    est = GatedReLUClassifier(random_state=0).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    assert est.predict_proba(X).shape == (80, 3)
    assert 2 not in est.predict(X)

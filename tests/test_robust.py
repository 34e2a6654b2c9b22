"""The robust ReLU program: optimum against CVXPY, reduction to eps = 0, the
certificate against attacks, and bad input."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skconvexnn import (ConvexReLUClassifier, ConvexReLURegressor,
                        RobustConvexReLUClassifier, RobustConvexReLURegressor,
                        solve_robust_relu)
from skconvexnn._core.robust import project_pattern_set
from skconvexnn.attacks import certified_bounds, pgd
from skconvexnn.patterns import activation_patterns, add_intercept_column, robust_gates


def _cvxpy_robust_objective(X, Y, gates, alpha, eps, loss, n_perturbed):
    """The robust program written directly in CVXPY (one output), solved by Clarabel."""
    mask, _ = activation_patterns(X, gates)
    M = mask.astype(float)
    n, d = X.shape
    P = M.shape[1]
    m = n_perturbed
    y = Y[:, 0]
    V, W = cp.Variable((d, P)), cp.Variable((d, P))
    f = cp.sum(cp.multiply(M, X @ (V - W)), axis=1)
    constraints = []
    for j in range(P):
        sign = 2 * M[:, j] - 1
        for U in (V, W):
            constraints.append(cp.multiply(sign, X @ U[:, j]) >= eps * cp.norm1(U[:m, j]))
    spread = eps * cp.sum(cp.abs(M @ (V[:m] - W[:m]).T), axis=1)
    if loss == "log_loss":
        data = cp.sum(cp.logistic(spread - cp.multiply(y, f))) / n
    elif loss == "hinge":
        data = cp.sum(cp.pos(1 + spread - cp.multiply(y, f))) / n
    else:
        data = cp.sum(cp.square(cp.abs(y - f) + spread)) / (2 * n)
    penalty = alpha * (cp.sum(cp.norm(V, axis=0)) + cp.sum(cp.norm(W, axis=0)))
    problem = cp.Problem(cp.Minimize(data + penalty), constraints)
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return problem.value


def _small_problem(loss, seed=0, n=36, d=3, n_gates=6):
    rng = np.random.default_rng(seed)
    X0 = rng.standard_normal((n, d))
    if loss == "squared_error":
        y = np.maximum(X0[:, 0], 0) - X0[:, 1] + 0.1 * rng.standard_normal(n)
    else:
        y = np.sign(X0[:, 0] + 0.5 * X0[:, 1] ** 2 - 0.3 + 0.3 * rng.standard_normal(n))
    return add_intercept_column(X0), y[:, None], rng.standard_normal((d + 1, n_gates))


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "squared_error"])
@pytest.mark.parametrize("eps", [0.0, 0.05, 0.15])
def test_optimum_matches_cvxpy(loss, eps):
    X, Y, gates = _small_problem(loss)
    expected = _cvxpy_robust_objective(X, Y, gates, 1e-2, eps, loss, n_perturbed=3)
    solution = solve_robust_relu(X, Y, gates, 1e-2, eps, loss=loss, n_perturbed=3,
                                 tol=1e-9, max_iter=100000)
    assert solution.converged
    assert solution.objective == pytest.approx(expected, rel=1e-6)
    assert solution.dual_objective <= expected * (1 + 1e-9)
    assert solution.constraint_violation < 1e-7
    assert solution.worst_case_loss > 0


def test_pattern_set_projection_matches_cvxpy():
    rng = np.random.default_rng(3)
    for eps in (0.1, 0.5, 2.0):
        s0, t0 = rng.standard_normal(12), rng.standard_normal(4)
        s, t = np.empty(12), np.empty(4)
        project_pattern_set(s0, t0, eps, s, t)
        S, T = cp.Variable(12), cp.Variable(4)
        cp.Problem(cp.Minimize(cp.sum_squares(S - s0) + cp.sum_squares(T - t0)),
                   [S >= eps * cp.norm1(T)]).solve(solver="CLARABEL")
        np.testing.assert_allclose(s, S.value, atol=1e-7)
        np.testing.assert_allclose(t, T.value, atol=1e-7)
        assert s.min() >= eps * np.abs(t).sum() - 1e-12


def _blobs(seed=0, n=80):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = (X[:, 0] + 0.8 * X[:, 1] > 0.2).astype(int)
    return X, y


@pytest.mark.parametrize("Model, Plain", [(RobustConvexReLUClassifier, ConvexReLUClassifier),
                                          (RobustConvexReLURegressor, ConvexReLURegressor)])
def test_eps_zero_is_the_relu_program(Model, Plain):
    X, y = _blobs()
    if Model is RobustConvexReLURegressor:
        y = np.maximum(X[:, 0], 0) - X[:, 1]
    params = dict(n_patterns=10, alpha=1e-2, random_state=0, tol=1e-7)
    robust = Model(eps=0.0, max_iter=200000, **params).fit(X, y)
    plain = Plain(max_iter=100000, **params).fit(X, y)
    np.testing.assert_array_equal(robust.gates_, plain.gates_)
    assert robust.objective_ == pytest.approx(plain.objective_, rel=1e-5)
    np.testing.assert_allclose(robust.predict(X), plain.predict(X), atol=1e-3)


@pytest.fixture(scope="module")
def robust_binary():
    X, y = _blobs(1)
    clf = RobustConvexReLUClassifier(eps=0.1, n_patterns=10, alpha=1e-3, tol=1e-6,
                                     max_iter=100000, random_state=0).fit(X, y)
    return clf, X, y


def test_certificate_holds_against_pgd(robust_binary):
    clf, X, y = robust_binary
    assert clf.converged_
    assert clf.n_neurons_ > 0 and np.any(clf.coefs_[0] != 0)
    worst, certified = certified_bounds(clf, X, y, 0.1, loss="log_loss")
    _, attacked = pgd(clf, X, y, 0.1, loss="log_loss", n_steps=50, n_restarts=5,
                      random_state=0, return_losses=True)
    assert np.all(attacked <= worst + 1e-8)
    # The bound is tight: the attack reaches it where the loss is linear in delta.
    assert np.max(worst - attacked) < 1e-6
    X_adv = pgd(clf, X, y, 0.1, n_steps=50, n_restarts=5, random_state=0)
    assert np.mean(clf.predict(X_adv) == y) >= clf.certified_accuracy_
    assert clf.certified_accuracy_ == pytest.approx(np.mean(certified))
    assert clf.robust_loss_ == pytest.approx(np.mean(worst))


def test_robust_loss_is_the_programs_loss(robust_binary):
    clf = robust_binary[0]
    penalty = clf.alpha * np.sqrt(np.einsum("sdpk,sdpk->spk", clf.convex_coef_,
                                            clf.convex_coef_)).sum()
    assert clf.robust_loss_ == pytest.approx(clf.objective_ - penalty, rel=1e-6)
    # Relative to max ||x|| * max ||u|| the solver stops below tol (1e-6).
    assert clf.constraint_violation_ < 1e-4


def test_multiclass_one_vs_rest_certificate():
    rng = np.random.default_rng(2)
    centers = np.array([[0, 0], [3, 0], [0, 3]])
    y = rng.integers(0, 3, 90)
    X = centers[y] + 0.5 * rng.standard_normal((90, 2))
    clf = RobustConvexReLUClassifier(eps=0.2, n_patterns=8, tol=1e-5, max_iter=100000,
                                     random_state=0).fit(X, y)
    assert clf.n_outputs_ == 3
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    worst, _ = certified_bounds(clf, X, y, 0.2, loss="log_loss")
    _, attacked = pgd(clf, X, y, 0.2, loss="log_loss", random_state=0, return_losses=True)
    assert np.all(attacked <= worst + 1e-8)
    X_adv = pgd(clf, X, y, 0.2, random_state=0)
    assert np.mean(clf.predict(X_adv) == y) >= clf.certified_accuracy_ > 0.8


def test_regressor_certificate_holds_against_pgd():
    rng = np.random.default_rng(4)
    X = rng.uniform(-1, 1, size=(60, 2))
    y = np.maximum(X[:, 0], 0) - X[:, 1]
    reg = RobustConvexReLURegressor(eps=0.05, n_patterns=8, alpha=1e-3, tol=1e-6,
                                    max_iter=100000, random_state=0).fit(X, y)
    worst, _ = certified_bounds(reg, X, y, 0.05)
    _, attacked = pgd(reg, X, y, 0.05, random_state=0, return_losses=True)
    assert np.all(attacked <= worst + 1e-8)
    assert reg.robust_loss_ == pytest.approx(np.mean(worst))
    assert reg.score(X, y) > 0.9


def test_robust_model_is_more_robust_than_plain():
    X, y = _blobs(5, n=120)
    robust = RobustConvexReLUClassifier(eps=0.3, n_patterns=10, random_state=0).fit(X, y)
    plain = ConvexReLUClassifier(n_patterns=10, random_state=0).fit(X, y)
    # On its training points the robust model's loss bound holds; the plain one's
    # worst case (bounded the same way) is larger.
    assert robust.robust_loss_ < np.mean(certified_bounds(plain, X, y, 0.3)[0])


@pytest.mark.parametrize("eps", [-0.1, np.inf, np.nan])
def test_bad_eps_raises(eps):
    X, y = _blobs()
    with pytest.raises(ValueError, match="eps"):
        RobustConvexReLUClassifier(eps=eps).fit(X, y)
    with pytest.raises(ValueError, match="eps"):
        solve_robust_relu(add_intercept_column(X), 2.0 * y - 1, np.ones((4, 2)), 1e-3, eps)


def test_huge_eps_gives_the_zero_network_and_says_why():
    X, y = _blobs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="zero network"):
            clf = RobustConvexReLUClassifier(eps=50.0, n_patterns=10, random_state=0).fit(X, y)
    assert not np.any(clf.coefs_[0])
    assert clf.converged_
    # A valid fit: it predicts one class, and its loss bound is that of the constant.
    assert len(np.unique(clf.predict(X))) == 1
    assert clf.robust_loss_ <= np.log(2) + 1e-6


def test_robust_gates_are_feasible_units():
    X, _ = _blobs()
    X_aug = add_intercept_column(X)
    gates = robust_gates(X_aug, np.random.default_rng(0).standard_normal((4, 10)), 0.1,
                         n_perturbed=3)
    margins = np.abs(X_aug @ gates)
    need = 0.1 * np.abs(gates[:3]).sum(axis=0)
    assert np.all(margins >= need - 1e-12)
    assert np.any(np.all(gates[:3] == 0, axis=0))  # the constant unit


def test_warm_start_reuses_the_solution():
    X, y = _blobs()
    clf = RobustConvexReLUClassifier(eps=0.1, n_patterns=10, random_state=0,
                                     warm_start=True).fit(X, y)
    first = clf.n_iter_
    clf.fit(X, y)
    assert clf.n_iter_ < first

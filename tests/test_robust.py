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
from skconvexnn._core.robust import project_pattern_set, project_pattern_sets
from skconvexnn.attacks import certified_bounds, pgd
from skconvexnn.functional import certificate_holds
from skconvexnn.losses import Huber
from skconvexnn.patterns import activation_patterns, add_intercept_column, robust_gates
from skconvexnn.penalties import ConeConstrainedGroupL2
from skconvexnn.solvers.pdhg import (RobustOperator, _slack, _violation, restore_feasibility,
                                     strictly_feasible_direction)

from certificate_checks import check_certificate


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
    elif loss == "huber":
        # H(z) = min {u^2 / 2 + delta v : u + v >= z, v >= 0} (delta = 1): DCP for a
        # convex, non-negative z = |y - f| + spread, where cp.huber(z) is not.
        u, v = cp.Variable(n), cp.Variable(n, nonneg=True)
        constraints.append(u + v >= cp.abs(y - f) + spread)
        data = cp.sum(cp.square(u) / 2 + v) / n
    else:
        data = cp.sum(cp.square(cp.abs(y - f) + spread)) / (2 * n)
    penalty = alpha * (cp.sum(cp.norm(V, axis=0)) + cp.sum(cp.norm(W, axis=0)))
    problem = cp.Problem(cp.Minimize(data + penalty), constraints)
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    return problem.value


def _small_problem(loss, seed=0, n=36, d=3, n_gates=6):
    rng = np.random.default_rng(seed)
    X0 = rng.standard_normal((n, d))
    if loss in ("squared_error", "huber"):
        y = np.maximum(X0[:, 0], 0) - X0[:, 1] + 0.1 * rng.standard_normal(n)
        if loss == "huber":  # outliers beyond Huber's delta = 1
            y[:4] += 4 * rng.choice([-1.0, 1.0], size=4)
    else:
        y = np.sign(X0[:, 0] + 0.5 * X0[:, 1] ** 2 - 0.3 + 0.3 * rng.standard_normal(n))
    return add_intercept_column(X0), y[:, None], rng.standard_normal((d + 1, n_gates))


@pytest.mark.parametrize("loss", ["log_loss", "hinge", "squared_error", "huber"])
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


def _squared_distance(S, T, s0, t0):
    return float(np.sum((S.value - s0) ** 2) + np.sum((T.value - t0) ** 2))


@pytest.mark.parametrize("eps", [0.01, 0.3, 2.0])
def test_batched_pattern_set_projections_match_cvxpy_column_by_column(eps):
    # Columns of every kind: inside the set, projected to tau = 0, and in between.
    rng = np.random.default_rng(4)
    n, m, G = 30, 6, 9
    S0 = rng.standard_normal((n, G)) + np.linspace(-1.0, 3.0, G)
    T0 = rng.standard_normal((m, G)) * np.linspace(0.1, 2.0, G)
    S0[:, 0] = 5.0 + np.abs(S0[:, 0])  # inside for every eps here
    T0[:, 0] = 0.1
    S, T = np.empty_like(S0), np.empty_like(T0)
    project_pattern_sets(S0, T0, eps, S, T)
    assert np.all(S.min(axis=0) >= eps * np.abs(T).sum(axis=0) - 1e-12)
    np.testing.assert_array_equal(S[:, 0], S0[:, 0])
    for g in range(G):
        Sg, Tg = cp.Variable(n), cp.Variable(m)
        cp.Problem(cp.Minimize(cp.sum_squares(Sg - S0[:, g]) + cp.sum_squares(Tg - T0[:, g])),
                   [Sg >= eps * cp.norm1(Tg)]).solve(solver="CLARABEL")
        # Feasible (above) and no farther from the point than Clarabel's answer,
        # which is itself accurate to about 1e-6 here.
        distance = np.sum((S[:, g] - S0[:, g]) ** 2) + np.sum((T[:, g] - T0[:, g]) ** 2)
        assert distance <= (1 + 1e-9) * _squared_distance(Sg, Tg, S0[:, g], T0[:, g])
        np.testing.assert_allclose(S[:, g], Sg.value, atol=1e-4)
        np.testing.assert_allclose(T[:, g], Tg.value, atol=1e-4)
        s, t = np.empty(n), np.empty(m)
        project_pattern_set(S0[:, g], T0[:, g], eps, s, t)
        np.testing.assert_allclose(S[:, g], s, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(T[:, g], t, rtol=1e-12, atol=1e-13)


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
    plain = Plain(max_iter=100000, **params).fit(X, y)
    # The plain regressor fits y over its scale; the robust one fits y as given.
    scale = getattr(plain, "target_scale_", 1.0)
    robust = Model(eps=0.0, max_iter=200000, **params).fit(X, y / scale)
    np.testing.assert_array_equal(robust.gates_, plain.gates_)
    assert robust.objective_ == pytest.approx(plain.objective_, rel=1e-5)
    np.testing.assert_allclose(scale * robust.predict(X), plain.predict(X), atol=1e-3)


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
    # The bounds hold at any weights returned: a loose tolerance is enough.
    reg = RobustConvexReLURegressor(eps=0.05, n_patterns=8, alpha=1e-3, tol=1e-4,
                                    max_iter=100000, random_state=0).fit(X, y)
    assert reg.converged_
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


def _noisy_line(seed, n=60):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    flip = rng.rand(n) < 0.1
    y[flip] = 1 - y[flip]
    return X, y


def test_returned_weights_satisfy_the_constraints_the_iterate_violated():
    # PDHG's iterate here meets tol on the gap and on the relative violation, yet
    # violates its sets by 2e-3: the solver must restore feasibility before it
    # certifies.
    X, y = _noisy_line(0)
    clf = RobustConvexReLUClassifier(n_patterns=50, alpha=1e-3, eps=0.15,
                                     random_state=0).fit(X, y)
    assert clf.converged_ and clf.duality_gap_ <= clf.tol
    assert clf.constraint_violation_ <= 1e-8
    check_certificate(clf, X, y)


def test_restore_feasibility_moves_violating_units_inside_their_sets():
    X, _ = _blobs()
    X_aug = add_intercept_column(X)
    gates = robust_gates(X_aug, np.random.default_rng(0).standard_normal((4, 10)), 0.1,
                         n_perturbed=3)
    mask, _ = activation_patterns(X_aug, gates)
    op = RobustOperator(X_aug, mask, 3)
    P = mask.shape[1]
    rng = np.random.default_rng(1)
    U = np.hstack([gates[:, :P], gates[:, :P]]) + 0.3 * rng.standard_normal((4, 2 * P))
    U[:, 1] = 0.0  # zero units stay zero
    assert _violation(op, U, 0.1) > 0.01
    restored = restore_feasibility(op, U, 0.1, 1e-12)
    assert _violation(op, restored, 0.1) == 0.0
    np.testing.assert_array_equal(restored[:, 1], 0.0)
    # Only violating units move, and by an amount proportional to their violation.
    slack = _slack(op, U, 0.1)
    np.testing.assert_array_equal(restored[:, slack >= 0], U[:, slack >= 0])


def test_restoration_moves_a_unit_to_the_nearest_point_of_its_set():
    # A unit that violates its set by a little moves by a little: as far as the nearest
    # point of the set in the l1 distance (CVXPY), not along a direction of the pattern
    # (which moved the largest unit of a breast_cancer fit from norm 2.4 to 7.6).
    X, _ = _blobs()
    X_aug = add_intercept_column(X)
    eps = 0.1
    gates = robust_gates(X_aug, np.random.default_rng(0).standard_normal((4, 10)), eps,
                         n_perturbed=3)
    mask, _ = activation_patterns(X_aug, gates)
    op = RobustOperator(X_aug, mask, 3)
    P = mask.shape[1]
    U = np.hstack([gates[:, :P], gates[:, :P]])
    U = U + 0.05 * np.abs(U).max(axis=0) * np.random.default_rng(2).standard_normal(U.shape)
    slack = _slack(op, U, eps)
    violating = np.flatnonzero(slack < 0)
    assert len(violating) >= 3
    restored = restore_feasibility(op, U, eps, 1e-12)
    assert _violation(op, restored, eps) == 0.0
    for g in violating:
        w = cp.Variable(4)
        signs = op.E[:, g]
        problem = cp.Problem(cp.Minimize(cp.norm1(w - U[:, g])),
                             [cp.multiply(signs, X_aug @ w) >= eps * cp.norm1(w[:3])])
        problem.solve(solver="CLARABEL")
        moved = np.abs(restored[:, g] - U[:, g]).sum()
        assert moved <= problem.value * (1 + 1e-3) + 1e-5 * np.abs(U[:, g]).sum()


def test_a_unit_without_a_strictly_feasible_direction_is_zeroed():
    # eps larger than any gap in the data: only zero satisfies a non-constant pattern.
    X = np.linspace(-1, 1, 20)[:, None]
    X_aug = add_intercept_column(X)
    mask = (X[:, :1] >= 0).astype(np.uint8)
    op = RobustOperator(X_aug, mask, 1)
    U = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert strictly_feasible_direction(X_aug, op.E[:, 0], 2.0, 1)[0] is None
    np.testing.assert_array_equal(restore_feasibility(op, U, 2.0, 1e-12), 0.0)


@pytest.mark.parametrize("seed, eps, alpha, n_classes", [
    (0, 0.05, 1e-3, 2), (1, 0.2, 1e-2, 2), (2, 0.1, 1e-3, 3), (3, 0.3, 3e-3, 3)])
def test_certificate_against_the_exact_worst_case(seed, eps, alpha, n_classes):
    # Random draws of eps, alpha and data; every fit's certificate is checked against
    # the exact worst case over the l_inf balls (a mixed-integer program per sample).
    rng = np.random.RandomState(seed)
    if n_classes == 2:
        X, y = _noisy_line(seed, n=50)
    else:
        centers = np.array([[0, 0], [2.5, 0], [0, 2.5]])
        y = rng.randint(0, 3, 50)
        X = centers[y] + 0.7 * rng.standard_normal((50, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = RobustConvexReLUClassifier(n_patterns=15, eps=eps, alpha=alpha,
                                         random_state=seed).fit(X, y)
    check_certificate(clf, X, y)


def test_a_void_certificate_is_nan_with_a_warning(monkeypatch):
    # Take the cone projections away: FISTA's iterates leave their cones, and the
    # estimator must not report a gap it cannot stand behind.
    X, y = _blobs()
    monkeypatch.setattr(ConeConstrainedGroupL2, "project",
                        lambda self, V, *a, with_products=False, **k:
                        (V, None) if with_products else V)
    with pytest.warns(ConvergenceWarning, match="certifies nothing"):
        clf = ConvexReLUClassifier(n_patterns=10, random_state=0).fit(X, y)
    assert np.isnan(clf.duality_gap_) and not clf.converged_
    assert clf.constraint_violation_ > 1e-3
    check_certificate(clf, X, y)


def test_certificate_holds_only_up_to_rounding():
    X = np.ones((3, 2))
    weights = np.ones((2, 2, 1, 1))
    assert certificate_holds(0.0, X, weights, np.float64)
    assert certificate_holds(1e-13, X, weights, np.float64)
    assert not certificate_holds(1e-6, X, weights, np.float64)
    assert certificate_holds(1e-6, X, weights, np.float32)
    assert not certificate_holds(1e-2, X, weights, np.float32)


def test_robust_estimators_refuse_threads_they_cannot_use():
    X, y = _blobs()
    with pytest.raises(ValueError, match="n_jobs must be None or 1"):
        RobustConvexReLUClassifier(n_patterns=5, n_jobs=2).fit(X, y)
    with pytest.raises(ValueError, match="n_jobs must be None or 1"):
        solve_robust_relu(add_intercept_column(X), 2.0 * y - 1.0,
                          np.ones((X.shape[1] + 1, 2)), 1e-2, 0.1, n_jobs=-1)


def test_robust_program_is_the_same_on_the_numpy_backend():
    X, Y, gates = _small_problem("log_loss")
    numba = solve_robust_relu(X, Y, gates, 1e-2, 0.05, n_perturbed=3, max_iter=400,
                              backend="numba")
    numpy = solve_robust_relu(X, Y, gates, 1e-2, 0.05, n_perturbed=3, max_iter=400,
                              backend="numpy")
    assert numpy.objective == pytest.approx(numba.objective, rel=1e-10)


def test_robust_huber_regressor_certifies_its_worst_case():
    X, y = _small_problem("huber", n=60)[0][:, :-1], _small_problem("huber", n=60)[1][:, 0]
    reg = RobustConvexReLURegressor(eps=0.05, loss=Huber(delta=0.5), n_patterns=10,
                                    alpha=1e-2, random_state=0, tol=1e-5).fit(X, y)
    assert reg.converged_ and reg.constraint_violation_ == 0.0
    worst, _ = certified_bounds(reg, X, y, 0.05, loss=reg.loss)
    assert reg.robust_loss_ == pytest.approx(worst.mean(), rel=1e-12)
    _, attacked = pgd(reg, X, y, 0.05, loss=reg.loss, random_state=0, return_losses=True)
    assert reg.robust_loss_ >= Huber(delta=0.5).pointwise(reg.predict(X) - y).mean()
    assert np.all(attacked <= worst + 1e-9)
    check_certificate(reg, X, y)

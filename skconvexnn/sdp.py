"""The SDP relaxation of two-layer ReLU training: a lower bound over every width.

Prakhya, Birdal & Yurtsever (2024) write the training of a two-layer ReLU network of
*any* width with weight decay as a completely positive program over the lifted matrix
``Lambda = sum_j lambda_j lambda_j^T`` of the neurons' vectors

    lambda_j = [alpha_j; beta_j; u_j; v_j],  alpha_j = (X u_j)_+,  beta_j = (-X u_j)_+,

of size ``p = 2n + d + c``, and relax it to the doubly nonnegative program

    min  1/2 sum_i w_i ||(P_alpha Lambda P_v^T)_i + b - y_i||^2 + (beta / 2) <Q, Lambda>
    s.t. Lambda PSD,  M Lambda M^T = 0,  diag(P_alpha Lambda P_beta^T) = 0,
         the (alpha, beta) blocks of Lambda >= 0 entrywise,

with ``M = [-I, I, X, 0]`` (``alpha - beta = X u``), ``Q`` the selector of the ``(u, v)``
diagonal, ``b`` a free output bias (this module's addition: the bound then covers
networks with an unregularized output bias) and row weights ``w_i`` of mean 1. Every
two-layer ReLU network (hidden bias inside ``u`` through a column of ones in ``X``)
lifts to a feasible point with the same objective, so the relaxation's optimum is a
**lower bound** on the weight-decay objective of every such network.

**Scaling.** The seed writes ``1/2 ||F - Y||^2 + (beta/2)(||U||^2 + ||V||^2)``. The
library's programs minimise ``sum_i w_i ||f_i - y_i||^2 / (2c) + alpha * (1/2)(||U||^2
+ ||V||^2)`` with weights summing to 1 (the squared loss of
:class:`~skconvexnn.losses.SquaredError`, the penalty the exported networks pay), which
is the seed's objective divided by ``n c`` at ``beta = n c alpha``. Every value this
module returns is in the library's scaling.

**Reduction.** ``Lambda`` PSD with ``M Lambda M^T = 0`` gives ``M Lambda = 0``, so
``Lambda = T Z T^T`` with ``Z`` PSD of size ``q = n + d + c`` and ``T`` the map from
``(beta, u, v)`` to ``lambda`` (``alpha = beta + X u``): the equalities disappear and
the PSD block shrinks to ``q``. :func:`cvxpy_sdp_relaxation` hands this form to a conic
solver; :class:`SDPRelaxation` projects onto ``{T Z T^T : Z PSD}`` with ``N = T C^-T``
(``T^T T = C C^T``), an orthonormal basis of ``T``'s range, in one symmetric
eigendecomposition of size ``q``.

**Solver.** Douglas-Rachford splitting (:func:`~skconvexnn.solvers.douglas_rachford.
douglas_rachford`) between that PSD set and the rest (the nonnegativity, the
complementarity and the objective, whose proximal map is entrywise), with Anderson
acceleration.

**Certificate.** At ``z`` the proximal step gives a multiplier ``G = rho (z - x)`` that
satisfies every dual constraint but the PSD one exactly. Its value
``g(G) = -<Theta, Y> - 1/2 sum_i ||Theta_i||^2 / w_i`` (``Theta = 2 G_{alpha v}``, with
column sums zero for the free bias) is a lower bound once ``T^T G T`` is PSD; where it is
not, ``G`` is mixed with a strictly feasible multiplier ``G_s`` (``Theta = 0`` and
``t = beta / (2 ||X||_2^2)`` on the complementarity diagonal, ``T^T G_s T`` positive
definite): with ``mu`` the smallest generalized eigenvalue of ``(T^T G T, T^T G_s T)``,
``(G + |mu| G_s) / (1 + |mu|)`` is dual feasible, and its value, never below
``g(G) / (1 + |mu|)``, is the bound reported. It holds however far the splitting is from
converging.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning

from .solvers.douglas_rachford import douglas_rachford

#: The solvers of :func:`solve_sdp_relaxation`.
SDP_SOLVERS = ("douglas-rachford", "clarabel", "scs")


class SDPRelaxation:
    """The doubly nonnegative relaxation of two-layer ReLU training on one data set.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs of the hidden layer (with a column of ones for a hidden bias).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets.
    alpha : float
        Weight decay, in the library's scaling (module docstring).
    sample_weight : ndarray of shape (n_samples,), default=None
        Positive row weights (rows of weight zero must be removed beforehand).
    fit_output_bias : bool, default=True
        Whether the networks bounded have a free, unregularized output bias.
    input_scale, output_scale : float, default=None
        The lifted coordinates the splitting works in: ``alpha`` and ``beta`` divided by
        ``input_scale``, ``v`` by ``output_scale`` (a diagonal change of variables:
        the same program, another geometry for the splitting). ``None`` gives
        ``||X||_2 / sqrt(n)`` and 1.
    """

    def __init__(self, X, Y, alpha, sample_weight=None, fit_output_bias=True,
                 input_scale=None, output_scale=None):
        X = np.ascontiguousarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        if X.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise ValueError(f"X (n, d) and Y (n, c) must have the same rows; got "
                             f"{X.shape} and {Y.shape}.")
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be positive and finite; got {alpha!r}.")
        n, d = X.shape
        c = Y.shape[1]
        if sample_weight is None:
            w = np.ones(n)
        else:
            w = np.asarray(sample_weight, dtype=np.float64)
            if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise ValueError("sample_weight must hold one positive, finite weight per "
                                 "row (drop rows of weight zero first).")
            w = w * (n / w.sum())
        self.X, self.Y, self.alpha = X, Y, float(alpha)
        self.weights = w
        self.fit_output_bias = bool(fit_output_bias)
        self.n, self.d, self.c = n, d, c
        self.p, self.q = 2 * n + d + c, n + d + c
        self.beta = n * c * self.alpha
        sigma = np.linalg.norm(X, 2)
        if input_scale is None:
            input_scale = sigma / np.sqrt(n) if sigma > 0 else 1.0
        self.input_scale = float(input_scale)
        self.output_scale = float(1.0 if output_scale is None else output_scale)
        # Lifted coordinates: alpha' = alpha / s_a, beta' = beta / s_a, u' = u,
        # v' = v / s_v; so alpha' - beta' = X_s u', outputs = kappa * Lambda'_{alpha v}.
        self._Xs = X / self.input_scale
        self._kappa = self.input_scale * self.output_scale
        self._uv_weight = self.beta * np.concatenate(
            [np.ones(d), np.full(c, self.output_scale ** 2)])
        #: Library objective = seed objective * scale.
        self.scale = 1.0 / (n * c)
        self._a = slice(0, n)
        self._b = slice(n, 2 * n)
        self._u = slice(2 * n, 2 * n + d)
        self._v = slice(2 * n + d, self.p)
        self._rows = np.arange(n)
        self._uv = np.arange(2 * n, self.p)
        # T^T T = C C^T (dense q x q Cholesky factor).
        R = np.zeros((self.q, self.q))
        R[:n, :n] = 2 * np.eye(n)
        Xs = self._Xs
        R[:n, n:n + d] = Xs
        R[n:n + d, :n] = Xs.T
        R[n:n + d, n:n + d] = np.eye(d) + Xs.T @ Xs
        R[n + d:, n + d:] = np.eye(c)
        self._chol = linalg.cholesky(R, lower=True)
        # The strictly feasible multiplier G_s, through S_s = T^T G_s T.
        sigma2 = max((sigma / self.input_scale) ** 2, np.finfo(float).tiny)
        t = self.beta / (2 * sigma2)
        S_s = np.zeros((self.q, self.q))
        S_s[:n, :n] = 2 * t * np.eye(n)
        S_s[:n, n:n + d] = t * Xs
        S_s[n:n + d, :n] = t * Xs.T
        S_s[n:, n:] += np.diag(self._uv_weight / 2)
        self._strict_t = t
        self._strict_S = S_s

    # --- the lifted space --------------------------------------------------------------

    def _T_right(self, W):
        """``W T`` for ``W`` with ``p`` columns."""
        n, d = self.n, self.d
        out = np.empty((W.shape[0], self.q))
        out[:, :n] = W[:, self._a] + W[:, self._b]
        out[:, n:n + d] = W[:, self._a] @ self._Xs + W[:, self._u]
        out[:, n + d:] = W[:, self._v]
        return out

    def _T_apply(self, F):
        """``T F`` for ``F`` with ``q`` rows."""
        n, d = self.n, self.d
        out = np.empty((self.p, F.shape[1]))
        out[self._a] = F[:n] + self._Xs @ F[n:n + d]
        out[self._b] = F[:n]
        out[self._u] = F[n:n + d]
        out[self._v] = F[n + d:]
        return out

    def congruence(self, W):
        """``T^T W T`` (q x q) of a symmetric ``W`` (p x p)."""
        WT = self._T_right(W)
        S = self._T_right(WT.T)
        return (S + S.T) / 2

    def project_psd(self, W):
        """Frobenius projection of a symmetric ``W`` onto ``{T Z T^T : Z PSD}``.

        Returns ``(Lambda, factor)`` with ``Lambda = factor @ factor.T``.
        """
        S = self.congruence(W)
        S = linalg.solve_triangular(self._chol, S, lower=True)
        S = linalg.solve_triangular(self._chol, S.T, lower=True)
        S = (S + S.T) / 2
        values, vectors = linalg.eigh(S, overwrite_a=True, check_finite=False)
        positive = values > 0
        root = vectors[:, positive] * np.sqrt(values[positive])
        factor = self._T_apply(linalg.solve_triangular(self._chol, root, lower=True,
                                                       trans="T"))
        return factor @ factor.T, factor

    def output_bias(self, outputs):
        """The optimal free output bias (c,) for the lifted outputs (n, c)."""
        if not self.fit_output_bias:
            return np.zeros(self.c)
        return np.average(self.Y - outputs, axis=0, weights=self.weights)

    def seed_objective(self, Lambda):
        """The relaxation's objective in the seed's scaling at ``Lambda`` (p x p)."""
        outputs = self._kappa * Lambda[self._a, self._v]
        r = outputs + self.output_bias(outputs) - self.Y
        return float(0.5 * np.einsum("i,ij,ij->", self.weights, r, r)
                     + 0.5 * np.dot(self._uv_weight, Lambda[self._uv, self._uv]))

    def objective(self, Lambda):
        """The relaxation's objective at ``Lambda``, in the library's scaling."""
        return self.seed_objective(Lambda) * self.scale

    def prox(self, Z, rho):
        """Proximal map of ``h / rho`` at a symmetric ``Z``: ``h`` the objective plus the
        nonnegativity and complementarity constraints (entrywise; the output bias is
        minimised out jointly with the output block)."""
        n = self.n
        x = Z.copy()
        top = slice(0, 2 * n)
        np.maximum(x[top, top], 0, out=x[top, top])
        x[self._rows, n + self._rows] = 0
        x[n + self._rows, self._rows] = 0
        w = self.weights[:, None]
        kappa = self._kappa
        V = Z[self._a, self._v]
        if self.fit_output_bias:
            k = rho * w / (w * kappa ** 2 + 2 * rho)
            bias = np.sum(k * (self.Y - kappa * V), axis=0) / np.sum(k)
        else:
            bias = 0.0
        A = (w * kappa * (self.Y - bias) + 2 * rho * V) / (w * kappa ** 2 + 2 * rho)
        x[self._a, self._v] = A
        x[self._v, self._a] = A.T
        x[self._uv, self._uv] = Z[self._uv, self._uv] - self._uv_weight / (2 * rho)
        return x

    # --- certificate ---------------------------------------------------------------------

    def dual_bound(self, G):
        """A certified lower bound (library scaling) from a multiplier ``G`` (p x p).

        ``G`` is first put exactly into the dual's polyhedral constraints (sign and
        fixed blocks; column sums of ``Theta`` zero for the free bias), then mixed with
        the strictly feasible multiplier until ``T^T G T`` is PSD (module docstring).
        Returns ``(bound, mu)``: ``mu`` < 0 is how far ``G`` was from PSD.
        """
        n = self.n
        G = (G + G.T) / 2
        H = np.zeros_like(G)
        top = slice(0, 2 * n)
        H[top, top] = np.minimum(G[top, top], 0)
        diagonal = G[self._rows, n + self._rows]
        H[self._rows, n + self._rows] = diagonal
        H[n + self._rows, self._rows] = diagonal
        Theta = 2 * G[self._a, self._v]
        if self.fit_output_bias:
            Theta = Theta - Theta.mean(axis=0)
        H[self._a, self._v] = Theta / 2
        H[self._v, self._a] = Theta.T / 2
        H[self._uv, self._uv] = self._uv_weight / 2
        S = self.congruence(H)
        mu = float(linalg.eigvalsh(S, self._strict_S, subset_by_index=[0, 0],
                                   check_finite=False)[0])
        shrink = 1.0 / (1.0 - mu) if mu < 0 else 1.0
        Theta = Theta * shrink
        Theta = Theta / self._kappa
        value = -np.sum(Theta * self.Y) - 0.5 * np.sum(Theta ** 2 / self.weights[:, None])
        return max(0.0, float(value)) * self.scale, mu

    # --- networks --------------------------------------------------------------------

    def lift(self, U, V):
        """``Lambda`` (in the lifted coordinates) of the network ``relu(X U) V^T``
        (U: d x m, V: c x m)."""
        H = self.X @ U / self.input_scale
        L = np.vstack([np.maximum(H, 0), np.maximum(-H, 0), U, V / self.output_scale])
        return L @ L.T

    def network_objective(self, U, V, bias=None):
        """Weight-decay objective (library scaling) of ``relu(X U) V^T + bias`` (the
        optimal free bias when ``None`` and ``fit_output_bias``)."""
        outputs = np.maximum(self.X @ U, 0) @ V.T
        if bias is None:
            bias = self.output_bias(outputs)
        r = outputs + bias - self.Y
        seed = (0.5 * np.einsum("i,ij,ij->", self.weights, r, r)
                + self.beta / 2 * (np.sum(U ** 2) + np.sum(V ** 2)))
        return float(seed) * self.scale


@dataclass
class SDPRelaxationResult:
    """What :func:`solve_sdp_relaxation` returns.

    Attributes
    ----------
    lower_bound : float
        Certified lower bound on the weight-decay objective of every two-layer ReLU
        network on the data (library scaling): the dual value at a dual-feasible point.
    objective : float
        The relaxation's objective at the primal point returned (nonnegative and
        complementary, PSD up to ``primal_residual``); not a bound.
    primal_residual : float
        Relative distance of that point to the PSD set.
    dual_infeasibility : float
        ``|mu|``: how far the solver's multiplier was from PSD before it was mixed into
        feasibility (the bound lost the factor ``1 / (1 + |mu|)``).
    factor : ndarray of shape (p, r)
        ``Lambda = factor @ factor.T`` (PSD, in the range of ``T``).
    n_iter : int
    converged : bool
        Whether ``(objective - lower_bound) / objective <= tol`` and the residual is
        below ``tol``.
    solver : str
    time : float
        Seconds.
    history : list of dict
        ``iteration``, ``lower_bound``, ``objective``, ``primal_residual``, ``rho``,
        ``time`` at every certificate.
    """

    lower_bound: float
    objective: float
    primal_residual: float
    dual_infeasibility: float
    factor: np.ndarray
    n_iter: int
    converged: bool
    solver: str
    time: float
    history: list = field(default_factory=list)

    @property
    def relative_gap(self):
        """``(objective - lower_bound) / objective``: how tight the bound is known to be."""
        return (self.objective - self.lower_bound) / max(abs(self.objective),
                                                         np.finfo(float).tiny)


def _check_solver(solver):
    if solver not in SDP_SOLVERS:
        raise ValueError(f"solver must be one of {SDP_SOLVERS}; got {solver!r}.")


def solve_sdp_relaxation(X, Y, alpha, *, sample_weight=None, fit_output_bias=True,
                         solver="douglas-rachford", tol=1e-5, max_iter=20000,
                         time_limit=None, rho=None, verbose=0):
    """Solve the SDP relaxation of two-layer ReLU training: a certified lower bound.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Inputs of the hidden layer. Add a column of ones for a hidden bias
        (:func:`skconvexnn.patterns.add_intercept_column`).
    Y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets (one-hot or +-1 for classification).
    alpha : float
        Weight decay in the library's scaling (the ``alpha`` of
        :func:`~skconvexnn.solve_relu` with the squared loss).
    sample_weight : array-like of shape (n_samples,), default=None
        Positive row weights.
    fit_output_bias : bool, default=True
        Bound networks with a free, unregularized output bias.
    solver : {"douglas-rachford", "clarabel", "scs"}, default="douglas-rachford"
        Our splitting on the reduced form, or a conic solver through CVXPY on the same
        form (the ``sdp`` extra; interior point or SCS, a few hundred rows at most).
    tol : float, default=1e-5
        Relative gap between the primal objective and the certified bound, and
        relative primal residual, at which the splitting stops.
    max_iter : int, default=20000
        Splitting iterations.
    time_limit : float, default=None
        Seconds after which the splitting stops (with the bound it has).
    rho : float, default=None
        Penalty of the splitting, in the seed's scaling; ``None`` gives ``beta / 8``.
    verbose : int, default=0
        Print the certificate every check.

    Returns
    -------
    SDPRelaxationResult
        The bound is valid even when ``converged`` is False (a
        :class:`~sklearn.exceptions.ConvergenceWarning` then says how loose it may be).
    """
    _check_solver(solver)
    X = np.asarray(X, dtype=np.float64)
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(np.asarray(Y, dtype=float)))):
        raise ValueError("X and Y must be finite (no NaN or infinity).")
    program = SDPRelaxation(X, Y, alpha, sample_weight, fit_output_bias)
    if solver != "douglas-rachford":
        return cvxpy_sdp_relaxation(program, solver=solver, verbose=verbose)
    start = time.perf_counter()
    if rho is None:
        rho = _default_rho(program)
    state = douglas_rachford(program, rho=rho, tol=tol, max_iter=max_iter,
                             time_limit=time_limit, verbose=verbose)
    result = SDPRelaxationResult(
        lower_bound=state.lower_bound, objective=state.objective,
        primal_residual=state.primal_residual, dual_infeasibility=state.dual_infeasibility,
        factor=state.factor, n_iter=state.n_iter, converged=state.converged,
        solver=solver, time=time.perf_counter() - start, history=state.history)
    if not result.converged:
        warnings.warn(
            f"The SDP relaxation's splitting stopped after {result.n_iter} iterations with "
            f"a relative gap of {result.relative_gap:.2e} (tol {tol:g}); the lower bound "
            f"{result.lower_bound:.6g} is certified but may be loose. Increase max_iter.",
            ConvergenceWarning, stacklevel=2)
    return result


def _default_rho(program):
    """The splitting's penalty: ``beta / 8`` in the seed's scaling (the best of
    ``beta * {1/16, 1/8, 1/4, 1/2}`` over the small problems of the tests)."""
    return max(program.beta / 8, 1e-12)


def cvxpy_sdp_relaxation(program, solver="clarabel", verbose=0):
    """Solve the reduced form with CVXPY and a conic solver (Clarabel or SCS).

    The bound returned is the solver's optimal value (interior point: primal and dual
    agree to its tolerance); use it for small problems and for reference.
    """
    try:
        import cvxpy as cp
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("solver='clarabel' or 'scs' needs CVXPY: pip install "
                          "'skconvexnn[sdp]' (cvxpy, clarabel).") from exc
    start = time.perf_counter()
    n, d, c = program.n, program.d, program.c
    Z = cp.Variable((program.q, program.q), PSD=True)
    T = program._T_apply(np.eye(program.q))
    Lam = T @ Z @ T.T
    a, b_, u, v = program._a, program._b, program._u, program._v
    outputs = program._kappa * Lam[a, v]
    bias = cp.Variable(c) if program.fit_output_bias else np.zeros(c)
    residual = outputs + np.ones((n, 1)) @ cp.reshape(bias, (1, c), order="C") - program.Y
    objective = (0.5 * cp.sum(cp.multiply(program.weights[:, None], cp.square(residual)))
                 + 0.5 * (program._uv_weight[:d] @ cp.diag(Lam[u, u])
                          + program._uv_weight[d:] @ cp.diag(Lam[v, v])))
    constraints = [Lam[a, a] >= 0, Lam[a, b_] >= 0, Lam[b_, b_] >= 0,
                   cp.diag(Lam[a, b_]) == 0]
    problem = cp.Problem(cp.Minimize(objective), constraints)
    problem.solve(solver={"clarabel": cp.CLARABEL, "scs": cp.SCS}[solver],
                  verbose=bool(verbose))
    if problem.status not in ("optimal", "optimal_inaccurate"):
        raise RuntimeError(f"{solver} ended with status {problem.status!r}.")
    values, vectors = np.linalg.eigh((Z.value + Z.value.T) / 2)
    keep = values > 0
    factor = program._T_apply(vectors[:, keep] * np.sqrt(values[keep]))
    value = float(problem.value) * program.scale
    return SDPRelaxationResult(
        lower_bound=value, objective=value, primal_residual=0.0, dual_infeasibility=0.0,
        factor=factor, n_iter=int(problem.solver_stats.num_iters or 0),
        converged=problem.status == "optimal", solver=solver,
        time=time.perf_counter() - start)


# --- rounding ------------------------------------------------------------------------------


@dataclass
class RoundedNetwork:
    """A two-layer ReLU network ``relu(X U) V^T + bias`` on the program's inputs.

    Attributes
    ----------
    U : ndarray of shape (n_features, width)
        First layer (on the program's ``X``, whose last column is the ones of a hidden
        bias when the estimator fits one).
    V : ndarray of shape (n_outputs, width)
        Second layer.
    bias : ndarray of shape (n_outputs,)
        Output bias.
    objective : float
        Its weight-decay objective (library scaling): an upper bound on the optimum
        over all widths.
    """

    U: np.ndarray
    V: np.ndarray
    bias: np.ndarray
    objective: float


def _balanced(U, V):
    """Rescale each unit to ``||u|| = ||v||`` (same function, least weight decay)."""
    nu = np.linalg.norm(U, axis=0)
    nv = np.linalg.norm(V, axis=0)
    keep = (nu > 0) & (nv > 0)
    s = np.ones_like(nu)
    s[keep] = np.sqrt(nv[keep] / nu[keep])
    return U * s, V / np.where(s > 0, s, 1.0)


def round_to_network(program, factor, width=None, *, max_iter=1000, random_state=None):
    """A width-``width`` ReLU network from the relaxation's factor ``Lambda = F F^T``.

    The columns of ``F`` (eigenvectors of the lifted matrix scaled by the roots of
    their eigenvalues, largest first) are read as neurons ``[alpha; beta; u; v]``, each
    signed so that its ``(alpha, beta)`` part is nonnegative on the whole, and
    balanced; ``width`` beyond the factor's rank is filled with small random units.
    L-BFGS then lowers the network's own weight-decay objective on the training data
    (the seed's splitting on the factor serves the same purpose). The objective
    returned is the network's, computed from its weights: an upper bound on the
    optimum over all widths, whatever the rounding did.

    Parameters
    ----------
    program : SDPRelaxation
    factor : ndarray of shape (p, r)
    width : int, default=None
        Hidden units; ``None`` gives the factor's numerical rank (at least 1).
    max_iter : int, default=1000
        L-BFGS iterations (0 keeps the units read from the factor).
    random_state : int, RandomState instance or None

    Returns
    -------
    RoundedNetwork
    """
    from scipy.optimize import minimize
    from sklearn.utils import check_random_state

    rng = check_random_state(random_state)
    norms = np.linalg.norm(factor, axis=0) if factor.size else np.zeros(0)
    order = np.argsort(-norms)
    if width is None:
        width = max(1, int(np.sum(norms > 1e-6 * max(norms.max(initial=0), 1e-300))))
    width = int(width)
    if width < 1:
        raise ValueError(f"width must be a positive integer; got {width}.")
    atoms = factor[:, order[:width]]
    n = program.n
    sign = np.sign(atoms[:2 * n].sum(axis=0))
    atoms = atoms * np.where(sign == 0, 1.0, sign)
    U = np.zeros((program.d, width))
    V = np.zeros((program.c, width))
    U[:, :atoms.shape[1]] = atoms[program._u]
    V[:, :atoms.shape[1]] = atoms[program._v] * program.output_scale
    scale = np.sqrt(max(np.sum(norms ** 2), 1e-12) / max(width, 1))
    missing = slice(atoms.shape[1], width)
    U[:, missing] = 1e-3 * scale * rng.standard_normal((program.d, width - atoms.shape[1]))
    V[:, missing] = 1e-3 * scale * rng.standard_normal((program.c, width - atoms.shape[1]))
    U, V = _balanced(U, V)
    if max_iter > 0:
        X, Y, w, beta = program.X, program.Y, program.weights[:, None], program.beta
        shape_U = U.shape

        def value_and_gradient(theta):
            U_ = theta[:U.size].reshape(shape_U)
            V_ = theta[U.size:].reshape(V.shape)
            pre = X @ U_
            H = np.maximum(pre, 0)
            out = H @ V_.T
            r = out + program.output_bias(out) - Y
            rw = w * r
            value = 0.5 * np.sum(rw * r) + beta / 2 * (np.sum(U_ ** 2) + np.sum(V_ ** 2))
            gV = rw.T @ H + beta * V_
            gU = X.T @ ((rw @ V_) * (pre > 0)) + beta * U_
            return value, np.concatenate([gU.ravel(), gV.ravel()])

        start = np.concatenate([U.ravel(), V.ravel()])
        found = minimize(value_and_gradient, start, jac=True, method="L-BFGS-B",
                         options=dict(maxiter=int(max_iter), gtol=1e-12, ftol=1e-15))
        U = found.x[:U.size].reshape(shape_U)
        V = found.x[U.size:].reshape(V.shape)
        U, V = _balanced(U, V)
    outputs = np.maximum(program.X @ U, 0) @ V.T
    bias = program.output_bias(outputs)
    return RoundedNetwork(U=U, V=V, bias=bias,
                          objective=program.network_objective(U, V, bias))


def relu_lower_bound(estimator, X, y, sample_weight=None, **solver_options):
    """The SDP lower bound for the program a fitted exact-ReLU estimator solved.

    Parameters
    ----------
    estimator : ConvexReLURegressor or ConvexReLUClassifier
        Fitted with ``loss="squared_error"`` on ``X``, ``y`` (and ``sample_weight``).
    X, y, sample_weight
        Its training data.
    **solver_options
        Passed to :func:`solve_sdp_relaxation` (``solver``, ``tol``, ``max_iter``, ...).

    Returns
    -------
    SDPRelaxationResult
        ``lower_bound`` is in the units of ``estimator.objective_`` (the program's: the
        targets it fitted, its ``alpha``), and bounds the objective of every two-layer
        ReLU network of any width with the estimator's fixed output bias; so
        ``(estimator.objective_ - lower_bound) / estimator.objective_`` bounds how far the
        estimator is from the global optimum over all widths.
    """
    import copy

    from sklearn.utils.validation import check_array, check_is_fitted

    from .estimators import ConvexReLUClassifier, ConvexReLURegressor
    from .losses import as_loss

    if not isinstance(estimator, (ConvexReLURegressor, ConvexReLUClassifier)):
        raise ValueError("relu_lower_bound takes a fitted ConvexReLURegressor or "
                         f"ConvexReLUClassifier; got {type(estimator).__name__} (the "
                         "relaxation bounds two-layer ReLU networks).")
    check_is_fitted(estimator)
    if not as_loss(estimator.loss).quadratic:
        raise ValueError("The SDP relaxation is for the squared loss; the estimator was "
                         f"fitted with loss={estimator.loss!r}.")
    X = check_array(X, dtype=np.float64)
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features; the estimator was fitted on "
                         f"{estimator.n_features_in_}.")
    y = np.asarray(y)
    weights = (np.ones(len(y)) if sample_weight is None
               else np.asarray(sample_weight, dtype=np.float64))
    probe = copy.deepcopy(estimator)
    Y, offset = probe._encode_targets(y, weights)
    _, X_aug, Y_program, weights, _, _ = probe._program_data(
        X, Y, weights, probe.loss, offset)
    solver_options.setdefault("fit_output_bias", False)
    return solve_sdp_relaxation(X_aug, Y_program, estimator._fit_alpha(),
                                sample_weight=weights, **solver_options)

"""The convex programs, one object each, and the one entry point that solves them.

A program object knows everything about one convex reformulation of two-layer
network training:

* which losses it takes (:meth:`~ConvexProgram.check_loss`) and the shape of its
  weights in the layout of the gates (:meth:`~ConvexProgram.coef_shape`);
* how it is solved (:meth:`~ConvexProgram.solve_validated`): for the gated and ReLU
  programs, its operator and penalty on a given backend and thread pool
  (:meth:`~GroupLassoProgram.build`), the packing of its weights into the solver's
  columns and back, and the certificate of the weights returned;
* the smallest ``alpha`` with the zero network optimal
  (:meth:`~GroupLassoProgram.alpha_max`);
* the two-layer network its weights define and that network's forward pass
  (:meth:`~ConvexProgram.network`, :meth:`~ConvexProgram.forward`).

:func:`solve` validates the inputs once and hands them to the program;
:func:`~skconvexnn.solve_gated_relu`, :func:`~skconvexnn.solve_relu`,
:func:`~skconvexnn.solve_robust_relu`, :func:`~skconvexnn.path` and the estimators
all go through it. A new formulation is a new class here.
"""

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from ._memory import MemoryPlan, check_memory_plan
from ._parallel import row_workers
from ._row_space import row_space
from ._validation import validate_program_inputs
from .backends import get_backend
from .formulations import GatedReLUDesign, ReLUDesign, as_solver_matrix
from .losses import as_loss, loss_names
from .network import (gated_forward, gated_network, relu_forward, relu_network,
                      three_layer_forward, three_layer_gated_forward,
                      three_layer_relu_network)
from .patterns import (activation_patterns, add_intercept_column, composite_patterns,
                       second_layer_patterns)
from .penalties import ConeConstrainedGroupL2, GroupL2
from .solutions import (GatedReLUSolution, ReLUSolution, RobustReLUSolution,
                        ThreeLayerGatedReLUSolution, ThreeLayerReLUSolution,
                        certificate_holds, history_arrays, robust_constraint_violation,
                        summed_curves)
from .solvers import resolve_solver, solve_group_lasso
from .solvers.augmented_lagrangian import BlockCoupling, solve_augmented_lagrangian
from .solvers.pdhg import RobustOperator, solve_robust_pdhg


class ConvexProgram:
    """One convex program over activation patterns (not for direct use).

    Parameters
    ----------
    strict_patterns : bool, default=False
        Patterns ``1[X g > 0]`` (scnn's convention) instead of ``1[X g >= 0]``.
    """

    #: The program's name, as :func:`~skconvexnn.path` takes it.
    name = None
    #: The kind of program, for the solvers (:data:`~skconvexnn.solvers.SOLVERS`), and
    #: the solver ``"auto"`` means.
    kind = None
    default_solver = None

    def __init__(self, *, strict_patterns=False):
        self.strict_patterns = strict_patterns

    def __repr__(self):
        return f"{type(self).__name__}(strict_patterns={self.strict_patterns})"

    def coef_shape(self, n_features, n_gates, n_outputs):
        """Shape of the weights in the layout of ``n_gates`` gates."""
        raise NotImplementedError

    def check_loss(self, loss):
        """The specification of ``loss`` if this program and its default solver take
        it; ValueError if not."""
        spec = as_loss(loss)
        resolve_solver("auto", self.kind, self.default_solver).check_loss(spec)
        return spec

    def check_options(self, options):
        """Refuse solver options this program cannot honour (ValueError), before any
        work; ``options`` as :func:`solve` collects them."""

    def auto_solver(self, loss, n_samples, n_outputs, n_gates):
        """The solver ``"auto"`` means for ``loss`` (a specification) on a table of
        this size: ``default_solver`` unless a program knows better."""
        return resolve_solver("auto", self.kind, self.default_solver)

    def solve_validated(self, X, Y, gates, alpha, loss, sample_weight, coef_init, options):
        """Solve on inputs :func:`solve` has validated; return the solution."""
        raise NotImplementedError

    def max_patterns(self, n_gates):
        """The most distinct patterns ``n_gates`` gates can give (what a solver's own
        memory plan is sized by)."""
        return n_gates

    def memory_plan(self, n_samples, n_columns, n_gates, n_outputs, itemsize,
                    is_sparse=False):
        """Upper estimate of a solve's largest allocations (a
        :class:`~skconvexnn._memory.MemoryPlan`), from the shape of ``X`` (with its
        intercept column), whether it is sparse, the number of gates and outputs and
        the data's item size; :func:`solve` checks it against the memory budget before
        any work."""
        raise NotImplementedError

    def network(self, weights, fit_intercept, output_bias=None):
        """The :class:`~skconvexnn.network.TwoLayerNetwork` of ``weights``."""
        raise NotImplementedError

    def forward(self, X, network, gates, fit_intercept):
        """Output (n, n_outputs) of ``network`` (of this program's weights on ``gates``)
        on raw features ``X``."""
        raise NotImplementedError


class GroupLassoProgram(ConvexProgram):
    """A program solved as a group lasso over a masked design (FISTA in a working-set
    loop): it provides the design and the penalty, and the packing of its weights."""

    kind = "group_lasso"
    default_solver = "working_set"
    #: Columns of the weights per gate and output (ReLU: ``v`` and ``w``).
    groups_per_gate = 1

    #: Whether a wide sparse ``X`` is solved in its row space too (densified): the
    #: gated program keeps it sparse instead.
    reduces_sparse = False

    def in_row_space(self, n_samples, n_columns, is_sparse=False):
        """Whether the program is solved in the row space of ``X`` (:mod:`._row_space`):
        a wide table, ``n_columns > n_samples``."""
        return n_columns > n_samples and (self.reduces_sparse or not is_sparse)

    def memory_plan(self, n_samples, n_columns, n_gates, n_outputs, itemsize,
                    is_sparse=False):
        n, d, c = n_samples, n_columns, n_outputs
        groups = self.groups_per_gate * n_gates
        extra = {}
        if self.in_row_space(n, d, is_sparse):
            # The SVD's float64 copy of X and its factors; then the program on n columns.
            extra["row space"] = 3 * n * d * 8 + n * n * 8
            d = n
        return MemoryPlan({
            **extra,
            # X as the solver reads it, a float64 copy for the final polish, and the
            # products of a working set's columns.
            "data": 4 * n * d * itemsize,
            # The 0/1 patterns, their float copies and the per-pattern outputs.
            "patterns": n * n_gates * (25 + 8 * c),
            # FISTA's iterates, extrapolation, gradients and the best point, float64.
            "weights": 12 * d * groups * c * 8,
            "outputs": 12 * n * c * 8,
        })

    def build(self, X, mask, n_outputs, alpha, kernels, workers=None):
        """``(design, penalty)`` of the program on the solver's rows ``X``."""
        raise NotImplementedError

    def pack(self, coef_init, keep, penalty, dtype):
        """Starting columns of the solver from weights in the layout of the gates
        (``keep``: the gates whose patterns are in play)."""
        raise NotImplementedError

    def unpack(self, U, n_features, n_patterns, n_outputs):
        """Weights in the layout of the patterns from the solver's columns ``U``."""
        raise NotImplementedError

    def solution(self, result, weights, keep, mask, penalty, dtype):
        """The solution (with its certificate) of a solver's ``result``."""
        raise NotImplementedError

    def dual_norm_of_gradient(self, design, penalty, gradient):
        """``max_g ||A_g^T gradient||`` over the groups, in the program's dual norm."""
        raise NotImplementedError

    def solve_validated(self, X, Y, gates, alpha, loss, sample_weight, coef_init, options):
        loss_obj = self.check_loss(loss).bind(Y, sample_weight)
        kernels = get_backend(options["backend"], X)
        X = as_solver_matrix(X)
        n_outputs = Y.shape[1]
        with row_workers(options["n_jobs"]) as workers:
            mask, keep = self.patterns(X, gates, workers)
            space, rows = self._row_space(X)
            n_columns = rows.shape[1]
            design, penalty = self.build(rows, mask, n_outputs, alpha, kernels, workers)
            if coef_init is None:
                U0 = np.zeros((n_columns, design.n_groups), dtype=X.dtype)
            else:
                if space is not None:
                    coef_init = space.reduce(coef_init)
                U0 = self.pack(coef_init, keep, penalty, X.dtype)
            result = solve_group_lasso(
                design, loss_obj, penalty, U0, tol=options["tol"],
                max_iter=options["max_iter"], solver=options["solver"],
                verbose=options["verbose"], callback=options["callback"],
                step=options["step"])
        weights = self.unpack(result.U, n_columns, len(keep), n_outputs)
        solution = self.solution(result, weights, keep, mask, penalty, X.dtype)
        if space is not None:
            solution.weights = space.expand(solution.weights).astype(X.dtype, copy=False)
        return solution

    def patterns(self, X, gates, workers=None):
        """``(mask, keep)``: the program's distinct non-zero activation patterns on the
        solver's rows ``X`` and, for each, the gate (column of ``gates``) that gave it
        first (:func:`~skconvexnn.patterns.activation_patterns`)."""
        return activation_patterns(X, gates, strict=self.strict_patterns, workers=workers)

    def _row_space(self, X):
        """``(space, rows)``: the :class:`~skconvexnn._row_space.RowSpace` of ``X`` and its
        rows ``R`` when the program is solved there, else ``(None, X)``."""
        if not self.in_row_space(*X.shape, sparse.issparse(X)):
            return None, X
        space = row_space(X)
        return space, space.rows

    def alpha_max(self, X, Y, gates, *, loss="squared_error", sample_weight=None,
                  backend="auto"):
        """Smallest ``alpha`` at which the zero network solves the program: the dual
        norm of the loss gradient at zero (see :func:`skconvexnn.alpha_max`)."""
        X, Y, gates, sample_weight, _ = validate_program_inputs(
            X, Y, gates, 1.0, loss, sample_weight, None, self.coef_shape, backend)
        loss_obj = self.check_loss(loss).bind(Y, sample_weight)
        kernels = get_backend(backend, X)
        X = as_solver_matrix(X)
        mask, _ = self.patterns(X, gates)
        if mask.shape[1] == 0:
            return 0.0
        gradient = loss_obj.gradient(np.zeros((X.shape[0], Y.shape[1]), dtype=np.float64))
        design, penalty = self.build(self._row_space(X)[1], mask, Y.shape[1], 1.0, kernels)
        return self.dual_norm_of_gradient(design, penalty, gradient)

    def _common_solution(self, result, weights, keep, mask):
        return dict(
            weights=weights, gate_indices=keep, patterns=mask, objective=result.primal,
            dual_objective=result.dual, n_iter=result.n_iter, stalled=result.stalled,
            objective_curve=np.asarray(result.objectives, dtype=np.float64),
            output=result.F, history=history_arrays(result.history), step=result.step)


class GatedReLUProgram(GroupLassoProgram):
    r"""The gated ReLU program (Mishkin, Sahiner & Pilanci 2022): a group lasso.

    .. math::

        \min_U \; L\Big(\sum_j D_j X U_j,\; Y\Big) + \alpha \sum_{j,k} \|U_{jk}\|_2.

    Weights of shape ``(n_features, n_gates, n_outputs)``; solver column ``k * P + j``
    holds the block of pattern ``j`` for output ``k``.
    """

    name = "gated"
    #: Up to this many rows times outputs, ``"auto"`` solves the squared loss by
    #: Newton steps on the kernel weights (``"reweighting"``): each factors an ``n x n``
    #: matrix per output, which on a few hundred rows costs less than FISTA's
    #: thousands of iterations (8-13x faster at ``tol=1e-3`` on diabetes,
    #: breast_cancer, wine; 2.9x at 500 rows, 7x slower at 2000: RESULTS section 18).
    reweighting_max_size = 1000
    #: ... and while its planned arrays (patterns by patterns at worst) stay this small:
    #: beyond, FISTA's working set, whose plan does not grow with the patterns squared.
    reweighting_max_bytes = 256 * 2 ** 20

    def auto_solver(self, loss, n_samples, n_outputs, n_gates):
        newton = resolve_solver("reweighting", self.kind, self.default_solver)
        if (loss.quadratic and n_samples * n_outputs <= self.reweighting_max_size
                and sum(newton.memory(n_samples, None, n_gates, n_outputs).values())
                <= self.reweighting_max_bytes):
            return newton
        return super().auto_solver(loss, n_samples, n_outputs, n_gates)

    def coef_shape(self, n_features, n_gates, n_outputs):
        return (n_features, n_gates, n_outputs)

    def build(self, X, mask, n_outputs, alpha, kernels, workers=None):
        return GatedReLUDesign(X, mask, n_outputs, kernels, workers), GroupL2(alpha, kernels)

    def pack(self, coef_init, keep, penalty, dtype):
        return coef_init[:, keep, :].transpose(0, 2, 1).reshape(coef_init.shape[0], -1)

    def unpack(self, U, n_features, n_patterns, n_outputs):
        return np.ascontiguousarray(
            U.reshape(n_features, n_outputs, n_patterns).transpose(0, 2, 1))

    def solution(self, result, weights, keep, mask, penalty, dtype):
        return GatedReLUSolution(duality_gap=result.relative_gap, converged=result.converged,
                                 **self._common_solution(result, weights, keep, mask))

    def dual_norm_of_gradient(self, design, penalty, gradient):
        G = design.full_adjoint(gradient, dtype=np.float64)
        return float(design.kernels.group_norms(G).max())

    def network(self, weights, fit_intercept, output_bias=None):
        network = gated_network(weights, fit_intercept)
        if output_bias is not None:
            network.intercepts[1][...] = output_bias
        return network

    def forward(self, X, network, gates, fit_intercept):
        X_aug = add_intercept_column(X) if fit_intercept else X
        return gated_forward(X, X_aug, gates, network)


class ReLUProgram(GroupLassoProgram):
    r"""The cone-constrained ReLU program (Pilanci & Ergen 2020).

    .. math::

        \min_{V, W} \; L\Big(\sum_j D_j X (V_j - W_j),\; Y\Big)
        + \alpha \sum_{j,k} \big(\|V_{jk}\|_2 + \|W_{jk}\|_2\big)
        \quad \text{s.t.} \quad (2 D_j - I) X V_{jk} \ge 0,\; (2 D_j - I) X W_{jk} \ge 0.

    Weights of shape ``(2, n_features, n_gates, n_outputs)`` (``[V, W]``); solver column
    ``k * 2P + s * P + j`` holds ``[V, W][s]`` of pattern ``j``, output ``k``. Its gap
    certifies the weights returned only where they lie in their cones.
    """

    name = "relu"

    groups_per_gate = 2

    reduces_sparse = True  # its cone projections read X densely anyway

    def memory_plan(self, n_samples, n_columns, n_gates, n_outputs, itemsize,
                    is_sparse=False):
        plan = super().memory_plan(n_samples, n_columns, n_gates, n_outputs, itemsize,
                                   is_sparse)
        # Most active constraints of one cone (a wide X is solved in its row space).
        rank = min(n_samples, n_columns)
        columns = 2 * n_gates * n_outputs
        # Active sets and multipliers of every column, for the prox and the dual bound.
        plan.terms["cone states"] = 2 * columns * (16 * rank + 16)
        # Cholesky factors: a working set's cache, and the chunks of a full pass, each
        # capped (one column at a time at the least).
        cap = max(ConeConstrainedGroupL2._MAX_CACHE_BYTES, rank * rank * 8)
        plan.terms["cone factors"] = 2 * min(columns * rank * rank * 8, cap)
        if ConeConstrainedGroupL2.uses_gram(n_samples, rank):
            plan.terms["cone Gram matrix"] = n_samples * n_samples * 8
        return plan

    def coef_shape(self, n_features, n_gates, n_outputs):
        return (2, n_features, n_gates, n_outputs)

    def build(self, X, mask, n_outputs, alpha, kernels, workers=None):
        design = ReLUDesign(X, mask, n_outputs, kernels, workers)
        rows = X.toarray() if sparse.issparse(X) else X
        penalty = ConeConstrainedGroupL2(alpha, kernels, rows, mask, design.group_pattern,
                                         workers=workers)
        return design, penalty

    def pack(self, coef_init, keep, penalty, dtype):
        U0 = coef_init[:, :, keep, :].transpose(1, 3, 0, 2).reshape(coef_init.shape[1], -1)
        return penalty.project(np.asarray(U0, dtype=np.float64)).astype(dtype)

    def unpack(self, U, n_features, n_patterns, n_outputs):
        return np.ascontiguousarray(
            U.reshape(n_features, n_outputs, 2, n_patterns).transpose(2, 0, 3, 1))

    def solution(self, result, weights, keep, mask, penalty, dtype):
        violation = penalty.constraint_violation(result.U)
        feasible = certificate_holds(violation, penalty.X, weights, dtype)
        return ReLUSolution(
            duality_gap=result.relative_gap if feasible else np.nan,
            converged=result.converged and feasible, constraint_violation=violation,
            **self._common_solution(result, weights, keep, mask))

    def dual_norm_of_gradient(self, design, penalty, gradient):
        G = design.full_adjoint(gradient, dtype=np.float64)
        return float(design.kernels.group_norms(penalty.project(-G)).max())

    def network(self, weights, fit_intercept, output_bias=None):
        return relu_network(weights, fit_intercept, output_bias)

    def forward(self, X, network, gates, fit_intercept):
        return relu_forward(X, network)


class RobustReLUProgram(ReLUProgram):
    """The adversarially robust ReLU program (Bai, Gautam & Sojoudi 2022).

    The ReLU program with every unit's pattern kept on each training point's l_inf ball
    of radius ``eps`` and the loss replaced by its worst case over that ball
    (:meth:`skconvexnn.losses.Loss.worst_case`; the program is written out in
    :func:`~skconvexnn.solve_robust_relu`). The outputs separate (one-vs-rest for
    classes); each is solved by restarted PDHG on one thread. Its network is the ReLU
    program's.

    Parameters
    ----------
    eps : float
        The l_inf radius, ``>= 0``.
    n_perturbed : int, default=None
        How many leading columns of ``X`` an attacker moves; None: all.
    strict_patterns : bool, default=False
    """

    name = "robust"

    def __init__(self, eps, *, n_perturbed=None, strict_patterns=False):
        super().__init__(strict_patterns=strict_patterns)
        self.eps = eps
        self.n_perturbed = n_perturbed

    def __repr__(self):
        return (f"RobustReLUProgram(eps={self.eps!r}, n_perturbed={self.n_perturbed!r}, "
                f"strict_patterns={self.strict_patterns})")

    kind = "robust"
    default_solver = "pdhg"

    def memory_plan(self, n_samples, n_columns, n_gates, n_outputs, itemsize,
                    is_sparse=False):
        n, d, c = n_samples, n_columns, n_outputs
        groups = 2 * n_gates  # v and w, for one output at a time
        return MemoryPlan({
            "data": 4 * n * d * 8,
            # The 0/1 patterns and their float64 and +-1 copies.
            "patterns": n * n_gates * 25,
            # PDHG's dual iterates on the pattern sets, their average, restart point,
            # extrapolation and projections.
            "dual iterates": 24 * n * groups * 8,
            # The sensitivities' duals (n x features) in the same roles.
            "sensitivity duals": 12 * n * d * 8,
            "weights": 16 * d * groups * 8 + 4 * d * n_gates * c * 8,
            # The restoration's linear programs (sparse, about 2 n d entries).
            "restoration": 3 * 2 * n * d * 16,
        })

    def check_loss(self, loss):
        spec = as_loss(loss)
        if not spec.robust:
            raise ValueError(
                f"loss must be one with a worst case over the l_inf ball, one of "
                f"{sorted(loss_names('classification', robust=True))} or "
                f"{sorted(loss_names('regression', robust=True))}; got {spec!r}.")
        return super().check_loss(spec)

    def check_options(self, options):
        """Refuse what the robust solver cannot honour, before any work."""
        if not (np.isfinite(self.eps) and self.eps >= 0):
            raise ValueError(f"eps must be a non-negative finite number; got {self.eps!r}.")
        if options["n_jobs"] not in (None, 1):
            raise ValueError(
                f"The robust program is solved on one thread (its PDHG's products are "
                f"plain BLAS calls, pinned to one thread): n_jobs must be None or 1; got "
                f"{options['n_jobs']!r}. Run several fits in parallel instead (e.g. "
                f"GridSearchCV(n_jobs=...)).")

    def operator(self, rows, mask, n_perturbed):
        """The program's operator ``K`` for one output (the ``a`` and ``t`` blocks left
        out when ``eps = 0``)."""
        return RobustOperator(rows, mask, n_perturbed if self.eps > 0 else 0)

    def solve_validated(self, X, Y, gates, alpha, loss, sample_weight, coef_init, options):
        loss = self.check_loss(loss)
        eps = self.eps
        kernels = get_backend(options["backend"], X)
        if loss.kind == "margin" and not np.all(np.abs(Y) == 1):
            raise ValueError(f"loss={loss.name!r} needs labels +-1 in Y.")
        n_perturbed = X.shape[1] if self.n_perturbed is None else int(self.n_perturbed)
        if not 0 <= n_perturbed <= X.shape[1]:
            raise ValueError(f"n_perturbed must be in [0, {X.shape[1]}]; got {n_perturbed}.")
        dense = X.toarray() if sparse.issparse(X) else np.asarray(X)
        rows = np.ascontiguousarray(dense, dtype=np.float64)
        n_outputs = Y.shape[1]
        weights = sample_weight / sample_weight.sum()
        if loss.kind == "residual":  # averaged over the outputs
            weights = weights / n_outputs
        # PDHG's products are plain BLAS calls, and OpenBLAS's busy-waiting threads
        # collapse on a loaded machine (a 17 s fit took 468 s; benchmarks/RESULTS.md
        # section 8.2): one thread.
        with threadpool_limits(limits=1, user_api="blas"):
            mask, keep = activation_patterns(rows, gates, strict=self.strict_patterns)
            P, d = mask.shape[1], rows.shape[1]
            coef = np.zeros((2, d, P, n_outputs))
            results, history, offset_iter, offset_time = [], [], 0, 0.0
            for k in range(n_outputs):
                U0 = None
                if coef_init is not None:
                    U0 = np.hstack([coef_init[0, :, keep, k].T, coef_init[1, :, keep, k].T])
                result = solve_robust_pdhg(self.operator(rows, mask, n_perturbed),
                                           Y[:, k], weights, alpha, eps, loss, U0=U0,
                                           tol=options["tol"],
                                           max_iter=options["max_iter"],
                                           verbose=options["verbose"],
                                           label=f"robust output {k}" if n_outputs > 1
                                           else "robust",
                                           candidate_directions=gates[:, keep],
                                           kernels=kernels)
                coef[0, :, :, k], coef[1, :, :, k] = result.U[:, :P], result.U[:, P:]
                history += [(it + offset_iter, t + offset_time, obj, gap)
                            for it, t, obj, gap in result.history]
                offset_iter += result.n_iter
                offset_time += result.history[-1][1] if result.history else 0.0
                results.append(result)
        coef = coef.astype(X.dtype)
        weights64 = coef.astype(np.float64)
        primal = sum(r.primal for r in results)
        dual = sum(r.dual for r in results)
        penalty = alpha * float(
            np.sqrt(np.einsum("sdpk,sdpk->spk", weights64, weights64)).sum())
        output = np.einsum("np,dpk,nd->nk", mask.astype(np.float64),
                           weights64[0] - weights64[1], rows)
        violation = robust_constraint_violation(rows, mask, weights64, eps, n_perturbed)
        # The gap certifies the returned weights only where they satisfy the constraints.
        feasible = certificate_holds(violation, rows, weights64, X.dtype)
        if not feasible:
            gap = np.nan
        else:
            gap = max(primal - dual, 0.0) / primal if primal > 0 else 0.0
        return RobustReLUSolution(
            weights=coef, gate_indices=keep, patterns=mask, objective=primal,
            dual_objective=dual, duality_gap=gap, n_iter=offset_iter,
            converged=feasible and all(r.converged for r in results), stalled=False,
            objective_curve=summed_curves([r.objectives for r in results]),
            output=output, history=history_arrays(history), step=None,
            constraint_violation=violation, worst_case_loss=primal - penalty)


def _check_second_gates(second_gates):
    second_gates = np.asarray(second_gates, dtype=np.float64)
    if second_gates.ndim != 2 or second_gates.shape[1] == 0 or not np.all(
            np.isfinite(second_gates)):
        raise ValueError(f"second_gates must be a finite 2-D array of shape (n_gates, "
                         f"n_second_gates); got shape {second_gates.shape}.")
    return second_gates


class _GateNetworkProgram:
    """What the three-layer programs share: the second layer of the gate network."""

    def _check_gates(self, gates):
        if gates.shape[1] != self.second_gates.shape[0]:
            raise ValueError(
                f"second_gates must have one row per gate: gates has {gates.shape[1]} "
                f"columns and second_gates shape {self.second_gates.shape}.")

    def __repr__(self):
        return (f"{type(self).__name__}(second_gates=<{self.second_gates.shape[0]} x "
                f"{self.second_gates.shape[1]}>, strict_patterns={self.strict_patterns})")


class ThreeLayerGatedReLUProgram(_GateNetworkProgram, GatedReLUProgram):
    r"""The three-layer gated ReLU program: the gated group lasso on product patterns.

    A fixed random gate network of two layers (first-layer gates ``G``, the ``gates``
    argument, and ``second_gates`` ``A``; :mod:`skconvexnn.patterns`) gives every pair of
    a first-layer gate ``i`` and a second-layer gate ``l`` the pattern
    ``D_{li} = diag(1[X g_i >= 0] * 1[(X G)_+ a_l >= 0])``, and

    .. math::

        \min_U \; L\Big(\sum_{l, i} D_{li} X U_{li},\; Y\Big)
        + \alpha \sum_{l, i, k} \|U_{lik}\|_2.

    Its hidden units are switched by both layers of the gate network (scnn's deep gated
    networks, Mishkin et al.): a relaxation of the three-layer ReLU program as the
    gated program is of the two-layer one, solved and certified by the same solvers.
    Weights of shape ``(n_second, n_features, n_gates, n_outputs)``.

    Parameters
    ----------
    second_gates : ndarray of shape (n_gates, n_second)
    strict_patterns : bool, default=False
    """

    name = "three_layer_gated"

    def __init__(self, second_gates, *, strict_patterns=False):
        super().__init__(strict_patterns=strict_patterns)
        self.second_gates = _check_second_gates(second_gates)

    def max_patterns(self, n_gates):
        return n_gates * self.second_gates.shape[1]

    def coef_shape(self, n_features, n_gates, n_outputs):
        return (self.second_gates.shape[1], n_features, n_gates, n_outputs)

    def auto_solver(self, loss, n_samples, n_outputs, n_gates):
        return super().auto_solver(loss, n_samples, n_outputs, self.max_patterns(n_gates))

    def memory_plan(self, n_samples, n_columns, n_gates, n_outputs, itemsize,
                    is_sparse=False):
        return super().memory_plan(n_samples, n_columns, self.max_patterns(n_gates),
                                   n_outputs, itemsize, is_sparse)

    def patterns(self, X, gates, workers=None):
        """The distinct non-zero product patterns; ``keep`` holds their pairs
        ``l * n_gates + i``."""
        self._check_gates(gates)
        return composite_patterns(X, gates, self.second_gates,
                                  strict=self.strict_patterns, workers=workers)

    def pack(self, coef_init, keep, penalty, dtype):
        n_second, d, n_gates, c = coef_init.shape
        pairs = coef_init.transpose(1, 0, 2, 3).reshape(d, n_second * n_gates, c)
        return super().pack(pairs, keep, penalty, dtype)

    def solution(self, result, weights, keep, mask, penalty, dtype):
        n_gates, n_second = self.second_gates.shape
        d, _, c = weights.shape
        pairs = np.zeros((d, n_second * n_gates, c), dtype=weights.dtype)
        pairs[:, keep, :] = weights
        common = self._common_solution(result, pairs.reshape(d, n_second, n_gates, c)
                                       .transpose(1, 0, 2, 3), keep, mask)
        common["gate_indices"] = np.arange(n_gates)
        return ThreeLayerGatedReLUSolution(duality_gap=result.relative_gap,
                                           converged=result.converged, pair_indices=keep,
                                           **common)

    def network(self, weights, fit_intercept, output_bias=None):
        n_second, d, n_gates, c = weights.shape
        pairs = weights.transpose(1, 0, 2, 3).reshape(d, n_second * n_gates, c)
        return super().network(pairs, fit_intercept, output_bias)

    def forward(self, X, network, gates, fit_intercept):
        X_aug = add_intercept_column(X) if fit_intercept else X
        return three_layer_gated_forward(X, X_aug, gates, self.second_gates, network)


class ThreeLayerReLUProgram(_GateNetworkProgram, ReLUProgram):
    r"""The three-layer ReLU program: parallel three-layer ReLU networks, exactly.

    Sub-networks ``((X W_1)_+ w_2)_+ w_3`` with the first layer on the unit ball,
    ``||W_1||_F <= 1``, and weight decay on the last two, ``(alpha/2)(||w_2||^2 +
    w_3^2)`` (equivalently the l2 path norm ``alpha sum ||w_1j|| |w_2j| |w_3|``: see
    :mod:`skconvexnn.estimators._three_layer`), trained to the global optimum over the
    patterns of a gate network (first-layer patterns ``D_i`` of ``gates``, second-layer
    patterns ``D_{2,l}`` of ``second_gates``):

    .. math::

        \min_{z \in K} \; L\Big(\sum_{s, l} D_{2,l} H_{sl},\; Y\Big)
        + \alpha \sum_{s, \sigma, l, i, k} \|z_{s \sigma l i k}\|_2, \qquad
        H_{slk} = \sum_{i, \sigma} \sigma D_i X z_{s \sigma l i k},

    subject to ``(2 D_i - I) X z_{s sigma l i k} >= 0`` (each first-layer unit keeps
    its pattern) and ``s (2 D_{2,l} - I) H_{slk} >= 0`` (each second-layer unit
    keeps its own), for second-layer signs ``s`` and first-layer signs ``sigma`` in
    ``{+1, -1}``. Every non-zero block ``(s, l, k)`` is one sub-network
    (:func:`~skconvexnn.network.three_layer_relu_network`) that reproduces the convex
    model on the training rows, and the network's objective equals the program's.
    Solved by the method of multipliers on the second-layer constraints around the
    two-layer program's working-set FISTA
    (:mod:`skconvexnn.solvers.augmented_lagrangian`), in float64, certified at a
    feasible point. Weights of shape ``(2, 2, n_second, n_features, n_gates,
    n_outputs)``.

    Parameters
    ----------
    second_gates : ndarray of shape (n_gates, n_second)
    strict_patterns : bool, default=False
    """

    name = "three_layer_relu"

    def __init__(self, second_gates, *, strict_patterns=False):
        super().__init__(strict_patterns=strict_patterns)
        self.second_gates = _check_second_gates(second_gates)

    def coef_shape(self, n_features, n_gates, n_outputs):
        return (2, 2, self.second_gates.shape[1], n_features, n_gates, n_outputs)

    def memory_plan(self, n_samples, n_columns, n_gates, n_outputs, itemsize,
                    is_sparse=False):
        virtual = n_outputs * 2 * self.second_gates.shape[1]
        plan = super().memory_plan(n_samples, n_columns, n_gates, virtual, 8, is_sparse)
        # The multipliers, slacks and virtual outputs of the augmented Lagrangian.
        plan.terms["coupling"] = 8 * n_samples * virtual * 8
        return plan

    def solve_validated(self, X, Y, gates, alpha, loss, sample_weight, coef_init, options):
        self._check_gates(gates)
        loss_obj = self.check_loss(loss).bind(Y, sample_weight)
        kernels = get_backend(options["backend"], X)
        dtype = X.dtype
        X = as_solver_matrix(X).astype(np.float64, copy=False)
        n_outputs = Y.shape[1]
        with row_workers(options["n_jobs"]) as workers:
            first, keep = activation_patterns(X, gates, strict=self.strict_patterns,
                                              workers=workers)
            second, keep2 = second_layer_patterns(X, gates, self.second_gates,
                                                  strict=self.strict_patterns,
                                                  workers=workers)
            space, rows = self._row_space(X)
            coupling = BlockCoupling(second, n_outputs)
            design, penalty = self.build(rows, first, n_outputs * coupling.n_blocks, alpha,
                                         kernels, workers)
            if coef_init is None:
                U0 = np.zeros((rows.shape[1], design.n_groups))
            else:
                if space is not None:
                    coef_init = space.reduce(coef_init)
                U0 = self._pack(coef_init, keep, keep2, penalty)
            result = solve_augmented_lagrangian(
                design, loss_obj, coupling, penalty, U0, tol=options["tol"],
                max_iter=options["max_iter"], solver=options["solver"],
                verbose=options["verbose"], callback=options["callback"],
                step=options["step"])
        weights = self._unpack(result.U, keep, keep2, n_outputs, gates.shape[1])
        if space is not None:
            weights = space.expand(weights)
        # The certificate at the point returned: the objective of the network these
        # weights are, on its own outputs, against the solver's lower bound.
        network = three_layer_relu_network(weights, fit_intercept=False)
        output = three_layer_forward(X, network)
        objective = loss_obj.value(output) + alpha * float(
            np.sqrt(np.einsum("abldik,abldik->ablik", weights, weights)).sum())
        gap = max(objective - result.dual, 0.0) / objective if objective > 0 else 0.0
        violation = max(penalty.constraint_violation(result.U), result.violation)
        return ThreeLayerReLUSolution(
            weights=weights.astype(dtype, copy=False),
            gate_indices=np.arange(gates.shape[1]), patterns=first, objective=objective,
            dual_objective=result.dual, duality_gap=gap, n_iter=result.n_iter,
            converged=result.converged and gap <= options["tol"], stalled=False,
            objective_curve=np.asarray(result.objectives, dtype=np.float64),
            output=output, history=history_arrays(result.history), step=result.step,
            constraint_violation=violation, second_patterns=second,
            second_gate_indices=keep2, first_gate_indices=keep)

    def _pack(self, coef_init, keep, keep2, penalty):
        """Solver columns (``v * 2 P_1 + sigma * P_1 + j``, ``v = k * B + s * P_2 + l``) of
        weights in the layout of the gates, projected onto the cones."""
        kept = np.asarray(coef_init, dtype=np.float64)[:, :, keep2][..., keep, :]
        d = kept.shape[3]
        U0 = kept.transpose(3, 5, 0, 2, 1, 4).reshape(d, -1)
        return penalty.project(U0)

    def _unpack(self, U, keep, keep2, n_outputs, n_gates):
        d = U.shape[0]
        P1, P2 = len(keep), len(keep2)
        blocks = U.reshape(d, n_outputs, 2, P2, 2, P1).transpose(2, 4, 3, 0, 5, 1)
        inner = np.zeros((2, 2, P2, d, n_gates, n_outputs))
        inner[..., keep, :] = blocks
        weights = np.zeros((2, 2, self.second_gates.shape[1], d, n_gates, n_outputs))
        weights[:, :, keep2] = inner
        return weights

    def alpha_max(self, X, Y, gates, **kwargs):
        raise NotImplementedError("alpha_max is not available for the three-layer "
                                  "ReLU program.")

    def network(self, weights, fit_intercept, output_bias=None):
        return three_layer_relu_network(weights, fit_intercept, output_bias)

    def forward(self, X, network, gates, fit_intercept):
        return three_layer_forward(X, network)


#: The programs :func:`~skconvexnn.path` and :func:`~skconvexnn.alpha_max` take by name.
PROGRAMS = {program.name: program for program in (GatedReLUProgram, ReLUProgram)}


def solve(program, X, Y, gates, alpha, *, loss="squared_error", sample_weight=None,
          coef_init=None, tol=1e-6, max_iter=10000, solver="auto", backend="auto",
          n_jobs=None, verbose=0, callback=None, step=None):
    """Solve the convex ``program`` for given gates: the one entry point.

    Validates the inputs (a clear ValueError before any compiled kernel runs), drops
    rows with zero weight, and hands the rest to ``program`` with the solver chosen
    from the registry (:data:`~skconvexnn.solvers.SOLVERS`: one the program accepts,
    given a loss it can use). Arguments as in :func:`~skconvexnn.solve_gated_relu`;
    ``program`` is a :class:`ConvexProgram`.

    Returns
    -------
    GatedReLUSolution, ReLUSolution or RobustReLUSolution
        As the program gives it, with its certificate.
    """
    auto = isinstance(solver, str) and solver == "auto"
    solver = resolve_solver(solver, program.kind, program.default_solver)
    spec = program.check_loss(loss)
    solver.check_loss(spec)
    solver.check_program(program)
    options = dict(tol=tol, max_iter=max_iter, solver=solver, backend=backend,
                   n_jobs=n_jobs, verbose=verbose, callback=callback, step=step)
    program.check_options(options)
    X, Y, gates, sample_weight, coef_init = validate_program_inputs(
        X, Y, gates, alpha, loss, sample_weight, coef_init, program.coef_shape, backend)
    if auto:  # the data's size known: the program may pick another solver
        solver = options["solver"] = program.auto_solver(spec, X.shape[0], Y.shape[1],
                                                         gates.shape[1])
    plan = program.memory_plan(X.shape[0], X.shape[1], gates.shape[1], Y.shape[1],
                               np.dtype(X.dtype).itemsize, is_sparse=sparse.issparse(X))
    if solver.memory is not None:
        plan.terms.update(solver.memory(X.shape[0], X.shape[1],
                                        program.max_patterns(gates.shape[1]), Y.shape[1]))
    check_memory_plan(plan, program, X.shape, gates.shape[1], Y.shape[1])
    return program.solve_validated(X, Y, gates, alpha, loss, sample_weight, coef_init,
                                   options)

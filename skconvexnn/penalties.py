"""Group penalties of the convex programs: value, proximal operator, dual bounds.

``alpha * sum_g ||U_g||_2`` with one group per column of ``U``. A solver asks a penalty
for:

- ``prox(Y, G, step, out)``: the proximal step ``out = prox_{step * penalty}(Y - step G)``;
- ``dual_bounds(U, G, step, n_largest=None)``: per-group *dual bounds* ``b_g``: with
  the dual point ``Theta = -grad L``, the smallest ``kappa``-rescaling that makes
  ``Theta`` dual feasible is ``kappa = alpha / max_g b_g`` (``dual_scaling``); with
  ``n_largest`` only the largest bound and the ``n_largest`` largest of the zero
  columns need be tight (the candidates a working set adds to the support);
- ``prox_and_dual_bounds(Y, G, step, out)``: both at once, for a solver that certifies
  every iterate (FISTA). For the cone-constrained penalty the projection inside the
  prox already gives valid bounds, so the pair costs one projection, not two;
- the columns it acts on, through ``restrict(groups)``.

:class:`GroupL2` is the gated program's penalty (``b_g = ||G_g||``).
:class:`ConeConstrainedGroupL2` adds the ReLU program's constraints ``U_g in K_g``
(Pilanci & Ergen 2020); its prox is ``shrink(project_K(V))``, which is exact for a cone
and a Euclidean norm, so every iterate is feasible.
"""

import copy

import numpy as np

from ._parallel import RowWorkers


class GroupL2:
    """``alpha * sum_w ||U[:, w]||_2`` over the columns of ``U``.

    Parameters
    ----------
    alpha : float
        Regularization strength, ``> 0``.
    kernels : namespace
        Backend kernels (:func:`skconvexnn.backends.get_backend`).
    """

    def __init__(self, alpha, kernels):
        self.alpha = float(alpha)
        self.kernels = kernels

    def restrict(self, groups):
        """The penalty on the columns ``groups`` (the same object: it is separable)."""
        return self

    def value_from_norms(self, norms):
        """Penalty value given the column norms."""
        return self.alpha * float(norms.sum())

    def value(self, U):
        return self.value_from_norms(self.kernels.group_norms(U))

    def prox(self, Y, G, step, out):
        """``out = argmin_U ||U - (Y - step G)||^2 / (2 step) + penalty(U)``.

        Returns the column norms of ``out``.
        """
        return self.kernels.group_soft_threshold(Y - step * G, step * self.alpha, out)

    def prox_and_dual_bounds(self, Y, G, step, out):
        """:meth:`prox` and the dual bounds of the gradient ``G`` (``||G_w||``):
        ``(norms of out, bounds)``."""
        return self.prox(Y, G, step, out), self.kernels.group_norms(G)

    def dual_bounds(self, U, G, step, n_largest=None):
        """Dual bounds of all columns at weights ``U`` with loss gradient ``G``
        (``n_largest``: how many of the largest the caller needs exactly; all of them
        are exact here)."""
        return self.kernels.group_norms(G)

    def constraint_violation(self, U):
        """The gated program has no constraints."""
        return 0.0

    def products(self, U):
        """``X @ U`` if the last prox computed it (never here: no projections)."""
        return None

    def dual_scaling(self, bounds):
        """Largest ``kappa <= 1`` that makes ``-kappa * grad L`` dual feasible."""
        largest = float(bounds.max()) if bounds.size else 0.0
        if largest <= self.alpha:
            return 1.0
        return self.alpha / largest


class _ProjectionState:
    """Warm start of every group's projection: active constraints and multipliers.

    ``generation[g]`` counts the projections of group ``g``: a view's Cholesky factor
    of ``g``'s active set is valid only while no other projection has touched ``g``.
    An active set holds at most ``max_active = min(n, d)`` independent rows of ``X``.
    """

    def __init__(self, n_groups, max_active):
        self.active = np.zeros((n_groups, max_active), dtype=np.int64)
        self.mu = np.zeros((n_groups, max_active))
        self.n_active = np.zeros(n_groups, dtype=np.int64)
        self.generation = np.zeros(n_groups, dtype=np.int64)


class ConeConstrainedGroupL2(GroupL2):
    """``alpha * sum_w ||U_w||_2`` subject to ``U_w in K_w`` for every column.

    ``K_w = {u : (2 D_j - I) X u >= 0}`` for the pattern ``j`` of column ``w``.

    Parameters
    ----------
    alpha : float
    kernels : namespace
    X : {ndarray} of shape (n, d)
        Rows of the program (dense; the projections read them row by row).
    mask : ndarray of shape (n, P), uint8
        Activation patterns.
    group_pattern : ndarray of shape (n_groups,), int64
        Pattern of every group (column) of the full program.
    tol : float, default=1e-12
        Relative feasibility the projections reach.
    workers : RowWorkers, default=None
        Threads for the products with ``X`` (one when None).
    """

    #: Inactive groups' dual bounds only need to be known below ``alpha``: their
    #: projections stop once under ``(1 - _EARLY_STOP_MARGIN) * alpha``.
    _EARLY_STOP_MARGIN = 1e-3
    #: Dual bounds are valid for any multipliers ``mu >= 0``, so the certificate's
    #: projections take at most this many active-set steps per call; the warm start
    #: carries the rest of the work to the next outer iteration.
    _CERTIFICATE_STEPS = 8

    def __init__(self, alpha, kernels, X, mask, group_pattern, tol=1e-12, workers=None):
        super().__init__(alpha, kernels)
        self.workers = RowWorkers(1) if workers is None else workers
        # The projections multiply with BLAS in float64.
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        n, d = self.X.shape
        # X X^T spares the factors their row products (k^2 d of them for k active rows)
        # where rows are long and the n x n matrix is small; else an empty stand-in.
        self._gram = (self.X @ self.X.T if self.uses_gram(n, d)
                      else np.empty((0, 0)))
        self.mask = mask
        self.group_pattern = np.asarray(group_pattern, dtype=np.int64)
        self.tol = tol
        n_groups = len(self.group_pattern)
        # Warm-start state of every group's projections (active constraints and their
        # multipliers), one for the prox and one for the certificate: the certificate's
        # capped runs must not leave half-finished active sets to the prox.
        # An active set is at most min(n, d) rows (the constraints are the n rows, of
        # rank at most d): on a wide table the factors are n x n, not d x d. (The
        # programs solve wide tables in the row space of X: d <= n there.)
        self._max_active = min(self.X.shape)
        self._prox_state = _ProjectionState(n_groups, self._max_active)
        self._bound_state = _ProjectionState(n_groups, self._max_active)
        self._groups = np.arange(n_groups, dtype=np.int64)

    #: The cone factors read ``X X^T`` (kept, ``n x n``) when a row has at least
    #: ``_GRAM_MIN_COLUMNS`` entries and the matrix takes at most ``_GRAM_MAX_BYTES``.
    _GRAM_MIN_COLUMNS = 64
    _GRAM_MAX_BYTES = 128 * 2**20

    @classmethod
    def uses_gram(cls, n_samples, n_columns):
        """Whether the projections keep ``X X^T`` for a table of this shape."""
        return (n_columns >= cls._GRAM_MIN_COLUMNS
                and n_samples * n_samples * 8 <= cls._GRAM_MAX_BYTES)

    #: Most columns projected at a time when no factor cache is kept.
    _CHUNK = 256
    #: Fewest columns the first batch of a lazy certificate projects (``dual_bounds``
    #: with ``n_largest``); 64 instead of 256: breast_cancer's path CV 9.7 -> 7.6 s
    #: (RESULTS 26).
    _FIRST_BATCH = 64
    #: Largest factor cache a view keeps (``n_columns * r * r`` float64, ``r = min(n,
    #: d)``); above it the view projects in chunks without a cache, each chunk's
    #: factors within the same bound (one column at a time if need be).
    _MAX_CACHE_BYTES = 256 * 2**20

    def _factor_bytes(self, n_columns):
        return n_columns * self._max_active ** 2 * 8

    def restrict(self, groups):
        """The penalty on the columns ``groups``, with a Cholesky cache for their
        projections (a working set's prox is called again and again) when it fits in
        ``_MAX_CACHE_BYTES``."""
        view = copy.copy(self)
        view._groups = np.asarray(groups, dtype=np.int64)
        r = self._max_active
        if self._factor_bytes(len(groups)) <= self._MAX_CACHE_BYTES:
            view._factors = np.empty((len(groups), r, r))
            view._n_factored = np.zeros(len(groups), dtype=np.int64)
            view._generation_seen = self._prox_state.generation[view._groups].copy()
        else:
            view._factors = None
        return view

    def project(self, V, targets=None, max_steps=-1, state=None, with_products=False):
        """Project column ``w`` of ``V`` onto the cone of group ``self._groups[w]``.

        Warm-started from each group's last active set; one dense product ``X @ Z``
        checks all candidates at once, and only columns that still violate a constraint
        continue their Lawson-Hanson iterations (at most ``max_steps``, ``-1``: until
        exact; a capped column is ``V + A^T mu``, ``mu >= 0``, not the projection).

        The factors of the active sets are ``min(n, d)`` square.

        With ``with_products``, returns ``(Z, XZ)``: ``XZ = X @ Z`` when the columns were
        projected in one chunk (the product was made anyway; the columns that moved
        after it are multiplied again), else None.
        """
        V = np.ascontiguousarray(V, dtype=np.float64)
        m = V.shape[1]
        if targets is None:
            targets = np.full(m, -1.0)
        state = self._prox_state if state is None else state
        out = np.empty_like(V)
        patterns = self.group_pattern[self._groups]
        cached = state is self._prox_state and getattr(self, "_factors", None) is not None
        if cached:
            # A factor is stale if another projection moved its group's active set.
            self._n_factored[self._generation_seen != state.generation[self._groups]] = 0
        r = self._max_active
        chunk = m if cached else max(1, min(self._CHUNK,
                                            self._MAX_CACHE_BYTES // self._factor_bytes(1)))
        products = None
        for start in range(0, m, chunk):
            cols = slice(start, min(start + chunk, m))
            if cached:
                factors, n_factored = self._factors, self._n_factored
            else:
                factors = np.empty((cols.stop - start, r, r))
                n_factored = np.zeros(cols.stop - start, dtype=np.int64)
            Vc = np.ascontiguousarray(V[:, cols])
            Zc = np.empty_like(Vc)
            self.kernels.cone_warm_candidates(
                self.X, self._gram, self.mask, patterns[cols], self._groups[cols], Vc,
                state.active, state.mu, state.n_active, factors, n_factored, Zc)
            XZ = self.workers.matmul(self.X, Zc)
            moved = np.empty(cols.stop - start, dtype=np.uint8)
            self.kernels.cone_finish_projections(
                self.X, self._gram, self.mask, patterns[cols], self._groups[cols], Vc, XZ,
                state.active, state.mu, state.n_active, factors, n_factored, self.tol,
                targets[cols], max_steps, Zc, moved)
            out[:, cols] = Zc
            if with_products and chunk >= m:
                changed = np.flatnonzero(moved)
                if len(changed):
                    XZ[:, changed] = self.workers.matmul(self.X, Zc[:, changed])
                products = XZ
        state.generation[self._groups] += 1
        if cached:
            self._generation_seen = state.generation[self._groups].copy()
        return (out, products) if with_products else out

    def prox(self, Y, G, step, out):
        """``out = shrink(project_K(Y - step G))``; returns the column norms of ``out``."""
        return self.prox_and_dual_bounds(Y, G, step, out)[0]

    def prox_and_dual_bounds(self, Y, G, step, out):
        """:meth:`prox` and dual bounds ``||Z - Y|| / step`` from its projection ``Z``.

        With ``Z = Y - step G + A^T nu`` (``nu >= 0`` the projection's multipliers),
        ``(Z - Y) / step = -G + A^T (nu / step)``: a point of ``-G + cone(A^T)``, whose
        norm bounds the group's distance to dual feasibility, exact projection or not.
        """
        # A projection may stop as soon as its norm is below step * alpha: the exact one
        # is then shorter still and shrinks to zero all the same.
        threshold = step * self.alpha
        Z, XZ = self.project(Y - step * G, np.full(Y.shape[1], threshold),
                             with_products=True)
        norms = self.kernels.group_soft_threshold(Z, threshold, out)
        self._prox_products = None
        if XZ is not None:
            # The shrinkage scales each column: X @ out is XZ scaled the same way.
            lengths = self.kernels.group_norms(Z)
            with np.errstate(divide="ignore", invalid="ignore"):
                XZ *= np.where(lengths > threshold, 1.0 - threshold / lengths, 0.0)
            self._prox_products = (out, XZ)
        return norms, self.kernels.group_norms(Z - Y) / step

    def products(self, U):
        """``X @ U`` when ``U`` is the output of the last prox and its projections
        computed the product (one chunk), else None."""
        last = getattr(self, "_prox_products", None)
        if last is not None and last[0] is U:
            return last[1]
        return None

    def dual_bounds(self, U, G, step, n_largest=None):
        """Dual bounds ``||project_K(U - step G) - U|| / step`` of the columns.

        For a zero column this is ``||project_K(-G)||``, the exact distance; its
        projection stops early once the bound is safely below ``alpha``. Every bound
        is at most ``||G_w||`` (the bound of multipliers ``mu = 0``), which is kept
        where a projection would give more.

        With ``n_largest``, only as many columns are projected as it takes to know the
        largest bound and the ``n_largest`` largest bounds of the zero columns (those a
        working set adds to the support). Every column starts from a valid bound at
        ``k d`` operations: ``||G_w||`` and the last certificate's multipliers applied
        as they are, whichever is smaller. Columns are projected in decreasing order of
        it, in batches, until the ``n_largest``-th zero column's bound found is at
        least the starting bound of every column left, which it then keeps (valid, and
        below it). The largest bound, hence the certificate's scaling, and the
        ``n_largest`` largest zero columns, hence a working set chosen from them, are
        those of projecting every column; the projections are not.
        """
        cheap = self.kernels.group_norms(G)
        zero = self.kernels.group_norms(U) == 0
        targets = np.where(zero, (1 - self._EARLY_STOP_MARGIN) * self.alpha * step, -1.0)
        m = U.shape[1]
        # The points projected: the prox's arguments at step.
        V = np.ascontiguousarray(U - step * G, dtype=np.float64)
        if n_largest is None or n_largest >= m:
            order, batch = np.arange(m), m
        else:
            # The last certificate's multipliers, applied as they are, give every
            # column a bound at k d operations: usually far below ||G_w||, so fewer
            # columns need projecting to be known among the largest or not.
            cheap = np.minimum(cheap, self._warm_bounds(U, V, step))
            order = np.argsort(-cheap, kind="stable")
            n_largest = int(n_largest)
            batch = max(n_largest, self._FIRST_BATCH)
        bounds = cheap.copy()
        done = 0
        while done < m:
            columns = np.sort(order[done:done + batch])
            view = copy.copy(self)
            view._groups = self._groups[columns]
            view._factors = None
            Z = view.project(V[:, columns], targets[columns], self._CERTIFICATE_STEPS,
                             self._bound_state)
            projected = self.kernels.group_norms(Z - U[:, columns]) / step
            bounds[columns] = np.minimum(projected, cheap[columns])
            done += len(columns)
            if done >= m:
                break
            # A column left matters if it may be the largest, or a zero column that may
            # be among the n_largest zero ones.
            seen, left = order[:done], order[done:]
            found = bounds[seen][zero[seen]]
            if len(found) < n_largest:
                kth = -np.inf
            elif n_largest > 0:
                kth = np.partition(found, len(found) - n_largest)[len(found) - n_largest]
            else:
                kth = np.inf
            contenders = np.flatnonzero((cheap[left] > bounds[seen].max())
                                        | (zero[left] & (cheap[left] > kth)))
            if len(contenders) == 0:
                break  # no column left can enter the n_largest, nor be the largest
            batch = min(2 * batch, int(contenders[-1]) + 1)
        return bounds

    def _warm_bounds(self, U, V, step):
        """``||V + A^T mu - U|| / step`` for ``V = U - step G``, with each column's stored
        certificate multipliers ``mu >= 0``: valid dual bounds, without a projection."""
        Z = np.empty_like(V)
        state = self._bound_state
        self.kernels.cone_combine_warm(self.X, self.mask, self.group_pattern[self._groups],
                                       self._groups, V, state.active, state.mu,
                                       state.n_active, Z)
        return self.kernels.group_norms(Z - U) / step

    def constraint_violation(self, U):
        """``max (-(2 D_j - I) X u_w)_+`` over the columns (``0`` for a feasible ``U``)."""
        columns = np.flatnonzero(self.kernels.group_norms(U) > 0)
        if len(columns) == 0:
            return 0.0
        values = self.workers.matmul(self.X, U[:, columns])
        signs = 2.0 * self.mask[:, self.group_pattern[self._groups[columns]]] - 1.0
        return float(max(0.0, -(signs * values).min()))

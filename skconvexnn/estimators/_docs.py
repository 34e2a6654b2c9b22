"""Docstring pieces shared by the estimators (numpydoc sections)."""

from ..losses import loss_names

PARAMETERS = """
    n_patterns : int, default=100
        Number of gate vectors sampled (the analogue of ``hidden_layer_sizes``). Gates
        that produce the same activation pattern on the training data, or none at all,
        are merged or dropped; ``n_patterns_`` is what remains.
    alpha : float, default=1e-3
        Regularization strength (> 0). It equals the weight-decay coefficient of the
        equivalent network in the objective ``loss + (alpha/2) * (||W1||^2 + ||W2||^2)``
        with the loss averaged over samples. ``MLPClassifier`` adds
        ``alpha_mlp / (2 n_samples) * ||W||^2`` to its mean loss with its full-batch
        ``solver="lbfgs"``, so its ``alpha_mlp`` corresponds to ``alpha * n_samples``
        here (with its minibatch solvers, ``alpha * batch_size``).
    fit_intercept : bool, default=True
        Append a constant input: each hidden unit gets a bias, regularized with its
        weights as in the convex formulation (Pilanci & Ergen 2020).
    solver : {"auto", "working_set", "fista", "reweighting", "admm"}, default="auto"
        ``"working_set"``: FISTA on a working set of groups grown from the full gradient
        and certified by the full duality gap. ``"fista"``: FISTA on every group at
        once. ``"reweighting"`` (gated program, squared loss only): Newton steps on the
        kernel weights of the program's multiple-kernel form (:mod:`skconvexnn.kernels`)
        on the same working set, certified the same way; tens of steps instead of
        thousands of iterations, but each factors an ``n x n`` matrix per output.
        ``"admm"`` (gated and ReLU programs; not the Poisson loss): ADMM on every group
        with one ``n x n`` factorisation and no cone projections (Bai, Gautam &
        Sojoudi 2022; :mod:`skconvexnn.solvers.admm`), certified the same way; for the
        squared loss on wide tables (faster there than FISTA), up to a few thousand
        rows. ``"auto"`` picks ``"reweighting"`` for the gated program with the
        squared loss when rows times outputs are at most 1000, else ``"working_set"``.
    max_iter : int, default=10000
        Budget of FISTA iterations (of Newton steps for ``"reweighting"``, of ADMM
        iterations for ``"admm"``).
    tol : float, default=1e-3
        Stop when the relative duality gap ``(primal - dual) / primal`` is below ``tol``:
        then ``objective_ - optimum <= tol * objective_``. (1e-3
        and 1e-4 gave the same cross-validated accuracy in ``benchmarks/RESULTS.md``;
        1e-3 fits 25-40% faster.)
    random_state : int, RandomState instance or None, default=None
        Draws the gates. The same seed gives the same fit, bit for bit, on one machine.
    warm_start : bool, default=False
        Reuse the previous fit's gates and weights as the starting point (useful along
        a decreasing sequence of ``alpha``, as the ``*CV`` estimators do). The sampled
        gates are kept, so ``n_patterns`` and ``random_state`` only take effect on a
        cold fit (or when the number of features or outputs changed).
    backend : {"auto", "numba", "numpy", "cupy"}, default="auto"
        Where the kernels run: ``"numba"`` (compiled CPU kernels, what ``"auto"`` picks
        for NumPy input), ``"numpy"`` (reference implementation) or ``"cupy"`` (GPU,
        optional extra ``gpu``).
    n_jobs : int, default=None
        Threads for ``fit``. The solver's products run over blocks of rows, each thread
        doing whole blocks (dense product and masks) with BLAS pinned to one thread
        inside, so threads are never oversubscribed. None follows the BLAS library's
        current setting (all cores unless ``OPENBLAS_NUM_THREADS``,
        ``OMP_NUM_THREADS``, ``threadpoolctl`` or a joblib worker limit it); -1 uses all
        cores. (The robust estimators solve on one thread: they accept only None or
        1.)
    verbose : int, default=0
        0: silent. 1: a progress bar (iterations, objective, relative duality gap
        against ``tol``) on standard output. 2: a line per iteration.
"""

RELU_PARAMETERS = """
    patterns : {"gated", "random"}, default="gated"
        The activation patterns the program may use. ``"random"``: those of the
        ``n_patterns`` sampled gates. ``"gated"``: those, plus the sign patterns of the
        hidden units that the gated program (``GatedReLU*`` with the same gates,
        ``alpha`` and ``loss``), solved first to a relative gap of
        ``min(1e-2, 10 * tol)``, finds useful: each unit's input weights ``u`` become a
        gate, with pattern ``1[X u >= 0]``. The optimum over the larger
        set of patterns is never worse; on digits it is 2 points more accurate
        (``benchmarks/RESULTS.md``), for the time of the gated solve. ``n_patterns_``
        can then exceed ``n_patterns``. A ``warm_start`` fit solves the program a cold
        fit would (the sampled gates and the gated units at the new ``alpha``), started
        from the previous fit's weights on the patterns the two share: along a path of
        ``alpha`` it reaches a cold fit's optimum.
"""

ATTRIBUTES = """
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` was a DataFrame with string column names.
    gates_ : ndarray of shape (n_features_in_ + fit_intercept, n_patterns_)
        The gates of the distinct activation patterns, in the coordinates of ``X``
        (last row: the bias coordinate, when ``fit_intercept``).
    n_patterns_ : int
        Number of distinct non-zero activation patterns on the training data.
    coefs_ : list of two ndarrays
        The equivalent network's weights, ``(n_features_in_, n_neurons_)`` and
        ``(n_neurons_, n_outputs_)``, in the layout of ``MLPClassifier.coefs_``.
    intercepts_ : list of two ndarrays
        Hidden biases ``(n_neurons_,)`` and output biases ``(n_outputs_,)`` (zero, but for
        the regressor's target mean).
    n_neurons_ : int
        Active hidden units: non-zero blocks of ``convex_coef_``.
    n_layers_ : int
        3, as in ``MLPClassifier``.
    n_outputs_ : int
        Number of network outputs.
    out_activation_ : str
        What ``predict_proba`` applies to the outputs, as in ``MLPClassifier``:
        ``"logistic"`` (two classes), ``"softmax"`` (more); ``"identity"`` for
        regressors.
    objective_ : float
        Final value of the convex objective: the network's loss plus its weight decay.
    loss_, best_loss_ : float
        Same as ``objective_`` (``MLPClassifier``'s also include its penalty).
    duality_gap_ : float
        Relative duality gap at the weights returned: the certificate of optimality,
        ``objective_ - optimum <= duality_gap_ * objective_``. NaN (void, with a
        warning) when the weights of a constrained program violate their constraints
        by more than rounding: then it would certify nothing.
    converged_ : bool
        Whether ``duality_gap_ <= tol`` was reached, at weights that satisfy their
        constraints (``constraint_violation_`` is rounding).
    n_iter_ : int
        FISTA iterations run.
    loss_curve_ : list of float
        Objective after every iteration.
"""

REGRESSOR_ATTRIBUTES = """
    target_scale_ : float
        What the targets were divided by before the program was solved: for the
        squared error their weighted standard deviation (root mean square without
        ``fit_intercept``) over all outputs, for Huber's loss a spread its outliers do
        not inflate (1.4826 times the median absolute deviation); 1 for other losses
        and constant targets (:meth:`~skconvexnn.losses.Loss.scale`). ``alpha`` (and
        Huber's ``delta``) are relative to it, so a fit on ``1000 * y`` predicts
        ``1000`` times a fit on ``y`` and is as quick to certify. ``objective_``,
        ``convex_coef_`` and ``loss_curve_`` are the program's, on
        ``y / target_scale_``; in the units of ``y`` the network's weight-decay
        objective is ``target_scale_ ** 2 * objective_``, at weight decay
        ``alpha * target_scale_`` (what ``to_mlp()`` sets).
"""

GATED_ATTRIBUTES = """
    convex_coef_ : ndarray of shape (n_features_in_ + fit_intercept, n_patterns_, n_outputs_)
        Solution ``U`` of the convex program: ``U[:, j, k]`` weighs pattern ``j`` for
        output ``k``.
    hidden_pattern_ : ndarray of shape (n_neurons_,)
        Column of ``gates_`` that switches each hidden unit on.
    kernel_weights_ : ndarray of shape (n_patterns_, n_outputs_)
        ``||U_jk||``: the weights of the optimal multiple kernel of each output
        (:mod:`skconvexnn.kernels`); with the squared loss, kernel ridge regression with
        ``kernels_[k]`` on the program's targets is the network's output ``k``.
    kernels_ : list of :class:`~skconvexnn.kernels.GatedReLUKernel`
        One per output: the kernel ``sum_j eta_jk 1[g_j . x >= 0] 1[g_j . x' >= 0] x . x'``
        with ``gates_`` and ``kernel_weights_[:, k]``.
"""

RELU_ATTRIBUTES = """
    convex_coef_ : ndarray of shape (2, n_features_in_ + fit_intercept, n_patterns_, n_outputs_)
        Solution ``(V, W)`` of the convex program: ``V[:, j, k]`` (``W[:, j, k]``) is a
        hidden unit with activation pattern ``j`` and a positive (negative) output weight
        into output ``k``.
    hidden_pattern_ : ndarray of shape (n_neurons_,)
        Activation pattern (column of ``gates_``) of each hidden unit on the training
        data; the units themselves are ordinary ReLUs.
    constraint_violation_ : float
        ``max (-(2 D_j - I) X u)_+`` over the non-zero blocks: zero up to rounding, the
        solver's iterates lie in their activation cones.
"""

GATED_OBJECTIVE = r"""
    .. math::

        \min_{U} \; L\Big(\sum_{j=1}^{P} D_j X U_j,\; Y\Big)
        + \alpha \sum_{j=1}^{P} \sum_{k=1}^{c} \|U_{jk}\|_2,
        \qquad D_j = \mathrm{diag}\big(1[X g_j \ge 0]\big),

    a group lasso (Mishkin, Sahiner & Pilanci 2022) whose solution is the global
    optimum of a two-layer gated ReLU network with weight decay. The gates ``g_j`` are
    standard normal in standardized feature coordinates and stored in the coordinates
    of ``X`` (see :func:`skconvexnn.patterns.sample_gates`), so the patterns do not
    depend on how the features are scaled. A prediction on ``x`` is
    ``sum_j 1[x . g_j >= 0] x . U_j``.
"""

RELU_OBJECTIVE = r"""
    .. math::

        \min_{V, W} \; L\Big(\sum_{j=1}^{P} D_j X (V_j - W_j),\; Y\Big)
        + \alpha \sum_{j=1}^{P} \sum_{k=1}^{c} \big(\|V_{jk}\|_2 + \|W_{jk}\|_2\big)
        \quad \text{s.t.} \quad (2 D_j - I) X V_{jk} \ge 0, \;
        (2 D_j - I) X W_{jk} \ge 0,

    with ``D_j = diag(1[X g_j >= 0])`` (Pilanci & Ergen 2020). Its solution is an
    ordinary two-layer ReLU network, one hidden unit per non-zero block, trained to the
    global optimum of its weight-decay objective over the sampled activation patterns:
    ``coefs_`` and ``intercepts_`` hold it, and predictions on new data run it. The
    solver is FISTA with the exact proximal operator of the cone-constrained group norm
    (every iterate is feasible) in a working-set loop; the duality gap, with multipliers
    from projections onto the activation cones, certifies the result. Gates are drawn as
    for :class:`GatedReLUClassifier`.
"""


def regression_loss_parameter(robust=False):
    """The ``loss`` entry of a regressor's parameters, listing the losses it takes."""
    names = sorted(loss_names("regression", **({"robust": True} if robust
                                                else {"smooth": True})))
    listed = ", ".join(f'"{name}"' for name in names)
    return f"""
    loss : {{{listed}}} or Loss, default="squared_error"
        The regression loss: a name, or a :class:`~skconvexnn.losses.Loss` with its
        parameters; :mod:`skconvexnn.losses` gives each one's formula. ``L(F, Y)``
        above is its weighted average over samples and outputs (``"squared_error"``
        is ``||F - Y||_F^2 / (2 n c)``, scnn's scaling). With ``fit_intercept=True``
        the constant output of least loss (the weighted mean of ``y`` for the squared
        error) is the network's output bias ``intercepts_[1]``, not regularized, as
        in ``MLPRegressor``; predictions are the network's output through the loss's
        ``out_activation`` (``out_activation_``).
"""


def without_parameters(section, names):
    """``section`` (a numpydoc parameter list) without the entries ``names``."""
    kept, keep = [], True
    for line in section.strip("\n").split("\n"):
        if line.startswith("    ") and not line.startswith("     "):
            keep = line.split(" : ")[0].strip() not in names
        if keep:
            kept.append(line)
    return "\n" + "\n".join(kept) + "\n"


CV_PARAMETERS = """
    alphas : int or array-like, default=20
        Number of ``alpha`` values on a log grid from ``alpha_max`` (computed from the
        dual on the whole training set: the smallest ``alpha`` at which the network is
        zero) down to ``eps * alpha_max``; or the values themselves.
    eps : float, default=1e-3
        Length of the grid: ``alpha_min / alpha_max``.
    cv : int, cross-validation generator or iterable, default=None
        As in :class:`~sklearn.linear_model.LogisticRegressionCV`: None is 5-fold
        (stratified for classifiers).
    scoring : str or callable, default=None
        Score to maximize; None uses the estimator's ``score`` (accuracy for
        classifiers, R^2 for regressors).
"""

CV_N_JOBS = """
    n_jobs : int, default=None
        Folds fitted in parallel (joblib; each worker's BLAS threads are limited so the
        machine is not oversubscribed), and BLAS threads of the final refit. None: one
        fold at a time; -1: all cores.
"""

CV_ATTRIBUTES = """
    alpha_ : float
        The ``alpha`` with the best mean cross-validated score (the largest one among
        ties: the smallest network).
    alphas_ : ndarray of shape (n_alphas,)
        The grid, decreasing.
    best_score_ : float
        Mean cross-validated score at ``alpha_``.
    best_index_ : int
        Index of ``alpha_`` in ``alphas_``.
    cv_results_ : dict of ndarrays
        In the manner of ``GridSearchCV.cv_results_``, one entry per ``alpha``:
        ``"param_alpha"``, ``"split{k}_test_score"``, ``"mean_test_score"``,
        ``"std_test_score"``, ``"rank_test_score"``, ``"mean_fit_time"`` (seconds of a
        warm-started fit), ``"mean_n_neurons"`` (active hidden units) and
        ``"mean_duality_gap"``.
"""

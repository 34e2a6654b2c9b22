"""Displays of how a fit converged and of the regularization path, as scikit-learn's.

Each display holds its data and draws it with ``plot``; the ``from_*`` class methods
compute the data from a fitted estimator (or a :class:`~sklearn.pipeline.Pipeline`
ending in one) or from :func:`skconvexnn.path`. matplotlib is imported only when
drawing: install it with ``pip install 'skconvexnn[plots]'``.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["ConvergenceDisplay", "PathDisplay"]

_X_AXES = ("iteration", "time")


def check_matplotlib_support(caller_name):
    """Raise an ImportError naming the ``plots`` extra when matplotlib is missing.

    Parameters
    ----------
    caller_name : str
        What needs matplotlib, for the message.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(f"{caller_name} requires matplotlib. You can install it with "
                          "pip install 'skconvexnn[plots]'") from error


def _final_estimator(estimator):
    """``estimator``, or the last step of a pipeline."""
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def _fitted_attributes(estimator, attributes, caller, expected):
    """The last step of ``estimator``, checked fitted and holding ``attributes``."""
    estimator = _final_estimator(estimator)
    check_is_fitted(estimator)
    missing = [name for name in attributes if not hasattr(estimator, name)]
    if missing:
        raise ValueError(f"{caller} needs the attributes {', '.join(missing)}, "
                         f"which {type(estimator).__name__} does not have: pass a fitted "
                         f"{expected}, or a Pipeline ending in one.")
    return estimator


def _axes_pair(ax, caller, **subplots_kw):
    """Two Axes: ``ax`` when it is a pair, else a new figure with two panels."""
    check_matplotlib_support(caller)
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(layout="constrained", **subplots_kw)
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != 2:
        raise ValueError(f"{caller}: ax must be None or a pair of matplotlib Axes; got "
                         f"{axes.size} object(s).")
    return axes


def _cv_score_name(estimator):
    """Axis label of a cross-validated score: the ``scoring`` name, or the default
    ``score`` method's metric (accuracy for classifiers, R2 for regressors)."""
    scoring = estimator.scoring
    if scoring is None:
        scoring = "accuracy" if is_classifier(estimator) else "R$^2$"
    return f"Mean CV score ({scoring})" if isinstance(scoring, str) else "Mean CV score"


class ConvergenceDisplay:
    """How a fit converged: its objective and its certificate, iteration by iteration.

    Two panels: the objective after every FISTA iteration, with the certificate
    evaluations marked, and the relative duality gap at every certificate evaluation
    on a log scale, with the stopping tolerance ``tol`` as a horizontal line. Use
    :meth:`from_estimator` to build it from a fitted estimator.

    Gaps below ``gap_floor`` (float64 machine epsilon; a gap is exactly 0 when the
    objective is 0) are drawn at ``gap_floor``, so that the log scale can show them.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        Objective after every FISTA iteration (``loss_curve_``).
    convergence_history : dict of array-like of shape (n_evaluations,)
        The certificate at every evaluation (``convergence_history_``): ``"n_iter"``,
        ``"time"``, ``"objective"`` and ``"duality_gap"``.
    tol : float
        The tolerance on the relative duality gap the solver stopped at.

    Attributes
    ----------
    gap_floor : float
        Smallest relative gap drawn, ``np.finfo(np.float64).eps``.
    ax_ : ndarray of shape (2,) of matplotlib Axes
        The objective panel and the duality gap panel.
    figure_ : matplotlib Figure
        Figure holding the panels.
    objective_line_ : matplotlib Line2D
        Objective after every iteration (``x="iteration"``) or at every certificate
        evaluation (``x="time"``).
    objective_points_ : matplotlib Line2D
        Markers at the certificate evaluations on the objective panel.
    gap_line_ : matplotlib Line2D
        Relative duality gap at every certificate evaluation, clipped below at
        ``gap_floor``.
    tol_line_ : matplotlib Line2D
        Horizontal line at ``tol``.

    See Also
    --------
    PathDisplay : the regularization path.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skconvexnn import GatedReLURegressor
    >>> from skconvexnn.plotting import ConvergenceDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 3))
    >>> est = GatedReLURegressor(n_patterns=10, random_state=0).fit(X, np.abs(X[:, 0]))
    >>> display = ConvergenceDisplay.from_estimator(est)
    >>> bool(display.gap_line_.get_ydata()[-1] <= est.tol)
    True
    """

    gap_floor = float(np.finfo(np.float64).eps)

    def __init__(self, *, loss_curve, convergence_history, tol):
        self.loss_curve = loss_curve
        self.convergence_history = convergence_history
        self.tol = tol

    def plot(self, ax=None, *, x="iteration"):
        """Draw the objective and the duality gap.

        Parameters
        ----------
        ax : pair of matplotlib Axes, default=None
            The objective panel and the gap panel. If None, a figure with two panels
            side by side is created.
        x : {"iteration", "time"}, default="iteration"
            Horizontal axis: FISTA iterations, or seconds since the solve started (the
            objective panel then shows the certificate evaluations only, the solver
            not timing every iteration).

        Returns
        -------
        display : ConvergenceDisplay
            Object that stores the computed values.
        """
        if x not in _X_AXES:
            raise ValueError(f"x must be one of {_X_AXES}; got {x!r}.")
        self.ax_ = _axes_pair(ax, f"{type(self).__name__}.plot", ncols=2,
                              figsize=(10, 4))
        self.figure_ = self.ax_[0].figure
        history = {key: np.asarray(values)
                   for key, values in self.convergence_history.items()}
        steps = history["n_iter"] if x == "iteration" else history["time"]
        self._plot_objective(self.ax_[0], history, steps, x)
        self._plot_gap(self.ax_[1], history, steps)
        label = "FISTA iterations" if x == "iteration" else "Time (s)"
        for axis in self.ax_:
            axis.set_xlabel(label)
        return self

    def _plot_objective(self, ax, history, steps, x):
        if x == "iteration":
            curve = np.asarray(self.loss_curve, dtype=np.float64)
            (self.objective_line_,) = ax.plot(np.arange(1, curve.size + 1), curve,
                                              label="after every iteration")
        else:
            (self.objective_line_,) = ax.plot(steps, history["objective"])
        (self.objective_points_,) = ax.plot(steps, history["objective"], "o",
                                            color=self.objective_line_.get_color(),
                                            label="certificate evaluations")
        ax.set_yscale("log")
        ax.set_ylabel("Objective")
        ax.legend()

    def _plot_gap(self, ax, history, steps):
        gaps = np.maximum(history["duality_gap"], self.gap_floor)
        (self.gap_line_,) = ax.plot(steps, gaps, "o-", label="relative duality gap")
        self.tol_line_ = ax.axhline(self.tol, color="k", linestyle="--",
                                    label=f"tol = {self.tol:g}")
        ax.set_yscale("log")
        ax.set_ylabel("Relative duality gap")
        ax.legend()

    @classmethod
    def from_estimator(cls, estimator, *, x="iteration", ax=None):
        """Plot how a fitted estimator converged.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted :class:`~skconvexnn.GatedReLUClassifier`,
            :class:`~skconvexnn.GatedReLURegressor`,
            :class:`~skconvexnn.ConvexReLUClassifier` or
            :class:`~skconvexnn.ConvexReLURegressor`, or a pipeline ending in one.
        x : {"iteration", "time"}, default="iteration"
            Horizontal axis, as in :meth:`plot`.
        ax : pair of matplotlib Axes, default=None
            The objective panel and the gap panel. If None, a new figure is created.

        Returns
        -------
        display : ConvergenceDisplay

        Raises
        ------
        ValueError
            When the estimator is not fitted, or has no ``convergence_history_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skconvexnn import GatedReLURegressor
        >>> from skconvexnn.plotting import ConvergenceDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((60, 3))
        >>> est = GatedReLURegressor(n_patterns=10, random_state=0).fit(X, X[:, 0])
        >>> display = ConvergenceDisplay.from_estimator(est, x="time")
        >>> display.ax_[1].get_xlabel()
        'Time (s)'
        """
        name = f"{cls.__name__}.from_estimator"
        check_matplotlib_support(name)
        estimator = _fitted_attributes(
            estimator, ("loss_curve_", "convergence_history_", "tol"), name,
            "GatedReLU* or ConvexReLU* estimator")
        display = cls(loss_curve=estimator.loss_curve_,
                      convergence_history=estimator.convergence_history_,
                      tol=estimator.tol)
        return display.plot(ax=ax, x=x)


class PathDisplay:
    """A regularization path: a score and the active hidden units against ``alpha``.

    Two panels sharing a log-scaled ``alpha`` axis: on top the objective of every solve
    of :func:`skconvexnn.path` (:meth:`from_path`) or the mean cross-validation score
    with a band of one standard deviation (:meth:`from_estimator`); below, the number
    of active hidden units. The chosen ``alpha``, when there is one, is a vertical line
    on both panels.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        The regularization strengths.
    scores : array-like of shape (n_alphas,)
        The top panel's values at every ``alpha``.
    n_active : array-like of shape (n_alphas,)
        Active hidden units at every ``alpha`` (mean over the folds for a
        cross-validation).
    score_name : str, default="Objective"
        Label of the top panel's axis.
    n_active_name : str, default="Active hidden units"
        Label of the bottom panel's axis.
    scores_std : array-like of shape (n_alphas,), default=None
        Standard deviation of ``scores``, drawn as a band ``scores +- scores_std``.
    alpha : float, default=None
        The chosen ``alpha``, drawn as a vertical line.
    log_scores : bool, default=False
        Whether the top panel's axis is log-scaled (for objectives, which span orders
        of magnitude along a path).

    Attributes
    ----------
    ax_ : ndarray of shape (2,) of matplotlib Axes
        The score panel and the hidden-unit panel.
    figure_ : matplotlib Figure
        Figure holding the panels.
    line_ : matplotlib Line2D
        The scores.
    fill_between_ : matplotlib PolyCollection or None
        The band of one standard deviation, None without ``scores_std``.
    n_active_line_ : matplotlib Line2D
        The active hidden units.
    alpha_lines_ : list of matplotlib Line2D
        The vertical lines at ``alpha`` on each panel (empty without ``alpha``).

    See Also
    --------
    ConvergenceDisplay : how a single fit converged.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skconvexnn.plotting import PathDisplay
    >>> display = PathDisplay(alphas=[1.0, 0.1, 0.01], scores=[0.5, 0.8, 0.7],
    ...                       n_active=[0, 3, 9], score_name="R2", alpha=0.1).plot()
    >>> display.ax_[0].get_xscale()
    'log'
    """

    def __init__(self, *, alphas, scores, n_active, score_name="Objective",
                 n_active_name="Active hidden units", scores_std=None, alpha=None,
                 log_scores=False):
        self.alphas = alphas
        self.scores = scores
        self.n_active = n_active
        self.score_name = score_name
        self.n_active_name = n_active_name
        self.scores_std = scores_std
        self.alpha = alpha
        self.log_scores = log_scores

    def plot(self, ax=None):
        """Draw the scores and the active hidden units against ``alpha``.

        Parameters
        ----------
        ax : pair of matplotlib Axes, default=None
            The score panel and the hidden-unit panel. If None, a figure with two
            panels, one above the other, is created.

        Returns
        -------
        display : PathDisplay
            Object that stores the computed values.
        """
        self.ax_ = _axes_pair(ax, f"{type(self).__name__}.plot", nrows=2, sharex=True,
                              figsize=(6.4, 6))
        self.figure_ = self.ax_[0].figure
        alphas = np.asarray(self.alphas, dtype=np.float64)
        self._plot_scores(self.ax_[0], alphas)
        (self.n_active_line_,) = self.ax_[1].plot(alphas, self.n_active, "o-",
                                                  color="C1")
        self.ax_[1].set_ylabel(self.n_active_name)
        self.ax_[1].set_xlabel("alpha")
        self.alpha_lines_ = [] if self.alpha is None else [
            axis.axvline(self.alpha, color="k", linestyle=":",
                         label=f"chosen alpha = {self.alpha:.3g}") for axis in self.ax_]
        for axis in self.ax_:
            axis.set_xscale("log")
        if self.scores_std is not None or self.alpha is not None:
            self.ax_[0].legend()
        return self

    def _plot_scores(self, ax, alphas):
        scores = np.asarray(self.scores, dtype=np.float64)
        (self.line_,) = ax.plot(alphas, scores, "o-", label=self.score_name)
        self.fill_between_ = None
        if self.scores_std is not None:
            std = np.asarray(self.scores_std, dtype=np.float64)
            self.fill_between_ = ax.fill_between(alphas, scores - std, scores + std,
                                                 alpha=0.3, label="$\\pm$ 1 std")
        if self.log_scores:
            ax.set_yscale("log")
        ax.set_ylabel(self.score_name)

    @classmethod
    def from_path(cls, result, *, ax=None):
        """Plot the objective and the active hidden units along a path.

        Parameters
        ----------
        result : RegularizationPath
            The output of :func:`skconvexnn.path`.
        ax : pair of matplotlib Axes, default=None
            The objective panel and the hidden-unit panel. If None, a new figure is
            created.

        Returns
        -------
        display : PathDisplay

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skconvexnn import path
        >>> from skconvexnn.plotting import PathDisplay
        >>> rng = np.random.default_rng(0)
        >>> X, gates = rng.standard_normal((60, 3)), rng.standard_normal((3, 10))
        >>> display = PathDisplay.from_path(path(X, np.abs(X[:, 0]), gates, alphas=5))
        >>> int(display.n_active_line_.get_ydata()[0])
        0
        """
        check_matplotlib_support(f"{cls.__name__}.from_path")
        display = cls(alphas=result.alphas, scores=result.objectives,
                      n_active=result.n_active, score_name="Objective", log_scores=True)
        return display.plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, *, ax=None):
        """Plot the cross-validation of a fitted ``*CV`` estimator.

        The mean test score over the folds with a band of one standard deviation, the
        mean number of hidden units of the fold fits, and the chosen ``alpha_``.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted :class:`~skconvexnn.GatedReLUClassifierCV`,
            :class:`~skconvexnn.GatedReLURegressorCV`,
            :class:`~skconvexnn.ConvexReLUClassifierCV` or
            :class:`~skconvexnn.ConvexReLURegressorCV`, or a pipeline ending in one.
        ax : pair of matplotlib Axes, default=None
            The score panel and the hidden-unit panel. If None, a new figure is
            created.

        Returns
        -------
        display : PathDisplay

        Raises
        ------
        ValueError
            When the estimator is not fitted, or has no ``cv_results_``.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> from skconvexnn import GatedReLURegressorCV
        >>> from skconvexnn.plotting import PathDisplay
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((60, 3))
        >>> search = GatedReLURegressorCV(n_patterns=10, alphas=5, cv=3, random_state=0)
        >>> display = PathDisplay.from_estimator(search.fit(X, np.abs(X[:, 0])))
        >>> display.ax_[0].get_ylabel()
        'Mean CV score (R$^2$)'
        """
        name = f"{cls.__name__}.from_estimator"
        check_matplotlib_support(name)
        estimator = _fitted_attributes(estimator, ("alpha_", "cv_results_", "scoring"),
                                       name, "*ReLU*CV estimator")
        results = estimator.cv_results_
        display = cls(alphas=results["param_alpha"], scores=results["mean_test_score"],
                      n_active=results["mean_n_neurons"],
                      score_name=_cv_score_name(estimator),
                      n_active_name="Mean active hidden units",
                      scores_std=results["std_test_score"], alpha=estimator.alpha_)
        return display.plot(ax=ax)

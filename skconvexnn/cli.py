"""``skconvexnn fit`` and ``skconvexnn predict``: convex networks on a table in a file.

``fit`` reads a CSV or Parquet file, preprocesses its columns (numeric: median
imputation and standardization; categorical: most-frequent imputation and one-hot
encoding), fits a convex network whose ``alpha`` is chosen by cross-validation (or
given), reports the fit and its certificate, and saves the fitted pipeline with
joblib. ``predict`` loads that file and writes predictions for another table as CSV.

Errors the user can fix (a missing column, an empty file, ...) are raised as
``ValueError``, ``FileNotFoundError`` or ``ImportError`` with a one-line message;
:func:`skconvexnn.__main__.main` prints it and exits with status 2.
"""

import argparse
import contextlib
import os
import sys
import time

import joblib
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from . import __version__
from .estimators import (ConvexReLUClassifier, ConvexReLUClassifierCV, ConvexReLURegressor,
                         ConvexReLURegressorCV, GatedReLUClassifier, GatedReLUClassifierCV,
                         GatedReLURegressor, GatedReLURegressorCV)

PARQUET_SUFFIXES = (".parquet", ".pq")
CATEGORICAL_DTYPES = ["object", "category", "bool", "string"]
MAX_CLASSES_OF_INTEGER_TARGET = 20
TASKS = ("classify", "regress")
SCORE_NAMES = {"classify": "accuracy", "regress": "R^2"}
#: (plain estimator, cross-validated estimator) by (--model, task).
ESTIMATORS = {
    ("gated", "classify"): (GatedReLUClassifier, GatedReLUClassifierCV),
    ("gated", "regress"): (GatedReLURegressor, GatedReLURegressorCV),
    ("relu", "classify"): (ConvexReLUClassifier, ConvexReLUClassifierCV),
    ("relu", "regress"): (ConvexReLURegressor, ConvexReLURegressorCV),
}
MODEL_KEYS = ("pipeline", "target", "task", "feature_columns")


# ----------------------------------------------------------------------------- parsers

def _at_least(minimum, convert):
    """An argparse ``type``: ``convert`` the text, reject values below ``minimum``."""
    def parse(text):
        value = convert(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {text}")
        return value
    return parse


def _positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def add_fit_parser(commands):
    """Add the ``fit`` subcommand to the ``commands`` subparsers; return its parser."""
    parser = commands.add_parser(
        "fit", help="fit a convex network to a CSV/Parquet table and save it",
        description="Fit a convex network (alpha chosen by cross-validation, or given) "
                    "to the columns of DATA and save the fitted pipeline with joblib.")
    parser.add_argument("data", metavar="DATA", help="CSV file (Parquet: .parquet or .pq)")
    parser.add_argument("--target", required=True, metavar="COL",
                        help="the column to predict; every other column is a feature")
    parser.add_argument("--task", choices=TASKS,
                        help="default: classify if the target is non-numeric or integer "
                             f"with at most {MAX_CLASSES_OF_INTEGER_TARGET} distinct "
                             "values, else regress")
    parser.add_argument("--model", choices=("gated", "relu"), default="gated",
                        help="gated ReLU (default) or exact ReLU network")
    parser.add_argument("--cv", type=_at_least(2, int), default=5, metavar="K",
                        help="number of cross-validation folds (default: 5)")
    parser.add_argument("--alpha", type=_positive_float, metavar="A",
                        help="fixed regularization strength (default: chosen by CV)")
    parser.add_argument("--n-alphas", type=_at_least(1, int), default=20, metavar="N",
                        help="number of alphas CV chooses from (default: 20)")
    parser.add_argument("--n-patterns", type=_at_least(1, int), default=100, metavar="P",
                        help="number of sampled activation patterns (default: 100)")
    parser.add_argument("--random-state", type=int, metavar="S",
                        help="seed of the pattern sampling and of the shuffled CV folds "
                             "(default: a fresh seed each run)")
    parser.add_argument("--n-jobs", type=int, metavar="J",
                        help="CV folds fitted in parallel (with --alpha: threads of "
                             "the solver); -1: all cores (default: 1 fold at a time)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress lines on stderr")
    parser.add_argument("--out", required=True, metavar="MODEL",
                        help="where to save the fitted model (joblib)")
    parser.add_argument("--plots", metavar="DIR",
                        help="save convergence.png (and path.png with CV) into DIR")
    parser.set_defaults(handler=run_fit)
    return parser


def add_predict_parser(commands):
    """Add the ``predict`` subcommand to the ``commands`` subparsers; return its parser."""
    parser = commands.add_parser(
        "predict", help="predict with a model saved by `skconvexnn fit`",
        description="Write predictions for the rows of DATA as CSV: one column named "
                    "after the target, plus proba_<class> columns for classifiers with "
                    "probabilities.")
    parser.add_argument("model", metavar="MODEL", help="file written by `skconvexnn fit`")
    parser.add_argument("data", metavar="DATA", help="CSV file (Parquet: .parquet or .pq)")
    parser.add_argument("--out", metavar="CSV", help="output file (default: stdout)")
    parser.set_defaults(handler=run_predict)
    return parser


# ----------------------------------------------------------------------------- reading

def _import_pandas():
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("`skconvexnn fit` and `skconvexnn predict` need pandas: "
                          "pip install 'skconvexnn[cli]'") from exc
    return pandas


def _require_file(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such file: {path}")


def read_table(path):
    """Read a CSV or Parquet file (by its extension) into a non-empty DataFrame.

    Parameters
    ----------
    path : str
        The file; ``.parquet`` and ``.pq`` files are read as Parquet, others as CSV.

    Returns
    -------
    pandas.DataFrame
        At least one row.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ImportError
        If pandas, or for Parquet pyarrow, is not installed.
    ValueError
        If the file is empty or has no data rows.
    """
    pandas = _import_pandas()
    _require_file(path)
    if path.lower().endswith(PARQUET_SUFFIXES):
        try:
            import pyarrow  # noqa: F401 (pandas' Parquet engine)
        except ImportError as exc:
            raise ImportError(f"reading Parquet ({path}) needs pyarrow: "
                              "pip install pyarrow") from exc
        frame = pandas.read_parquet(path)
    else:
        try:
            frame = pandas.read_csv(path)
        except pandas.errors.EmptyDataError as exc:
            raise ValueError(f"{path} is empty") from exc
    if len(frame) == 0:
        raise ValueError(f"{path} has no data rows")
    return frame


def split_target(frame, target):
    """Split ``frame`` into features and the ``target`` column, which must be complete.

    Returns
    -------
    X : pandas.DataFrame
        Every other column.
    y : pandas.Series
        The target.
    """
    if target not in frame.columns:
        available = ", ".join(repr(str(column)) for column in frame.columns)
        raise ValueError(f"no target column {target!r}; the columns are {available}")
    y = frame[target]
    n_missing = int(y.isna().sum())
    if n_missing:
        raise ValueError(f"the target column {target!r} is missing in {n_missing} of "
                         f"{len(y)} rows; drop or fill those rows first")
    X = frame.drop(columns=[target])
    if X.shape[1] == 0:
        raise ValueError(f"no feature columns: the data has only the target {target!r}")
    return X, y


def _is_numeric_target(y):
    pandas = _import_pandas()
    return pandas.api.types.is_numeric_dtype(y) and not pandas.api.types.is_bool_dtype(y)


def infer_task(y):
    """The task a target suggests: ``"classify"`` or ``"regress"``.

    A numeric target is a classification target when all its values are integers
    and it has at most ``MAX_CLASSES_OF_INTEGER_TARGET`` distinct ones.
    """
    if not _is_numeric_target(y):
        return "classify"
    values = y.to_numpy(dtype=float)
    if np.all(values == np.round(values)) and y.nunique() <= MAX_CLASSES_OF_INTEGER_TARGET:
        return "classify"
    return "regress"


def check_task(y, task):
    """Raise ``ValueError`` if ``y`` cannot be the target of ``task``."""
    if task == "regress" and not _is_numeric_target(y):
        raise ValueError(f"cannot regress on the non-numeric target {y.name!r} "
                         f"(dtype {y.dtype}); use --task classify")
    if task == "classify" and y.nunique() < 2:
        raise ValueError(f"the target {y.name!r} has a single class; "
                         "classification needs at least two")


# ----------------------------------------------------------------------------- models

def split_columns(X):
    """Names of the numeric and of the categorical columns of ``X``.

    Numeric dtypes are numeric; object, category, bool and string dtypes are
    categorical; any other dtype (dates, for instance) is rejected.

    Returns
    -------
    numeric, categorical : list
    """
    numeric = X.select_dtypes(include="number").columns.tolist()
    categorical = X.select_dtypes(include=CATEGORICAL_DTYPES).columns.tolist()
    unsupported = [str(c) for c in X.columns if c not in numeric and c not in categorical]
    if unsupported:
        raise ValueError(f"columns of unsupported dtype (neither numeric nor categorical): "
                         f"{', '.join(unsupported)}")
    return numeric, categorical


def make_preprocessor(numeric, categorical):
    """Column transformer: ``numeric`` columns imputed and scaled, ``categorical`` one-hot.

    Parameters
    ----------
    numeric, categorical : list
        Column names: numeric ones get median imputation and standardization,
        categorical ones most-frequent imputation and one-hot encoding (unknown
        categories at prediction encode as all zeros).

    Returns
    -------
    sklearn.compose.ColumnTransformer
    """
    numeric_steps = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical_steps = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False))
    return ColumnTransformer([("numeric", numeric_steps, numeric),
                              ("categorical", categorical_steps, categorical)])


def make_folds(task, n_folds, random_state):
    """Shuffled cross-validation folds: stratified for ``"classify"``.

    Rows of a table are often sorted (by date, by the target): unshuffled folds would
    then hold out one end of it each.
    """
    splitter = StratifiedKFold if task == "classify" else KFold
    return splitter(n_folds, shuffle=True, random_state=random_state)


def make_estimator(model, task, *, alpha, cv, n_alphas, n_patterns, random_state,
                   n_jobs=None, verbose=0):
    """The convex network for ``model`` and ``task``.

    Parameters
    ----------
    model : {"gated", "relu"}
        Gated ReLU or exact (convex) ReLU network.
    task : {"classify", "regress"}
    alpha : float or None
        A fixed regularization strength: the plain estimator. ``None``: the
        cross-validated estimator, choosing among ``n_alphas`` values with the folds
        ``cv``.
    cv : int or cross-validation splitter
    n_alphas, n_patterns, random_state, n_jobs, verbose : int
        As the estimators' parameters.
    """
    plain, cross_validated = ESTIMATORS[model, task]
    if alpha is not None:
        return plain(n_patterns, alpha=alpha, random_state=random_state, n_jobs=n_jobs,
                     verbose=verbose)
    return cross_validated(n_patterns, alphas=n_alphas, cv=cv, random_state=random_state,
                           n_jobs=n_jobs, verbose=verbose)


def fit_pipeline(pipeline, X, y, cv, verbose=0):
    """Fit ``pipeline`` and return its cross-validation score (mean, std).

    With a cross-validated final step, the score is that estimator's at its chosen
    ``alpha_``; otherwise the whole pipeline is cross-validated over the folds ``cv``
    before the final fit on all rows. ``verbose`` prints a line per fold.
    """
    if hasattr(pipeline[-1], "alphas"):
        pipeline.fit(X, y)
        results, best = pipeline[-1].cv_results_, pipeline[-1].best_index_
        return results["mean_test_score"][best], results["std_test_score"][best]
    scores = cross_val_score(pipeline, X, y, cv=cv, verbose=2 if verbose else 0)
    if verbose:
        print(f"{type(pipeline[-1]).__name__}: fit on all {len(X)} rows", flush=True)
    pipeline.fit(X, y)
    return scores.mean(), scores.std()


def save_plots(estimator, directory, title=""):
    """Save ``convergence.png`` (and ``path.png`` for CV estimators) into ``directory``.

    ``title`` (the model, the data file, the alpha) heads every figure.

    Returns
    -------
    list of str
        The files written.
    """
    from .plotting import ConvergenceDisplay, PathDisplay, check_matplotlib_support

    check_matplotlib_support("--plots")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    displays = {"convergence.png": ConvergenceDisplay}
    if hasattr(estimator, "cv_results_"):
        displays["path.png"] = PathDisplay
    os.makedirs(directory, exist_ok=True)
    written = []
    for filename, display in displays.items():
        figure = display.from_estimator(estimator).figure_
        if title:
            figure.suptitle(title, fontsize="medium")
        written.append(os.path.join(directory, filename))
        figure.savefig(written[-1])
        plt.close(figure)
    return written


# ----------------------------------------------------------------------------- commands

def _alpha_line(estimator, cv):
    if hasattr(estimator, "alpha_"):
        return (f"alpha: {estimator.alpha_:.4g} (chosen by {cv}-fold CV among "
                f"{len(estimator.alphas_)} values)")
    return f"alpha: {estimator.alpha:.4g} (given)"


def run_fit(args, file=None):
    """``skconvexnn fit``: fit, report to ``file`` (default stdout), save ``args.out``.

    Returns
    -------
    int
        The exit status, 0.
    """
    file = file or sys.stdout
    X, y = split_target(read_table(args.data), args.target)
    task = args.task or infer_task(y)
    check_task(y, task)
    numeric, categorical = split_columns(X)
    folds = make_folds(task, args.cv, args.random_state)
    estimator = make_estimator(args.model, task, alpha=args.alpha, cv=folds,
                               n_alphas=args.n_alphas, n_patterns=args.n_patterns,
                               random_state=args.random_state, n_jobs=args.n_jobs,
                               verbose=0 if args.quiet else 1)
    pipeline = Pipeline([("preprocess", make_preprocessor(numeric, categorical)),
                         ("network", estimator)])
    print(f"data: {len(X)} rows, {X.shape[1]} feature columns ({len(numeric)} numeric, "
          f"{len(categorical)} categorical), target {args.target!r}", file=file)
    how = "given" if args.task else "inferred"
    print(f"task: {task} ({how}); model: {type(estimator).__name__}", file=file)
    seed = ("--random-state " + str(args.random_state) if args.random_state is not None
            else "a fresh seed: pass --random-state for the same folds")
    print(f"CV: {args.cv} shuffled{' stratified' if task == 'classify' else ''} folds "
          f"({seed})", file=file)
    start = time.perf_counter()
    # Progress (the estimators' verbose lines and bars) goes to stderr, the report
    # to stdout.
    with contextlib.redirect_stdout(sys.stderr):
        mean, std = fit_pipeline(pipeline, X, y, folds, verbose=not args.quiet)
    elapsed = time.perf_counter() - start
    network = pipeline[-1]
    print(_alpha_line(network, args.cv), file=file)
    print(f"CV {SCORE_NAMES[task]}: {mean:.4f} ± {std:.4f} ({args.cv} folds)", file=file)
    print(f"hidden units: {network.n_neurons_}; duality gap of the final fit: "
          f"{network.duality_gap_:.2e}", file=file)
    print(f"time: {elapsed:.2f} s", file=file)
    joblib.dump({"pipeline": pipeline, "target": args.target, "task": task,
                 "feature_columns": X.columns.tolist(), "version": __version__}, args.out)
    print(f"saved: {args.out}", file=file)
    if args.plots:
        alpha = network.alpha_ if hasattr(network, "alpha_") else network.alpha
        title = (f"{type(network).__name__} on {os.path.basename(args.data)}, "
                 f"alpha={alpha:.3g}")
        for path in save_plots(network, args.plots, title):
            print(f"plot: {path}", file=file)
    return 0


def load_model(path):
    """Load a model file written by ``skconvexnn fit`` (a dict with ``MODEL_KEYS``)."""
    _require_file(path)
    try:
        model = joblib.load(path)
    except Exception as exc:  # unpickling a foreign file can fail in any way
        raise ValueError(f"cannot load {path}, not a model saved by `skconvexnn fit` "
                         f"({type(exc).__name__}: {exc})") from exc
    if not isinstance(model, dict) or not set(MODEL_KEYS) <= model.keys():
        raise ValueError(f"{path} is not a model saved by `skconvexnn fit`")
    return model


def predict_frame(model, frame):
    """Predictions for the rows of ``frame`` as a DataFrame.

    Parameters
    ----------
    model : dict
        As returned by :func:`load_model`.
    frame : pandas.DataFrame
        Every feature column the model was trained on; the target column and any
        other columns are ignored.

    Returns
    -------
    pandas.DataFrame
        One column named after the target; for classifiers with ``predict_proba``,
        a ``proba_<class>`` column per class.
    """
    pandas = _import_pandas()
    missing = [str(c) for c in model["feature_columns"] if c not in frame.columns]
    if missing:
        raise ValueError(f"the data lacks feature columns the model was trained on: "
                         f"{', '.join(missing)}")
    X = frame[model["feature_columns"]]
    pipeline = model["pipeline"]
    predictions = pandas.DataFrame({model["target"]: pipeline.predict(X)})
    if hasattr(pipeline, "predict_proba"):
        probabilities = pipeline.predict_proba(X)
        for label, column in zip(pipeline.classes_, probabilities.T):
            predictions[f"proba_{label}"] = column
    return predictions


def run_predict(args, file=None):
    """``skconvexnn predict``: write CSV predictions to ``args.out`` or ``file`` (stdout).

    Returns
    -------
    int
        The exit status, 0.
    """
    file = file or sys.stdout
    model = load_model(args.model)
    predictions = predict_frame(model, read_table(args.data))
    if args.out:
        predictions.to_csv(args.out, index=False)
        print(f"wrote {len(predictions)} predictions to {args.out}", file=file)
    else:
        predictions.to_csv(file, index=False)
        file.flush()  # a closed pipe surfaces here, where main() handles it
    return 0

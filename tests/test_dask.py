"""Searches scale out through joblib's Dask backend (dask[distributed] is a test extra)."""

import joblib
import numpy as np
from dask.distributed import Client, LocalCluster, get_task_stream
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skconvexnn import ConvexReLUClassifier, GatedReLUClassifierCV

X, y = make_classification(n_samples=90, n_features=5, n_informative=4, n_redundant=0,
                           random_state=0)
SPLITTER = StratifiedKFold(3, shuffle=True, random_state=0)


def _searches(n_jobs):
    grid = GridSearchCV(ConvexReLUClassifier(n_patterns=10, random_state=0),
                        {"alpha": [1e-3, 1e-2]}, cv=SPLITTER, n_jobs=n_jobs).fit(X, y)
    path_cv = GatedReLUClassifierCV(n_patterns=10, alphas=4, cv=SPLITTER, random_state=0,
                                    n_jobs=n_jobs).fit(X, y)
    return grid, path_cv


def test_searches_run_on_a_local_dask_cluster_and_agree_with_local_runs():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        workers = set(client.scheduler_info()["workers"])
        with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            grid, path_cv = _searches(n_jobs=-1)
    # The fits ran as tasks on the cluster's workers: one per (fold, alpha) of the grid
    # search and one per fold of the path CV, at least.
    assert len(tasks.data) >= 3 * 2 + 3
    assert {task["worker"] for task in tasks.data} <= workers

    local_grid, local_path_cv = _searches(n_jobs=None)
    np.testing.assert_allclose(grid.cv_results_["mean_test_score"],
                               local_grid.cv_results_["mean_test_score"])
    np.testing.assert_allclose(path_cv.cv_results_["mean_test_score"],
                               local_path_cv.cv_results_["mean_test_score"])
    assert path_cv.alpha_ == local_path_cv.alpha_

"""One fit across a Dask cluster (skconvexnn.distributed): consensus ADMM over row blocks.

Every test runs on a LocalCluster of two worker processes on loopback (dask[distributed]
is a test extra). The reference is the in-memory fit of the same estimator, solved to a
much tighter gap: both are certified, so their objectives must agree within the
distributed fit's gap.
"""

import warnings

import dask.array as da
import numpy as np
import pytest
from dask.distributed import Client, LocalCluster
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skconvexnn import ConvexReLUClassifier, GatedReLUClassifier, GatedReLURegressor
from skconvexnn import distributed

X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_redundant=0,
                           random_state=0)
X3, y3 = make_classification(n_samples=300, n_features=6, n_informative=4, n_redundant=0,
                             n_classes=3, random_state=1)
XR, yR = make_regression(n_samples=300, n_features=6, noise=5.0, random_state=0)
PARAMS = dict(n_patterns=15, random_state=0)


def blocks(*arrays, rows=100):
    """The arrays as dask arrays in blocks of ``rows`` rows."""
    return [da.from_array(a, chunks=(rows,) + a.shape[1:]) for a in arrays]


def test_a_dask_array_without_a_client_is_a_clear_error():
    with pytest.raises(ValueError, match="no Client is connected"):
        GatedReLUClassifier(**PARAMS).fit(*blocks(X, y))


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def _assert_same_optimum(fitted, reference):
    assert fitted.converged_ and 0 <= fitted.duality_gap_ <= fitted.tol
    # Both certified: each objective is within its gap of the optimum.
    assert abs(fitted.objective_ - reference.objective_) <= (
        (fitted.duality_gap_ + reference.duality_gap_) * reference.objective_)


@pytest.mark.parametrize("data, Estimator", [
    ((X, y), GatedReLUClassifier), ((X3, y3), GatedReLUClassifier),
    ((XR, yR), GatedReLURegressor), ((XR, np.column_stack([yR, yR ** 2 / 100])),
                                     GatedReLURegressor)],
    ids=["binary", "three-classes", "regression", "two-outputs"])
def test_a_fit_on_the_cluster_reaches_the_in_memory_optimum(client, data, Estimator):
    reference = Estimator(**PARAMS, tol=1e-8, max_iter=100000).fit(*data)
    fitted = Estimator(**PARAMS, tol=1e-4, max_iter=2000).fit(*blocks(*data))
    _assert_same_optimum(fitted, reference)
    np.testing.assert_allclose(fitted.gates_, reference.gates_)
    assert fitted.n_features_in_ == data[0].shape[1]
    for name in ("classes_", "out_activation_", "target_scale_"):
        if hasattr(reference, name):
            np.testing.assert_array_equal(getattr(fitted, name), getattr(reference, name))
    # The same predictions from the network, in memory and block by block.
    if hasattr(reference, "classes_"):
        assert np.mean(fitted.predict(data[0]) == reference.predict(data[0])) >= 0.99
        np.testing.assert_allclose(fitted.predict_proba(data[0]),
                                   reference.predict_proba(data[0]), atol=0.02)
        np.testing.assert_allclose(fitted.predict_proba(blocks(data[0])[0]).compute(),
                                   fitted.predict_proba(data[0]))
    else:
        scale = np.std(data[1])
        np.testing.assert_allclose(fitted.predict(data[0]), reference.predict(data[0]),
                                   atol=0.02 * scale)
    np.testing.assert_array_equal(fitted.predict(blocks(data[0])[0]).compute(),
                                  fitted.predict(data[0]))


def test_sample_weights_on_the_cluster_are_the_in_memory_weights(client):
    weights = np.random.default_rng(0).integers(0, 4, size=len(y)).astype(float)
    reference = GatedReLUClassifier(**PARAMS, tol=1e-8, max_iter=100000).fit(
        X, y, sample_weight=weights)
    fitted = GatedReLUClassifier(**PARAMS, tol=1e-4, max_iter=2000).fit(
        *blocks(X, y, weights))
    _assert_same_optimum(fitted, reference)
    assert fitted._n_train == reference._n_train == int((weights > 0).sum())


def test_float32_blocks_give_a_float32_model_certified_in_float64(client):
    X32 = X.astype(np.float32)
    reference = GatedReLUClassifier(**PARAMS, tol=1e-8, max_iter=100000).fit(X, y)
    fitted = GatedReLUClassifier(**PARAMS, tol=1e-4, max_iter=2000).fit(*blocks(X32, y))
    assert fitted.coefs_[0].dtype == np.float32
    # The float32 rows are the float64 problem up to rounding of X (1e-7 relative).
    _assert_same_optimum(fitted, reference)


def test_an_early_stop_is_certified_and_warns(client):
    optimum = GatedReLUClassifier(**PARAMS, tol=1e-9, max_iter=100000).fit(X, y).objective_
    with pytest.warns(ConvergenceWarning, match="max_iter=10"):
        early = GatedReLUClassifier(**PARAMS, max_iter=10).fit(*blocks(X, y))
    assert not early.converged_
    assert early.duality_gap_ > early.tol
    assert optimum <= early.objective_ <= optimum + early.duality_gap_ * early.objective_
    assert early.score(X, y) > 0.5  # a usable model


def test_a_dask_dataframe_keeps_its_feature_names(client):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    fitted = GatedReLUClassifier(**PARAMS).fit(dd.from_pandas(frame, npartitions=3),
                                               dd.from_pandas(pd.Series(y),
                                                              npartitions=3))
    np.testing.assert_array_equal(fitted.feature_names_in_, frame.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name warning on the blocks
        labels = fitted.predict(dd.from_pandas(frame, npartitions=2)).compute()
    np.testing.assert_array_equal(labels, fitted.predict(frame))


def test_a_warm_start_on_the_cluster_starts_from_the_last_fit(client):
    model = GatedReLUClassifier(**PARAMS, tol=1e-4, max_iter=2000, warm_start=True)
    cold_iterations = model.fit(*blocks(X, y)).n_iter_
    gates = model.gates_.copy()
    model.fit(*blocks(X, y))
    np.testing.assert_array_equal(model.gates_, gates)
    assert model.n_iter_ < cold_iterations


def test_a_worker_lost_mid_fit_gives_a_completed_and_certified_fit(client):
    """Restarting one of the two workers at the first certificate (its process and
    the blocks it held are gone): the blocks are recomputed from the array's graph on
    the other one (or the new process its nanny starts), and the fit ends at the
    optimum; or it fails with the clear RuntimeError
    of ``_gather``. It must never return a wrong model."""
    reference = GatedReLUClassifier(**PARAMS, tol=1e-8, max_iter=100000).fit(X, y)
    X_blocks, y_blocks = blocks(X, y)
    rows, summary = distributed.load_rows(X_blocks, y_blocks, None, classification=True,
                                          client=client)
    data = distributed.build_program(
        client, rows, summary, PARAMS["n_patterns"], fit_intercept=True,
        encode=distributed._LabelEncoding(summary["labels"]), loss="log_loss",
        n_outputs=1, random_state=0)
    holders = {worker for workers in client.who_has(data.blocks).values()
               for worker in workers}
    killed = []

    def kill_a_worker(n_iter, primal, gap):
        if not killed:
            victim = sorted(holders)[0]
            client.restart_workers([victim])  # its process and memory are gone
            killed.append(victim)

    try:
        result = distributed.consensus_admm(data, 1e-3, tol=1e-4, max_iter=2000,
                                            callback=kill_a_worker)
    finally:
        data.release()
        client.cancel(rows)
    assert killed
    assert result.converged
    assert abs(result.primal - reference.objective_) <= (
        (result.relative_gap + reference.duality_gap_) * reference.objective_)


def test_a_cluster_that_cannot_recompute_gives_a_clear_error():
    from distributed import KilledWorker
    from distributed.comm import CommClosedError

    class LostCluster:
        def __init__(self, error):
            self.error = error

        def gather(self, futures):
            raise self.error

    for error in (KilledWorker("_local_step-0", "tcp://127.0.0.1:1", 3),
                  CommClosedError("in <TCP (closed)>: Stream is closed")):
        with pytest.raises(RuntimeError, match="lost its workers or its data during "
                                               "ADMM iteration 3"):
            distributed._gather(LostCluster(error), [], "ADMM iteration 3")


def test_what_cannot_run_on_the_cluster_is_refused_before_any_work(client):
    X_blocks, y_blocks = blocks(X, y)
    with pytest.raises(ValueError, match="gated program"):
        ConvexReLUClassifier(n_patterns=5).fit(X_blocks, y_blocks)
    with pytest.raises(ValueError, match="solver='auto' or 'admm'"):
        GatedReLUClassifier(n_patterns=5, solver="working_set").fit(X_blocks, y_blocks)
    with pytest.raises(ValueError, match="squared_error"):
        GatedReLURegressor(n_patterns=5, loss="huber").fit(*blocks(XR, yR))
    bad = X.copy()
    bad[5, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GatedReLUClassifier(n_patterns=5).fit(*blocks(bad, y))
    with pytest.raises(ValueError, match="at least 2 classes"):
        GatedReLUClassifier(n_patterns=5).fit(*blocks(X, np.zeros_like(y)))
    with pytest.raises(ValueError, match="one row per row of X"):
        GatedReLUClassifier(n_patterns=5).fit(X_blocks, y[:-1])

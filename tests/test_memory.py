"""Memory planned before a solve: the estimate bounds what a solve allocates, and a
solve over the budget stops with a clear error before any work."""

import tracemalloc
import warnings

import numpy as np
import pytest

import skconvexnn
from skconvexnn import (ConvexReLUClassifier, MemoryBudgetError, config_context, get_config,
                        set_config)
from skconvexnn import programs
from skconvexnn.programs import GatedReLUProgram, ReLUProgram, RobustReLUProgram, solve


def _problem(n, d, n_gates, n_outputs, classification, seed=0):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, d)), np.ones((n, 1))])
    gates = rng.standard_normal((d + 1, n_gates))
    Y = rng.standard_normal((n, n_outputs))
    return X, (np.where(Y > 0, 1.0, -1.0) if classification else Y), gates


def _traced_peak(program, X, Y, gates, loss, max_iter):
    solve(program, X, Y, gates, 1e-3, loss=loss, max_iter=20)  # compiles the kernels
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        solve(program, X, Y, gates, 1e-3, loss=loss, max_iter=max_iter)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("program, loss", [
    (GatedReLUProgram(), "squared_error"), (ReLUProgram(), "squared_error"),
    (RobustReLUProgram(0.01), "log_loss")], ids=["gated", "relu", "robust"])
@pytest.mark.parametrize("n, d, n_gates, n_outputs", [(200, 8, 30, 2), (60, 100, 12, 2)])
def test_the_plan_bounds_the_traced_peak(program, loss, n, d, n_gates, n_outputs):
    # An upper bound, and not a loose one: within 12x of what the solve allocates.
    X, Y, gates = _problem(n, d, n_gates, n_outputs, classification=loss == "log_loss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peak = _traced_peak(program, X, Y, gates, loss, max_iter=40)
    plan = program.memory_plan(n, d + 1, n_gates, n_outputs, 8)
    assert peak <= plan.total <= 12 * peak + 4 * 2**20, (peak, plan.total, plan.describe())


def test_a_fit_over_the_budget_stops_before_any_work(monkeypatch):
    X, Y, _ = _problem(200, 50, 1, 1, classification=True)

    def no_work(*args, **kwargs):
        raise AssertionError("patterns computed although the plan is over the budget")

    monkeypatch.setattr(programs, "activation_patterns", no_work)
    with config_context(memory_budget=2**20):
        with pytest.raises(MemoryBudgetError) as caught:
            ConvexReLUClassifier(n_patterns=50, random_state=0).fit(X, Y.ravel())
    message = str(caught.value)
    for part in ("GatedReLUProgram", "200 x 52", "memory budget of 1.0 MiB",
                 "n_patterns", "set_config(memory_budget="):
        assert part in message
    # A MemoryError that a ValueError handler (bad input) catches too.
    assert isinstance(caught.value, MemoryError) and isinstance(caught.value, ValueError)


def test_the_wide_table_of_the_issue_is_planned_under_two_gigabytes():
    # ConvexReLUClassifier() on 200 x 5000 died asking for 47.7 GiB; its plan now (the
    # default 100 patterns, V and W) is far below, and the budget error would name it.
    plan = ReLUProgram().memory_plan(200, 5001, 100, 1, 8)
    assert plan.total < 2 * 2**30
    assert "cone factors" in plan.describe()


def test_the_wide_table_of_the_issue_fits_within_a_small_budget():
    # 200 x 5000 (the issue's table, few patterns): solved in the row space of X, the
    # fit plans and takes a few hundred MB, and certifies.
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=200, n_features=5000, n_informative=20,
                               random_state=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with config_context(memory_budget=400 * 2**20):
        model = ConvexReLUClassifier(n_patterns=10, random_state=0).fit(X, y)
    assert model.converged_ and model.convex_coef_.shape[1] == 5000 + 1
    plan = ReLUProgram().memory_plan(200, 5001, 10, 1, 8)
    assert plan.total <= 400 * 2**20 and "row space" in plan.describe()


def test_config_is_validated_and_restored():
    assert get_config()["memory_budget"] == "auto"
    with config_context(memory_budget=3e9):
        assert get_config()["memory_budget"] == 3e9
    assert get_config()["memory_budget"] == "auto"
    for bad in (0, -1, "lots", True):
        with pytest.raises(ValueError, match="memory_budget"):
            set_config(memory_budget=bad)
    assert skconvexnn._config.memory_budget() > 0

"""`skconvexnn fit` and `skconvexnn predict`: round trips through files, and clear errors."""

import os
import subprocess
import sys

import joblib
import numpy as np
import pytest

from skconvexnn.__main__ import main
from skconvexnn.cli import infer_task

pd = pytest.importorskip("pandas")

#: Small and fast: few patterns and a short alpha grid.
FAST = ["--n-patterns", "20", "--n-alphas", "5", "--random-state", "0"]


def _console_script():
    script = os.path.join(os.path.dirname(sys.executable), "skconvexnn")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "skconvexnn"]


def _tabular(n_samples=120, seed=0):
    """Two numeric columns and a categorical one that all matter, one missing value each."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal((2, n_samples))
    color = rng.choice(["red", "green", "blue"], n_samples)
    frame = pd.DataFrame({"x1": x1, "x2": x2, "color": color})
    frame["label"] = np.where(x1 + 1.5 * (color == "red") - 0.5 > 0, "yes", "no")
    frame["y"] = np.maximum(x1, 0) - x2 + 0.5 * (color == "blue")
    frame.loc[3, "x2"] = np.nan
    frame.loc[5, "color"] = np.nan
    return frame


@pytest.fixture
def classification_csv(tmp_path):
    path = tmp_path / "train.csv"
    _tabular().drop(columns="y").to_csv(path, index=False)
    return path


@pytest.fixture
def regression_csv(tmp_path):
    path = tmp_path / "train.csv"
    _tabular().drop(columns="label").to_csv(path, index=False)
    return path


def test_console_script_fits_and_predicts(classification_csv, tmp_path):
    model, predictions = tmp_path / "model.joblib", tmp_path / "predictions.csv"
    fit = subprocess.run(
        _console_script() + ["fit", str(classification_csv), "--target", "label",
                             "--cv", "3", "--out", str(model)] + FAST,
        capture_output=True, text=True)
    assert fit.returncode == 0, fit.stderr
    assert "task: classify (inferred)" in fit.stdout
    assert "GatedReLUClassifierCV" in fit.stdout and "duality gap" in fit.stdout
    assert "120 rows, 3 feature columns (2 numeric, 1 categorical)" in fit.stdout

    predict = subprocess.run(
        _console_script() + ["predict", str(model), str(classification_csv),
                             "--out", str(predictions)],
        capture_output=True, text=True)
    assert predict.returncode == 0, predict.stderr
    truth = pd.read_csv(classification_csv)["label"]
    result = pd.read_csv(predictions)
    assert list(result.columns) == ["label", "proba_no", "proba_yes"]
    assert len(result) == len(truth)
    assert set(result["label"]) <= {"no", "yes"}
    assert np.allclose(result[["proba_no", "proba_yes"]].sum(axis=1), 1)
    assert (result["label"] == truth).mean() > 0.85


def test_regression_round_trip_with_plots(regression_csv, tmp_path, capsys):
    model, plots = tmp_path / "model.joblib", tmp_path / "plots"
    status = main(["fit", str(regression_csv), "--target", "y", "--cv", "3",
                   "--out", str(model), "--plots", str(plots)] + FAST)
    report = capsys.readouterr().out
    assert status == 0
    assert "task: regress (inferred)" in report and "CV R^2:" in report
    assert sorted(os.listdir(plots)) == ["convergence.png", "path.png"]

    assert main(["predict", str(model), str(regression_csv)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "y" and len(lines) == 121
    predicted, truth = np.array(lines[1:], dtype=float), pd.read_csv(regression_csv)["y"]
    assert 1 - np.mean((predicted - truth) ** 2) / np.var(truth) > 0.9


def test_fixed_alpha_cross_validates_the_pipeline(classification_csv, tmp_path, capsys):
    status = main(["fit", str(classification_csv), "--target", "label", "--alpha", "1e-3",
                   "--cv", "3", "--model", "relu", "--out", str(tmp_path / "m.joblib"),
                   "--n-patterns", "10"])
    report = capsys.readouterr().out
    assert status == 0
    assert "model: ConvexReLUClassifier\n" in report
    assert "alpha: 0.001 (given)" in report and "CV accuracy:" in report


@pytest.mark.parametrize("values, task", [
    (["a", "b", "a"], "classify"),
    ([True, False, True], "classify"),
    ([0, 1, 2, 1], "classify"),
    ([0.0, 1.0, 1.0], "classify"),
    ([0.5, 1.0, 2.0], "regress"),
    (list(range(21)), "regress"),
])
def test_infer_task(values, task):
    assert infer_task(pd.Series(values)) == task


def _error(capsys, argv):
    """Run ``main(argv)``; expect status 2 and return the one-line message."""
    assert main(argv) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("skconvexnn: error: ") and stderr.count("\n") == 1
    return stderr


def test_missing_target_names_the_columns(classification_csv, tmp_path, capsys):
    message = _error(capsys, ["fit", str(classification_csv), "--target", "price",
                              "--out", str(tmp_path / "m.joblib")])
    assert "'price'" in message and "'x1', 'x2', 'color', 'label'" in message


def test_regress_on_strings(classification_csv, tmp_path, capsys):
    message = _error(capsys, ["fit", str(classification_csv), "--target", "label",
                              "--task", "regress", "--out", str(tmp_path / "m.joblib")])
    assert "cannot regress on the non-numeric target 'label'" in message


def test_target_with_missing_values(regression_csv, tmp_path, capsys):
    message = _error(capsys, ["fit", str(regression_csv), "--target", "color",
                              "--out", str(tmp_path / "m.joblib")])
    assert "missing in 1 of 120 rows" in message


@pytest.mark.parametrize("content", ["", "x1,label\n"])
def test_empty_file(tmp_path, capsys, content):
    path = tmp_path / "empty.csv"
    path.write_text(content)
    message = _error(capsys, ["fit", str(path), "--target", "label",
                              "--out", str(tmp_path / "m.joblib")])
    assert str(path) in message and ("is empty" in message or "no data rows" in message)


def test_missing_file(tmp_path, capsys):
    message = _error(capsys, ["predict", str(tmp_path / "model.joblib"), "data.csv"])
    assert "no such file" in message and "model.joblib" in message


def test_predict_rejects_a_file_that_is_not_a_model(classification_csv, capsys):
    message = _error(capsys, ["predict", str(classification_csv), str(classification_csv)])
    assert "not a model saved by `skconvexnn fit`" in message


def test_predict_names_missing_feature_columns(classification_csv, tmp_path, capsys):
    model = tmp_path / "model.joblib"
    assert main(["fit", str(classification_csv), "--target", "label", "--alpha", "1e-2",
                 "--cv", "2", "--n-patterns", "5", "--out", str(model)]) == 0
    capsys.readouterr()
    incomplete = tmp_path / "incomplete.csv"
    without = pd.read_csv(classification_csv).drop(columns=["x1", "color"])
    without.to_csv(incomplete, index=False)
    message = _error(capsys, ["predict", str(model), str(incomplete)])
    assert "lacks feature columns the model was trained on: x1, color" in message


def test_missing_optional_dependencies(tmp_path, capsys, monkeypatch):
    parquet = tmp_path / "data.parquet"
    parquet.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    message = _error(capsys, ["fit", str(parquet), "--target", "y", "--out", "m"])
    assert "needs pyarrow" in message
    monkeypatch.setitem(sys.modules, "pandas", None)
    message = _error(capsys, ["fit", str(parquet), "--target", "y", "--out", "m"])
    assert "pip install 'skconvexnn[cli]'" in message


def test_cv_needs_two_folds(classification_csv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", str(classification_csv), "--target", "label", "--cv", "1",
              "--out", "m"])
    assert exit_info.value.code == 2
    assert "argument --cv: must be at least 2" in capsys.readouterr().err


def test_progress_goes_to_stderr_and_folds_run_in_parallel(classification_csv, tmp_path,
                                                           capsys):
    status = main(["fit", str(classification_csv), "--target", "label", "--cv", "3",
                   "--n-jobs", "2", "--out", str(tmp_path / "m.joblib")] + FAST)
    captured = capsys.readouterr()
    assert status == 0
    for fold in (1, 2, 3):
        assert f"fold {fold}/3 done" in captured.err
    assert "refit on all 120 rows" in captured.err
    assert "done" not in captured.out  # the report alone on stdout
    assert "CV: 3 shuffled stratified folds (--random-state 0)" in captured.out

    main(["fit", str(classification_csv), "--target", "label", "--cv", "3", "--quiet",
          "--out", str(tmp_path / "m.joblib")] + FAST)
    assert capsys.readouterr().err == ""


def test_folds_are_shuffled_so_a_table_sorted_by_its_target_is_fair(tmp_path, capsys):
    # Sorted by the target, unshuffled folds would each hold out one range of y.
    frame = _tabular(150).drop(columns="label").sort_values("y")
    path = tmp_path / "sorted.csv"
    frame.to_csv(path, index=False)
    model = tmp_path / "m.joblib"
    assert main(["fit", str(path), "--target", "y", "--cv", "3", "--quiet",
                 "--out", str(model)] + FAST) == 0
    network = joblib.load(model)["pipeline"][-1]
    assert network.cv.shuffle and network.cv.random_state == 0
    held_out = [np.sort(test) for _, test in network.cv.split(frame)]
    assert all(np.ptp(fold) > 100 for fold in held_out)  # spread over the sorted rows


def test_plot_titles_name_the_model_the_data_and_alpha(regression_csv, tmp_path, capsys,
                                                       monkeypatch):
    from matplotlib.figure import Figure

    titles = []
    save = Figure.savefig

    def recording(self, *args, **kwargs):
        titles.append(self._suptitle.get_text())
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording)
    main(["fit", str(regression_csv), "--target", "y", "--cv", "3", "--quiet",
          "--out", str(tmp_path / "m.joblib"), "--plots", str(tmp_path / "plots")] + FAST)
    assert len(titles) == 2
    assert all(title.startswith("GatedReLURegressorCV on train.csv, alpha=")
               for title in titles)


def test_predict_into_a_closed_pipe_exits_quietly(classification_csv, tmp_path):
    model = tmp_path / "model.joblib"
    assert main(["fit", str(classification_csv), "--target", "label", "--quiet",
                 "--alpha", "1e-2", "--cv", "2", "--out", str(model)] + FAST) == 0
    many = tmp_path / "many.csv"  # more than a pipe's buffer of predictions
    pd.concat([_tabular(seed=s) for s in range(60)]).to_csv(many, index=False)
    command = " ".join(_console_script() + ["predict", str(model), str(many)])
    result = subprocess.run(f"{command} | head -1", shell=True, capture_output=True,
                            text=True)
    assert result.stdout == "label,proba_no,proba_yes\n"
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr

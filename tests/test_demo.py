"""The README's main job: the side-by-side demo and its console script."""

import io
import os
import subprocess
import sysconfig

import pytest
from sklearn.datasets import load_breast_cancer

from skconvexnn import __main__ as cli
from skconvexnn import demo


def test_demo_table_reports_accuracy_and_certificate(monkeypatch):
    monkeypatch.setattr(demo, "DATASETS", {"breast_cancer": load_breast_cancer})
    out = io.StringIO()
    rows = demo.run_demo(file=out)
    text = out.getvalue()
    assert "MLPClassifier" in text and "GatedReLUClassifier()" in text
    assert "ConvexReLUClassifier()" in text
    convex = [r for r in rows if r["gap"] is not None]
    assert len(convex) == 3 and len(rows) == 4
    for row in convex:
        assert 0 <= row["gap"] <= 1e-3  # the defaults' tol
        assert row["accuracy"] > 0.9 and row["neurons"] > 0


def test_cli_rejects_unknown_commands():
    with pytest.raises(SystemExit):
        cli.main(["train"])


def test_console_script_is_installed():
    # `pip install .` puts it beside this interpreter; the README's quick start calls it.
    script = os.path.join(sysconfig.get_path("scripts"), "skconvexnn")
    assert os.path.exists(script)
    result = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "demo" in result.stdout

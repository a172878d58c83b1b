"""The ``skdense`` command line: exit codes, one-line errors, output files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skdense.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True, as_frame=True)
    df = X.copy()
    df["colour"] = np.where(X.iloc[:, 0] > 5.8, "red", "blue")  # a categorical column
    df.loc[::7, "colour"] = None  # with missing values
    df["species"] = np.array(["setosa", "versicolor", "virginica"])[y]
    path = tmp_path_factory.mktemp("csv") / "flowers.csv"
    df.to_csv(path, index=False)
    return path, df


def _error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err  # one line, no traceback
    assert err.startswith("skdense: error: ")
    return err


def test_no_subcommand_prints_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: skdense" in out and "compare" in out


def test_compare_help_lists_names(capsys):
    assert main(["compare", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--csv FILE" in out and "breast_cancer, wine, iris, digits, diabetes, linnerud" in out


def test_unknown_names_list_valid_ones(capsys):
    err = _error(capsys, ["compare", "--models", "linear,xgboost"])
    assert "unknown model(s) xgboost; models: linear, random_forest, hist_gradient_boosting, mlp, dense." in err
    err = _error(capsys, ["compare", "--datasets", "iris", "mnist"])
    assert "unknown dataset(s) mnist; built-in datasets: breast_cancer, wine, iris" in err


def test_bad_argument_values(capsys):
    assert "argument --cv: invalid int value: 'three'" in _error(capsys, ["compare", "--cv", "three"])
    assert "--cv must be at least 2" in _error(capsys, ["compare", "--cv", "1"])
    assert "--target needs --csv" in _error(capsys, ["compare", "--target", "y"])
    assert "--csv needs --target" in _error(capsys, ["compare", "--csv", "x.csv"])


def test_csv_errors(capsys, iris_csv, tmp_path):
    path, df = iris_csv
    assert "CSV file not found: nope.csv" in _error(capsys, ["compare", "--csv", "nope.csv", "--target", "y"])
    err = _error(capsys, ["compare", "--csv", str(path), "--target", "Species"])
    assert "Target column 'Species' is not in" in err and "Columns: sepal length (cm)" in err

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in _error(capsys, ["compare", "--csv", str(empty), "--target", "y"])

    one = tmp_path / "one.csv"
    df.iloc[:1].to_csv(one, index=False)
    assert "has 1 data row(s)" in _error(capsys, ["compare", "--csv", str(one), "--target", "species"])

    const = tmp_path / "const.csv"
    df.assign(species="setosa").to_csv(const, index=False)
    err = _error(capsys, ["compare", "--csv", str(const), "--target", "species"])
    assert "single value ('setosa')" in err

    junk = tmp_path / "junk.csv"
    bad = df.astype({"petal width (cm)": object})
    bad.loc[4, "petal width (cm)"] = "0.2?"
    bad.to_csv(junk, index=False)
    err = _error(capsys, ["compare", "--csv", str(junk), "--target", "species"])
    assert "Column 'petal width (cm)' is numeric except for 1 value(s) ('0.2?') on line(s) 6" in err

    err = _error(capsys, ["compare", "--csv", str(path), "--target", "species", "--task", "regression"])
    assert "target 'species': The target is not numeric" in err
    err = _error(capsys, ["compare", "--csv", str(path), "--target", "sepal width (cm)",
                          "--task", "classification"])
    assert "non-integer numbers" in err

    small = tmp_path / "small.csv"
    df.iloc[[0, 1, 50, 51, 100, 101]].to_csv(small, index=False)
    err = _error(capsys, ["compare", "--csv", str(small), "--target", "species", "--cv", "3"])
    assert "has 6 rows; cv=3 needs at least 6" not in err  # 6 rows pass the size check ...
    assert "stratified cv=3 needs at least 3 per class" in err  # ... but 2 per class do not


def test_csv_run_writes_outputs(capsys, iris_csv, tmp_path):
    path, _ = iris_csv
    out_dir = tmp_path / "out"
    code = main(["compare", "--csv", str(path), "--target", "species", "--quick",
                 "--models", "linear", "random_forest", "--cv", "2", "--output", str(out_dir),
                 "--no-progress", "--seed", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "inferred task: classification (non-numeric target with 3 distinct values)" in " ".join(out.split())
    assert "flowers" in out and "random_forest" in out
    assert "corrected resampled t-test (Nadeau & Bengio 2003)" in out
    res = pd.read_csv(out_dir / "results.csv")
    assert len(res) == 4 and set(res["dataset"]) == {"flowers"} and (res["status"] == "ok").all()
    doc = json.loads((out_dir / "results.json").read_text())
    assert doc["info"]["random_state"] == 1 and doc["info"]["cv"] == 2
    png = (out_dir / "compare.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_python_dash_m_runs_quick_compare(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               COLUMNS="100")
    proc = subprocess.run(
        [sys.executable, "-m", "skdense", "compare", "--quick", "--datasets", "iris",
         "--models", "linear", "dense", "--no-progress", "--output", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    assert "iris" in out and "dense" in out and "linear" in out
    assert "6 jobs (sequential)" in out
    assert (tmp_path / "compare.png").stat().st_size > 10_000


def test_cli_uses_only_public_compare_names():
    # skdense.cli parses arguments and prints; what it needs from skdense.compare is
    # exported there, so no import reaches into a private module (_runner, ...).
    import ast

    tree = ast.parse((ROOT / "skdense" / "cli.py").read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found.append(module)
            assert not any(part.startswith("_") for part in module.strip(".").split(".")), module
            for alias in node.names:
                assert not alias.name.startswith("_"), (module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert not any(p.startswith("_") for p in alias.name.split(".")), alias.name
    assert ".compare" in found


def test_csv_with_many_integer_values_says_why_regression(capsys, tmp_path):
    # The printed reason is the shared rule's (the one AutoDense uses), and true.
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=120), "label": rng.integers(0, 30, 120)})
    path = tmp_path / "codes.csv"
    df.to_csv(path, index=False)
    code = main(["compare", "--csv", str(path), "--target", "label", "--quick", "--cv", "2",
                 "--models", "linear", "--no-progress"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert ("inferred task: regression (integer target with 30 distinct values (more than 20)); "
            "pass --task to override") in out

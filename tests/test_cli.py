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
    assert "--csv FILE" in out and "breast_cancer, wine, iris, digits, diabetes, friedman1, linnerud" in out
    assert "--task {classification,regression}" in out  # choices resolved when shown


def test_unknown_names_list_valid_ones(capsys):
    err = _error(capsys, ["compare", "--models", "linear,xgboost"])
    assert "unknown model(s) xgboost; models: linear, random_forest, hist_gradient_boosting, mlp, dense." in err
    err = _error(capsys, ["compare", "--datasets", "iris", "mnist"])
    assert "unknown dataset(s) mnist; built-in datasets: breast_cancer, wine, iris" in err


def test_bad_argument_values(capsys):
    assert "argument --cv: invalid int value: 'three'" in _error(capsys, ["compare", "--cv", "three"])
    assert ("argument --task: invalid choice: 'ranking' (choose from 'classification', "
            "'regression')") in _error(capsys, ["compare", "--task", "ranking"])
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
    # ast.walk visits function bodies too: the imports that cli.py defers until
    # after the --output check are held to the same rule.
    import ast

    import skdense.compare

    tree = ast.parse((ROOT / "skdense" / "cli.py").read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            found.append(module)
            assert not any(part.startswith("_") for part in module.strip(".").split(".")), module
            for alias in node.names:
                assert not alias.name.startswith("_"), (module, alias.name)
                if module == ".compare":
                    assert alias.name in skdense.compare.__all__, alias.name
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


# ------------------------------------------------- output folder, journal, resume
TINY = ["compare", "--datasets", "iris", "--models", "linear", "--cv", "2", "--quick",
        "--no-progress"]


def _listing(folder):
    """``{path relative to folder: bytes}`` of every file, those in predictions/ included."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_unwritable_output_fails_before_any_work(capsys, tmp_path):
    import time

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    t0 = time.perf_counter()
    err = _error(capsys, [*TINY, "--output", str(a_file / "out")])
    assert time.perf_counter() - t0 < 1.0  # no job, no dataset loaded
    assert f"cannot write to the output folder {a_file / 'out'}: Not a directory." in err
    assert "it is a file, not a folder" in _error(capsys, [*TINY, "--output", str(a_file)])
    if os.geteuid() == 0:  # root writes anywhere a mode allows; /proc refuses everyone
        if not os.path.isdir("/proc/self"):
            pytest.skip("needs a folder that refuses writes")
        readonly = "/proc/skdense-out"
    else:
        readonly = tmp_path / "ro"
        readonly.mkdir(mode=0o555)
    t0 = time.perf_counter()
    err = _error(capsys, [*TINY, "--output", str(readonly)])
    assert time.perf_counter() - t0 < 1.0
    assert "cannot write to the output folder" in err and "Choose a folder you can write to" in err


# What the unwritable-output check may import: no part of the scientific stack.
HEAVY = ("numpy", "pandas", "scipy", "sklearn", "tensorflow", "keras")


def test_unwritable_output_fails_before_heavy_imports(tmp_path):
    # `skdense compare --output DIR` checks DIR before it imports pandas or
    # scikit-learn, so a bad DIR fails at once (issue 12). The process is run as
    # `python -m skdense` runs it (runpy, run_name "__main__"); an atexit hook writes
    # the names in sys.modules when it exits: what was imported, however.
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    bad = a_file / "out"  # a folder inside a file: refused even for root
    modules = tmp_path / "modules.json"
    hook = (
        "import atexit, json, sys; "
        f"atexit.register(lambda: open({str(modules)!r}, 'w').write(json.dumps(sorted(sys.modules)))); "
        "import runpy; runpy.run_module('skdense', run_name='__main__', alter_sys=True)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", hook, "compare", "--quick", "--datasets", "iris",
         "--models", "linear", "dense", "--output", str(bad)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines == [f"skdense: error: cannot write to the output folder {bad}: Not a directory. "
                     "Choose a folder you can write to."], proc.stderr
    loaded = set(json.loads(modules.read_text()))
    assert {"skdense.cli", "skdense.compare._output"} <= loaded  # the check ran, and was seen
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, heavy[:20]


def test_a_finished_result_is_not_overwritten_without_overwrite(capsys, tmp_path):
    out = tmp_path / "out"
    assert main([*TINY, "--output", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {
        "journal.jsonl", "results.csv", "results.json", "compare.png", "cost_frontier.png",
        "report.html", "predictions"}
    before = _listing(out)
    capsys.readouterr()
    err = _error(capsys, [*TINY, "--seed", "3", "--output", str(out)])
    assert (f"{out} already holds a result (results.csv, results.json, compare.png, "
            "cost_frontier.png, report.html); pass "
            "--overwrite to replace it, or choose another --output.") in err
    assert _listing(out) == before
    assert "exclude each other" in _error(capsys, [*TINY, "--output", str(out), "--resume",
                                                   "--overwrite"])
    assert "--resume needs --output DIR" in _error(capsys, [*TINY, "--resume"])
    assert main([*TINY, "--seed", "3", "--output", str(out), "--overwrite"]) == 0
    assert json.loads((out / "results.json").read_text())["info"]["random_state"] == 3
    assert _listing(out)["journal.jsonl"] != before["journal.jsonl"]  # a new run's journal


def test_an_unfinished_run_is_not_restarted_silently(capsys, tmp_path):
    out = tmp_path / "out"
    assert main([*TINY, "--output", str(out)]) == 0
    for name in ("results.csv", "results.json", "compare.png", "cost_frontier.png",
                 "report.html"):  # as if interrupted
        (out / name).unlink()
    capsys.readouterr()
    err = _error(capsys, [*TINY, "--output", str(out)])
    assert (f"{out} holds an unfinished run (2 finished job(s) in journal.jsonl); continue it "
            "with --resume (and the same arguments), or pass --overwrite to start over.") in err
    # resuming with other arguments is refused, naming the argument
    err = _error(capsys, [*TINY, "--output", str(out), "--resume", "--seed", "1"])
    assert (f"cannot resume {out}: --seed differs (journal: 0; this run: 1). Rerun with the "
            "arguments of the interrupted run, or pass --overwrite to start over.") in err
    err = _error(capsys, [*TINY[:4], "linear", "random_forest", *TINY[5:], "--output", str(out),
                          "--resume"])
    assert "--models differs for iris (journal: [\"linear\"]; this run: [\"linear\", \"random_forest\"])" in err
    err = _error(capsys, [*TINY[:6], "3", *TINY[7:], "--output", str(out), "--resume"])
    assert "--cv differs (journal: 2; this run: 3)" in err
    assert main([*TINY, "--output", str(out), "--resume"]) == 0
    stdout = " ".join(capsys.readouterr().out.split())
    assert f"resuming {out}: 2 finished job(s) in journal.jsonl." in stdout
    assert "2 jobs (0 run now, 2 from the journal) (sequential)" in stdout


def test_planted_symlinks_are_not_followed(capsys, tmp_path):
    victim = tmp_path / "victim.csv"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").symlink_to(victim)
    err = _error(capsys, [*TINY, "--output", str(out)])
    assert "already holds a result (results.csv)" in err  # a link counts as a result
    assert main([*TINY, "--output", str(out), "--overwrite"]) == 0
    assert victim.read_text() == "precious\n"
    assert not (out / "results.csv").is_symlink() and "dataset" in (out / "results.csv").read_text()
    # a journal that is a link is refused, not followed
    (out / "journal.jsonl").unlink()
    (out / "journal.jsonl").symlink_to(victim)
    err = _error(capsys, [*TINY, "--output", str(out), "--resume"])
    assert "journal.jsonl is a symbolic link; refusing to follow it" in err
    assert victim.read_text() == "precious\n"


def test_time_budget_must_be_positive(capsys):
    for value in ("0", "-5"):
        err = _error(capsys, [*TINY, "--time-budget", value])
        assert f"--time-budget must be a positive number of seconds, got {value}." in err


@pytest.fixture(scope="module")
def tiny_frame():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"f1": rng.normal(size=40), "f2": rng.normal(size=40),
                       "f3": rng.normal(size=40), "cat": rng.choice(["a", "b"], 40)})
    df["label"] = np.where(df["f1"] + df["f2"] > 0, "yes", "no")
    return df


def test_semicolon_csv_is_read_and_the_guess_printed(capsys, tmp_path, tiny_frame):
    path = tmp_path / "semicolon.csv"
    tiny_frame.to_csv(path, sep=";", index=False)
    code = main(["compare", "--csv", str(path), "--target", "label", "--models", "linear",
                 "--cv", "2", "--quick", "--no-progress"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0, out
    assert "semicolon.csv: columns separated by ';' (guessed; pass --sep to change)" in out
    tabs = tmp_path / "tabs.csv"
    tiny_frame.to_csv(tabs, sep="\t", index=False)
    assert main(["compare", "--csv", str(tabs), "--target", "label", "--sep", "\\t",
                 "--models", "linear", "--cv", "2", "--quick", "--no-progress"]) == 0
    assert "columns separated by" not in capsys.readouterr().out  # given, not guessed


def test_unguessable_separator_gets_a_hint(capsys, tmp_path, tiny_frame):
    path = tmp_path / "ragged.csv"
    lines = tiny_frame.to_csv(sep=";", index=False).splitlines()
    lines[3] = lines[3].replace("yes", "yes;extra").replace("no", "no;extra")  # one ragged row
    path.write_text("\n".join(lines) + "\n")
    err = _error(capsys, ["compare", "--csv", str(path), "--target", "label"])
    assert ("Target column 'label' is not in" in err and "Columns: f1;f2;f3;cat;label. The header "
            "holds ';': if that separates the columns, pass --sep ';' (sep=';').") in err
    assert "--sep and --decimal apply to --csv" in _error(capsys, [*TINY, "--sep", ";"])


def test_decimal_comma_is_named(capsys, tmp_path, tiny_frame):
    path = tmp_path / "european.csv"
    tiny_frame.to_csv(path, sep=";", decimal=",", index=False)
    err = _error(capsys, ["compare", "--csv", str(path), "--target", "label"])
    assert "Column 'f1' holds numbers with a decimal comma" in err and "pass --decimal ','" in err
    assert main(["compare", "--csv", str(path), "--target", "label", "--decimal", ",",
                 "--models", "linear", "--cv", "2", "--quick", "--no-progress"]) == 0


def test_infinite_values_name_their_column(capsys, tmp_path, tiny_frame):
    path = tmp_path / "inf.csv"
    df = tiny_frame.copy()
    df.loc[[1, 3], "f2"] = np.inf
    df.loc[5, "f3"] = -np.inf
    df.to_csv(path, index=False)
    err = _error(capsys, ["compare", "--csv", str(path), "--target", "label"])
    assert ("Infinite values (inf) in column(s) 'f2' (2 value(s), line(s) 3, 5); 'f3' (1 "
            "value(s), line(s) 7). Replace them with finite numbers or blank them") in err
    df = tiny_frame.assign(label=np.arange(40.0))
    df.loc[2, "label"] = np.inf
    df.to_csv(path, index=False)
    err = _error(capsys, ["compare", "--csv", str(path), "--target", "label"])
    assert "The target column 'label' has 1 infinite value(s) (inf) on line(s) 4" in err


def test_help_documents_journal_resume_overwrite(capsys):
    assert main(["compare", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--resume" in out and "--overwrite" in out and "journal.jsonl" in out
    assert "the same command with --resume runs only the jobs missing from the journal" in out


def test_a_run_stopped_before_its_first_job_is_simply_replaced(capsys, tmp_path):
    # Ctrl-C while the data loads leaves a journal with its header and no job:
    # nothing to resume, so the same command starts over without --overwrite.
    from skdense.compare._journal import Journal

    out = tmp_path / "out"
    out.mkdir()
    Journal.open(out / "journal.jsonl", {"random_state": 99}).close()
    assert main([*TINY, "--output", str(out)]) == 0
    header = json.loads((out / "journal.jsonl").read_text().splitlines()[0])
    assert header["record"]["settings"]["random_state"] == 0  # this run's journal

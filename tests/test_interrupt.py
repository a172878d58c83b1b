"""`skdense compare` stopped by a signal: what finished is kept, and --resume completes it.

Each test runs the command in a subprocess, waits until its journal holds a few
finished jobs, and sends SIGINT, SIGTERM or SIGKILL. The runs use small ML models
on two built-in datasets (18 jobs of about 0.2 s), so a signal lands mid-run.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from skdense.cli import main
from skdense.compare import read_journal
from skdense.compare._journal import decode
from skdense.compare._row import MEASURED

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
    pytest.mark.slow,  # subprocesses and three runs of 18 jobs: about 25 s
]

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["compare", "--quick", "--datasets", "breast_cancer", "wine", "--models", "linear",
        "random_forest", "hist_gradient_boosting", "--no-progress", "--seed", "2"]
N_JOBS = 2 * 3 * 3
TIMING = list(MEASURED)  # the seconds and the costs: measured, so never repeated


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    assert main([*ARGS, "--output", str(out)]) == 0
    return out


def _run_until(out, n_jobs, sig):
    """Start the command, send ``sig`` once the journal has ``n_jobs`` jobs; return (proc, seconds to exit)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               COLUMNS="100")
    proc = subprocess.Popen(
        [sys.executable, "-m", "skdense", *ARGS, "--output", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        # a shell's background job starts with SIGINT ignored; a user's Ctrl-C does not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    journal = out / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") - 1 >= n_jobs:
            break
        time.sleep(0.02)
    assert proc.poll() is None, f"the run ended before the signal:\n{proc.communicate()}"
    t0 = time.monotonic()
    proc.send_signal(sig)
    proc.stdout_text, proc.stderr_text = proc.communicate(timeout=60)
    return proc, time.monotonic() - t0


def _without_timing(doc):
    doc["info"].pop("wall_seconds")
    for part in ("results", "summary"):
        for row in doc[part]:
            for col in TIMING:
                row.pop(col, None)
    return doc


def _assert_same_result(out, ref):
    a, b = pd.read_csv(out / "results.csv"), pd.read_csv(ref / "results.csv")
    assert len(a) == N_JOBS
    # every column but the timings, exactly (timings are measured, so never repeat)
    pd.testing.assert_frame_equal(a.drop(columns=TIMING), b.drop(columns=TIMING), check_exact=True)
    ja = _without_timing(json.loads((out / "results.json").read_text()))
    jb = _without_timing(json.loads((ref / "results.json").read_text()))
    assert ja == jb


def test_sigint_writes_partial_result_and_resume_equals_uninterrupted(tmp_path, uninterrupted, capsys):
    out = tmp_path / "run"
    proc, seconds = _run_until(out, 3, signal.SIGINT)
    assert proc.returncode == 130, proc.stderr_text[-2000:]
    assert seconds < 15  # stops promptly: the running job is abandoned
    assert "Traceback" not in proc.stderr_text
    stdout = " ".join(proc.stdout_text.split())
    finished = len(read_journal(out / "journal.jsonl").jobs)
    assert 3 <= finished < N_JOBS
    assert f"interrupted (SIGINT): {finished} of {N_JOBS} jobs finished." in stdout
    assert f"PARTIAL result ({finished} of {N_JOBS} jobs)" in stdout
    resume = ("resume with: skdense " + " ".join(ARGS) + f" --output {out} --resume")
    assert resume in stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "journal.jsonl", "predictions", "results.partial.csv", "results.partial.json"]
    # a predictions file for each journaled ok job, written before its line
    assert len(list((out / "predictions").iterdir())) == finished
    partial = pd.read_csv(out / "results.partial.csv")
    assert len(partial) == finished
    doc = json.loads((out / "results.partial.json").read_text())
    assert doc["info"]["partial"] == {"jobs_finished": finished, "jobs_total": N_JOBS}

    capsys.readouterr()
    assert main([*ARGS, "--output", str(out), "--resume"]) == 0
    stdout = " ".join(capsys.readouterr().out.split())
    assert (f"{N_JOBS} jobs ({N_JOBS - finished} run now, {finished} from the journal)") in stdout
    # the partial files are gone; the result is the uninterrupted run's
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.png", "cost_frontier.png", "journal.jsonl", "predictions", "report.html",
        "results.csv", "results.json"]
    _assert_same_result(out, uninterrupted)  # verdicts and blend (in results.json) included
    # the jobs that finished before the interruption were read back, not rerun
    full = pd.read_csv(out / "results.csv")
    kept = partial.merge(full, on=["dataset", "model", "fold"], suffixes=("", "_final"))
    assert (kept["fit_seconds"] == kept["fit_seconds_final"]).all()


def test_sigterm_stops_like_ctrl_c_with_exit_143(tmp_path):
    out = tmp_path / "run"
    proc, seconds = _run_until(out, 2, signal.SIGTERM)
    assert proc.returncode == 143, proc.stderr_text[-2000:]
    assert seconds < 15 and "Traceback" not in proc.stderr_text
    assert "interrupted (SIGTERM)" in proc.stdout_text
    assert (out / "results.partial.csv").exists() and not (out / "results.csv").exists()
    assert len(pd.read_csv(out / "results.partial.csv")) == len(read_journal(out / "journal.jsonl").jobs)


def test_kill_9_mid_run_leaves_whole_lines_and_resume_completes(tmp_path, uninterrupted):
    out = tmp_path / "run"
    proc, _ = _run_until(out, 4, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "results.partial.csv").exists()  # no chance to write anything else
    data = (out / "journal.jsonl").read_bytes()
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    assert len(complete) >= 5  # the header and at least 4 jobs
    assert all(decode(line) is not None for line in complete)  # every line whole, checksum right
    # a kill can land inside a write: model that with half a line at the end
    half = complete[-1][: len(complete[-1]) // 2]
    (out / "journal.jsonl").write_bytes(data + (b"" if tail else half))
    contents = read_journal(out / "journal.jsonl")
    assert contents.torn and contents.damaged == 0 and len(contents.jobs) == len(complete) - 1

    assert main([*ARGS, "--output", str(out), "--resume"]) == 0
    _assert_same_result(out, uninterrupted)
    contents = read_journal(out / "journal.jsonl")
    assert (contents.torn, contents.damaged, len(contents.jobs)) == (False, 0, N_JOBS)

"""Issue 20 for ``skdense compare``: no input changes a result silently.

The journal reuses a line only when it is this run's (its data digest), sound
(its row agrees with its key) and alone (no second line for the job); a line
that is not a journal record stops the run with the file and line number; a
CSV whose header repeats a name is refused. Small: a 30-row table, the linear
model, 3 outer folds (3 jobs a run).
"""

import warnings
import zlib

import numpy as np
import pandas as pd
import pytest

from skdense.cli import main
from skdense.compare import compare, load_csv, read_journal
from skdense.compare._journal import decode, encode
from skdense.compare._row import MEASURED

KW = dict(models=["linear"], cv=3, quick=True, data_name="data")
TIMING = list(MEASURED)  # the seconds and the costs: measured, so never repeated


def _table(noise):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(30, 2)), columns=["f1", "f2"])
    y = pd.Series((X["f1"] + noise * rng.normal(size=30) > 0).astype(int), name="target")
    return X, y


CLEAN, NOISY = _table(0.1), _table(5.0)  # the same shape and name, other values


def _lines(path):
    data = path.read_bytes()
    assert data.endswith(b"\n")
    return data.split(b"\n")[:-1]


def _write(path, lines, tail=b""):
    path.write_bytes(b"".join(line + b"\n" for line in lines) + tail)


def _edit(line, change):
    """The line with its record changed and its checksum made right again (a deliberate edit)."""
    record = decode(line)
    change(record)
    return encode(record)[:-1]


def _run(data, journal, **kw):
    ran = []
    result = compare(*data, **KW, journal=journal, progress=ran.append, **kw)
    return result, ran


def _quiet_run(data, journal):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a journal read back in full warns about nothing
        return _run(data, journal)


# ------------------------------------------- 1. a line is reused only when it is this run's
def test_lines_of_other_data_are_set_aside_and_their_jobs_rerun(tmp_path):
    clean, noisy = tmp_path / "clean.jsonl", tmp_path / "noisy.jsonl"
    clean_result, _ = _run(CLEAN, clean)
    noisy_result, _ = _run(NOISY, noisy)
    assert not np.allclose(clean_result.results["accuracy"], noisy_result.results["accuracy"])
    # the noisy run's header over the clean run's jobs: every key but the data's agrees
    _write(noisy, _lines(noisy)[:1] + _lines(clean)[1:])
    assert read_journal(noisy).jobs == []
    with pytest.warns(UserWarning, match=r"3 line\(s\) of the journal .*noisy.jsonl set aside, "
                                         r"their jobs run again: 3 of other data"):
        result, ran = _run(NOISY, noisy)
    assert len(ran) == 3  # not one score of the other data is reused
    pd.testing.assert_frame_equal(result.results.drop(columns=TIMING),
                                  noisy_result.results.drop(columns=TIMING))
    # the journal says what was set aside, once: the next call reads back all, quietly
    again, ran = _quiet_run(NOISY, noisy)
    assert ran == []
    pd.testing.assert_frame_equal(again.results, result.results)


def test_resume_over_other_data_runs_the_jobs_again(capsys, tmp_path):
    # What issue 20 saw: "6 jobs (0 run now, 6 from the journal)" and the other data's scores.
    args = ["compare", "--target", "target", "--models", "linear", "--cv", "3", "--quick",
            "--no-progress"]
    for name, (X, y) in (("clean", CLEAN), ("noisy", NOISY)):
        (tmp_path / name).mkdir()
        X.assign(target=y).to_csv(tmp_path / name / "data.csv", index=False)
        assert main([*args, "--csv", str(tmp_path / name / "data.csv"),
                     "--output", str(tmp_path / f"out-{name}")]) == 0
    out = tmp_path / "out-noisy"
    noisy_scores = pd.read_csv(out / "results.csv")["accuracy"].tolist()
    journal = out / "journal.jsonl"
    _write(journal, _lines(journal)[:1] + _lines(tmp_path / "out-clean" / "journal.jsonl")[1:])
    capsys.readouterr()
    assert main([*args, "--csv", str(tmp_path / "noisy" / "data.csv"), "--output", str(out),
                 "--resume"]) == 0
    stdout = " ".join(capsys.readouterr().out.split())
    assert f"resuming {out}: 0 finished job(s) in journal.jsonl." in stdout
    assert "from the journal" not in stdout
    assert pd.read_csv(out / "results.csv")["accuracy"].tolist() == noisy_scores


def test_a_row_has_the_columns_the_journal_checks(tmp_path):
    from skdense.compare._row import columns, problem

    result, _ = _run(CLEAN, tmp_path / "j.jsonl")
    assert list(result.results.columns) == list(columns("classification"))
    row = result.results.iloc[0].to_dict()
    assert problem(row) is None
    assert problem({**row, "accuracy": "0.9"}) == ("its row's 'accuracy' is '0.9' (str); "
                                                   "expected a number")
    assert problem({**row, "fold": True}) == "its row's 'fold' is True (bool); expected an integer"


def test_a_job_recorded_twice_is_damaged_and_rerun_once(tmp_path):
    journal = tmp_path / "j.jsonl"
    first, _ = _run(CLEAN, journal)
    lines = _lines(journal)
    fold = decode(lines[1])["key"]["fold"]
    _write(journal, [*lines, lines[1]])  # the same job again (two journals joined, say)
    with pytest.warns(UserWarning, match=r"2 line\(s\) .* set aside, their jobs run again: "
                                         r"2 damaged .*line 2: duplicate"):
        result, ran = _run(CLEAN, journal)
    assert [row["fold"] for row in ran] == [fold]  # neither copy is trusted: the job runs
    pd.testing.assert_frame_equal(result.results.drop(columns=TIMING),
                                  first.results.drop(columns=TIMING))
    # the rerun's line is not a third copy: the next call reads everything back
    again, ran = _quiet_run(CLEAN, journal)
    assert ran == [] and len(read_journal(journal).jobs) == 3


def test_a_row_that_contradicts_its_key_is_damaged_and_rerun(tmp_path):
    journal = tmp_path / "j.jsonl"
    first, _ = _run(CLEAN, journal)
    lines = _lines(journal)
    lines[2] = _edit(lines[2], lambda r: r["row"].update(model="other", accuracy=1.0))
    _write(journal, lines)
    assert len(read_journal(journal).jobs) == 2
    with pytest.warns(UserWarning, match=r"1 damaged .*line 3: contradicts its key: the row's "
                                         r"model is 'other', the key's 'linear'"):
        result, ran = _run(CLEAN, journal)
    assert len(ran) == 1
    assert set(result.results["model"]) == {"linear"}  # nothing of the edited row is mixed in
    pd.testing.assert_frame_equal(result.results.drop(columns=TIMING),
                                  first.results.drop(columns=TIMING))


# --------------------------------------- 2. a line that is no record: file, line, exit 2
TINY = ["compare", "--datasets", "iris", "--models", "linear", "--cv", "2", "--quick",
        "--no-progress"]


@pytest.fixture(scope="module")
def tiny_journal(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "out"
    assert main([*TINY, "--output", str(out)]) == 0
    return _lines(out / "journal.jsonl")


def _invalid_json():
    body = b'{"kind":"job","key":{"dataset":"iris"'
    return b'{"crc32":"%08x","record":%s}' % (zlib.crc32(body), body)


MALFORMED = {
    "a row field missing": (
        lambda lines: _edit(lines[1], lambda r: r["row"].pop("family")), "its row has no 'family'"),
    "a score that is text": (
        lambda lines: _edit(lines[1], lambda r: r["row"].update(accuracy="NaN")),
        "its row's 'accuracy' is 'NaN' (str); expected a number"),
    "a key field missing": (
        lambda lines: _edit(lines[1], lambda r: r["key"].pop("model")), "its key has no 'model'"),
    "a wrong type": (
        lambda lines: _edit(lines[1], lambda r: r["key"].update(fold="0")),
        "its key's 'fold' is '0' (str); expected an integer"),
    "an unknown kind": (
        lambda lines: _edit(lines[1], lambda r: r.update(kind="jobs")),
        "its record is of kind 'jobs'"),
    "invalid JSON": (lambda lines: _invalid_json(), "its record is not valid JSON"),
    "a changed value": (
        lambda lines: lines[1].replace(b'"status":"ok"', b'"status":"ko"'),
        "its checksum does not match its contents"),
    "not a journal line": (lambda lines: b'{"kind":"job"}', "it is not a journal line"),
    "a second header": (lambda lines: lines[0], "a second run header"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_line_is_one_error_naming_the_file_and_line(capsys, tmp_path, tiny_journal,
                                                                 case):
    make, problem = MALFORMED[case]
    out = tmp_path / "out"
    out.mkdir()
    _write(out / "journal.jsonl", [tiny_journal[0], make(tiny_journal), *tiny_journal[1:]])
    code = main([*TINY, "--output", str(out), "--resume"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err  # one line, no traceback
    assert err.startswith(f"skdense: error: the journal {out / 'journal.jsonl'} is malformed at "
                          f"line 2: {problem}"), err
    assert "Delete that line to run its job again, or start over" in err


def test_a_malformed_line_raises_in_python_too(tmp_path):
    from skdense.compare import MalformedJournal

    journal = tmp_path / "j.jsonl"
    _run(CLEAN, journal)
    lines = _lines(journal)
    lines[3] = _edit(lines[3], lambda r: r["row"].update(log_loss="NaN"))
    _write(journal, lines)
    with pytest.raises(MalformedJournal, match=r"malformed at line 4: its row's 'log_loss' is "
                                               r"'NaN' \(str\)") as info:
        _run(CLEAN, journal)
    assert (info.value.path, info.value.line) == (str(journal), 4)
    assert isinstance(info.value, ValueError)


def test_only_a_torn_last_line_is_what_a_crash_leaves(capsys, tmp_path, tiny_journal):
    out = tmp_path / "out"
    out.mkdir()
    half = tiny_journal[1][:40]
    _write(out / "journal.jsonl", tiny_journal, tail=half)  # no newline: a write cut short
    assert main([*TINY, "--output", str(out), "--resume"]) == 0
    stdout = " ".join(capsys.readouterr().out.split())
    assert "a torn last line (an interrupted write) is ignored" in stdout
    assert "(0 run now, 2 from the journal)" in stdout
    # the same bytes with a newline are a whole line that is no record: not a crash's doing
    _write(out / "journal.jsonl", [*tiny_journal, half])
    code = main([*TINY, "--output", str(out), "--resume"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert f"is malformed at line {len(tiny_journal) + 1}: it is not a journal line" in err


def test_a_damaged_header_is_an_error_not_a_fresh_start(capsys, tmp_path, tiny_journal):
    out = tmp_path / "out"
    out.mkdir()
    header = tiny_journal[0].replace(b'"cv":2', b'"cv":3')  # checksum no longer matches
    _write(out / "journal.jsonl", [header, *tiny_journal[1:]])
    code = main([*TINY, "--output", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "is malformed at line 1: its checksum does not match its contents" in err
    assert "start over (skdense compare --overwrite, or delete the file)" in err
    assert (out / "journal.jsonl").read_bytes().startswith(header)  # kept, not replaced


def test_a_journal_of_another_format_is_refused(capsys, tmp_path, tiny_journal):
    out = tmp_path / "out"
    out.mkdir()
    # format 2: the journals of skdense before rows carried cost columns and jobs saved predictions
    _write(out / "journal.jsonl", [_edit(tiny_journal[0], lambda r: r.update(format=2)),
                                   *tiny_journal[1:]])
    code = main([*TINY, "--output", str(out), "--resume"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "was written by another version of skdense (journal format 2; this version reads " \
           "format 3) and cannot be resumed" in err


# ------------------------------------------------ 3. a CSV header that repeats a name
@pytest.mark.parametrize("sep", [",", ";"])
def test_duplicate_csv_column_names_are_refused(tmp_path, sep):
    rows = [[0.1 * i, i % 3, i % 2, (i + 1) % 2] for i in range(12)]
    path = tmp_path / "dup.csv"
    path.write_text(sep.join(["f1", "f2", "target", "target"]) + "\n"
                    + "".join(sep.join(map(str, r)) + "\n" for r in rows))
    with pytest.raises(ValueError, match=rf"{path} has duplicate column names: 'target' "
                                         r"\(columns 3 and 4\)\. Rename the columns so that "
                                         r"each name appears once\."):
        load_csv(str(path), "target", sep=sep)
    path.write_text(sep.join(["f1", "f1", "target"]) + "\n"
                    + "".join(sep.join(map(str, r[1:])) + "\n" for r in rows))
    with pytest.raises(ValueError, match=r"duplicate column names: 'f1' \(columns 1 and 2\)"):
        load_csv(str(path), "target", sep=sep)


def test_duplicate_csv_column_names_are_one_line_on_the_command_line(capsys, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("f1,f2,target,f2,target\n" + "1,2,0,3,1\n4,5,1,6,0\n" * 6)
    code = main(["compare", "--csv", str(path), "--target", "target", "--models", "linear",
                 "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert (f"{path} has duplicate column names: 'f2' (columns 2 and 4), 'target' (columns 3 "
            "and 5). Rename the columns so that each name appears once.") in err


def test_distinct_names_that_pandas_would_mangle_into_each_other_still_load(tmp_path):
    # 'f1' and 'f1.1' are two names; only a repeated name is refused
    path = tmp_path / "ok.csv"
    path.write_text("f1,f1.1,target\n" + "1,2,0\n3,4,1\n" * 6)
    X, y = load_csv(str(path), "target")
    assert list(X.columns) == ["f1", "f1.1"] and y.name == "target"

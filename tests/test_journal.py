"""The journal file and the output folder: line integrity, resume identity, atomic writes."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from skdense.compare import (
    CompareResult,
    JournalMismatch,
    MalformedJournal,
    OutputFolder,
    read_journal,
)
from skdense.compare._journal import Journal, decode, encode

SETTINGS = {"datasets": ["iris"], "tasks": {"iris": "classification"}, "cv": 3, "random_state": 0,
            "configs": {"iris": {"linear": "ab"}}, "data": {"iris": "d1"}}
ROW = {"dataset": "iris", "task": "classification", "model": "linear", "family": "ML", "fold": 0,
       "repeat": 0, "seed": 7, "n_train": 100, "n_test": 50, "status": "ok", "error": "é",
       "accuracy": 0.1 + 0.2, "log_loss": float("nan"), "fit_seconds": 0.5, "refit_seconds": 0.1,
       "predict_seconds": 0.01, "latency_row_ms": 0.3, "latency_1000_ms": 0.4,
       "size_bytes": 3371.0, "peak_memory_mb": 0.02, "best_params": '{"C": 1.0}', "warnings": ""}


def _key(fold):
    return ("iris", "linear", fold, 7 + fold, "ab", "d1")


def _row(fold):
    return {**ROW, "fold": fold, "seed": 7 + fold}


def _write(path, n):
    with Journal.open(path, SETTINGS) as book:
        for fold in range(n):
            book.append(_key(fold), _row(fold))


# ---------------------------------------------------------------- line format
def test_a_line_reads_back_bit_for_bit():
    line = encode({"kind": "job", "row": ROW})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    back = decode(line[:-1])["row"]
    assert list(back) == list(ROW)  # column order kept
    assert back["accuracy"] == 0.1 + 0.2 and np.isnan(back["log_loss"])
    assert back["error"] == "é"


def test_a_damaged_line_is_rejected_not_misread():
    line = encode({"kind": "job", "row": ROW})[:-1]
    assert decode(line) is not None
    flipped = line.replace(b"0.30000000000000004", b"0.40000000000000004")
    assert decode(flipped) is None  # the checksum catches a changed value
    assert decode(line[: len(line) // 2]) is None  # half a line
    assert decode(b"") is None and decode(b"garbage") is None


def test_journal_keeps_every_finished_job(tmp_path):
    path = tmp_path / "journal.jsonl"
    _write(path, 3)
    contents = read_journal(path)
    assert contents.header["settings"] == SETTINGS
    assert [key for key, _ in contents.jobs] == [_key(0), _key(1), _key(2)]
    assert (contents.damaged, contents.torn) == (0, False)
    # reopening with the same settings appends after what is there
    with Journal.open(path, SETTINGS) as book:
        assert set(book.done) == {_key(0), _key(1), _key(2)}
        book.append(_key(3), _row(3))
    assert len(read_journal(path).jobs) == 4


def test_torn_last_line_is_ignored_and_cut_off(tmp_path):
    # What kill -9 (or a power cut) in the middle of a write can leave: half a line.
    path = tmp_path / "journal.jsonl"
    _write(path, 2)
    whole = path.read_bytes()
    half = encode({"kind": "job", "key": {}, "row": ROW})[:40]
    path.write_bytes(whole + half)
    contents = read_journal(path)
    assert contents.torn and contents.damaged == 0 and len(contents.jobs) == 2
    with Journal.open(path, SETTINGS) as book:  # opening cuts the torn tail off ...
        assert len(book.done) == 2
        book.append(_key(2), _row(2))  # ... so the next line starts on a line of its own
    assert path.read_bytes().startswith(whole)
    contents = read_journal(path)
    assert (len(contents.jobs), contents.damaged, contents.torn) == (3, 0, False)


def test_a_changed_middle_line_stops_the_reading_naming_it(tmp_path):
    # Only a torn last line is what a crash leaves; a whole line whose checksum
    # fails was changed after it was written (an edit, bit rot): the reading stops
    # at it, rather than guess what else changed.
    path = tmp_path / "journal.jsonl"
    _write(path, 3)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"fold":1', b'"fold":5')
    path.write_bytes(b"\n".join(lines))
    before = path.read_bytes()
    for read in (read_journal, lambda p: Journal.open(p, SETTINGS)):
        with pytest.raises(MalformedJournal, match="is malformed at line 3: its checksum does not "
                                                   "match its contents") as info:
            read(path)
        assert info.value.line == 3
    assert path.read_bytes() == before  # nothing cut off, nothing appended


def test_other_settings_are_refused_naming_the_setting(tmp_path):
    path = tmp_path / "journal.jsonl"
    _write(path, 1)
    with pytest.raises(JournalMismatch, match=r"random_state differs \(journal: 0; this run: 1\)") as info:
        Journal.open(path, {**SETTINGS, "random_state": 1})
    assert (info.value.setting, info.value.journal_value, info.value.value) == ("random_state", 0, 1)
    other = {**SETTINGS, "configs": {"iris": {"linear": "cd"}}}
    with pytest.raises(JournalMismatch, match="configs differs for iris/linear") as info:
        Journal.open(path, other)
    assert info.value.where == ("iris", "linear")
    assert len(read_journal(path).jobs) == 1  # a refused open changes nothing


def test_one_writer_at_a_time(tmp_path):
    pytest.importorskip("fcntl")
    path = tmp_path / "journal.jsonl"
    with Journal.open(path, SETTINGS):
        with pytest.raises(ValueError, match="in use by another running 'skdense compare'"):
            Journal.open(path, SETTINGS)
    Journal.open(path, SETTINGS).close()  # released on close


def test_journal_in_a_missing_folder_says_what_to_do(tmp_path):
    path = tmp_path / "runs" / "journal.jsonl"
    with pytest.raises(ValueError, match=r"its folder .*runs does not exist. Create it first"):
        Journal.open(path, SETTINGS)
    with pytest.raises(ValueError, match="does not exist. Create it first"):
        read_journal(path)


def test_journal_symlink_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "journal.jsonl"
    link.symlink_to(victim)
    with pytest.raises(ValueError, match="is a symbolic link; refusing to follow it"):
        Journal.open(link, SETTINGS)
    with pytest.raises(ValueError, match="is a symbolic link"):
        read_journal(link)
    assert victim.read_text() == "keep me"


# ------------------------------------------------------------ output folder
@pytest.fixture
def small_result():
    rows = [{"dataset": "d", "task": "classification", "model": m, "family": "ML", "fold": f,
             "repeat": 0, "seed": 1, "n_train": 8, "n_test": 4, "status": "ok", "error": "",
             "accuracy": 0.5 + 0.1 * f, "log_loss": 0.7, "fit_seconds": 0.1,
             "refit_seconds": 0.1, "predict_seconds": 0.01, "best_params": "{}", "warnings": ""}
            for m in ("a", "b") for f in range(2)]
    info = {"tasks": {"d": "classification"}, "grids": {"d": {"a": {}, "b": {}}}}
    return CompareResult(pd.DataFrame(rows), info)


def test_output_folder_is_created_and_checked(tmp_path):
    out = OutputFolder(tmp_path / "a" / "b")
    assert os.path.isdir(out.path) and os.listdir(out.path) == []  # the probe is gone
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="it is a file, not a folder"):
        OutputFolder(a_file)
    with pytest.raises(ValueError, match=r"cannot write to the output folder .*: Not a directory"):
        OutputFolder(a_file / "out")


def test_files_replace_a_planted_symlink_instead_of_following_it(tmp_path, small_result):
    victim = tmp_path / "victim.csv"
    victim.write_text("precious\n")
    out = OutputFolder(tmp_path / "out")
    for name in ("results.csv", "results.json", "compare.png", "cost_frontier.png"):
        (tmp_path / "out" / name).symlink_to(victim)
    paths = out.write(small_result)
    assert victim.read_text() == "precious\n"
    for p in paths:
        assert not os.path.islink(p) and os.path.isfile(p)
    assert pd.read_csv(paths[0])["accuracy"].tolist() == small_result.results["accuracy"].tolist()
    assert sorted(os.listdir(tmp_path / "out")) == ["compare.png", "cost_frontier.png",
                                                     "report.html", "results.csv", "results.json"]


def test_interrupted_write_leaves_the_old_file(tmp_path, small_result):
    from skdense.compare._fs import atomic_open

    path = tmp_path / "results.csv"
    small_result.to_csv(path)
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(path) as fh:  # Ctrl-C halfway through writing the new version
            fh.write("dataset,model\nd,")
            fh.flush()
            raise KeyboardInterrupt
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["results.csv"]  # no temporary file left behind
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # as open() would make it


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_partial_result_goes_to_partial_files(tmp_path, small_result):
    out = OutputFolder(tmp_path)
    partial = CompareResult(small_result.results.iloc[:3],
                            {**small_result.info, "partial": {"jobs_finished": 3, "jobs_total": 4}})
    assert partial.partial and not small_result.partial
    written = out.write(partial)
    assert [os.path.basename(p) for p in written] == ["results.partial.csv", "results.partial.json"]
    assert out.finished() == []
    assert json.loads(open(written[1]).read())["info"]["partial"] == {"jobs_finished": 3, "jobs_total": 4}
    # statistics of a partial result use only the folds every model finished: fold 0
    assert partial.summary().set_index("model")["n_folds"].to_dict() == {"a": 1, "b": 1}
    out.write(small_result, plot=False)  # the finished result replaces the partial files
    assert sorted(os.listdir(tmp_path)) == ["report.html", "results.csv", "results.json"]

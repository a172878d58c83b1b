"""The verdict (Bayesian tests with a ROPE), the blend of the best DL and ML model, the report.

Small and fast: iris and diabetes, ``linear`` vs sklearn's ``mlp`` (the DL family
without TensorFlow), 3 outer folds, quick grids; one run shared by the module.
"""

import base64
import html.parser
import json
import os
import shutil
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import accuracy_score, r2_score

from skdense.cli import main
from skdense.compare import CompareInterrupted, CompareResult, OutputFolder, compare
from skdense.compare._report import SECTIONS
from skdense.compare._verdict import (
    DEFAULT_ROPE,
    check_rope,
    correlated_ttest,
    decide,
    signed_rank,
    verdict_table,
)

KW = dict(datasets=["iris", "diabetes"], models=["linear", "mlp"], cv=3, quick=True)


# ---------------------------------------------------- the Bayesian correlated t-test
def test_correlated_ttest_is_the_student_t_posterior_computed_by_hand():
    dl = np.array([0.96, 0.94, 0.98, 0.95, 0.97])
    ml = np.array([0.94, 0.95, 0.95, 0.93, 0.96])
    d = dl - ml
    n, rho, rope = 5, 100 / (100 + 400), 0.01  # 5-fold CV: n_test / (n_test + n_train) = 1/5
    scale = np.sqrt((1 / n + rho / (1 - rho)) * d.var(ddof=1))
    posterior = stats.t(df=n - 1, loc=d.mean(), scale=scale)
    below, inside, above = correlated_ttest(d, rho, rope)
    assert below == pytest.approx(posterior.cdf(-rope), abs=1e-12)
    assert above == pytest.approx(posterior.sf(rope), abs=1e-12)
    assert inside == pytest.approx(posterior.cdf(rope) - posterior.cdf(-rope), abs=1e-12)
    assert below + inside + above == pytest.approx(1.0)
    # a wider ROPE moves probability into it, from both sides
    wide = correlated_ttest(d, rho, 0.03)
    assert wide[1] > inside and wide[0] < below and wide[2] < above


# Computed on this machine with baycomp 1.0.3 (pip's baycomp, not a skdense
# dependency), e.g. baycomp.CorrelatedTTest.probs(ml, dl, rope=0.01, runs=1), and
# hard-coded so that the test runs without it. baycomp takes y - x, so (ml, dl).
BAYCOMP_CORRELATED = [
    # dl, ml, runs (repeats), (p_left = ML better, p_rope, p_right = DL better)
    ([0.96, 0.94, 0.98, 0.95, 0.97], [0.94, 0.95, 0.95, 0.93, 0.96], 1,
     (0.03887082047394998, 0.31825072477137484, 0.6428784547546752)),
    ([0.52, 0.47, 0.55, 0.50, 0.49, 0.53], [0.50, 0.49, 0.51, 0.47, 0.50, 0.50], 2,
     (0.13154769174490183, 0.273948040446639, 0.5945042678084591)),
]


@pytest.mark.parametrize("dl, ml, runs, expected", BAYCOMP_CORRELATED)
def test_correlated_ttest_gives_baycomps_numbers(dl, ml, runs, expected):
    n = len(dl)
    k = n // runs  # folds per repeat: rho = n_test / (n_test + n_train) = 1 / k
    got = correlated_ttest(np.subtract(dl, ml), 1 / k, 0.01)
    assert got == pytest.approx(expected, abs=1e-12)


# baycomp.SignedRankTest.probs(np.zeros(6), d, rope=0.01, random_state=seed), baycomp
# 1.0.3, hard-coded as above: the Monte Carlo draws are numpy's RandomState(seed).
BAYCOMP_SIGNED_RANK = [(0, (0.0, 0.6111, 0.3889)), (7, (0.0, 0.613, 0.387))]


@pytest.mark.parametrize("seed, expected", BAYCOMP_SIGNED_RANK)
def test_signed_rank_gives_baycomps_numbers(seed, expected):
    d = [0.012, -0.004, 0.02, 0.007, 0.031, -0.002]
    assert signed_rank(d, 0.01, seed=seed) == pytest.approx(expected, abs=1e-12)


def test_against_baycomp_itself_when_installed():
    baycomp = pytest.importorskip("baycomp")
    rng = np.random.default_rng(1)
    for k in (3, 5, 10):
        dl, ml = rng.normal(0.8, 0.03, k), rng.normal(0.79, 0.03, k)
        expected = baycomp.CorrelatedTTest.probs(ml, dl, rope=0.01)
        assert correlated_ttest(dl - ml, 1 / k, 0.01) == pytest.approx(expected, abs=1e-12)
    d = rng.normal(0.01, 0.02, 8)
    expected = baycomp.SignedRankTest.probs(np.zeros(8), d, rope=0.01, random_state=3)
    assert signed_rank(d, 0.01, seed=3) == pytest.approx(expected, abs=1e-12)


def test_zero_variance_and_too_few_folds_give_no_warning_and_no_nan_trace():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning (0/0, empty mean) fails the test
        assert correlated_ttest([0.02, 0.02, 0.02], 0.2, 0.01) == (0.0, 0.0, 1.0)
        assert correlated_ttest([-0.02] * 3, 0.2, 0.01) == (1.0, 0.0, 0.0)
        assert correlated_ttest([0.0] * 3, 0.2, 0.01) == (0.0, 1.0, 0.0)
        assert correlated_ttest([0.01] * 3, 0.2, 0.01) == (0.0, 1.0, 0.0)  # the ROPE is closed
        assert all(np.isnan(correlated_ttest([0.02], 0.2, 0.01)))
        assert all(np.isnan(correlated_ttest([], 0.2, 0.01)))
        assert all(np.isnan(signed_rank([0.02], 0.01)))
        table = verdict_table([
            {"dataset": "one", "metric": "accuracy", "best_dl": "dense", "best_ml": "linear",
             "sign": 1, "dl": [0.9], "ml": [0.8], "n_train": [100], "n_test": [50]},
            {"dataset": "same", "metric": "accuracy", "best_dl": "dense", "best_ml": "linear",
             "sign": 1, "dl": [0.9, 0.9], "ml": [0.9, 0.9], "n_train": [100] * 2,
             "n_test": [50] * 2},
            {"dataset": "none", "metric": "r2", "best_dl": None, "best_ml": "linear",
             "sign": 1, "dl": [], "ml": [], "n_train": [], "n_test": []},
        ])
    one, same, none = table.itertuples()
    assert one.verdict == "cannot decide: 1 folds in common, and the test needs at least 2."
    assert (same.p_dl, same.p_equivalent, same.p_ml, same.decision) == (0, 1, 0, "equivalent")
    assert same.verdict.startswith("dense (DL) and linear (ML) are within 0.01 accuracy of "
                                   "each other with probability 1.00: practically equivalent")
    assert none.verdict == "no DL model scored on these folds: nothing to compare."
    assert none.n_folds == 0 and np.isnan(none.diff)


def test_decisions_and_their_sentences():
    assert decide(0.96, 0.03, 0.01) == "DL better"
    assert decide(0.01, 0.03, 0.96) == "ML better"
    assert decide(0.02, 0.96, 0.02) == "equivalent"
    assert decide(0.50, 0.46, 0.04) == "DL not worse"
    assert decide(0.04, 0.46, 0.50) == "ML not worse"
    assert decide(0.40, 0.20, 0.40) == "undecided"
    row = verdict_table([{"dataset": "d", "metric": "accuracy", "best_dl": "dense",
                          "best_ml": "linear", "sign": 1, "dl": [0.95, 0.96, 0.97, 0.96, 0.95],
                          "ml": [0.90, 0.91, 0.90, 0.92, 0.91], "n_train": [400] * 5,
                          "n_test": [100] * 5}]).iloc[0]
    assert row.decision == "DL better"
    assert row.verdict == (f"dense (DL) is better than linear (ML) by more than 0.01 accuracy "
                           f"with probability {row.p_dl:.2f}: the network is worth using here.")


# ------------------------------------------------------------------ the ROPE
@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf"), "0.01", True, [0.01]])
def test_a_bad_rope_is_refused_saying_what_to_pass(bad):
    message = (r"rope must be a finite number >= 0 \(the half-width of the region of practical "
               r"equivalence, in units of the primary metric\), or None for the default per "
               r"metric \(accuracy 0.01, r2 0.01\); got ")
    with pytest.raises(ValueError, match=message):
        check_rope(bad)
    with pytest.raises(ValueError, match=message):  # before any job runs
        compare(datasets=["iris"], models=["linear"], rope=bad, progress=False)


def test_a_bad_rope_on_the_command_line_is_one_line(capsys):
    assert main(["compare", "--datasets", "iris", "--rope", "-1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("skdense: error: --rope must be a number >= 0 (the half-width of the region "
                   "of practical equivalence, e.g. 0.01 for 1 point of accuracy), got -1.")


def test_default_rope_per_metric():
    assert DEFAULT_ROPE == {"accuracy": 0.01, "r2": 0.01}
    assert check_rope(None) is None and check_rope(0) == 0.0


# ---------------------------------------------------------------- a real run
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A journaled run (its predictions saved to predictions/) and the same run in memory."""
    folder = tmp_path_factory.mktemp("verdict")
    journal = folder / "journal.jsonl"
    with_journal = compare(**KW, journal=journal, progress=False)
    in_memory = compare(**KW, progress=False)
    return with_journal, in_memory, folder


def test_the_verdict_of_a_run_uses_the_t_tests_pair_and_folds(run):
    result = run[0]
    sig, verdict = result.significance(), result.verdict()
    assert list(verdict["dataset"]) == ["iris", "diabetes"]
    assert list(verdict["best_dl"]) == list(sig["best_dl"]) == ["mlp", "mlp"]
    assert list(verdict["best_ml"]) == list(sig["best_ml"])
    assert list(verdict["diff"]) == pytest.approx(list(sig["diff"]))
    assert list(verdict["rope"]) == [0.01, 0.01]
    r = result.results.set_index(["dataset", "model", "fold"]).sort_index()
    for v in verdict.itertuples():
        dl = r.loc[(v.dataset, v.best_dl)].sort_index()
        ml = r.loc[(v.dataset, v.best_ml)].sort_index()
        metric = v.metric
        rho = dl["n_test"].mean() / (dl["n_test"].mean() + dl["n_train"].mean())
        expected = correlated_ttest(dl[metric].to_numpy() - ml[metric].to_numpy(), rho, 0.01)
        assert (v.p_ml, v.p_equivalent, v.p_dl) == pytest.approx(expected)
        assert v.verdict and v.test == "Bayesian correlated t-test (Benavoli et al. 2017)"
    # another ROPE, given to the method, changes only the verdict
    wide = result.verdict(rope=0.5)
    assert (wide["p_equivalent"] >= verdict["p_equivalent"]).all()
    overall = result.overall_verdict().iloc[0]
    assert overall["n_datasets"] == 2 and overall["test"].startswith("Bayesian signed-rank")
    diffs = [v.diff for v in verdict.itertuples()]
    assert (overall["p_ml"], overall["p_equivalent"], overall["p_dl"]) == pytest.approx(
        signed_rank(diffs, 0.01, seed=0))
    assert overall["p_dl"] + overall["p_equivalent"] + overall["p_ml"] == pytest.approx(1)


# ------------------------------------------------------------------ the blend
def _load_saved(folder):
    """``{(dataset, model, fold): arrays}`` read from the .npz files, without pickle."""
    out = {}
    for name in os.listdir(folder / "predictions"):
        with np.load(folder / "predictions" / name, allow_pickle=False) as npz:
            dataset, model, fold, *_ = json.loads(str(npz["key"]))
            out[dataset, model, fold] = {k: npz[k] for k in npz.files}
    return out


def test_the_blend_is_recomputed_from_the_saved_predictions(run):
    result, in_memory, folder = run
    saved = _load_saved(folder)
    ok = result.results[result.results["status"] == "ok"]
    assert len(saved) == len(ok)  # one file per ok job
    blend = result.blend().set_index("dataset")
    per_fold = result.blend(folds=True)
    for dataset in ("iris", "diabetes"):
        b = blend.loc[dataset]
        scores, dis, e_dl, e_ml, p_dl, p_ml = [], [], [], [], [], []
        for fold in range(3):
            dl, ml = saved[dataset, b.best_dl, fold], saved[dataset, b.best_ml, fold]
            assert (dl["rows"] == ml["rows"]).all()
            if dataset == "iris":  # classes are the same for both: columns line up
                assert (dl["classes"] == ml["classes"]).all()
                mean = (dl["proba"] + ml["proba"]) / 2
                scores.append(accuracy_score(dl["y_true"], dl["classes"][mean.argmax(axis=1)]))
                dis.append(dl["y_pred"] != ml["y_pred"])
                true = np.searchsorted(dl["classes"], dl["y_true"])
                e_dl.append(1 - dl["proba"][np.arange(len(true)), true])
                e_ml.append(1 - ml["proba"][np.arange(len(true)), true])
            else:
                scores.append(r2_score(dl["y_true"], (dl["y_pred"] + ml["y_pred"]) / 2))
                e_dl.append(dl["y_true"] - dl["y_pred"])
                e_ml.append(ml["y_true"] - ml["y_pred"])
                p_dl.append(dl["y_pred"])
                p_ml.append(ml["y_pred"])
        folds = per_fold[per_fold["dataset"] == dataset]
        assert list(folds["blend_score"]) == pytest.approx(scores, abs=1e-12)
        assert b.blend_score == pytest.approx(np.mean(scores), abs=1e-12)
        assert b.gain == pytest.approx(np.mean(scores) - max(b.dl_score, b.ml_score))
        assert b.error_corr == pytest.approx(
            np.corrcoef(np.concatenate(e_dl), np.concatenate(e_ml))[0, 1])
        if dataset == "iris":
            assert b.disagreement == pytest.approx(np.concatenate(dis).mean())
            assert np.isnan(b.prediction_corr)
        else:
            assert np.isnan(b.disagreement)
            assert b.prediction_corr == pytest.approx(
                np.corrcoef(np.concatenate(p_dl), np.concatenate(p_ml))[0, 1])
        # the two members' scores from their predictions are the scores of the results
        sig = result.significance().set_index("dataset").loc[dataset]
        assert (b.dl_score, b.ml_score) == pytest.approx((sig.dl_score, sig.ml_score))
    # kept in memory without a journal: the same blend
    pd.testing.assert_frame_equal(in_memory.blend(), result.blend())


def test_a_resumed_run_finds_its_predictions_again(run, tmp_path):
    _, in_memory, _ = run
    journal = tmp_path / "journal.jsonl"
    seen = []

    def stop_after_5(row):
        seen.append(row)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(CompareInterrupted) as info:
        compare(**KW, journal=journal, progress=stop_after_5)
    assert len(info.value.result.predictions) == 5
    assert len(os.listdir(tmp_path / "predictions")) == 5
    ran = []
    resumed = compare(**KW, journal=journal, progress=ran.append)
    assert len(ran) == 7  # the 5 journaled jobs are read back, predictions included
    pd.testing.assert_frame_equal(resumed.blend(), in_memory.blend())
    pd.testing.assert_frame_equal(resumed.verdict(), in_memory.verdict())
    # a lost predictions file: its fold leaves the blend, and a warning says so
    victim = sorted(os.listdir(tmp_path / "predictions"))[0]
    os.unlink(tmp_path / "predictions" / victim)
    with pytest.warns(UserWarning, match=r"1 finished job\(s\) of the journal .* have no "
                                         r"predictions file"):
        again = compare(**KW, journal=journal, progress=False)
    assert again.blend()["n_folds"].sum() == in_memory.blend()["n_folds"].sum() - 1
    pd.testing.assert_frame_equal(again.verdict(), in_memory.verdict())  # scores are journaled


# ------------------------------------------------------------------ the report
class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.ids, self.h3, self.imgs, self.links = [], [], [], [], [], []
        self._in_h3 = False

    VOID = {"meta", "img", "br"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs and tag == "section":
            self.ids.append(attrs["id"])
        if tag == "img":
            self.imgs.append(attrs["src"])
        for name in ("href", "src"):
            if name in attrs:
                self.links.append(attrs[name])
        if tag == "h3":
            self._in_h3 = True
            self.h3.append("")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()
        if tag == "h3":
            self._in_h3 = False

    def handle_data(self, data):
        if self._in_h3:
            self.h3[-1] += data


def test_the_report_is_one_well_formed_file_with_every_section(run, tmp_path):
    result = CompareResult(run[0].results.copy(), dict(run[0].info), run[0].predictions)
    # a dataset name that is markup: it must come out as text
    result.results["dataset"] = result.results["dataset"].replace("iris", "iris <b>&amp;")
    result.info["tasks"] = {("iris <b>&amp;" if k == "iris" else k): v
                            for k, v in result.info["tasks"].items()}
    result.info["grids"] = {("iris <b>&amp;" if k == "iris" else k): v
                            for k, v in result.info["grids"].items()}
    extra = tmp_path / "extra.png"
    result.plots["learning_curve"] = str(extra)  # a plot registered by another part of a run
    out = OutputFolder(tmp_path / "out")
    shutil.copy(run[0].plot(tmp_path / "c.png"), extra)
    paths = out.write(result)
    assert [os.path.basename(p) for p in paths] == [
        "results.csv", "compare.png", "cost_frontier.png", "results.json", "report.html"]
    text = open(paths[-1], encoding="utf-8").read()
    parser = _Tags()
    parser.feed(text)
    parser.close()
    assert parser.errors == [] and parser.stack == []  # every tag closed, in order
    root = ET.fromstring(text.split("\n", 1)[1])  # XHTML: an XML parser reads it too
    assert root.tag.endswith("html")
    assert parser.ids == list(SECTIONS)
    # every registered plot, in insertion order, with its heading, embedded as a PNG
    assert [h for h in parser.h3 if h in result.plots] == ["learning_curve", "compare",
                                                           "cost_frontier"]
    assert len(parser.imgs) == 3
    for src in parser.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(link.startswith(("data:", "#")) for link in parser.links)  # nothing fetched
    assert "http://" not in text.replace('xmlns="http://www.w3.org/1999/xhtml"', "")
    assert "https://" not in text
    assert "iris &lt;b&gt;&amp;amp;" in text and "<b>&amp;</b>" not in text
    shown = html.unescape(text)
    for words in [*result.verdict()["verdict"], result.overall_verdict()["verdict"].iloc[0],
                  *result.blend()["note"]]:  # the verdicts and the blend in words
        assert words in shown
    assert run[0].info["data"]["diabetes"] in text  # the data's fingerprint
    assert "scikit-learn" in text and "python" in text
    doc = json.loads(open(paths[3]).read())
    # paths relative to the JSON's folder: two runs' results.json compare equal
    assert doc["plots"] == {"learning_curve": os.path.join("..", "extra.png"),
                            "compare": "compare.png", "cost_frontier": "cost_frontier.png"}
    assert [v["dataset"] for v in doc["verdict"]] == ["iris <b>&amp;", "diabetes"]


def test_resume_on_the_command_line_with_the_new_outputs(capsys, tmp_path):
    args = ["compare", "--datasets", "iris", "--models", "linear", "mlp", "--cv", "2",
            "--quick", "--no-progress", "--output", str(tmp_path / "out")]
    assert main(args) == 0
    first = capsys.readouterr().out
    files = sorted(os.listdir(tmp_path / "out"))
    assert files == ["compare.png", "cost_frontier.png", "journal.jsonl", "predictions",
                     "report.html", "results.csv", "results.json"]
    assert len(os.listdir(tmp_path / "out" / "predictions")) == 4
    assert "verdict: best DL vs best ML, Bayesian correlated t-test" in first
    assert "blend: the average" in first
    assert main([*args, "--resume"]) == 0
    again = capsys.readouterr().out
    assert "(0 run now, 4 from the journal)" in " ".join(again.split())
    cut = " ".join(first.split()).split("blend: the average")[1].split("jobs (sequential)")[0]
    assert cut in " ".join(again.split())  # the same blend, from the saved predictions
    assert main([*args, "--overwrite"]) == 0
    assert len(os.listdir(tmp_path / "out" / "predictions")) == 4


def test_a_damaged_predictions_file_is_none_whatever_the_damage(tmp_path):
    # Every byte of a saved file overwritten in turn: load gives the arrays or None,
    # never an exception that would stop a resumed run, nor a dict without rows (a
    # KeyError in the blend) (zipfile raises
    # NotImplementedError for a damaged compression method and RuntimeError for
    # an "encrypted" flag bit, not only BadZipFile).
    from skdense.compare import _predictions

    key = ("iris", "linear", 0)
    path = _predictions.save(tmp_path, key, _predictions.make(
        [0, 1], ["a", "b"], ["a", "a"], np.array([[0.6, 0.4], [0.7, 0.3]]), ["a", "b"]))
    raw = open(path, "rb").read()
    for i in range(len(raw)):
        for value in (0, 8, 0xFF):
            with open(path, "wb") as fh:
                fh.write(raw[:i] + bytes([value]) + raw[i + 1:])
            found = _predictions.load(tmp_path, key)
            # None, or what the blend needs (rows, y_true, y_pred; proba with its classes)
            assert found is None or set(found) in (set(_predictions.FIELDS),
                                                   {"rows", "y_true", "y_pred"}), i

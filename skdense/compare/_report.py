"""``report.html``: the one file a person opens after a run.

Self-contained: the style is inline, every plot of ``CompareResult.plots`` is
embedded as a base64 PNG ``data:`` URI, and nothing is fetched (no external CSS,
script or font), so the file can be mailed, archived or opened offline. Every
piece of text is escaped (``html.escape``), and the markup is well-formed XML
(XHTML syntax), so a parser can check it.

Sections, in order: the verdict in words (across datasets, then per dataset),
the verdict table, the scores (mean ± std per model), the t-test, the blend
("should I ship both?"), every plot (a heading per name, in the order the run
wrote them), and what reproduces the run (settings, data digests, versions).
"""

import base64
import html
import math
import os
import platform

from ._costs import format_size
from ._fs import atomic_open
from ._metrics import METRICS

SECTIONS = ("verdict", "scores", "significance", "blend", "costs", "learning-curve", "plots",
            "reproduce")
"""The ``id`` of each ``<section>`` of the report, in order."""

_STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1120px; margin: 24px auto; padding: 0 16px; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: 3px; margin-top: 1.8em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
p.lead { color: #555; margin-top: 0; }
.box { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 0.9em; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; white-space: nowrap; }
th { text-align: left; background: #f5f5f5; border-bottom: 1px solid #ccc; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.text { white-space: normal; min-width: 28em; }
tr.group td { font-weight: bold; background: #fafafa; padding-top: 8px; }
tr.best td { font-weight: bold; }
ul.verdicts li { margin-bottom: 0.4em; }
.overall { font-size: 1.05em; background: #f3f7fb; border-left: 4px solid #1f77b4;
           padding: 8px 12px; }
.DL { color: #b22222; } .ML { color: #1f5f9f; }
img { max-width: 100%; border: 1px solid #eee; }
code { background: #f5f5f5; padding: 1px 4px; white-space: pre-wrap; }
"""


def _e(value):
    return html.escape(str(value), quote=True)


def _num(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return str(value)
    value = float(value)
    if abs(value) >= 10:
        return f"{value:.1f}" if abs(value) < 1000 else f"{value:.0f}"
    return f"{value:.{digits}f}"


def _mean_std(mean, std):
    """``mean ± std`` with the mean's digits for both (``54.6 ± 1.0``, ``0.933 ± 0.012``)."""
    if mean is None or mean != mean:
        return "-"
    digits = 3 if abs(mean) < 10 else 1 if abs(mean) < 1000 else 0
    if std is None or std != std:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _prob(value):
    return "-" if value is None or value != value else f"{value:.2f}"


def _text(value):
    return "-" if not isinstance(value, str) or not value else value


def _table(header, rows, numeric=(), wide=(), row_class=None):
    """A ``<table>``: ``header`` names, ``rows`` lists of text; columns in ``numeric`` right-aligned."""
    out = ['<div class="box"><table>', "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header)
           + "</tr>"]
    for i, row in enumerate(rows):
        cls = row_class(i) if row_class else None
        if isinstance(row, str):  # a group heading spanning the table
            out.append(f'<tr class="group"><td colspan="{len(header)}">{_e(row)}</td></tr>')
            continue
        cells = []
        for j, cell in enumerate(row):
            kind = "num" if j in numeric else "text" if j in wide else None
            attr = f' class="{kind}"' if kind else ""
            cells.append(f"<td{attr}>{_e(cell)}</td>")
        attr = f' class="{cls}"' if cls else ""
        out.append(f"<tr{attr}>" + "".join(cells) + "</tr>")
    out.append("</table></div>")
    return "\n".join(out)


def _verdict_section(result):
    verdict = result.verdict()
    overall = result.overall_verdict().iloc[0]
    parts = ['<section id="verdict">', "<h2>Verdict: is the network worth it?</h2>",
             f'<p class="overall"><b>Across {overall["n_datasets"]} dataset(s)</b> '
             f'({_e(overall["test"])}): {_e(overall["verdict"])}</p>',
             '<ul class="verdicts">']
    for r in verdict.itertuples():
        parts.append(f"<li><b>{_e(r.dataset)}</b>: {_e(r.verdict)}</li>")
    parts.append("</ul>")
    rows = [[r.dataset, r.metric, _text(r.best_dl), _text(r.best_ml), _num(r.diff),
             f"{r.rope:g}", _prob(r.p_dl), _prob(r.p_equivalent), _prob(r.p_ml),
             str(r.n_folds), r.decision or "-"] for r in verdict.itertuples()]
    rows.append(["all datasets", "", "best DL", "best ML", _num(overall["mean_diff"]),
                 f'{overall["rope"]:g}' if overall["rope"] == overall["rope"] else "-",
                 _prob(overall["p_dl"]), _prob(overall["p_equivalent"]), _prob(overall["p_ml"]),
                 str(overall["n_datasets"]), overall["decision"]])
    parts.append(_table(
        ["dataset", "metric", "best DL", "best ML", "DL − ML", "ROPE ±", "P(DL better)",
         "P(equivalent)", "P(ML better)", "folds", "decision"],
        rows, numeric={4, 5, 6, 7, 8, 9}))
    parts.append(
        f"<p>Per dataset: the {_e(verdict['test'].iloc[0] if len(verdict) else '')} on the "
        "outer folds, between the best DL and the best ML model (the pair of the t-test "
        "below). A difference within ± ROPE of the primary metric counts as practically "
        "none; a probability of 0.95 or more decides. The best models are chosen on the "
        "same folds that test them, which makes every probability a little optimistic "
        "for the winner.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _scores_section(result):
    summary = result.summary()
    tasks = result.info["tasks"]
    parts = ['<section id="scores">', "<h2>Scores: mean ± std over outer folds</h2>"]
    for task, (m1, m2) in METRICS.items():
        names = [d for d, t in tasks.items() if t == task]
        if not names:
            continue
        rows, best = [], set()
        for name in names:
            rows.append(name)
            s = summary[summary["dataset"] == name]
            for r in s.itertuples():
                if r.rank == s["rank"].min():
                    best.add(len(rows))
                rows.append([r.model, r.family,
                             _mean_std(getattr(r, f"{m1}_mean"), getattr(r, f"{m1}_std")),
                             _mean_std(getattr(r, f"{m2}_mean"), getattr(r, f"{m2}_std")),
                             _num(r.fit_seconds, 2), f"{r.rank:g}" if r.rank == r.rank else "-",
                             str(r.n_folds)])
        parts.append(f"<h3>{_e(task)}</h3>")
        parts.append(_table(["model", "family", f"{m1} (mean ± std)", f"{m2} (mean ± std)",
                             "fit s / fold", "rank", "folds"], rows, numeric={2, 3, 4, 5, 6},
                            row_class=lambda i: "best" if i in best else None))
    ranks = result.ranks()
    parts.append("<p>Average rank over datasets (1 = best): "
                 + _e(", ".join(f"{r.model} {r.avg_rank:.2f}" for r in ranks.itertuples()))
                 + ". Bold: the best model of a dataset. fit s: the inner search plus the "
                 "refit, per outer fold.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _significance_section(result):
    sig = result.significance()
    rows = [[r.dataset, r.metric, _text(r.best_dl), _num(r.dl_score), _text(r.best_ml),
             _num(r.ml_score), _num(r.diff), _num(r.t, 2),
             "-" if r.p_value != r.p_value else ("<0.001" if r.p_value < 0.001
                                                  else f"{r.p_value:.3f}")]
            for r in sig.itertuples()]
    return "\n".join([
        '<section id="significance">',
        f"<h2>Best DL vs best ML: {_e(sig['test'].iloc[0] if len(sig) else '')}</h2>",
        _table(["dataset", "metric", "best DL", "score", "best ML", "score", "DL − ML", "t",
                "p-value"], rows, numeric={3, 5, 6, 7, 8}),
        "<p>p &lt; 0.05: the difference exceeds the fold-to-fold noise of cross-validation; "
        "a large p means these data cannot tell the two apart, which is not evidence that "
        "they are equal (the verdict above says how likely that is).</p>",
        "</section>"])


def _blend_section(result):
    blend = result.blend()
    rows = [[r.dataset, r.metric, _text(r.best_dl), _text(r.best_ml), str(r.n_folds),
             "-" if r.disagreement != r.disagreement else f"{r.disagreement:.1%}",
             _num(r.prediction_corr, 2), _num(r.error_corr, 2), _num(r.dl_score),
             _num(r.ml_score), _num(r.blend_score),
             "-" if r.gain != r.gain else f"{r.gain:+.3f}"] for r in blend.itertuples()]
    notes = "".join(f"<li><b>{_e(r.dataset)}</b>: {_e(r.note)}</li>" for r in blend.itertuples())
    return "\n".join([
        '<section id="blend">', "<h2>Should I ship both? The blend of the best DL and best ML "
        "model</h2>",
        _table(["dataset", "metric", "best DL", "best ML", "folds", "disagree",
                "prediction corr", "error corr", "DL", "ML", "blend", "gain"], rows,
               numeric={4, 5, 6, 7, 8, 9, 10, 11}),
        f'<ul class="verdicts">{notes}</ul>',
        "<p>The blend averages the two models' predicted probabilities (classification) or "
        "values (regression) on each outer test fold. disagree: the share of test rows "
        "whose predicted labels differ (classification). prediction corr: the correlation "
        "of the two models' predictions (regression). error corr: the correlation of their "
        "errors (1 − p(true class), or the residuals); the lower it is, the more averaging "
        "can gain. gain: the blend's score minus the better of the two, on the same folds "
        "that chose them (a little optimistic).</p>",
        "</section>"])


def _costs_section(result):
    costs = result.costs()
    rows = [[_text(r.model), r.family, str(r.n_jobs), _num(r.fit_seconds, 2),
             _num(r.refit_seconds, 2), _num(r.latency_row_ms, 2), _num(r.latency_1000_ms, 1),
             format_size(r.size_bytes), _num(r.peak_memory_mb, 1)] for r in costs.itertuples()]
    return "\n".join([
        '<section id="costs">', "<h2>What each model costs</h2>",
        _table(["model", "family", "jobs", "fit s", "refit s", "ms / row", "ms / 1,000 rows",
                "size", "peak MiB"], rows, numeric={2, 3, 4, 5, 6, 7, 8}),
        "<p>The median over each model's jobs, every dataset together (per dataset: the "
        "summary in results.json). fit s: the inner search plus the refit, per outer fold; "
        "refit s: the refit of the chosen candidate alone. ms / row and ms / 1,000 rows: "
        "predicting with the refitted model. size: the model saved (skdense.save for a "
        "skdense model, pickle for the others). peak MiB: the memory the refit added "
        "(a lower bound). The cost frontier among the plots marks the models that no other "
        "beats on both score and cost.</p>",
        "</section>"])


def _learning_curve_section(result):
    from ._learning_curve import crossings

    parts = ['<section id="learning-curve">', "<h2>Would more data change it?</h2>"]
    curve = result.learning_curve
    if curve is None or curve.empty:
        parts.append("<p>No learning curve in this run (<code>--learning-curve</code> "
                     "refits the best DL and ML model on 10, 25 and 50% of each outer "
                     "training fold).</p>")
    else:
        sentences = "".join(f"<li><b>{_e(d)}</b>: {_e(text)}</li>"
                            for d, text in crossings(curve).items())
        parts += [f'<ul class="verdicts">{sentences}</ul>',
                  "<p>The best DL and ML model of each dataset, refitted with each fold's "
                  "chosen hyper-parameters on 10, 25, 50 and 100% of the outer training "
                  "rows and scored on the same outer test rows; the curves are the means "
                  "over folds (learning_curve.png among the plots).</p>"]
    parts.append("</section>")
    return "\n".join(parts)


def _plots_section(result):
    parts = ['<section id="plots">', "<h2>Plots</h2>"]
    if not result.plots:
        parts.append("<p>No plot was written with this result.</p>")
    for name, path in result.plots.items():
        parts.append(f'<h3 id="plot-{_e(name)}">{_e(name)}</h3>')
        try:
            with open(path, "rb") as fh:
                data = base64.b64encode(fh.read()).decode("ascii")
        except OSError as exc:
            parts.append(f"<p>{_e(os.path.basename(os.fspath(path)))} could not be read: "
                         f"{_e(exc.strerror or exc)}.</p>")
            continue
        parts.append(f'<img alt="{_e(name)}" src="data:image/png;base64,{data}"/>')
    parts.append("</section>")
    return "\n".join(parts)


def reproduce_command(info):
    """The ``skdense compare`` command that repeats a run on built-in datasets, or None."""
    from ._datasets import DATASETS

    datasets = list(info.get("tasks", {}))
    if not datasets or any(d not in DATASETS for d in datasets):
        return None
    models = list(dict.fromkeys(m for g in info.get("grids", {}).values() for m in g))
    words = ["skdense", "compare", "--datasets", *datasets]
    if models:
        words += ["--models", *models]
    words += ["--cv", str(info.get("cv")), "--seed", str(info.get("random_state"))]
    if info.get("n_repeats", 1) != 1:
        words += ["--repeats", str(info["n_repeats"])]
    if info.get("search", "grid") != "grid":
        words += ["--search", str(info["search"])]
    if info.get("quick"):
        words.append("--quick")
    if info.get("rope") is not None:
        words += ["--rope", f"{info['rope']:g}"]
    return " ".join(words)


def _reproduce_section(result):
    info = result.info
    settings = [[k, str(info[k])] for k in ("cv", "n_repeats", "inner_cv", "search",
                                             "random_state", "quick", "backend", "rope")
                if k in info]
    if "rope" in info and info["rope"] is None:
        settings[-1][1] = "default (accuracy 0.01, r2 0.01)"
    if "wall_seconds" in info:
        settings.append(["wall seconds", f"{info['wall_seconds']:.1f}"])
    data = [[d, info.get("tasks", {}).get(d, ""), info.get("data", {}).get(d, "-"),
             info.get("notes", {}).get(d, "")] for d in info.get("tasks", {})]
    versions = [["python", platform.python_version()]]
    versions += [[k, str(v)] for k, v in (info.get("versions") or {}).items() if v is not None]
    command = reproduce_command(info)
    parts = ['<section id="reproduce">', "<h2>Reproduce this run</h2>"]
    if command:
        parts.append(f"<p>Command: <code>{_e(command)}</code></p>")
    parts += [_table(["setting", "value"], settings),
              "<h3>Data (digest of the values, names and dtypes)</h3>",
              _table(["dataset", "task", "digest", "how the task was decided"], data),
              "<h3>Versions</h3>", _table(["package", "version"], versions)]
    grids = info.get("grids", {})
    if grids:
        rows = [[d, m, str(g)] for d, models in grids.items() for m, g in models.items()]
        parts += ["<h3>Grids</h3>", _table(["dataset", "model", "grid"], rows, wide={2})]
    parts.append("</section>")
    return "\n".join(parts)


def render(result):
    """The report of ``result`` as a string of HTML."""
    res = result.results
    n_ok = int((res["status"] == "ok").sum()) if len(res) else 0
    title = "skdense compare: classical ML vs dense networks"
    if result.partial:
        title += " (PARTIAL)"
    lead = (f"{res['dataset'].nunique()} dataset(s), {res['model'].nunique()} model(s), "
            f"{n_ok} of {len(res)} jobs ok; nested cross-validation, "
            f"{result.info.get('cv', '?')} outer folds"
            f"{' x ' + str(result.info['n_repeats']) if result.info.get('n_repeats', 1) != 1 else ''}.")
    body = [f"<h1>{_e(title)}</h1>", f'<p class="lead">{_e(lead)}</p>',
            _verdict_section(result), _scores_section(result), _significance_section(result),
            _blend_section(result), _costs_section(result), _learning_curve_section(result),
            _plots_section(result), _reproduce_section(result)]
    return ("<!DOCTYPE html>\n"
            '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">\n<head>\n'
            '<meta charset="utf-8"/>\n'
            f"<title>{_e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def write_report(result, path):
    """Write ``result``'s report to ``path`` atomically (or to an open text file); return it."""
    text = render(result)
    if hasattr(path, "write"):
        path.write(text)
        return path
    with atomic_open(path, "w") as fh:
        fh.write(text)
    return path

"""The verdict: is the network better, practically the same, or worse, and what to do.

A p-value answers "is there any difference?"; a person choosing a model asks
"is it better by enough to matter?". The verdict answers that with a region of
practical equivalence (ROPE): differences within ``[-rope, rope]`` of the
primary metric (accuracy or R^2) count as "the same for practical purposes".

Per dataset: the **Bayesian correlated t-test** (Corani & Benavoli 2015;
Benavoli, Corani, Demšar & Zaffalon, "Time for a change", JMLR 18(77), 2017),
the Bayesian counterpart of the corrected resampled t-test that ``_stats``
computes, on the same pair (best DL, best ML) and the same outer folds. The
posterior of the mean difference is a Student t with ``n - 1`` degrees of
freedom, located at the mean of the paired differences, with scale
``sqrt((1/n + rho/(1-rho)) * var)`` where ``rho = n_test / (n_test + n_train)``
(``1/k`` for k-fold CV) and ``var`` the sample variance (ddof=1). It is what
``baycomp.CorrelatedTTest`` computes; skdense does not depend on baycomp.

Across datasets: the **Bayesian signed-rank test** (Benavoli, Mangili, Corani,
Zaffalon & Ruggeri, ICML 2014) on the per-dataset mean differences: a
Dirichlet process posterior (prior weight 0.5 on a pseudo-observation at 0)
sampled by Monte Carlo with a fixed seed, the same three probabilities. It is
the test Benavoli et al. (2017) recommend for several datasets: it gives the
ROPE probabilities a Wilcoxon signed-rank p-value cannot, needs no
assumption that the datasets' differences are normal, and, unlike their
hierarchical model, no MCMC sampler (Stan).
"""

from numbers import Real

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

DEFAULT_ROPE = {"accuracy": 0.01, "r2": 0.01}
"""The default half-width of the ROPE per primary metric: 1 point of accuracy, 0.01 of R^2."""

DECIDE = 0.95
"""A probability at or above this is a decision; below it the verdict says what is likely."""

TEST_NAME = "Bayesian correlated t-test (Benavoli et al. 2017)"
OVERALL_TEST_NAME = "Bayesian signed-rank test (Benavoli et al. 2014)"
N_SAMPLES = 50_000
PRIOR = 0.5  # weight of the pseudo-observation at 0 (baycomp's default)


ROPE_CONSTRAINT = Interval(Real, 0, None, closed="left")  # and finite, and no bool


def check_rope(rope):
    """``rope`` if it is None or a finite number >= 0; else a ValueError saying what to pass."""
    if rope is None:
        return None
    ok = ROPE_CONSTRAINT.is_satisfied_by(rope) and not isinstance(rope, bool)
    if not ok or not np.isfinite(rope):
        defaults = ", ".join(f"{m} {v:g}" for m, v in DEFAULT_ROPE.items())
        raise ValueError(
            f"rope must be a finite number >= 0 (the half-width of the region of practical "
            f"equivalence, in units of the primary metric), or None for the default per "
            f"metric ({defaults}); got {rope!r}."
        )
    return float(rope)


def rope_for(metric, rope=None):
    """The ROPE of ``metric``: ``rope`` when given, else its default (0.01)."""
    return DEFAULT_ROPE.get(metric, 0.01) if rope is None else float(rope)


def correlated_ttest(diff, rho, rope):
    """``(p_below, p_rope, p_above)`` of the mean of ``diff`` under the correlated t posterior.

    Parameters
    ----------
    diff : array-like of shape (n,)
        Paired differences of the two models' fold scores (the first minus the second,
        oriented so that larger is better for the first).
    rho : float
        The correlation of fold scores, ``n_test / (n_test + n_train)``.
    rope : float
        Half-width of the region of practical equivalence (>= 0).

    Returns
    -------
    p_below, p_rope, p_above : float
        Posterior probabilities that the mean difference is below ``-rope``, within
        ``[-rope, rope]``, above ``rope``. NaN when ``n < 2``. With zero variance
        (every difference equal) the posterior is a point at the mean: its region
        gets probability 1 (the ROPE when ``|mean| == rope``, as baycomp does).
    """
    from scipy import stats

    d = np.asarray(diff, dtype=float)
    n = d.size
    if n < 2 or not np.all(np.isfinite(d)):
        return (float("nan"),) * 3
    mean = float(d.mean())
    var = float(d.var(ddof=1))
    if var == 0:
        below, above = float(mean < -rope), float(mean > rope)
        return below, 1.0 - below - above, above
    scale = np.sqrt((1.0 / n + rho / (1.0 - rho)) * var)
    below = float(stats.t.cdf(-rope, n - 1, loc=mean, scale=scale))
    above = float(stats.t.sf(rope, n - 1, loc=mean, scale=scale))
    return below, max(0.0, 1.0 - below - above), above


def signed_rank(diff, rope, *, seed=0, n_samples=N_SAMPLES, prior=PRIOR):
    """``(p_below, p_rope, p_above)`` of the Bayesian signed-rank test of ``diff`` (one per dataset).

    The Dirichlet process posterior of Benavoli et al. (2014): weights over the
    observations and a pseudo-observation at 0 (weight ``prior``) are drawn from a
    Dirichlet; in each draw the probability mass of pairs whose mean difference is
    above ``rope``, within, or below ``-rope`` is computed, and the probabilities
    are how often each region has the most mass. ``seed`` makes it repeatable (the
    same numbers as ``baycomp.SignedRankTest(..., random_state=seed)``). NaN for
    fewer than 2 differences.
    """
    d = np.asarray(diff, dtype=float)
    if d.size < 2 or not np.all(np.isfinite(d)):
        return (float("nan"),) * 3
    z = np.concatenate(([0.0], d))
    sums = z[:, None] + z[None, :]

    def heaviside(a, threshold):
        return (a > threshold).astype(float) + 0.5 * (a == threshold).astype(float)

    weights = np.ones(z.size)
    weights[0] = prior
    draws = np.random.RandomState(seed).dirichlet(weights, n_samples)
    above = np.einsum("si,ij,sj->s", draws, heaviside(sums, 2 * rope), draws)
    if rope > 0:
        below = np.einsum("si,ij,sj->s", draws, heaviside(-sums, 2 * rope), draws)
    else:
        below = 1.0 - above
    samples = np.column_stack([below, 1.0 - below - above, above])
    if rope == 0:
        samples[:, 1] = -np.inf  # no ROPE: only "below" and "above" can win
    counts = np.bincount(np.argmax(samples, axis=1), minlength=3) / n_samples
    return tuple(float(c) for c in counts)


def decide(p_dl, p_rope, p_ml):
    """A short decision from the three probabilities (see :func:`sentence`)."""
    if not np.isfinite(p_dl):
        return "undecided"
    if p_dl >= DECIDE:
        return "DL better"
    if p_ml >= DECIDE:
        return "ML better"
    if p_rope >= DECIDE:
        return "equivalent"
    if p_dl + p_rope >= DECIDE:
        return "DL not worse"
    if p_ml + p_rope >= DECIDE:
        return "ML not worse"
    return "undecided"


def sentence(dl, ml, metric, rope, probs, n, what="folds", where="here"):
    """One sentence that says what the three probabilities mean for the choice of a model.

    ``dl`` and ``ml`` name the two sides as the sentence should show them
    (``"dense (DL)"``); ``probs`` is ``(p_dl, p_equivalent, p_ml)``.
    """
    p_dl, p_rope, p_ml = probs
    by = f"{rope:g} {metric}"
    if dl is None or ml is None:
        missing = "DL" if dl is None else "ML"
        return f"no {missing} model scored on these {what}: nothing to compare."
    if not np.isfinite(p_dl):
        return f"cannot decide: {n} {what} in common, and the test needs at least 2."
    choice = decide(p_dl, p_rope, p_ml)
    if choice == "DL better":
        return (f"{dl} is better than {ml} by more than {by} with probability {p_dl:.2f}: "
                f"the network is worth using {where}.")
    if choice == "ML better":
        return (f"{ml} is better than {dl} by more than {by} with probability {p_ml:.2f}: "
                f"use {ml}; the network does not pay {where}.")
    if choice == "equivalent":
        return (f"{dl} and {ml} are within {by} of each other with probability {p_rope:.2f}: "
                "practically equivalent; use the one that is cheaper to run and maintain.")
    if choice == "DL not worse":
        return (f"{dl} is not worse than {ml} by more than {by} with probability "
                f"{p_dl + p_rope:.2f} (better with {p_dl:.2f}): the network is safe to use "
                f"{where}, but not shown to be better.")
    if choice == "ML not worse":
        return (f"{ml} is not worse than {dl} by more than {by} with probability "
                f"{p_ml + p_rope:.2f} (better with {p_ml:.2f}): the network is not shown to "
                f"add anything {where}; keep {ml}.")
    return (f"undecided: P({dl} better by more than {by}) = {p_dl:.2f}, P(equivalent) = "
            f"{p_rope:.2f}, P({ml} better) = {p_ml:.2f}; these {n} {what} cannot tell, "
            f"more would narrow it.")


def _label(model, family):
    return None if model is None else f"{model} ({family})"


def verdict_table(pairs, rope=None):
    """The per-dataset verdict from the paired fold scores of the best DL and best ML models.

    ``pairs`` is a list of dicts with ``dataset, metric, best_dl, best_ml, sign`` (+1 when
    larger is better) and ``dl, ml, n_train, n_test`` (the fold scores and sizes, paired;
    empty where there is no pair). Columns: ``dataset, metric, best_dl, best_ml, diff``
    (DL minus ML, mean), ``rope, p_dl, p_equivalent, p_ml, n_folds, decision, verdict,
    test``.
    """
    rows = []
    for p in pairs:
        metric = p["metric"]
        r = rope_for(metric, rope)
        dl, ml = np.asarray(p["dl"], dtype=float), np.asarray(p["ml"], dtype=float)
        n = int(dl.size)
        diff = p["sign"] * (dl - ml)
        probs = (float("nan"),) * 3
        if p["best_dl"] is not None and p["best_ml"] is not None and n:
            n_test, n_train = float(np.mean(p["n_test"])), float(np.mean(p["n_train"]))
            probs = correlated_ttest(diff, n_test / (n_test + n_train), r)
        have = p["best_dl"] is not None and p["best_ml"] is not None
        rows.append({
            "dataset": p["dataset"], "metric": metric, "best_dl": p["best_dl"],
            "best_ml": p["best_ml"], "diff": float(np.mean(dl - ml)) if n and have else np.nan,
            "rope": r, "p_dl": probs[2],
            "p_equivalent": probs[1], "p_ml": probs[0], "n_folds": n if have else 0,
            "decision": decide(probs[2], probs[1], probs[0]) if have else "",
            "verdict": sentence(_label(p["best_dl"], "DL"), _label(p["best_ml"], "ML"), metric,
                                r, (probs[2], probs[1], probs[0]), n),
            "test": TEST_NAME,
        })
    return pd.DataFrame(rows, columns=["dataset", "metric", "best_dl", "best_ml", "diff", "rope",
                                       "p_dl", "p_equivalent", "p_ml", "n_folds", "decision",
                                       "verdict", "test"])


def overall(verdict, pairs, *, seed=0):
    """The verdict across datasets: the signed-rank test of the per-dataset mean differences.

    Returns a one-row DataFrame: ``n_datasets, rope, mean_diff, p_dl, p_equivalent, p_ml,
    decision, verdict, test``. The datasets are those with a pair; their ROPEs must
    agree (they do with the defaults), else the probabilities are NaN.
    """
    diffs, ropes = [], set()
    for p, (_, v) in zip(pairs, verdict.iterrows()):
        if v["n_folds"] > 0:
            diffs.append(p["sign"] * float(np.mean(np.asarray(p["dl"]) - np.asarray(p["ml"]))))
            ropes.add(v["rope"])
    n = len(diffs)
    rope = ropes.pop() if len(ropes) == 1 else float("nan")
    if n >= 2 and np.isfinite(rope):
        below, equal, above = signed_rank(diffs, rope, seed=seed)
    else:
        below = equal = above = float("nan")
    if len(set(verdict["metric"])) == 1:
        metric = verdict["metric"].iloc[0]
    else:
        metric = "/".join(dict.fromkeys(verdict["metric"]))
    if n < 2:
        text = (f"{n} dataset(s) with a DL and an ML model: the verdict across datasets needs "
                "at least 2; see the verdict of each dataset.")
    elif not np.isfinite(rope):
        text = "the datasets' ROPEs differ: no verdict across datasets (pass one --rope)."
    else:
        text = sentence("the best network", "the best classical model", metric, rope,
                        (above, equal, below), n, what="datasets", where="on these datasets")
    return pd.DataFrame([{
        "n_datasets": n, "rope": rope, "mean_diff": float(np.mean(diffs)) if n else np.nan,
        "p_dl": above, "p_equivalent": equal, "p_ml": below,
        "decision": decide(above, equal, below) if n >= 2 else "undecided",
        "verdict": text, "test": OVERALL_TEST_NAME,
    }])

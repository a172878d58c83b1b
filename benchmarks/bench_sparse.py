"""Peak memory of wide sparse fits and of predict, each case in a fresh process.

    python benchmarks/bench_sparse.py                  # every case below
    python benchmarks/bench_sparse.py --quick          # smaller sizes (a minute)
    python benchmarks/bench_sparse.py --old-src /tmp/skdense_main   # add the old code's rows

Cases (each run in its own subprocess; the parent reads the child's peak RSS
from ``os.wait4``, the per-child ``ru_maxrss`` of ``getrusage(RUSAGE_CHILDREN)``):

* ``fit``: ``DenseClassifier(hidden_layer_sizes=(64,), epochs=2)`` on a random
  float64 CSR matrix (as ``TfidfVectorizer`` returns) of ``rows x cols`` with
  0.1% non-zeros and a learnable binary target.  ``sparse`` passes the CSR
  matrix; ``densified`` passes ``X.toarray()`` as float32, which is what the
  estimator did inside before it kept sparse X (and what ``--old-src`` code
  still does with the CSR matrix).
* ``agree``: 2,000 x 2,000 at 1% non-zeros, the same seeded classifier fitted
  on the CSR matrix and on its dense copy: held-out accuracy of both and the
  largest difference of their predicted probabilities.
* ``predict``: a classifier fitted on 2,000 rows of 50 dense features predicts
  100,000 and 1,000,000 rows; ``chunked`` is the default, ``one call`` sets
  ``CHUNK_BYTES`` so that all rows go through one forward call (the old
  behaviour).  "above input" is the peak minus the RSS once X was built and the
  model fitted, i.e. what predict itself added.

Prints tables; no assertions.  ``--old-src DIR`` runs the ``fit`` and
``predict`` cases again importing skdense from ``DIR`` (e.g. an export of an
older commit: ``git archive <commit> | tar -x -C DIR``).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, os.pardir)


# -- the children -------------------------------------------------------------
def _import_skdense(src):
    sys.path.insert(0, src or ROOT)
    import skdense

    return skdense


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _sparse_problem(rows, cols, density, seed):
    """A float64 CSR matrix (rows x cols) and a binary target that a linear
    model of its first 1,000 columns separates."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    per_row = max(1, round(cols * density))  # built directly: sp.random's temporaries are large
    indices = rng.integers(0, cols, rows * per_row)
    indptr = np.arange(0, rows * per_row + 1, per_row)
    X = sp.csr_matrix((rng.uniform(0.1, 1.0, rows * per_row), indices, indptr), shape=(rows, cols))
    X.sum_duplicates()
    w = np.zeros(cols)
    w[:1000] = rng.normal(size=min(cols, 1000))
    score = X @ w
    y = (score > np.median(score)).astype(int)
    return X, y


def child_fit(args):
    import numpy as np

    skdense = _import_skdense(args.src)
    X, y = _sparse_problem(args.rows, args.cols, args.density, 0)
    if args.mode == "densified":
        X = np.asarray(X.toarray(), dtype=np.float32)
    base = _peak_mb()
    clf = skdense.DenseClassifier((64,), epochs=args.epochs, early_stopping=False, random_state=0)
    t = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - t
    acc = float((clf.predict(X[:2000]) == y[:2000]).mean())
    return {"base_mb": base, "fit_s": fit_s, "train_acc": acc}


def child_agree(args):
    import numpy as np

    skdense = _import_skdense(args.src)
    X, y = _sparse_problem(3000, 2000, 0.01, 1)
    Xtr, ytr, Xte, yte = X[:2000], y[:2000], X[2000:], y[2000:]
    out = {}
    probas = {}
    # Warm up TensorFlow so neither timed fit pays for its start-up.
    skdense.DenseClassifier((8,), epochs=1, early_stopping=False).fit(Xtr[:50, :10].toarray(), ytr[:50])
    for name, tr, te in (("sparse", Xtr, Xte), ("dense", Xtr.toarray(), Xte.toarray())):
        clf = skdense.DenseClassifier((64,), epochs=20, patience=5, n_ensemble=1, random_state=0)
        t = time.perf_counter()
        clf.fit(tr, ytr)
        out[f"{name}_fit_s"] = time.perf_counter() - t
        out[f"{name}_acc"] = float((clf.predict(te) == yte).mean())
        out[f"{name}_epochs"] = clf.n_iter_
        probas[name] = clf.predict_proba(te)
    out["max_proba_diff"] = float(np.abs(probas["sparse"] - probas["dense"]).max())
    return out


def child_predict(args):
    import numpy as np

    skdense = _import_skdense(args.src)
    rng = np.random.default_rng(0)
    Xf = rng.standard_normal((2000, 50), dtype=np.float32)
    clf = skdense.DenseClassifier((100,), epochs=2, early_stopping=False, n_ensemble=1,
                                  random_state=0)
    clf.fit(Xf, (Xf[:, 0] > 0).astype(int))
    X = rng.standard_normal((args.rows, 50), dtype=np.float32)
    clf.predict_proba(X[:10])  # trace the forward pass before the baseline
    if args.mode == "one-call":
        import importlib

        predict_module = importlib.import_module("skdense._training.predict")
        predict_module.CHUNK_BYTES = 1 << 62  # older code ignores it: one call already
    base = _peak_mb()
    t = time.perf_counter()
    clf.predict_proba(X)
    return {"base_mb": base, "predict_s": time.perf_counter() - t}


CHILDREN = {"fit": child_fit, "agree": child_agree, "predict": child_predict}


# -- the parent ---------------------------------------------------------------
def run_child(case, **kw):
    """Run one case in a fresh process; its result and peak RSS (MB, from wait4)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", case]
    for k, v in kw.items():
        if v is not None:
            cmd += [f"--{k}", str(v)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would be the
        # largest of all children so far).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}: {stderr[-2000:]}"}
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # Linux: KiB
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--child")
    p.add_argument("--mode")
    p.add_argument("--rows", type=int)
    p.add_argument("--cols", type=int)
    p.add_argument("--density", type=float, default=0.001)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--src")
    p.add_argument("--old-src")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return

    big = (2000, 100_000) if args.quick else (20_000, 100_000)
    small = (1000, 100_000)
    fits = [(small, "sparse", None), (small, "densified", None), (big, "sparse", None)]
    if args.old_src:
        fits.insert(2, (small, "sparse", args.old_src))
    print("Wide sparse fit: DenseClassifier((64,), epochs=2), CSR float64, 0.1% non-zeros")
    print(f"{'rows x cols':>16} {'dense f32':>10} {'X passed as':>12} {'code':>6} "
          f"{'peak RSS':>10} {'before fit':>10} {'fit s':>7}")
    for (rows, cols), mode, src in fits:
        r = run_child("fit", mode=mode, rows=rows, cols=cols, epochs=2, src=src)
        code = "old" if src else "new"
        if "error" in r:
            print(f"{rows:>7,} x {cols:<7,} {mode:>12} {code}: {r['error']}")
            continue
        print(f"{rows:>7,} x {cols:<7,} {rows * cols * 4 / 2**30:>8.2f}GB {mode:>12} {code:>6} "
              f"{r['peak_mb']:>8.0f}MB {r['base_mb']:>8.0f}MB {r['fit_s']:>7.1f}")

    print("\nSame seed, sparse vs dense input (2,000 x 2,000 train, 1,000 test, 1% non-zeros)")
    r = run_child("agree")
    if "error" in r:
        print(r["error"])
    else:
        print(f"accuracy sparse {r['sparse_acc']:.3f} ({r['sparse_epochs']} epochs, "
              f"{r['sparse_fit_s']:.1f} s)  dense {r['dense_acc']:.3f} ({r['dense_epochs']} "
              f"epochs, {r['dense_fit_s']:.1f} s)  max |proba diff| {r['max_proba_diff']:.2e}")

    print("\nPredict memory: predict_proba of 50 dense features, DenseClassifier((100,))")
    print(f"{'rows':>10} {'code':>6} {'mode':>9} {'peak RSS':>10} {'above input':>12} {'s':>6}")
    sizes = (100_000, 1_000_000)
    runs = [(n, m, None) for n in sizes for m in ("one-call", "chunked")]
    if args.old_src:
        runs += [(n, "one-call", args.old_src) for n in sizes]
    for rows, mode, src in runs:
        r = run_child("predict", mode=mode, rows=rows, src=src)
        code = "old" if src else "new"
        if "error" in r:
            print(f"{rows:>10,} {code} {mode}: {r['error']}")
            continue
        print(f"{rows:>10,} {code:>6} {mode:>9} {r['peak_mb']:>8.0f}MB "
              f"{r['peak_mb'] - r['base_mb']:>10.0f}MB {r['predict_s']:>6.2f}")


if __name__ == "__main__":
    main()

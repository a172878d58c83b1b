"""Predictions without TensorFlow: 1-row latency, throughput and cold start.

Side by side in one process, medians of repeated calls (``--repeat``):

- 1-row ``predict_proba`` of the default classifier's network (one hidden
  layer of 100, ``n_ensemble=1`` and ``n_ensemble=8`` set explicitly): (a) the
  Keras path (``keras_estimator_.predict_proba``, the compiled Keras forward
  pass, what ``predict_proba`` ran before issue 19), (b) the estimator's
  ``predict_proba`` (the NumPy path, X checked), (c) the NumPy forward and
  decoding alone, (d) scikit-learn's ``MLPClassifier.predict_proba``;
- the whole Pipeline's ``predict_proba`` (``TabularPreprocessor`` + the
  classifier) against ``StandardScaler + MLPClassifier``, and on a DataFrame
  with categorical columns against ``ColumnTransformer + OneHotEncoder +
  MLPClassifier``; the transform + Keras path for reference;
- ONNX Runtime's 1-row latency on the same Pipeline, and its largest
  difference from skdense's probabilities;
- rows per second on 100,000 rows: the NumPy path against Keras's
  ``model.predict`` on the same network;
- a fresh process that imports skdense, ``skdense.load``s a saved default
  Pipeline (``TabularPreprocessor`` + ``DenseClassifier()``) and predicts one
  row (wall time), and how much of that is importing numpy, pandas and
  scikit-learn themselves.

Run::

    python benchmarks/bench_predict.py            # breast_cancer, ~2 min
    python benchmarks/bench_predict.py --repeat 2000

Measured: see docs/performance.md (and the note of issue 19).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skdense import DenseClassifier, TabularPreprocessor  # noqa: E402
from skdense._inference import predictor_for  # noqa: E402


def median_ms(fn, repeat):
    for _ in range(min(50, repeat)):
        fn()
    times = np.empty(repeat)
    for i in range(repeat):
        t = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - t
    return float(np.median(times) * 1e3)


def data():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    rng = np.random.RandomState(0)
    mixed = X.copy()
    mixed["city"] = rng.choice(["Oslo", "Rome", "Lima", "Pune"], len(X))
    mixed["plan"] = pd.Categorical(rng.choice(["a", "b", "c"], len(X)))
    return X, mixed, y.to_numpy()


def dense(k):
    return DenseClassifier(n_ensemble=k, epochs=20, random_state=0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()
    r = args.repeat
    X, mixed, y = data()
    Xa = X.to_numpy()
    row, row_frame, row_mixed = Xa[:1], X.iloc[:1], mixed.iloc[:1]
    rows = []

    scaled = StandardScaler().fit_transform(Xa)
    mlp = MLPClassifier(max_iter=200, random_state=0).fit(scaled, y)
    t_mlp = median_ms(lambda: mlp.predict_proba(scaled[:1]), r)
    for k in (1, 8):
        est = dense(k).fit(scaled, y)
        numpy_path = predictor_for(est)
        x1 = scaled[:1].astype(np.float32)
        t_keras = median_ms(lambda: est.keras_estimator_.predict_proba(x1), r)
        t_est = median_ms(lambda: est.predict_proba(scaled[:1]), r)
        t_numpy = median_ms(lambda: numpy_path.predict_proba(x1), r)
        rows.append((f"1 row, n_ensemble={k}: Keras path (before)", t_keras, ""))
        rows.append((f"1 row, n_ensemble={k}: est.predict_proba (NumPy)", t_est,
                     f"{t_keras / t_est:.0f}x faster than Keras; {t_mlp / t_est:.1f}x MLP's speed"))
        rows.append((f"1 row, n_ensemble={k}: NumPy forward + decode alone", t_numpy, ""))
    rows.append(("1 row, sklearn MLPClassifier.predict_proba", t_mlp, ""))

    # Whole pipelines.
    for k in (1, 8):
        pipe = make_pipeline(TabularPreprocessor(), dense(k)).fit(X, y)
        pre, ke = pipe[0], pipe[-1].keras_estimator_
        t_pipe_keras = median_ms(
            lambda: ke.predict_proba(pre.transform(row_frame).astype(np.float32)), r)
        t_pipe_numpy = median_ms(lambda: pipe.predict_proba(row_frame), r)
        t_pre = median_ms(lambda: pre.transform(row_frame), r)
        t_pre_ct = median_ms(lambda: pre._transform_with_column_transformer(row_frame), r)
        rows.append((f"Pipeline n_ensemble={k}, DataFrame row: transform + Keras (before)",
                     t_pipe_keras, ""))
        rows.append((f"Pipeline n_ensemble={k}, DataFrame row: pipe.predict_proba",
                     t_pipe_numpy, f"{t_pipe_keras / t_pipe_numpy:.0f}x faster"))
        if k == 1:
            rows.append(("  TabularPreprocessor.transform, 1 row (direct)", t_pre,
                         f"{t_pre_ct / t_pre:.0f}x faster"))
            rows.append(("  TabularPreprocessor via ColumnTransformer (before)", t_pre_ct, ""))
            onnx_pipe = pipe
    sk_pipe = make_pipeline(StandardScaler(), MLPClassifier(max_iter=200, random_state=0))
    sk_pipe.fit(X, y)
    rows.append(("StandardScaler + MLPClassifier, DataFrame row",
                 median_ms(lambda: sk_pipe.predict_proba(row_frame), r), ""))
    pipe_m = make_pipeline(TabularPreprocessor(), dense(1)).fit(mixed, y)
    rows.append(("Pipeline (categorical DataFrame row): pipe.predict_proba",
                 median_ms(lambda: pipe_m.predict_proba(row_mixed), r), ""))
    num = list(X.columns)
    ct = ColumnTransformer([("num", StandardScaler(), num),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"])])
    sk_mixed = make_pipeline(ct, MLPClassifier(max_iter=200, random_state=0)).fit(mixed, y)
    rows.append(("ColumnTransformer+OneHotEncoder+MLP (categorical row)",
                 median_ms(lambda: sk_mixed.predict_proba(row_mixed), r), ""))

    # ONNX Runtime.
    try:
        import onnxruntime as ort

        from skdense._inference.onnx import onnx_inputs, to_onnx

        for name, model, frame in (("numeric", onnx_pipe, X), ("categorical", pipe_m, mixed)):
            onx = to_onnx(model, frame)
            sess = ort.InferenceSession(onx.SerializeToString(),
                                        providers=["CPUExecutionProvider"])
            feed1 = onnx_inputs(model, frame.iloc[:1])
            t_onnx = median_ms(lambda: sess.run(None, feed1), r)
            diff = np.abs(sess.run(None, onnx_inputs(model, frame))[1]
                          - model.predict_proba(frame)).max()
            rows.append((f"ONNX Runtime, Pipeline {name} row (feed ready)", t_onnx,
                         f"max |p - skdense| {diff:.1e}"))
    except ImportError as err:
        rows.append((f"ONNX Runtime: not installed ({err.name})", float("nan"), ""))

    # Throughput on 100,000 rows.
    big = np.tile(scaled, (100_000 // len(scaled) + 1, 1))[:100_000].astype(np.float32)
    for k in (1, 8):
        est = dense(k).fit(scaled, y)
        net = est._numpy_predictor_.network
        est.model_.predict(big[:1000], verbose=0)
        t_k = median_ms(lambda: est.model_.predict(big, batch_size=8192, verbose=0), 3) / 1e3
        t_n = median_ms(lambda: net.predict(big), 3) / 1e3
        rows.append((f"100,000 rows n_ensemble={k}: Keras model.predict (rows/s)",
                     100_000 / t_k, "rows/s"))
        rows.append((f"100,000 rows n_ensemble={k}: NumPy (rows/s)", 100_000 / t_n,
                     f"{t_k / t_n:.1f}x Keras"))

    # Cold start: a fresh process imports skdense, loads a saved default Pipeline and
    # predicts one row.
    import skdense

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pipe.skdense")
        skdense.save(make_pipeline(TabularPreprocessor(), DenseClassifier(epochs=20,
                                                                          random_state=0))
                     .fit(X, y), path)
        X.iloc[:1].to_csv(os.path.join(tmp, "row.csv"), index=False)
        code = (
            "import time, json, sys\n"
            "t = [time.perf_counter()]\n"
            "import numpy as np; t.append(time.perf_counter())\n"
            "import scipy.sparse, pandas as pd; t.append(time.perf_counter())\n"
            "import sklearn.base, sklearn.pipeline; t.append(time.perf_counter())\n"
            f"row = pd.read_csv({os.path.join(tmp, 'row.csv')!r}); t.append(time.perf_counter())\n"
            "import skdense; t.append(time.perf_counter())\n"
            f"pipe = skdense.load({path!r}); t.append(time.perf_counter())\n"
            "pipe.predict_proba(row); t.append(time.perf_counter())\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
            "print(json.dumps(t))\n"
        )
        best = None
        for _ in range(3):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                                 capture_output=True, text=True,
                                 env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
            wall = time.perf_counter() - start
            if best is None or wall < best[0]:
                best = (wall, np.diff(__import__("json").loads(out)))
        wall, (t_np, t_pd, t_sk, t_csv, t_sd, t_load, t_pred) = best
        rows.append(("fresh process: import skdense, load Pipeline, predict 1 row (s)", wall,
                     "s"))
        rows.append(("  Python start-up and exit (s)",
                     wall - (t_np + t_pd + t_sk + t_csv + t_sd + t_load + t_pred), "s"))
        rows.append(("  import numpy (s)", t_np, "s"))
        rows.append(("  import scipy.sparse, pandas (s)", t_pd, "s"))
        rows.append(("  import sklearn.base, sklearn.pipeline (s)", t_sk, "s"))
        rows.append(("  read the row (pandas.read_csv) (s)", t_csv, "s"))
        rows.append(("  import skdense (s)", t_sd, "s"))
        rows.append(("  skdense.load (skops, h5py, the NumPy network) (s)", t_load, "s"))
        rows.append(("  predict_proba 1 row (first call) (s)", t_pred, "s"))

    width = max(len(name) for name, _, _ in rows)
    print(f"| {'measure':<{width}} | {'median':>12} | note |")
    print(f"|{'-' * (width + 2)}|{'-' * 14}|------|")
    for name, value, note in rows:
        if "(rows/s)" in name:
            shown = f"{value:,.0f}"
        elif "(s)" in name:
            shown = f"{value:.2f} s"
        else:
            shown = f"{value:.4f} ms"
        note = "" if note in ("s", "rows/s") else note
        print(f"| {name:<{width}} | {shown:>12} | {note} |")


if __name__ == "__main__":
    main()

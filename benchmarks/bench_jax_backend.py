"""Would Keras 3 on JAX reach issue 22's grid-search targets where TensorFlow cannot?

A measurement only: skdense itself keeps running on TensorFlow and depends on
nothing here. The workload is ``bench_grid.py``'s (issue 22): breast_cancer,
standardised 75 % training split, ``hidden_layer_sizes`` {(16,), (32,), (32, 32),
(64,)} x ``alpha`` {1e-4, 1e-3}, 3 folds, 50 epochs, batch 32, no early
stopping, one network, Adam(1e-3), relu, sigmoid/softmax output; then one fit of
(32, 32) at equal work on breast_cancer and digits. Contenders, each in fresh
subprocesses that take turns, round after round (medians over rounds):

* ``keras-jax``: plain Keras 3 (``keras.Sequential`` of ``Dense`` layers with
  ``kernel_regularizer=L2(alpha)``, ``compile(Adam(1e-3), loss)``,
  ``fit(epochs=50, batch_size=32, shuffle=True, verbose=0)``, ``predict``), the
  grid written as a loop over 8 candidates x 3 folds (``StratifiedKFold``, as
  ``GridSearchCV`` splits) plus the refit of the best on all rows, like
  ``GridSearchCV(refit=True)``: 25 fits. ``KERAS_BACKEND=jax``.
* ``keras-tf``: the same code and process structure with ``KERAS_BACKEND=tensorflow``
  (the apples-to-apples backend comparison; this is not skdense's engine).
* ``jax-loop``: the floor of the backend: a hand-written ``jax.jit`` training
  loop (``lax.fori_loop`` over epochs, ``lax.scan`` over padded, masked
  minibatches, Adam written inline, no optax), one compiled function per
  architecture and row count, ``alpha`` a traced argument.
* ``sklearn``: ``GridSearchCV(MLPClassifier(...))`` exactly as in ``bench_grid.py``
  (``max_iter=50, tol=0, n_iter_no_change=50``: every epoch runs).

*cold* is the first grid in a process that has imported the framework but
compiled nothing; *warm* is the same grid again in that process; *one fit* is the
median of ``--fits`` fresh models fitted after a warm-up fit.

JAX lives in a separate virtual environment at the repository root, never as a
skdense dependency (``.venv-jax/`` is git-ignored); TensorFlow and sklearn runs
use the interpreter that runs this script::

    python -m venv .venv-jax && .venv-jax/bin/pip install "jax[cpu]" keras scikit-learn
    python benchmarks/bench_jax_backend.py               # ~20 minutes on 2 cores (--rounds 2: 13)
    python benchmarks/bench_jax_backend.py --quick       # 1 round
    python benchmarks/bench_jax_backend.py --jax-python /path/to/other/venv/bin/python
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, os.pardir))
sys.path.insert(0, HERE)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from bench_grid import ALPHAS, ARCHS, BATCH, EPOCHS, TARGETS, data, estimator, search  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

CANDIDATES = [(h, a) for a in ALPHAS for h in ARCHS]


# --- plain Keras 3 (either backend) -----------------------------------------------------

def keras_fit_predict(hidden, alpha, X, y, X_te, n_classes):
    import keras

    binary = n_classes == 2
    layers = [keras.Input((X.shape[1],))]
    layers += [keras.layers.Dense(h, activation="relu",
                                  kernel_regularizer=keras.regularizers.L2(alpha)) for h in hidden]
    layers.append(keras.layers.Dense(1 if binary else n_classes,
                                     activation="sigmoid" if binary else "softmax",
                                     kernel_regularizer=keras.regularizers.L2(alpha)))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="binary_crossentropy" if binary else "sparse_categorical_crossentropy")
    model.fit(X, y.astype(np.float32) if binary else y, epochs=EPOCHS, batch_size=BATCH,
              verbose=0, shuffle=True)
    if X_te is None:
        return None
    p = model.predict(X_te, verbose=0)
    return (p[:, 0] > 0.5).astype(int) if binary else p.argmax(1)


# --- a hand-written jax.jit loop ----------------------------------------------------------

_JAX_TRAIN = {}


def jax_train_fn(hidden, n_out, n_pad):
    """One compiled function per (architecture, outputs, padded rows); alpha is traced."""
    key_ = (hidden, n_out, n_pad)
    if key_ in _JAX_TRAIN:
        return _JAX_TRAIN[key_]
    import jax
    import jax.numpy as jnp

    n_batches = n_pad // BATCH
    b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-7

    def forward(params, x):
        for w, b in params[:-1]:
            x = jax.nn.relu(x @ w + b)
        w, b = params[-1]
        return x @ w + b

    def loss_fn(params, x, y, m, alpha):
        z = forward(params, x)
        if n_out == 1:
            ll = jnp.sum(jax.nn.softplus(z[:, 0]) - y * z[:, 0], axis=0, where=m)
        else:
            lp = jax.nn.log_softmax(z)
            ll = -jnp.sum(jnp.take_along_axis(lp, y.astype(jnp.int32)[:, None], 1)[:, 0], where=m)
        l2 = sum(jnp.sum(w * w) for w, _ in params)
        return ll / jnp.maximum(m.sum(), 1.0) + alpha * l2

    grad = jax.grad(loss_fn)

    def init(key, n_in):
        params, sizes = [], (n_in, *hidden, n_out)
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            key, sub = jax.random.split(key)
            lim = jnp.sqrt(6.0 / (fan_in + fan_out))
            params.append((jax.random.uniform(sub, (fan_in, fan_out), minval=-lim, maxval=lim),
                           jnp.zeros(fan_out)))
        return params

    @jax.jit
    def train(X, y, n, key, alpha):
        params = init(key, X.shape[1])
        zeros = jax.tree.map(jnp.zeros_like, params)
        rows = jnp.arange(n_pad)

        def epoch(e, carry):
            params, mu, nu, t, key = carry
            key, sub = jax.random.split(key)
            # a permutation of the real rows first, then the padding rows (masked)
            order = jnp.argsort(jnp.where(rows < n, jax.random.uniform(sub, (n_pad,)), 2.0))
            batches = order.reshape(n_batches, BATCH)

            def step(c, idx):
                params, mu, nu, t = c
                g = grad(params, X[idx], y[idx], idx < n, alpha)
                t = t + 1
                mu = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, mu, g)
                nu = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, nu, g)
                lr_t = lr * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                params = jax.tree.map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + eps),
                                      params, mu, nu)
                return (params, mu, nu, t), None

            (params, mu, nu, t), _ = jax.lax.scan(step, (params, mu, nu, t), batches)
            return params, mu, nu, t, key

        params, *_ = jax.lax.fori_loop(0, EPOCHS, epoch, (params, zeros, zeros, 0.0, key))
        return params

    predict = jax.jit(forward)
    _JAX_TRAIN[key_] = (train, predict)
    return train, predict


def jax_fit_predict(hidden, alpha, X, y, X_te, n_classes, seed=0):
    import jax

    n_out = 1 if n_classes == 2 else n_classes
    n = len(X)
    n_pad = -(-n // BATCH) * BATCH
    Xp = np.zeros((n_pad, X.shape[1]), np.float32)
    Xp[:n] = X
    yp = np.zeros(n_pad, np.float32)
    yp[:n] = y
    train, predict = jax_train_fn(tuple(hidden), n_out, n_pad)
    params = train(Xp, yp, n, jax.random.key(seed), np.float32(alpha))
    if X_te is None:
        jax.block_until_ready(params)
        return None
    z = np.asarray(predict(params, X_te))
    return (z[:, 0] > 0).astype(int) if n_out == 1 else z.argmax(1)


# --- the grid and the fits ----------------------------------------------------------------

FIT_PREDICT = {"keras": keras_fit_predict, "jax-loop": jax_fit_predict}


def grid(kind, X, y):
    """GridSearchCV(cv=3, refit=True) written out: 24 fold fits + 1 refit; returns best score."""
    if kind == "sklearn":
        return float(clone(search("sklearn")).fit(X, y).best_score_)
    fit_predict, n_classes = FIT_PREDICT[kind], len(np.unique(y))
    folds = list(StratifiedKFold(3).split(X, y))
    scores = [np.mean([np.mean(fit_predict(h, a, X[tr], y[tr], X[te], n_classes) == y[te])
                       for tr, te in folds]) for h, a in CANDIDATES]
    best = int(np.argmax(scores))
    fit_predict(*CANDIDATES[best], X, y, None, n_classes)
    return float(scores[best])


def one_fit(kind, X, y, repeats):
    if kind == "sklearn":
        def fit():
            clone(estimator("sklearn")).fit(X, y)
    else:
        n_classes = len(np.unique(y))

        def fit():
            FIT_PREDICT[kind]((32, 32), 1e-4, X, y, None, n_classes)
    fit()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def child(kind, searches, fits):
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, y = data()
    if kind == "keras":
        import keras  # noqa: F401  (imports the backend; nothing built or compiled)
    elif kind == "jax-loop":
        import jax  # noqa: F401
    times, score = [], None
    for _ in range(searches):
        t0 = time.perf_counter()
        score = grid(kind, X, y)
        times.append(time.perf_counter() - t0)
    out = {"cold": times[0], "score": score}
    if searches > 1:
        out["warm"] = statistics.median(times[1:])
    for name in ("breast_cancer", "digits") if fits else ():
        out[name] = one_fit(kind, *data(name), fits)
    print(json.dumps(out))


def run_child(python, kind, backend, searches, fits):
    env = dict(os.environ)
    if backend:
        env["KERAS_BACKEND"] = backend
    out = subprocess.run(
        [python, os.path.abspath(__file__), "--child", kind, "--searches", str(searches),
         "--fits", str(fits)], capture_output=True, text=True, env=env)
    if out.returncode:
        sys.exit(f"{kind} ({backend}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def versions(python, backend):
    code = ("import keras, sklearn; v = {'keras': keras.__version__, 'sklearn': sklearn.__version__}\n"
            "try:\n import jax; v['jax'] = jax.__version__\nexcept ImportError: pass\n"
            "try:\n import tensorflow as tf; v['tensorflow'] = tf.__version__\nexcept ImportError: pass\n"
            "print(v)")
    env = dict(os.environ, KERAS_BACKEND=backend)
    return subprocess.run([python, "-c", code], capture_output=True, text=True,
                          env=env).stdout.strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--searches", type=int, default=2, help="grids per process: 1 cold, the rest warm")
    parser.add_argument("--fits", type=int, default=3, help="timed single fits per data set")
    parser.add_argument("--jax-python", default=os.path.join(ROOT, ".venv-jax", "bin", "python"))
    parser.add_argument("--only", nargs="*", help="labels to run (sklearn always runs)")
    parser.add_argument("--child", choices=["keras", "jax-loop", "sklearn"])
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.searches, args.fits)
    if args.quick:
        args.rounds = 1
    who = [("sklearn", sys.executable, "sklearn", None),
           ("keras-jax", args.jax_python, "keras", "jax"),
           ("keras-tf", sys.executable, "keras", "tensorflow"),
           ("jax-loop", args.jax_python, "jax-loop", "jax")]
    if args.only:
        who = [w for w in who if w[0] == "sklearn" or w[0] in args.only]
    print(f"cores {os.cpu_count()}, load {os.getloadavg()[0]:.2f}; {len(CANDIDATES)} candidates x "
          f"3 folds + refit, {EPOCHS} epochs, batch {BATCH}; {args.rounds} rounds of fresh "
          f"processes taking turns, each 1 cold + {args.searches - 1} warm grids; "
          f"{args.fits} fits per data set", flush=True)
    for label, python, _, backend in who:
        print(f"  {label}: {python} {versions(python, backend or 'tensorflow')}", flush=True)
    results = {label: [] for label, *_ in who}
    for r in range(args.rounds):
        for label, python, kind, backend in who:
            res = run_child(python, kind, backend, args.searches, args.fits)
            results[label].append(res)
            print(f"  round {r + 1} {label:<10} " + "  ".join(f"{k} {v:.3f}" for k, v in res.items()),
                  flush=True)

    def med(label, key):
        return statistics.median(res[key] for res in results[label])

    print(f"\nload at the end {os.getloadavg()[0]:.2f} (2 cores shared with other jobs)")
    others = [label for label, *_ in who[1:]]
    print("| measurement | sklearn MLP | " + " | ".join(others) + " | target |")
    print("|---|---:|" + "---:|" * len(others) + "---|")
    meets = {label: [] for label in others}
    for key, what, target in [("cold", "grid cold (25 fits)", TARGETS["cold"]),
                              ("warm", "grid warm", TARGETS["warm"]),
                              ("breast_cancer", "one fit breast_cancer (32, 32)", TARGETS["fit"]),
                              ("digits", "one fit digits (32, 32)", TARGETS["fit"])]:
        sk = med("sklearn", key)
        cells = []
        for label in others:
            v = med(label, key)
            cells.append(f"{v:.3f} s ({v / sk:.2f}x)")
            meets[label].append(f"{key} {'yes' if v / sk <= target else 'no'}")
        print(f"| {what} | {sk:.3f} s | " + " | ".join(cells) + f" | <= {target:.1f}x |")
    print("\nbest CV score: " + ", ".join(f"{label} {med(label, 'score'):.3f}" for label, *_ in who))
    for label in others:
        print(f"{label} meets: " + ", ".join(meets[label]))


if __name__ == "__main__":
    main()

"""Peak memory and disk of loading hostile files (issue 20), each in a fresh process.

Saves a small fitted ``DenseClassifier``, then writes the hostile variants of
issue 20 next to it and loads each in a fresh ``python`` process that imports
skdense first (its baseline), then calls ``skdense.load``. Prints, per file,
its size, what ``load`` raised (or "loaded"), the peak RSS of the process
(``VmHWM``) above the baseline, and the bytes left in the temporary folder:

    PYTHONPATH=. python benchmarks/bench_load_limits.py

The cases (sizes as in the issue): ``wide-string`` (an 84-byte value whose
dtype is ``<U50000000``), ``zip-bomb`` (a 200 MB ``.keras`` entry of zeros,
about 200 KB deflated), ``padded-config`` (the network's ``config.json``
padded to 200 MB), ``asset`` (a 200 MB asset and the entries ``assets/x``
and ``assets/x/y``). Run it with ``PYTHONPATH`` pointing at an older checkout
to measure that one (the code before issue 20 loaded the first three and
left 201 MB on disk for the fourth).
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

MB = 10**6

CHILD = r"""
import os, sys, json
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
import skdense
base = hwm()
try:
    skdense.load(sys.argv[1])
    outcome = "loaded"
except Exception as err:
    outcome = type(err).__name__
print(json.dumps({"outcome": outcome, "grew": hwm() - base, "from": os.path.dirname(skdense.__file__)}))
"""


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(items):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    return buffer.getvalue()


def _with(members, name, data):
    return _zip({**members, name: data}.items())


def cases(saved):
    members = _members(saved)
    record = json.loads(members["estimators/0.json"])
    record["fitted"]["attributes"]["classes_"] = {
        "__ndarray__": {"dtype": "<U50000000", "shape": [5], "data": [""] * 5}}
    network = _members(members["estimators/0.keras"])
    padded = dict(network, **{"config.json": network["config.json"] + b" " * (200 * MB)})
    assets = dict(network, **{"assets/big": b"\0" * (200 * MB), "assets/x": b"x",
                              "assets/x/y": b"y"})
    return {
        "saved (as written)": saved,
        "wide-string": _with(members, "estimators/0.json", json.dumps(record).encode()),
        "zip-bomb": _with(members, "estimators/0.keras", b"\0" * (200 * MB)),
        "padded-config": _with(members, "estimators/0.keras", _zip(padded.items())),
        "asset": _with(members, "estimators/0.keras", _zip(assets.items())),
    }


def main():
    import numpy as np

    from skdense import DenseClassifier, save

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    clf = DenseClassifier((8,), epochs=2, n_ensemble=1, random_state=0).fit(X, X[:, 0] > 0)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as work:
        path = os.path.join(work, "model.skdense")
        save(clf, path)
        with open(path, "rb") as fh:
            saved = fh.read()
        print(f"{'file':>20} {'size':>10} {'load':>26} {'peak RSS grew':>14} {'left in tmp':>12}")
        for name, data in cases(saved).items():
            target = os.path.join(work, f"{name.split()[0]}.skdense")
            with open(target, "wb") as fh:
                fh.write(data)
            tmp = os.path.join(work, f"tmp-{name.split()[0]}")
            os.mkdir(tmp)
            env = dict(os.environ, TMPDIR=tmp)
            out = subprocess.run([sys.executable, "-c", CHILD, target], env=env, cwd=work,
                                 capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            left = sum(os.path.getsize(os.path.join(d, f))
                       for d, _, files in os.walk(tmp) for f in files)
            print(f"{name:>20} {len(data) / 1e3:>8.0f}kB {result['outcome']:>26} "
                  f"{result['grew'] / MB:>11.0f} MB {left / MB:>9.0f} MB", flush=True)
    print(f"the loading processes imported skdense from {result['from']}")


if __name__ == "__main__":
    main()

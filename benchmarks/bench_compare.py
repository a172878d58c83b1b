"""Wall time of ``skdense compare --quick`` for two source trees, run alternately.

Issue 21 asks that measuring what each model costs keeps ``skdense compare
--quick`` within 1.5x of its time before. This times ``python -m skdense compare
--quick --no-progress --output TMP`` with ``PYTHONPATH`` set to each tree in
turn (A, B, A, B, ...: a machine that gets busier slows both alike), ``--repeats``
times each, and prints each run, the medians and the ratio B / A. With
``--learning-curve`` it then times one run of ``--quick --learning-curve`` of
tree B, the extra cost of the curve. Every run writes to its own temporary
folder, removed after.

Tree A is the base: ``--base-tree PATH``, or a ``git worktree`` of ``--base REF``
(default ``main``) checked out in a temporary folder and removed after. Tree B is
``--tree PATH`` (default: the checkout this script is in)::

    python benchmarks/bench_compare.py                        # this tree vs main, 3 each
    python benchmarks/bench_compare.py --base-tree ../skdense-main --repeats 5   # a checkout of the base
    python benchmarks/bench_compare.py --datasets iris wine --repeats 1   # a quick look
    python benchmarks/bench_compare.py --learning-curve

The full default (6 datasets, 3 + 3 runs) takes 6-8 minutes on 2 cores.
"""

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _run(tree, extra, datasets):
    """Seconds of one ``skdense compare --quick`` with ``tree`` first on PYTHONPATH."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tree), *filter(None, [os.environ.get("PYTHONPATH")])]))
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as out:
        cmd = [sys.executable, "-m", "skdense", "compare", "--quick", "--no-progress",
               "--output", os.path.join(out, "run"), *extra]
        if datasets:
            cmd += ["--datasets", *datasets]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=out, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {tree} ({proc.returncode}):\n"
                         f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


@contextlib.contextmanager
def _base_tree(args):
    if args.base_tree:
        yield Path(args.base_tree).resolve()
        return
    folder = Path(tempfile.mkdtemp(prefix="bench-compare-base-"))
    tree = folder / "tree"
    subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(tree), args.base],
                   check=True, capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(tree)],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=str(HERE), help="tree B (default: this checkout)")
    parser.add_argument("--base", default="main", help="git ref of tree A (default main)")
    parser.add_argument("--base-tree", metavar="PATH", help="tree A as a folder (no worktree)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each tree (default 3)")
    parser.add_argument("--datasets", nargs="+", help="built-in datasets (default: all six)")
    parser.add_argument("--learning-curve", action="store_true",
                        help="also time one --quick --learning-curve run of tree B")
    args = parser.parse_args(argv)
    tree_b = Path(args.tree).resolve()
    with _base_tree(args) as tree_a:
        times = {"A": [], "B": []}
        for i in range(args.repeats):
            for name, tree in (("A", tree_a), ("B", tree_b)):
                seconds, _ = _run(tree, [], args.datasets)
                times[name].append(seconds)
                print(f"run {i + 1} {name} ({tree}): {seconds:.1f} s", flush=True)
    a, b = statistics.median(times["A"]), statistics.median(times["B"])
    print(f"median A (base, {tree_a}): {a:.1f} s over {args.repeats} run(s)")
    print(f"median B ({tree_b}): {b:.1f} s over {args.repeats} run(s)")
    print(f"ratio B / A: {b / a:.2f}  (issue 21 asks for at most 1.5)")
    if args.learning_curve:
        seconds, stdout = _run(tree_b, ["--learning-curve"], args.datasets)
        print(f"B with --learning-curve: {seconds:.1f} s ({seconds / b:.2f}x B's median)")
        for line in stdout.splitlines():
            if line.startswith(("learning curve", "  ")) and ("cross" in line or "stays" in line
                                                               or "learning curve" in line):
                print(line)


if __name__ == "__main__":
    main()

"""compare() on a Dask cluster: the same numbers as a local run, and worker loss survived."""

import logging
import os
import signal
import time

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from skdense.compare import compare  # noqa: E402

pytestmark = pytest.mark.slow  # worker processes import TensorFlow: ~1 min in all

KW = dict(datasets=["iris"], models=["linear", "random_forest", "dense"], cv=3, quick=True,
          random_state=7)
COLS = ["dataset", "model", "fold", "seed", "status", "accuracy", "log_loss", "best_params"]


def _tf_intra_threads():
    import sys

    tf = sys.modules.get("tensorflow")
    return None if tf is None else tf.config.threading.get_intra_op_parallelism_threads()


@pytest.fixture(scope="module")
def local():
    return compare(**KW, progress=False).results


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:
        yield client


def test_dask_cluster_gives_the_local_results(local, client):
    address = client.scheduler.address
    r = compare(**KW, scheduler=address, progress=False)  # by address, as the CLI does
    assert r.info["backend"] == "dask"
    pd.testing.assert_frame_equal(r.results[COLS], local[COLS])
    # the Dense jobs ran on the workers, whose TensorFlow loaded with one thread
    threads = client.run(_tf_intra_threads)
    assert any(n is not None for n in threads.values())
    assert {n for n in threads.values() if n is not None} == {1}


def test_killed_worker_is_rescheduled_with_the_same_results(local, client):
    killed = {}

    def kill_a_busy_worker(row):
        # After the first finished job, kill (SIGKILL) a worker that is running one:
        # its task is lost mid-fit and Dask must run it again elsewhere.
        if killed:
            return
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [addr for addr, keys in client.processing().items() if keys]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed["worker"] = busy[0]
                return
            time.sleep(0.05)

    r = compare(**KW, scheduler=client, progress=kill_a_busy_worker)
    assert killed, "no worker was busy after the first job: nothing was killed"
    assert (r.results["status"] == "ok").all()
    pd.testing.assert_frame_equal(r.results[COLS], local[COLS])
    # the nanny restarted the killed worker; the cluster is whole again
    client.wait_for_workers(2, timeout=60)


def test_journal_is_written_by_the_client_as_results_arrive(local, client, tmp_path):
    from skdense.compare import read_journal

    kw = {**KW, "models": ["linear", "random_forest"]}  # no Keras: a few seconds
    expected = local[local["model"].isin(kw["models"])].reset_index(drop=True)[COLS]
    journal = tmp_path / "journal.jsonl"
    seen = []

    def check(row):
        # when a row reaches the client, it is already on disk in the client's journal
        seen.append(len(read_journal(journal).jobs))

    r = compare(**kw, scheduler=client, progress=check, journal=journal)
    assert seen == list(range(1, len(expected) + 1))
    pd.testing.assert_frame_equal(r.results[COLS], expected)
    # and a local rerun with that journal reads everything back: nothing runs again
    again = compare(**kw, progress=seen.append, journal=journal)
    assert len(seen) == len(expected)
    pd.testing.assert_frame_equal(again.results[COLS], expected)


def _search(n_jobs):
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from skdense import DenseClassifier

    X, y = load_iris(return_X_y=True)
    est = DenseClassifier(hidden_layer_sizes=(8,), epochs=5, early_stopping=False, random_state=0)
    grid = {"hidden_layer_sizes": [(8,), (16,)], "learning_rate": [1e-3, 1e-2]}
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    return GridSearchCV(est, grid, cv=cv, n_jobs=n_jobs).fit(X, y)


def test_grid_search_of_skdense_estimators_on_dask_workers(client):
    # docs/compare.md "GridSearchCV on a Dask cluster": joblib's dask backend sends
    # each (candidate, fold) fit to a worker process; the estimators seed
    # themselves (random_state), so where a fit runs does not change its numbers.
    from joblib import parallel_backend

    local = _search(n_jobs=1)
    with parallel_backend("dask"):
        remote = _search(n_jobs=-1)
    ran_on = client.run(lambda: __import__("sys").modules.get("skdense._estimators.base") is not None)
    assert any(ran_on.values()), "no skdense estimator was fitted on a worker"
    assert remote.best_params_ == local.best_params_
    assert [str(p) for p in remote.cv_results_["params"]] == [str(p) for p in
                                                              local.cv_results_["params"]]
    for key in ("split0_test_score", "split1_test_score", "mean_test_score", "rank_test_score"):
        assert list(remote.cv_results_[key]) == list(local.cv_results_[key]), key


def _worker_address(_):
    from distributed import get_worker

    return get_worker().address


def test_a_resource_annotation_sends_joblib_tasks_to_the_gpu_workers():
    # docs/compare.md "One GPU per worker", mixed clusters: workers started with
    # --resources GPU=1 take the tasks submitted under dask.annotate(resources=...).
    # No GPU is needed to check the routing; no TensorFlow either (a few seconds).
    import dask
    import joblib
    from distributed import Client, Nanny, Scheduler
    from distributed.deploy.spec import SpecCluster

    workers = {"cpu": {"cls": Nanny, "options": {"nthreads": 1}},
               "gpu": {"cls": Nanny, "options": {"nthreads": 1, "resources": {"GPU": 1}}}}
    scheduler = {"cls": Scheduler, "options": {"dashboard_address": ":0"}}
    with SpecCluster(workers=workers, scheduler=scheduler, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(2)
        gpu = {a for a, w in client.scheduler_info()["workers"].items() if w.get("resources")}
        with dask.annotate(resources={"GPU": 1}), joblib.parallel_backend("dask"):
            ran = joblib.Parallel(n_jobs=-1)(joblib.delayed(_worker_address)(i) for i in range(8))
        assert len(gpu) == 1 and set(ran) == gpu
        with joblib.parallel_backend("dask"):  # without it, both workers take tasks
            ran = joblib.Parallel(n_jobs=-1)(joblib.delayed(_worker_address)(i) for i in range(8))
        assert set(ran) <= set(client.scheduler_info()["workers"])

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

"""``lossdoctor triage DIR -r --scheduler ADDRESS``: the same sweep on a Dask cluster that the
test starts on this machine (two worker processes), compared row for row with the local one.

Needs the dask extra (``pip install '.[dask]'``); without it the cluster tests skip, unless
``LOSSDOCTOR_REQUIRE_DASK=1`` says the extra must be there (CI), when they fail instead.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Run

LOGS = REPO / "tests" / "data" / "logs"
REQUIRED = os.environ.get("LOSSDOCTOR_REQUIRE_DASK") == "1"


def _need_dask() -> None:
    try:
        import dask.distributed  # noqa: F401
    except ImportError as error:
        if REQUIRED:
            pytest.fail(f"LOSSDOCTOR_REQUIRE_DASK=1 but dask.distributed is missing: {error}")
        pytest.skip("dask[distributed] is not installed: pip install '.[dask]' to run this test")


@pytest.fixture(scope="module")
def cluster_address() -> Iterator[str]:
    """The address of a local Dask cluster: a scheduler and two single-threaded worker
    processes, closed when the module's tests are done."""
    _need_dask()
    from dask.distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep of real fixtures: sample logs, generated ones with TensorBoard and Lightning run
    directories, a README and a corrupt gzip log."""
    root = tmp_path_factory.mktemp("dask-sweep")
    shutil.copytree(LOGS / "sample", root / "sample")
    shutil.copytree(LOGS / "generated", root / "generated")
    for labels in root.rglob("labels.tsv"):
        labels.unlink()
    (root / "notes.txt").write_text("nothing here but words\n")
    (root / "bad.log.gz").write_bytes(gzip.compress(b"loss = 2.0\n" * 300)[:50])
    return root


def test_a_sweep_on_a_dask_cluster_gives_the_rows_of_the_local_sweep(
    run: Run, tree: Path, cluster_address: str
) -> None:
    local = run("triage", str(tree), "-r", "--json", "--jobs", "1")
    remote = run("triage", str(tree), "-r", "--json", "--scheduler", cluster_address)
    assert remote.returncode == local.returncode == 2, remote.stderr  # the corrupt gzip
    rows = [json.loads(line) for line in remote.stdout.splitlines()]
    assert rows == [json.loads(line) for line in local.stdout.splitlines()]
    assert len(rows) > 70 and sum(1 for r in rows if r["error"]) == 1
    assert next(r for r in rows if r["path"] == "bad.log.gz")["error"].startswith("corrupt gzip")
    assert "skipped 1 file with no training log" in remote.stderr
    assert "Traceback" not in remote.stderr


def test_the_table_and_csv_come_out_the_same_way(
    run: Run, tree: Path, cluster_address: str
) -> None:
    local = run("triage", str(tree / "sample"), "-r", "--csv")
    remote = run("triage", str(tree / "sample"), "-r", "--csv", "--scheduler", cluster_address)
    assert remote.returncode == local.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout


def test_an_unreachable_scheduler_is_one_line_and_exit_2(run: Run, tree: Path) -> None:
    _need_dask()
    done = run(
        "triage", str(tree / "sample"), "-r", "--scheduler", "tcp://127.0.0.1:9",
        env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"},
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0], done.stderr
    assert lines[0].startswith("lossdoctor: --scheduler tcp://127.0.0.1:9: ")


def test_without_the_dask_extra_the_scheduler_option_says_how_to_install_it(
    run: Run, tree: Path, tmp_path: Path
) -> None:
    # a Python path on which dask cannot be imported, as in an install without the extra
    blocker = tmp_path / "no-dask"
    (blocker / "dask").mkdir(parents=True)
    (blocker / "dask" / "__init__.py").write_text("raise ImportError('No module named dask')\n")
    done = run(
        "triage", str(tree / "sample"), "-r", "--scheduler", "tcp://127.0.0.1:8786",
        env={"PYTHONPATH": str(blocker)},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "lossdoctor: --scheduler needs the dask extra: pip install 'lossdoctor[dask]'"
    )

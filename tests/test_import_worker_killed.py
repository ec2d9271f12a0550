"""A worker killed while its job writes (SIGKILL: no clean-up of any kind) leaves the
database as it was — the job's one transaction dies with the process — and the next worker,
when it starts, marks the batch failed with a message instead of leaving it "取り込み中"
forever. The worker is a real process on the test's database (a SQLite file, or PostgreSQL).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import reverse

from imports import pipeline, tasks
from imports.models import ImportBatch
from tests import factories
from tests.factories_imports import database_state
from tests.factories_jobs import (
    DATABASE_BACKEND,
    SHARED,
    previewed,
    queue,  # noqa: F401 (fixture)
    run_worker,
    shared_database,  # noqa: F401 (fixture)
)

pytestmark = SHARED

ROOT = Path(__file__).resolve().parent.parent
# The worker, with its first KPI write followed by a hang: the test kills it there.
WORKER = """
import sys, time, pathlib
import django
django.setup()
from kpis import writes
save_kpis = writes.save_kpis
def save_then_hang(*args, **kwargs):
    save_kpis(*args, **kwargs)
    pathlib.Path(sys.argv[1]).touch()
    time.sleep(300)
writes.save_kpis = save_then_hang
from django.core.management import call_command
call_command("import_worker", "--batch", "--no-startup-delay", "--interval", "0")
"""


def worker_process(database_url: str, marker: Path, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "KPI_TASKS_BACKEND": DATABASE_BACKEND["default"]["BACKEND"],
    }
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(marker)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def wait_for(path: Path, process: subprocess.Popen, log: Path, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


@pytest.mark.usefixtures("queue")
def test_a_worker_killed_while_writing_leaves_nothing_and_its_batch_failed(
    shared_database,  # noqa: F811 (the fixture imported above)
    tmp_path,
    client,
    settings,
):
    admin = factories.admin_user()
    batch = previewed(admin)
    client.force_login(admin)
    client.post(reverse("imports:confirm", args=[batch.pk]))
    before = database_state()
    marker, log = tmp_path / "writing", tmp_path / "worker.log"

    worker = worker_process(shared_database, marker, log)
    try:
        wait_for(marker, worker, log)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)

    assert database_state() == before
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.RUNNING  # what the dead job left

    settings.IMPORT_JOB_STALE_SECONDS = 0  # its heartbeat stopped: long enough ago
    run_worker()

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.errors[0]["message"] == tasks.STOPPED
    response = client.get(reverse("imports:progress", args=[batch.pk]), follow=True)
    assert "処理が途中で止まりました" in response.content.decode()
    assert database_state() == before
    # Nothing holds the database: the same file imports now.
    again = pipeline.preview(bytes(ImportBatch.objects.get(pk=batch.pk).content), "kpi.xlsx", admin)
    assert pipeline.commit(again, admin).status == ImportBatch.Status.COMMITTED

"""A second confirm of the same preview — a double click, a second tab, or one arriving
while the first is being written — is refused with a message and never rewrites the batch:
one import, written once. Real concurrency (threads with their own connections) on SQLite
(a file database, WAL, busy timeout) and on PostgreSQL (row locks, lock_timeout)."""

import threading
import time

import pytest
from django.conf import settings
from django.db import DatabaseError, connection
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from imports import pipeline
from imports.models import ImportBatch
from kpis import writes
from kpis.models import Kpi
from tests import factories
from tests.factories_jobs import (
    POSTGRESQL,
    SHARED,
    in_thread,
    previewed,
    queue,  # noqa: F401 (fixture)
    run_worker,
    shared_database,  # noqa: F401 (fixture)
)

pytestmark = SHARED

REFUSED = "はすでに確定されています。この操作では何も変更していません。"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def written_once(batch: ImportBatch) -> bool:
    """The batch is committed, without errors, and its KPI rows were written by one import."""
    batch.refresh_from_db()
    reasons = list(
        Kpi.history.filter(history_change_reason__startswith="取り込み").values_list(
            "history_change_reason", flat=True
        )
    )
    return (
        batch.status == ImportBatch.Status.COMMITTED
        and batch.errors == []
        and reasons.count(batch.change_reason) == Kpi.objects.count() == 4
    )


def paused_in_the_write(monkeypatch):
    """The first KPI write waits (inside the import's transaction) until released."""
    writing, release = threading.Event(), threading.Event()
    save_kpis = writes.save_kpis

    def wait_then_save(*args, **kwargs):
        if not writing.is_set():
            writing.set()
            release.wait(timeout=30)
        return save_kpis(*args, **kwargs)

    monkeypatch.setattr(writes, "save_kpis", wait_then_save)
    return writing, release


@pytest.mark.usefixtures("shared_database", "queue")
def test_two_confirms_at_once_queue_one_import():
    admin = factories.admin_user()
    batch = previewed(admin)
    url = reverse("imports:confirm", args=[batch.pk])
    clients = [logged_in(admin), logged_in(admin)]
    together = threading.Barrier(2)

    def confirm(client):
        together.wait(timeout=10)
        return client.post(url, follow=True).content.decode()

    results = {}
    threads = [in_thread(results, n, lambda c=c: confirm(c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.join(timeout=30)

    pages = [results[0], results[1]]
    assert [REFUSED in page for page in sorted(pages, key=lambda p: REFUSED in p)] == [
        False,
        True,
    ]
    assert DBTaskResult.objects.count() == 1
    run_worker()
    assert written_once(batch)


@pytest.mark.usefixtures("shared_database", "queue")
def test_a_confirm_while_the_job_writes_is_refused_at_once(monkeypatch):
    admin = factories.admin_user()
    batch = previewed(admin)
    client = logged_in(admin)
    url = reverse("imports:confirm", args=[batch.pk])
    client.post(url)
    writing, release = paused_in_the_write(monkeypatch)
    results = {}
    worker = in_thread(results, "worker", run_worker)
    try:
        assert writing.wait(timeout=30)
        stored = ImportBatch.objects.filter(pk=batch.pk).values().get()
        started = time.monotonic()
        page = client.post(url, follow=True).content.decode()
        waited = time.monotonic() - started
        unchanged = ImportBatch.objects.filter(pk=batch.pk).values().get() == stored
    finally:
        release.set()
        worker.join(timeout=30)

    assert REFUSED in page and "取り込み中" in page
    assert waited < settings.DB_LOCK_TIMEOUT  # not held up by the job's lock
    assert unchanged and stored["status"] == ImportBatch.Status.RUNNING
    assert DBTaskResult.objects.count() == 1
    assert written_once(batch)


@pytest.mark.usefixtures("shared_database")
def test_a_commit_that_gave_up_waiting_never_rewrites_the_batch_the_other_wrote(monkeypatch):
    """The bug of issue 15: the second commit's wait for the lock timed out while the first
    was writing; recording that failure after the first had committed turned the committed
    batch into a failed one (its rows said 取り込み #N, the batch said nothing changed)."""
    admin = factories.admin_user()
    batch = previewed(admin)
    writing, release = paused_in_the_write(monkeypatch)
    gave_up = threading.Event()

    def notice_failures(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except DatabaseError:
            gave_up.set()
            raise

    def second_commit():
        with connection.cursor() as cursor:  # wait one second for a lock, not five
            cursor.execute(
                "SET lock_timeout = '1s'" if POSTGRESQL else "PRAGMA busy_timeout = 1000"
            )
        with connection.execute_wrapper(notice_failures):
            return pipeline.commit(ImportBatch.objects.get(pk=batch.pk), admin)

    results = {}
    first = in_thread(
        results, "first", lambda: pipeline.commit(ImportBatch.objects.get(pk=batch.pk), admin)
    )
    try:
        assert writing.wait(timeout=30)
        second = in_thread(results, "second", second_commit)
        assert gave_up.wait(timeout=30)
    finally:
        release.set()
        first.join(timeout=30)
    second.join(timeout=30)

    assert results["first"].status == ImportBatch.Status.COMMITTED
    assert results["second"].status == ImportBatch.Status.COMMITTED  # as the first left it
    assert written_once(batch)

"""Confirming an import queues a job; the worker writes it while the progress page shows
how far it got, then the page moves on to the result (or back to the preview, saying why).
The real queue (django-tasks-db) and worker run here, on SQLite and on PostgreSQL."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from imports import tasks
from imports.models import ImportBatch
from kpis import writes
from kpis.models import Kpi
from tests import factories
from tests.factories_imports import database_state, kpi_row, xlsx
from tests.factories_jobs import (
    SHARED,
    in_thread,
    previewed,
    queue,  # noqa: F401 (fixture)
    run_worker,
    shared_database,  # noqa: F401 (fixture)
)

pytestmark = SHARED

Status = ImportBatch.Status


def confirm(client, batch, **data):
    return client.post(reverse("imports:confirm", args=[batch.pk]), data)


def state(client, batch) -> dict:
    return client.get(reverse("imports:progress_status", args=[batch.pk])).json()


@pytest.mark.usefixtures("shared_database", "queue")
def test_confirm_queues_a_job_that_the_worker_writes(client):
    admin = factories.admin_user()
    client.force_login(admin)
    batch = previewed(admin)
    before = database_state()

    response = confirm(client, batch)

    progress_url = reverse("imports:progress", args=[batch.pk])
    assert response["Location"] == progress_url
    assert database_state() == before  # nothing written in the request
    batch.refresh_from_db()
    assert batch.status == Status.QUEUED
    assert str(DBTaskResult.objects.get().id) == batch.task_id
    page = client.get(progress_url).content.decode()
    assert "処理待ち" in page and "<progress" in page
    assert re.findall(r"<script[^>]*>", page) == [
        '<script src="/static/js/import-progress.js" defer>'
    ]  # no inline script: the CSP allows none
    assert state(client, batch)["finished"] is False

    run_worker()

    batch.refresh_from_db()
    assert batch.status == Status.COMMITTED
    assert Kpi.objects.count() == 4
    assert Kpi.objects.get(indicator__name="既存の指標").actual_text == "99%"
    polled = state(client, batch)
    assert polled["finished"] is True and polled["next"] == progress_url
    assert polled["done"] == polled["total"] == batch.total_changes > 0
    response = client.get(progress_url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("imports:result", args=[batch.pk])
    assert f"取り込み #{batch.pk} を取り込みました" in response.content.decode()


@pytest.mark.usefixtures("shared_database", "queue")
def test_the_progress_page_counts_the_rows_while_the_job_writes(client, monkeypatch, settings):
    settings.IMPORT_JOB_HEARTBEAT_SECONDS = 0.05
    admin = factories.admin_user()
    client.force_login(admin)
    batch = previewed(admin, rows=5)
    confirm(client, batch)
    writing, resume = threading.Event(), threading.Event()
    save_kpis = writes.save_kpis

    def save_kpis_after_a_pause(*args, **kwargs):  # the indicators are written by now
        writing.set()
        resume.wait(timeout=30)
        return save_kpis(*args, **kwargs)

    monkeypatch.setattr(writes, "save_kpis", save_kpis_after_a_pause)
    results = {}
    worker = in_thread(results, "worker", run_worker)
    try:
        assert writing.wait(timeout=30)
        polled = state(client, batch)
        for _ in range(100):  # the next beats carry the rows written so far
            if polled["done"]:
                break
            time.sleep(0.05)
            polled = state(client, batch)
        page = client.get(reverse("imports:progress", args=[batch.pk])).content.decode()
    finally:
        resume.set()
        worker.join(timeout=30)

    assert polled["status"] == Status.RUNNING and polled["label"] == "取り込み中"
    assert polled["stage_label"] == "書き込んでいます"
    assert 0 < polled["done"] < polled["total"]
    assert "取り込み中" in page
    batch.refresh_from_db()
    assert batch.status == Status.COMMITTED
    assert polled["total"] == batch.total_changes


@pytest.mark.usefixtures("shared_database", "queue")
def test_a_job_failing_on_the_database_writes_nothing_and_says_so(client, monkeypatch):
    admin = factories.admin_user()
    client.force_login(admin)
    batch = previewed(admin)
    before = database_state()
    confirm(client, batch)

    def disk_full(*args, **kwargs):
        raise DatabaseError("database or disk is full")

    monkeypatch.setattr(writes, "save_kpis", disk_full)
    run_worker()

    assert database_state() == before
    batch.refresh_from_db()
    assert batch.status == Status.FAILED
    assert "何も変更していません" in batch.errors[0]["message"]
    response = client.get(reverse("imports:progress", args=[batch.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("imports:preview", args=[batch.pk])
    assert "取り込めませんでした（何も変更していません）" in response.content.decode()


def test_new_warnings_found_by_the_job_send_the_batch_back_to_the_preview(client, admin):
    """The job validates the file again; a warning found only then (here the kept file was
    swapped) writes nothing, and the admin confirms again having seen it."""
    client.force_login(admin)
    batch = previewed(admin)
    ImportBatch.objects.filter(pk=batch.pk).update(
        content=xlsx([kpi_row(**{"KPI指標": "既存の指標", "実績": "△2%"})])
    )
    before = database_state()

    response = client.post(reverse("imports:confirm", args=[batch.pk]), follow=True)

    assert database_state() == before
    batch.refresh_from_db()
    assert batch.status == Status.PREVIEWED and batch.warnings
    assert "新しい警告があります" in response.content.decode()


def test_a_file_changing_a_published_plan_needs_its_own_confirmation(client, admin):
    client.force_login(admin)
    batch = previewed(admin)
    plans = ["埼玉支部 令和5年度（公表済）"]
    ImportBatch.objects.filter(pk=batch.pk).update(protected_plans=plans)

    response = client.post(reverse("imports:confirm", args=[batch.pk]), follow=True)

    assert "提出・公表済みの計画（埼玉支部 令和5年度（公表済））を変更する" in (
        response.content.decode()
    )
    batch.refresh_from_db()
    assert batch.status == Status.PREVIEWED and not batch.task_id

    response = confirm(client, batch, confirm_protected="1")

    assert response["Location"] == reverse("imports:result", args=[batch.pk])
    batch.refresh_from_db()
    assert batch.status == Status.COMMITTED


def test_the_sweep_fails_the_batches_of_dead_jobs_only(admin, queue):  # noqa: F811
    now = timezone.now()
    long_ago = now - timedelta(minutes=10)

    def batch_in(status, **fields):
        batch = previewed(admin) if status == Status.PREVIEWED else None
        # Queued for its commit, so previewed: it has a kind (a batch queued for its
        # preview has none yet).
        batch = batch or ImportBatch.objects.create(file_name="x.xlsx", content=b"", kind="kpi")
        ImportBatch.objects.filter(pk=batch.pk).update(status=status, **fields)
        return batch.pk

    dead = batch_in(Status.RUNNING, task_id="dead-job", heartbeat_at=long_ago)
    alive = batch_in(Status.RUNNING, task_id="live-job", heartbeat_at=long_ago)
    tasks.Heartbeat("live-job").beat()  # its thread beats while the write holds the lock
    lost = batch_in(Status.QUEUED, heartbeat_at=long_ago)  # its process died before enqueuing
    waiting = batch_in(Status.QUEUED, heartbeat_at=long_ago)
    task_id = tasks.write_batch.enqueue(waiting, admin.pk, False).id  # a busy worker
    ImportBatch.objects.filter(pk=waiting).update(task_id=task_id)
    committed = batch_in(Status.COMMITTED, task_id="old-job", heartbeat_at=long_ago)
    old_preview = batch_in(Status.PREVIEWED)
    ImportBatch.objects.filter(pk=old_preview).update(created_at=now - timedelta(days=2))

    assert sorted(tasks.sweep()) == sorted([dead, lost])

    status = dict(ImportBatch.objects.values_list("pk", "status"))
    assert [status[pk] for pk in (dead, alive, lost, waiting, committed, old_preview)] == [
        Status.FAILED,
        Status.RUNNING,
        Status.FAILED,
        Status.QUEUED,
        Status.COMMITTED,
        Status.EXPIRED,
    ]
    assert ImportBatch.objects.get(pk=dead).errors[0]["message"] == tasks.STOPPED

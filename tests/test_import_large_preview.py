"""A large upload (above IMPORT_PREVIEW_IN_REQUEST_MAX_BYTES) is previewed by a job: the
upload answers at once with the progress page, which ends on the preview, where the file
is confirmed as any other. A small one is previewed in the request. A preview job that dies
is failed by the worker's sweep with a message. The real queue and worker, on SQLite and
PostgreSQL."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from imports import tasks
from imports.models import ImportBatch
from tests import factories
from tests.factories_imports import database_state, kpi_row, load, xlsx
from tests.factories_jobs import (
    SHARED,
    queue,  # noqa: F401 (fixture)
    run_worker,
    shared_database,  # noqa: F401 (fixture)
)

pytestmark = SHARED

Status = ImportBatch.Status


def upload(client, content: bytes):
    file = SimpleUploadedFile("kpi.xlsx", content)
    return client.post(reverse("imports:upload"), {"file": file})


def workbook() -> bytes:
    """Changes an earlier import's KPI and adds one."""
    load(xlsx([kpi_row(**{"KPI指標": "既存の指標"})]))
    return xlsx(
        [
            kpi_row(**{"KPI指標": "既存の指標", "実績": "99%"}),
            kpi_row(**{"KPI指標": "新しい指標"}),
        ]
    )


EXPECTED = [("埼玉支部 令和5年度 既存の指標", "changed"), ("埼玉支部 令和5年度 新しい指標", "new")]


def kpi_rows(batch) -> list[tuple]:
    """The preview's row-by-row changes of KPIs."""
    return [(row["label"], row["status"]) for row in batch.diff if row["kind"] == "kpi"]


@pytest.mark.usefixtures("shared_database", "queue")
def test_a_small_upload_is_previewed_in_the_request(client):
    client.force_login(factories.admin_user())

    response = upload(client, workbook())

    batch = ImportBatch.objects.order_by("pk").last()
    assert response["Location"] == reverse("imports:preview", args=[batch.pk])
    assert batch.status == Status.PREVIEWED and kpi_rows(batch) == EXPECTED


@pytest.mark.usefixtures("shared_database", "queue")
def test_a_large_upload_is_previewed_by_a_job_then_confirmed(client, settings):
    settings.IMPORT_PREVIEW_IN_REQUEST_MAX_BYTES = 1_000
    admin = factories.admin_user()
    client.force_login(admin)
    content = workbook()
    assert len(content) > 1_000
    before = database_state()

    response = upload(client, content)

    batch = ImportBatch.objects.get(file_name="kpi.xlsx", status=Status.QUEUED)
    progress_url = reverse("imports:progress", args=[batch.pk])
    preview_url = reverse("imports:preview", args=[batch.pk])
    assert response["Location"] == progress_url
    assert batch.counts == [] and batch.diff == []  # not read in the request
    assert client.get(preview_url)["Location"] == progress_url
    page = client.get(progress_url).content.decode()
    assert "処理待ち" in page and "変更点の確認画面に移ります" in page

    run_worker()

    batch.refresh_from_db()
    assert batch.status == Status.PREVIEWED and kpi_rows(batch) == EXPECTED
    assert database_state() == before  # a preview writes nothing
    response = client.get(progress_url, follow=True)
    assert response.redirect_chain[-1][0] == preview_url
    assert "新しい警告があります" not in response.content.decode()

    client.post(reverse("imports:confirm", args=[batch.pk]))
    run_worker()

    batch.refresh_from_db()
    assert batch.status == Status.COMMITTED


@pytest.mark.usefixtures("shared_database", "queue")
def test_a_dead_preview_job_is_failed_by_the_sweep(client, settings):
    settings.IMPORT_PREVIEW_IN_REQUEST_MAX_BYTES = 1_000
    client.force_login(factories.admin_user())
    upload(client, workbook())
    batch = ImportBatch.objects.get(file_name="kpi.xlsx", status=Status.QUEUED)
    # Its worker claimed it and died: no beat since.
    long_ago = timezone.now() - timedelta(minutes=10)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=Status.RUNNING, task_id="dead-job", heartbeat_at=long_ago
    )

    assert tasks.sweep() == [batch.pk]

    batch.refresh_from_db()
    assert batch.status == Status.FAILED
    assert batch.errors[0]["message"] == tasks.PREVIEW_STOPPED
    page = client.get(reverse("imports:progress", args=[batch.pk]), follow=True)
    assert "ファイルの確認の処理が途中で止まりました" in page.content.decode()

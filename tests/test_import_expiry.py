"""Previews expire after a day, or when a later commit covers their branches and years; an
expired preview's file is cleared and it cannot be confirmed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from imports import pipeline
from imports.expiry import expire_previews
from imports.models import ImportBatch
from kpis.models import Kpi
from tests.factories_imports import kpi_row, load, xlsx

pytestmark = pytest.mark.django_db


def preview(admin, **values):
    return pipeline.preview(xlsx([kpi_row(**values)]), "kpi.xlsx", admin)


def test_a_preview_older_than_a_day_expires_and_its_file_is_cleared(admin):
    batch = preview(admin)
    assert batch.scope == [["11", 2023]]

    assert expire_previews(now=timezone.now() + timedelta(hours=23)) == 0
    assert expire_previews(now=timezone.now() + timedelta(days=1, minutes=1)) == 1

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.EXPIRED
    assert bytes(batch.content) == b"" and batch.diff == []


def test_a_later_commit_of_the_same_branch_and_year_supersedes_a_preview(admin):
    older = preview(admin)
    other_branch = preview(admin, **{"支部コード": "12"})
    newer = preview(admin, **{"実績": "97%"})

    pipeline.commit(newer, admin)

    assert expire_previews() == 1
    older.refresh_from_db()
    other_branch.refresh_from_db()
    assert older.status == ImportBatch.Status.EXPIRED
    assert other_branch.status == ImportBatch.Status.PREVIEWED


def test_an_expired_preview_says_so_and_cannot_be_confirmed(client, admin):
    batch = preview(admin)
    ImportBatch.objects.update(created_at=timezone.now() - timedelta(days=2))
    client.force_login(admin)

    client.get(reverse("imports:upload"))  # the upload page sweeps
    page = client.get(reverse("imports:preview", args=[batch.pk])).content.decode()
    client.post(reverse("imports:confirm", args=[batch.pk]))

    assert "この確認画面は期限切れです" in page and "この内容で取り込む" not in page
    assert ImportBatch.objects.get().status == ImportBatch.Status.EXPIRED
    assert not Kpi.objects.exists()


def test_committed_batches_never_expire(admin):
    batch = preview(admin)
    pipeline.commit(batch, admin)

    assert expire_previews(now=timezone.now() + timedelta(days=30)) == 0
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.COMMITTED and bytes(batch.content)


def test_an_import_by_the_command_supersedes_a_preview_too(admin):
    older = preview(admin)

    load(xlsx([kpi_row(**{"実績": "97%"})]))  # manage.py import_workbook's path

    assert expire_previews() == 1
    older.refresh_from_db()
    assert older.status == ImportBatch.Status.EXPIRED

"""An import that fails half way — a database error on a late write — leaves the database
exactly as it was, whichever way it was started."""

from contextlib import ExitStack, contextmanager
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.urls import reverse

from imports import pipeline
from imports.models import ImportBatch
from kpis import bulk, writes
from kpis.models import Kpi
from tests.factories_imports import database_state, kpi_row, load, xlsx

pytestmark = pytest.mark.django_db


def failing_on(model_name):
    """The write path's bulk_create_with_history, raising when it reaches `model_name`
    (after the parents — fiscal year, pillar, indicator, plan, measure — were written by
    imports.applying; KPIs are written by the write path, kpis.writes)."""
    real = writes.bulk_create_with_history

    def bulk_create(objects, model, **kwargs):
        if model.__name__ == model_name:
            raise DatabaseError("disk I/O error")
        return real(objects, model, **kwargs)

    return _all([mock.patch.object(writes, "bulk_create_with_history", side_effect=bulk_create)])


@contextmanager
def _all(patches):
    with ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        yield


@pytest.fixture
def earlier_import(db):
    load(xlsx([kpi_row(**{"KPI指標": "既存の指標"})]))


def new_rows():
    return xlsx(
        [
            kpi_row(**{"KPI指標": "既存の指標", "実績": "99%"}),
            *(kpi_row(**{"支部コード": code, "年度": "2024"}) for code in ("12", "13", "14")),
        ]
    )


def test_service_call(earlier_import):
    before = database_state()
    batches = ImportBatch.objects.count()

    with failing_on("Kpi"), pytest.raises(DatabaseError):
        pipeline.import_file(new_rows(), "kpi.xlsx")

    assert database_state() == before
    assert ImportBatch.objects.count() == batches


def test_failing_update_after_the_creates(earlier_import):
    before = database_state()
    real = bulk.update

    def bulk_update(objects, model, *args, **kwargs):
        raise DatabaseError("deadlock detected")

    # The parents (imports.applying) and the KPIs (kpis.writes) are updated by kpis.bulk.
    with (
        mock.patch.object(bulk, "update", side_effect=bulk_update),
        pytest.raises(DatabaseError),
    ):
        pipeline.import_file(new_rows(), "kpi.xlsx")

    assert database_state() == before
    assert real is bulk.update


def test_confirm_page(client, admin, earlier_import):
    client.force_login(admin)
    client.post(reverse("imports:upload"), {"file": _upload(new_rows())})
    batch = ImportBatch.objects.latest("pk")
    before = database_state()

    with failing_on("Kpi"):
        response = client.post(reverse("imports:confirm", args=[batch.pk]), follow=True)

    assert response.status_code == 200
    assert "何も変更していません" in response.content.decode()
    assert database_state() == before
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert Kpi.objects.count() == 1


def test_command(tmp_path, earlier_import):
    path = tmp_path / "kpi.xlsx"
    path.write_bytes(new_rows())
    before = database_state()

    with failing_on("Kpi"), pytest.raises(CommandError, match="何も変更していません"):
        call_command("import_workbook", str(path))

    assert database_state() == before


def _upload(content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("kpi.xlsx", content)

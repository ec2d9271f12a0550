"""A batch records the rows it created column by column; batches committed before that
recorded one image per row. Both undo, and both are refused after a later change."""

import pytest

from imports import pipeline
from imports.applying import UndoRefused, created_entries, updated_entries
from kpis.models import Kpi, MonthlyValue
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def monthly_batch(db, admin):
    load(xlsx([kpi_row()]))
    return load(
        xlsx([monthly_row(months=["95.3%", "96.5%"])], header=MONTHLY_HEADER, title="月次"),
        user=admin,
    )


def _as_rows_of_images(batch):
    """The record as batches committed before the column form kept it."""
    batch.changes["created"] = created_entries(batch.changes)
    batch.save()


def test_created_rows_are_recorded_column_by_column(monthly_batch):
    record = monthly_batch.changes["created"]["kpis.monthlyvalue"]

    assert record["fields"][:3] == ["kpi_id", "month", "series"]
    assert sorted(row[0] for row in record["rows"]) == sorted(
        MonthlyValue.objects.values_list("pk", flat=True)
    )


@pytest.mark.parametrize("old_form", [False, True])
def test_undo_deletes_the_created_rows_in_either_form(monthly_batch, admin, old_form):
    if old_form:
        _as_rows_of_images(monthly_batch)

    pipeline.undo(monthly_batch, admin)

    assert not MonthlyValue.objects.exists()
    assert Kpi.objects.count() == 1


@pytest.mark.parametrize("old_form", [False, True])
def test_undo_is_refused_after_a_later_change_in_either_form(monthly_batch, admin, old_form):
    if old_form:
        _as_rows_of_images(monthly_batch)
    value = MonthlyValue.objects.get(month=4)
    value.text = "90%"
    value.save()

    with pytest.raises(UndoRefused):
        pipeline.undo(monthly_batch, admin)

    assert MonthlyValue.objects.count() == 2


@pytest.fixture
def update_batch(monthly_batch, admin):
    """A second import that changes 4月 of the first one's values."""
    return load(
        xlsx([monthly_row(months=["90.0%", "96.5%"])], header=MONTHLY_HEADER, title="月次"),
        user=admin,
    )


def test_updated_rows_are_recorded_column_by_column(update_batch):
    record = update_batch.changes["updated"]["kpis.monthlyvalue"]

    text = record["fields"].index("text")
    width = len(record["fields"])
    [row] = record["rows"]
    assert (row[3 + text], row[3 + width + text]) == ("90.0%", "95.3%")  # after, before


@pytest.mark.parametrize("old_form", [False, True])
def test_undo_restores_updated_rows_in_either_form(update_batch, monthly_batch, admin, old_form):
    if old_form:
        entries = updated_entries(update_batch.changes)
        for entry in entries["kpis.monthlyvalue"]:
            del entry["undone_version"]
        update_batch.changes["updated"] = entries
        update_batch.save()

    pipeline.undo(update_batch, admin)
    assert MonthlyValue.objects.get(month=4).text == "95.3%"

    # The first import's undo follows the version the second one's undo left.
    pipeline.undo(monthly_batch, admin)
    assert not MonthlyValue.objects.exists()

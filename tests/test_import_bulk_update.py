"""A monthly re-import updates its values and writes their history in bulk (kpis.bulk): by
primary key, one prepared UPDATE per row or one UPDATE joined to a temporary table (the
faster of the two is used per database), and history rows copied by the database. What it
stores must be what the write path promises: new values, raised versions, one "~" history
row per value with that row's own reason, and an undo that restores the values."""

from decimal import Decimal

import pytest

from imports import pipeline
from imports.applying import created_entries
from kpis import bulk
from kpis.models import MonthlyValue
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db

FIRST = ["95.3%", "96.5%", "97%"]
SECOND = ["95.4%", "△2%", "97%"]  # April changed, May changed with a warning, June the same


def monthly(months) -> bytes:
    return xlsx([monthly_row(months=months)], header=MONTHLY_HEADER, title="月次")


@pytest.fixture(params=["update_each", "update_joined"])
def way(request, monkeypatch):
    """Both ways of updating, whatever the database (each is the chosen one somewhere)."""
    monkeypatch.setattr(bulk, "update", getattr(bulk, request.param))
    return request.param


def test_a_re_import_updates_values_with_one_history_row_each(way, admin):
    load(xlsx([kpi_row()]))
    load(monthly(FIRST), user=admin)

    batch = load(monthly(SECOND), user=admin, confirm_warnings=True)  # △2% is below 0 %

    stored = {v.month: v for v in MonthlyValue.objects.all()}
    assert {m: (v.text, v.value, v.unit, v.version) for m, v in stored.items()} == {
        4: ("95.4%", Decimal("95.4"), "%", 2),
        5: ("△2%", Decimal("-2"), "%", 2),
        6: ("97%", Decimal("97"), "%", 1),
    }
    assert stored[4].updated_by == admin
    for month in (4, 5):
        latest = stored[month].history.first()
        assert latest.history_type == "~"
        assert latest.history_user == admin
        assert (latest.text, latest.value, latest.version) == (
            stored[month].text,
            stored[month].value,
            2,
        )
    warned = "（警告を確認: 率が0%未満です（「△2%」）。）"
    assert stored[4].history.first().history_change_reason == f"取り込み #{batch.pk}"
    assert stored[5].history.first().history_change_reason == f"取り込み #{batch.pk}{warned}"
    assert stored[6].history.count() == 1

    pipeline.undo(batch, admin)

    assert {v.month: v.text for v in MonthlyValue.objects.all()} == dict(
        zip((4, 5, 6), FIRST, strict=True)
    )


def test_new_rows_are_found_by_their_key_when_another_writer_inserted_meanwhile(admin, monkeypatch):
    """New keys are taken in order only when no other row came in with them; otherwise
    each new row is found by KPI, month and series, and the batch records exactly its own."""
    load(xlsx([kpi_row()]))
    load(monthly(FIRST[:1]), user=admin)
    other = MonthlyValue.objects.get()
    other.delete()  # its KPI's April is written again by "another writer" below
    insert_rows = bulk._execute

    def another_writer_in_between(connection, table, fields, rows):
        insert_rows(connection, table, fields, rows[:1])
        MonthlyValue.objects.create(kpi=other.kpi, month=4, series=other.series, text="1%")
        insert_rows(connection, table, fields, rows[1:])

    monkeypatch.setattr(bulk, "_execute", another_writer_in_between)
    batch = load(monthly(["", "96.5%", "97%"]), user=admin)
    monkeypatch.undo()

    recorded = {e["id"] for e in created_entries(batch.changes)["kpis.monthlyvalue"]}
    assert {MonthlyValue.objects.get(pk=pk).month for pk in recorded} == {5, 6}
    for value in MonthlyValue.objects.filter(pk__in=recorded):
        assert value.history.get().history_change_reason == f"取り込み #{batch.pk}"

    pipeline.undo(batch, admin)

    assert list(MonthlyValue.objects.values_list("month", "text")) == [(4, "1%")]

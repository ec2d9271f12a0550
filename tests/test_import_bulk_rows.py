"""The monthly import writes its values and their history in bulk (kpis.bulk), outside
the ORM's save(): what it stores must be exactly what a save would have stored."""

from decimal import Decimal

import pytest

from imports.applying import created_entries
from kpis.models import MonthlyValue
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def kpi(db):
    load(xlsx([kpi_row()]))


MONTHS = ["95.3%", "９６．５％", "95.30%", "", "△2%", "97"]


def test_values_read_back_as_a_save_would_store_them(kpi, admin):
    batch = load(
        xlsx([monthly_row(months=MONTHS)], header=MONTHLY_HEADER, title="月次"),
        user=admin,
        confirm_warnings=True,  # △2% is below 0 %
    )

    stored = {v.month: v for v in MonthlyValue.objects.all()}
    assert {m: (v.text, v.value, v.unit) for m, v in stored.items()} == {
        4: ("95.3%", Decimal("95.3"), "%"),
        5: ("９６．５％", Decimal("96.5"), "%"),
        6: ("95.30%", Decimal("95.3"), "%"),
        8: ("△2%", Decimal("-2"), "%"),
        9: ("97%", Decimal("97"), "%"),  # a bare number takes the indicator's unit
    }
    saved = MonthlyValue(kpi=stored[4].kpi, month=10, series="single", text="95.3%")
    saved.save()
    saved.refresh_from_db()
    assert (saved.value, saved.unit, saved.version) == (stored[4].value, "%", 1)
    assert {v.version for v in stored.values()} == {1}
    assert {v.updated_by for v in stored.values()} == {admin}
    assert len({v.updated_at for v in stored.values()}) == 1
    assert batch.committed_at >= stored[4].updated_at


def test_every_value_has_its_creation_in_the_audit_trail(kpi, admin):
    batch = load(
        xlsx([monthly_row(months=MONTHS)], header=MONTHLY_HEADER, title="月次"),
        user=admin,
        confirm_warnings=True,  # △2% is below 0 %
    )

    for value in MonthlyValue.objects.all():
        (history,) = value.history.all()
        assert history.history_type == "+"
        assert history.history_user == admin
        confirmed = "（警告を確認: 率が0%未満です（「△2%」）。）" if value.month == 8 else ""
        assert history.history_change_reason == f"取り込み #{batch.pk}{confirmed}"
        assert (history.text, history.value, history.unit, history.version) == (
            value.text,
            value.value,
            value.unit,
            1,
        )
        assert abs(history.history_date - value.updated_at).total_seconds() < 60


def test_the_batch_records_the_new_rows_so_that_undo_removes_them(kpi, admin):
    from imports import pipeline

    batch = load(
        xlsx([monthly_row(months=MONTHS)], header=MONTHLY_HEADER, title="月次"),
        user=admin,
        confirm_warnings=True,  # △2% is below 0 %
    )
    created = created_entries(batch.changes)["kpis.monthlyvalue"]
    assert sorted(e["id"] for e in created) == sorted(
        MonthlyValue.objects.values_list("pk", flat=True)
    )

    pipeline.undo(batch, admin)

    assert not MonthlyValue.objects.exists()

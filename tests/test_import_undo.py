"""Undoing a committed import restores exactly what it changed, and refuses when a later
import or a person changed the same rows since."""

import pytest

from imports import pipeline
from imports.models import ImportBatch
from kpis.models import BranchPlan, Comment, Kpi, MonthlyValue
from tests.factories_imports import (
    MONTHLY_HEADER,
    activity_row,
    kpi_row,
    load,
    monthly_row,
    xlsx,
)

pytestmark = pytest.mark.django_db


def live_rows() -> dict:
    """What an import writes, table by table; undo adds history rows and bumps who/when and
    the version of monthly values on purpose, so those are left out."""
    return {
        model.__name__: sorted(map(repr, map(pipeline.snapshot, model.objects.all())))
        for model in pipeline.MODEL_ORDER
    }


def test_undo_of_a_first_import_removes_everything_it_created(admin):
    before = live_rows()
    batch = load(xlsx([kpi_row(), activity_row()]), user=admin)

    pipeline.undo(batch, admin)

    assert live_rows() == before
    batch.refresh_from_db()
    assert (batch.status, batch.undone_by) == (ImportBatch.Status.UNDONE, admin)


def test_undo_restores_the_values_an_import_updated(admin):
    load(xlsx([kpi_row(), activity_row()]))
    before = live_rows()
    batch = load(
        xlsx(
            [
                kpi_row(**{"実績": "90%", "結果": "×"}),
                activity_row("① 書き直した事業内容"),
                kpi_row(**{"KPI指標": "新しい指標"}),
            ]
        ),
        user=admin,
    )
    assert Kpi.objects.get(actual_text="90%").mark == "×"

    pipeline.undo(batch, admin)

    assert live_rows() == before
    kpi = Kpi.objects.get()
    assert kpi.history.first().history_change_reason == f"取り消し #{batch.pk}"


def test_undo_of_a_monthly_import(admin):
    load(xlsx([kpi_row()]))
    monthly = xlsx([monthly_row(months=["95%"])], header=MONTHLY_HEADER, title="月次")
    load(monthly)
    before = live_rows()
    batch = load(
        xlsx([monthly_row(months=["96%", "97%"])], header=MONTHLY_HEADER, title="月次"), user=admin
    )

    pipeline.undo(batch, admin)

    assert live_rows() == before
    assert MonthlyValue.objects.get().text == "95%"


def test_refused_when_a_later_import_changed_the_same_rows(admin):
    first = load(xlsx([kpi_row(**{"実績": "90%"})]))
    second = load(xlsx([kpi_row(**{"実績": "91%"})]))
    before = live_rows()

    with pytest.raises(pipeline.UndoRefused, match="後の取り込みか画面からの入力で変更"):
        pipeline.undo(first, admin)

    assert live_rows() == before
    pipeline.undo(second, admin)
    pipeline.undo(first, admin)  # in reverse order both go
    assert not Kpi.objects.exists()


def test_refused_when_a_person_changed_a_row_since(admin):
    batch = load(xlsx([kpi_row()]))
    kpi = Kpi.objects.get()
    kpi.actual_text = "99%"
    kpi.save()

    with pytest.raises(pipeline.UndoRefused, match="KPI 1件"):
        pipeline.undo(batch, admin)

    assert Kpi.objects.get().actual_text == "99%"


def test_refused_when_rows_were_added_under_rows_it_created(admin):
    batch = load(xlsx([kpi_row()]))
    Comment.objects.create(kpi=Kpi.objects.get(), month=4, body="4月は繁忙期")

    with pytest.raises(pipeline.UndoRefused, match="後から追加されたデータ（コメント 1件）"):
        pipeline.undo(batch, admin)

    assert Kpi.objects.exists() and Comment.objects.exists()


def test_refused_after_the_plan_was_published(admin):
    batch = load(xlsx([kpi_row()]))
    BranchPlan.objects.update(status=BranchPlan.Status.PUBLISHED)

    with pytest.raises(pipeline.UndoRefused):
        pipeline.undo(batch, admin)


def test_a_batch_is_undone_once(admin):
    batch = load(xlsx([kpi_row()]))
    pipeline.undo(batch, admin)

    with pytest.raises(pipeline.UndoRefused, match="取り消し済"):
        pipeline.undo(batch, admin)

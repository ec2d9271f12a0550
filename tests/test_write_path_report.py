"""The write path of the branch's own report (kpis.writes.save_report): measures' 実施状況
and 課題 and activities' marks, written with a history row naming the person and the
channel, refused when a mark is not one or a row changed since its stamp; imports write
those rows' history too, so a form opened before an import finds out."""

import pytest

from imports import applying
from kpis import writes
from kpis.models import Activity, Measure
from tests import factories
from tests.factories_imports import KPI_HEADER, activity_row, kpi_row, load, xlsx

pytestmark = pytest.mark.django_db


def entry(user=None) -> writes.Source:
    return writes.Source(writes.Channel.ENTRY, user)


def stamp(row) -> int:
    return writes.report_stamps(type(row), [row.pk])[row.pk]


@pytest.fixture
def measure():
    measure = factories.MeasureFactory()
    factories.ActivityFactory(measure=measure, number=1)
    return measure


def test_changed_rows_are_written_with_a_history_row_each(measure, staff_11):
    activity = measure.activities.get()
    edits = [
        writes.ReportEdit(measure, {"narrative": "実施した"}, stamp(measure)),
        writes.ReportEdit(activity, {"mark": "○"}, stamp(activity)),
    ]

    written = writes.save_report(edits, entry(staff_11))

    assert written == [measure, activity]
    measure.refresh_from_db()
    activity.refresh_from_db()
    assert (measure.narrative, activity.mark) == ("実施した", "○")
    for row in (measure, activity):
        latest = row.history.latest()
        assert (latest.history_type, latest.history_user) == ("~", staff_11)
        assert latest.history_change_reason == "画面入力"
        assert stamp(row) == latest.history_id


def test_a_row_already_as_typed_is_not_written_again(measure, staff_11):
    rows = measure.history.count()

    written = writes.save_report(
        [writes.ReportEdit(measure, {"narrative": measure.narrative}, stamp(measure))],
        entry(staff_11),
    )

    assert written == [] and measure.history.count() == rows


@pytest.mark.parametrize("mark", ["A", "◯", "○○", "未"])
def test_a_mark_that_is_not_one_refuses_the_whole_write(measure, staff_11, mark):
    activity = measure.activities.get()
    edits = [
        writes.ReportEdit(measure, {"challenges": "課題"}, stamp(measure)),
        writes.ReportEdit(activity, {"mark": mark}, stamp(activity)),
    ]

    with pytest.raises(writes.Refused, match=f"「{mark}」は事業内容の結果に使えません"):
        writes.save_report(edits, entry(staff_11))

    measure.refresh_from_db()
    assert (measure.challenges, measure.activities.get().mark) == ("", "")


def test_a_row_changed_since_its_stamp_refuses_the_whole_write(measure, staff_11, manager_11):
    activity = measure.activities.get()
    seen = stamp(measure), stamp(activity)
    writes.save_report(
        [writes.ReportEdit(measure, {"narrative": "管理者の文章"}, seen[0])], entry(manager_11)
    )
    edits = [
        writes.ReportEdit(measure, {"narrative": "担当者の文章"}, seen[0]),
        writes.ReportEdit(activity, {"mark": "×"}, seen[1]),
    ]

    with pytest.raises(writes.StampMoved) as moved:
        writes.save_report(edits, entry(staff_11))

    assert moved.value.edits == [edits[0]]
    assert moved.value.latest[id(edits[0])].history_user == manager_11
    measure.refresh_from_db()
    assert (measure.narrative, measure.activities.get().mark) == ("管理者の文章", "")


def report_workbook(narrative: str, mark: str) -> bytes:
    header = [*KPI_HEADER, "結果概要", "課題"]
    rows = [
        kpi_row() + [narrative, "未受診者対策"],
        activity_row(施策番号="(2)", 施策="サービス水準の向上", 結果=mark) + ["", ""],
    ]
    return xlsx(rows, header=header)


def test_an_import_writes_the_history_of_measures_and_activities(admin):
    created = load(report_workbook("受診勧奨を実施", "○"), user=admin)
    measure = Measure.objects.get()
    activity = Activity.objects.get()
    for row in (measure, activity):
        latest = row.history.latest()
        assert (latest.history_type, latest.history_user) == ("+", admin)
        assert latest.history_change_reason == f"取り込み #{created.pk}"
    stamps = stamp(measure), stamp(activity)

    updated = load(report_workbook("受診勧奨を2回実施", "◎"), user=admin)

    for row, before in zip((measure, activity), stamps, strict=True):
        latest = row.history.latest()
        assert (latest.history_type, latest.history_change_reason) == (
            "~",
            f"取り込み #{updated.pk}",
        )
        assert stamp(row) == latest.history_id > before
    assert measure.history.latest().narrative == "受診勧奨を2回実施"
    assert activity.history.latest().mark == "◎"

    # A form opened before the import is refused, not written over the import's values.
    with pytest.raises(writes.StampMoved):
        writes.save_report(
            [writes.ReportEdit(measure, {"narrative": "古い画面から"}, stamps[0])], entry(admin)
        )

    applying.undo(updated, admin)
    latest = measure.history.latest()
    assert (latest.narrative, latest.history_change_reason) == (
        "受診勧奨を実施",
        f"取り消し #{updated.pk}",
    )
    assert activity.history.latest().mark == "○"

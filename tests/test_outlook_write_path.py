"""The stored year-end outlook (着地見込み) follows the months through every writer — the
entry grid, the Django admin, an import and its undo — and the KPI's target; council members
read the published outlook, never a draft's."""

import io
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from imports import pipeline
from kpis import snapshots, writes
from kpis.entry import services
from kpis.eras import FISCAL_MONTHS
from kpis.models import BranchPlan, Kpi, MonthlyValue
from kpis.summary import report_measures
from tests import factories_admin as fa
from tests import factories_entry as fe
from tests.factories_imports import MONTHLY_HEADER, kpi_row, load, monthly_row, xlsx
from tests.factories_pages import plan_year

pytestmark = pytest.mark.django_db

ENTRY = writes.Source(writes.Channel.ENTRY)
JULY = date(2023, 7, 5)  # months 4–6 open to staff


def stored(kpi: Kpi) -> tuple:
    kpi.refresh_from_db()
    return kpi.outlook_text, kpi.outlook_mark, kpi.outlook_basis


@pytest.fixture
def visits(db):
    """A sum of single months (件), 115件以上 for the year."""
    return fe.kpi(name="事業所訪問件数", unit="件", aggregation="sum", target_text="115件以上")


def save_cells(user, kpi, cells):
    scope = services.entry_scope(user, kpi.branch, kpi.fiscal_year, None)
    versions = {v.month: v.version for v in MonthlyValue.objects.filter(kpi=kpi)}
    edits = [
        services.CellEdit(kpi, month, text, seen_version=versions.get(month, 0))
        for month, text in cells.items()
    ]
    services.save_cells(scope, edits, today=JULY)


def test_the_entry_grid_stores_the_outlook_without_a_version_or_history(visits, staff_11):
    save_cells(staff_11, visits, {4: "10件", 5: "10件"})
    assert stored(visits) == ("", "", "")  # two months: no outlook yet

    versions, history = visits.version, visits.history.count()
    save_cells(staff_11, visits, {6: "10件"})
    assert stored(visits) == ("120件", "○", "4〜6月の実績の月平均×12か月で推計")
    # Derived from the months, whose own history says what changed.
    assert (visits.version, visits.history.count()) == (versions, history)

    save_cells(staff_11, visits, {6: "40件"})
    assert stored(visits)[:2] == ("240件", "◎")


def test_the_admin_corrects_and_deletes_a_month(visits, client, admin):
    for month in (4, 5, 6):
        fe.value(visits, month, "10件")
    writes.refresh_outlooks([(visits.branch_id, visits.indicator_id, 2023)])
    assert stored(visits)[0] == "120件"
    client.force_login(admin)

    june = MonthlyValue.objects.get(kpi=visits, month=6)
    response = client.post(fa.value_url(june), fa.value_change(june, text="4件"))
    assert response.status_code == 302
    assert stored(visits)[:2] == ("96件", "△")

    response = client.post(f"/admin/kpis/monthlyvalue/{june.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert stored(visits) == ("", "", "")


def test_a_target_changed_moves_the_outlooks_mark(visits):
    for month in (4, 5, 6):
        fe.value(visits, month, "10件")
    writes.refresh_outlooks([(visits.branch_id, visits.indicator_id, 2023)])
    assert stored(visits)[1] == "○"

    visits.target_text = "150件以上"
    writes.save_kpis([visits], ENTRY)
    assert stored(visits)[:2] == ("120件", "△")


def test_last_years_months_shape_this_years_outlook(visits):
    earlier = fe.kpi(name="事業所訪問件数", year=2022, target_text="")
    for month, text in zip(FISCAL_MONTHS, ["5件"] * 6 + ["15件"] * 6, strict=True):
        fe.value(earlier, month, text)
    writes.save_monthly_values(
        [writes.MonthlyEdit(visits, m, "single", "10件", 0) for m in (4, 5, 6)], ENTRY
    )
    # Last year's April–June held 15 of its 120: this year's 30 in them project 240.
    assert stored(visits) == ("240件", "◎", "4〜6月の実績と前年度の月別構成比から推計")

    # Last year's months changed: this year's profile with them.
    april = MonthlyValue.objects.get(kpi=earlier, month=4)
    writes.save_monthly_values(
        [writes.MonthlyEdit(earlier, 4, "single", "20件", 1, row=april)], ENTRY
    )
    assert stored(visits)[0] == "135件"  # April–June now 30 of 135


# --- imports -------------------------------------------------------------------------------


def monthly(rows):
    return xlsx(rows, header=MONTHLY_HEADER, title="月次")


def test_an_import_and_its_undo_recompute_the_outlook(admin):
    load(xlsx([kpi_row(目標="96.5%以上", 実績="")]))
    kpi = Kpi.objects.get()
    batch = load(monthly([monthly_row(months=["97.0%", "97.0%", "97.0%"])]), user=admin)
    assert stored(kpi)[:2] == ("97.0%", "○")

    pipeline.undo(batch, admin)
    assert stored(kpi) == ("", "", "")


def test_undoing_a_kpi_import_after_the_outlook_moved(admin):
    load(xlsx([kpi_row(目標="96.5%以上", 実績="")]))
    kpi = Kpi.objects.get()
    load(monthly([monthly_row(months=["97.0%", "97.0%", "97.0%"])]))
    raised = load(xlsx([kpi_row(目標="99.0%以上", 実績="")]))
    assert stored(kpi)[1] == "△"

    # The outlook is not the import's: it neither blocks the undo nor is restored by it.
    undone = pipeline.undo(raised, admin)
    assert undone.status == "undone"
    assert stored(kpi)[:2] == ("97.0%", "○")


# --- who reads it --------------------------------------------------------------------------

URL = "/branches/11/2023/"


def page(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


def shown(text: str) -> list[tuple[str, str]]:
    """(mark, projected value) of each outlook the page shows."""
    return re.findall(
        r"見込み: <span[^>]*>(.)</span>\s*（着地見込み <span[^>]*>([^<]*)</span>）", text
    )


def step(user, name, reason=""):
    client = Client()
    client.force_login(user)
    assert client.post(f"/entry/11/2023/workflow/{name}/", {"reason": reason}).status_code == 302


def enter(kpi, cells):
    rows = {v.month: v for v in MonthlyValue.objects.filter(kpi=kpi, series="single")}
    edits = [
        writes.MonthlyEdit(kpi, m, "single", text, rows[m].version if m in rows else 0, rows.get(m))
        for m, text in cells.items()
    ]
    writes.save_monthly_values(edits, ENTRY)


def test_council_reads_the_published_outlook_never_a_drafts(admin, council, staff_11, manager_11):
    plan_year("11", 2023, status=BranchPlan.Status.SUBMITTED, measures=1, activities=1, kpis=1)
    kpi = Kpi.objects.get()  # 96.5%以上
    enter(kpi, {4: "97.0%", 5: "97.0%", 6: "97.0%"})
    client = Client()
    client.force_login(council)
    assert client.get(URL).status_code == 404  # a draft's page, outlook and all

    step(admin, "publish")
    assert shown(page(council)) == [("○", "97.0%")]

    step(admin, "reopen", "月次の訂正のため")
    enter(kpi, {6: "80.0%"})
    now = stored(kpi)
    assert now[1] == "△"
    assert shown(page(council)) == [("○", "97.0%")]  # as published
    working = page(staff_11)
    assert shown(working) == [("△", now[0])]
    # What differs from the publication is the month, not the outlook derived from it.
    assert "月次実績 6月（単月）" in working and "着地見込み：" not in working


def test_a_snapshot_carries_the_outlook_as_published(admin):
    plan = plan_year("11", 2023, status=BranchPlan.Status.SUBMITTED, measures=1, kpis=1)
    kpi = Kpi.objects.get()
    enter(kpi, {4: "97.0%", 5: "97.0%", 6: "97.0%"})
    snapshot = snapshots.capture(plan, "results", admin)
    enter(kpi, {6: "80.0%"})

    (shown,) = snapshots.measures_of(snapshot)[0].kpis.all()
    assert (shown.outlook_text, shown.outlook_mark) == ("97.0%", "○")
    changes = snapshots.differences(snapshot, report_measures(plan.branch, plan.fiscal_year))
    labels = [change.label for difference in changes for change in difference.changes]
    assert labels == ["月次実績 6月（単月）"]


def test_a_stored_number_the_column_cannot_hold_is_left_out(visits):
    """Written around the write path (an old version, by hand): the page shows its text only,
    and the outlook is projected from the other months instead of failing the save."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's numeric column refuses such a number when it is written")
    for month in (4, 5, 6):
        fe.value(visits, month, "10件")
    july = fe.value(visits, 7, "11件")
    table = MonthlyValue._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET value = 1e30 WHERE id = %s", [july.pk])
    writes.refresh_outlooks([(visits.branch_id, visits.indicator_id, 2023)])
    assert stored(visits)[0] == "120件"  # April–June


def test_the_demo_shows_outlooks_also_on_data_loaded_before_them():
    call_command("load_demo", stdout=io.StringIO())
    gunma = Kpi.objects.get(
        branch__code="10", fiscal_year__start_year=2023, indicator__name="健康宣言事業所数"
    )
    assert stored(gunma)[1] == "◎"  # 1,200事業所以上, 1,470 by February
    Kpi.objects.update(outlook_value=None, outlook_text="", outlook_mark="", outlook_basis="")

    out = io.StringIO()
    call_command("load_demo", stdout=out)  # nothing to import again
    assert stored(gunma)[1] == "◎"
    assert "着地見込みを更新しました（7件）" in out.getvalue()


def test_the_entry_grid_shows_the_stored_outlook_beside_the_year_to_date(visits, client, staff_11):
    save_cells(staff_11, visits, {4: "10件", 5: "10件"})
    client.force_login(staff_11)
    assert "見込み" not in client.get(fe.grid_url()).content.decode()

    save_cells(staff_11, visits, {6: "10件"})

    html = client.get(fe.grid_url()).content.decode()
    assert (
        '<span class="outlook" title="4〜6月の実績の月平均×12か月で推計">見込み○ 120件</span>'
        in html
    )


def test_an_outlook_beyond_what_the_column_holds_is_left_out(visits):
    """Months near the limit (an order of magnitude written wrong) project a year beyond it:
    the save goes through, with no outlook."""
    for month in (4, 5, 6):
        fe.value(visits, month, "19,999,999,999,999件")

    writes.refresh_outlooks([(visits.branch_id, visits.indicator_id, 2023)])

    assert stored(visits) == ("", "", "")

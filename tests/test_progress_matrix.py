"""Entry progress (入力状況): branches × months of a fiscal year, for head office and a
branch's manager; counts of monthly-reported KPIs entered, deadlines and overdue months,
the plan's state, the last entry, region filter, CSV and xlsx downloads."""

import csv
import datetime
import io

import pytest
from openpyxl import load_workbook

from kpis import progress
from kpis.models import BranchPlan, FiscalYear, MonthlyValue
from tests import factories

pytestmark = pytest.mark.django_db

SINGLE, CUMULATIVE = MonthlyValue.Series.SINGLE, MonthlyValue.Series.CUMULATIVE
# (name, aggregation, reported monthly): three monthly indicators, one yearly.
INDICATORS = [
    ("郵送化率", "cumulative", True),
    ("健康宣言事業所数", "point", True),
    ("意見発信の件数", "sum", True),
    ("特定健診実施率", "cumulative", False),  # head office fills it at year end
]


def branch_year(code: str, year: int, *, deadline_day=10, values=True):
    """A branch's year with the four KPIs; values: April entered in full, May for two of
    the three monthly KPIs, the yearly KPI only at March."""
    fiscal_year = factories.FiscalYearFactory(start_year=year)
    fiscal_year.entry_deadline_day = deadline_day
    fiscal_year.save()
    measure = factories.MeasureFactory(branch=factories.branch(code), fiscal_year=fiscal_year)
    kpis = []
    for name, aggregation, monthly in INDICATORS:
        indicator = factories.IndicatorFactory(
            name=name, aggregation=aggregation, reported_monthly=monthly
        )
        kpis.append(factories.KpiFactory(measure=measure, indicator=indicator))
    if values:
        mailing, declared, opinions, checkups = kpis
        for kpi, series in ((mailing, CUMULATIVE), (declared, SINGLE), (opinions, SINGLE)):
            factories.MonthlyValueFactory(kpi=kpi, month=4, series=series, text="90%")
        factories.MonthlyValueFactory(kpi=mailing, month=5, series=CUMULATIVE, text="91%")
        factories.MonthlyValueFactory(kpi=declared, month=5, series=SINGLE, text="1,200")
        # Neither counts: a cleared cell, and a value in a series the KPI is not entered in.
        factories.MonthlyValueFactory(kpi=opinions, month=5, series=SINGLE, text="")
        factories.MonthlyValueFactory(kpi=mailing, month=6, series=SINGLE, text="3%")
        factories.MonthlyValueFactory(kpi=checkups, month=3, series=CUMULATIVE, text="58%")
    return kpis


def cells(matrix, code):
    row = next(row for row in matrix.rows if row.branch.code == code)
    return {cell.month: cell for cell in row.cells}


def test_counts_monthly_kpis_with_a_value_in_their_series_and_never_yearly_ones():
    branch_year("11", 2023)
    fiscal_year = FiscalYear.objects.get(start_year=2023)

    matrix = progress.progress_matrix(
        fiscal_year, progress.Branch.objects.filter(code="11"), datetime.date(2023, 4, 1)
    )

    by_month = cells(matrix, "11")
    assert by_month[4].text == "3 / 3"
    assert by_month[5].text == "2 / 3"
    assert by_month[6].text == "0 / 3"
    assert by_month[3].text == "0 / 3"  # the yearly KPI's value counts nowhere


def test_a_month_is_overdue_once_its_deadline_passed_and_it_is_not_complete():
    branch_year("11", 2023)
    fiscal_year = FiscalYear.objects.get(start_year=2023)
    branches = progress.Branch.objects.filter(code="11")

    # 15 June: April (due 10 May) complete, May (due 10 June) not, June not due yet.
    by_month = cells(
        progress.progress_matrix(fiscal_year, branches, datetime.date(2023, 6, 15)), "11"
    )
    assert [by_month[m].overdue for m in (4, 5, 6)] == [False, True, False]
    # On the deadline day itself May is still open.
    on_the_day = progress.progress_matrix(fiscal_year, branches, datetime.date(2023, 6, 10))
    assert not cells(on_the_day, "11")[5].overdue


def test_no_deadline_no_overdue():
    branch_year("11", 2023, deadline_day=None)
    fiscal_year = FiscalYear.objects.get(start_year=2023)

    matrix = progress.progress_matrix(
        fiscal_year, progress.Branch.objects.filter(code="11"), datetime.date(2030, 1, 1)
    )

    assert not any(cell.overdue for cell in matrix.rows[0].cells)
    assert matrix.months[0] == (4, None)


def test_page_shows_counts_deadlines_overdue_in_words_state_last_entry_and_grid_links(
    client, admin, staff_11
):
    kpis = branch_year("11", 2023)
    MonthlyValue.objects.filter(kpi=kpis[0], month=5).update(updated_by=staff_11)
    MonthlyValue.objects.filter(kpi=kpis[0], month=5).update(
        updated_at=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)
    )
    BranchPlan.objects.create(
        branch=kpis[0].branch, fiscal_year=kpis[0].fiscal_year, status=BranchPlan.Status.SUBMITTED
    )
    client.force_login(admin)

    html = client.get("/progress/?year=2023").content.decode()

    row = html[html.index("埼玉支部") :]
    row = row[: row.index("</tr>")]
    assert "3 / 3" in row and "2 / 3" in row
    assert "締切超過" in row  # 2023's deadlines have passed: May onwards are overdue in words
    assert row.count("締切超過") == 11
    assert "提出済" in row
    assert "staff11" in row
    assert "/entry/11/2023/" in html
    assert "締切 5/10" in html  # April's deadline in its heading


def test_region_filter(client, admin):
    branch_year("11", 2023)
    branch_year("01", 2023)
    client.force_login(admin)

    html = client.get("/progress/?year=2023&region=kanto").content.decode()

    assert "埼玉支部" in html and "北海道支部" not in html
    assert "北海道支部" in client.get("/progress/?year=2023").content.decode()


def test_council_is_refused_in_japanese(client, council):
    branch_year("11", 2023)
    client.force_login(council)

    response = client.get("/progress/?year=2023")

    assert response.status_code == 403
    assert "入力状況は本部管理者と支部の管理者（自支部のみ）が閲覧できます。" in (
        response.content.decode()
    )


def test_default_year_is_the_newest_open_year(client, admin):
    branch_year("11", 2023)
    branch_year("11", 2024)
    FiscalYear.objects.filter(start_year=2024).update(status=FiscalYear.Status.PLANNING)
    client.force_login(admin)

    response = client.get("/progress/")

    assert response.context["fiscal_year"].start_year == 2023


def test_csv_download_is_the_matrix(client, admin):
    branch_year("11", 2023)
    client.force_login(admin)

    response = client.get("/progress/?year=2023&region=kanto&export=csv")

    assert response["Content-Type"].startswith("text/csv")
    assert "entry-progress-2023.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, saitama = rows[0], next(r for r in rows if r[1] == "埼玉支部")
    assert header[4:7] == ["4月（締切 5/10）", "5月（締切 6/10）", "6月（締切 7/10）"]
    assert saitama[:7] == [
        "11",
        "埼玉支部",
        "関東",
        "作成中",
        "3 / 3",
        "2 / 3 締切超過",
        "0 / 3 締切超過",
    ]
    assert saitama[header.index("締切超過の月数")] == "11"
    assert all(row[2] == "関東" for row in rows[1:])


def test_xlsx_download_is_the_same_matrix(client, admin):
    branch_year("11", 2023)
    client.force_login(admin)

    csv_rows = list(
        csv.reader(
            io.StringIO(client.get("/progress/?year=2023&export=csv").content.decode("utf-8-sig"))
        )
    )
    response = client.get("/progress/?year=2023&export=xlsx")

    sheet = load_workbook(io.BytesIO(response.content)).active
    cells_ = [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert sheet.title == "入力状況"
    assert cells_ == csv_rows


def _world(branches: int, years: int):
    for code in ("11", "12", "13", "14", "01")[:branches]:
        for year in range(2023, 2023 + years):
            branch_year(code, year)
            BranchPlan.objects.get_or_create(
                branch=factories.branch(code), fiscal_year=FiscalYear.objects.get(start_year=year)
            )


@pytest.mark.parametrize(("branches", "years"), [(2, 1), (5, 2)])
def test_query_count_is_constant(
    client, admin, manager_11, django_assert_num_queries, branches, years
):
    _world(branches, years)
    # session, user, groups, membership; years; branches, totals, entered, plans, last entries
    for user, url, queries in (
        (admin, "/progress/?year=2023", 10),
        (admin, "/progress/?year=2023&export=csv", 9),
        (admin, "/progress/?year=2023&export=xlsx", 9),
        (manager_11, "/progress/?year=2023", 11),
    ):
        client.force_login(user)
        with django_assert_num_queries(queries, info=f"{url} as {user.username}"):
            assert client.get(url).status_code == 200

"""Branch and fiscal-year cells as people write them."""

import pytest

from kpis.eras import parse_fiscal_year
from kpis.models import Kpi
from tests.factories_imports import kpi_row, load, problems, xlsx

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "written",
    ["熊本", "熊本支部", "熊本県", "43", "043", "全国健康保険協会熊本支部", "43 熊本支部"],
)
def test_branch_cells(written):
    load(xlsx([kpi_row(支部コード=written)]))

    assert Kpi.objects.get().branch.code == "43"


def test_a_code_and_a_name_of_different_branches_are_refused():
    assert problems(xlsx([kpi_row(支部コード="43 埼玉支部")])) == [
        "KPI!A2: 支部「43 埼玉支部」が見つかりません"
        "（支部コード 01〜47 か、埼玉・埼玉支部のような支部名）"
    ]


@pytest.mark.parametrize(
    "written",
    [
        "令和元年度",
        "平成31年度",
        "H31",
        "R1",
        "2019",
        "2019年度",
        "令和元年度（2019年度）",
        "H31/R1",
    ],
)
def test_year_cells(written):
    load(xlsx([kpi_row(年度=written)]))

    assert Kpi.objects.get().fiscal_year.start_year == 2019


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("令和6年度（2024年度）", 2024),
        ("2024（令和6）年度", 2024),
        ("令和6(2024)年度", 2024),
        ("平成31年度/令和元年度", 2019),
        ("令和6年度（2023年度）", None),
    ],
)
def test_both_names_of_a_year_are_read_when_they_agree(text, year):
    assert parse_fiscal_year(text) == year

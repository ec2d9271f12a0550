import pytest

from kpis.eras import era_label, parse_fiscal_year
from tests.factories import FiscalYearFactory


@pytest.mark.parametrize(
    ("year", "label"),
    [
        (2023, "令和5年度"),
        (2024, "令和6年度"),
        (2020, "令和2年度"),
        (2019, "令和元年度"),
        (2018, "平成30年度"),
        (1989, "平成元年度"),
        (1988, "昭和63年度"),
    ],
)
def test_era_label(year, label):
    assert era_label(year) == label


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2023", 2023),
        (2023, 2023),
        (2023.0, 2023),
        ("FY2023", 2023),
        ("fy2023", 2023),
        ("２０２３年度", 2023),
        ("令和5年度", 2023),
        ("令和５年度", 2023),
        ("R5", 2023),
        ("r5", 2023),
        ("令和元年度", 2019),
        ("令和1年度", 2019),
        ("平成31年度", 2019),
        ("平成30年度", 2018),
        ("H30", 2018),
        (" 令和6年度 ", 2024),
    ],
)
def test_parse_fiscal_year(text, year):
    assert parse_fiscal_year(text) == year


@pytest.mark.parametrize(
    "text", ["", None, "令和", "平成32年度", "令和0年度", "1800", "2023年4月1日", "abc", 12]
)
def test_parse_fiscal_year_refuses_impossible_years(text):
    assert parse_fiscal_year(text) is None


@pytest.mark.django_db
def test_fiscal_year_runs_april_to_march():
    year = FiscalYearFactory(start_year=2023)
    assert year.label == "令和5年度 (2023)"
    assert year.months == (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)
    assert year.calendar_year(4) == 2023
    assert year.calendar_year(3) == 2024

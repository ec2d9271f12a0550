"""A sheet holds at most KPI_IMPORT_MAX_ROWS (10,000) rows with values, the header
included: a sheet filled down to row 10,000 is read, one more row is refused by name,
in a workbook and in a CSV alike."""

import io

import pytest
from django.conf import settings
from openpyxl import Workbook

from imports import reading
from tests.factories_imports import KPI_HEADER, assert_refused

pytestmark = pytest.mark.django_db

LIMIT = 10_000


def rows(count: int) -> list[list[str]]:
    """The header and `count` - 1 rows under it."""
    return [KPI_HEADER] + [["11", "2023", f"行{n}"] for n in range(2, count + 1)]


def workbook(count: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("KPI")
    for row in rows(count):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv(count: int) -> bytes:
    return "\r\n".join(",".join(row) for row in rows(count)).encode("utf-8")


BUILDERS = [("kpi.xlsx", workbook), ("kpi.csv", csv)]


def test_the_default_limit_is_ten_thousand_rows():
    assert settings.IMPORT_MAX_ROWS == LIMIT


@pytest.mark.parametrize(("name", "build"), BUILDERS, ids=["xlsx", "csv"])
def test_a_sheet_of_exactly_the_limit_is_read(name, build):
    sheet = reading.read_workbook(build(LIMIT), name).sheets[0]

    assert len(sheet.rows) == LIMIT
    assert sheet.rows[-1] == (LIMIT, ("11", "2023", f"行{LIMIT}"))


@pytest.mark.parametrize(("name", "build"), BUILDERS, ids=["xlsx", "csv"])
def test_one_row_above_the_limit_is_refused_and_nothing_written(name, build):
    sheet_name = "KPI" if name.endswith("xlsx") else name
    assert_refused(
        build(LIMIT + 1),
        name,
        f"シート「{sheet_name}」の行数が上限（10,000行）を超えています。"
        "ファイルを分けて取り込んでください。",
    )

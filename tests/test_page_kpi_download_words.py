"""The KPI table's downloads speak the readers' words — 手動 / 自動判定 for who set a mark,
高いほど良い / 低いほど良い / 定性 for an indicator's direction — not the stored codes, and the
importer reads those words (and the old codes), so a download edited in Excel re-imports."""

import csv
import io

import pytest
from django.db import transaction
from openpyxl import load_workbook

from imports import pipeline
from kpis.models import Indicator, Kpi
from kpis.vocabulary import DIRECTION_LABELS, INDICATOR_LABELS, KPI_LABELS, MARK_SOURCE_LABELS
from tests.factories_imports import database_state, demo, load

pytestmark = pytest.mark.django_db

CODES = {"manual", "computed", "higher", "lower", "qualitative"}


@pytest.fixture(scope="module")
def saitama_plan(django_db_setup, django_db_blocker):
    """埼玉's FY2023 demo file, imported once for the module and rolled back after it (each
    test runs in a savepoint of its own)."""
    with django_db_blocker.unblock(), transaction.atomic():
        load(demo("saitama_2023_kpi.xlsx"), "saitama_2023_kpi.xlsx")
        yield
        transaction.set_rollback(True)


@pytest.fixture
def saitama(client, admin, saitama_plan):
    client.force_login(admin)
    return client


def download(client, export_format: str) -> bytes:
    response = client.get(f"/kpis/?branch=11&export={export_format}")
    assert response.status_code == 200
    return response.content


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def sheet_rows(content: bytes, title: str) -> list[dict]:
    header, *rows = load_workbook(io.BytesIO(content))[title].values
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_downloads_say_who_set_the_mark_and_the_direction_in_words(saitama):
    source = KPI_LABELS["mark_source"]
    words = set(MARK_SOURCE_LABELS.values())
    written = {row[source] for row in csv_rows(download(saitama, "csv"))}
    assert "手動" in written and written <= words

    workbook = download(saitama, "xlsx")
    written = {row[source] for row in sheet_rows(workbook, "KPI")}
    assert "手動" in written and written <= words
    directions = {row[INDICATOR_LABELS["direction"]] for row in sheet_rows(workbook, "指標")}
    assert directions == {"高いほど良い", "低いほど良い", "定性"}
    assert not CODES & {cell for row in sheet_rows(workbook, "KPI") for cell in row.values()}


@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_a_download_reimports_without_changes(saitama, export_format):
    before = database_state()
    analysis = pipeline.analyse(download(saitama, export_format), f"kpi.{export_format}")
    assert analysis.problems == []
    assert not analysis.plan.has_changes, analysis.plan.counts()
    assert database_state() == before


def edited(workbook: bytes, title: str, column: str, row_of, value: str) -> bytes:
    """The workbook with one cell retyped, as a person would in Excel."""
    book = load_workbook(io.BytesIO(workbook))
    sheet = book[title]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row_of({label: cell.value for label, cell in zip(header, row, strict=True)}):
            row[header.index(column)].value = value
            break
    else:
        raise AssertionError("no such row")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("written", [DIRECTION_LABELS["lower"], "lower", "低"])
def test_a_direction_retyped_in_words_or_codes_is_read(saitama, written):
    generics = Indicator.objects.get(name="ジェネリック医薬品使用割合")
    assert generics.direction == "higher"
    workbook = edited(
        download(saitama, "xlsx"),
        "指標",
        INDICATOR_LABELS["direction"],
        lambda row: row[INDICATOR_LABELS["indicator"]] == generics.name,
        written,
    )
    analysis = pipeline.analyse(workbook, "kpi.xlsx")
    assert analysis.problems == []
    (changed,) = analysis.plan.changes[Indicator].update
    assert (changed.name, changed.direction) == (generics.name, "lower")


@pytest.mark.parametrize("written", ["自動", "自動判定", "computed"])
def test_a_mark_retyped_as_automatic_in_words_or_codes_is_read(saitama, written):
    workbook = edited(
        download(saitama, "xlsx"),
        "KPI",
        KPI_LABELS["mark_source"],
        lambda row: row[KPI_LABELS["mark_source"]] == MARK_SOURCE_LABELS["manual"],
        written,
    )
    analysis = pipeline.analyse(workbook, "kpi.xlsx")
    assert analysis.problems == []
    assert [kpi.mark_source for kpi in analysis.plan.changes[Kpi].update] == ["computed"]


def test_an_unknown_word_is_refused_naming_the_words_to_write(saitama):
    workbook = edited(
        download(saitama, "xlsx"),
        "KPI",
        KPI_LABELS["mark_source"],
        lambda row: row[KPI_LABELS["mark_source"]] == MARK_SOURCE_LABELS["manual"],
        "人が決めた",
    )
    (problem,) = [str(p) for p in pipeline.analyse(workbook, "kpi.xlsx").problems]
    assert "結果の根拠「人が決めた」は 手動 か 自動判定 で書いてください" in problem

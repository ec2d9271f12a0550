"""A corpus of bad files: each gets a clear Japanese message naming where the problem is,
and the database is exactly as before (nothing half-written, no batch recorded)."""

import io
import re
import zipfile

import pytest
from django.db import transaction
from openpyxl import Workbook

from imports import pipeline
from tests import factories
from tests.factories_imports import (
    KPI_HEADER,
    MONTHLY_HEADER,
    activity_row,
    assert_refused,
    csv_bytes,
    database_state,
    kpi_row,
    load,
    monthly_row,
    patched_sheet,
    save,
    xlsx,
)

pytestmark = pytest.mark.django_db


def workbook_with(change_sheet) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "KPI"
    sheet.append(KPI_HEADER)
    sheet.append(kpi_row())
    sheet.append(kpi_row(**{"KPI指標": "サービススタンダード達成率", "目標": "100%"}))
    change_sheet(sheet)
    return save(workbook)


def merged(sheet):
    sheet.merge_cells("E2:E3")


def hidden_row(sheet):
    sheet.row_dimensions[3].hidden = True


def formula_without_value(sheet):
    sheet["L2"] = '="96.5%"&"以上"'


def error_value(content: bytes) -> bytes:
    return patched_sheet(
        content,
        lambda xml: re.sub(rb'<c r="M2"[^>]*>.*?</c>', b'<c r="M2" t="e"><v>#DIV/0!</v></c>', xml),
    )


def many_rows(count: int) -> bytes:
    """A sheet of `count` rows, written as XML directly (openpyxl would take minutes)."""

    def rows(xml: bytes) -> bytes:
        body = "".join(
            f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>11</t></is></c>'
            f'<c r="B{n}"><v>2023</v></c><c r="J{n}" t="inlineStr"><is><t>指標{n * 7919 % 100003}'
            f"</t></is></c></row>"
            for n in range(2, count + 2)
        )
        return xml.replace(b"</row></sheetData>", b"</row>" + body.encode() + b"</sheetData>")

    return patched_sheet(xlsx([]), rows)


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * (20 << 20))
    return buffer.getvalue()


def not_a_workbook_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def ods() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office/>")
    return buffer.getvalue()


def both_kinds() -> bytes:
    return xlsx([kpi_row()], extra_sheets=[("月次", [MONTHLY_HEADER, monthly_row(months=["95%"])])])


CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024

CORPUS = [
    ("pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDFのファイルです"),
    ("binary", lambda: bytes(range(256)) * 4, "表計算のファイルではありません"),
    (
        "text named .xlsx",
        lambda: "支部の実績メモ\n4月は速報値です\n".encode(),
        "「bad.xlsx」は名前は Excel のブックですが、中身は文字だけのファイルです",
    ),
    ("empty", lambda: b"", "ファイルが空です"),
    ("undecodable text", lambda: b"abc\x81\x20\xef\xbf,def", "文字コードを判別できません"),
    ("truncated xlsx", lambda: xlsx([kpi_row()])[:2000], "ファイルが壊れているため読めません"),
    ("word document", not_a_workbook_zip, "Excelのブック（.xlsx）ではありません"),
    ("ods", ods, "OpenDocument形式(.ods)は読めません"),
    ("password or xls", lambda: CFB, "パスワード付き、または旧形式(.xls)"),
    ("zip bomb", zip_bomb, "展開後のサイズが大きすぎる"),
    ("100 000 rows", lambda: many_rows(100_000), "行数が上限（10,000行）を超えています"),
    (
        "no header",
        lambda: xlsx([["メモ", "です"]], header=["ただの", "表"]),
        "見出し行が見つかりません",
    ),
    (
        "header without 区分",
        lambda: xlsx([], header=["支部コード", "年度", "KPI指標", "目標", "実績"]),
        "KPI: 1行目はKPIの表の見出しのようですが、「区分」・「施策番号」・「施策」がありません",
    ),
    (
        "doubled column",
        lambda: xlsx([kpi_row() + ["97%"]], header=KPI_HEADER + ["目標"]),
        "KPI: 見出し「目標」が2列あります（L列とS列）",
    ),
    (
        "unknown branch",
        lambda: xlsx([kpi_row(**{"支部コード": "99"})]),
        "KPI!A2: 支部「99」が見つかりません",
    ),
    (
        "impossible year",
        lambda: xlsx([kpi_row(**{"年度": "平成32年度"})]),
        "KPI!B2: 年度「平成32年度」を読めません",
    ),
    (
        "year out of range",
        lambda: xlsx([kpi_row(**{"年度": "令和40年度"})]),
        "KPI!B2: 年度「令和40年度」は範囲外です",
    ),
    (
        "unreadable target",
        lambda: xlsx([kpi_row(), kpi_row(**{"KPI指標": "別の指標", "目標": "96.5%以上以上"})]),
        "KPI!L3: 目標「96.5%以上以上」を読めません",
    ),
    (
        "% target with a 円 actual",
        lambda: xlsx([kpi_row(**{"単位": "", "実績": "8,364円"})]),
        "KPI!M2: 実績「8,364円」の単位（円）が指標の単位（%）と異なります",
    ),
    (
        "duplicated KPI row",
        lambda: xlsx([kpi_row(), kpi_row(**{"目標": "97%以上"})]),
        "KPI!J3: 埼玉支部 令和5年度の「現金給付等の申請に係る郵送化率」が2行目にもあります",
    ),
    (
        "duplicated activity",
        lambda: xlsx([activity_row(), activity_row()]),
        "KPI!I3: 同じ事業内容が2行目にもあります",
    ),
    (
        "rank beyond 47",
        lambda: xlsx([kpi_row(**{"全国順位": "100位"})]),
        "KPI!P2: 全国順位「100位」",
    ),
    ("unknown mark", lambda: xlsx([kpi_row(**{"結果": "良"})]), "KPI!Q2: 結果「良」は ◎ ○ △ × —"),
    (
        "unknown unit",
        lambda: xlsx([kpi_row(**{"単位": "ポイント"})]),
        "KPI!K2: 単位「ポイント」は使えません",
    ),
    (
        "target without indicator",
        lambda: xlsx([activity_row(**{"目標": "90%"})]),
        "KPI!J2: 目標がありますが、KPI指標がありません",
    ),
    ("merged cells", lambda: workbook_with(merged), "KPI!E2: E2:E3 のセルが結合されています"),
    ("hidden row", lambda: workbook_with(hidden_row), "KPI!3行: 非表示の行です"),
    (
        "formula without a stored result",
        lambda: workbook_with(formula_without_value),
        "KPI!L2: 目標の数式の計算結果が保存されていません",
    ),
    (
        "Excel error value",
        lambda: error_value(workbook_with(lambda sheet: None)),
        "KPI!M2: 実績がExcelのエラー値「#DIV/0!」です",
    ),
    ("KPI and monthly sheets together", both_kinds, "別々のファイルに分けて取り込んでください"),
    (
        "unreadable monthly value",
        lambda: xlsx(
            [monthly_row(months=["95.3%", "9５..3%"])], header=MONTHLY_HEADER, title="月次"
        ),
        "月次!F2: 5月「9５..3%」を読めません",
    ),
    (
        "monthly row of an unregistered KPI",
        lambda: xlsx(
            [monthly_row(indicator="未登録の指標", months=["1件"])],
            header=MONTHLY_HEADER,
            title="月次",
        ),
        "月次!C2: KPI指標「未登録の指標」が登録されていません",
    ),
    (
        "CSV with an unknown branch",
        lambda: csv_bytes([kpi_row(**{"支部コード": "東京都庁"})], encoding="cp932"),
        "bad.csv!A2: 支部「東京都庁」が見つかりません",
    ),
]


@pytest.fixture(scope="module")
def existing_rows(django_db_setup, django_db_blocker):
    """Something in the database, so that "unchanged" means something: imported once for
    the module and rolled back after it (each test runs in a savepoint of its own)."""
    with django_db_blocker.unblock(), transaction.atomic():
        load(xlsx([kpi_row(), activity_row()]))
        load(
            xlsx([monthly_row(months=["95.1%"])], header=MONTHLY_HEADER, title="月次"), "月次.xlsx"
        )
        yield
        transaction.set_rollback(True)


@pytest.fixture
def existing_data(db, existing_rows):
    pass


@pytest.mark.parametrize(("case", "build", "message"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_file_is_refused_with_a_clear_message_and_nothing_written(
    existing_data, case, build, message
):
    name = "bad.csv" if case.startswith("CSV") else "bad.xlsx"
    assert_refused(build(), name, message)


def test_the_corpus_is_at_least_twenty_files():
    assert len(CORPUS) >= 20


def test_oversized_file_is_refused_before_reading(settings, existing_data):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    before = database_state()

    batch, analysis = pipeline.import_file(xlsx([kpi_row()] * 50), "big.xlsx")

    assert batch is None
    assert "ファイルが大きすぎます" in str(analysis.problems[0])
    assert database_state() == before


def test_every_error_of_a_file_is_listed_at_once(existing_data):
    content = xlsx(
        [
            kpi_row(**{"支部コード": "99"}),
            kpi_row(**{"KPI指標": "別の指標", "目標": "だいたい96%"}),
            kpi_row(**{"KPI指標": "三つ目", "全国順位": "first"}),
        ]
    )

    texts = [str(p) for p in pipeline.analyse(content, "bad.xlsx").problems]

    assert texts == [
        "KPI!A2: 支部「99」が見つかりません（支部コード 01〜47 か、埼玉・埼玉支部のような支部名）",
        "KPI!L3: 目標「だいたい96%」を読めません",
        "KPI!P4: 全国順位「first」を読めません（1〜47 の順位。20位 か 20）",
    ]


def test_a_unit_mismatch_the_evaluation_finds_is_a_row_error(existing_data):
    """An indicator without a unit: only the evaluation can see % against 円."""
    factories.IndicatorFactory(name="単位のない指標", unit="")
    content = xlsx([kpi_row(**{"KPI指標": "単位のない指標", "単位": "", "実績": "8,364円"})])

    texts = [str(p) for p in pipeline.analyse(content, "bad.xlsx").problems]

    assert texts == ["KPI!M2: 目標の単位（%）と実績の単位（円）が一致しません"]

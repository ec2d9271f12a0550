"""Builders for the import tests: workbooks and CSV files made in memory from rows, and a
fingerprint of every domain table to assert that a failed import wrote nothing."""

import csv
import io
import zipfile
from pathlib import Path

from django.apps import apps
from django.db import connection
from openpyxl import Workbook

from imports import pipeline
from imports.models import ImportBatch

DEMO_DIR = Path(__file__).resolve().parent.parent / "imports" / "demo"

KPI_HEADER = [
    "支部コード",
    "年度",
    "区分",
    "施策番号",
    "施策",
    "担当グループ",
    "重要度",
    "困難度",
    "事業内容",
    "KPI指標",
    "単位",
    "目標",
    "実績",
    "前年度実績",
    "全国平均",
    "全国順位",
    "結果",
    "備考",
]
MONTHLY_HEADER = ["支部コード", "年度", "KPI指標", "系列"] + [
    f"{m}月" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)
]


def kpi_row(**values) -> list:
    """One KPI workbook row (KPI_HEADER order); defaults make a valid 埼玉 FY2023 KPI row."""
    row = {
        "支部コード": "11",
        "年度": "令和5年度",
        "区分": "1 基盤的保険者機能関係",
        "施策番号": "(2)",
        "施策": "サービス水準の向上",
        "担当グループ": "業務G",
        "事業内容": "現金給付等の申請に係る郵送化率を96.5%以上とする",
        "KPI指標": "現金給付等の申請に係る郵送化率",
        "単位": "%",
        "目標": "96.5%以上",
        "実績": "96.5%",
    }
    row.update(values)
    return [row.get(name, "") for name in KPI_HEADER]


def activity_row(text="① 評議会において丁寧な説明をしたうえで議論を行う", **values) -> list:
    return kpi_row(
        **{
            "施策番号": "(1)",
            "施策": "健全な財政運営",
            "事業内容": text,
            "KPI指標": "",
            "単位": "",
            "目標": "",
            "実績": "",
            "結果": "○",
            **values,
        }
    )


def monthly_row(indicator="現金給付等の申請に係る郵送化率", series="単月", months=(), **values):
    row = {"支部コード": "11", "年度": "2023", "KPI指標": indicator, "系列": series}
    row.update(values)
    cells = [row.get(name, "") for name in MONTHLY_HEADER[:4]]
    return cells + list(months) + [""] * (12 - len(months))


def xlsx(rows, header=None, title="KPI", extra_sheets=None) -> bytes:
    """A workbook with one sheet (header + rows) and optional (title, rows) sheets."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(KPI_HEADER if header is None else header)
    for row in rows:
        sheet.append(row)
    for name, other_rows in extra_sheets or []:
        other = workbook.create_sheet(name)
        for row in other_rows:
            other.append(row)
    return save(workbook)


def save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def patched_sheet(content: bytes, change) -> bytes:
    """Rewrite the first sheet's XML of a workbook (for files openpyxl cannot write)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            target.writestr(info.filename, data)
    return buffer.getvalue()


def csv_bytes(rows, header=None, encoding="utf-8-sig") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(KPI_HEADER if header is None else header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def demo(name: str) -> bytes:
    return (DEMO_DIR / name).read_bytes()


def load(content: bytes, name="kpi.xlsx", user=None, *, confirm_warnings=False) -> ImportBatch:
    """Import and expect success: the committed batch."""
    batch, analysis = pipeline.import_file(content, name, user, confirm_warnings=confirm_warnings)
    assert not analysis.problems, [str(p) for p in analysis.problems]
    assert batch is not None, [str(p) for p in analysis.warnings]
    return batch


def problems(content: bytes, name="kpi.xlsx") -> list[str]:
    return [str(p) for p in pipeline.analyse(content, name).problems]


DOMAIN_APPS = ("kpis",)


def database_state() -> dict:
    """Every row of every domain table (and its history), to compare before and after: the
    rows as the database returns them. Through the ORM, compiling the seventeen queries
    took 10 ms (25 on PostgreSQL) of each call, and some tests take it hundreds of times."""
    state = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label in DOMAIN_APPS:
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
                state[model._meta.label] = sorted(map(repr, cursor.fetchall()))
    return state


def assert_refused(content: bytes, name: str, message: str) -> None:
    """The file is refused with `message` among its problems, and nothing is written: not
    a row, not a batch."""
    before = database_state()
    batches = ImportBatch.objects.count()

    batch, analysis = pipeline.import_file(content, name)

    assert batch is None
    texts = [str(problem) for problem in analysis.problems]
    assert any(message in text for text in texts), texts
    assert database_state() == before
    assert ImportBatch.objects.count() == batches

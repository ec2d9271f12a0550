"""The reader parses sheet cells itself (imports.reading._SheetCells) and must read every
cell as openpyxl's read-only mode reads it: the same rows, the same texts (a 95.0% cell
stays "95.0%", a date stays a date), the same error cells. openpyxl is the reference here:
generated workbooks of every cell type and number format, and hand-written XML with what
Excel writes and openpyxl does not (phonetic readings, inline strings, rows and cells
without references, a prefixed namespace)."""

import datetime
import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from imports import reading

FORMATS = ["General", "0", "0.0", "0.00%", "0.0%", "#,##0", "yyyy-mm-dd", "h:mm", "[h]:mm", "@"]
ERRORS = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!"]
TEXTS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")) | st.sampled_from("　１％△◎○"),
    max_size=12,
)
VALUES = st.one_of(
    TEXTS,
    st.integers(-(10**12), 10**12),
    st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(ERRORS),
    st.datetimes(datetime.datetime(1950, 1, 1), datetime.datetime(2090, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.dates(datetime.date(1950, 1, 1), datetime.date(2090, 1, 1)),
    st.times().map(lambda t: t.replace(microsecond=0)),
    st.tuples(TEXTS, TEXTS).map(lambda t: CellRichText(t[0], TextBlock(InlineFont(b=True), t[1]))),
    st.just("=1+1"),  # a formula without a stored result: no value
)
CELLS = st.lists(
    st.tuples(
        st.integers(1, 30),  # row
        st.integers(1, 70),  # column: past MAX_COLUMNS too
        VALUES,
        st.sampled_from(FORMATS),
    ),
    max_size=40,
)


def as_openpyxl_reads(content: bytes) -> list[tuple]:
    """(rows, error values) of each sheet, from openpyxl's own read-only cells."""
    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    sheets = []
    for worksheet in workbook.worksheets:
        worksheet.reset_dimensions()
        rows, errors = [], {}
        for number, cells in enumerate(worksheet.iter_rows(max_col=reading.MAX_COLUMNS), 1):
            texts = []
            for column, cell in enumerate(cells, 1):
                if getattr(cell, "value", None) is None:
                    texts.append("")
                elif cell.data_type == "e":
                    errors[(number, column)] = str(cell.value)
                    texts.append("")
                else:
                    texts.append(reading.cell_text(cell.value, cell.number_format))
            if any(texts):
                rows.append((number, reading._trim(texts)))
        sheets.append((rows, errors))
    workbook.close()
    return sheets


def as_read(content: bytes) -> list[tuple]:
    workbook = reading.read_workbook(content, "kpi.xlsx")
    return [(sheet.rows, sheet.error_values) for sheet in workbook.sheets]


def written(cells, epoch=None) -> bytes:
    workbook = Workbook()
    if epoch is not None:
        workbook.epoch = epoch
    sheet = workbook.active
    for row, column, value, number_format in cells:
        cell = sheet.cell(row, column)
        cell.value = value
        cell.number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
_INLINE = re.compile(r'<c ([^>]*)t="inlineStr"([^>]*)><is>(.*?)</is></c>', re.S)


def with_shared_strings(content: bytes) -> bytes:
    """The same workbook with its strings in a shared string table, as Excel saves them
    (openpyxl writes them inline)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    strings = []

    def shared(found):
        strings.append(found[3])
        return f'<c {found[1]}t="s"{found[2]}><v>{len(strings) - 1}</v></c>'

    sheet = _INLINE.sub(shared, source.read(SHEET).decode())
    table = "".join(f"<si>{string}</si>" for string in strings)
    parts = {
        SHEET: sheet,
        "xl/sharedStrings.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{table}</sst>'
        ),
        "[Content_Types].xml": source.read("[Content_Types].xml")
        .decode()
        .replace(
            "</Types>",
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        ),
        "xl/_rels/workbook.xml.rels": source.read("xl/_rels/workbook.xml.rels")
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        ),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, parts.pop(info.filename, None) or source.read(info))
        for name, data in parts.items():
            target.writestr(name, data)
    return buffer.getvalue()


# openpyxl warns of a date-formatted number beyond its dates; both readers make it #VALUE!.
@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CELLS, st.booleans())
def test_generated_workbooks_read_as_openpyxl_reads_them(cells, mac_epoch):
    inline = written(cells, CALENDAR_MAC_1904 if mac_epoch else None)
    shared = with_shared_strings(inline)

    assert as_read(inline) == as_openpyxl_reads(inline)
    assert as_read(shared) == as_read(inline)
    assert as_read(shared) == as_openpyxl_reads(shared)


def test_percentages_dates_and_errors_read_as_people_see_them():
    content = written(
        [
            (1, 1, 0.95, "0.0%"),
            (1, 2, datetime.date(2023, 4, 1), "yyyy-mm-dd"),
            (1, 3, "#DIV/0!", "General"),
            (1, 4, True, "General"),
            (2, 2, 8364.0, "#,##0"),
        ]
    )

    (rows, errors), *_ = as_read(content)

    assert rows == [(1, ("95.0%", "2023-04-01", "", "TRUE")), (2, ("", "8364"))]
    assert errors == {(1, 3): "#DIV/0!"}


def with_sheet_data(rows_xml: str, namespace_prefix: str = "") -> bytes:
    """A workbook whose first sheet's rows are `rows_xml`, optionally with the main
    namespace under a prefix (`x:`), as some programs write it."""
    template = zipfile.ZipFile(io.BytesIO(with_shared_strings(written([(1, 1, "x", "General")]))))
    head, tail = template.read(SHEET).decode().split("<sheetData>")
    tail = tail.split("</sheetData>", 1)[1]
    sheet = f"{head}<sheetData>{rows_xml}</sheetData>{tail}"
    if namespace_prefix:
        p = namespace_prefix
        sheet = sheet.replace("<worksheet xmlns=", f"<{p}:worksheet xmlns:{p}=")
        sheet = sheet.replace("</worksheet>", f"</{p}:worksheet>")
        for name in (
            "sheetPr",
            "outlinePr",
            "pageSetUpPr",
            "dimension",
            "sheetViews",
            "sheetView",
            "selection",
            "sheetFormatPr",
            "sheetData",
            "row",
            "c",
            "v",
            "is",
            "t",
            "r",
            "rPh",
            "rPr",
            "b",
            "pageMargins",
        ):
            sheet = sheet.replace(f"<{name} ", f"<{p}:{name} ").replace(
                f"<{name}>", f"<{p}:{name}>"
            )
            sheet = sheet.replace(f"<{name}/>", f"<{p}:{name}/>").replace(
                f"</{name}>", f"</{p}:{name}>"
            )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in template.infolist():
            data = sheet.encode() if info.filename == SHEET else template.read(info.filename)
            target.writestr(info.filename, data)
    return buffer.getvalue()


EXCEL_XML = (
    # A phonetic reading (furigana) is not part of the text; runs are.
    '<row r="1"><c r="A1" t="inlineStr"><is><t>支部</t>'
    '<rPh sb="0" eb="2"><t>シブ</t></rPh></is></c>'
    '<c r="B1" t="inlineStr"><is><r><rPr><b/></rPr><t>KPI</t></r><r><t xml:space="preserve">'
    " 指標 </t></r></is></c>"
    '<c r="C1" t="inlineStr"><v>7</v></c>'  # an inline string without `is`: blank
    '<c r="D1" t="str"><f>A1</f><v>計算結果</v></c>'
    '<c r="E1" t="b"><v>0</v></c><c r="F1" t="e"><v>#N/A</v></c>'
    '<c r="G1" t="d"><v>2024-03-31T00:00:00</v></c><c r="H1"><v>1E3</v></c>'
    '<c r="I1"><v></v></c><c r="J1" t="inlineStr"><is><t>&amp;&lt;&#x3000;</t></is></c></row>'
    # A row and cells without references follow the ones before them.
    '<row><c><v>1</v></c><c><v>2.50</v></c><c r="E2"><v>3</v></c><c><v>4</v></c></row>'
    '<row r="5" hidden="1"><c r="B5" t="s"><v>0</v></c></row>'
)


def test_cells_excel_writes_read_as_openpyxl_reads_them():
    content = with_sheet_data(EXCEL_XML)

    read = as_read(content)

    assert read == as_openpyxl_reads(content)
    (rows, errors), *_ = read
    assert rows[0] == (
        1,
        ("支部", "KPI 指標", "", "計算結果", "FALSE", "", "2024-03-31", "1000", "", "&<"),
    )
    assert rows[1:] == [(2, ("1", "2.5", "", "", "3", "4")), (5, ("", "x"))]
    assert errors == {(1, 6): "#N/A"}


def test_a_prefixed_main_namespace_reads_the_same():
    plain, prefixed = with_sheet_data(EXCEL_XML), with_sheet_data(EXCEL_XML, "x")
    assert b"<x:row" in prefixed

    assert as_read(prefixed) == as_read(plain) == as_openpyxl_reads(prefixed)

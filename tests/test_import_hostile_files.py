"""Hostile files: bombs, lying zips, macros, external links, DTD tricks, huge and broken
CSVs. Each is refused with a Japanese message saying what is wrong and what to do, and
nothing is written; reading them is bounded in memory and in the work done (rows parsed,
parsers called), never in wall-clock time."""

import functools
import io
import re
import struct
import tracemalloc
import zipfile

import pytest
from django.db import transaction
from openpyxl.worksheet._reader import WorkSheetParser

from imports import pipeline, reading
from tests.factories_imports import (
    KPI_HEADER,
    assert_refused,
    csv_bytes,
    kpi_row,
    load,
    patched_sheet,
    xlsx,
)

pytestmark = pytest.mark.django_db

MB = 1 << 20
SHEET = "xl/worksheets/sheet1.xml"


def rebuilt(content: bytes, change=None, add=()) -> bytes:
    """The workbook with `change(name, data)` applied to each part and `add` parts appended."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(info.filename, data) if change else data)
        for name, data in add:
            target.writestr(name, data)
    return buffer.getvalue()


def streamed_sheet(rows_xml, after_data=True, unreferenced=False) -> bytes:
    """A one-row KPI workbook whose sheet gets the chunks of XML `rows_xml` yields, written
    to the zip as they come (the test never holds the whole sheet in memory). The data row
    comes before them (row 2) or after them, as row 1,048,576, the last of a sheet; with
    `unreferenced`, its first cell has no r= (the XML parser numbers it all the same)."""
    template = xlsx([kpi_row()])
    source = zipfile.ZipFile(io.BytesIO(template))
    head, tail = source.read(SHEET).split(b"</sheetData>")
    head, data_rows = head.split(b'<row r="2"', 1)
    if unreferenced:
        data_rows = data_rows.replace(b'<c r="A2"', b"<c", 1)
    buffer = io.BytesIO()
    # Level 5 packs these repetitive rows as small as the default 6 does, in less than half
    # the time (118 MB of rows: 8.5 MB either way, 0.8 s instead of 2.1 s).
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=5) as target:
        for info in source.infolist():
            if info.filename != SHEET:
                target.writestr(info.filename, source.read(info.filename))
        with target.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(head)
            if after_data:
                sheet.write(b'<row r="2"' + data_rows)
            for chunk in rows_xml:
                sheet.write(chunk)
            if not after_data:
                sheet.write(
                    b'<row r="1048576"' + re.sub(rb'r="([A-Z]+)2"', rb'r="\g<1>1048576"', data_rows)
                )
            sheet.write(b"</sheetData>" + tail)
    return buffer.getvalue()


def styled_rows(count: int, first: int = 3, cells: str = "", chunk: int = 50_000):
    """`count` rows with a style and no value: whole rows formatted (cells="") or cells with
    a border each ("ABCDEF")."""
    row = '<row r="#" spans="1:18" s="1" customFormat="1"/>'
    if cells:
        row = row.replace("/>", ">" + "".join(f'<c r="{c}#" s="1"/>' for c in cells) + "</row>")
    for start in range(first, first + count, chunk):
        stop = min(start + chunk, first + count)
        yield "".join(row.replace("#", str(n)) for n in range(start, stop)).encode()


# --- decompression bombs -----------------------------------------------------------------


@functools.cache  # two tests read it; bytes, so shared as it is
def bomb_across_parts() -> bytes:
    """120 parts of 1 MB each (under the per-part ratio check), 120 MB in all, 200 KB zipped."""
    filler = b"<row/>" * (MB // 6)
    return rebuilt(
        xlsx([kpi_row()]), add=[(f"xl/worksheets/sheet{n}.xml", filler) for n in range(2, 122)]
    )


@functools.cache  # two tests read it; bytes, so shared as it is
def lying_zip(declared: int = 4096, real: int = 200 * MB) -> bytes:
    """The sheet's deflate stream holds `real` bytes; the zip's directory says `declared`."""
    buffer = io.BytesIO()
    template = zipfile.ZipFile(io.BytesIO(xlsx([kpi_row()])))
    sheet_xml = template.read(SHEET)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in template.infolist():
            if info.filename != SHEET:
                target.writestr(info.filename, template.read(info.filename))
        with target.open(SHEET, "w", force_zip64=False) as sheet:
            sheet.write(sheet_xml.replace(b"</worksheet>", b""))
            for _ in range(real // MB):
                sheet.write(b" " * MB)
            sheet.write(b"</worksheet>")
    content = bytearray(buffer.getvalue())
    info = zipfile.ZipFile(io.BytesIO(bytes(content))).getinfo(SHEET)
    struct.pack_into("<I", content, info.header_offset + 22, declared)  # local header
    end = content.rindex(b"PK\x05\x06")  # the end record gives where the directory starts
    directory = struct.unpack_from("<I", content, end + 16)[0]
    while content[directory + 46 : directory + 46 + len(SHEET)] != SHEET.encode():
        directory = content.index(b"PK\x01\x02", directory + 4)
    struct.pack_into("<I", content, directory + 24, declared)  # central directory
    return bytes(content)


# --- parts Excel's own features add ------------------------------------------------------


def external_link() -> bytes:
    """A workbook whose 目標 comes from another workbook, as Excel saves it."""

    def change(name, data):
        if name == "[Content_Types].xml":
            return data.replace(
                b"</Types>",
                b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="'
                b'application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
                b"</Types>",
            )
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(
                b"</Relationships>",
                b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                b'officeDocument/2006/relationships/externalLink" '
                b'Target="externalLinks/externalLink1.xml"/></Relationships>',
            )
        if name == "xl/workbook.xml":
            return data.replace(
                b"</sheets>",
                b'</sheets><externalReferences><externalReference r:id="rId99"/>'
                b"</externalReferences>",
            )
        return data

    link = (
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<externalBook r:id="rId1"><sheetNames><sheetName val="KPI"/></sheetNames>'
        b'<sheetDataSet><sheetData sheetId="0"><row r="2"><cell r="L2"><v>0.965</v>'
        b"</cell></row></sheetData></sheetDataSet></externalBook></externalLink>"
    )
    link_rels = (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/externalLinkPath" Target="file:///C:/KPI/%E5%89%8D%E5%B9%B4%E5%BA%A6.xlsx"'
        b' TargetMode="External"/></Relationships>'
    )
    return rebuilt(
        xlsx([kpi_row()]),
        change,
        add=[
            ("xl/externalLinks/externalLink1.xml", link),
            ("xl/externalLinks/_rels/externalLink1.xml.rels", link_rels),
        ],
    )


MACRO_WORKBOOK = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"


def xlsm(with_vba=True, with_type=True) -> bytes:
    def change(name, data):
        if with_type and name == "[Content_Types].xml":
            return data.replace(
                b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                MACRO_WORKBOOK,
            )
        return data

    vba = [("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))]
    return rebuilt(xlsx([kpi_row()]), change, add=vba if with_vba else [])


MACRO_SHEET = b"application/vnd.ms-excel.macrosheet+xml"


def xlm_macro_sheet(with_part=True, with_type=True) -> bytes:
    """An .xlsx with an Excel 4.0 macro sheet (XLM) beside the KPI sheet, as Excel saves
    「挿入」→「Excel 4.0 マクロ」: no VBA, and the workbook type stays the plain one."""

    def change(name, data):
        if with_type and name == "[Content_Types].xml":
            return data.replace(
                b"</Types>",
                b'<Override PartName="/xl/macrosheets/sheet1.xml" ContentType="'
                + MACRO_SHEET
                + b'"/></Types>',
            )
        if with_part and name == "xl/_rels/workbook.xml.rels":
            return data.replace(
                b"</Relationships>",
                b'<Relationship Id="rId98" Type="http://schemas.microsoft.com/office/2006/'
                b'relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>',
            )
        if with_part and name == "xl/workbook.xml":
            return data.replace(
                b"</sheets>", b'<sheet name="Macro1" sheetId="9" r:id="rId98"/></sheets>'
            )
        return data

    macro = (
        b'<xm:macrosheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><sheetData>'
        b'<row r="1"><c r="A1"><f>EXEC("calc.exe")</f></c></row>'
        b'<row r="2"><c r="A2"><f>HALT()</f></c></row></sheetData></xm:macrosheet>'
    )
    return rebuilt(
        xlsx([kpi_row()]), change, add=[("xl/macrosheets/sheet1.xml", macro)] if with_part else []
    )


# --- XML tricks --------------------------------------------------------------------------

LAUGHS = (
    b'<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
)


def with_doctype(doctype: bytes, part=SHEET, reference=b"&lol9;", encoding="utf-8") -> bytes:
    """`doctype` before the root element of `part`; the sheet's 備考 cell refers to an entity."""

    def change(name, data):
        if name != part:
            return data
        data = data.replace(b'<?xml version="1.0" encoding="UTF-8"?>', b"").replace(
            b"<?xml version='1.0' encoding='UTF-8'?>", b""
        )
        if part == SHEET:
            data = data.replace(
                b"</row></sheetData>",
                b'<c r="R2" t="inlineStr"><is><t>' + reference + b"</t></is></c></row></sheetData>",
                1,
            )
        declaration = f'<?xml version="1.0" encoding="{encoding}"?>'.encode()
        return (declaration.decode() + (doctype + data).decode()).encode(encoding)

    return rebuilt(xlsx([kpi_row()]), change)


def sheet_xml_edit(old: bytes, new: bytes):
    return lambda: patched_sheet(xlsx([kpi_row()]), lambda xml: xml.replace(old, new, 1))


# --- CSV ---------------------------------------------------------------------------------


def csv_with_nul(encoding="utf-8") -> bytes:
    rows = [kpi_row(), kpi_row(**{"KPI指標": "別の指標", "備考": "メモ\x00\x00"})]
    return csv_bytes(rows, encoding=encoding)


def mixed_csv(first="utf-8", then="cp932", bom=False) -> bytes:
    """Header and line 2 in `first`, line 3 in `then`: two exports pasted together."""
    head = csv_bytes([kpi_row()], encoding=first)
    tail = csv_bytes([kpi_row(**{"KPI指標": "別の指標"})], encoding=then).split(b"\r\n", 1)[1]
    return (b"\xef\xbb\xbf" if bom else b"") + head + tail


CORPUS = [
    (
        "bomb: 120 MB across 120 parts",
        "bad.xlsx",
        bomb_across_parts,
        "展開すると120.0MB、上限は100.0MB",
    ),
    ("bomb: zip lies about sizes", "bad.xlsx", lying_zip, "ファイルが壊れているため読めません"),
    ("external link", "bad.xlsx", external_link, "「データ」→「リンクの編集」→「リンクの解除」"),
    ("xlsm", "bad.xlsm", xlsm, "マクロ有効ブック（.xlsm）は取り込めません（マクロは実行されません"),
    ("macro-enabled type only", "bad.xlsx", lambda: xlsm(with_vba=False), "マクロ有効ブック"),
    ("vbaProject.bin only", "bad.xlsx", lambda: xlsm(with_type=False), "マクロ有効ブック"),
    (
        "XLM macro sheet",
        "bad.xlsx",
        xlm_macro_sheet,
        "Excel 4.0 マクロシートを含むブックは取り込めません",
    ),
    ("macro sheet type only", "bad.xlsx", lambda: xlm_macro_sheet(with_part=False), "マクロシート"),
    ("macro sheet part only", "bad.xlsx", lambda: xlm_macro_sheet(with_type=False), "マクロシート"),
    (
        "50 MB",
        "bad.xlsx",
        lambda: b"PK\x03\x04" + bytes(50 * MB - 4),
        "ファイルが大きすぎます（50.0MB）。10.0MB以下",
    ),
    (
        "1,000,000 rows of 3 styled cells (118 MB)",
        "bad.xlsx",
        lambda: streamed_sheet(styled_rows(1_000_000, cells="ABC")),
        "空の行や列に書式だけが設定されていると大きくなります",
    ),
    (
        "unclosed tag",
        "bad.xlsx",
        sheet_xml_edit(b"</sheetData>", b"<row><c><v>1</sheetData>"),
        "ファイルが壊れている",
    ),
    (
        "control character",
        "bad.xlsx",
        sheet_xml_edit(b"<t>11</t>", b"<t>1\x011</t>"),
        "ファイルが壊れている",
    ),
    (
        "invalid UTF-8",
        "bad.xlsx",
        sheet_xml_edit(b"<t>11</t>", b"<t>\xff\xfe</t>"),
        "ファイルが壊れている",
    ),
    (
        "billion laughs",
        "bad.xlsx",
        lambda: with_doctype(LAUGHS),
        "宣言（DOCTYPE）があるため、安全のため読み込みません",
    ),
    (
        "billion laughs in UTF-16",
        "bad.xlsx",
        lambda: with_doctype(LAUGHS, encoding="utf-16"),
        "宣言（DOCTYPE）がある",
    ),
    (
        "billion laughs in the workbook part",
        "bad.xlsx",
        lambda: with_doctype(LAUGHS, part="xl/workbook.xml"),
        "宣言（DOCTYPE）がある",
    ),
    (
        "external entity",
        "bad.xlsx",
        lambda: with_doctype(
            b'<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>', reference=b"&x;"
        ),
        "宣言（DOCTYPE）がある",
    ),
    (
        "CSV with NUL bytes",
        "bad.csv",
        csv_with_nul,
        "3行目に文字ではないデータ（NUL文字）が含まれています",
    ),
    (
        "CSV UTF-8 with BOM and NUL bytes",
        "bad.csv",
        lambda: csv_with_nul("utf-8-sig"),
        "3行目に文字ではないデータ",
    ),
    (
        "CSV UTF-8 then Shift_JIS",
        "bad.csv",
        mixed_csv,
        "3行目の文字コード（Shift_JIS）が他の行（UTF-8）と異なります",
    ),
    (
        "CSV Shift_JIS then UTF-8",
        "bad.csv",
        lambda: mixed_csv("cp932", "utf-8"),
        "3行目の文字コード（UTF-8）が他の行（Shift_JIS）と異なります",
    ),
    (
        "CSV UTF-8 with BOM then Shift_JIS",
        "bad.csv",
        lambda: mixed_csv(bom=True),
        "3行目の文字コード（Shift_JIS）が他の行（UTF-8）と異なります",
    ),
]


@pytest.fixture(scope="module")
def existing_rows(django_db_setup, django_db_blocker):
    """A KPI in the database, imported once for the module and rolled back after it (each
    test runs in a savepoint of its own)."""
    with django_db_blocker.unblock(), transaction.atomic():
        load(xlsx([kpi_row()]))
        yield
        transaction.set_rollback(True)


@pytest.fixture
def existing_data(db, existing_rows):
    pass


@pytest.mark.parametrize(("case", "name", "build", "message"), CORPUS, ids=[c[0] for c in CORPUS])
def test_hostile_file_is_refused_with_a_clear_message_and_nothing_written(
    existing_data, case, name, build, message
):
    assert_refused(build(), name, message)


def peak_while(call) -> tuple[object, int]:
    """What `call()` returns and the most memory it held at once."""
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def never(*args, **kwargs):
    pytest.fail("called on a file that should have been refused before")


def refusal(content: bytes, name="bad.xlsx") -> str:
    try:
        reading.read_workbook(content, name)
    except reading.UnreadableFile as error:
        return str(error)
    raise AssertionError("the file was read")


def test_a_zip_that_lies_about_sizes_is_read_no_further_than_it_declares():
    content = lying_zip()  # 200 MB behind a directory that says 4 KB

    message, peak = peak_while(lambda: refusal(content))

    assert "ファイルが壊れているため読めません" in message
    assert peak < 20 * MB


def test_a_bomb_is_refused_from_the_directory_without_parsing(monkeypatch):
    monkeypatch.setattr(reading, "load_workbook", never)
    content = bomb_across_parts()

    message, peak = peak_while(lambda: refusal(content))

    assert message.startswith("展開後のサイズが大きすぎるため読めません")
    assert peak < 20 * MB


def test_a_50_mb_file_is_refused_before_it_is_opened(monkeypatch):
    monkeypatch.setattr(reading.zipfile, "ZipFile", never)
    monkeypatch.setattr(reading, "load_workbook", never)
    content = b"PK\x03\x04" + bytes(50 * MB - 4)

    message, peak = peak_while(lambda: refusal(content))

    assert message == (
        "ファイルが大きすぎます（50.0MB）。10.0MB以下にするか、ファイルを分けて取り込んでください。"
    )
    assert peak < MB


@pytest.mark.parametrize(
    "doctype",
    [LAUGHS, b'<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'],
    ids=["laughs", "xxe"],
)
def test_a_doctype_is_refused_before_openpyxl_parses_anything(monkeypatch, doctype):
    monkeypatch.setattr(reading, "load_workbook", never)
    content = with_doctype(doctype, reference=b"&lol9;" if doctype is LAUGHS else b"&x;")

    message, peak = peak_while(lambda: refusal(content))

    assert "DOCTYPE" in message
    assert peak < 5 * MB


def test_a_macro_sheet_is_refused_before_the_workbook_is_opened(monkeypatch):
    monkeypatch.setattr(reading, "load_workbook", never)

    message = refusal(xlm_macro_sheet())

    assert message.startswith("Excel 4.0 マクロシートを含むブックは取り込めません")


def test_a_doctype_in_an_image_is_not_a_reason_to_refuse(existing_data):
    """An SVG logo may carry one; images are never parsed as workbook XML."""
    svg = b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd"><svg/>'
    content = rebuilt(xlsx([kpi_row()]), add=[("xl/media/image1.svg", svg)])

    assert load(content) is not None


def rows_parsed(monkeypatch) -> list:
    """Every row whose cells are parsed from sheet XML (by the reader's own parser, or by
    openpyxl for a workbook with formulas), appended as it happens."""
    parsed = []
    start_row = reading._SheetCells._start_row
    parse_row = WorkSheetParser.parse_row

    def counting(self, attributes):
        parsed.append(attributes.get("r"))
        return start_row(self, attributes)

    def openpyxl_counting(self, element):
        parsed.append(element.get("r"))
        return parse_row(self, element)

    monkeypatch.setattr(reading._SheetCells, "_start_row", counting)
    monkeypatch.setattr(WorkSheetParser, "parse_row", openpyxl_counting)
    return parsed


# Formatted rows below the data: what is checked is that none of them is parsed and memory
# stays flat, which 100,000 rows show as well as Excel's 1,048,576, in a tenth of the
# suite's time (the reader's own scan of each row element, under tracemalloc, is the cost).
FORMATTED_ROWS = 100_000


@pytest.mark.parametrize("cells", ["", "A"], ids=["styled rows", "a styled cell per row"])
def test_formatted_rows_below_the_data_are_never_parsed(existing_data, monkeypatch, cells):
    """Whole rows formatted down to the bottom of the sheet, as Excel saves them: the file
    imports its real rows and openpyxl parses only the header and the data row."""
    content = streamed_sheet(styled_rows(FORMATTED_ROWS, cells=cells))
    assert len(content) < 10 * MB
    parsed = rows_parsed(monkeypatch)

    (batch, analysis), peak = peak_while(lambda: pipeline.import_file(content, "kpi.xlsx"))

    assert [str(p) for p in analysis.problems] == []
    assert batch is not None
    assert len(parsed) <= 3  # openpyxl parses one row past the last it is asked for
    assert peak < 40 * MB


@pytest.mark.parametrize("cells", ["", "A"], ids=["styled rows", "a styled cell per row"])
def test_a_cell_without_a_reference_does_not_let_formatted_rows_below_be_parsed(
    existing_data, monkeypatch, cells
):
    """The last value's row is found by counting row elements, not from the cells' r=: a
    data cell without one, then many formatted rows, still costs openpyxl the header and
    the data row only."""
    content = streamed_sheet(styled_rows(FORMATTED_ROWS, cells=cells), unreferenced=True)
    parsed = rows_parsed(monkeypatch)

    (batch, analysis), peak = peak_while(lambda: pipeline.import_file(content, "kpi.xlsx"))

    assert [str(p) for p in analysis.problems] == []
    assert batch is not None
    assert len(parsed) <= 3
    assert peak < 40 * MB


def test_rows_numbered_backwards_below_the_data_are_refused_before_any_is_parsed(monkeypatch):
    """openpyxl reads on past a row numbered lower than the last one asked for, so such
    rows after the data would all be parsed: Excel never writes them, the reader refuses."""
    rows = (f'<row r="1" ht="{n}" customHeight="1"/>' for n in range(1_000_000))
    content = streamed_sheet(["".join(rows).encode()])
    parsed = rows_parsed(monkeypatch)

    message, peak = peak_while(lambda: refusal(content))

    assert message.startswith("シート「KPI」の行の順序が正しくないため読めません（1行目が2行目の後")
    assert parsed == []
    assert peak < 10 * MB


def test_a_row_of_more_cells_than_excel_has_columns_is_refused_before_it_is_parsed(
    monkeypatch,
):
    content = streamed_sheet([b'<row r="3">' + b'<c s="1"/>' * 20_000 + b"</row>"])
    parsed = rows_parsed(monkeypatch)

    message, peak = peak_while(lambda: refusal(content))

    assert message.startswith(
        "シート「KPI」の3行目のセルが多すぎるため読めません（1行に16,384列まで）"
    )
    assert parsed == []
    assert peak < 10 * MB


def test_styled_cells_above_the_data_are_counted_before_any_is_parsed(monkeypatch):
    """60,000 rows of 20 styled cells (1.2 million cells) above the data."""
    content = streamed_sheet(
        styled_rows(60_000, first=2, cells="ABCDEFGHIJKLMNOPQRST"), after_data=False
    )
    parsed = rows_parsed(monkeypatch)

    message, peak = peak_while(lambda: refusal(content))

    assert message.startswith(
        "シート「KPI」のセルが多すぎるため読めません（書式だけの空のセルを含めて1,000,000個まで）"
    )
    assert parsed == []
    assert peak < 10 * MB


@pytest.mark.parametrize(
    "row",
    ['<row r="{n}" s="1" customFormat="1"/>', "<row/>"],
    ids=["numbered rows", "rows without numbers"],
)
def test_formatted_rows_above_the_data_are_counted_before_any_is_parsed(monkeypatch, row):
    """150,000 formatted empty rows, then the data: openpyxl would keep memory for every
    one of them, so the reader refuses before it parses a row."""
    rows = (row.format(n=n) for n in range(2, 150_002))
    content = streamed_sheet([("".join(rows)).encode()], after_data=False)
    parsed = rows_parsed(monkeypatch)

    message, peak = peak_while(lambda: refusal(content))

    assert message == (
        "シート「KPI」の行が多すぎるため読めません（書式だけの空の行を含めて100,000行まで）。"
        "データより上にある不要な行を削除するか、必要な範囲だけを新しいブックにコピーして"
        "保存し直してください。"
    )
    assert parsed == []
    assert peak < 10 * MB


def test_a_value_at_the_last_row_of_the_sheet_does_not_make_a_million_rows(monkeypatch):
    """One cell at row 1,048,576 of an otherwise small sheet: the rows between are absent
    from the XML and cost no parsing."""
    content = streamed_sheet([], after_data=False)
    parsed = rows_parsed(monkeypatch)

    workbook, peak = peak_while(lambda: reading.read_workbook(content, "kpi.xlsx"))

    assert [number for number, _ in workbook.sheets[0].rows] == [1, 1_048_576]
    assert parsed == ["1", "1048576"]
    assert peak < 20 * MB


def test_a_csv_with_nul_bytes_in_a_text_line_is_not_called_binary():
    content = csv_with_nul()

    message = refusal(content, "kpi.csv")

    assert message.startswith("3行目に文字ではないデータ（NUL文字）")
    assert "表計算のファイルではありません" not in message


def test_a_shift_jis_line_that_is_also_valid_utf_8_is_not_taken_for_a_mix():
    """凜三 in Shift_JIS is the bytes EA A3 8E 4F, which is valid UTF-8 too."""
    content = csv_bytes([kpi_row()], encoding="cp932") + "凜三,1\r\n".encode("cp932")

    sheet = reading.read_workbook(content, "kpi.csv").sheets[0]

    assert sheet.rows[0][1] == tuple(KPI_HEADER)
    assert sheet.rows[1][1][2] == "1 基盤的保険者機能関係"
    assert sheet.rows[2][1] == ("凜三", "1")

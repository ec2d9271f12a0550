"""Reading an uploaded file into plain text cells, safely.

xlsx: after the zip has been checked for size and compression ratio (decompression
bombs), macros, links to other workbooks and DTDs (which Excel never writes), openpyxl's
read-only mode loads the workbook (sheets, styles, shared strings) and the reader parses
each sheet's cells as openpyxl would (`_SheetCells`), bounded first by its own scan.
CSV is decoded as UTF-8 (with or without BOM), UTF-16 (Excel's "Unicode text") or
Shift_JIS/CP932 (what Japanese Excel writes), one encoding per file.

The reader transcribes and reports facts about the sheets — hidden rows, merged ranges,
formulas without a stored result, error values — without judging them: the validator
decides which of those matter for the columns it reads.
"""

import csv
import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.parsers import expat

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.cell import COORD_RE
from openpyxl.utils.datetime import from_excel, from_ISO8601

from kpis.vocabulary import FORMULA_STARTS, TEXT_MARKER

# The magic numbers of the file types admins pick by mistake.
ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2: .xls and password-protected .xlsx
OTHER_MAGICS = {
    b"%PDF": "PDF",
    b"\x89PNG": "PNG画像",
    b"\xff\xd8\xff": "JPEG画像",
    b"GIF8": "GIF画像",
}

# Rows a header is looked for in, and columns read per row (wider sheets are cut here).
HEADER_SCAN_ROWS = 20
MAX_COLUMNS = 60
# Rows of a sheet's XML the cells are parsed from, formatted empty ones included (openpyxl,
# which reads a workbook with formulas a second time, keeps a few hundred bytes for each
# until the sheet is done: a million rows held 440 MB).
MAX_ROWS_PARSED = 100_000

# Cells one row element may hold (Excel's column count), and cells of all the rows parsed:
# each is a few microseconds, whatever the row number says.
MAX_CELLS_PER_ROW = 16_384
MAX_CELLS_PARSED = 1_000_000

_CHUNK = 1 << 20
# The sheet elements openpyxl numbers rows and cells by, and a cell's children that make it
# hold something (v: a value, is: an inline string, f: a formula) rather than a style.
# A run of empty cells (<c r="B2" s="1"/>, styles only) is one match: sheets formatted to
# the last column hold millions of them. Closing tags other than a cell's are not needed.
_TAG = re.compile(
    rb"(?P<empty>(?:<(?:\w+:)?c\b[^>]*/>)+)"
    rb"|<(?P<close>/)(?:\w+:)?c\s*>"
    rb"|<(?:\w+:)?(?P<name>row|c|v|is|f)\b(?P<attributes>[^>]*)>"
)
_EXCEL_ROW_NUMBER = re.compile(rb' r="(\d+)"')
_ROW_ATTRIBUTE = re.compile(rb"""(?:^|\s)r\s*=\s*["']([^"']*)["']""")
_HIDDEN = re.compile(rb"""(?:^|\s)hidden\s*=\s*["'](?:1|true)["']""")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')

# `_TAG` costs a Python step per tag (a national monthly workbook has 130,000); a chunk is
# rather read a row element at a time with C-speed bytes operations that find what `_TAG`
# would. They can when every "<" opens a tag that ends before the next "<" (then each "<"
# is where `_TAG` would see a tag) and no row, c, v, is or f tag has a namespace prefix
# (`_PREFIXED` finds those, and such text too); other chunks go through `_TAG`.
_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"<>")
_PREFIXED = re.compile(rb":(?:row|c|v|is|f)\b")
_ROW_TAG = re.compile(rb"<row\b([^>]*)>")
_NOT_A_CELL = re.compile(rb"<c\w")  # <cols>, <cfRule>, <colBreaks>: "<c", but no cell
_FORMULA_TAG = re.compile(rb"<f\b")  # not <formula> (conditional formats)
_LAST_CELL_TAG = re.compile(rb"(?s:.*)(<c\b[^>]*>|</c\s*>)")


def _after_open_cell(child: bytes) -> tuple[re.Pattern, re.Pattern]:
    """A `child` tag inside an open cell: from where a cell is already open, and from a
    cell's opening tag. A cell or row tag before it ends that cell."""
    others = rb"(?:[^<]++|<(?!c\b|/c\s*>|row\b|" + child + rb")[^>]*+>)*+"
    tag = rb"<" + child
    return re.compile(others + tag), re.compile(rb"<c\b[^>]*+(?<!/)>" + others + tag)


_VALUE_CHILD = _after_open_cell(rb"(?:v|is|f)\b")
_FORMULA_CHILD = _after_open_cell(rb"f\b")


def _in_cell(child: tuple, text: bytes, start: int, end: int, open_cell: bool) -> bool:
    """Whether `text[start:end]` has a `child` (`_VALUE_CHILD`...) inside a cell."""
    already_open, after_open = child
    return bool(
        open_cell and already_open.match(text, start, end) or after_open.search(text, start, end)
    )


class UnreadableFile(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass
class Sheet:
    name: str
    # (row number, cell texts) for every row that has a value, in order; texts are stripped.
    rows: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    # (min_col, min_row, max_col, max_row, "B3:B5"), 1-based.
    merged: set[tuple[int, int, int, int, str]] = field(default_factory=set)
    # (row, column) → what a validator should say about the cell.
    formulas_without_value: set[tuple[int, int]] = field(default_factory=set)
    formula_cells: int = 0
    error_values: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden: bool = False


@dataclass
class Workbook:
    file_name: str
    format: str  # "xlsx" | "csv"
    sheets: list[Sheet]


def cell_ref(row: int, column: int) -> str:
    """(14, 8) → "H14"."""
    return f"{get_column_letter(column)}{row}"


EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def read_workbook(content: bytes, file_name: str) -> Workbook:
    """Every sheet of an xlsx or the one table of a CSV, as text; UnreadableFile otherwise."""
    limit = settings.IMPORT_MAX_UPLOAD_BYTES
    if len(content) > limit:
        raise UnreadableFile(
            f"ファイルが大きすぎます（{_megabytes(len(content))}）。"
            f"{_megabytes(limit)}以下にするか、ファイルを分けて取り込んでください。"
        )
    if not content.strip():
        raise UnreadableFile("ファイルが空です。")
    if content.startswith(CFB_MAGIC):
        raise UnreadableFile(
            "パスワード付き、または旧形式(.xls)のファイルは読めません。Excelで開き、"
            "パスワードを外して「Excel ブック (*.xlsx)」形式で保存し直してください。"
        )
    if content.startswith(ZIP_MAGIC):
        return _read_xlsx(content, file_name)
    for magic, label in OTHER_MAGICS.items():
        if content.startswith(magic):
            raise UnreadableFile(
                f"{label}のファイルです。表計算のファイル（.xlsx か .csv）を選んでください。"
            )
    workbook = _read_csv(content, file_name)  # refuses binary and undecodable content
    if file_name.lower().endswith(EXCEL_SUFFIXES):
        # Text named like a workbook would be "a table without a header row": say what it is.
        raise UnreadableFile(
            f"「{file_name}」は名前は Excel のブックですが、中身は文字だけのファイルです。"
            "Excelで開いて「Excel ブック (*.xlsx)」形式で保存し直すか、CSVなら名前を .csv に"
            "してください。"
        )
    return workbook


# --- xlsx ------------------------------------------------------------------------------


def _read_xlsx(content: bytes, file_name: str) -> Workbook:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise UnreadableFile(_corrupt()) from error
    if "mimetype" in names and b"opendocument" in _safe_member(archive, "mimetype"):
        raise UnreadableFile(
            "OpenDocument形式(.ods)は読めません。"
            "「Excel ブック (*.xlsx)」形式で保存し直してください。"
        )
    if "xl/workbook.xml" not in names:
        raise UnreadableFile(
            "Excelのブック（.xlsx）ではありません（Wordなど別のファイルのようです）。"
        )
    _check_zip_sizes(archive)
    _check_parts(archive)
    _check_no_doctype(archive)
    try:
        values = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on damaged input
        raise UnreadableFile(_corrupt()) from error
    try:
        sheets = []
        last_rows = {}
        for worksheet in values.worksheets:
            sheet = Sheet(name=worksheet.title, hidden=worksheet.sheet_state != "visible")
            if not sheet.hidden:
                last_rows[sheet.name] = _scan_sheet_xml(archive, worksheet._worksheet_path, sheet)
                _read_cells(archive, worksheet, sheet, last_rows[sheet.name])
            sheets.append(sheet)
        if any(s.formula_cells for s in sheets):
            _find_formulas(content, sheets, last_rows)
    except UnreadableFile:
        raise
    except Exception as error:
        raise UnreadableFile(_corrupt()) from error
    finally:
        values.close()
    return Workbook(file_name=file_name, format="xlsx", sheets=sheets)


def _corrupt() -> str:
    return (
        "ファイルが壊れているため読めません。Excelで開けるか確かめ、"
        "「Excel ブック (*.xlsx)」形式で保存し直してください。"
    )


def _safe_member(archive: zipfile.ZipFile, name: str, size: int = 200) -> bytes:
    with archive.open(name) as member:
        return member.read(size)


def _check_zip_sizes(archive: zipfile.ZipFile) -> None:
    """Refuse decompression bombs before anything is decompressed.

    zipfile never yields more than an entry's declared size (an entry that lies about it
    fails its CRC check), so the declared sizes bound what openpyxl can be made to read.
    """
    total = 0
    ratio_limit = settings.IMPORT_MAX_COMPRESSION_RATIO
    for info in archive.infolist():
        total += info.file_size
        bulky = info.file_size > 1 << 20
        if bulky and info.file_size > ratio_limit * max(info.compress_size, 1):
            raise UnreadableFile(
                "展開後のサイズが大きすぎるため読めません（圧縮されたデータが異常に大きいファイルです）。"
                "必要なシートだけを新しいブックにコピーして保存し直してください。"
            )
    limit = settings.IMPORT_MAX_UNCOMPRESSED_BYTES
    if total > limit:
        raise UnreadableFile(
            f"展開後のサイズが大きすぎるため読めません（展開すると{_megabytes(total)}、"
            f"上限は{_megabytes(limit)}）。空の行や列に書式だけが設定されていると大きくなります。"
            "必要な範囲だけを新しいブックにコピーして保存し直してください。"
        )


def _check_parts(archive: zipfile.ZipFile) -> None:
    """Refuse macro-enabled workbooks and workbooks linked to other workbooks."""
    parts = {name.lower() for name in archive.namelist()}  # part names ignore case
    try:
        content_types = _safe_member(archive, "[Content_Types].xml", 1 << 20)
    except KeyError:
        content_types = b""
    except Exception as error:  # a damaged or encrypted entry
        raise UnreadableFile(_corrupt()) from error
    macros = (b"macroEnabled", b"vbaProject")
    if "xl/vbaproject.bin" in parts or any(m in content_types for m in macros):
        raise UnreadableFile(
            "マクロ有効ブック（.xlsm）は取り込めません（マクロは実行されませんが、"
            "マクロを含むファイルは受け付けていません）。Excelの「名前を付けて保存」で"
            "「Excel ブック (*.xlsx)」形式を選んで保存し直してください。"
        )
    if any(p.startswith("xl/macrosheets/") for p in parts) or b"macrosheet+xml" in content_types:
        # Excel 4.0 macros (XLM) live in sheets of their own, in any .xlsx, with no VBA.
        raise UnreadableFile(
            "Excel 4.0 マクロシートを含むブックは取り込めません（マクロは実行されませんが、"
            "マクロを含むファイルは受け付けていません）。マクロシートを削除してから"
            "「Excel ブック (*.xlsx)」形式で保存し直してください。"
        )
    if any(p.startswith("xl/externallinks/") for p in parts) or b"externalLink+" in content_types:
        # The cached values of a link are whatever the other workbook held when this one was
        # last saved with it open: they may be stale, and nothing here can tell.
        raise UnreadableFile(
            "ほかのブックへのリンク（外部参照）が含まれているため取り込めません。"
            "リンク先の値は古いまま保存されている可能性があります。Excelで"
            "「データ」→「リンクの編集」→「リンクの解除」で値に置き換えてから保存し直してください。"
        )


class _Doctype(Exception):
    pass


class _RootElement(Exception):
    pass


def _doctype(*args):
    raise _Doctype


def _root_element(*args):
    raise _RootElement


def _check_no_doctype(archive: zipfile.ZipFile) -> None:
    """Refuse any part with a DOCTYPE: Excel never writes one (OOXML forbids DTDs), and only a
    DTD can declare the entities of a "billion laughs" or an external entity.

    Each part goes through the same parser openpyxl uses (expat), so a DOCTYPE in UTF-16 or
    behind a long comment is seen too; parsing stops at the root element, after which a
    DOCTYPE cannot come. Images are skipped: an SVG may carry a harmless one.
    """
    for info in archive.infolist():
        if info.is_dir() or info.filename.lower().startswith("xl/media/"):
            continue
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = _doctype
        parser.StartElementHandler = _root_element
        try:
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK // 16):
                    parser.Parse(chunk, False)
        except _Doctype as error:
            raise UnreadableFile(
                "Excelのブックには含まれないはずの宣言（DOCTYPE）があるため、安全のため読み込みません。"
                "Excelで作成して保存したファイルを選んでください。"
            ) from error
        except (_RootElement, expat.ExpatError):
            continue  # past the prolog, or not XML at all (printer settings, thumbnails)
        except Exception as error:  # a damaged or encrypted entry
            raise UnreadableFile(_corrupt()) from error


def _scan_sheet_xml(archive: zipfile.ZipFile, path: str, sheet: Sheet) -> int:
    """Hidden rows, merged ranges and whether formulas exist: facts read-only mode skips.

    Returns the last row with something in it, so that rows that are only formatted are
    never parsed: Excel writes every row down to 1,048,576 when whole rows are formatted.
    Rows and cells are numbered as openpyxl numbers them — by their elements, whatever
    their `r=` attributes say or omit — and what openpyxl would parse up to that row is
    bounded before it parses anything.
    """
    scan = _SheetScan(sheet)
    carry = b""
    with archive.open(path.lstrip("/")) as source:
        while chunk := source.read(_CHUNK):
            text = carry + chunk
            # A tag cut by the chunk's end waits for the next chunk; none is this long.
            start = text.rfind(b"<")
            if start >= 0 and b">" not in text[start:]:
                text, carry = text[:start], text[start:]
                if len(carry) > _CHUNK:
                    raise UnreadableFile(_corrupt())
            else:
                carry = b""
            scan.feed(text)
    return scan.finish()


class _SheetScan:
    """The row and cell elements of a sheet's XML, in order, as openpyxl will meet them."""

    def __init__(self, sheet: Sheet):
        self.sheet = sheet
        self.rows = self.cells = self.cells_in_row = 0
        self.number = 0  # openpyxl's row number: the row's r=, else the previous one + 1
        self.in_cell = False
        self.last_row = 0
        self.last_value_element = 0  # which row element (1-based) holds the last value
        # Elements and cells openpyxl parses: down to the end of the row element after
        # the last value (it reads that one to learn it has gone past).
        self.rows_parsed = self.cells_parsed = 0
        self.value_rows = 0  # row elements holding a value: each has its own number
        # Of the chunk being read a row at a time: whether it has tags such as <cols> or
        # <cfRule>, and whether a formula may be in it that makes the first of the sheet.
        self.other_c_tags = self.formulas = False

    def feed(self, text: bytes) -> None:
        """A chunk of the XML, cut between tags."""
        sheet = self.sheet
        if b"mergeCell" in text:
            for ref in _MERGE.finditer(text):
                reference = ref[1].decode()
                sheet.merged.add((*range_boundaries(reference), reference))
        brackets = text.translate(None, _NOT_A_BRACKET)
        if b"<<" in brackets or brackets.endswith(b"<") or _PREFIXED.search(text):
            self._feed_tags(text)
        else:
            self._feed_rows(text)

    def _feed_rows(self, text: bytes) -> None:
        """The chunk a row element at a time: each row tag, then what is up to the next."""
        self.other_c_tags = _NOT_A_CELL.search(text) is not None
        self.formulas = not self.sheet.formula_cells and _FORMULA_TAG.search(text) is not None
        start, in_cell = 0, self.in_cell
        for row in _ROW_TAG.finditer(text):
            if row.start() > start:  # not right after a self-closing row
                self._row_content(text, start, row.start(), in_cell)
            self._row(row[1])
            start, in_cell = row.end(), False
        self._row_content(text, start, len(text), in_cell)
        last = _LAST_CELL_TAG.match(text, start)  # the row goes on in the next chunk
        if last is not None:
            in_cell = not last[1].startswith(b"</") and not last[1].endswith(b"/>")
        self.in_cell = in_cell

    def _row_content(self, text: bytes, start: int, end: int, in_cell: bool) -> None:
        """Cells, and whether one holds something, in `text[start:end]` (no row tag in it)."""
        cells = text.count(b"<c", start, end)
        if cells and self.other_c_tags:
            cells -= sum(1 for _ in _NOT_A_CELL.finditer(text, start, end))
        if cells:
            self.cells += cells
            self.cells_in_row += cells
            if self.cells_in_row > MAX_CELLS_PER_ROW:
                raise UnreadableFile(self._too_many_cells_in_row())
        elif not in_cell:  # no cell, none open: nothing here holds a value
            return
        formula = self.formulas and text.find(b"<f", start, end) >= 0
        if formula and _in_cell(_FORMULA_CHILD, text, start, end, in_cell):
            self.sheet.formula_cells = 1
            self.formulas = False
        unseen = self.last_value_element != self.rows  # no value in this row yet
        if unseen and _in_cell(_VALUE_CHILD, text, start, end, in_cell):
            self._value()

    def _feed_tags(self, text: bytes) -> None:
        """The chunk a tag at a time, whatever its bytes."""
        sheet = self.sheet
        for tag in _TAG.finditer(text):
            empty, closing, name, attributes = tag.groups()
            if empty:
                count = empty.count(b"<")
                self.cells += count
                self.cells_in_row += count
                if self.cells_in_row > MAX_CELLS_PER_ROW:
                    raise UnreadableFile(self._too_many_cells_in_row())
                self.in_cell = False
            elif closing:  # </c>
                self.in_cell = False
            elif name == b"row":
                self._row(attributes)
            elif name == b"c":
                self.cells += 1
                self.cells_in_row += 1
                if self.cells_in_row > MAX_CELLS_PER_ROW:
                    raise UnreadableFile(self._too_many_cells_in_row())
                self.in_cell = not attributes.endswith(b"/")
            elif self.in_cell:  # v, is or f: the cell holds something
                if name == b"f":
                    sheet.formula_cells = max(sheet.formula_cells, 1)
                if self.last_value_element != self.rows:
                    self._value()

    def _row(self, attributes: bytes) -> None:
        self.rows += 1
        if self.rows == self.last_value_element + 2:
            self.rows_parsed, self.cells_parsed = self.rows - 1, self.cells
        # Excel writes r= first; anything else is read the way the XML parser reads it.
        found = _EXCEL_ROW_NUMBER.match(attributes) or _ROW_ATTRIBUTE.search(attributes)
        number = self.number + 1 if found is None else _row_number(found[1])
        if number <= self.number:
            raise UnreadableFile(
                f"シート「{self.sheet.name}」の行の順序が正しくないため読めません"
                f"（{number}行目が{self.number}行目の後にあります）。"
                "Excelで開いて「Excel ブック (*.xlsx)」形式で保存し直してください。"
            )
        self.number = number
        self.cells_in_row = 0
        self.in_cell = False
        if b"hidden" in attributes and _HIDDEN.search(attributes):
            self.sheet.hidden_rows.add(number)

    def _too_many_cells_in_row(self) -> str:
        return (
            f"シート「{self.sheet.name}」の{self.number}行目のセルが多すぎるため読めません"
            f"（1行に{MAX_CELLS_PER_ROW:,}列まで）。"
            "必要な範囲だけを新しいブックにコピーして保存し直してください。"
        )

    def _value(self) -> None:
        self.last_value_element = self.rows
        self.last_row = self.number
        self.value_rows += 1

    def finish(self) -> int:
        if self.rows < self.last_value_element + 2:  # no row element after the last value
            self.rows_parsed, self.cells_parsed = self.rows, self.cells
        name = self.sheet.name
        if self.rows_parsed > MAX_ROWS_PARSED:
            if self.value_rows > settings.IMPORT_MAX_ROWS:
                raise UnreadableFile(_too_many_rows(name))
            raise UnreadableFile(
                f"シート「{name}」の行が多すぎるため読めません（書式だけの空の行を含めて"
                f"{MAX_ROWS_PARSED:,}行まで）。データより上にある不要な行を削除するか、"
                "必要な範囲だけを新しいブックにコピーして保存し直してください。"
            )
        if self.cells_parsed > MAX_CELLS_PARSED:
            raise UnreadableFile(
                f"シート「{name}」のセルが多すぎるため読めません（書式だけの空のセルを含めて"
                f"{MAX_CELLS_PARSED:,}個まで）。データの右や上にある不要な列や行を削除するか、"
                "必要な範囲だけを新しいブックにコピーして保存し直してください。"
            )
        return self.last_row


def _row_number(text: bytes) -> int:
    """A row's r= as openpyxl reads it: a whole number, also when written as "12.0"."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        number = 0.5
    if not number.is_integer():
        raise UnreadableFile(_corrupt())
    return int(number)


def _rows(worksheet, last_row: int):
    """The cells of each row up to `last_row`, MAX_COLUMNS wide."""
    if last_row == 0:
        return iter(())
    worksheet.reset_dimensions()  # the stored dimension can be wrong; read what is there
    return worksheet.iter_rows(max_row=last_row, max_col=MAX_COLUMNS)


def _read_cells(archive: zipfile.ZipFile, worksheet, sheet: Sheet, last_row: int) -> None:
    """The texts of the sheet's rows up to `last_row` (the scan's bound), MAX_COLUMNS wide.

    The sheet's XML is parsed here with expat, cell by cell as openpyxl's read-only mode
    parses it (`WorkSheetParser.parse_row` and `parse_cell`: the same row and column
    numbers, types, shared strings, dates and number formats, from the workbook openpyxl
    loaded) but without a cell object and its style lookups per cell: those made reading
    a national monthly workbook take half again as long as openpyxl's own reading of its
    values (docs/PERFORMANCE.md)."""
    if last_row == 0:
        return
    cells = _SheetCells(worksheet, last_row)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = cells.start
    parser.EndElementHandler = cells.end
    parser.CharacterDataHandler = cells.characters
    try:
        with archive.open(worksheet._worksheet_path.lstrip("/")) as source:
            while chunk := source.read(_CHUNK):
                parser.Parse(chunk, False)
                _take_rows(cells, sheet)
            parser.Parse(b"", True)
    except _PastLastRow:
        pass
    _take_rows(cells, sheet)


def _take_rows(cells: "_SheetCells", sheet: Sheet) -> None:
    """Turn the rows parsed so far into texts, as a person sees them (`cell_text`)."""
    limit = settings.IMPORT_MAX_ROWS
    for row_number, row in cells.rows:
        texts = [""] * max(row)
        for column, (value, data_type, style) in row.items():
            if value is None:
                continue
            if data_type == "e":
                sheet.error_values[(row_number, column)] = str(value)
            else:
                texts[column - 1] = cell_text(value, cells.number_format(style))
        if any(texts):
            if len(sheet.rows) >= limit:
                raise UnreadableFile(_too_many_rows(sheet.name))
            sheet.rows.append((row_number, _trim(texts)))
    cells.rows.clear()


class _PastLastRow(Exception):
    pass


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW, _VALUE, _INLINE = (f"{_MAIN} {name}" for name in ("row", "v", "is"))


class _SheetCells:
    """expat handlers collecting each row's cells as {column: (value, type, style id)}.

    Depth 1 below a row is a cell (whatever its name, as openpyxl takes every child of a
    row); below a cell, its first `v` is its value and its first `is` its inline string,
    whose text is its own `t` and its runs' (`r`) `t`, not the phonetic reading (`rPh`),
    as `openpyxl.cell.text.Text.content` reads it."""

    def __init__(self, worksheet, last_row: int):
        workbook = worksheet.parent
        self.shared_strings = worksheet._shared_strings
        self.date_formats = workbook._date_formats
        self.timedelta_formats = workbook._timedelta_formats
        self.epoch = workbook.epoch
        self.styles = workbook._cell_styles
        self.custom_formats = workbook._number_formats
        self.formats = {}
        self.last_row = last_row
        self.rows = []  # (row number, {column: cell}) parsed and not yet taken
        self.row_number = 0
        self.row = None  # the row being parsed
        self.depth = 0  # below the row element
        self.column = 0
        self.text = None  # the characters being collected, or None
        # [type, coordinate, style, value, inline string (None: none; True: being read;
        # False: read), its plain text, its runs' texts]
        self.cell = None
        self.run = None  # the `t` texts of the run being parsed

    def start(self, name: str, attributes: dict) -> None:
        depth = self.depth
        if self.row is None:
            if name == _ROW:
                self._start_row(attributes)
            return
        self.depth = depth + 1
        if depth == 0:
            self.cell = [attributes.get("t", "n"), attributes.get("r"), attributes.get("s")]
            self.cell += [None, None, None, []]
        elif self.cell[4] is True:  # inside the cell's inline string
            local = name.rpartition(" ")[2]
            if depth == 2:
                if local == "t":
                    self.text = []
                elif local == "r":
                    self.run = []
            elif depth == 3 and local == "t" and self.run is not None:  # not a reading's
                self.text = []
        elif depth == 1:
            if name == _VALUE and self.cell[3] is None:
                self.text = []
            elif name == _INLINE and self.cell[4] is None:
                self.cell[4] = True

    def end(self, name: str) -> None:
        if self.row is None:
            return
        depth = self.depth = self.depth - 1
        if depth < 0:  # the row's own end
            if self.row:
                self.rows.append((self.row_number, self.row))
            self.row = None
            self.depth = 0
        elif depth == 0:
            self._end_cell()
        elif self.cell[4] is True:
            self._end_inline(name, depth)
        elif depth == 1 and self.text is not None:  # the value
            self.cell[3] = "".join(self.text)
            self.text = None

    def _end_inline(self, name: str, depth: int) -> None:
        cell = self.cell
        local = name.rpartition(" ")[2]
        if depth == 1:  # the end of `is`: no further string is read
            cell[4] = False
        elif depth == 2:
            if local == "t" and self.text is not None:
                cell[5] = "".join(self.text)  # the last plain text wins, as openpyxl sets it
                self.text = None
            elif local == "r" and self.run is not None:
                cell[6].append(self.run[-1] if self.run else None)
                self.run = None
        elif depth == 3 and self.text is not None:
            self.run.append("".join(self.text))
            self.text = None

    def characters(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _start_row(self, attributes: dict) -> None:
        number = attributes.get("r")
        if number is None:
            self.row_number += 1
        else:
            self.row_number = _row_number(number.encode())
        if self.row_number > self.last_row:
            raise _PastLastRow
        self.row, self.depth, self.column = {}, 0, 0

    def _end_cell(self) -> None:
        data_type, coordinate, style, value, inline, plain, runs = self.cell
        self.cell = None
        style = int(style) if style else 0
        if coordinate:
            found = COORD_RE.match(coordinate)  # a reference openpyxl accepts
            if found is None or int(found[2]) == 0:
                raise UnreadableFile(_corrupt())
            self.column = column_index_from_string(found[1])
        else:
            self.column += 1
        if data_type == "inlineStr":
            value = None  # its `v`, if any, is not read
            if inline is not None:  # an `is` child was there
                data_type = "s"
                value = "".join(t for t in (plain, *runs) if t is not None)
        elif value := value or None:
            value, data_type = self._typed(value, data_type, style)
        if self.column <= MAX_COLUMNS:
            self.row[self.column] = (value, data_type, style)

    def _typed(self, value: str, data_type: str, style: int) -> tuple:
        """A `v` as `WorkSheetParser.parse_cell` types it (data_only)."""
        if data_type == "n":
            value = float(value) if "." in value or "E" in value or "e" in value else int(value)
            if style in self.date_formats:
                try:
                    timedelta = style in self.timedelta_formats
                    return from_excel(value, self.epoch, timedelta=timedelta), "d"
                except (OverflowError, ValueError):
                    return "#VALUE!", "e"
        elif data_type == "s":
            value = self.shared_strings[int(value)]
        elif data_type == "b":
            value = bool(int(value))
        elif data_type == "str":
            data_type = "s"
        elif data_type == "d":
            value = from_ISO8601(value)
        return value, data_type

    def number_format(self, style: int) -> str:
        """`ReadOnlyCell.number_format`, once per style."""
        if style not in self.formats:
            number_format = self.styles[style].numFmtId
            if number_format < BUILTIN_FORMATS_MAX_SIZE:
                self.formats[style] = BUILTIN_FORMATS.get(number_format, "General")
            else:
                index = number_format - BUILTIN_FORMATS_MAX_SIZE
                self.formats[style] = self.custom_formats[index]
        return self.formats[style]


def _find_formulas(content: bytes, sheets: list[Sheet], last_rows: dict) -> None:
    """Second pass, only for workbooks with formulas: which cells hold one.

    The first pass read the stored results; a formula with no stored result (a file
    written by a program, never opened in Excel) reads as blank there.
    """
    formulas = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    try:
        by_name = {s.name: s for s in sheets if s.formula_cells}
        for worksheet in formulas.worksheets:
            sheet = by_name.get(worksheet.title)
            if sheet is None:
                continue
            texts = dict(sheet.rows)
            sheet.formula_cells = 0
            rows = _rows(worksheet, last_rows[sheet.name])
            for row_number, cells in enumerate(rows, start=1):
                for column, cell in enumerate(cells, start=1):
                    if getattr(cell, "data_type", None) != "f":
                        continue
                    sheet.formula_cells += 1
                    row = texts.get(row_number, ())
                    blank = column > len(row) or row[column - 1] == ""
                    if blank and (row_number, column) not in sheet.error_values:
                        sheet.formulas_without_value.add((row_number, column))
    finally:
        formulas.close()


def cell_text(value, number_format: str = "") -> str:
    """A typed spreadsheet cell as the text a person sees: 0.965 with a % format → "96.5%",
    0.95 with a 0.0% format → "95.0%" (the decimals the format shows, never fewer than the
    number has), 8364.0 → "8364", a time 4:56 → "4:56"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _unescape(value.strip())
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if not number.is_finite():
            return str(value)
        if "%" in (number_format or ""):
            return _with_places(_plain(number * 100), _percent_places(number_format)) + "%"
        return _plain(number)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.time):
        return f"{value.hour}:{value.minute:02d}"
    if isinstance(value, datetime.timedelta):
        minutes = round(value.total_seconds() / 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


# The decimals of a percentage format's first section ("0.0%" → "0"; quoted text aside).
_PERCENT_DECIMALS = re.compile(r'\.([0#?]+)[^;"]*%')


def _percent_places(number_format: str) -> int:
    found = _PERCENT_DECIMALS.search(number_format.split(";", 1)[0])
    return len(found[1]) if found else 0


def _with_places(text: str, places: int) -> str:
    """`text` padded with zeros to at least `places` decimals."""
    whole, point, decimals = text.partition(".")
    if len(decimals) >= places:
        return text
    return f"{whole}.{decimals.ljust(places, '0')}"


def _unescape(text: str) -> str:
    """Undo the export's formula guard (kpis.exports.neutralise): '=… → =…, '-5 (…) → -5 (…),
    ''… → '…; any other apostrophe is the text's own."""
    if text[:1] == TEXT_MARKER and text[1:2] in (*FORMULA_STARTS, TEXT_MARKER):
        return text[1:]
    return text


def _trim(texts: list[str]) -> tuple[str, ...]:
    while texts and texts[-1] == "":
        texts.pop()
    return tuple(texts)


def _too_many_rows(sheet_name: str) -> str:
    return (
        f"シート「{sheet_name}」の行数が上限（{settings.IMPORT_MAX_ROWS:,}行）を超えています。"
        "ファイルを分けて取り込んでください。"
    )


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.1f}MB"


# --- CSV -------------------------------------------------------------------------------


def _read_csv(content: bytes, file_name: str) -> Workbook:
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    sheet = Sheet(name=file_name or "CSV")
    limit = settings.IMPORT_MAX_ROWS
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for row_number, cells in enumerate(reader, start=1):
            texts = [_unescape(cell.strip()) for cell in cells[:MAX_COLUMNS]]
            if any(texts):
                if len(sheet.rows) >= limit:
                    raise UnreadableFile(_too_many_rows(sheet.name))
                sheet.rows.append((row_number, _trim(texts)))
    except csv.Error as error:
        raise UnreadableFile(
            f"CSVとして読めません（{error}）。Excelで「CSV UTF-8」形式で保存し直してください。"
        ) from error
    return Workbook(file_name=file_name, format="csv", sheets=[sheet])


# Control characters no text file holds: with a NUL among them, the file is binary.
_CONTROL = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f]")


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        text = _decode_lines(content[3:], declared="UTF-8")
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _decode_utf16(content)
    elif b"\x00" in content and _CONTROL.search(content):
        raise UnreadableFile(
            "表計算のファイルではありません。Excelのブック（.xlsx）かCSVファイルを選んでください。"
        )
    else:
        text = _decode_lines(content)
    if "\x00" in text:
        # Text otherwise; the NUL would only reach the database (which may refuse it).
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise UnreadableFile(
            f"{line}行目に文字ではないデータ（NUL文字）が含まれています。CSVを出力し直すか、"
            "Excelで開いて「CSV UTF-8」形式で保存し直してください。"
        )
    return text


def _decode_lines(content: bytes, declared: str | None = None) -> str:
    """UTF-8, else Shift_JIS (CP932) — unless the lines disagree.

    Decoded as Shift_JIS, UTF-8 text often turns into other kanji without any error, so a
    file pasted together from a UTF-8 and a Shift_JIS file is refused, naming the first
    line that differs. Only lines that fit one encoding count: a short line may fit both.
    0x0A is never part of a multibyte character in either, so lines are split as bytes.
    """
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    expected = declared
    for number, line in enumerate(content.split(b"\n"), start=1):
        encoding = _line_encoding(line)
        if encoding is None:
            raise UnreadableFile(
                f"表計算のファイルではないか、文字コードを判別できません（{number}行目）。"
                "Excelのブック（.xlsx）か、UTF-8 または Shift_JIS のCSVファイルを選んでください。"
            )
        if not encoding:
            continue
        expected = expected or encoding
        if encoding != expected:
            raise UnreadableFile(
                f"{number}行目の文字コード（{encoding}）が他の行（{expected}）と異なります。"
                "文字コードの違うCSVをつなぎ合わせたファイルのようです。元のファイルを別々に"
                "取り込むか、同じ文字コードで保存し直してからつなげてください。"
            )
    return content.decode("cp932")


def _line_encoding(line: bytes) -> str | None:
    """The one encoding a line can be in: "UTF-8" or "Shift_JIS"; "" if either, None if
    neither."""
    fits = [label for encoding, label in _ENCODINGS if _decodes(line, encoding)]
    if not fits:
        return None
    return fits[0] if len(fits) == 1 else ""


_ENCODINGS = (("utf-8", "UTF-8"), ("cp932", "Shift_JIS"))


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _decode_utf16(content: bytes) -> str:
    try:
        return content.decode("utf-16")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            "文字コードを判別できません。UTF-8 または Shift_JIS のCSVとして保存し直してください。"
        ) from error

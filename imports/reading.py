"""Reading an uploaded file into plain text cells, safely.

xlsx goes through openpyxl's read-only mode after the zip has been checked for size and
compression ratio (decompression bombs); CSV is decoded as UTF-8 (with or without BOM),
UTF-16 (Excel's "Unicode text") or Shift_JIS/CP932 (what Japanese Excel writes).

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

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

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

_CHUNK = 1 << 20
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")


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
    return _read_csv(content, file_name)


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
    try:
        values = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on damaged input
        raise UnreadableFile(_corrupt()) from error
    try:
        sheets = []
        for worksheet in values.worksheets:
            sheet = Sheet(name=worksheet.title, hidden=worksheet.sheet_state != "visible")
            if not sheet.hidden:
                _scan_sheet_xml(archive, worksheet._worksheet_path, sheet)
                _read_cells(worksheet, sheet)
            sheets.append(sheet)
        if any(s.formula_cells for s in sheets):
            _find_formulas(content, sheets)
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


def _safe_member(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as member:
        return member.read(200)


def _check_zip_sizes(archive: zipfile.ZipFile) -> None:
    """Refuse decompression bombs before anything is decompressed.

    zipfile never yields more than an entry's declared size, so the declared sizes bound
    what openpyxl can be made to read.
    """
    total = 0
    ratio_limit = settings.IMPORT_MAX_COMPRESSION_RATIO
    for info in archive.infolist():
        total += info.file_size
        bulky = info.file_size > 1 << 20
        if bulky and info.file_size > ratio_limit * max(info.compress_size, 1):
            raise UnreadableFile(_bomb())
    if total > settings.IMPORT_MAX_UNCOMPRESSED_BYTES:
        raise UnreadableFile(_bomb())


def _bomb() -> str:
    return (
        "展開後のサイズが大きすぎるため読めません（圧縮されたデータが異常に大きいファイルです）。"
        "必要なシートだけを新しいブックにコピーして保存し直してください。"
    )


def _scan_sheet_xml(archive: zipfile.ZipFile, path: str, sheet: Sheet) -> None:
    """Hidden rows, merged ranges and whether formulas exist: facts read-only mode skips."""
    path = path.lstrip("/")
    tail = b""
    with archive.open(path) as source:
        while chunk := source.read(_CHUNK):
            text = tail + chunk
            for tag in _ROW_TAG.finditer(text):
                if _HIDDEN.search(tag[0]) and (number := _ROW_NUMBER.search(tag[0])):
                    sheet.hidden_rows.add(int(number[1]))
            for ref in _MERGE.finditer(text):
                reference = ref[1].decode()
                sheet.merged.add((*range_boundaries(reference), reference))
            if _FORMULA.search(text):
                sheet.formula_cells = max(sheet.formula_cells, 1)
            # Tags are short: a tail of this size catches any split across chunks.
            tail = text[-4096:]


def _read_cells(worksheet, sheet: Sheet) -> None:
    limit = settings.IMPORT_MAX_ROWS + HEADER_SCAN_ROWS
    worksheet.reset_dimensions()  # the stored dimension can be wrong; read what is there
    for row_number, cells in enumerate(worksheet.iter_rows(max_col=MAX_COLUMNS), start=1):
        texts = []
        for column, cell in enumerate(cells, start=1):
            if cell.value is None:
                texts.append("")
            elif cell.data_type == "e":
                sheet.error_values[(row_number, column)] = str(cell.value)
                texts.append("")
            else:
                texts.append(cell_text(cell.value, cell.number_format))
        if any(texts):
            if len(sheet.rows) >= limit:
                raise UnreadableFile(_too_many_rows(sheet.name))
            sheet.rows.append((row_number, _trim(texts)))


def _find_formulas(content: bytes, sheets: list[Sheet]) -> None:
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
            worksheet.reset_dimensions()
            texts = dict(sheet.rows)
            sheet.formula_cells = 0
            rows = worksheet.iter_rows(max_col=MAX_COLUMNS)
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
    8364.0 → "8364", a time 4:56 → "4:56"."""
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
            return _plain(number * 100) + "%"
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


def _unescape(text: str) -> str:
    """Undo the export's formula-injection guard: '=… → =… (exports.neutralise)."""
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
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
    limit = settings.IMPORT_MAX_ROWS + HEADER_SCAN_ROWS
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


def _decode(content: bytes) -> str:
    if content.startswith(b"\xef\xbb\xbf"):
        return _decode_as(content, "utf-8-sig")
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_as(content, "utf-16")
    if b"\x00" in content:
        raise UnreadableFile(
            "表計算のファイルではありません。Excelのブック（.xlsx）かCSVファイルを選んでください。"
        )
    for encoding in ("utf-8", "cp932"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(
        "表計算のファイルではないか、文字コードを判別できません。Excelのブック（.xlsx）か、"
        "UTF-8 または Shift_JIS のCSVファイルを選んでください。"
    )


def _decode_as(content: bytes, encoding: str) -> str:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            "文字コードを判別できません。UTF-8 または Shift_JIS のCSVとして保存し直してください。"
        ) from error

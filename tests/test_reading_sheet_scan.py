"""Before any cell is parsed, the reader scans each sheet's XML bytes (imports.reading
._scan_sheet_xml): which rows are hidden, which ranges are merged, whether formulas exist,
the last row that holds something — and it refuses a sheet whose parsing would cost too
much. The scan works on bytes, mostly a row element at a time; here it must find what a
plain walk over the XML elements finds, in sheets with what programs write: namespace
prefixes, rows and cells without r=, hidden rows, styled empty cells, values, inline
strings, formulas with or without a stored result, elements after the rows that start
with "<c", and text that reads like a tag once unescaped — read in chunks cut anywhere."""

import io
import zipfile
from dataclasses import dataclass
from unittest import mock
from xml.parsers import expat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter, range_boundaries

from imports import reading

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET = "xl/worksheets/sheet1.xml"
# Texts as they stand in the XML: escaped tags, and a colon before a cell's name.
TEXTS = ["KPI", "達成率", '&lt;c r="A1"&gt;&lt;v&gt;1&lt;/v&gt;', "&lt;row&gt;", "a:c", "x"]
CONTENTS = ["none", "nothing", "value", "empty value", "inline", "formula", "formula only"]

CELL = st.fixed_dictionaries(
    {
        "prefixed": st.booleans(),
        "reference": st.booleans(),
        "styled": st.booleans(),
        "content": st.sampled_from(CONTENTS),
        "text": st.sampled_from(TEXTS),
    }
)
ROW = st.fixed_dictionaries(
    {
        "gap": st.integers(1, 3),  # from the previous row's number
        "reference": st.booleans(),
        "prefixed": st.booleans(),
        "hidden": st.sampled_from([None, "1", "true", "0", "false"]),
        "cells": st.lists(CELL, max_size=6),
    }
)
SHEETS = st.fixed_dictionaries(
    {
        "rows": st.lists(ROW, max_size=12),
        "merged": st.lists(st.tuples(st.integers(1, 5), st.integers(1, 30)), max_size=3),
        "columns": st.booleans(),  # <cols> before the rows
        "after": st.booleans(),  # conditional formatting and column breaks after them
    }
)
# Bytes read at a time: all in one, or cut at many places (the longest tag is 150 bytes).
CHUNKS = [1 << 20, *range(160, 200)]


def tag(prefixed: bool, name: str) -> str:
    return f"x:{name}" if prefixed else name


def cell_xml(cell: dict, row: int, column: int) -> str:
    c, v, f, inline, t = (tag(cell["prefixed"], n) for n in ("c", "v", "f", "is", "t"))
    attributes = f' r="{get_column_letter(column)}{row}"' if cell["reference"] else ""
    attributes += ' s="1"' if cell["styled"] else ""
    content = cell["content"]
    if content == "none":
        return f"<{c}{attributes}/>"
    if content == "inline":
        attributes += ' t="inlineStr"'
    children = {
        "nothing": "",
        "value": f"<{v}>1</{v}>",
        "empty value": f"<{v}/>",
        "inline": f"<{inline}><{t}>{cell['text']}</{t}></{inline}>",
        "formula": f"<{f}>A1</{f}><{v}>2</{v}>",
        "formula only": f"<{f}>SUM(A1:A2)</{f}>",
    }[content]
    return f"<{c}{attributes}>{children}</{c}>"


def sheet_xml(spec: dict) -> bytes:
    parts = [f'<worksheet xmlns="{MAIN}" xmlns:x="{MAIN}">']
    if spec["columns"]:
        parts.append('<cols><col min="1" max="3" width="9"/></cols>')
    parts.append("<sheetData>")
    number = 0
    for row in spec["rows"]:
        number += row["gap"]
        name = tag(row["prefixed"], "row")
        attributes = f' r="{number}"' if row["reference"] or row["gap"] > 1 else ""
        attributes += f' hidden="{row["hidden"]}"' if row["hidden"] else ""
        attributes += ' spans="1:6"'
        if not row["cells"]:
            parts.append(f"<{name}{attributes}/>")
            continue
        parts.append(f"<{name}{attributes}>")
        parts += [cell_xml(cell, number, n) for n, cell in enumerate(row["cells"], start=1)]
        parts.append(f"</{name}>")
    parts.append("</sheetData>")
    if spec["merged"]:
        refs = [f"A{row}:{get_column_letter(1 + width)}{row + 1}" for width, row in spec["merged"]]
        parts.append("<mergeCells>")
        parts += [f'<mergeCell ref="{ref}"/>' for ref in refs]
        parts.append("</mergeCells>")
    if spec["after"]:
        parts.append(
            '<conditionalFormatting sqref="A1"><cfRule type="expression" priority="1">'
            "<formula>A1&lt;3</formula></cfRule></conditionalFormatting>"
            '<colBreaks count="1"><brk id="1" max="1048575" man="1"/></colBreaks>'
        )
    parts.append("</worksheet>")
    return "".join(parts).encode()


@dataclass
class Row:
    number: int
    hidden: bool
    cells: int = 0
    holds: bool = False  # a cell with a value, an inline string or a formula


def walked(xml: bytes) -> tuple[list[Row], set, bool]:
    """The rows, merged ranges and formula presence, element by element."""
    rows, merged, formulas, path = [], set(), [], []

    def start(name, attributes):
        local = name.rpartition(" ")[2]
        if local == "row" and path[-1:] == ["sheetData"]:
            previous = rows[-1].number if rows else 0
            number = int(attributes["r"]) if "r" in attributes else previous + 1
            rows.append(Row(number, attributes.get("hidden") in ("1", "true")))
        elif local == "c" and path[-1:] == ["row"]:
            rows[-1].cells += 1
        elif local in ("v", "is", "f") and path[-2:] == ["row", "c"]:
            rows[-1].holds = True
            formulas.append(local == "f")
        elif local == "mergeCell":
            ref = attributes["ref"]
            merged.add((*range_boundaries(ref), ref))
        path.append(local)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: path.pop()
    parser.Parse(xml, True)
    return rows, merged, any(formulas)


def zipped(xml: bytes) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(SHEET, xml)
    return zipfile.ZipFile(buffer)


def scanned(archive: zipfile.ZipFile, chunk: int) -> tuple[reading.Sheet, int]:
    sheet = reading.Sheet(name="S")
    with mock.patch.object(reading, "_CHUNK", chunk):
        last_row = reading._scan_sheet_xml(archive, SHEET, sheet)
    return sheet, last_row


def refusal(archive: zipfile.ZipFile, chunk: int, bound: str, value: int) -> str | None:
    with mock.patch.object(reading, bound, value):
        try:
            scanned(archive, chunk)
        except reading.UnreadableFile as error:
            return str(error)
    return None


@settings(max_examples=40, deadline=None)
@given(SHEETS)
def test_the_scan_finds_what_the_elements_say(spec):
    xml = sheet_xml(spec)
    rows, merged, formulas = walked(xml)
    archive = zipped(xml)

    for chunk in CHUNKS:
        sheet, last_row = scanned(archive, chunk)

        assert sheet.hidden_rows == {row.number for row in rows if row.hidden}, chunk
        assert sheet.merged == merged, chunk
        assert bool(sheet.formula_cells) == formulas, chunk
        assert last_row == max((row.number for row in rows if row.holds), default=0), chunk


@settings(max_examples=40, deadline=None)
@given(SHEETS, st.sampled_from(CHUNKS))
def test_a_sheet_is_refused_exactly_past_each_bound(spec, chunk):
    """openpyxl parses the row elements down to the one after the last that holds
    something; a sheet is refused when those rows, or their cells, or the cells of any one
    row element are more than the bounds allow — and not when they are just as many."""
    xml = sheet_xml(spec)
    rows, _, _ = walked(xml)
    holding = [n for n, row in enumerate(rows, start=1) if row.holds]
    parsed = rows[: (holding[-1] if holding else 0) + 1]
    parsed_cells = sum(row.cells for row in parsed)
    widest = max((row.cells for row in rows), default=0)
    archive = zipped(xml)

    for bound, count in [
        ("MAX_ROWS_PARSED", len(parsed)),
        ("MAX_CELLS_PARSED", parsed_cells),
        ("MAX_CELLS_PER_ROW", widest),
    ]:
        assert refusal(archive, chunk, bound, count) is None, bound
    if parsed:
        assert refusal(archive, chunk, "MAX_ROWS_PARSED", len(parsed) - 1).startswith(
            "シート「S」の行が多すぎるため読めません（書式だけの空の行を含めて"
        )
    if parsed_cells:
        assert refusal(archive, chunk, "MAX_CELLS_PARSED", parsed_cells - 1).startswith(
            "シート「S」のセルが多すぎるため読めません（書式だけの空のセルを含めて"
        )
    if widest:
        first = next(row.number for row in rows if row.cells == widest)
        assert refusal(archive, chunk, "MAX_CELLS_PER_ROW", widest - 1).startswith(
            f"シート「S」の{first}行目のセルが多すぎるため読めません"
        )


def example(prefixed: bool) -> bytes:
    """Rows 1, 3 (hidden) and 4, each with a cell of every kind, and a merged range."""
    cells = [
        {"prefixed": prefixed, "reference": True, "styled": False, "content": c, "text": "x"}
        for c in CONTENTS
    ]
    rows = [
        {"gap": gap, "reference": True, "prefixed": prefixed, "hidden": hidden, "cells": cells}
        for gap, hidden in [(1, None), (2, "1"), (1, None)]
    ]
    return sheet_xml({"rows": rows, "merged": [(1, 2)], "columns": True, "after": True})


@pytest.mark.parametrize("chunk", [160, 1 << 20])
def test_a_plain_and_a_prefixed_sheet_scan_alike(chunk):
    """The same sheet with and without the `x:` prefix, as programs write it."""
    plain, prefixed = example(False), example(True)
    assert b"<x:row" in prefixed

    for xml in plain, prefixed:
        sheet, last_row = scanned(zipped(xml), chunk)

        assert (sheet.hidden_rows, bool(sheet.formula_cells), last_row) == ({3}, True, 4)
        assert sheet.merged == {(1, 2, 2, 3, "A2:B3")}


@pytest.mark.parametrize("content", ["value", "empty value", "inline", "formula only"])
def test_a_chunk_ending_inside_a_cell_changes_nothing(content):
    """The XML is read a megabyte at a time: a chunk may end between a cell's tag and its
    value. Cut at every byte, the last row with something in it is the same."""
    cell = {"prefixed": False, "reference": True, "styled": True, "text": "x"}
    rows = [
        {"gap": 1, "reference": True, "prefixed": False, "hidden": None, "cells": cells}
        for cells in [
            [dict(cell, content="value")],
            [dict(cell, content="none"), dict(cell, content=content)],
            [dict(cell, content="none")],
        ]
    ]
    xml = sheet_xml({"rows": rows, "merged": [], "columns": False, "after": False})
    archive = zipped(xml)

    found = {scanned(archive, chunk)[1] for chunk in range(160, len(xml) + 1)}

    assert found == {2}

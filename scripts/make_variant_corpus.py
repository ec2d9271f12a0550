"""A corpus of workbooks written the ways branches write them, made from the demo data.

    .venv/bin/python scripts/make_variant_corpus.py OUTDIR

Each variant is one demo workbook (imports/demo: the Saitama, Gunma and Chiba KPI tables and
the Gunma monthly data) with one change a real branch document makes — a pillar numbered
`①` or `第1`, a header `指標名` instead of `KPI指標`, a title row above the header, a
footnote below the table, the Gunma progress-sheet layout of the monthly data — or a few
such changes together ("kitchen sink" variants). Imported, a variant must give the rows
the demo file gives (tests/test_import_variant_corpus.py compares the two exports).

The script writes the variants and `manifest.json`: for each variant its file, the demo
file it derives from, the demo files imported before it (the monthly data needs its KPIs),
what it changes, how its measure numbers map to the demo file's where it renumbers them
(`relabel`: "pillar|demo label" → variant label), and the exported cells its layout cannot
carry (`blank`: a progress sheet has no place for a breakdown's 備考).

The demo data has no year before 令和 (its earliest is 令和4年度), so no variant writes
平成 or H years.

Pure openpyxl, no Django: `variant_specs()` lists the variants without building them,
`build(spec)` makes one workbook, `variants()` makes them all.
"""

import argparse
import io
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

DEMO_DIR = Path(__file__).resolve().parent.parent / "imports" / "demo"

SAITAMA = "saitama_2023_kpi.xlsx"
GUNMA = "gunma_2023_kpi.xlsx"
CHIBA = "chiba_2024_kpi.xlsx"
MONTHLY = "gunma_2023_monthly.xlsx"
KPI_SHEET, MONTHLY_SHEET = "KPI", "月次"

BRANCH_NAMES = {"10": "群馬", "11": "埼玉", "12": "千葉"}
MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
ROMAN = "ⅠⅡⅢⅣⅤ"
KANJI = "一二三四五"


# --- the workbook as plain rows ---------------------------------------------------------------


@dataclass
class Sheet:
    title: str
    rows: list[list]
    merged: list[str] = field(default_factory=list)
    header_at: int = 0  # the header's index in rows (the first row in the demo files)

    @property
    def header(self) -> list:
        return self.rows[self.header_at]

    def column(self, label: str) -> int:
        return self.header.index(label)


@dataclass
class Book:
    sheets: list[Sheet]

    def sheet(self, title: str) -> Sheet:
        return next(s for s in self.sheets if s.title == title)


@cache
def _demo_rows(name: str) -> tuple:
    workbook = load_workbook(DEMO_DIR / name)
    sheets = []
    for worksheet in workbook.worksheets:
        rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
        width = max(len(row) for row in rows)
        sheets.append((worksheet.title, tuple(tuple(r + [None] * (width - len(r))) for r in rows)))
    return tuple(sheets)


def demo_book(name: str) -> Book:
    """A fresh, mutable copy of a demo workbook's cells."""
    return Book([Sheet(title, [list(row) for row in rows]) for title, rows in _demo_rows(name)])


def to_xlsx(book: Book) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in book.sheets:
        worksheet = workbook.create_sheet(sheet.title)
        for row_number, row in enumerate(sheet.rows, start=1):
            for column_number, value in enumerate(row, start=1):
                if value is None or value == "":
                    continue
                cell = worksheet.cell(row_number, column_number, value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text as written, never a formula
        for reference in sheet.merged:
            worksheet.merge_cells(reference)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- cell helpers --------------------------------------------------------------------------------


def fullwidth(text: str) -> str:
    """ASCII letters, digits and signs as their full-width forms (NFKC gives them back)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def data_rows(sheet: Sheet):
    rows = sheet.rows[sheet.header_at + 1 :]
    return (row for row in rows if any(v not in (None, "") for v in row))


def rename(sheet: Sheet, old: str, new: str) -> None:
    sheet.header[sheet.column(old)] = new


def map_column(sheet: Sheet, label: str, change: Callable) -> None:
    index = sheet.column(label)
    for row in data_rows(sheet):
        if row[index] not in (None, ""):
            row[index] = change(row[index])


def reorder_columns(sheet: Sheet, order: list[int]) -> None:
    sheet.rows = [[row[i] for i in order] for row in sheet.rows]


def insert_rows_above(sheet: Sheet, rows: list[list]) -> None:
    width = len(sheet.header)
    sheet.rows[:0] = [row + [None] * (width - len(row)) for row in rows]
    sheet.header_at += len(rows)


def fiscal_year(text: str) -> int:
    """令和5年度 → 2023 (the demo files write only 令和 years)."""
    return 2018 + int(re.fullmatch(r"令和(\d+)年度", text)[1])


PILLAR_NUMBER = re.compile(r"(\d)\s+(.*)")


def pillar_parts(text: str) -> tuple[int, str]:
    """`1 基盤的保険者機能関係` → (1, "基盤的保険者機能関係")."""
    match = PILLAR_NUMBER.fullmatch(text)
    return int(match[1]), match[2]


PILLAR_STYLES = {
    "space": lambda n: f"{n}\u3000",  # ideographic space; `1 ` is the demo files' own style
    "touten": lambda n: f"{n}、",
    "fullwidth_dot": lambda n: f"{fullwidth(str(n))}．",
    "paren": lambda n: f"({n})",
    "fullwidth_paren": lambda n: f"（{fullwidth(str(n))}）",
    "circled": lambda n: CIRCLED[n - 1],
    "roman": lambda n: f"{ROMAN[n - 1]} ",
    "kanji": lambda n: f"{KANJI[n - 1]}、",
    "dai": lambda n: f"第{n} ",
    "none": lambda n: "",
}


def restyle_pillars(book: Book, style: str, names: dict[int, str] | None = None) -> None:
    """Write each pillar with the numbering `style` (and, given `names`, another wording)."""
    prefix = PILLAR_STYLES[style]
    for sheet in _kpi_sheets(book):

        def change(text, sheet=sheet):
            number, name = pillar_parts(text)
            return prefix(number) + (names or {}).get(number, name)

        map_column(sheet, "区分", change)


MEASURE_STYLES = {
    # (number, sub-number or None) → label
    "paren": lambda n, s: f"({n})" if s is None else f"({n})-{s}",
    "bare": lambda n, s: f"{n}" if s is None else f"{n}-{s}",
    "circled": lambda n, s: f"({n})" if s is None else f"({n}){CIRCLED[s - 1]}",
    "fullwidth": lambda n, s: fullwidth(f"({n})" if s is None else f"({n})-{s}"),
}


def restyle_measures(book: Book, style: str) -> None:
    """Measure numbers `(1)` written `1` or `（１）`: the same numbers in another form."""
    write = MEASURE_STYLES[style]
    for sheet in _kpi_sheets(book):
        map_column(sheet, "施策番号", lambda text: write(int(text.strip("()")), None))


def sub_number_measures(book: Book, style: str) -> dict[str, str]:
    """Number measures the way a plan's sub-headings do: the Chiba plan's measures
    `(2) 業務改革の実践と業務品質の向上 ① …` … `(6) … ⑤ …` become `(2)-1` … `(2)-5`, and
    the measures after them move up (`(7)` → `(3)`). The same renumbering applies to every
    year's rows (the older years reuse the plan's numbers). Returns the renumbering,
    "pillar|old label" → new label."""
    write = MEASURE_STYLES[style]
    relabel: dict[str, str] = {}
    for sheet in _kpi_sheets(book):
        pillar_at, number_at, title_at = (sheet.column(c) for c in ("区分", "施策番号", "施策"))
        state: dict[int, tuple[str | None, int]] = {}  # pillar → (last parent title, number)
        for row in data_rows(sheet):
            pillar = pillar_parts(row[pillar_at])[0]
            key = f"{pillar}|{row[number_at]}"
            if key not in relabel:
                parent, sub = _parent_and_sub(row[title_at])
                last_parent, number = state.get(pillar, (None, 0))
                if sub is None or parent != last_parent:
                    number += 1
                state[pillar] = (parent if sub is not None else None, number)
                relabel[key] = write(number, sub)
            row[number_at] = relabel[key]
    return {key: label for key, label in relabel.items() if key.split("|")[1] != label}


def _parent_and_sub(title: str) -> tuple[str, int | None]:
    match = re.fullmatch(rf"(.*?)\s*([{CIRCLED}])\s*(.*)", title)
    if match is None:
        return title, None
    return match[1], CIRCLED.index(match[2]) + 1


def _kpi_sheets(book: Book) -> list[Sheet]:
    return [sheet for sheet in book.sheets if sheet.header and "区分" in sheet.header]


# --- the variants ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    name: str
    canonical: str
    mutates: str
    # Changes the book in place; may return what to expect of it: {"relabel": …, "blank": …}.
    make: Callable[[Book], dict | None]
    requires: tuple[str, ...] = ()
    # What the admin answers for headers the importer does not know, as the import command
    # takes it (`--map '担当者=-'`: 取り込まない).
    mapping: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return f"{self.name}.xlsx"


@dataclass(frozen=True)
class Variant:
    name: str
    file_name: str
    canonical: str
    requires: tuple[str, ...]
    mutates: str
    content: bytes
    relabel: dict[str, str]
    mapping: tuple[str, ...]
    # Exported cells the variant cannot carry, blank in its export:
    # [{"sheet", "column", "row": {column: value identifying the row}}].
    blank: list[dict]

    def manifest_entry(self) -> dict:
        return {
            "name": self.name,
            "file": self.file_name,
            "canonical": self.canonical,
            "requires": list(self.requires),
            "mutates": self.mutates,
            "relabel": self.relabel,
            "map": list(self.mapping),
            "blank": self.blank,
        }


def build(spec: Spec) -> Variant:
    book = demo_book(spec.canonical)
    expect = spec.make(book) or {}
    return Variant(
        spec.name,
        spec.file_name,
        spec.canonical,
        spec.requires,
        spec.mutates,
        to_xlsx(book),
        expect.get("relabel", {}),
        spec.mapping,
        expect.get("blank", []),
    )


def variants() -> list[Variant]:
    return [build(spec) for spec in variant_specs()]


def _kpi(book: Book) -> Sheet:
    return book.sheet(KPI_SHEET)


def _monthly(book: Book) -> Sheet:
    return book.sheet(MONTHLY_SHEET)


def _pillar_spec(name, canonical, style, mutates, names=None) -> Spec:
    return Spec(name, canonical, mutates, lambda book: restyle_pillars(book, style, names))


def _header_spec(name, canonical, old, new, change=None) -> Spec:
    def make(book):
        sheet = _kpi(book)
        if change:
            map_column(sheet, old, change)
        rename(sheet, old, new)

    mutates = f"header 「{old}」 written 「{new}」" + (" (cells to match)" if change else "")
    return Spec(name, canonical, mutates, make)


def _pillar_specs() -> list[Spec]:
    styles = [
        ("space", GUNMA, "1　基盤的…: number and a full-width space"),
        ("touten", SAITAMA, "1、基盤的…"),
        ("fullwidth_dot", CHIBA, "１．基盤的…"),
        ("paren", GUNMA, "(1)基盤的…"),
        ("fullwidth_paren", SAITAMA, "（１）基盤的…"),
        ("circled", CHIBA, "①基盤的…"),
        ("roman", GUNMA, "Ⅰ 基盤的…"),
        ("kanji", SAITAMA, "一、基盤的…"),
        ("dai", CHIBA, "第1 基盤的…"),
        ("none", SAITAMA, "基盤的保険者機能関係: no number"),
    ]
    specs = [
        _pillar_spec(f"pillar_{style}", canonical, style, f"pillar numbered {mutates}")
        for style, canonical, mutates in styles
    ]
    specs += [
        _pillar_spec(
            "pillar_name_without_kankei",
            SAITAMA,
            "space",
            "pillar names without 関係: 基盤的保険者機能, 戦略的保険者機能, 組織体制",
            {1: "基盤的保険者機能", 2: "戦略的保険者機能", 3: "組織体制"},
        ),
        _pillar_spec(
            "pillar_name_with_kankei",
            CHIBA,
            "space",
            "pillar names 基盤的保険者機能関係 … for Chiba's 基盤的保険者機能の盤石化 …",
            {1: "基盤的保険者機能関係", 2: "戦略的保険者機能関係", 3: "組織・運営体制関係"},
        ),
        _pillar_spec(
            "pillar_name_other_wording",
            GUNMA,
            "space",
            "pillar names 基盤的保険者機能 / 戦略的保険者機能の発揮 / 組織・運営体制の強化",
            {1: "基盤的保険者機能", 2: "戦略的保険者機能の発揮", 3: "組織・運営体制の強化"},
        ),
    ]
    return specs


def _measure_specs() -> list[Spec]:
    specs = [
        Spec(
            "measure_fullwidth",
            SAITAMA,
            "measure numbers （１） instead of (1)",
            lambda book: restyle_measures(book, "fullwidth"),
        ),
        Spec(
            "measure_bare",
            GUNMA,
            "measure numbers 1 instead of (1)",
            lambda book: restyle_measures(book, "bare"),
        ),
    ]
    for style, example in (
        ("paren", "(2)-1"),
        ("bare", "2-1"),
        ("circled", "(2)①"),
        ("fullwidth", "（２）－１"),
    ):
        specs.append(
            Spec(
                f"measure_sub_{style}",
                CHIBA,
                f"measures renumbered with sub-numbers as the plan's headings group them, "
                f"written {example} (expected labels: relabel)",
                lambda book, style=style: {"relabel": sub_number_measures(book, style)},
            )
        )
    return specs


def _header_specs() -> list[Spec]:
    def names(code):
        return BRANCH_NAMES[str(code)]

    aliases = [
        ("indicator_kpi", "KPI指標", "KPI", GUNMA),
        ("indicator_kpi_mei", "KPI指標", "KPI名", CHIBA),
        ("indicator_shihyo", "KPI指標", "指標", SAITAMA),
        ("indicator_shihyo_mei", "KPI指標", "指標名", GUNMA),
        ("target_mokuhyochi", "目標", "目標値", CHIBA),
        ("target_mokuhyo_kpi", "目標", "目標（KPI）", GUNMA),
        ("target_reiwa5", "目標", "令和5年度目標", SAITAMA),
        ("actual_jissekichi", "実績", "実績値", GUNMA),
        ("actual_reiwa5", "実績", "令和5年度実績", SAITAMA),
        ("actual_r5", "実績", "R5実績", SAITAMA),
        ("previous_reiwa4", "前年度実績", "令和4年度実績", SAITAMA),
        ("measure_sesakumei", "施策", "施策名", CHIBA),
        ("measure_gutaiteki", "施策", "具体的施策", SAITAMA),
        ("measure_gutaiteki_na", "施策", "具体的な施策", GUNMA),
        ("number_bango", "施策番号", "番号", SAITAMA),
        ("number_no", "施策番号", "No.", GUNMA),
        ("number_sesaku_no", "施策番号", "施策No", CHIBA),
        ("branch_shibu", "支部コード", "支部", CHIBA),
        ("mark_hyoka", "結果", "評価", SAITAMA),
        ("mark_tassei_jokyo", "結果", "達成状況", GUNMA),
    ]
    specs = [
        _header_spec(f"header_{name}", canonical, old, new) for name, old, new, canonical in aliases
    ]
    specs.append(_header_spec("header_branch_shibumei", SAITAMA, "支部コード", "支部名", names))
    return specs


def _cell_specs() -> list[Spec]:
    def kpi_cells(label, change):
        return lambda book: map_column(_kpi(book), label, change)

    return [
        Spec(
            "branch_name",
            SAITAMA,
            "branch cells 埼玉 instead of 11",
            kpi_cells("支部コード", lambda code: BRANCH_NAMES[code]),
        ),
        Spec(
            "branch_name_shibu",
            CHIBA,
            "branch cells 千葉支部 instead of 12",
            kpi_cells("支部コード", lambda code: BRANCH_NAMES[code] + "支部"),
        ),
        Spec(
            "branch_number_cell",
            GUNMA,
            "branch cells the number 10 (a numeric cell) instead of the text 10",
            kpi_cells("支部コード", int),
        ),
        Spec(
            "year_r",
            GUNMA,
            "year cells R5 / R4 instead of 令和5年度 / 令和4年度",
            kpi_cells("年度", lambda text: f"R{fiscal_year(text) - 2018}"),
        ),
        Spec(
            "year_western_number",
            SAITAMA,
            "year cells the number 2023 (a numeric cell)",
            kpi_cells("年度", fiscal_year),
        ),
        Spec(
            "year_western_nendo",
            CHIBA,
            "year cells 2024年度 / 2023年度 / 2022年度",
            kpi_cells("年度", lambda text: f"{fiscal_year(text)}年度"),
        ),
    ]


def _title_rows(book: Book) -> None:
    insert_rows_above(
        _kpi(book),
        [["令和5年度 埼玉支部 事業計画 実施状況（概要版）"], ["全国健康保険協会 埼玉支部"], []],
    )


def _merged_title(book: Book) -> None:
    sheet = _kpi(book)
    insert_rows_above(sheet, [["令和6年度 千葉支部 事業計画（案） KPI一覧"], []])
    sheet.merged.append(f"A1:{get_column_letter(len(sheet.header))}1")


def _blank_rows(book: Book) -> None:
    """A blank row after each measure, and two between the pillars."""
    sheet = _kpi(book)
    number_at, pillar_at = sheet.column("施策番号"), sheet.column("区分")
    rows, previous = sheet.rows[: sheet.header_at + 1], None
    blank = [None] * len(sheet.header)
    for row in data_rows(sheet):
        key = (row[pillar_at], row[number_at])
        if previous and key != previous:
            rows.append(list(blank))
            if key[0] != previous[0]:
                rows.append(list(blank))
        rows.append(row)
        previous = key
    sheet.rows = rows


def _note_rows(book: Book) -> None:
    """Footnotes below the table, in its first column, after a blank row."""
    sheet = _kpi(book)
    width = len(sheet.header)
    for text in (
        None,
        "※ 実績は令和6年3月末時点の速報値である。",
        "※ 結果欄　◎：計画を大幅に上回る　○：計画通り　△：計画を下回る",
    ):
        sheet.rows.append([text] + [None] * (width - 1))


EXTRA_COLUMNS_MAP = ("担当者=-", "確認欄=-")


def _extra_columns(book: Book) -> None:
    """Two columns the importer does not know: a person in charge and a checkmark."""
    sheet = _kpi(book)
    for index, row in enumerate(sheet.rows):
        if index == sheet.header_at:
            row[3:3] = ["担当者"]
            row.append("確認欄")
        elif index > sheet.header_at and any(v not in (None, "") for v in row):
            row[3:3] = ["千葉 太郎" if index % 2 else "房総 花子"]
            row.append("済")


def _reorder(book: Book) -> None:
    sheet = _kpi(book)
    reorder_columns(sheet, list(reversed(range(len(sheet.header)))))


def _fullwidth_labels(book: Book) -> None:
    """Numbers and labels typed in full width: branch, year, pillar, measure and activity
    numbers, indicator names, the KPI指標 header."""
    sheet = _kpi(book)
    map_column(sheet, "支部コード", fullwidth)
    map_column(sheet, "年度", lambda text: re.sub(r"\d+", lambda m: fullwidth(m[0]), text))
    map_column(sheet, "区分", lambda text: fullwidth(text[0]) + text[1:])
    map_column(sheet, "施策番号", fullwidth)
    map_column(sheet, "KPI指標", fullwidth)
    map_column(
        sheet, "事業内容", lambda text: re.sub(r"^\((\d+)\)", lambda m: fullwidth(m[0]), text)
    )
    rename(sheet, "KPI指標", fullwidth("KPI") + "指標")


def _fullwidth_values(book: Book) -> None:
    """Targets and figures typed in full width: ９６．５％以上, １００％."""
    sheet = _kpi(book)
    for label in ("目標", "実績", "前年度実績", "全国平均", "全国順位"):
        map_column(sheet, label, fullwidth)


def _split_sheets(book: Book) -> None:
    """The table over two sheets: pillar 1 on one, pillars 2 and 3 on the other, each with
    the header (the 指標 sheet stays last)."""
    sheet = _kpi(book)
    pillar_at = sheet.column("区分")
    rows = list(data_rows(sheet))
    cut = next(i for i, row in enumerate(rows) if row[pillar_at] != rows[0][pillar_at])
    first, rest = rows[:cut], rows[cut:]
    sheet.title = "KPI（1）"
    sheet.rows, sheet.header_at = [sheet.header, *first], 0
    book.sheets.insert(1, Sheet("KPI（2・3）", [list(sheet.header), *rest]))


def _notes_sheet(book: Book) -> None:
    book.sheets.insert(
        1,
        Sheet(
            "注記",
            [
                ["令和6年度 千葉支部 事業計画（案）について"],
                ["1. KPIは第6期保険者機能強化アクションプランに基づく。"],
                ["2. 令和5年度・令和4年度の行は一覧表の参考欄から転記した。"],
            ],
        ),
    )


def _layout_specs() -> list[Spec]:
    return [
        Spec("title_rows", SAITAMA, "two title rows and a blank row above the header", _title_rows),
        Spec(
            "merged_title",
            CHIBA,
            "a title row merged across the table's width above the header, and a blank row",
            _merged_title,
        ),
        Spec("blank_rows", GUNMA, "blank rows between measures and pillars", _blank_rows),
        Spec("note_rows", SAITAMA, "※ footnote rows below the table", _note_rows),
        Spec(
            "extra_columns",
            CHIBA,
            "two unknown columns (担当者 between the columns, 確認欄 at the end), which the "
            "admin maps to 取り込まない",
            _extra_columns,
            mapping=EXTRA_COLUMNS_MAP,
        ),
        Spec("columns_reordered", GUNMA, "columns in reverse order", _reorder),
        Spec(
            "fullwidth_labels",
            GUNMA,
            "full-width digits and brackets in branch, year, pillar, measure and activity "
            "numbers, indicator names and the KPI指標 header",
            _fullwidth_labels,
        ),
        Spec(
            "fullwidth_values",
            SAITAMA,
            "full-width targets, actuals, previous actuals, national averages and ranks",
            _fullwidth_values,
        ),
        Spec(
            "two_sheets_split",
            SAITAMA,
            "the KPI table over two sheets (pillar 1; pillars 2 and 3), each with its header",
            _split_sheets,
        ),
        Spec(
            "two_sheets_notes",
            CHIBA,
            "a notes sheet (no table) before the 指標 sheet",
            _notes_sheet,
        ),
    ]


def _kitchen_sink_saitama(book: Book) -> None:
    _blank_rows(book)
    restyle_pillars(book, "kanji")
    restyle_measures(book, "fullwidth")
    sheet = _kpi(book)
    map_column(sheet, "支部コード", lambda code: BRANCH_NAMES[code] + "支部")
    map_column(sheet, "年度", lambda text: f"R{fiscal_year(text) - 2018}")
    for old, new in (
        ("支部コード", "支部名"),
        ("KPI指標", "KPI名"),
        ("目標", "目標値"),
        ("実績", "R5実績"),
        ("施策", "施策名"),
        ("施策番号", "No."),
        ("結果", "評価"),
    ):
        rename(sheet, old, new)
    _note_rows(book)
    reorder_columns(sheet, [2, 3, 0, 1, *range(4, len(sheet.header))])
    _title_rows(book)


def _kitchen_sink_chiba(book: Book) -> dict:
    expect = {"relabel": sub_number_measures(book, "paren")}
    restyle_pillars(book, "roman")
    sheet = _kpi(book)
    map_column(sheet, "年度", lambda text: f"{fiscal_year(text)}年度")
    for old, new in (
        ("支部コード", "支部"),
        ("KPI指標", "指標名"),
        ("施策", "具体的な施策"),
        ("施策番号", "施策No"),
        ("結果", "達成状況"),
    ):
        rename(sheet, old, new)
    _extra_columns(book)
    _merged_title(book)
    _notes_sheet(book)
    return expect


def _kitchen_sink_gunma(book: Book) -> None:
    _fullwidth_values(book)
    _split_sheets(book)
    restyle_pillars(book, "none")
    restyle_measures(book, "bare")
    for sheet in _kpi_sheets(book):
        map_column(sheet, "支部コード", int)
        for old, new in (
            ("KPI指標", "KPI"),
            ("目標", "目標（KPI）"),
            ("施策番号", "番号"),
            ("施策", "具体的施策"),
        ):
            rename(sheet, old, new)


def _kitchen_sink_specs() -> list[Spec]:
    return [
        Spec(
            "kitchen_sink_saitama",
            SAITAMA,
            "pillars 一、 measures （１） branch 埼玉支部 year R5, headers 支部名 KPI名 目標値 "
            "R5実績 施策名 No. 評価, blank rows, footnotes, columns reordered, title rows",
            _kitchen_sink_saitama,
        ),
        Spec(
            "kitchen_sink_chiba",
            CHIBA,
            "pillars Ⅰ, sub-numbered measures (2)-1, year 2024年度, headers 支部 指標名 "
            "具体的な施策 施策No 達成状況, extra columns, merged title, notes sheet",
            _kitchen_sink_chiba,
            mapping=EXTRA_COLUMNS_MAP,
        ),
        Spec(
            "kitchen_sink_gunma",
            GUNMA,
            "pillars without numbers, measures 1, branch as a number, headers KPI 目標（KPI） "
            "番号 具体的施策, full-width values, the table over two sheets",
            _kitchen_sink_gunma,
        ),
    ]


# --- monthly variants ------------------------------------------------------------------------


def _monthly_spec(name, mutates, make) -> Spec:
    return Spec(name, MONTHLY, mutates, make, requires=(GUNMA,))


def _monthly_headers(book: Book) -> None:
    sheet = _monthly(book)
    map_column(sheet, "支部コード", BRANCH_NAMES.get)
    rename(sheet, "支部コード", "支部名")
    rename(sheet, "KPI指標", "指標名")


def _monthly_cells(book: Book) -> None:
    sheet = _monthly(book)
    map_column(sheet, "支部コード", int)
    map_column(sheet, "年度", lambda text: f"R{fiscal_year(text) - 2018}")


def _monthly_noise(book: Book) -> None:
    sheet = _monthly(book)
    width = len(sheet.header)
    rows = sheet.rows[: sheet.header_at + 1]
    previous = None
    for row in data_rows(sheet):
        if previous and row[1] != previous:
            rows.append([None] * width)
        rows.append(row)
        previous = row[1]
    rows += [[None] * width, ["※ 空欄は判読できない月"] + [None] * (width - 1)]
    sheet.rows = rows
    insert_rows_above(sheet, [["群馬支部 月次実績（令和5年度・令和4年度）"], []])
    sheet.merged.append(f"A1:{get_column_letter(width)}1")


def _monthly_fullwidth(book: Book) -> None:
    sheet = _monthly(book)
    map_column(sheet, "支部コード", fullwidth)
    map_column(sheet, "年度", lambda text: re.sub(r"\d+", lambda m: fullwidth(m[0]), text))
    map_column(sheet, "KPI指標", fullwidth)
    for month in MONTHS:
        map_column(sheet, f"{month}月", fullwidth)
        rename(sheet, f"{month}月", f"{fullwidth(str(month))}月")


def _monthly_reordered(book: Book) -> None:
    sheet = _monthly(book)
    reorder_columns(sheet, [3, 2, 1, 0, *reversed(range(4, len(sheet.header)))])


# What a progress sheet writes after 3月; the demo data has no written year figures, so the
# column is there and its cells are blank.
FIGURE_HEADERS = ("合計", "計", "累計", "平均")


def _progress_sheet(
    book: Book, *, kpi_place: str, branch: str, years: str, breakdowns: bool = False
) -> dict:
    """The 月次 sheet rewritten as the Gunma progress sheet (seed 003): one block per KPI,
    a caption row per series (`単月` or another caption, `累計`) with 4月 … 3月 and a year
    figure header, one row per fiscal year under it (令和4年度 then 令和5年度).

    `kpi_place`: "caption" (【KPI】name on the caption row, left of the caption) or "rows"
    (KPI指標：name beside the first year row, the seed's activity column); `branch`: "title"
    (a title row naming 群馬支部) or "cell" (支部 | 群馬); `years`: "era" (令和5年度) or "r" (R5).
    With `breakdowns`, the 月次内訳 rows of a KPI series in the sheet move under their year
    row, with their year figure in the last column (as the seed has 窓口件数 under the
    郵送化率 rows); their 備考 has no place there (`blank`). The other rows stay in 月次内訳."""
    monthly = _monthly(book)
    year_at, indicator_at, series_at = (monthly.column(c) for c in ("年度", "KPI指標", "系列"))
    month_at = [monthly.column(f"{month}月") for month in MONTHS]
    blocks: dict[str, dict[str, list[list]]] = {}
    for row in data_rows(monthly):
        blocks.setdefault(row[indicator_at], {}).setdefault(row[series_at], []).append(row)
    year_rows = {
        (indicator, series, row[year_at]): row
        for indicator, by_series in blocks.items()
        for series, rows in by_series.items()
        for row in rows
    }
    under = _breakdowns_under_year_rows(book, year_rows) if breakdowns else {}

    def year_label(text):
        return text if years == "era" else f"R{fiscal_year(text) - 2018}"

    if branch == "title":
        rows = [[None, "令和5年度 群馬支部 事業計画 進捗状況"], []]
    else:
        rows = [[None, "事業計画 進捗状況"], [None, "支部", "群馬"], []]
    blank = []
    for number, (indicator, by_series) in enumerate(blocks.items()):
        named = False
        for series in ("単月", "累計"):
            if series not in by_series:
                continue
            moved = [b for year in by_series[series] for b in under.get(id(year), [])]
            figure = next(
                (b.figure_label for b in moved if b.figure),
                FIGURE_HEADERS[(number + len(rows)) % len(FIGURE_HEADERS)],
            )
            caption = series if series == "累計" or number % 2 else "実績"
            kpi = f"【KPI】{indicator}" if kpi_place == "caption" and not named else None
            rows.append([kpi, caption, *(f"{month}月" for month in MONTHS), figure])
            in_year_order = sorted(by_series[series], key=lambda r: fiscal_year(r[year_at]))
            for position, row in enumerate(in_year_order):
                beside = None
                if kpi_place == "rows" and not named and position == 0:
                    beside = f"KPI指標：{indicator}"
                label = year_label(row[year_at])
                rows.append([beside, label, *(row[i] for i in month_at), None])
                for item in under.get(id(row), []):
                    rows.append([None, item.label, *item.months, item.figure])
                    if item.note:
                        blank.append(
                            {
                                "sheet": BREAKDOWN_SHEET,
                                "column": "備考",
                                "row": {
                                    "年度": fiscal_year(row[year_at]),
                                    "KPI指標": indicator,
                                    "内訳": item.label,
                                },
                            }
                        )
            named = True
        rows.append([])
    monthly.title, monthly.rows, monthly.header_at = "進捗", rows, 0
    return {"blank": blank}


BREAKDOWN_SHEET = "月次内訳"


@dataclass
class _Breakdown:
    label: str
    months: list
    figure: str | None
    figure_label: str | None
    note: str | None


def _breakdowns_under_year_rows(book: Book, year_rows: dict) -> dict[int, list[_Breakdown]]:
    """Take out of 月次内訳 the rows that can sit under a year row, `year_rows` being
    {(indicator, series, year text): row}: {id of the year row: its breakdowns}. The
    breakdowns of one series move only while they agree on the kind of year figure (the
    section has one last-column header)."""
    sheet = book.sheet(BREAKDOWN_SHEET)
    at = {label: sheet.column(label) for label in ("年度", "KPI指標", "内訳", "系列", "年計")}
    kind_at, note_at = sheet.column("年計の種類"), sheet.column("備考")
    month_at = [sheet.column(f"{month}月") for month in MONTHS]
    under: dict[int, list[_Breakdown]] = {}
    chosen: dict[tuple, str] = {}
    kept = []
    for row in data_rows(sheet):
        indicator, series = row[at["KPI指標"]], row[at["系列"]]
        year_row = year_rows.get((indicator, series, row[at["年度"]]))
        figure = row[at["年計"]]
        kind = row[kind_at] if figure else None
        if year_row is None or (kind and chosen.setdefault((indicator, series), kind) != kind):
            kept.append(row)
            continue
        months = [row[i] for i in month_at]
        item = _Breakdown(row[at["内訳"]], months, figure, kind, row[note_at])
        under.setdefault(id(year_row), []).append(item)
    sheet.rows = [sheet.header, *kept]
    return under


def _monthly_specs() -> list[Spec]:
    return [
        _monthly_spec(
            "monthly_headers",
            "headers 支部名 (cells 群馬) and 指標名 instead of 支部コード and KPI指標",
            _monthly_headers,
        ),
        _monthly_spec(
            "monthly_cells",
            "branch cells the number 10, year cells R5 / R4",
            _monthly_cells,
        ),
        _monthly_spec(
            "monthly_title_blank_note",
            "a merged title row, blank rows between the years, a ※ footnote below",
            _monthly_noise,
        ),
        _monthly_spec(
            "monthly_fullwidth",
            "full-width branch codes, years, indicator names, month headers (４月) and values",
            _monthly_fullwidth,
        ),
        _monthly_spec(
            "monthly_columns_reordered",
            "series, indicator, year, branch, then the months from 3月 back to 4月",
            _monthly_reordered,
        ),
        _monthly_spec(
            "progress_sheet",
            "the 月次 sheet as the Gunma progress sheet: a block per KPI (【KPI】name on its "
            "caption row), 実績/単月 and 累計 captions, rows 令和4年度 / 令和5年度, a last "
            "column 合計/計/累計/平均 (blank: the demo data writes no year figures), a title "
            "naming 群馬支部",
            lambda book: _progress_sheet(book, kpi_place="caption", branch="title", years="era"),
        ),
        _monthly_spec(
            "progress_sheet_branch_cell",
            "the progress sheet with the KPI named beside its first year row (KPI指標：name), "
            "the branch as 支部 | 群馬 cells, years R4 / R5",
            lambda book: _progress_sheet(book, kpi_place="rows", branch="cell", years="r"),
        ),
        _monthly_spec(
            "progress_sheet_breakdowns",
            "the progress sheet with the breakdowns of its KPI series (サービススタンダード's "
            "傷病手当金 …, 郵送化率's 窓口件数 …) under their year rows, their 年計 in the last "
            "column (its header the breakdowns' 年計の種類); the other breakdowns stay in 月次内訳",
            lambda book: _progress_sheet(
                book, kpi_place="caption", branch="title", years="era", breakdowns=True
            ),
        ),
    ]


def variant_specs() -> list[Spec]:
    specs = [
        *_pillar_specs(),
        *_measure_specs(),
        *_header_specs(),
        *_cell_specs(),
        *_layout_specs(),
        *_kitchen_sink_specs(),
        *_monthly_specs(),
    ]
    names = [spec.name for spec in specs]
    assert len(names) == len(set(names)), "variant names must be unique"
    return specs


def write_corpus(outdir: Path) -> list[Variant]:
    outdir.mkdir(parents=True, exist_ok=True)
    built = variants()
    for variant in built:
        (outdir / variant.file_name).write_bytes(variant.content)
    manifest = {
        "source": "imports/demo",
        "variants": [variant.manifest_entry() for variant in built],
    }
    (outdir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return built


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", type=Path, help="directory for the workbooks and manifest.json")
    args = parser.parse_args(argv)
    built = write_corpus(args.outdir)
    print(f"{len(built)} variants written to {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Finding a sheet's header row and what each of its columns is.

A header row is recognised by its labels (`imports.columns`: each column's label and
aliases), not by its position; extra columns are ignored and the order is free.
"""

import hashlib
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from imports.columns import (
    INDICATOR_COLUMNS,
    KPI_COLUMNS,
    MONTH_COLUMNS,
    MONTHLY_COLUMNS,
    Column,
    MonthColumn,
    normalise,
    year_column,
)
from imports.reading import HEADER_SCAN_ROWS
from kpis.vocabulary import KPI_LABELS


@dataclass
class Layout:
    """A recognised header row: what the sheet holds and which column is where."""

    kind: str  # "kpi" | "monthly" | "indicators"
    header_row: int
    columns: dict[int, Column] = field(default_factory=dict)  # 1-based index → column
    # Header cells that name no column and no admin's choice covers: index → text. The
    # preview asks what each is (the mapping step).
    unknown: dict[int, str] = field(default_factory=dict)
    # Columns an admin chose not to import (取り込まない).
    skipped: set[int] = field(default_factory=set)
    signature: str = ""

    def has(self, key: str) -> bool:
        return any(column.key == key for column in self.columns.values())


SCHEMAS = {"kpi": KPI_COLUMNS, "monthly": MONTHLY_COLUMNS, "indicators": INDICATOR_COLUMNS}
KIND_LABELS = {"kpi": "KPIの表", "monthly": "月次実績の表", "indicators": "指標の一覧"}
# Headers the exports write for readers, which the importer knows and ignores.
IGNORED_LABELS = {normalise(KPI_LABELS["achieved"])}


def header_signature(texts: tuple[str, ...]) -> str:
    """A header row's identity for remembering an admin's mapping: its normalised,
    non-blank texts in order."""
    joined = "\x1f".join(normalise(text) for text in texts if text)
    return hashlib.sha256(joined.encode()).hexdigest()


def _matches(
    texts: tuple[str, ...], columns: list[Column], choices: dict[str, str], years: bool
) -> dict[int, list[Column]]:
    """Header cell index → the columns it names. `years`: read headers naming a year and a
    KPI figure (令和5年度目標), which only KPI tables have."""
    by_label = {}
    for column in columns:
        for label in column.labels:
            by_label[label] = column
    by_key = {column.key: column for column in columns if not column.secondary}
    found: dict[int, list[Column]] = {}
    for index, text in enumerate(texts, start=1):
        if not text:
            continue
        key = normalise(text)
        column = by_label.get(key) or by_key.get(choices.get(key, ""))
        if column is None and years:
            column = year_column(text)
        if column is not None:
            found.setdefault(index, []).append(column)
    return found


def _kind_of(keys: set[str]) -> str | None:
    if {"branch", "fiscal_year"} <= keys:
        if "series" in keys or keys & {column.key for column in MONTH_COLUMNS}:
            return "monthly"
        if keys & {"pillar", "measure_no", "measure"}:
            return "kpi"
    if "indicator" in keys and keys & {"direction", "aggregation", "definition"}:
        return "indicators"
    return None


def find_layout(
    rows: list[tuple[int, tuple[str, ...]]], choices: dict[str, str] | None = None
) -> tuple[Layout | None, list[str]]:
    """The header among the first rows, and what is wrong with it (missing, doubled columns).

    `choices` are an admin's answers for headers the importer does not know:
    {normalised header text: column key, or "" for 取り込まない}.
    Returns (None, []) for a sheet with no header at all (a notes sheet, say).
    """
    choices = choices or {}
    every_column = [c for schema in SCHEMAS.values() for c in schema]
    near_miss = None
    for row_number, texts in rows:
        if row_number > HEADER_SCAN_ROWS:
            break
        matched = _matches(texts, every_column, choices, years=True)
        keys = {c.key for found in matched.values() for c in found}
        kind = _kind_of(keys)
        if kind is not None:
            found = _matches(texts, SCHEMAS[kind], choices, years=kind == "kpi")
            layout, problems = _layout(kind, row_number, found, SCHEMAS[kind])
            layout.signature = header_signature(texts)
            for index, text in enumerate(texts, start=1):
                if not text or index in found or normalise(text) in IGNORED_LABELS:
                    continue
                if normalise(text) in choices:
                    layout.skipped.add(index)
                else:
                    layout.unknown[index] = text
            return layout, problems
        if len(keys) >= 3 and near_miss is None:
            near_miss = (_likely_kind(keys), row_number, keys)
    if near_miss:
        kind, row_number, keys = near_miss
        missing = _missing(SCHEMAS[kind], keys)
        return None, [
            f"{row_number}行目は{KIND_LABELS[kind]}の見出しのようですが、"
            f"{'・'.join(f'「{m}」' for m in missing) or '必要な列'}がありません"
        ]
    return None, []


def _missing(columns: list[Column], keys: set[str]) -> list[str]:
    return [
        c.label
        for c in columns
        if (c.required or c.carried_by and c.carried_by not in keys)
        and not c.secondary
        and c.key not in keys
    ]


def _likely_kind(keys: set[str]) -> str:
    if "series" in keys or keys & {column.key for column in MONTH_COLUMNS}:
        return "monthly"
    if keys & {"direction", "aggregation", "definition"}:
        return "indicators"
    return "kpi"


def _layout(kind, row_number, found, columns) -> tuple[Layout, list[str]]:
    problems = []
    layout = Layout(kind=kind, header_row=row_number)
    seen: dict[str, int] = {}
    primary = {matched[0].key for matched in found.values() if not matched[0].secondary}
    for index, matched in found.items():
        column = matched[0]
        if column.secondary and column.key in primary:
            continue  # 支部 beside 支部コード: the code is read, the name is for people
        if column.key in seen:
            first, here = get_column_letter(seen[column.key]), get_column_letter(index)
            problems.append(f"見出し「{column.label}」が2列あります（{first}列と{here}列）")
            continue
        seen[column.key] = index
        layout.columns[index] = column
    missing = _missing(columns, set(seen))
    if missing:
        problems.append(
            f"{row_number}行目の見出しに{'・'.join(f'「{m}」' for m in missing)}がありません"
        )
    if kind == "monthly" and not any(isinstance(c, MonthColumn) for c in layout.columns.values()):
        problems.append(f"{row_number}行目の見出しに月の列（4月 … 3月）がありません")
    return layout, problems

"""Finding a sheet's header row and what each of its columns is.

A header row is recognised by its labels (`imports.columns`: each column's label and
aliases), not by its position; extra columns are ignored and the order is free.
"""

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
)
from imports.reading import HEADER_SCAN_ROWS


@dataclass
class Layout:
    """A recognised header row: what the sheet holds and which column is where."""

    kind: str  # "kpi" | "monthly" | "indicators"
    header_row: int
    columns: dict[int, Column] = field(default_factory=dict)  # 1-based index → column

    def has(self, key: str) -> bool:
        return any(column.key == key for column in self.columns.values())


SCHEMAS = {"kpi": KPI_COLUMNS, "monthly": MONTHLY_COLUMNS, "indicators": INDICATOR_COLUMNS}
KIND_LABELS = {"kpi": "KPIの表", "monthly": "月次実績の表", "indicators": "指標の一覧"}


def _matches(texts: tuple[str, ...], columns: list[Column]) -> dict[int, list[Column]]:
    by_label = {}
    for column in columns:
        for label in column.labels:
            by_label[label] = column
    found: dict[int, list[Column]] = {}
    for index, text in enumerate(texts, start=1):
        column = by_label.get(normalise(text)) if text else None
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


def find_layout(rows: list[tuple[int, tuple[str, ...]]]) -> tuple[Layout | None, list[str]]:
    """The header among the first rows, and what is wrong with it (missing, doubled columns).

    Returns (None, []) for a sheet with no header at all (a notes sheet, say).
    """
    every_column = [c for schema in SCHEMAS.values() for c in schema]
    near_miss = None
    for row_number, texts in rows:
        if row_number > HEADER_SCAN_ROWS:
            break
        keys = {c.key for found in _matches(texts, every_column).values() for c in found}
        kind = _kind_of(keys)
        if kind is not None:
            return _layout(kind, row_number, _matches(texts, SCHEMAS[kind]), SCHEMAS[kind])
        if len(keys) >= 3 and near_miss is None:
            near_miss = (_likely_kind(keys), row_number, keys)
    if near_miss:
        kind, row_number, keys = near_miss
        missing = [c.label for c in SCHEMAS[kind] if c.required and c.key not in keys]
        return None, [
            f"{row_number}行目は{KIND_LABELS[kind]}の見出しのようですが、"
            f"{'・'.join(f'「{m}」' for m in missing) or '必要な列'}がありません"
        ]
    return None, []


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
    for index, matched in found.items():
        column = matched[0]
        if column.key in seen:
            first, here = get_column_letter(seen[column.key]), get_column_letter(index)
            problems.append(f"見出し「{column.label}」が2列あります（{first}列と{here}列）")
            continue
        seen[column.key] = index
        layout.columns[index] = column
    keys = set(seen)
    missing = [c.label for c in columns if c.required and c.key not in keys]
    if missing:
        problems.append(
            f"{row_number}行目の見出しに{'・'.join(f'「{m}」' for m in missing)}がありません"
        )
    if kind == "monthly" and not any(isinstance(c, MonthColumn) for c in layout.columns.values()):
        problems.append(f"{row_number}行目の見出しに月の列（4月 … 3月）がありません")
    return layout, problems

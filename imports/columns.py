"""The columns of the two workbook formats, and finding them by their header labels.

Each column knows its Japanese label, the aliases it also answers to (English keys such as
`target`) and how to `clean()` a cell's text into a typed value, raising `CellError` with a
message an admin can act on. Header rows are found by their labels, not their position;
extra columns are ignored and the order is free.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from openpyxl.utils import get_column_letter

from imports.problems import CellError
from imports.reading import HEADER_SCAN_ROWS
from kpis import eras
from kpis.notation import UNITS, Kind, parse_rank, parse_target, parse_value
from kpis.vocabulary import (
    ACHIEVED_WORDS,
    AGGREGATION_LABELS,
    CIRCLED,
    DIRECTION_LABELS,
    INDICATOR_LABELS,
    KPI_LABELS,
    MARK_ALIASES,
    MARK_SOURCE_LABELS,
    MARKS,
    MONTH_LABELS,
    MONTHLY_LABELS,
    SERIES_LABELS,
    Aggregation,
    Direction,
    MarkSource,
)

# A workbook repeats the same few thousand texts across tens of thousands of cells; a
# Reading is immutable, so each distinct text is parsed once.
read_value = functools.lru_cache(maxsize=1 << 16)(parse_value)

TRUE_FLAGS = {"高", "○", "〇", "◯", "●", "有", "あり", "はい", "yes", "true", "1"}
FALSE_FLAGS = {"", "—", "-", "ー", "無", "なし", "いいえ", "no", "false", "0", "低", "中"}

# The earliest fiscal year a plan can belong to; the latest is a few years ahead.
FIRST_FISCAL_YEAR = 1989


def normalise(text: str) -> str:
    """Header and key comparison: NFKC, no spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def indicator_key(name: str) -> str:
    """Indicator names match whatever their width and spacing (ジェネリック… = ｼﾞｪﾈﾘｯｸ…)."""
    return normalise(name)


def clean_indicator_name(text: str) -> str:
    """The name as written, spaces tidied; matching uses `indicator_key`."""
    return re.sub(r"\s+", " ", text).strip()


class Column:
    """One column: the labels it is found by and how a cell is read."""

    empty = ""

    def __init__(self, key: str, label: str, *aliases: str, required: bool = False):
        self.key = key
        self.label = label
        self.aliases = aliases
        self.required = required

    def __repr__(self):
        return f"<{type(self).__name__} {self.key}>"

    @property
    def labels(self) -> set[str]:
        return {normalise(self.label), self.key, *(normalise(a) for a in self.aliases)}

    def clean(self, text: str, lookups):
        if text == "":
            if self.required:
                raise CellError(f"{self.label}がありません")
            return self.empty
        return self.read(text, lookups)

    def read(self, text: str, lookups):
        return text


class TextColumn(Column):
    def __init__(self, *args, max_length: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_length = max_length

    def read(self, text, lookups):
        if self.max_length and len(text) > self.max_length:
            raise CellError(
                f"{self.label}が長すぎます（{len(text)}文字。{self.max_length}文字まで）"
            )
        return text


class BranchColumn(Column):
    def read(self, text, lookups):
        branch = lookups.branch(text)
        if branch is None:
            raise CellError(
                f"支部「{text}」が見つかりません"
                "（支部コード 01〜47 か、埼玉・埼玉支部のような支部名）"
            )
        return branch


class FiscalYearColumn(Column):
    def read(self, text, lookups):
        year = eras.parse_fiscal_year(text)
        if year is None:
            raise CellError(
                f"年度「{text}」を読めません（2023、FY2023、令和5年度、R5 のように書いてください）"
            )
        last = date.today().year + settings.IMPORT_MAX_YEARS_AHEAD
        if not FIRST_FISCAL_YEAR <= year <= last:
            raise CellError(f"年度「{text}」は範囲外です（{FIRST_FISCAL_YEAR}〜{last}年度）")
        return year


class PillarColumn(Column):
    """`1 基盤的保険者機能関係`, `2．戦略的保険者機能` → (number, name)."""

    PATTERN = re.compile(r"([0-9０-９]{1,2})\s*[.．、。:：)）\-－]?\s*(.*)", re.S)

    def read(self, text, lookups):
        match = self.PATTERN.fullmatch(text.strip())
        if match is None:
            raise CellError(f"区分「{text}」の先頭に番号がありません（例: 1 基盤的保険者機能）")
        name = match[2].strip()
        if not name:
            raise CellError(f"区分「{text}」に名前がありません（例: 1 基盤的保険者機能）")
        if len(name) > 100:
            raise CellError(f"区分「{text}」が長すぎます（100文字まで）")
        return int(unicodedata.normalize("NFKC", match[1])), name


class MeasureNumberColumn(Column):
    """`(1)`, `（１）`, `1` → 1."""

    PATTERN = re.compile(r"\(?\s*(\d{1,3})\s*\)?\.?")

    def read(self, text, lookups):
        match = self.PATTERN.fullmatch(unicodedata.normalize("NFKC", text).strip())
        if match is None or int(match[1]) == 0:
            raise CellError(
                f"施策番号「{text}」を読めません（(1)、（１）、1 のように書いてください）"
            )
        return int(match[1])


class FlagColumn(Column):
    """重要度・困難度: `高` or blank."""

    empty = False

    def read(self, text, lookups):
        value = normalise(text).removeprefix(normalise(self.label)).lstrip(":")
        if value in TRUE_FLAGS:
            return True
        if value in FALSE_FLAGS:
            return False
        raise CellError(f"{self.label}「{text}」は「高」か空欄で書いてください")


def split_activity_number(text: str) -> tuple[int | None, str]:
    """`① 評議会において…`, `(2) …`, `（２）…` → (2, "…"); unnumbered → (None, text)."""
    # NFKC turns ①..㊿ into digits, so they are read before normalising.
    if text[:1] in CIRCLED:
        return CIRCLED[text[0]], text[1:].strip()
    if match := _NUMBERED.fullmatch(text):
        return int(unicodedata.normalize("NFKC", match[1])), match[2].strip()
    return None, text


_NUMBERED = re.compile(r"[(（]\s*([0-9０-９]{1,2})\s*[)）]\s*(.*)", re.S)


class IndicatorColumn(Column):
    empty = None

    def read(self, text, lookups):
        name = clean_indicator_name(text)
        if len(name) > 200:
            raise CellError(f"KPI指標の名前が長すぎます（{len(name)}文字。200文字まで）")
        return name


class UnitColumn(Column):
    def read(self, text, lookups):
        unit = unicodedata.normalize("NFKC", text).strip()
        if unit not in UNITS:
            raise CellError(f"単位「{text}」は使えません（使える単位: {'、'.join(UNITS)}）")
        return unit


class TargetColumn(Column):
    """A target as written (`96.5%以上`, `対前年度以上`, `効果的な意見発信の実施`)."""

    def read(self, text, lookups):
        if len(text) > 200:
            raise CellError(f"{self.label}が長すぎます（200文字まで）")
        if parse_target(text).kind is Kind.UNPARSED:
            raise CellError(f"{self.label}「{text}」を読めません")
        return text


class ValueColumn(Column):
    """An actual, previous actual or national average (`95.3%`, `△5`, `82.9% (R5.11診療)`)."""

    def read(self, text, lookups):
        if len(text) > 200:
            raise CellError(f"{self.label}が長すぎます（200文字まで）")
        if read_value(text).kind is Kind.UNPARSED:
            raise CellError(f"{self.label}「{text}」を読めません")
        return text


class RankColumn(Column):
    empty = None

    def read(self, text, lookups):
        rank = parse_rank(text)
        if rank is None or rank > 47:
            raise CellError(f"全国順位「{text}」を読めません（1〜47 の順位。20位 か 20）")
        return rank


class MarkColumn(Column):
    """◎○△×— (and look-alikes) or 達成/未達成; blank → the rule's mark."""

    def read(self, text, lookups):
        mark = MARK_ALIASES.get(unicodedata.normalize("NFKC", text).strip().lower())
        if mark is None:
            mark = MARK_ALIASES.get(text.strip())
        if mark is None:
            raise CellError(
                f"結果「{text}」は {' '.join(MARKS)} か、{'・'.join(ACHIEVED_WORDS.values())}で"
                "書いてください"
            )
        return mark


class MarkSourceColumn(Column):
    """How the mark was set: `manual` (a person's) or `computed` (the rule's)."""

    VALUES = {
        **{source.value: source.value for source in MarkSource},
        **{label: source.value for source, label in MARK_SOURCE_LABELS.items()},
    }
    HINT = f"{MarkSource.MANUAL}（{MARK_SOURCE_LABELS[MarkSource.MANUAL]}）か " + (
        f"{MarkSource.COMPUTED}（{MARK_SOURCE_LABELS[MarkSource.COMPUTED]}）"
    )

    def read(self, text, lookups):
        value = self.VALUES.get(normalise(text))
        if value is None:
            raise CellError(f"結果の根拠「{text}」は {self.HINT} で書いてください")
        return value


class ChoiceColumn(Column):
    def __init__(self, *args, choices: dict[str, str], hint: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = {normalise(k): v for k, v in choices.items()}
        self.hint = hint

    def read(self, text, lookups):
        value = self.choices.get(normalise(text))
        if value is None:
            raise CellError(f"{self.label}「{text}」を読めません（{self.hint}）")
        return value


class MonthColumn(Column):
    """One month of a monthly row: `4月`, `4`, `4月分`. Cells use the notation module."""

    def __init__(self, month: int):
        super().__init__(f"m{month}", MONTH_LABELS[month], str(month), f"{month}月分")
        self.month = month

    def read(self, text, lookups):
        if len(text) > 100:
            raise CellError(f"{self.label}の値が長すぎます（100文字まで）")
        if read_value(text).kind is Kind.UNPARSED:
            raise CellError(f"{self.label}「{text}」を読めません")
        return text


def _choices(labels: dict, aliases: dict[str, str] | None = None) -> dict[str, str]:
    """What a choice column accepts: each value, its label and the extra aliases."""
    return {
        **{value.value: value.value for value in labels},
        **{label: value.value for value, label in labels.items()},
        **(aliases or {}),
    }


SERIES = _choices(SERIES_LABELS)
DIRECTIONS = _choices(DIRECTION_LABELS, {"高": Direction.HIGHER.value, "低": Direction.LOWER.value})
# 単月合計: what exports wrote before they wrote the label.
AGGREGATIONS = _choices(AGGREGATION_LABELS, {"単月合計": Aggregation.SUM.value})

BRANCH = BranchColumn("branch", KPI_LABELS["branch"], "branch_code", required=True)
FISCAL_YEAR = FiscalYearColumn("fiscal_year", KPI_LABELS["fiscal_year"], required=True)
INDICATOR = IndicatorColumn("indicator", KPI_LABELS["indicator"])

KPI_COLUMNS = [
    BRANCH,
    FISCAL_YEAR,
    PillarColumn("pillar", KPI_LABELS["pillar"], required=True),
    MeasureNumberColumn("measure_no", KPI_LABELS["measure_no"], required=True),
    TextColumn("measure", KPI_LABELS["measure"], max_length=300, required=True),
    TextColumn("group", KPI_LABELS["group"], max_length=50),
    FlagColumn("importance", KPI_LABELS["importance"]),
    FlagColumn("difficulty", KPI_LABELS["difficulty"]),
    TextColumn("activity", KPI_LABELS["activity"]),
    INDICATOR,
    UnitColumn("unit", KPI_LABELS["unit"]),
    TargetColumn("target", KPI_LABELS["target"]),
    ValueColumn("actual", KPI_LABELS["actual"]),
    ValueColumn("previous_actual", KPI_LABELS["previous_actual"]),
    ValueColumn("national_average", KPI_LABELS["national_average"]),
    RankColumn("national_rank", KPI_LABELS["national_rank"]),
    MarkColumn("mark", KPI_LABELS["mark"]),
    MarkSourceColumn("mark_source", KPI_LABELS["mark_source"]),
    TextColumn("mark_reason", KPI_LABELS["mark_reason"]),
    TextColumn("note", KPI_LABELS["note"]),
    TextColumn("plan_text", KPI_LABELS["plan_text"]),
    TextColumn("challenges", KPI_LABELS["challenges"]),
    TextColumn("narrative", KPI_LABELS["narrative"]),
]

MONTH_COLUMNS = [MonthColumn(month) for month in eras.FISCAL_MONTHS]

MONTHLY_COLUMNS = [
    BRANCH,
    FISCAL_YEAR,
    IndicatorColumn("indicator", MONTHLY_LABELS["indicator"], required=True),
    ChoiceColumn(
        "series",
        MONTHLY_LABELS["series"],
        choices=SERIES,
        hint=" か ".join(SERIES_LABELS.values()),
        required=True,
    ),
    *MONTH_COLUMNS,
]

INDICATOR_COLUMNS = [
    IndicatorColumn("indicator", INDICATOR_LABELS["indicator"], "指標", required=True),
    UnitColumn("unit", INDICATOR_LABELS["unit"]),
    ChoiceColumn(
        "direction",
        INDICATOR_LABELS["direction"],
        choices=DIRECTIONS,
        hint="・".join(Direction),
    ),
    ChoiceColumn(
        "aggregation",
        INDICATOR_LABELS["aggregation"],
        choices=AGGREGATIONS,
        hint="・".join(AGGREGATION_LABELS.values()),
    ),
    TextColumn("definition", INDICATOR_LABELS["definition"]),
]


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

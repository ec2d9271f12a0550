"""The columns of the two workbook formats, and finding them by their header labels.

Each column knows its Japanese label, the aliases it also answers to (English keys such as
`target`) and how to `clean()` a cell's text into a typed value, raising `CellError` with a
message an admin can act on. Header rows are found by their labels, not their position;
extra columns are ignored and the order is free.
"""

import functools
import re
import unicodedata
from datetime import date

from django.conf import settings

from imports.problems import CellError
from kpis import eras
from kpis.notation import UNITS, Kind, parse_rank, parse_target, parse_value
from kpis.numbering import NATIONAL_PILLARS, measure_sort_key, national_pillar_number
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
    """`1 基盤的保険者機能関係`, `基盤的保険者機能の盤石化` → (national pillar number, the
    name as written without its number)."""

    PATTERN = re.compile(r"(?:[0-9０-９]{1,2}\s*[.．、。:：)）\-－]?)?\s*(.*)", re.S)

    def read(self, text, lookups):
        name = self.PATTERN.fullmatch(text.strip())[1].strip()
        if len(name) > 100:
            raise CellError(f"区分「{text}」が長すぎます（100文字まで）")
        number = national_pillar_number(name)
        if number is None:
            names = "・".join(f"「{n}」" for n in NATIONAL_PILLARS.values())
            raise CellError(f"区分「{text}」が全国の区分（{names}）のどれにも当たりません")
        return number, name


class MeasureNumberColumn(Column):
    """`(1)`, `（１）`, `1`, `(1)-1`, `1-2`, `(1)①` → (label as written, sort key)."""

    def read(self, text, lookups):
        label = text.strip()
        key = measure_sort_key(label)
        if key is None or len(label) > 20:
            raise CellError(
                f"施策番号「{text}」を読めません（(1)、（１）、1、(1)-1 のように書いてください）"
            )
        return label, key


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

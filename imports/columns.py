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
from typing import NamedTuple

from django.conf import settings

from imports.problems import CellError
from kpis import eras
from kpis.notation import UNITS, Kind, parse_rank, parse_target, read_value
from kpis.numbering import (
    MAX_LABEL_LENGTH,
    NATIONAL_PILLARS,
    measure_sort_key,
    national_pillar_number,
    split_pillar,
)
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
    NOT_TAGS,
    SERIES_LABELS,
    SUBGROUP_MARKERS,
    TAG_CLOSE,
    TAG_OPEN,
    Aggregation,
    Direction,
    MarkSource,
)

TRUE_FLAGS = {"高", "○", "〇", "◯", "●", "有", "あり", "はい", "yes", "true", "1"}
FALSE_FLAGS = {"", "—", "-", "ー", "無", "なし", "いいえ", "no", "false", "0", "低", "中"}

# The earliest fiscal year a plan can belong to; the latest is a few years ahead.
FIRST_FISCAL_YEAR = 1989


@functools.lru_cache(maxsize=1 << 14)
def normalise(text: str) -> str:
    """Header and key comparison: NFKC, no spaces, lower case. (Cached: a national workbook
    names each of its few hundred indicators on thousands of rows.)"""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def indicator_key(name: str) -> str:
    """Indicator names match whatever their width and spacing (ジェネリック… = ｼﾞｪﾈﾘｯｸ…)."""
    return normalise(name)


def clean_indicator_name(text: str) -> str:
    """The name as written, spaces tidied; matching uses `indicator_key`."""
    return re.sub(r"\s+", " ", text).strip()


class Column:
    """One column: the labels it is found by and how a cell is read.

    A `secondary` column answers for its key only when the sheet has no primary column of
    that key (支部 beside 支部コード, as the exports write them, is read for people only).
    A column `carried_by` another is required in a header without that one (施策番号 may be
    written in the 施策 cell: `(1) 健全な財政運営`)."""

    empty = ""
    # Whether what a cell gives follows from its text alone (no lookup): then a sheet's
    # repeated texts (a national monthly workbook's months) are read once per column.
    by_text = False

    def __init__(
        self,
        key: str,
        label: str,
        *aliases: str,
        required: bool = False,
        secondary=False,
        carried_by: str = "",
    ):
        self.key = key
        self.label = label
        self.aliases = aliases
        self.required = required
        self.secondary = secondary
        self.carried_by = carried_by

    def __repr__(self):
        return f"<{type(self).__name__} {self.key}>"

    @property
    def labels(self) -> set[str]:
        labels = {normalise(self.label), *(normalise(a) for a in self.aliases)}
        return labels if self.secondary else labels | {self.key}

    def clean(self, text: str, lookups):
        if text == "":
            if self.required:
                raise CellError(f"{self.label}がありません")
            return self.empty
        return self.read(text, lookups)

    def read(self, text: str, lookups):
        return text


class TextColumn(Column):
    by_text = True

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


class PillarCell(NamedTuple):
    number: int  # the national pillar the name identifies
    label: str  # the name as the branch wrote it, without its number
    written: int | None  # the number written before the name, if any


class PillarColumn(Column):
    """`1 基盤的保険者機能関係`, `（１）基盤的保険者機能の盤石化`, `Ⅲ 組織・運営体制の強化`,
    `戦略的保険者機能関係` → PillarCell. The name identifies the national pillar; a written
    number that says otherwise is reported by the caller (the name wins)."""

    def read(self, text, lookups):
        written, name = split_pillar(text)
        if len(name) > 100:
            raise CellError(f"区分「{text}」が長すぎます（100文字まで）")
        number = national_pillar_number(name)
        if number is None:
            names = "・".join(f"「{n}」" for n in NATIONAL_PILLARS.values())
            raise CellError(f"区分「{text}」が全国の区分（{names}）のどれにも当たりません")
        return PillarCell(number, name, written)


MEASURE_NUMBER_HINT = "(1)、（１）、1、(1)-1、1-2、(1)① のように書いてください"


class MeasureNumberColumn(Column):
    """`(1)`, `（１）`, `1`, `(1)-1`, `1-2`, `(1)①`, `1.`, `①` → (label as written, sort key).

    Not required: a 施策 written `(1) 健全な財政運営` carries its number (the caller splits
    it when this column is absent or blank)."""

    def read(self, text, lookups):
        label = text.strip()
        key = measure_sort_key(label)
        if key is None or len(label) > MAX_LABEL_LENGTH:
            raise CellError(f"施策番号「{text}」を読めません（{MEASURE_NUMBER_HINT}）")
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


def split_tags(text: str) -> tuple[str, str]:
    """`【新設】96.5%以上` → ("96.5%以上", "【新設】"): the tags written at the start or end
    of a target or KPI text, and the text without them. 【重要度：高】 and the like stay in
    the text (they are the measure's flags, not the KPI's tags); 【KPI】 is dropped."""
    text = text.strip()
    tags = []
    while True:
        if text.startswith(TAG_OPEN) and (end := text.find(TAG_CLOSE)) > 0:
            tag, rest = text[: end + 1], text[end + 1 :]
        elif text.endswith(TAG_CLOSE) and (start := text.rfind(TAG_OPEN)) >= 0:
            tag, rest = text[start:], text[:start]
        else:
            break
        inner = unicodedata.normalize("NFKC", tag[1:-1]).strip()
        if not inner or len(inner) > 10 or TAG_OPEN in inner or "度" in inner:
            break
        if inner not in NOT_TAGS:
            tags.append(TAG_OPEN + inner + TAG_CLOSE)
        text = rest.strip()
    return text, "".join(tags)


def bracketed_tags(text: str) -> str:
    """A タグ cell: `【新設】【重点】`, or words `新設 重点` / `新設、重点` → `【新設】【重点】`."""
    if TAG_OPEN in text:
        return text.strip()
    words = re.split(r"[\s、,，・]+", text.strip())
    return "".join(f"{TAG_OPEN}{word}{TAG_CLOSE}" for word in words if word)


_SUBGROUP = re.compile(
    rf"[{SUBGROUP_MARKERS}]\s*(?P<name>[^\s(（{SUBGROUP_MARKERS}]+(?:\s*[(（][^)）\n]*[)）])?)"
    r"[^\S\n]*(?:\n|(?=\S)|$)\s*",
)


def split_subgroup(text: str) -> tuple[str | None, str]:
    """`●被保険者 (生活習慣病予防健診)\n生活習慣病予防健診実施率を…` → ("被保険者 (生活習慣病
    予防健診)", "生活習慣病予防健診実施率を…"): the sub-group a report writes before a KPI,
    without its marker; (None, text) when the text starts with no marker."""
    match = _SUBGROUP.match(text.strip())
    if match is None:
        return None, text
    return match["name"], text.strip()[match.end() :]


def split_activity_number(text: str) -> tuple[int | None, str]:
    """`① 評議会において…`, `(2) …`, `（２）…` → (2, "…"); unnumbered → (None, text)."""
    # NFKC turns ①..㊿ into digits, so they are read before normalising.
    if text[:1] in CIRCLED:
        return CIRCLED[text[0]], text[1:].strip()
    if match := _NUMBERED.fullmatch(text):
        return int(unicodedata.normalize("NFKC", match[1])), match[2].strip()
    return None, text


_NUMBERED = re.compile(r"[(（]\s*([0-9０-９]{1,2})\s*[)）]\s*(.*)", re.S)


class ActivityNumberColumn(Column):
    """Which numbered activity a KPI is: `③`, `(3)`, `3`."""

    empty = None

    def read(self, text, lookups):
        number, rest = split_activity_number(text.strip())
        if number is None and not rest.strip():
            return None
        if number is None:
            number = int(text) if text.strip().isdigit() and len(text.strip()) <= 2 else None
        elif rest:
            number = None
        if not number:
            raise CellError(
                f"{self.label}「{text}」を読めません（③、(3)、3 のように書いてください）"
            )
        return number


class SubgroupColumn(Column):
    """A KPI's sub-group (`●被保険者`, `被扶養者`), stored without its marker."""

    def read(self, text, lookups):
        name = text.strip().lstrip(SUBGROUP_MARKERS).strip()
        if len(name) > 50:
            raise CellError(f"{self.label}「{text}」が長すぎます（50文字まで）")
        return name


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
    """A target as written (`96.5%以上`, `対前年度以上`, `効果的な意見発信の実施`), tags
    such as `【新設】` beside it allowed (the caller keeps them apart)."""

    def read(self, text, lookups):
        if len(text) > 200:
            raise CellError(f"{self.label}が長すぎます（200文字まで）")
        bare = split_tags(text)[0]
        if bare and parse_target(bare).kind is Kind.UNPARSED:
            raise CellError(f"{self.label}「{text}」を読めません")
        return text


class ValueColumn(Column):
    """An actual, previous actual or national average (`95.3%`, `△5`, `82.9% (R5.11診療)`)."""

    def read(self, text, lookups):
        if len(text) > 200:
            raise CellError(f"{self.label}が長すぎます（200文字まで）")
        bare = split_tags(text)[0]
        if bare and read_value(bare).kind is Kind.UNPARSED:
            raise CellError(f"{self.label}「{text}」を読めません")
        return text


# 令和5年度目標, R5実績, 2023年度実績値, R5年度KPI: a figure of the year the header names.
_YEAR_FIGURE = re.compile(
    r"(?P<year>.+?)(?P<what>目標値?|kpi目標|kpi|実績値?|kpi実績|kpi結果)(?:\(kpi\))?"
)
_YEAR_FIGURE_KINDS = {"目標": "target", "目標値": "target", "kpi目標": "target", "kpi": "target"}


class YearTargetColumn(TargetColumn):
    """A target under a header naming its year (`令和5年度目標`): this year's target in a row
    of that year, another year's figure of the same KPI otherwise."""

    figure = "target"

    def __init__(self, label: str, year: int):
        super().__init__(f"{self.figure}@{year}", label)
        self.year = year


class YearActualColumn(ValueColumn):
    """An actual under a header naming its year (`令和5年度実績`, `R5実績`): this year's in a
    row of that year, 前年度実績 in a row of the year after, another year's figure otherwise."""

    figure = "actual"

    def __init__(self, label: str, year: int):
        super().__init__(f"{self.figure}@{year}", label)
        self.year = year


def year_column(text: str) -> Column | None:
    """The column a header naming a fiscal year and a figure stands for, or None."""
    match = _YEAR_FIGURE.fullmatch(normalise(text))
    if match is None:
        return None
    year = eras.parse_fiscal_year(match["year"].removesuffix("年度") + "年度")
    if year is None:
        return None
    kind = _YEAR_FIGURE_KINDS.get(match["what"], "actual")
    return (YearTargetColumn if kind == "target" else YearActualColumn)(text.strip(), year)


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
    """How the mark was set: 手動 (a person's) or 自動判定 (the rule's); the codes `manual`
    and `computed`, which older files say, are read too."""

    VALUES = {
        **{
            normalise(text): source.value
            for source, label in MARK_SOURCE_LABELS.items()
            for text in (source.value, label)
        },
        "自動": MarkSource.COMPUTED.value,
    }
    HINT = " か ".join(
        MARK_SOURCE_LABELS[source] for source in (MarkSource.MANUAL, MarkSource.COMPUTED)
    )

    def read(self, text, lookups):
        value = self.VALUES.get(normalise(text))
        if value is None:
            raise CellError(f"結果の根拠「{text}」は {self.HINT} で書いてください")
        return value


class ChoiceColumn(Column):
    by_text = True

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

    by_text = True

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

# Every header the importer knows is here: a column's label (the one the exports and
# templates write) and the aliases people write instead (`imports.headers` matches them
# after `normalise`, so width, spaces and case do not matter). Headers naming a year
# (令和5年度目標, R5実績) are read by `year_column`.
BRANCH = BranchColumn("branch", KPI_LABELS["branch"], "branch_code", required=True)
BRANCH_NAME = BranchColumn(
    "branch", KPI_LABELS["branch_name"], "支部名", "branch_name", required=True, secondary=True
)
FISCAL_YEAR = FiscalYearColumn("fiscal_year", KPI_LABELS["fiscal_year"], required=True)
INDICATOR_ALIASES = ("KPI", "KPI名", "指標", "指標名", "KPI指標名")
INDICATOR = IndicatorColumn("indicator", KPI_LABELS["indicator"], *INDICATOR_ALIASES)

KPI_COLUMNS = [
    BRANCH,
    BRANCH_NAME,
    FISCAL_YEAR,
    PillarColumn("pillar", KPI_LABELS["pillar"], required=True),
    MeasureNumberColumn(
        "measure_no",
        KPI_LABELS["measure_no"],
        "番号",
        "No.",
        "No",
        "施策No",
        "施策No.",
        carried_by="measure",
    ),
    TextColumn(
        "measure",
        KPI_LABELS["measure"],
        "施策名",
        "具体的施策",
        "具体的な施策",
        "事業計画重点事項",
        max_length=300,
        required=True,
    ),
    TextColumn("group", KPI_LABELS["group"], "担当G", "担当", max_length=50),
    FlagColumn("importance", KPI_LABELS["importance"]),
    FlagColumn("difficulty", KPI_LABELS["difficulty"]),
    TextColumn("activity", KPI_LABELS["activity"], "事業内容（KPI）"),
    ActivityNumberColumn("activity_number", KPI_LABELS["activity_number"]),
    SubgroupColumn("subgroup", KPI_LABELS["subgroup"], "対象者"),
    INDICATOR,
    UnitColumn("unit", KPI_LABELS["unit"]),
    TargetColumn("target", KPI_LABELS["target"], "目標値", "目標（KPI）", "KPI目標"),
    ValueColumn("actual", KPI_LABELS["actual"], "実績値", "KPI実績", "KPI結果"),
    ValueColumn("previous_actual", KPI_LABELS["previous_actual"], "前年実績", "前年度実績値"),
    ValueColumn("national_average", KPI_LABELS["national_average"]),
    RankColumn("national_rank", KPI_LABELS["national_rank"]),
    MarkColumn("mark", KPI_LABELS["mark"], "評価", "達成状況", "実施状況"),
    MarkSourceColumn("mark_source", KPI_LABELS["mark_source"]),
    TextColumn("tags", KPI_LABELS["tags"], max_length=50),
    TextColumn("mark_reason", KPI_LABELS["mark_reason"]),
    TextColumn("note", KPI_LABELS["note"]),
    TextColumn("plan_text", KPI_LABELS["plan_text"]),
    TextColumn("challenges", KPI_LABELS["challenges"]),
    TextColumn("narrative", KPI_LABELS["narrative"]),
    TextColumn("importance_reason", KPI_LABELS["importance_reason"]),
    TextColumn("difficulty_reason", KPI_LABELS["difficulty_reason"]),
]

MONTH_COLUMNS = [MonthColumn(month) for month in eras.FISCAL_MONTHS]


def written_months(values: dict) -> dict[int, str]:
    """A row's month cells (calendar month → text), blanks left out."""
    return {column.month: values[column.key] for column in MONTH_COLUMNS if values.get(column.key)}


MONTHLY_COLUMNS = [
    BRANCH,
    FISCAL_YEAR,
    IndicatorColumn("indicator", MONTHLY_LABELS["indicator"], *INDICATOR_ALIASES, required=True),
    ChoiceColumn(
        "series",
        MONTHLY_LABELS["series"],
        choices=SERIES,
        hint=" か ".join(SERIES_LABELS.values()),
        required=True,
    ),
    *MONTH_COLUMNS,
    BRANCH_NAME,
]

INDICATOR_COLUMNS = [
    IndicatorColumn("indicator", INDICATOR_LABELS["indicator"], "指標", required=True),
    UnitColumn("unit", INDICATOR_LABELS["unit"]),
    ChoiceColumn(
        "direction",
        INDICATOR_LABELS["direction"],
        choices=DIRECTIONS,
        hint="・".join(DIRECTION_LABELS.values()),
    ),
    ChoiceColumn(
        "aggregation",
        INDICATOR_LABELS["aggregation"],
        choices=AGGREGATIONS,
        hint="・".join(AGGREGATION_LABELS.values()),
    ),
    TextColumn("definition", INDICATOR_LABELS["definition"]),
]

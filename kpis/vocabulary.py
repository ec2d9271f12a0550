"""The words the KPI data is written in, defined once for the models, the evaluation, the
pages and both directions of the workbooks: marks and their aliases, who set a mark,
indicator directions, monthly aggregations and series, and the workbooks' header labels.

Pure Python, no Django: `kpis/evaluation.py` uses it, the models build their choices from it,
`kpis/exports.py` writes workbooks with it and `imports/columns.py` reads them with it.
"""

from enum import StrEnum

from kpis.eras import FISCAL_MONTHS

# --- marks (結果 / 実施状況) ------------------------------------------------------------------

MARKS = ("◎", "○", "△", "×", "—")
EXCELLENT, AS_PLANNED, BELOW_PLAN, NOT_DONE, NOT_EVALUATED = MARKS
MARK_MEANINGS = {
    EXCELLENT: "計画を大幅に上回る",
    AS_PLANNED: "計画通り",
    BELOW_PLAN: "計画を下回る",
    NOT_DONE: "未実施",
    NOT_EVALUATED: "評価なし",
}
# 達成 (achieved) and 未達成 (not achieved): the 達成 column, and marks some reports write.
ACHIEVED_WORDS = {True: "達成", False: "未達成"}

# What a workbook may write for each mark: look-alike characters, and 達成 / 未達成.
MARK_ALIASES = {
    **{mark: mark for mark in MARKS},
    "⊚": EXCELLENT,
    "〇": AS_PLANNED,
    "◯": AS_PLANNED,
    "✕": NOT_DONE,
    "✖": NOT_DONE,
    "x": NOT_DONE,
    "―": NOT_EVALUATED,
    "-": NOT_EVALUATED,
    "ー": NOT_EVALUATED,
    "‐": NOT_EVALUATED,
    "–": NOT_EVALUATED,
    ACHIEVED_WORDS[True]: AS_PLANNED,
    ACHIEVED_WORDS[False]: BELOW_PLAN,
}


class MarkSource(StrEnum):
    """Who set a KPI's mark: the rule (computed) or a person (manual)."""

    COMPUTED = "computed"
    MANUAL = "manual"


MARK_SOURCE_LABELS = {MarkSource.COMPUTED: "自動判定", MarkSource.MANUAL: "手動"}


# --- indicators ---------------------------------------------------------------------------------


class Direction(StrEnum):
    """Which way an indicator is better."""

    HIGHER = "higher"
    LOWER = "lower"
    QUALITATIVE = "qualitative"


DIRECTION_LABELS = {
    Direction.HIGHER: "高いほど良い",
    Direction.LOWER: "低いほど良い",
    Direction.QUALITATIVE: "定性",
}


class Aggregation(StrEnum):
    """What an indicator's monthly values add up to over the year."""

    SUM = "sum"
    CUMULATIVE = "cumulative"
    POINT = "point"


AGGREGATION_LABELS = {
    Aggregation.SUM: "単月の合計",
    Aggregation.CUMULATIVE: "累計",
    Aggregation.POINT: "時点",
}


class Series(StrEnum):
    """What a stored monthly value is: the month's own figure or the running total."""

    SINGLE = "single"
    CUMULATIVE = "cumulative"


SERIES_LABELS = {Series.SINGLE: "単月", Series.CUMULATIVE: "累計"}

# The series an indicator's months are entered in, and how the entry grid names it.
SERIES_BY_AGGREGATION = {
    Aggregation.SUM: Series.SINGLE,
    Aggregation.CUMULATIVE: Series.CUMULATIVE,
    Aggregation.POINT: Series.SINGLE,
}
AGGREGATION_SERIES_LABELS = {
    Aggregation.SUM: SERIES_LABELS[Series.SINGLE],
    Aggregation.CUMULATIVE: SERIES_LABELS[Series.CUMULATIVE],
    Aggregation.POINT: f"{SERIES_LABELS[Series.SINGLE]}（{AGGREGATION_LABELS[Aggregation.POINT]}）",
}

# ①..⑳, ㉑..㉟, ㊱..㊿: the activity numbers of the plans.
CIRCLED = {
    **{chr(0x2460 + i): i + 1 for i in range(20)},
    **{chr(0x3251 + i): i + 21 for i in range(15)},
    **{chr(0x32B1 + i): i + 36 for i in range(15)},
}
CIRCLED_BY_NUMBER = {number: char for char, number in CIRCLED.items()}


def circled(number) -> str:
    """An activity number as the plans write it: 1 → ①, 21 → ㉑; beyond ㊿, (51)."""
    return CIRCLED_BY_NUMBER.get(number, f"({number})")


# The marks a report writes before a sub-group of a measure's KPIs (●被保険者, ◆被扶養者).
SUBGROUP_MARKERS = "●◆■◇"
# A tag written beside a KPI's target or text (【新設】), kept apart from it; 【KPI】 only
# labels the sentence and is dropped.
TAG_OPEN, TAG_CLOSE = "【", "】"
NOT_TAGS = ("KPI",)


# --- workbook headers ------------------------------------------------------------------------
# English key → header label. The importer also accepts the key as a header; the exports
# write the KPI columns in this order.

KPI_LABELS = {
    "branch": "支部コード",
    "branch_name": "支部",  # written for readers; the importer reads it only without 支部コード
    "fiscal_year": "年度",
    "pillar": "区分",
    "measure_no": "施策番号",
    "measure": "施策",
    "activity": "事業内容",
    "indicator": "KPI指標",
    "unit": "単位",
    "target": "目標",
    "actual": "実績",
    "previous_actual": "前年度実績",
    "achieved": "達成",  # written for readers; the importer evaluates it again
    "mark": "結果",
    "mark_source": "結果の根拠",
    "group": "担当グループ",
    "importance": "重要度",
    "difficulty": "困難度",
    "national_average": "全国平均",
    "national_rank": "全国順位",
    "mark_reason": "結果の理由",
    "note": "備考",
    "plan_text": "計画",
    "challenges": "課題",
    "narrative": "結果概要",
    "importance_reason": "重要度の理由",
    "difficulty_reason": "困難度の理由",
    "activity_number": "事業内容の番号",
    "subgroup": "対象",
    "tags": "タグ",
}
MONTH_LABELS = {month: f"{month}月" for month in FISCAL_MONTHS}
MONTHLY_LABELS = {
    "branch": KPI_LABELS["branch"],
    "fiscal_year": KPI_LABELS["fiscal_year"],
    "indicator": KPI_LABELS["indicator"],
    "series": "系列",
    **{f"m{month}": label for month, label in MONTH_LABELS.items()},
}
INDICATOR_LABELS = {
    "indicator": KPI_LABELS["indicator"],
    "unit": KPI_LABELS["unit"],
    "direction": "方向",
    "aggregation": "月次の集計",
    "definition": "定義",
}

# A cell starting with one of these is run as a formula by some spreadsheet. Exports put
# TEXT_MARKER before such a text (and before a text starting with TEXT_MARKER itself) unless
# it is a plain number; the importer takes one marker off, so every text reads back as it was.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARKER = "'"

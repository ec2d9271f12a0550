"""The blank workbooks of both formats that the upload page offers, with a 説明 sheet of
the columns: their labels, English keys, whether required, examples and the other headers
the importer reads as the same column."""

from imports import columns
from kpis.exports import INDICATOR_HEADER, MONTHLY_HEADER, write_xlsx
from kpis.vocabulary import (
    ACHIEVED_WORDS,
    AGGREGATION_LABELS,
    DIRECTION_LABELS,
    MARK_SOURCE_LABELS,
    MARKS,
    SERIES_LABELS,
)


def _choices(labels: dict) -> str:
    """`higher（高いほど良い）／lower（…）`: the values a column takes, with their labels."""
    return "／".join(f"{value}（{label}）" for value, label in labels.items())


_EXAMPLES = {
    "branch": "11、埼玉、埼玉支部",
    "fiscal_year": "2023、2023年度、FY2023、令和5年度、R5、令和元年度、平成31年度、H31",
    "pillar": "1 基盤的保険者機能関係、（１）基盤的保険者機能の盤石化、Ⅲ 組織・運営体制、"
    "戦略的保険者機能関係（番号はあってもなくても可。名前で全国の区分に当てます）",
    "measure_no": "(1)、（１）、1、(1)-1、1-2、(1)①（施策を「(1) 健全な財政運営」と書けば省略可）",
    "measure": "健全な財政運営",
    "group": "業務G",
    "importance": "高 または空欄",
    "difficulty": "高 または空欄",
    "activity": "① 評議会において…（KPIの行ではKPIの文。③ …、●被保険者 …、【新設】も可）"
    "／※KPIの設定なし",
    "activity_number": "③、(3)、3（KPIが事業内容の何番か。事業内容の先頭の ③ でも可）",
    "subgroup": "被保険者、●被扶養者（事業内容の先頭の ●… の行でも可）",
    "tags": "【新設】（目標やKPIの文の前後に書いた【…】も読みます）",
    "importance_reason": "重要度：高とした理由（施策の最初の行）",
    "difficulty_reason": "困難度：高とした理由（施策の最初の行）",
    "indicator": "生活習慣病予防健診実施率（事業内容だけの行は空欄）",
    "unit": "%、円、件、事業所…（値に単位があれば省略可）",
    "target": "96.5%以上、対前年度以上、効果的な意見発信の実施。見出しに年度（令和5年度目標）"
    "があればその年度の目標",
    "actual": "96.5%、0.83% (R6.2現在)、実施、△3。見出しに年度（令和5年度実績、R5実績）があれば"
    "その年度の実績（前年度なら前年度実績）",
    "previous_actual": "95.2%",
    "national_average": "94.8%",
    "national_rank": "20位 または 20",
    "mark": f"{' '.join(MARKS)} または {'／'.join(ACHIEVED_WORDS.values())}。空欄は自動判定",
    "mark_source": _choices(MARK_SOURCE_LABELS),
    "mark_reason": "手動の結果の理由",
    "note": "備考",
    "plan_text": "施策の計画（施策の最初の行）",
    "challenges": "課題（施策の最初の行）",
    "narrative": "結果概要（施策の最初の行）",
    "series": " または ".join(SERIES_LABELS.values()),
    "direction": _choices(DIRECTION_LABELS),
    "aggregation": "／".join(AGGREGATION_LABELS.values()),
    "definition": "指標の定義",
}


def _guide_rows(schema):
    for column in schema:
        if isinstance(column, columns.MonthColumn) or column.secondary:
            continue
        example = _EXAMPLES.get(column.key, "")
        aliases = [*column.aliases, *_secondary_labels(schema, column)]
        required = "必須" if column.required else "任意"
        yield [column.label, column.key, required, example, "、".join(aliases)]
    if schema is columns.MONTHLY_COLUMNS:
        yield ["4月 … 3月", "4 … 3、4月分", "月の列", "95.3%、△5、4:56（空欄の月は変更しません）"]


def _secondary_labels(schema, column) -> list[str]:
    """支部, 支部名 for 支部コード: read when the sheet has no 支部コード column."""
    return [
        label
        for other in schema
        if other.secondary and other.key == column.key
        for label in (other.label, *other.aliases)
    ]


def write_template_xlsx(kind: str, fileobj) -> None:
    """The blank workbook of a kind ("kpi" or "monthly") with a 説明 sheet of the columns."""
    guide_header = ["見出し", "英語の見出し", "必須", "書き方の例", "ほかの見出し"]
    if kind == "kpi":
        kpi_header = [c.label for c in columns.KPI_COLUMNS if not c.secondary]
        sheets = [
            ("KPI", kpi_header, []),
            ("指標", INDICATOR_HEADER, []),
            ("説明", guide_header, _guide_rows(columns.KPI_COLUMNS)),
        ]
    else:
        sheets = [
            ("月次", MONTHLY_HEADER, []),
            ("説明", guide_header, _guide_rows(columns.MONTHLY_COLUMNS)),
        ]
    write_xlsx(fileobj, sheets)

"""Monthly sheets other than the template's 月次: the branches' progress sheets, the template's
月次内訳 (breakdown) sheet, and the written year figure (年計) columns of a 月次 sheet.

The progress sheet (進捗表, seed 003, Gunma) is one block per KPI, read by these rules:

- A **caption row** holds the twelve month headers `4月 … 3月` (`4月まで` is read as 4月) in
  consecutive columns; the cell left of `4月` is the caption (`達成率`, `単月`, `累計`, an
  indicator's name …) and its column the **label column**. A header right after `3月` —
  `合計`, `計`, `累計`, `平均` or `年計` — makes that column the **year figure** of each row.
  A section runs from its caption row to the next caption row.
- Series: a caption containing `累計` is the cumulative series; any other caption, single (単月).
- Rows of a section: a label that is a fiscal year (`令和4年度`, `R5`, `2023年度`) is that
  year's KPI series; any other label with values is a **breakdown** (内訳: 傷病手当金 …) of
  the year row above it in the section. Rows with no month value and no year figure are
  notes and are skipped.
- The **KPI** of a section: a cell whose whole text is the name of an indicator of the
  catalogue — optionally after `【KPI】` or `KPI指標：` — in the caption row left of the
  months (the caption itself may be the name) or left of the label column in the section's
  rows. A section naming none continues the KPI of the section above when its caption is
  the same as that section's or says 単月 / 累計 (the 単月 and 累計 tables of one KPI);
  otherwise the sheet is refused with the caption's row.
- The **branch**: a cell `支部` / `支部名` / `支部コード` followed by the branch (`群馬`, `10`)
  in the rows above the first caption row, or a title there naming it (`令和5年度
  群馬支部事業計画`). None, or two different ones, refuse the sheet.

A sheet is read this way only when it has no template header and a caption row that is not
the template's (not two of 支部コード / 年度 / KPI指標 / 系列 beside the months).
"""

import re
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from imports import columns
from imports.columns import TextColumn, normalise
from imports.problems import CellError, Problem
from kpis.eras import FISCAL_MONTHS, era_label, parse_fiscal_year
from kpis.exports import BREAKDOWN_SHEET_LABELS, YEAR_FIGURE_LABELS
from kpis.models import Indicator
from kpis.notation import Kind
from kpis.vocabulary import SERIES_LABELS, Series

# The year figure columns of the template's 月次 and 月次内訳 sheets.
YEAR_FIGURE = TextColumn("year_figure", YEAR_FIGURE_LABELS["year_figure"], max_length=100)
YEAR_FIGURE_LABEL = TextColumn(
    "year_figure_label", YEAR_FIGURE_LABELS["year_figure_label"], max_length=10
)
YEAR_FIGURE_COLUMNS = (YEAR_FIGURE, YEAR_FIGURE_LABEL)

# What a progress sheet writes after 3月.
YEAR_FIGURE_HEADERS = {"合計", "計", "累計", "平均", "年計"}
_MONTH_HEADER = re.compile(r"(\d{1,2})月(?:分|まで)?")
_KPI_PREFIX = re.compile(r"^(?:【kpi(?:指標)?】|kpi(?:指標)?:)")
BRANCH_LABELS = {"支部", "支部名", "支部コード"}
# Cells beside the months that make a row the template's header, not a caption row (one
# alone may be a caption: 年度).
TEMPLATE_LABELS = {
    label
    for column in columns.MONTHLY_COLUMNS
    if not isinstance(column, columns.MonthColumn)
    for label in column.labels
}

# The template's 月次内訳 sheet: the columns read besides the monthly ones.
BREAKDOWN_LABEL = TextColumn("label", BREAKDOWN_SHEET_LABELS["label"], "breakdown", max_length=100)
BREAKDOWN_NOTE = TextColumn("note", BREAKDOWN_SHEET_LABELS["note"], max_length=200)
BREAKDOWN_TEXTS = (BREAKDOWN_LABEL, *YEAR_FIGURE_COLUMNS, BREAKDOWN_NOTE)
MONTH_TEXT_LENGTH = 100


@dataclass
class BreakdownRecord:
    """A breakdown row: months and year figure as written, under a KPI's series."""

    branch: object
    year: int
    indicator: str
    label: str
    series: str
    months: dict[int, str]
    where: object  # imports.validation.Where
    year_figure: str = ""
    year_figure_label: str = ""
    note: str = ""

    @property
    def kpi_key(self):
        return (self.branch.pk, self.year, columns.indicator_key(self.indicator))

    @property
    def key(self):
        return (*self.kpi_key, self.series, self.label)


# --- the 年計 columns of the template's 月次 sheet ----------------------------------------


def claim_year_figures(layout) -> None:
    """Take the 年計 / 年計の種類 headers of a 月次 sheet as its year figure columns."""
    labels = {label: column for column in YEAR_FIGURE_COLUMNS for label in column.labels}
    for index, text in list(layout.unknown.items()):
        if column := labels.get(normalise(text)):
            layout.columns[index] = column
            del layout.unknown[index]


# --- progress sheets ----------------------------------------------------------------------


@dataclass
class _Caption:
    row: int
    first_month: int  # 0-based index of 4月 in the row
    left: tuple[str, ...]  # the cells left of 4月; the last is the caption
    figure_label: str  # the header after 3月, or "" when there is none

    @property
    def caption(self) -> str:
        return self.left[-1]

    @property
    def label_index(self) -> int:
        return self.first_month - 1

    @property
    def series(self) -> str:
        return Series.CUMULATIVE if "累計" in normalise(self.caption) else Series.SINGLE

    def letters(self) -> dict[str, str]:
        letters = {"indicator": get_column_letter(self.label_index + 1)}
        for offset, month in enumerate(FISCAL_MONTHS):
            letters[f"m{month}"] = get_column_letter(self.first_month + offset + 1)
        letters["year_figure"] = get_column_letter(self.first_month + 13)
        return letters


def _caption(row: int, texts: tuple[str, ...]) -> _Caption | None:
    """The row as a caption row, if its cells hold 4月 … 3月 side by side (and it is not
    the template's header)."""
    for start in range(1, len(texts) - 11):
        if all(_month(texts[start + k]) == month for k, month in enumerate(FISCAL_MONTHS)):
            if sum(normalise(t) in TEMPLATE_LABELS for t in texts[:start] if t) > 1:
                return None  # the template's header (支部コード, 年度 …), however broken
            after = _cell(texts, start + 12)
            figure = after if normalise(after) in YEAR_FIGURE_HEADERS else ""
            return _Caption(row, start, texts[:start], figure)
    return None


def _month(text: str) -> int | None:
    match = _MONTH_HEADER.fullmatch(normalise(text)) if text else None
    return int(match[1]) if match else None


def _cell(texts: tuple[str, ...], index: int) -> str:
    return texts[index] if 0 <= index < len(texts) else ""


def is_progress_sheet(sheet) -> bool:
    return any(_caption(row, texts) for row, texts in sheet.rows)


@dataclass
class _Section:
    caption: _Caption
    rows: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    indicator: str = ""


def read_progress_sheet(sheet, lookups, monthly, result) -> None:
    """Add the sheet's KPI series to `monthly` (the validation's MonthlyBuilder) and its
    breakdowns to `result.breakdowns`; problems go to `result.problems`."""
    sections: list[_Section] = []
    above: list[tuple[int, tuple[str, ...]]] = []
    for row, texts in sheet.rows:
        if caption := _caption(row, texts):
            sections.append(_Section(caption))
        elif sections:
            sections[-1].rows.append((row, texts))
        else:
            above.append((row, texts))
    problems = len(result.problems)
    branch = _branch(sheet, above, lookups, result)
    _name_kpis(sheet, sections, result)
    if branch is None or len(result.problems) > problems:
        return
    for section in sections:
        _read_section(sheet, section, branch, lookups, monthly, result)


def _read_section(sheet, section: _Section, branch, lookups, monthly, result) -> None:
    from imports.validation import Where  # (imports.validation imports this module)

    caption = section.caption
    letters = caption.letters()
    year = None
    for row, texts in section.rows:
        where = Where(sheet.name, row, letters)
        label = _cell(texts, caption.label_index)
        months = {
            month: _cell(texts, caption.first_month + offset)
            for offset, month in enumerate(FISCAL_MONTHS)
        }
        figure = _cell(texts, caption.first_month + 12) if caption.figure_label else ""
        if not any(months.values()) and not figure:
            continue  # a note
        if not _readable(sheet, row, caption, where, result):
            continue
        if not label:
            result.problems.append(
                where.problem(
                    "行の見出し（令和5年度のような年度か、内訳の名前）がありません", "indicator"
                )
            )
            continue
        if parse_fiscal_year(label) is not None:
            try:
                year = columns.FISCAL_YEAR.clean(label, lookups)
            except CellError as error:
                year = None
                result.problems.append(where.problem(str(error), "indicator"))
                continue
            values = _kpi_values(months, figure, where, lookups, result)
            if values is not None:
                monthly.add(
                    {
                        **values,
                        "branch": branch,
                        "fiscal_year": year,
                        "indicator": section.indicator,
                        "series": caption.series,
                        "year_figure_label": caption.figure_label if figure else "",
                    },
                    where,
                )
            continue
        if year is None:
            result.problems.append(
                where.problem(
                    f"内訳の行「{label}」の年度が分かりません。令和5年度のような年度の行の下に"
                    "置いてください",
                    "indicator",
                )
            )
            continue
        record = BreakdownRecord(
            branch=branch,
            year=year,
            indicator=section.indicator,
            label=label,
            series=caption.series,
            months={month: text for month, text in months.items() if text},
            where=where,
            year_figure=figure,
            year_figure_label=caption.figure_label if figure else "",
        )
        if _breakdown_texts_fit(record, result):
            add_breakdown(result, record)


def _readable(sheet, row: int, caption: _Caption, where, result) -> bool:
    """A data row must be visible, and its cells values (not errors or formulas without a
    stored result)."""
    if row in sheet.hidden_rows:
        result.problems.append(
            where.problem(
                "非表示の行です。再表示して内容を確かめるか、不要なら行を削除してください"
            )
        )
        return False
    ok = True
    for index in range(caption.label_index, caption.first_month + 13):
        letter = get_column_letter(index + 1)
        if (row, index + 1) in sheet.error_values:
            value = sheet.error_values[(row, index + 1)]
            result.problems.append(
                Problem(f"Excelのエラー値「{value}」です", sheet.name, row, letter)
            )
            ok = False
        elif (row, index + 1) in sheet.formulas_without_value:
            result.problems.append(
                Problem(
                    "数式の計算結果が保存されていません。Excelで開いて保存し直すか、値として"
                    "貼り付けてください",
                    sheet.name,
                    row,
                    letter,
                )
            )
            ok = False
    return ok


def _kpi_values(months: dict[int, str], figure: str, where, lookups, result) -> dict | None:
    """A KPI series' cells, read as the template's month columns read them."""
    values, ok = {}, True
    for column in columns.MONTH_COLUMNS:
        try:
            values[column.key] = column.clean(months[column.month], lookups)
        except CellError as error:
            result.problems.append(where.problem(str(error), column.key))
            ok = False
    try:
        values["year_figure"] = _clean_figure(figure)
    except CellError as error:
        result.problems.append(where.problem(str(error), "year_figure"))
        ok = False
    return values if ok else None


def _clean_figure(text: str) -> str:
    if not text:
        return ""
    if len(text) > YEAR_FIGURE.max_length:
        raise CellError(f"{YEAR_FIGURE.label}が長すぎます（{YEAR_FIGURE.max_length}文字まで）")
    if columns.read_value(text).kind is Kind.UNPARSED:
        raise CellError(f"{YEAR_FIGURE.label}「{text}」を読めません")
    return text


def _breakdown_texts_fit(record: BreakdownRecord, result) -> bool:
    long = [f"{m}月" for m, text in record.months.items() if len(text) > MONTH_TEXT_LENGTH]
    if len(record.label) > BREAKDOWN_LABEL.max_length:
        long.insert(0, BREAKDOWN_LABEL.label)
    if len(record.year_figure) > YEAR_FIGURE.max_length:
        long.append(YEAR_FIGURE.label)
    if long:
        result.problems.append(
            record.where.problem(f"内訳の{'・'.join(long)}が長すぎます（100文字まで）")
        )
    return not long


def _branch(sheet, above, lookups, result):
    """The branch named above the first caption row: a 支部 cell, or else a title."""
    found: dict[int, tuple] = {}
    for row, texts in above:
        for index, text in enumerate(texts):
            if not text or normalise(text) not in BRANCH_LABELS:
                continue
            value = next((t for t in texts[index + 1 :] if t), "")
            branch = lookups.branch(value) if value else None
            if branch is None:
                result.problems.append(
                    Problem(
                        f"支部「{value}」が見つかりません（支部コード 01〜47 か、群馬・群馬支部"
                        "のような支部名を「支部」のセルの右に書いてください）",
                        sheet.name,
                        row,
                        get_column_letter(index + 2),
                    )
                )
                return None
            found.setdefault(branch.pk, (branch, row))
    if not found:
        names = {normalise(b.name): b for b in lookups.branches.values()}
        for row, texts in above:
            for text in filter(None, texts):
                for name, branch in names.items():
                    if name in normalise(text):
                        found.setdefault(branch.pk, (branch, row))
    if len(found) == 1:
        return next(iter(found.values()))[0]
    if found:
        which = "、".join(f"{branch.name}（{row}行目）" for branch, row in found.values())
        message = (
            f"進捗表に複数の支部（{which}）が書かれています。1つのシートには1つの支部の表を"
            "置いてください"
        )
    else:
        message = (
            "進捗表の支部が分かりません。最初の表より上に「令和5年度 群馬支部事業計画」の"
            "ような表題か、「支部」のセルと支部名（または支部コード）を並べて書いてください"
        )
    result.problems.append(Problem(message, sheet.name))
    return None


def _name_kpis(sheet, sections: list[_Section], result) -> None:
    """Each section's indicator: named in it, or carried on from the section above."""
    catalogue = {
        columns.indicator_key(name): name
        for name in Indicator.objects.values_list("name", flat=True)
    }
    previous: _Section | None = None
    for section in sections:
        caption = section.caption
        places = [(caption.row, caption.left)]
        places += [(row, texts[: caption.label_index]) for row, texts in section.rows]
        names: dict[str, int] = {}
        for row, texts in places:
            for text in filter(None, texts):
                key = _KPI_PREFIX.sub("", normalise(text))
                if key in catalogue:
                    names.setdefault(catalogue[key], row)
        table = f"{caption.row}行目の表（見出し「{caption.caption or '空欄'}」）"
        if len(names) > 1:
            which = "、".join(f"「{name}」（{row}行目）" for name, row in names.items())
            result.problems.append(
                Problem(
                    f"{table}に複数のKPI指標 {which} が書かれています。表ごとに1つにしてください",
                    sheet.name,
                    caption.row,
                )
            )
        elif names:
            section.indicator = next(iter(names))
        elif previous is not None and previous.indicator and _continues(previous, section):
            section.indicator = previous.indicator
        else:
            result.problems.append(
                Problem(
                    f"{table}がどのKPI指標のものか分かりません。見出しの行（「4月」より左）か"
                    "表の左の列に、指標の一覧にある名前をそのまま書いてください"
                    "（例: 「サービススタンダード達成率」「【KPI】サービススタンダード達成率」）",
                    sheet.name,
                    caption.row,
                    get_column_letter(caption.label_index + 1),
                )
            )
        previous = section


def _continues(previous: _Section, section: _Section) -> bool:
    """The 単月 and 累計 tables of one KPI, or a table repeated per year under one caption."""
    caption = normalise(section.caption.caption)
    series_words = {normalise(label) for label in SERIES_LABELS.values()}
    return caption == normalise(previous.caption.caption) or caption in series_words


def add_breakdown(result, record: BreakdownRecord) -> None:
    """Append a breakdown unless the same KPI series already has one of that name."""
    for other in result.breakdowns:
        if other.key == record.key:
            result.problems.append(
                record.where.problem(
                    f"{record.branch.name} {era_label(record.year)}「{record.indicator}」の"
                    f"{SERIES_LABELS[record.series]}の内訳「{record.label}」が"
                    f"{other.where.sheet}シートの{other.where.row}行目にもあります",
                    "indicator",
                )
            )
            return
    result.breakdowns.append(record)


# --- the template's 月次内訳 sheet --------------------------------------------------------


def _breakdown_column(column: columns.Column) -> columns.Column:
    """How a breakdown row reads the monthly template's column: KPI指標 may be blank (such
    rows are skipped), months are kept as written (breakdowns are not evaluated)."""
    if isinstance(column, columns.MonthColumn):
        return columns.Column(column.key, column.label)
    if column.key == "indicator":
        return columns.IndicatorColumn(column.key, column.label)
    return column


def read_breakdown_sheet(sheet, layout, lookups, result) -> None:
    """Rows of 支部コード, 年度, KPI指標, 内訳, 系列, 4月 … 3月, 年計, 年計の種類, 備考
    (施策番号 is for readers). Rows without KPI指標 cannot be stored (a breakdown belongs to
    a KPI): they are skipped with a notice."""
    from imports.validation import read_rows  # (imports.validation imports this module)

    header = dict(sheet.rows).get(layout.header_row, ())
    extra = {label: column for column in BREAKDOWN_TEXTS for label in column.labels}
    texts_at = {
        index: extra[normalise(text)]
        for index, text in enumerate(header, start=1)
        if text and normalise(text) in extra
    }
    known = {
        **{index: _breakdown_column(column) for index, column in layout.columns.items()},
        **texts_at,
    }
    if BREAKDOWN_LABEL not in texts_at.values():
        result.problems.append(
            Problem(f"{layout.header_row}行目の見出しに「内訳」がありません", sheet.name)
        )
        return
    skipped = []
    for values, where in read_rows(sheet, layout, lookups, result, known, skip_notes=False):
        row = where.row
        if not values["indicator"]:
            skipped.append(row)
            continue
        if not values.get("label"):
            result.problems.append(where.problem("内訳がありません", "label"))
            continue
        record = BreakdownRecord(
            branch=values["branch"],
            year=values["fiscal_year"],
            indicator=values["indicator"],
            label=values["label"],
            series=values["series"],
            months=columns.written_months(values),
            where=where,
            year_figure=values.get("year_figure", ""),
            year_figure_label=values.get("year_figure_label", ""),
            note=values.get("note", ""),
        )
        if _breakdown_texts_fit(record, result):
            add_breakdown(result, record)
    if skipped:
        rows = "、".join(map(str, skipped[:10])) + ("…" if len(skipped) > 10 else "")
        result.notices.append(
            f"シート「{sheet.name}」の{rows}行目はKPI指標がないため読み飛ばしました"
            "（内訳はKPIの下に保存します）。"
        )

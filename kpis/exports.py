"""Writing KPIs and monthly values out in the import formats, so an export re-imports
cleanly (a round trip changes nothing).

Plain functions over querysets; the KPI table's download and the export commands call them:

- `write_kpis_csv(kpis, fileobj, activities=None, measures=None)` / `write_kpis_xlsx(...)`:
  one row per KPI (and per activity, and per measure with neither, when those querysets are
  given), columns `KPI_HEADER`;
- `write_monthly_csv(values, fileobj, kpis=None)` / `write_monthly_xlsx(...)`: one row per
  KPI series with the months 4月 … 3月 and the series' written year figure (年計), from a
  MonthlyValue queryset (and the year figures of `kpis` that have no monthly value); the
  xlsx adds the 月次内訳 sheet of those KPIs' breakdown series;
- `write_xlsx(fileobj, sheets)`: the workbook writer the others use (and the importer's
  blank templates).

The module belongs to `kpis` so that the KPI table's download needs nothing from `imports`.

CSV is UTF-8 with a BOM so that Excel opens it as UTF-8. Text cells that a spreadsheet
would run as a formula get a leading apostrophe (`neutralise`), which the importer removes
again.
"""

import csv
import io
import re
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from kpis import eras
from kpis.models import Activity, Kpi, Measure, MonthlyBreakdown
from kpis.vocabulary import (
    ACHIEVED_WORDS,
    AGGREGATION_LABELS,
    DIRECTION_LABELS,
    FORMULA_STARTS,
    INDICATOR_LABELS,
    KPI_LABELS,
    MARK_SOURCE_LABELS,
    MONTHLY_LABELS,
    SERIES_LABELS,
    TEXT_MARKER,
    Series,
    circled,
)

KPI_HEADER = list(KPI_LABELS.values())
MONTHLY_HEADER = list(MONTHLY_LABELS.values())
# The written year figure of a series (合計 / 計 / 累計 / 平均 in the branches' sheets) and
# what the sheet called it; the importer reads these columns (imports.progress_sheet).
YEAR_FIGURE_LABELS = {"year_figure": "年計", "year_figure_label": "年計の種類"}
MONTHLY_EXPORT_HEADER = [*MONTHLY_HEADER, *YEAR_FIGURE_LABELS.values()]
BREAKDOWN_SHEET_LABELS = {
    "branch": MONTHLY_LABELS["branch"],
    "fiscal_year": MONTHLY_LABELS["fiscal_year"],
    "measure_no": KPI_LABELS["measure_no"],  # for readers; the importer ignores it
    "indicator": MONTHLY_LABELS["indicator"],
    "label": "内訳",
    "series": MONTHLY_LABELS["series"],
    **{key: label for key, label in MONTHLY_LABELS.items() if key.startswith("m")},
    **YEAR_FIGURE_LABELS,
    "note": KPI_LABELS["note"],
}
BREAKDOWN_HEADER = list(BREAKDOWN_SHEET_LABELS.values())
INDICATOR_HEADER = list(INDICATOR_LABELS.values())

# What a spreadsheet reads as a number and nothing else: sign, digits (grouped by commas
# in threes or not), decimals, a percent sign.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?%?")


def neutralise(value):
    """Keep a spreadsheet from running a text cell as a formula (CSV/formula injection): a
    text starting with = + - @, tab or CR gets a leading apostrophe unless the whole text is
    a plain number (`-5`, `-5.25`, `-1,200`, `+3%`); a number with anything after it
    (`-5 (cmd|' /C calc'!A0)`) is not. A text starting with an apostrophe gets one more, so
    that the importer, which takes one off, reads every text back unchanged."""
    if not isinstance(value, str) or not value.startswith((*FORMULA_STARTS, TEXT_MARKER)):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return TEXT_MARKER + value


# --- KPI rows ---------------------------------------------------------------------------


def kpi_rows(kpis, activities=None, measures=None):
    """The rows of a KPI export: activities then KPIs of each measure, measures in plan order;
    a measure of `measures` with neither gets a row of its own.

    The measure's plan, narrative and challenges go on its first row only.
    """
    entries = []
    kpis = kpis.select_related(
        "indicator", "measure__branch", "measure__fiscal_year", "measure__pillar"
    )
    for kpi in kpis:
        entries.append((kpi.measure, 1, kpi.order, kpi.pk, kpi))
    if activities is not None:
        for activity in activities.select_related(
            "measure__branch", "measure__fiscal_year", "measure__pillar"
        ):
            entries.append((activity.measure, 0, activity.number, activity.pk, activity))
    if measures is not None:
        listed = {entry[0].pk for entry in entries}
        for measure in measures.select_related("branch", "fiscal_year", "pillar"):
            if measure.pk not in listed:
                entries.append((measure, -1, 0, measure.pk, measure))
    entries.sort(
        key=lambda e: (
            e[0].branch.order,
            e[0].branch.code,
            e[0].fiscal_year.start_year,
            e[0].pillar.number,
            e[0].sort_key,
            e[0].pk,
            *e[1:4],
        )
    )
    first_rows = set()
    for measure, _, _, _, item in entries:
        first = measure.pk not in first_rows
        first_rows.add(measure.pk)
        yield _kpi_row(measure, item, first)


def _kpi_row(measure, item, first: bool) -> list:
    branch, pillar = measure.branch, measure.pillar
    row = {
        "branch": branch.code,
        "branch_name": branch.name,
        "fiscal_year": measure.fiscal_year.start_year,
        "pillar": f"{pillar.number} {measure.pillar_display}",
        "measure_no": measure.number_label,
        "measure": measure.title,
        "group": measure.group,
        "importance": "高" if measure.is_important else "",
        "difficulty": "高" if measure.is_difficult else "",
        "plan_text": measure.plan_text if first else "",
        "challenges": measure.challenges if first else "",
        "narrative": measure.narrative if first else "",
        "importance_reason": measure.importance_reason if first else "",
        "difficulty_reason": measure.difficulty_reason if first else "",
    }
    if isinstance(item, Activity):
        row["activity"] = f"{circled(item.number)} {item.text}"
        row["subgroup"] = item.subgroup
        row["mark"] = item.mark
    elif isinstance(item, Kpi):
        row.update(
            {
                "activity": item.description,
                "indicator": item.indicator.name,
                "unit": item.indicator.unit,
                "target": item.target_text,
                "actual": item.actual_text,
                "previous_actual": item.previous_actual_text,
                "achieved": ACHIEVED_WORDS.get(item.achieved, ""),
                "mark": item.mark,
                # In the readers' words (手動), which the importer reads as it reads codes.
                "mark_source": MARK_SOURCE_LABELS.get(item.mark_source, item.mark_source),
                "national_average": item.national_average_text,
                "national_rank": f"{item.national_rank}位" if item.national_rank else "",
                "mark_reason": item.mark_reason,
                "note": item.note,
                "activity_number": item.activity_number or "",
                "subgroup": item.subgroup,
                "tags": item.tags,
            }
        )
    return [row.get(key, "") for key in KPI_LABELS]


def indicator_rows(kpis):
    """The 指標 sheet: the catalogue entries of the exported KPIs' indicators."""
    seen = {}
    for kpi in kpis.select_related("indicator"):
        seen[kpi.indicator.pk] = kpi.indicator
    for indicator in sorted(seen.values(), key=lambda i: i.name):
        yield [
            indicator.name,
            indicator.unit,
            DIRECTION_LABELS.get(indicator.direction, indicator.direction),
            AGGREGATION_LABELS.get(indicator.aggregation, ""),
            indicator.definition,
        ]


def write_kpis_csv(kpis, fileobj, activities=None, measures=None) -> None:
    """KPI rows (and activity and measure rows) as CSV for Excel. `fileobj` is a text file
    opened with newline="" (a Django HttpResponse works too)."""
    _write_csv(fileobj, KPI_HEADER, kpi_rows(kpis, activities, measures))


def write_kpis_xlsx(kpis, fileobj, activities=None, measures=None) -> None:
    """KPI rows (and activity and measure rows) as an xlsx workbook with its 指標 sheet (the
    catalogue, so that an import into an empty database gets directions right); `fileobj`
    is a binary file."""
    write_xlsx(
        fileobj,
        [
            ("KPI", KPI_HEADER, kpi_rows(kpis, activities, measures)),
            ("指標", INDICATOR_HEADER, indicator_rows(kpis)),
        ],
    )


# --- monthly rows -------------------------------------------------------------------------


_SERIES_ORDER = {Series.SINGLE: 0, Series.CUMULATIVE: 1}
_KPI_PLACE = ("branch", "fiscal_year", "indicator", "measure")


def _kpi_order(kpi: Kpi, series: str) -> tuple:
    return (
        kpi.branch.order,
        kpi.branch.code,
        kpi.fiscal_year.start_year,
        kpi.indicator.name,
        _SERIES_ORDER.get(series, 2),
    )


def year_figure(kpi: Kpi, series: str) -> tuple[str, str]:
    """The written year figure of a KPI's series and its label (計, 累計 …)."""
    if series == Series.CUMULATIVE:
        return kpi.cumulative_year_figure, kpi.cumulative_year_figure_label
    return kpi.single_year_figure, kpi.single_year_figure_label


def monthly_rows(values, kpis=None):
    """One row per KPI and series, months in fiscal order (months without a value blank),
    then the series' written year figure; a series of `kpis` with a year figure and no
    monthly value gets a row too."""
    series = defaultdict(dict)
    by_id = {}
    for value in values.select_related(*(f"kpi__{name}" for name in _KPI_PLACE[:3])):
        series[(value.kpi_id, value.series)][value.month] = value.text
        by_id[value.kpi_id] = value.kpi
    if kpis is not None:
        written = kpis.exclude(single_year_figure="", cumulative_year_figure="")
        for kpi in written.select_related(*_KPI_PLACE[:3]):
            by_id.setdefault(kpi.pk, kpi)
            for key in Series:
                if year_figure(kpi, key)[0]:
                    series.setdefault((kpi.pk, key), {})

    for key in sorted(series, key=lambda key: _kpi_order(by_id[key[0]], key[1])):
        kpi, months = by_id[key[0]], series[key]
        yield [
            kpi.branch.code,
            kpi.fiscal_year.start_year,
            kpi.indicator.name,
            SERIES_LABELS[key[1]],
            *(months.get(month, "") for month in eras.FISCAL_MONTHS),
            *year_figure(kpi, key[1]),
        ]


def breakdown_rows(breakdowns):
    """The 月次内訳 sheet: one row per breakdown series, in KPI order then as written."""
    found = breakdowns.select_related(*(f"kpi__{name}" for name in _KPI_PLACE))
    for breakdown in sorted(found, key=lambda b: (*_kpi_order(b.kpi, b.series), b.order, b.label)):
        kpi = breakdown.kpi
        yield [
            kpi.branch.code,
            kpi.fiscal_year.start_year,
            kpi.measure.number_label,
            kpi.indicator.name,
            breakdown.label,
            SERIES_LABELS[breakdown.series],
            *(breakdown.months.get(str(month), "") for month in eras.FISCAL_MONTHS),
            breakdown.year_figure,
            breakdown.year_figure_label,
            breakdown.note,
        ]


def write_monthly_csv(values, fileobj, kpis=None) -> None:
    """Monthly values (a MonthlyValue queryset) and year figures as CSV for Excel; `fileobj`
    as for write_kpis_csv. (Breakdowns need a sheet of their own: xlsx only.)"""
    _write_csv(fileobj, MONTHLY_EXPORT_HEADER, monthly_rows(values, kpis))


def write_monthly_xlsx(values, fileobj, kpis=None) -> None:
    """The 月次 sheet, and the 月次内訳 sheet of the breakdowns of `kpis` (default: the KPIs
    of `values`)."""
    if kpis is None:
        kpis = Kpi.objects.filter(pk__in=values.values("kpi_id"))
    breakdowns = MonthlyBreakdown.objects.filter(kpi__in=kpis)
    write_xlsx(
        fileobj,
        [
            ("月次", MONTHLY_EXPORT_HEADER, monthly_rows(values, kpis)),
            ("月次内訳", BREAKDOWN_HEADER, breakdown_rows(breakdowns)),
        ],
    )


# --- writers ---------------------------------------------------------------------------------


def _write_csv(fileobj, header, rows) -> None:
    fileobj.write("\ufeff")
    writer = csv.writer(fileobj, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])


_HEADER_FONT = Font(bold=True)
_WIDE_COLUMNS = {
    *(KPI_LABELS[key] for key in ("measure", "activity", "challenges", "narrative")),
    INDICATOR_LABELS["definition"],
}
_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")


def write_xlsx(fileobj, sheets) -> None:
    """`sheets`: (title, header, rows) triples; text cells written as text, never formulas."""
    workbook = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        for index, label in enumerate(header):
            width = 40 if label in _WIDE_COLUMNS else 14
            sheet.column_dimensions[get_column_letter(index + 1)].width = width
        cells = []
        for label in header:
            cell = WriteOnlyCell(sheet, value=label)
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            cells.append(cell)
        sheet.append(cells)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    fileobj.write(buffer.getvalue())


def _xlsx_cell(sheet, value):
    if value in ("", None):
        return None
    if isinstance(value, str):
        # An xlsx cell cannot hold most control characters (a reason pasted from elsewhere
        # can carry one): they are left out rather than failing the whole download.
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", neutralise(value)))
        cell.data_type = "s"  # text as typed, never a formula
        return cell
    return value


def plan_for_export(branch_code=None, year=None):
    """(kpis, activities, measures) of a branch and year, or of all: what export_kpis writes
    so that a re-import round-trips every measure, activity and KPI."""
    kpis, activities, measures = Kpi.objects.all(), Activity.objects.all(), Measure.objects.all()
    if branch_code:
        kpis = kpis.filter(branch__code=branch_code)
        activities = activities.filter(measure__branch__code=branch_code)
        measures = measures.filter(branch__code=branch_code)
    if year:
        kpis = kpis.filter(fiscal_year__start_year=year)
        activities = activities.filter(measure__fiscal_year__start_year=year)
        measures = measures.filter(fiscal_year__start_year=year)
    return kpis, activities, measures

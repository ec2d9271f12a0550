"""The baseline: the same workbooks imported with django-import-export into the same models.

Configured the way django-import-export's documentation advises for large imports: bulk
mode on (`use_bulk`, batches of 1,000), no diff and no HTML diff, no per-row lookup of
existing instances (`force_init_instance`: every measured run starts from an empty year).
Foreign keys are resolved by its `ForeignKeyWidget`, one lookup per row, as the library
does. Because bulk writes bypass save(), the derivations save() would run are called in
`before_save_instance`. The baseline writes no history rows; the product does.

The monthly sheet is wide (one row per KPI, twelve month columns); django-import-export
imports one model instance per row, so the sheet is first melted into one row per month.
"""

from pathlib import Path

import tablib
from import_export import fields, resources, widgets
from import_export.formats.base_formats import XLSX

from branches.models import Branch
from kpis.eras import FISCAL_MONTHS, parse_fiscal_year
from kpis.models import FiscalYear, Indicator, Kpi, Measure, MonthlyValue, Pillar
from kpis.notation import parse_rank
from kpis.numbering import measure_sort_key

SERIES = {"単月": MonthlyValue.Series.SINGLE, "累計": MonthlyValue.Series.CUMULATIVE}


class FiscalYearWidget(widgets.ForeignKeyWidget):
    def clean(self, value, row=None, **kwargs):
        return super().clean(parse_fiscal_year(value), row, **kwargs)


class RankWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return parse_rank(value)


class MeasureWidget(widgets.ForeignKeyWidget):
    """The measure a KPI row belongs to, created on first sight (区分, 施策番号, 施策 …)."""

    def clean(self, value, row=None, **kwargs):
        pillar_text = str(row["区分"])
        number, _, name = pillar_text.partition(" ")
        pillar = Pillar.national()[int(number)]
        measure, _ = Measure.objects.get_or_create(
            branch=Branch.objects.get(code=row["支部コード"]),
            fiscal_year=FiscalYear.objects.get(start_year=parse_fiscal_year(row["年度"])),
            pillar=pillar,
            sort_key=measure_sort_key(str(value)),
            defaults={
                "number_label": str(value),
                "pillar_label": name,
                "title": row["施策"] or "",
                "group": row["担当グループ"] or "",
                "is_important": row["重要度"] == "高",
                "is_difficult": row["困難度"] == "高",
            },
        )
        return measure


def _text(attribute: str, column: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column, widget=widgets.CharWidget())


class KpiResource(resources.ModelResource):
    branch = fields.Field(
        attribute="branch",
        column_name="支部コード",
        widget=widgets.ForeignKeyWidget(Branch, "code"),
    )
    fiscal_year = fields.Field(
        attribute="fiscal_year",
        column_name="年度",
        widget=FiscalYearWidget(FiscalYear, "start_year"),
    )
    indicator = fields.Field(
        attribute="indicator",
        column_name="KPI指標",
        widget=widgets.ForeignKeyWidget(Indicator, "name"),
    )
    measure = fields.Field(
        attribute="measure", column_name="施策番号", widget=MeasureWidget(Measure)
    )
    description = _text("description", "事業内容")
    target_text = _text("target_text", "目標")
    actual_text = _text("actual_text", "実績")
    previous_actual_text = _text("previous_actual_text", "前年度実績")
    national_average_text = _text("national_average_text", "全国平均")
    national_rank = fields.Field(
        attribute="national_rank", column_name="全国順位", widget=RankWidget()
    )
    note = _text("note", "備考")

    class Meta:
        model = Kpi
        fields = (
            "branch",
            "fiscal_year",
            "indicator",
            "measure",
            "description",
            "target_text",
            "actual_text",
            "previous_actual_text",
            "national_average_text",
            "national_rank",
            "note",
        )
        import_id_fields = ("branch", "fiscal_year", "indicator")
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        skip_html_diff = True
        force_init_instance = True
        report_skipped = False

    def before_save_instance(self, instance, row, **kwargs):
        previous = instance.previous_year_kpi()
        instance.evaluate_texts(previous.actual_text if previous else None)


class KpiOfRowWidget(widgets.ForeignKeyWidget):
    """The KPI named by the row's branch code, fiscal year and indicator."""

    def get_queryset(self, value, row, *args, **kwargs):
        # select_related: the row result's str(instance) names the KPI's branch, year and
        # indicator; without it that is three more queries per row.
        return Kpi.objects.select_related("branch", "fiscal_year", "indicator").filter(
            branch__code=row["支部コード"], fiscal_year__start_year=parse_fiscal_year(row["年度"])
        )


class SeriesWidget(widgets.Widget):
    def clean(self, value, row=None, **kwargs):
        return SERIES[value]


class MonthlyValueResource(resources.ModelResource):
    kpi = fields.Field(
        attribute="kpi", column_name="KPI指標", widget=KpiOfRowWidget(Kpi, "indicator__name")
    )
    month = fields.Field(attribute="month", column_name="月", widget=widgets.IntegerWidget())
    series = fields.Field(attribute="series", column_name="系列", widget=SeriesWidget())
    text = _text("text", "値")

    class Meta:
        model = MonthlyValue
        fields = ("kpi", "month", "series", "text")
        import_id_fields = ("kpi", "month", "series")
        use_bulk = True
        batch_size = 1000
        skip_diff = True
        skip_html_diff = True
        force_init_instance = True
        report_skipped = False

    def before_save_instance(self, instance, row, **kwargs):
        instance.read_text()


def _read(path: Path) -> tablib.Dataset:
    return XLSX().create_dataset(path.read_bytes())


def _check(result) -> int:
    if result.has_errors() or result.has_validation_errors():
        first = (result.row_errors() or [(None, ["validation"])])[0]
        raise RuntimeError(f"django-import-export failed: {first}")
    return result.totals["new"]


def import_kpi_workbook(path: Path) -> int:
    """Imports the KPI sheet; returns the number of KPIs created."""
    return _check(KpiResource().import_data(_read(path), raise_errors=True))


def import_monthly_workbook(path: Path) -> int:
    """Imports the 月次 sheet, one row per month; returns the number of values created."""
    wide = _read(path)
    long = tablib.Dataset(headers=["支部コード", "年度", "KPI指標", "系列", "月", "値"])
    for row in wide.dict:
        for month in FISCAL_MONTHS:
            cell = row[f"{month}月"]
            if cell is not None:
                long.append(
                    [row["支部コード"], row["年度"], row["KPI指標"], row["系列"], month, cell]
                )
    return _check(MonthlyValueResource().import_data(long, raise_errors=True))

"""Tables of the reading pages (django-tables2): the home table and the KPI table.

Each column is declared once with its header, sorting (`order_by`, `order_*` for annotated
or nullable values) and cell attributes; the home table renders its cells through
django-tables2, the KPI table writes its rows itself (`KpiTable.body_html`, `cell_*`).
"""

import django_tables2 as tables
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from kpis import vocabulary
from kpis.evaluation import MARKS
from kpis.notation import as_written
from kpis.summary import percent, written_actual

TABLE_TEMPLATE = "kpis/_table.html"  # Japanese pagination
IMPORTANT_BADGE = '<span class="badge badge-important" title="重要度：高">重要</span>'
DIFFICULT_BADGE = '<span class="badge badge-difficult" title="困難度：高">困難</span>'
ACHIEVED_LABELS = {**vocabulary.ACHIEVED_WORDS, None: "—"}
PER_PAGE = 50
MAX_PER_PAGE = 200


def mark_order():
    """◎ first, — last: the order the reports list their marks in."""
    return Case(
        *(When(mark=mark, then=Value(i)) for i, mark in enumerate(MARKS)),
        default=Value(len(MARKS)),
        output_field=IntegerField(),
    )


class MarkCountColumn(tables.Column):
    """A count of one mark; 0 shown faintly so the eye finds the non-zero cells."""

    def __init__(self, mark: str, accessor: str, **kwargs):
        super().__init__(
            verbose_name=mark,
            accessor=accessor,
            attrs={"th": {"class": "num"}, "td": {"class": "num"}},
            **kwargs,
        )

    def render(self, value):
        return format_html('<span class="{}">{}</span>', "zero" if not value else "", value)


class BranchMarksTable(tables.Table):
    """Home: one row per branch, counts of marks over activities and KPIs."""

    branch = tables.Column(verbose_name="支部", accessor="branch__name", order_by="branch__order")
    region = tables.Column(
        verbose_name="地域ブロック", accessor="branch__get_region_display", order_by="branch__order"
    )
    plan_status = tables.Column(verbose_name="状態", orderable=False)
    excellent = MarkCountColumn("◎", "marks__excellent")
    as_planned = MarkCountColumn("○", "marks__as_planned")
    below_plan = MarkCountColumn("△", "marks__below_plan")
    not_done = MarkCountColumn("×", "marks__not_done")
    not_evaluated = MarkCountColumn("—", "marks__not_evaluated")
    total = tables.Column(
        verbose_name="計", accessor="marks__total", attrs={"td": {"class": "num"}}
    )
    achieved = tables.Column(
        verbose_name="KPI達成",
        accessor="kpis_achieved",
        order_by="kpis_achieved",
        attrs={"td": {"class": "num"}},
    )
    achieved_share = tables.Column(
        verbose_name="KPI達成率",
        accessor="achieved_share",
        order_by="achieved_share_order",
        attrs={"td": {"class": "num"}},
        default="—",
    )

    class Meta:
        template_name = TABLE_TEMPLATE
        attrs = {"class": "branch-marks"}
        orderable = True
        empty_text = "この条件で表示できる支部はありません。"

    def render_branch(self, value, record):
        url = reverse("kpis:branch_year", args=[record.branch.code, record.fiscal_year.start_year])
        return format_html('<a href="{}">{}</a>', url, value)

    def render_achieved(self, value, record):
        return f"{value} / {record.kpis_judged}"

    def render_achieved_share(self, value):
        return percent(value)


class NarrowSortPaginator(Paginator):
    """Sorts and skips on the primary keys alone, then reads the page's full rows.

    A late page of the whole table (OFFSET in the tens of thousands) otherwise makes the
    database sort every row with all its joined columns just to keep fifty of them. In an
    order that ends with the primary key (one row per position), a page past the middle is
    found from the end, in the reverse order, skipping the fewer rows after it.
    """

    def page(self, number):
        page = super().page(number)
        rows = page.object_list  # django-tables2's BoundRows over a sliced queryset
        sliced = getattr(rows, "data", None)
        if isinstance(sliced, QuerySet) and sliced.query.is_sliced:
            whole = sliced._chain()
            whole.query.clear_limits()
            keys = sliced.values("pk")
            bottom, top = sliced.query.low_mark, sliced.query.high_mark
            if bottom > self.count // 2 and tuple(whole.query.order_by[-1:]) in (("pk",), ("-pk",)):
                keys = whole.reverse().values("pk")[self.count - top : self.count - bottom]
            rows.data = whole.filter(pk__in=keys)
        return page


class KpiTable(tables.Table):
    """Every KPI row the reader may see, across branches and years."""

    fiscal_year = tables.Column(
        verbose_name="年度",
        accessor="fiscal_year",
        order_by="fiscal_year__start_year",
        attrs={"td": {"class": "nowrap"}},
    )
    branch = tables.Column(
        verbose_name="支部",
        accessor="branch__short_name",
        order_by="branch__order",
        attrs={"td": {"class": "nowrap"}},
    )
    pillar = tables.Column(
        verbose_name="区分", accessor="measure__pillar__number", order_by="measure__pillar__number"
    )
    measure = tables.Column(
        verbose_name="施策",
        accessor="measure",
        order_by=("measure__pillar__number", "measure__sort_key"),
    )
    group = tables.Column(verbose_name="担当G", accessor="measure__group")
    flags = tables.Column(verbose_name="重要・困難", accessor="measure", orderable=False)
    indicator = tables.Column(
        verbose_name="指標", accessor="indicator__name", attrs={"td": {"class": "indicator"}}
    )
    target = tables.Column(verbose_name="目標", accessor="target_text", orderable=False)
    actual = tables.Column(
        verbose_name="実績", accessor="actual_text", attrs={"td": {"class": "num"}}
    )
    previous_actual = tables.Column(
        verbose_name="前年度実績", accessor="previous_actual_text", orderable=False
    )
    national_average = tables.Column(
        verbose_name="全国平均", accessor="national_average_text", orderable=False
    )
    national_rank = tables.Column(verbose_name="全国順位", attrs={"td": {"class": "num"}})
    achieved = tables.Column(verbose_name="達成")
    mark = tables.Column(
        verbose_name="結果", order_by="mark_order", attrs={"td": {"class": "center"}}
    )

    class Meta:
        template_name = TABLE_TEMPLATE
        attrs = {"class": "kpi-table"}
        per_page = PER_PAGE
        empty_text = "条件に合うKPIはありません。条件を変えてください。"

    writes_body = True  # kpis/_table.html takes the rows from body_html

    def paginate(self, paginator_class=None, per_page=None, page=1, *args, **kwargs):
        # per_page comes from the query string: keep it in a sane range.
        per_page = min(max(per_page or PER_PAGE, 1), MAX_PER_PAGE)
        return super().paginate(NarrowSortPaginator, per_page, page, *args, **kwargs)

    def body_html(self) -> str:
        """The page's body rows, written here a row at a time by the `cell_*` methods.

        Through django-tables2 and the template every cell cost a signature inspection, an
        accessor lookup and template contexts: some 100 ms for a page of 50 rows at national
        scale, most of the page's time. The library keeps the headers, sorting and pagination.
        """
        columns = [
            (_td(column.attrs["td"]), getattr(self, f"cell_{column.name}"))
            for column in self.columns
        ]
        self._urls = {}
        self._marks = {}
        rows = []
        for counter, row in enumerate(self.paginated_rows):
            kpi = row.record
            cells = "".join(f"{td}{conditional_escape(cell(kpi))}</td>" for td, cell in columns)
            rows.append(f'<tr class="{"odd" if counter % 2 else "even"}">{cells}</tr>')
        if not rows and self.empty_text:
            return format_html('<tr><td colspan="{}">{}</td></tr>', len(columns), self.empty_text)
        return mark_safe("\n".join(rows))

    def _url(self, name, *args):
        """reverse() once per page for each distinct link (a page repeats its branch)."""
        key = (name, args)
        if key not in self._urls:
            self._urls[key] = reverse(name, args=args)
        return self._urls[key]

    def cell_fiscal_year(self, kpi):
        year = kpi.fiscal_year
        return format_html(
            '{} <span class="small muted">({})</span>', year.era_label, year.start_year
        )

    def cell_branch(self, kpi):
        name = kpi.branch.short_name
        if not name:
            return self.default
        url = self._url("kpis:branch_year", kpi.branch.code, kpi.fiscal_year.start_year)
        return format_html('<a href="{}">{}</a>', url, name)

    def cell_pillar(self, kpi):
        return str(kpi.measure.pillar.number)

    def cell_measure(self, kpi):
        return f"{kpi.measure.number_label} {kpi.measure.title}"

    def cell_group(self, kpi):
        return kpi.measure.group or self.default

    def cell_flags(self, kpi):
        badges = [
            IMPORTANT_BADGE if kpi.measure.is_important else "",
            DIFFICULT_BADGE if kpi.measure.is_difficult else "",
        ]
        return mark_safe("".join(badges))

    def cell_indicator(self, kpi):
        name = kpi.indicator.name
        if not name:
            return self.default
        url = self._url("kpis:indicator_compare", kpi.indicator.slug, kpi.fiscal_year.start_year)
        return format_html('<a href="{}">{}</a>', url, name)

    def cell_target(self, kpi):
        return as_written(kpi.target_text)

    def cell_actual(self, kpi):
        written, as_of = written_actual(kpi.actual_text, kpi.actual_note)
        if as_of:
            return format_html('{}<span class="as-of">（{}）</span>', written, as_of)
        return written

    def cell_previous_actual(self, kpi):
        return as_written(kpi.previous_actual_text)

    def cell_national_average(self, kpi):
        return as_written(kpi.national_average_text)

    def cell_national_rank(self, kpi):
        return self.default if kpi.national_rank is None else f"{kpi.national_rank}位"

    def cell_achieved(self, kpi):
        css = {True: "achieved-yes", False: "achieved-no"}.get(kpi.achieved, "muted")
        return format_html('<span class="{}">{}</span>', css, ACHIEVED_LABELS[kpi.achieved])

    def cell_mark(self, kpi):
        """kpis/_mark.html, rendered once per page for each mark."""
        if not kpi.mark:
            return self.default
        if kpi.mark not in self._marks:
            html = render_to_string("kpis/_mark.html", {"mark": kpi.mark}).strip()
            self._marks[kpi.mark] = mark_safe(html)
        return self._marks[kpi.mark]

    def order_actual(self, queryset, is_descending):
        value = F("actual_value")
        ordered = value.desc(nulls_last=True) if is_descending else value.asc(nulls_last=True)
        return queryset.order_by(ordered, "branch__order"), True

    def order_national_rank(self, queryset, is_descending):
        rank = F("national_rank")
        ordered = rank.desc(nulls_last=True) if is_descending else rank.asc(nulls_last=True)
        return queryset.order_by(ordered, "branch__order"), True


def _td(attrs) -> str:
    """The opening tag of a column's cells, with the column's attributes."""
    html = attrs.as_html()
    return f"<td {html}>" if html else "<td>"

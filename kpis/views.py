"""The reading pages: home, branch achievement page, KPI table, indicator comparison.

Views stay thin: who may read what is decided in kpis.access, what a page shows in
kpis.summary, tables and filters in kpis.tables and kpis.filters.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from branches.models import Branch, Region
from branches.roles import is_admin
from kpis import access, downloads, plans, snapshots, summary
from kpis.access import branch_year_for_user, may_read_published, reads_working_version, visible
from kpis.evaluation import Direction
from kpis.filters import HomeForm, KpiFilter
from kpis.models import FiscalYear, Indicator, Kpi, Measure, PublishedSnapshot
from kpis.tables import BranchMarksTable, KpiTable, mark_order
from notices import events as notices

RESULTS, PLAN = PublishedSnapshot.Document.RESULTS, PublishedSnapshot.Document.PLAN


def reader_required(view):
    """Send visitors who may read nothing to the login page (public pages aside)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_read_published(request.user):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


@reader_required
def home(request):
    years = list(FiscalYear.objects.all())
    form = HomeForm(request.GET or None, years=years)
    form.is_valid()
    default_year = summary.latest_visible_year(request.user)
    if default_year is None and years:
        default_year = years[0].start_year
    year = form.cleaned_or_default("year", default_year)
    fiscal_year = next((y for y in years if y.start_year == year), None)
    region = form.cleaned_or_default("region", "")
    context = {
        "form": form,
        "years": years,
        "fiscal_year": fiscal_year,
        "regions": Region.choices,
        "region": region,
        "region_label": Region(region).label if region else "",
        "events": notices.recent(request.user),
    }
    if fiscal_year:
        rows = summary.branch_summaries(request.user, fiscal_year, region)
        table = BranchMarksTable(rows)
        RequestConfig(request, paginate=False).configure(table)
        marks, share = summary.totals(rows)
        context.update(table=table, totals=marks, total_share=summary.percent(share))
    return render(request, "kpis/home.html", context)


@reader_required
def branch_latest(request, code):
    """/branches/11/ → the newest year of the branch the reader may see."""
    branch = get_object_or_404(Branch, code=code)
    years = visible(request.user, Measure.objects.filter(branch=branch))
    year = years.order_by("-fiscal_year__start_year").values_list(
        "fiscal_year__start_year", flat=True
    )[:1]
    if not year:
        raise Http404("この支部の閲覧できる年度はありません。")
    return redirect("kpis:branch_year", code=branch.code, year=year[0])


def _branch_year_context(request, code, year) -> dict:
    """What the branch page and its PDF show, the same version for the same reader."""
    branch, fiscal_year, plan = branch_year_for_user(request.user, code, year)
    working = reads_working_version(request.user, branch)
    # Readers other than the branch and head office read the last published results.
    shown = snapshots.publication(branch, fiscal_year, plan, RESULTS, working=working)
    report = summary.branch_report(
        request.user,
        branch,
        fiscal_year,
        plan,
        measures=shown.measures,
        previous_months=shown.previous_months,
    )
    return {
        "report": report,
        "publication": shown,
        "plan_page": access.can_read(request.user, branch, fiscal_year, plan, PLAN),
        # 要再確認 marks are the branch's and head office's to resolve; 公表後に変更あり
        # is head office's (republish or revert).
        "review_flags": working,
        "publication_flags": is_admin(request.user),
    }


@reader_required
def branch_year(request, code, year):
    return render(request, "kpis/branch_year.html", _branch_year_context(request, code, year))


@reader_required
def branch_year_pdf(request, code, year):
    """The branch page as an A4 PDF, for the same readers and from the same context."""
    # Imported here: WeasyPrint takes most of a second to load, paid by the first PDF only.
    from kpis import pdf

    return pdf.branch_year_response(request, _branch_year_context(request, code, year))


@reader_required
def plan_year(request, code, year):
    """The plan (事業計画) of a branch's year: readable by council members once the plan or
    the results are published; they read the plan as published."""
    branch, fiscal_year, plan = branch_year_for_user(request.user, code, year, PLAN)
    working = reads_working_version(request.user, branch)
    shown = snapshots.publication(branch, fiscal_year, plan, PLAN, working=working)
    measures = shown.measures
    if measures is None:
        measures = summary.report_measures(branch, fiscal_year)
    earlier = shown.earlier
    if earlier is None:
        reader = None if working else request.user
        earlier = snapshots.earlier_figures(branch, fiscal_year, reader)
    pillars, columns = plans.plan_document(measures, earlier, fiscal_year)
    context = {
        "branch": branch,
        "fiscal_year": fiscal_year,
        "plan": plan,
        "pillars": pillars,
        "earlier_columns": columns,
        "publication": shown,
        "results_page": access.can_read(request.user, branch, fiscal_year, plan, RESULTS),
    }
    return render(request, "kpis/plan_year.html", context)


@method_decorator(reader_required, name="dispatch")
class KpiTableView(SingleTableMixin, FilterView):
    table_class = KpiTable
    filterset_class = KpiFilter
    template_name = "kpis/kpi_table.html"

    def get_queryset(self):
        kpis = Kpi.objects.select_related(
            "branch", "fiscal_year", "indicator", "measure__pillar"
        ).annotate(mark_order=mark_order())
        return visible(self.request.user, kpis).order_by(
            "-fiscal_year__start_year",
            "branch__order",
            "measure__pillar__number",
            "measure__sort_key",
            "order",
            "pk",
        )

    def render_to_response(self, context, **kwargs):
        export_format = self.request.GET.get("export")
        if export_format in downloads.FORMATS:
            return downloads.kpi_download(self.object_list, export_format)
        return super().render_to_response(context, **kwargs)


kpi_table = KpiTableView.as_view()


@reader_required
def indicator_list(request):
    entries = summary.indicator_entries(request.user)
    return render(request, "kpis/indicator_list.html", {"entries": entries})


@reader_required
def indicator_compare(request, slug, year):
    indicator = get_object_or_404(Indicator, slug=slug)
    fiscal_year = get_object_or_404(FiscalYear, start_year=year)
    years = summary.comparison_years(request.user, indicator)
    if not years:
        # Used only in plans the reader may not read: its name and definition stay unpublished.
        raise Http404("この指標は閲覧できません。")
    ranked = summary.ranked_kpis(request.user, indicator, fiscal_year)
    context = {
        "indicator": indicator,
        "fiscal_year": fiscal_year,
        "ranked": ranked,
        "years": years,
        "chart": summary.comparison_chart(indicator, ranked),
        "order_note": summary.ORDER_NOTES[Direction(indicator.direction)],
    }
    return render(request, "kpis/indicator_compare.html", context)

"""Head office's national pages: entry progress (入力状況) and the national achievement map
(全国の達成状況). Thin: who may read what is decided in kpis.progress (the progress page's
readers) and kpis.access (the map's cells); what the pages show in kpis.progress and
kpis.nationalmap."""

import logging

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from branches.models import Region
from kpis import nationalmap, progress, summary
from kpis.filters import HomeForm
from kpis.models import FiscalYear
from kpis.views import reader_required

logger = logging.getLogger("kpis")

DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", progress.write_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        progress.write_workbook,
    ),
}


def _year_and_region(request, years, default_year):
    form = HomeForm(request.GET or None, years=years)
    form.is_valid()
    default = default_year.start_year if default_year else None
    year = form.cleaned_or_default("year", default)
    region = form.cleaned_or_default("region", "")
    return form, next((y for y in years if y.start_year == year), None), region


@login_required
def entry_progress(request):
    try:
        branches = progress.progress_branches(request.user)
    except progress.ProgressRefused as refusal:
        logger.warning("progress refused: user=%s", request.user.get_username())
        return render(request, "kpis/refused.html", {"message": str(refusal)}, status=403)
    years = list(FiscalYear.objects.all())
    form, fiscal_year, region = _year_and_region(request, years, progress.default_year(years))
    matrix = None
    if fiscal_year is not None:
        matrix = progress.progress_matrix(fiscal_year, branches, timezone.localdate(), region)
        export_format = request.GET.get("export")
        if export_format in DOWNLOADS:
            return _download(matrix, export_format)
    context = {
        "form": form,
        "years": years,
        "fiscal_year": fiscal_year,
        "regions": Region.choices,
        "region": region,
        "matrix": matrix,
        "today": timezone.localdate(),
    }
    return render(request, "kpis/progress.html", context)


def _download(matrix: progress.ProgressMatrix, export_format: str) -> HttpResponse:
    content_type, write = DOWNLOADS[export_format]
    response = HttpResponse(content_type=content_type)
    name = f"entry-progress-{matrix.fiscal_year.start_year}.{export_format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    write(matrix, response)
    return response


@reader_required
def national_map(request):
    years = list(FiscalYear.objects.all())
    latest = summary.latest_visible_year(request.user)
    default = next((y for y in years if y.start_year == latest), years[0] if years else None)
    form, fiscal_year, _region = _year_and_region(request, years, default)
    sort = request.GET.get("sort", "")
    if sort not in nationalmap.SORTS:
        sort = ""
    context = {
        "form": form,
        "years": years,
        "fiscal_year": fiscal_year,
        "sorts": nationalmap.SORTS,
        "sort": sort,
        "map": nationalmap.national_map(request.user, fiscal_year, sort) if fiscal_year else None,
    }
    return render(request, "kpis/map.html", context)

"""The yearly rollover page (年度更新): what each branch's new draft plan would hold, then
the rollover as an import preview that the import pages confirm and undo."""

from django.shortcuts import redirect, render

from imports import rollover, tasks
from imports.forms import RolloverForm
from imports.views import admin_required
from kpis import eras
from kpis.models import FiscalYear


@admin_required
def rollover_page(request):
    latest = FiscalYear.objects.order_by("-start_year").values_list("start_year", flat=True)
    initial = {"year": (latest.first() or 2024) + 1}
    form = RolloverForm(request.POST or request.GET or None, initial=initial)
    carried, refusal, year_label = None, "", ""
    if form.is_bound and form.is_valid():
        year = form.cleaned_data["year"]
        year_label = eras.era_label(year)
        try:
            carried = rollover.carried_branches(year)
            if request.method == "POST":
                content = rollover.workbook(year, keep_targets=form.cleaned_data["keep_targets"])
                batch = tasks.enqueue_preview(content, rollover.file_name(year), request.user)
                return redirect("imports:progress", pk=batch.pk)
        except rollover.RolloverRefused as error:
            refusal = str(error)
    context = {"form": form, "carried": carried, "refusal": refusal, "year_label": year_label}
    return render(request, "imports/rollover.html", context)

"""The plan editor's pages (計画の編集): a branch's draft plan, a measure and a KPI. Thin:
kpis.entry.plan_edit holds the rules."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from kpis import writes
from kpis.entry import plan_edit, services
from kpis.entry.plan_forms import KpiForm, MeasureForm, StampOnlyForm
from kpis.entry.views import _base_context, _scope, entry_page
from kpis.models import Kpi, Measure, Pillar


def _measures(scope):
    return Measure.objects.filter(branch=scope.branch, fiscal_year=scope.fiscal_year)


def _plan_url(scope) -> str:
    return reverse("entry:plan", args=[scope.branch.code, scope.fiscal_year.start_year])


def _problems(error: Exception) -> tuple[list[str], bool]:
    """(messages, whether confirming the warnings would save) of a refused write."""
    if isinstance(error, writes.Refused):
        findings = [f.finding for f in error.findings]
        return [f.message for f in findings], not any(f.is_error for f in findings)
    return [str(error)], False


def _attempt(request, action, success: str, redirect_to: str):
    """Run a plan_edit function; a redirect with a message when it saved, else the problems
    to show beside the form."""
    try:
        action()
    except (services.InvalidInput, services.EntryLocked, writes.Refused) as error:
        return None, _problems(error)
    messages.success(request, success)
    return redirect(redirect_to), ([], False)


@entry_page
def plan(request, code, year):
    scope = _scope(request, code, year)
    form = MeasureForm(request.POST or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        response, (problems, _) = _attempt(
            request,
            lambda: plan_edit.add_measure(
                scope,
                pillar=data["pillar"],
                number_label=data["number_label"],
                title=data["title"],
                group=data["group"],
            ),
            f"施策{data['number_label'].strip()}を追加しました。",
            _plan_url(scope),
        )
        if response:
            return response
    measures = list(
        _measures(scope)
        .select_related("pillar")
        .prefetch_related("kpis__indicator")
        .order_by("pillar__number", "sort_key")
    )
    pillars = [
        {"pillar": pillar, "measures": [m for m in measures if m.pillar_id == pillar.pk]}
        for pillar in Pillar.objects.order_by("number")
    ]
    context = {**_base_context(scope), "pillars": pillars, "form": form, "problems": problems}
    return render(request, "entry/plan_edit.html", context)


@entry_page
def plan_measure(request, code, year, pk):
    scope = _scope(request, code, year)
    measure = get_object_or_404(_measures(scope).select_related("pillar"), pk=pk)
    stamp = plan_edit.measure_stamp(measure)
    action = request.POST.get("action", "")
    initial = {
        "pillar": measure.pillar,
        "number_label": measure.number_label,
        "title": measure.title,
        "group": measure.group,
        "stamp": stamp,
    }
    form = MeasureForm(request.POST if action == "change" else None, initial=initial)
    kpi_form = KpiForm(
        request.POST if action == "add_kpi" else None, measures=_measures(scope), adding=True
    )
    problems, confirmable, here = [], False, request.path
    if action == "change" and form.is_valid():
        data = form.cleaned_data
        response, (problems, _) = _attempt(
            request,
            lambda: plan_edit.change_measure(
                scope,
                measure,
                pillar=data["pillar"],
                number_label=data["number_label"],
                title=data["title"],
                group=data["group"],
                stamp=data["stamp"] or 0,
            ),
            "施策を変更しました。",
            here,
        )
        if response:
            return response
    elif action == "add_kpi" and kpi_form.is_valid():
        data = kpi_form.cleaned_data
        response, (problems, confirmable) = _attempt(
            request,
            lambda: plan_edit.add_kpi(
                scope,
                measure,
                indicator=data["indicator"],
                description=data["description"],
                target_text=data["target_text"],
                activity_number=data["activity_number"],
                confirm_warnings=data["confirm_warnings"],
            ),
            f"KPI「{data['indicator'].name}」を追加しました。",
            here,
        )
        if response:
            return response
    elif action == "retire":
        retire = StampOnlyForm(request.POST)
        label = measure.number_label
        response, (problems, _) = _attempt(
            request,
            lambda: plan_edit.retire_measure(
                scope, measure, retire.cleaned_data["stamp"] if retire.is_valid() else -1
            ),
            f"施策{label}を廃止しました。",
            _plan_url(scope),
        )
        if response:
            return response
    kpis = measure.kpis.select_related("indicator").order_by("order", "pk")
    context = {
        **_base_context(scope),
        "measure": measure,
        "kpis": kpis,
        "form": form,
        "kpi_form": kpi_form,
        "stamp": stamp,
        "problems": problems,
        "confirmable": confirmable,
    }
    return render(request, "entry/plan_measure.html", context)


@entry_page
def plan_kpi(request, code, year, pk):
    scope = _scope(request, code, year)
    kpi = get_object_or_404(
        Kpi.objects.select_related("indicator", "measure", "fiscal_year"),
        pk=pk,
        branch=scope.branch,
        fiscal_year=scope.fiscal_year,
    )
    stamp = services.history_stamp(kpi)
    action = request.POST.get("action", "")
    initial = {
        "measure": kpi.measure,
        "description": kpi.description,
        "target_text": kpi.target_text,
        "activity_number": kpi.activity_number,
        "order": kpi.order,
        "stamp": stamp,
    }
    form = KpiForm(
        request.POST if action == "change" else None,
        initial=initial,
        measures=_measures(scope),
        adding=False,
    )
    measure_url = reverse(
        "entry:plan_measure", args=[scope.branch.code, scope.fiscal_year.start_year, kpi.measure_id]
    )
    problems, confirmable = [], False
    if action == "change" and form.is_valid():
        data = form.cleaned_data
        response, (problems, confirmable) = _attempt(
            request,
            lambda: plan_edit.change_kpi(
                scope,
                kpi,
                measure=data["measure"],
                description=data["description"],
                target_text=data["target_text"],
                activity_number=data["activity_number"],
                order=data["order"] if data["order"] is not None else kpi.order,
                stamp=data["stamp"] or 0,
                confirm_warnings=data["confirm_warnings"],
            ),
            f"KPI「{kpi.indicator.name}」を変更しました。",
            request.path,
        )
        if response:
            return response
    elif action == "retire":
        retire = StampOnlyForm(request.POST)
        name = kpi.indicator.name
        response, (problems, _) = _attempt(
            request,
            lambda: plan_edit.retire_kpi(
                scope, kpi, retire.cleaned_data["stamp"] if retire.is_valid() else -1
            ),
            f"KPI「{name}」を廃止しました。",
            measure_url,
        )
        if response:
            return response
    context = {
        **_base_context(scope),
        "kpi": kpi,
        "form": form,
        "stamp": stamp,
        "measure_url": measure_url,
        "problems": problems,
        "confirmable": confirmable,
    }
    return render(request, "entry/plan_kpi.html", context)

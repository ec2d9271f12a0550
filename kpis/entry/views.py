"""Monthly entry pages (月次入力). Every view finds its branch × year through `_scope`, which
refuses (403, logged) anyone who is not a member of that branch or an admin; the domain
rules live in kpis.entry.services."""

import logging
from collections import defaultdict
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Subquery
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from branches.models import Branch
from branches.roles import is_admin, membership_of
from kpis import writes
from kpis.entry import audit, services
from kpis.entry.forms import (
    BROKEN_FORM,
    CellForm,
    ChooserForm,
    CommentForm,
    GridCellForm,
    GridForm,
    GridRow,
    MarkForm,
    StampForm,
    TransitionForm,
    cell_field,
    data_after_conflicts,
    versions_field,
)
from kpis.eras import FISCAL_MONTHS
from kpis.models import BranchPlan, Comment, FiscalYear, Kpi, MonthlyValue

logger = logging.getLogger("kpis.entry")

HISTORY_PAGE_SIZE = 100


def _log_refusal(request, kwargs) -> None:
    logger.warning(
        "entry refused: user=%s branch=%s path=%s",
        request.user.username,
        kwargs.get("code", "-"),
        request.path,
    )


def entry_page(view):
    """Login required; a refusal is logged and answered with 403 and a Japanese message."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as refusal:
            _log_refusal(request, kwargs)
            message = str(refusal) or "このページを開く権限がありません。"
            return render(request, "entry/forbidden.html", {"message": message}, status=403)

    return wrapper


def _scope(request, code: str, year: int) -> services.EntryScope:
    branch = get_object_or_404(Branch, code=code)
    fiscal_year = get_object_or_404(FiscalYear, start_year=year)
    plan = (
        BranchPlan.objects.filter(branch=branch, fiscal_year=fiscal_year)
        .select_related("submitted_by", "last_step_by")
        .first()
    )
    scope = services.entry_scope(request.user, branch, fiscal_year, plan)
    if scope is None:
        raise PermissionDenied("この支部の月次入力ページは開けません。")
    return scope


def _kpi(scope: services.EntryScope, pk: int) -> Kpi:
    return get_object_or_404(
        Kpi.objects.select_related("indicator", "measure__pillar", "fiscal_year"),
        pk=pk,
        branch=scope.branch,
        fiscal_year=scope.fiscal_year,
    )


def _month(month: int) -> int:
    if month not in FISCAL_MONTHS:
        raise Http404("月は1〜12で指定してください。")
    return month


def _grid_url(scope: services.EntryScope) -> str:
    return reverse("entry:grid", args=[scope.branch.code, scope.fiscal_year.start_year])


def _kpi_url(scope: services.EntryScope, kpi: Kpi) -> str:
    return reverse("entry:kpi", args=[scope.branch.code, scope.fiscal_year.start_year, kpi.pk])


def _base_context(scope: services.EntryScope) -> dict:
    return {
        "scope": scope,
        "branch": scope.branch,
        "fiscal_year": scope.fiscal_year,
        "year_lock": scope.year_lock(),
    }


# --- index -----------------------------------------------------------------------------


def member_year(branch: Branch) -> FiscalYear | None:
    """The year a branch member lands on: the latest open year they can enter into (it has
    the branch's KPIs and the plan is neither submitted nor published); else the latest
    open year with KPIs, to read; else the latest open year, whose page says what to do."""
    plans = BranchPlan.objects.filter(branch=branch, fiscal_year=OuterRef("pk"))
    years = list(
        FiscalYear.objects.filter(status=FiscalYear.Status.OPEN)
        .annotate(
            has_kpis=Exists(Kpi.objects.filter(branch=branch, fiscal_year=OuterRef("pk"))),
            plan_status=Subquery(plans.values("status")[:1]),
        )
        .order_by("-start_year")
    )
    enterable = [
        year
        for year in years
        if year.has_kpis and year.plan_status in (None, BranchPlan.Status.DRAFT)
    ]
    with_kpis = [year for year in years if year.has_kpis]
    return next(iter(enterable or with_kpis or years), None)


@entry_page
def index(request):
    """Branch members go to the year they can enter into (`member_year`); admins choose."""
    membership = membership_of(request.user)
    if not is_admin(request.user):
        if membership is None:
            raise PermissionDenied("月次入力は支部の担当者・管理者と本部管理者が使います。")
        year = member_year(membership.branch)
        if year is not None:
            return redirect("entry:grid", membership.branch.code, year.start_year)
        years = FiscalYear.objects.all()
        return render(request, "entry/index.html", {"years": years, "branch": membership.branch})
    form = ChooserForm(request.GET or None)
    if form.is_valid():
        return redirect(
            "entry:grid", form.cleaned_data["branch"].code, form.cleaned_data["year"].start_year
        )
    submitted = BranchPlan.objects.filter(status=BranchPlan.Status.SUBMITTED).select_related(
        "branch", "fiscal_year", "submitted_by"
    )
    return render(request, "entry/index.html", {"form": form, "submitted": submitted})


# --- grid ------------------------------------------------------------------------------


def _grid_rows(scope: services.EntryScope) -> list[GridRow]:
    kpis = list(
        Kpi.objects.filter(branch=scope.branch, fiscal_year=scope.fiscal_year)
        .select_related("indicator", "measure__pillar")
        .order_by("measure__pillar__number", "measure__sort_key", "order", "pk")
    )
    values = defaultdict(dict)
    series = {kpi.pk: services.series_for(kpi.indicator) for kpi in kpis}
    # What the grid, its form and the year-to-date figure read; a national grid has
    # hundreds of values, and building them whole (with who changed them) was a tenth of it.
    stored = MonthlyValue.objects.filter(
        kpi__branch=scope.branch, kpi__fiscal_year=scope.fiscal_year
    ).only("kpi_id", "month", "series", "text", "value", "unit", "version")
    for value in stored:
        if series.get(value.kpi_id) == value.series:
            values[value.kpi_id][value.month] = value
    return [GridRow(kpi, values[kpi.pk]) for kpi in kpis]


def _comments(scope: services.EntryScope, **filters) -> list[Comment]:
    return list(
        Comment.objects.filter(
            kpi__branch=scope.branch, kpi__fiscal_year=scope.fiscal_year, **filters
        ).select_related("author", "kpi__indicator")
    )


def _grid_table(form: GridForm, scope, today, comments: list[Comment]) -> list[dict]:
    """What the template shows, grouped by national pillar: per row the KPI and its
    versions, per cell the input's name, text, errors and lock. Plain values rather than
    bound fields: a national grid has hundreds of cells, and rendering each through the
    form's widgets made the page slow."""
    commented = defaultdict(int)
    for comment in comments:
        commented[comment.kpi_id, comment.month] += 1
    year_lock = scope.year_lock()
    rules = {month: scope.month_rule(month, today) for month in FISCAL_MONTHS}
    locked = {m: bool(year_lock) or rules[m] is services.MonthRule.LOCKED for m in FISCAL_MONTHS}
    # A month's cells: read-only, or past the deadline and corrected with a reason.
    css = {
        month: "locked"
        if locked[month]
        else ("needs-reason" if rules[month] is services.MonthRule.NEEDS_REASON else "")
        for month in FISCAL_MONTHS
    }
    errors = form.errors if form.is_bound else {}
    groups = []
    for row in form.rows:
        kpi = row.kpi
        if not groups or groups[-1]["pillar"].pk != kpi.measure.pillar_id:
            groups.append({"pillar": kpi.measure.pillar, "lines": []})
        cells = []
        for month in FISCAL_MONTHS:
            name = cell_field(kpi.pk, month)
            stored = row.values.get(month)
            comment_count = commented[kpi.pk, month]
            cell_errors = errors.get(name, ())
            cells.append(
                {
                    "name": name,
                    "text": form.data.get(name, "")
                    if form.is_bound
                    else stored.text
                    if stored
                    else "",
                    "label": services.cell_label(kpi, month),
                    "errors": cell_errors,
                    "locked": locked[month],
                    "css": " ".join(
                        filter(None, ["cell", cell_errors and "has-error", css[month]])
                    ),
                    "comments": comment_count,
                    "url": comment_count
                    and reverse(
                        "entry:cell",
                        args=[scope.branch.code, scope.fiscal_year.start_year, kpi.pk, month],
                    ),
                }
            )
        versions = versions_field(kpi.pk)
        groups[-1]["lines"].append(
            {
                "row": row,
                "ytd": row.ytd,
                "versions_name": versions,
                "versions": (
                    form.data.get(versions, "") if form.is_bound else form.fields[versions].initial
                ),
                "cells": cells,
                "url": _kpi_url(scope, kpi),
            }
        )
    return groups


def _deadlines(scope: services.EntryScope) -> list:
    return [(month, scope.fiscal_year.entry_deadline(month)) for month in FISCAL_MONTHS]


@entry_page
def grid(request, code, year):
    scope = _scope(request, code, year)
    today = timezone.localdate()
    rows = _grid_rows(scope)
    status = 200
    refusal = ""
    if request.method == "POST":
        form = GridForm(rows, data=request.POST)
        if form.is_valid():
            try:
                saved = services.save_cells(
                    scope,
                    form.edits(),
                    reason=form.cleaned_data["reason"],
                    today=today,
                    confirm_warnings=form.cleaned_data["confirm_warnings"],
                )
            except services.EntryLocked as locked:
                # The plan's state refuses any input: said as a state, not as a mistake.
                refusal = str(locked)
                status = 403
            except services.SaveRefused as refused:
                rows = _grid_rows(scope)
                form = GridForm(
                    rows, data=data_after_conflicts(request.POST, rows, refused.problems)
                )
                form.is_valid()
                form.add_problems(refused.problems)
                form.warnings_only = refused.warnings_only
                status = 409 if refused.has_conflict else 200
            else:
                if saved:
                    messages.success(request, f"{len(saved)}件の値を保存しました。")
                else:
                    messages.info(request, "変更はありませんでした。")
                return redirect(_grid_url(scope))
    else:
        form = GridForm(rows)
    comments = _comments(scope)
    context = {
        **_base_context(scope),
        "form": form,
        "refusal": refusal,
        "table": _grid_table(form, scope, today, comments),
        "months": FISCAL_MONTHS,
        "comments": comments,
        "transitions": services.available_transitions(scope),
        "transition_form": TransitionForm(),
        "years": FiscalYear.objects.all(),
        "deadline_day": scope.fiscal_year.entry_deadline_day,
        "show_reason": any(
            scope.month_rule(month, today) is services.MonthRule.NEEDS_REASON
            for month in FISCAL_MONTHS
        ),
    }
    if not rows:
        context["years_with_kpis"] = FiscalYear.objects.filter(
            Exists(Kpi.objects.filter(branch=scope.branch, fiscal_year=OuterRef("pk")))
        )
    return render(request, "entry/grid.html", context, status=status)


def _cell_answer(state: str, message: str, *, status: int = 200, **fields) -> JsonResponse:
    return JsonResponse({"state": state, "message": message, **fields}, status=status)


def entry_json(view):
    """The grid script's calls: POST only, and every answer JSON, refusals included (403,
    logged as the pages log them), so that the cell can say what happened."""

    @require_POST
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _cell_answer(
                "error",
                "ログインの有効期限が切れています。ページを再読み込みしてログインしてください。",
                status=401,
            )
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as refusal:
            _log_refusal(request, kwargs)
            message = str(refusal) or "この支部の月次入力はできません。"
            return _cell_answer("forbidden", message, status=403)
        except Http404:
            message = "このKPIはこの支部・年度にありません。ページを再読み込みしてください。"
            return _cell_answer("error", message, status=404)

    return wrapper


@entry_json
def save_cell(request, code, year):
    """One grid cell, saved when the person leaves it: services.save_cells with the version
    the page showed, so the same rules, locks, deadlines and warnings apply as for the whole
    grid. Answers the cell's state: saved (with the new version and the row's year-to-date
    figure), conflict (with the other person's value), warning, locked or error."""
    scope = _scope(request, code, year)
    form = GridCellForm(request.POST)
    if not form.is_valid():
        return _cell_answer("error", BROKEN_FORM, status=400)
    data = form.cleaned_data
    kpi, month = _kpi(scope, data["kpi"]), data["month"]
    edit = services.CellEdit(kpi, month, data["text"], data["version"])
    try:
        services.save_cells(
            scope, [edit], reason=data["reason"], confirm_warnings=data["confirm_warnings"]
        )
    except services.EntryLocked as locked:
        return _cell_answer("locked", str(locked), status=403)
    except services.SaveRefused as refused:
        message = " ".join(problem.detail for problem in refused.problems)
        if refused.has_conflict:
            current = _series_values(kpi).get(month)
            return _cell_answer(
                "conflict",
                message,
                status=409,
                text=current.text if current else "",
                version=current.version if current else 0,
            )
        if refused.warnings_only:
            return _cell_answer("warning", message)
        return _cell_answer("error", message, status=422)
    values = _series_values(kpi)
    current = values.get(month)
    return _cell_answer(
        "saved",
        "保存しました。",
        text=current.text if current else "",
        version=current.version if current else 0,
        ytd=services.year_to_date(kpi, values).display(),
    )


def _series_values(kpi: Kpi) -> dict[int, MonthlyValue]:
    series = services.series_for(kpi.indicator)
    return {value.month: value for value in MonthlyValue.objects.filter(kpi=kpi, series=series)}


# --- one cell --------------------------------------------------------------------------


def _render_cell(request, scope, kpi, month, *, form=None, comment_form=None, status=200):
    series = services.series_for(kpi.indicator)
    value = (
        MonthlyValue.objects.filter(kpi=kpi, month=month, series=series)
        .select_related("updated_by")
        .first()
    )
    if form is None:
        form = CellForm(
            initial={"text": value.text if value else "", "version": value.version if value else 0}
        )
    today = timezone.localdate()
    context = {
        **_base_context(scope),
        "kpi": kpi,
        "month": month,
        "value": value,
        "series_label": services.series_label(kpi.indicator),
        "form": form,
        "comment_form": comment_form or CommentForm(),
        "comments": _comments(scope, kpi=kpi, month=month),
        "changes": audit.cell_history(kpi, month, series),
        "rule": scope.month_rule(month, today),
        "deadline": scope.fiscal_year.entry_deadline(month),
        "kpi_url": _kpi_url(scope, kpi),
    }
    return render(request, "entry/cell.html", context, status=status)


@entry_page
def cell(request, code, year, pk, month):
    scope = _scope(request, code, year)
    kpi = _kpi(scope, pk)
    month = _month(month)
    if request.method != "POST":
        return _render_cell(request, scope, kpi, month)
    form = CellForm(request.POST)
    if not form.is_valid():
        return _render_cell(request, scope, kpi, month, form=form)
    edit = services.CellEdit(kpi, month, form.cleaned_data["text"], form.cleaned_data["version"])
    try:
        saved = services.save_cells(
            scope,
            [edit],
            reason=form.cleaned_data["reason"],
            confirm_warnings=form.cleaned_data["confirm_warnings"],
        )
    except services.EntryLocked as locked:
        form.add_error(None, str(locked))
        return _render_cell(request, scope, kpi, month, form=form, status=403)
    except services.SaveRefused as refused:
        current = MonthlyValue.objects.filter(
            kpi=kpi, month=month, series=services.series_for(kpi.indicator)
        ).first()
        data = request.POST.copy()
        if refused.has_conflict:
            data["version"] = current.version if current else 0
        form = CellForm(data)
        form.is_valid()
        for problem in refused.problems:
            form.add_error("text", problem.detail)
        form.warnings_only = refused.warnings_only
        status = 409 if refused.has_conflict else 200
        return _render_cell(request, scope, kpi, month, form=form, status=status)
    label = services.cell_label(kpi, month)
    messages.success(
        request, f"{label}を保存しました。" if saved else f"{label}: 変更はありませんでした。"
    )
    return redirect(_kpi_url(scope, kpi))


@entry_page
@require_POST
def add_comment(request, code, year, pk, month):
    scope = _scope(request, code, year)
    kpi = _kpi(scope, pk)
    month = _month(month)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(scope, kpi, month, form.cleaned_data["body"])
        except services.InvalidInput as invalid:
            form.add_error("body", str(invalid))
        else:
            messages.success(
                request, f"{services.cell_label(kpi, month)}にコメントを追加しました。"
            )
            return redirect("entry:cell", code, year, kpi.pk, month)
    return _render_cell(request, scope, kpi, month, comment_form=form)


# --- one KPI: monthly values, review, history ---------------------------------------------


def _render_kpi(request, scope, kpi, *, mark_form=None, note_form=None, status=200):
    series = services.series_for(kpi.indicator)
    values = {
        value.month: value
        for value in MonthlyValue.objects.filter(kpi=kpi, series=series).select_related(
            "updated_by"
        )
    }
    comments = _comments(scope, kpi=kpi)
    by_month = defaultdict(list)
    for comment in comments:
        by_month[comment.month].append(comment)
    months = [
        {
            "month": month,
            "value": values.get(month),
            "comments": by_month[month],
            "url": reverse(
                "entry:cell", args=[scope.branch.code, scope.fiscal_year.start_year, kpi.pk, month]
            ),
        }
        for month in FISCAL_MONTHS
    ]
    stamp = services.history_stamp(kpi)
    ytd = services.year_to_date(kpi, values)
    proposed, proposed_warnings = services.proposed_actual(kpi, ytd)
    context = {
        **_base_context(scope),
        "kpi": kpi,
        "months": months,
        "ytd": ytd,
        "ytd_text": ytd.display(),
        "proposed_actual": proposed,
        "proposed_warnings": proposed_warnings,
        "series_label": services.series_label(kpi.indicator),
        "stamp_form": StampForm(initial={"stamp": stamp}),
        "mark_form": mark_form
        or MarkForm(initial={"stamp": stamp, "mark": kpi.mark, "reason": kpi.mark_reason}),
        "may_review": scope.is_reviewer and not scope.year_lock(),
        "changes": audit.kpi_history(kpi),
        # 備考 as typed, when its save was refused (kpis.entry.report_views.kpi_note).
        "note_form": note_form,
    }
    return render(request, "entry/kpi.html", context, status=status)


@entry_page
def kpi_detail(request, code, year, pk):
    scope = _scope(request, code, year)
    return _render_kpi(request, scope, _kpi(scope, pk))


def _review(request, scope, kpi, action) -> object:
    """Run a review action; a stale page, bad input or a value the check refuses comes
    back as a message."""
    try:
        action()
    except services.InvalidInput as invalid:
        messages.error(request, str(invalid))
    except writes.Refused as refused:
        # An annual actual taken from the monthly values may still fail the value check
        # (a sum beyond the column, a rate above 100 %): say why, write nothing.
        messages.error(request, f"{kpi.indicator.name}: 保存していません。{refused}")
    return redirect(_kpi_url(scope, kpi))


@entry_page
@require_POST
def set_actual(request, code, year, pk):
    scope = _scope(request, code, year)
    kpi = _kpi(scope, pk)
    form = StampForm(request.POST)
    if not form.is_valid():
        messages.error(request, BROKEN_FORM)
        return redirect(_kpi_url(scope, kpi))

    def action():
        confirmed = request.POST.get("confirm_warnings") == "on"
        stamp = form.cleaned_data["stamp"]
        updated = services.set_actual_from_monthly(scope, kpi, stamp, confirm_warnings=confirmed)
        messages.success(request, f"年度実績を「{updated.actual_text}」に設定しました。")

    return _review(request, scope, kpi, action)


@entry_page
@require_POST
def set_mark(request, code, year, pk):
    scope = _scope(request, code, year)
    kpi = _kpi(scope, pk)
    if "computed" in request.POST or "confirm" in request.POST:
        form = StampForm(request.POST)
        if not form.is_valid():
            messages.error(request, BROKEN_FORM)
            return redirect(_kpi_url(scope, kpi))

        def action():
            stamp = form.cleaned_data["stamp"]
            if "confirm" in request.POST:
                updated = services.confirm_mark(scope, kpi, stamp)
                messages.success(request, f"手動の結果「{updated.mark}」を再確認しました。")
                return
            updated = services.return_mark_to_computed(scope, kpi, stamp)
            messages.success(request, f"結果を自動判定（{updated.mark}）に戻しました。")

        return _review(request, scope, kpi, action)
    form = MarkForm(request.POST)
    if not scope.is_reviewer:
        raise PermissionDenied("結果を設定できるのは支部の管理者と本部管理者です。")
    if not form.is_valid():
        return _render_kpi(request, scope, kpi, mark_form=form)

    def action():
        data = form.cleaned_data
        updated = services.set_mark(scope, kpi, data["mark"], data["reason"], data["stamp"])
        messages.success(request, f"結果を「{updated.mark}」（手動）に設定しました。")

    return _review(request, scope, kpi, action)


# --- workflow and audit ------------------------------------------------------------------


@entry_page
@require_POST
def transition(request, code, year, action):
    scope = _scope(request, code, year)
    if action not in services.TRANSITIONS:
        raise Http404("その操作はありません。")
    form = TransitionForm(request.POST)
    if not form.is_valid():  # a reason too long to keep is refused, never cut or dropped
        messages.error(request, " ".join(form.errors["reason"]))
        return redirect(_grid_url(scope))
    try:
        plan = services.transition(scope, action, reason=form.cleaned_data["reason"])
    except services.TransitionRefused as refused:
        messages.error(request, str(refused))
    else:
        step = services.TRANSITIONS[action]
        # The plan document's steps leave the status as it was: it says nothing new.
        state = f"（{plan.get_status_display()}）" if step.target else ""
        messages.success(request, f"{scope.branch.name}の{step.label}をしました{state}。")
    return redirect(_grid_url(scope))


@entry_page
def history(request, code, year):
    scope = _scope(request, code, year)
    kpis = {
        kpi.pk: kpi
        for kpi in Kpi.objects.filter(
            branch=scope.branch, fiscal_year=scope.fiscal_year
        ).select_related("indicator")
    }
    changes = audit.branch_year_changes(scope.branch, scope.fiscal_year, kpis)
    page = Paginator(changes, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "entry/history.html", {**_base_context(scope), "page": page})

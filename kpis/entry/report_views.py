"""Pages of the branch's own report (実施状況): the measure page — its activities' marks,
its 実施状況 and 課題 — and the KPI page's 備考. Scoped as every entry page (`_scope`);
the rules live in kpis.entry.report. The forms work without scripts."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kpis import writes
from kpis.entry import report, services
from kpis.entry.forms import BROKEN_FORM, StampForm
from kpis.entry.views import _base_context, _kpi, _kpi_url, _render_kpi, _scope, entry_page
from kpis.models import Activity, Mark, Measure
from kpis.vocabulary import circled

MARK_CHOICES = [("", "（未入力）"), *Mark.choices]
TOO_LONG = "%(limit_value)d文字以内で入力してください（入力は%(show_value)d文字です）。"


def _text_field(label: str, initial: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        max_length=report.MAX_TEXT,
        initial=initial,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        # The text as shown travels with the form: a field the person left as it was is
        # not theirs to write, even when someone else changed it since.
        show_hidden_initial=True,
        error_messages={"max_length": TOO_LONG},
    )


class MeasureReportForm(forms.Form):
    """The measure's texts and its activities' marks, each row with the stamp it was
    shown with (writes.report_stamps)."""

    def __init__(self, page: report.MeasurePage, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.page = page
        measure = page.measure
        for row in [measure, *page.activities]:
            self.fields[stamp_field(row)] = forms.IntegerField(
                widget=forms.HiddenInput, min_value=0, initial=page.stamp(row)
            )
        for name in writes.REPORT_FIELDS[Measure]:
            label = report.subject(measure, measure, name)
            self.fields[name] = _text_field(label, getattr(measure, name))
        for activity in page.activities:
            label = report.subject(measure, activity, "mark")
            # A text field shown as a select: which marks there are is the write path's
            # rule (kpis.writes.save_report refuses any other, naming the activity).
            self.fields[mark_field(activity)] = forms.CharField(
                label=label,
                required=False,
                initial=activity.mark,
                widget=forms.Select(choices=MARK_CHOICES, attrs={"aria-label": label}),
                show_hidden_initial=True,
            )

    def _shown(self, name: str) -> str | None:
        """The field's value as the page showed it (None: the form did not say)."""
        return self.data.get(initial_field(name))

    def edits(self) -> list[writes.ReportEdit]:
        """The rows whose fields the person changed, with those fields only."""
        edits = []
        for row in [self.page.measure, *self.page.activities]:
            values = {}
            for name in writes.REPORT_FIELDS[type(row)]:
                typed = report.clean_text(self.cleaned_data[field_name(row, name)])
                shown = self._shown(field_name(row, name))
                if shown is None or typed != report.clean_text(shown):
                    values[name] = typed
            if values:
                edits.append(writes.ReportEdit(row, values, self.cleaned_data[stamp_field(row)]))
        return edits

    def add_problems(self, problems: list[report.Problem]) -> None:
        for problem in problems:
            self.add_error(field_name(problem.row, problem.name), problem.detail)

    def activity_rows(self) -> list[dict]:
        """What the template shows per activity: its number, text, select, latest change."""
        return [
            {
                "activity": activity,
                "number": circled(activity.number),
                "field": self[mark_field(activity)],
                "latest": self.page.last_change(activity),
            }
            for activity in self.page.activities
        ]


def field_name(row, name: str) -> str:
    return name if isinstance(row, Measure) else f"{name}_{row.pk}"


def mark_field(activity: Activity) -> str:
    return field_name(activity, "mark")


def stamp_field(row) -> str:
    return "stamp" if isinstance(row, Measure) else f"stamp_{row.pk}"


def initial_field(name: str) -> str:
    """Where a form without a prefix sends a field's value as shown (show_hidden_initial)."""
    return forms.Form().add_initial_prefix(name)


def data_after_conflicts(data, page: report.MeasurePage, problems) -> dict:
    """The posted data after a conflict: each conflicting row carries its current stamp
    and shows its current values as the values shown, so saving again deliberately
    replaces them; a field of that row the person had left as it was takes the current
    value. What the person typed stays."""
    data = data.copy()
    conflicting = {(type(p.row), p.row.pk) for p in problems if p.conflict}
    for row in [page.measure, *page.activities]:
        if (type(row), row.pk) not in conflicting:
            continue
        data[stamp_field(row)] = page.stamp(row)
        for name in writes.REPORT_FIELDS[type(row)]:
            posted, stored = field_name(row, name), getattr(row, name)
            shown = data.get(initial_field(posted))
            typed = data.get(posted, "")
            if shown is not None and report.clean_text(typed) == report.clean_text(shown):
                data[posted] = stored
            data[initial_field(posted)] = stored
    return data


def _measure_url(scope: services.EntryScope, measure: Measure) -> str:
    return reverse(
        "entry:measure", args=[scope.branch.code, scope.fiscal_year.start_year, measure.pk]
    )


def _render_measure(request, scope, form: MeasureReportForm, status=200):
    page = form.page
    context = {
        **_base_context(scope),
        "measure": page.measure,
        "label": report.measure_label(page.measure),
        "form": form,
        "activities": form.activity_rows(),
        "kpis": [{"kpi": kpi, "url": _kpi_url(scope, kpi)} for kpi in page.kpis],
        "measure_latest": page.last_change(page.measure),
        "changes": page.changes,
        "branch_page": reverse(
            "kpis:branch_year", args=[scope.branch.code, scope.fiscal_year.start_year]
        ),
    }
    return render(request, "entry/measure.html", context, status=status)


@entry_page
def measure(request, code, year, pk):
    scope = _scope(request, code, year)
    measure = report.measure_for(scope, pk)
    page = report.measure_page(measure)
    if request.method != "POST":
        return _render_measure(request, scope, MeasureReportForm(page))
    form = MeasureReportForm(page, data=request.POST)
    if lock := scope.year_lock():
        # Said plainly: nothing here can be saved, whatever was typed (it stays shown).
        form.is_valid()
        form.add_error(None, lock)
        return _render_measure(request, scope, form, status=403)
    if not form.is_valid():
        return _render_measure(request, scope, form)
    try:
        saved = report.save_measure_report(scope, measure, form.edits())
    except services.EntryLocked as locked:
        form.add_error(None, str(locked))
        return _render_measure(request, scope, form, status=403)
    except report.ReportRefused as refused:
        page = report.measure_page(measure)
        form = MeasureReportForm(
            page, data=data_after_conflicts(request.POST, page, refused.problems)
        )
        form.is_valid()
        form.add_problems(refused.problems)
        return _render_measure(request, scope, form, status=409 if refused.has_conflict else 200)
    label = report.measure_label(measure)
    if saved:
        messages.success(request, f"{label} {measure.title}: {len(saved)}件を保存しました。")
    else:
        messages.info(request, f"{label} {measure.title}: 変更はありませんでした。")
    return redirect(_measure_url(scope, measure))


class NoteForm(StampForm):
    note = forms.CharField(
        label="備考",
        required=False,
        strip=False,
        max_length=report.MAX_TEXT,
        error_messages={"max_length": TOO_LONG},
    )


@entry_page
@require_POST
def kpi_note(request, code, year, pk):
    """The KPI page's 備考; a refusal comes back on the KPI page with what was typed."""
    scope = _scope(request, code, year)
    kpi = _kpi(scope, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        if form.has_error("stamp"):
            form.add_error(None, BROKEN_FORM)
        return _render_kpi(request, scope, kpi, note_form=form)
    try:
        saved = report.save_kpi_note(
            scope, kpi, form.cleaned_data["note"], form.cleaned_data["stamp"]
        )
    except services.EntryLocked as locked:
        form.add_error(None, str(locked))
        return _render_kpi(request, scope, kpi, note_form=form, status=403)
    except services.InvalidInput as conflict:
        # The page shows the current note above what was typed, and the form carries the
        # current stamp: saving again replaces the note deliberately.
        data = request.POST.copy()
        data["stamp"] = services.history_stamp(kpi)
        form = NoteForm(data)
        form.is_valid()
        form.add_error(None, str(conflict))
        return _render_kpi(request, scope, kpi, note_form=form, status=409)
    name = kpi.indicator.name
    if saved:
        messages.success(request, f"{name}の備考を保存しました。")
    else:
        messages.info(request, f"{name}の備考: 変更はありませんでした。")
    return redirect(_kpi_url(scope, kpi))

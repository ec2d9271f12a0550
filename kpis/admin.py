import copy

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from kpis import writes
from kpis.entry import services
from kpis.models import (
    Activity,
    BranchPlan,
    Comment,
    FiscalYear,
    Indicator,
    Kpi,
    Measure,
    MonthlyValue,
    Pillar,
)


@admin.register(FiscalYear)
class FiscalYearAdmin(admin.ModelAdmin):
    list_display = ["start_year", "era", "status", "excellent_margin", "entry_deadline_day"]
    list_filter = ["status"]
    list_editable = ["status", "entry_deadline_day"]
    actions = ["close_years", "reopen_years"]

    @admin.display(description="和暦", ordering="start_year")
    def era(self, fiscal_year):
        return fiscal_year.era_label

    @admin.action(description="選択した年度を締め切る（本部管理者以外は変更不可）")
    def close_years(self, request, queryset):
        for fiscal_year in queryset:
            services.close_fiscal_year(fiscal_year)
            self.log_change(request, fiscal_year, "締切")
        self.message_user(request, f"{queryset.count()}年度を締め切りました。")

    @admin.action(description="選択した年度の入力受付を再開する")
    def reopen_years(self, request, queryset):
        for fiscal_year in queryset:
            services.reopen_fiscal_year(fiscal_year)
            self.log_change(request, fiscal_year, "入力受付を再開")
        self.message_user(request, f"{queryset.count()}年度の入力受付を再開しました。")


@admin.register(BranchPlan)
class BranchPlanAdmin(SimpleHistoryAdmin):
    list_display = [
        "branch",
        "fiscal_year",
        "status",
        "submitted_at",
        "published_at",
        "reopened_at",
        "plan_published_at",
    ]
    list_filter = ["status", "fiscal_year", "branch__region"]
    search_fields = ["branch__name", "branch__code"]
    list_select_related = ["branch", "fiscal_year"]
    # The state moves only by the workflow's steps (the actions, the entry pages), which
    # require their reasons and tell the people concerned.
    readonly_fields = [
        "status",
        "submitted_by",
        "submitted_at",
        "published_by",
        "published_at",
        "reopened_at",
        "plan_published_by",
        "plan_published_at",
        "last_step",
        "last_step_reason",
        "last_step_at",
        "last_step_by",
    ]
    actions = [
        "publish_plans",
        "return_plans",
        "reopen_plans",
        "republish_plans",
        "publish_plan_documents",
        "withdraw_plan_documents",
    ]

    def _transition(self, request, queryset, name, reason=""):
        """The same workflow step as on the entry pages; plans in another state are listed."""
        label = services.TRANSITIONS[name].label
        done, refused = 0, []
        for plan in queryset.select_related("branch", "fiscal_year"):
            scope = services.entry_scope(request.user, plan.branch, plan.fiscal_year, plan)
            if scope is None or not scope.is_admin:
                refused.append(f"{label}は本部管理者だけができます。")
                continue
            try:
                services.transition(scope, name, reason=reason)
            except services.TransitionRefused as refusal:
                refused.append(str(refusal))
            else:
                done += 1
        self.message_user(request, f"{done}件の{label}をしました。")
        for message in refused:
            self.message_user(request, message, level=messages.WARNING)

    def _transition_with_reason(self, request, queryset, name, action):
        """A step that needs a reason asks for it on an intermediate page that lists the
        selected plans; the step is taken once the reason is given."""
        form = StepReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            return self._transition(request, queryset, name, form.cleaned_data["reason"])
        step = services.TRANSITIONS[name]
        context = {
            **self.admin_site.each_context(request),
            "title": f"{step.label}の理由",
            "opts": self.model._meta,
            "step": step,
            "plans": queryset.select_related("branch", "fiscal_year"),
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/kpis/branchplan/step_reason.html", context)

    @admin.action(description="選択した提出済みの計画を公表する")
    def publish_plans(self, request, queryset):
        self._transition(request, queryset, "publish")

    @admin.action(description="選択した提出済みの計画を差し戻す（理由を入力）")
    def return_plans(self, request, queryset):
        return self._transition_with_reason(request, queryset, "return", "return_plans")

    @admin.action(
        description="選択した公表済みの計画の公表を取り消す（理由を入力・支部が再び編集可能）"
    )
    def reopen_plans(self, request, queryset):
        return self._transition_with_reason(request, queryset, "reopen", "reopen_plans")

    @admin.action(description="公表後の変更（公表後に変更あり）を確認し、今の内容で再公表する")
    def republish_plans(self, request, queryset):
        self._transition(request, queryset, "republish")

    @admin.action(description="選択した年度の事業計画を評議会に公表する（実施状況は公表しない）")
    def publish_plan_documents(self, request, queryset):
        self._transition(request, queryset, "publish_plan")

    @admin.action(description="選択した年度の事業計画の公表を取り消す（理由を入力）")
    def withdraw_plan_documents(self, request, queryset):
        return self._transition_with_reason(
            request, queryset, "withdraw_plan", "withdraw_plan_documents"
        )


class StepReasonForm(forms.Form):
    """The reason of a workflow step taken from the admin's list of plans."""

    reason = forms.CharField(
        label="理由",
        max_length=services.MAX_TRANSITION_REASON,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        error_messages={
            "required": "理由を入力してください。理由がないと操作できません。",
            "max_length": "理由は%(limit_value)d文字以内で入力してください"
            "（入力は%(show_value)d文字です）。",
        },
    )


@admin.register(Pillar)
class PillarAdmin(admin.ModelAdmin):
    list_display = ["number", "name"]
    search_fields = ["name"]


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):
    list_display = [
        "branch",
        "fiscal_year",
        "pillar",
        "number_label",
        "title",
        "group",
        "is_important",
        "is_difficult",
    ]
    list_filter = [
        "fiscal_year",
        "pillar",
        "group",
        "is_important",
        "is_difficult",
        "branch__region",
        "branch",
    ]
    # Also what picks a measure in the KPI and activity forms (autocomplete): 埼玉 (1).
    search_fields = [
        "title",
        "number_label",
        "plan_text",
        "narrative",
        "challenges",
        "branch__name",
    ]
    list_select_related = ["branch", "fiscal_year", "pillar"]
    autocomplete_fields = ["branch"]
    inlines = [ActivityInline]


@admin.register(Activity)
class ActivityAdmin(SimpleHistoryAdmin):
    list_display = ["measure", "number", "text", "mark"]
    list_filter = ["mark", "measure__fiscal_year", "measure__branch"]
    search_fields = ["text", "measure__title"]
    list_select_related = ["measure__branch", "measure__fiscal_year"]
    autocomplete_fields = ["measure"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "direction", "aggregation", "reported_monthly"]
    list_filter = ["direction", "aggregation", "reported_monthly", "unit"]
    search_fields = ["name", "definition"]
    prepopulated_fields = {"slug": ["name"]}


CONFLICT = (
    "ほかの人が先に変更しました（この画面を開いた後に保存されています）。"
    "ページを開き直して、現在の内容を確かめてから変更してください。"
)


class WritePathForm(forms.ModelForm):
    """Admin forms of KPI data: the version the page was opened with, and the confirmation
    of warnings. The value check is the write path's (kpis.writes), as on every channel."""

    seen_version = forms.IntegerField(
        label="開いたときの版", widget=forms.HiddenInput, required=False
    )
    confirm_warnings = forms.BooleanField(
        label="警告を確認して保存する",
        required=False,
        help_text="100%を超える率など、ありえるが誤りかもしれない値を保存するときにチェックします。",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version

    def _check_version(self):
        seen = self.cleaned_data.get("seen_version")
        if self.instance.pk is None:
            return
        stored = type(self.instance).objects.filter(pk=self.instance.pk)
        if seen is None or stored.values_list("version", flat=True).first() != seen:
            raise forms.ValidationError(CONFLICT)

    def _report(self, findings) -> None:
        errors = [f for f in findings if f.is_error]
        for finding in errors:
            self.add_error(None, finding.message)
        if not errors and findings and not self.cleaned_data.get("confirm_warnings"):
            for finding in findings:
                self.add_error("confirm_warnings", finding.message)


class KpiAdminForm(WritePathForm):
    class Meta:
        model = Kpi
        fields = "__all__"  # noqa: DJ007 (the ModelAdmin chooses the fields it shows)

    def clean(self):
        cleaned = super().clean()
        self._check_version()
        if cleaned.get("indicator") is None:
            return cleaned
        # The instance takes the cleaned values only after clean(): check a copy.
        kpi = copy.copy(self.instance)
        for name in ("indicator", *writes.KPI_TEXTS):
            if name in cleaned:
                setattr(kpi, name, cleaned[name])
        before = Kpi.objects.filter(pk=kpi.pk).values().first() if kpi.pk else None
        self._report(writes.check_kpi(kpi, before))
        return cleaned


class MonthlyValueAdminForm(WritePathForm):
    class Meta:
        model = MonthlyValue
        fields = "__all__"  # noqa: DJ007 (the ModelAdmin chooses the fields it shows)

    def clean(self):
        cleaned = super().clean()
        self._check_version()
        kpi, month, series = (
            cleaned.get(name, getattr(self.instance, name, None))
            for name in ("kpi", "month", "series")
        )
        if kpi is None or month is None or not series:
            return cleaned
        cell = writes.Cell(kpi.pk, kpi.indicator, month, series, cleaned.get("text") or "")
        (findings,) = writes.check_cells([cell])
        self._report(findings)
        return cleaned


def _source(request, form) -> writes.Source:
    confirmed = bool(form.cleaned_data.get("confirm_warnings"))
    return writes.Source(writes.Channel.ADMIN, request.user, confirmed=confirmed)


@admin.register(Kpi)
class KpiAdmin(SimpleHistoryAdmin):
    """Edits go through the write path: evaluation, neighbouring years, manual marks,
    versions and history are kept as on the entry pages."""

    form = KpiAdminForm
    list_display = [
        "branch",
        "fiscal_year",
        "indicator",
        "target_text",
        "actual_text",
        "achieved",
        "mark",
        "mark_source",
    ]
    list_filter = [
        "fiscal_year",
        "mark",
        "mark_source",
        "mark_stale",
        "changed_after_publication",
        "achieved",
        "branch__region",
        "measure__pillar",
        "indicator",
        "branch",
    ]
    search_fields = ["indicator__name", "description", "target_text", "actual_text", "branch__name"]
    list_select_related = ["branch", "fiscal_year", "indicator"]
    autocomplete_fields = ["branch", "indicator", "measure"]
    readonly_fields = [
        "achieved",
        *Kpi.DERIVED_FIELDS,
        *Kpi.OUTLOOK_FIELDS,
        "mark_stale",
        "changed_after_publication",
        "version",
        "updated_at",
    ]

    def save_model(self, request, obj, form, change):
        mark_set = any(name in form.changed_data for name in Kpi.MARK_FIELDS)
        if mark_set and obj.mark != obj.suggested_mark:
            obj.mark_source = Kpi.MarkSource.MANUAL
        writes.save_kpis([obj], _source(request, form), marks_set=[obj] if mark_set else ())

    def delete_model(self, request, obj):
        writes.delete_kpis([obj], writes.Source(writes.Channel.ADMIN, request.user))

    def delete_queryset(self, request, queryset):
        kpis = list(queryset.select_related("fiscal_year", "indicator"))
        writes.delete_kpis(kpis, writes.Source(writes.Channel.ADMIN, request.user))


@admin.register(MonthlyValue)
class MonthlyValueAdmin(SimpleHistoryAdmin):
    """Edits go through the write path: the value check, the version (a grid form opened
    before an admin's correction gets a conflict, not an overwrite) and history."""

    form = MonthlyValueAdminForm
    list_display = [
        "kpi",
        "month",
        "series",
        "text",
        "value",
        "updated_by",
        "updated_at",
        "version",
    ]
    list_filter = ["series", "month", "kpi__fiscal_year", "kpi__branch"]
    search_fields = ["kpi__indicator__name", "kpi__branch__name", "text"]
    list_select_related = ["kpi__branch", "kpi__fiscal_year", "kpi__indicator", "updated_by"]
    autocomplete_fields = ["kpi"]
    readonly_fields = ["value", "unit", "updated_by", "updated_at", "version"]

    def get_readonly_fields(self, request, obj=None):
        # A stored value stays the same cell; moving it would be a delete and a create.
        fixed = ["kpi", "month", "series"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        edit = writes.MonthlyEdit(
            obj.kpi,
            obj.month,
            obj.series,
            obj.text,
            form.cleaned_data.get("seen_version") or 0 if change else 0,
            obj if change else None,
        )
        try:
            (saved,) = writes.save_monthly_values([edit], _source(request, form))
        except writes.VersionConflict:
            messages.error(request, CONFLICT)
            return
        obj.pk, obj.version = saved.pk, saved.version

    def delete_model(self, request, obj):
        writes.delete_monthly_values([obj], writes.Source(writes.Channel.ADMIN, request.user))

    def delete_queryset(self, request, queryset):
        source = writes.Source(writes.Channel.ADMIN, request.user)
        writes.delete_monthly_values(list(queryset), source)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["kpi", "month", "body", "author", "created_at"]
    list_filter = ["kpi__fiscal_year", "kpi__branch"]
    search_fields = ["body", "kpi__indicator__name", "kpi__branch__name"]
    list_select_related = ["kpi__branch", "kpi__fiscal_year", "kpi__indicator", "author"]
    autocomplete_fields = ["kpi"]
    readonly_fields = ["author", "created_at"]

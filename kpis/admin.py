from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

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
    list_display = ["start_year", "era_label", "status", "excellent_margin", "entry_deadline_day"]
    list_filter = ["status"]
    list_editable = ["status", "entry_deadline_day"]
    actions = ["close_years", "reopen_years"]

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
    list_display = ["branch", "fiscal_year", "status", "submitted_at", "published_at"]
    list_filter = ["status", "fiscal_year", "branch__region"]
    search_fields = ["branch__name", "branch__code"]
    list_select_related = ["branch", "fiscal_year"]
    readonly_fields = ["submitted_by", "submitted_at", "published_by", "published_at"]
    actions = ["publish_plans", "reopen_plans"]

    def _transition(self, request, queryset, name):
        """The same workflow step as on the entry pages; plans in another state are listed."""
        done, refused = 0, []
        for plan in queryset.select_related("branch", "fiscal_year"):
            scope = services.entry_scope(request.user, plan.branch, plan.fiscal_year, plan)
            if scope is None or not scope.is_admin:
                refused.append("公表と公表の取り消しは本部管理者だけができます。")
                continue
            try:
                services.transition(scope, name)
            except services.TransitionRefused as refusal:
                refused.append(str(refusal))
            else:
                done += 1
        label = services.TRANSITIONS[name].label
        self.message_user(request, f"{done}件の{label}をしました。")
        for message in refused:
            self.message_user(request, message, level=messages.WARNING)

    @admin.action(description="選択した提出済みの計画を公表する")
    def publish_plans(self, request, queryset):
        self._transition(request, queryset, "publish")

    @admin.action(description="選択した公表済みの計画の公表を取り消す（支部が再び編集可能）")
    def reopen_plans(self, request, queryset):
        self._transition(request, queryset, "reopen")


@admin.register(Pillar)
class PillarAdmin(admin.ModelAdmin):
    list_display = ["number", "name"]
    search_fields = ["name"]


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = [
        "branch",
        "fiscal_year",
        "pillar",
        "number",
        "title",
        "group",
        "is_important",
        "is_difficult",
    ]
    list_filter = [
        "fiscal_year",
        "pillar__number",
        "group",
        "is_important",
        "is_difficult",
        "branch__region",
        "branch",
    ]
    search_fields = ["title", "plan_text", "narrative", "challenges", "branch__name"]
    list_select_related = ["branch", "fiscal_year", "pillar"]
    autocomplete_fields = ["branch"]
    inlines = [ActivityInline]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["measure", "number", "text", "mark"]
    list_filter = ["mark", "measure__fiscal_year", "measure__branch"]
    search_fields = ["text", "measure__title"]
    list_select_related = ["measure__branch", "measure__fiscal_year"]
    raw_id_fields = ["measure"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "direction", "aggregation"]
    list_filter = ["direction", "aggregation", "unit"]
    search_fields = ["name", "definition"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Kpi)
class KpiAdmin(SimpleHistoryAdmin):
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
        "achieved",
        "branch__region",
        "measure__pillar__number",
        "indicator",
        "branch",
    ]
    search_fields = ["indicator__name", "description", "target_text", "actual_text", "branch__name"]
    list_select_related = ["branch", "fiscal_year", "indicator"]
    raw_id_fields = ["measure"]
    autocomplete_fields = ["branch", "indicator"]
    readonly_fields = [
        "target_kind",
        "target_value",
        "target_unit",
        "target_comparator",
        "target_baseline",
        "actual_value",
        "actual_unit",
        "actual_note",
        "previous_actual_value",
        "national_average_value",
        "achieved",
        "suggested_mark",
        "margin",
        "evaluation_baseline",
        "baseline_source",
        "evaluation_problem",
        "updated_at",
    ]


@admin.register(MonthlyValue)
class MonthlyValueAdmin(SimpleHistoryAdmin):
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
    raw_id_fields = ["kpi"]
    readonly_fields = ["value", "unit", "updated_at", "version"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["kpi", "month", "body", "author", "created_at"]
    list_filter = ["kpi__fiscal_year", "kpi__branch"]
    search_fields = ["body", "kpi__indicator__name", "kpi__branch__name"]
    list_select_related = ["kpi__branch", "kpi__fiscal_year", "kpi__indicator", "author"]
    raw_id_fields = ["kpi"]
    readonly_fields = ["author", "created_at"]

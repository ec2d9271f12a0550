from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from imports import pipeline
from imports.models import HeaderMapping, ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """The history of imports. New imports start on the upload page (the 追加 link)."""

    change_list_template = "imports/admin/change_list.html"
    list_display = [
        "number",
        "created_at",
        "kind",
        "file_name",
        "status",
        "created_by",
        "changes_summary",
        "page_link",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["file_name", "sha256", "created_by__username"]
    list_select_related = ["created_by"]
    actions = ["undo_batches"]
    fields = [
        "kind",
        "file_name",
        "sha256",
        "size",
        "status",
        "created_by",
        "created_at",
        "committed_at",
        "undone_by",
        "undone_at",
        "counts",
        "error_total",
        "errors",
        "notices",
        "new_indicators",
        "scope",
        "mapping",
        "protected_plans",
        "diff_total",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content", "changes")

    @admin.display(description="番号", ordering="pk")
    def number(self, batch):
        return f"#{batch.pk}"

    @admin.display(description="作成・更新")
    def changes_summary(self, batch):
        if not batch.counts:
            return "—"
        return f"{batch.total_changes}行"

    @admin.display(description="画面")
    def page_link(self, batch):
        return format_html('<a href="{}">開く</a>', reverse("imports:preview", args=[batch.pk]))

    def add_view(self, request, form_url="", extra_context=None):
        return redirect("imports:upload")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # A committed batch holds what undo needs; keep it.
        if obj is not None and obj.status == ImportBatch.Status.COMMITTED:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="選んだ取り込みを取り消す")
    def undo_batches(self, request, queryset):
        for batch in queryset.order_by("-pk"):
            try:
                pipeline.undo(batch, request.user)
            except pipeline.UndoRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)
            else:
                self.message_user(request, f"{batch.change_reason} を取り消しました。")


@admin.register(HeaderMapping)
class HeaderMappingAdmin(admin.ModelAdmin):
    """What admins chose for unknown headers; a wrong choice is corrected or deleted here
    (the next file with that header row then asks again)."""

    list_display = ["__str__", "choices", "updated_by", "updated_at"]
    list_select_related = ["updated_by"]
    fields = ["headers", "choices", "signature", "updated_by", "updated_at"]
    readonly_fields = ["headers", "signature", "updated_by", "updated_at"]

    def has_add_permission(self, request):
        return False  # made by the preview's mapping step and the command's --map

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

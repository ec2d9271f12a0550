from django.conf import settings
from django.db import models


class ImportBatch(models.Model):
    """One run of the importer (取り込み): the file, what it would change or changed, and
    everything needed to undo it.

    The uploaded file stays in the batch between preview and confirm (it is read and
    validated again on confirm) and afterwards as the audit copy.
    """

    class Kind(models.TextChoices):
        KPI = "kpi", "KPIの表"
        MONTHLY = "monthly", "月次実績"

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "確認待ち"
        REJECTED = "rejected", "エラーあり"
        COMMITTED = "committed", "取り込み済"
        FAILED = "failed", "失敗"
        UNDONE = "undone", "取り消し済"

    kind = models.CharField("種類", max_length=10, choices=Kind.choices, blank=True)
    file_name = models.CharField("ファイル名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveIntegerField("サイズ（バイト）", default=0)
    content = models.BinaryField("ファイル", editable=False)
    status = models.CharField(
        "状態", max_length=10, choices=Status.choices, default=Status.PREVIEWED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="取り込んだ人",
    )
    created_at = models.DateTimeField("受付日時", auto_now_add=True)
    committed_at = models.DateTimeField("取り込み日時", null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="取り消した人",
    )
    undone_at = models.DateTimeField("取り消し日時", null=True, blank=True)
    # [{"model", "label", "create", "update", "unchanged", "untouched"}] in write order.
    counts = models.JSONField("件数", default=list, blank=True)
    # [{"sheet", "row", "column", "message", "text"}]; errors block the commit.
    errors = models.JSONField("エラー", default=list, blank=True)
    error_total = models.PositiveIntegerField("エラー総数", default=0)
    # The same shape as errors: implausible values written only once the admin confirms.
    warnings = models.JSONField("警告", default=list, blank=True)
    notices = models.JSONField("お知らせ", default=list, blank=True)
    new_indicators = models.JSONField("新しく作成する指標", default=list, blank=True)
    # What a commit wrote: ids and after-images of created rows, before- and after-images of
    # updated rows, per model ("kpis.kpi"). Undo restores from here.
    changes = models.JSONField("変更内容", default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "取り込み履歴"
        verbose_name_plural = "取り込み履歴"

    def __str__(self):
        return f"取り込み #{self.pk} {self.file_name}（{self.get_status_display()}）"

    @property
    def change_reason(self) -> str:
        """The audit-trail label of the rows this batch wrote (simple-history's reason)."""
        return f"取り込み #{self.pk}"

    @property
    def can_commit(self) -> bool:
        return self.status == self.Status.PREVIEWED and not self.errors

    @property
    def can_undo(self) -> bool:
        return self.status == self.Status.COMMITTED

    @property
    def total_changes(self) -> int:
        return sum(row["create"] + row["update"] for row in self.counts)

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
        QUEUED = "queued", "処理待ち"
        RUNNING = "running", "取り込み中"
        COMMITTED = "committed", "取り込み済"
        FAILED = "failed", "失敗"
        UNDONE = "undone", "取り消し済"
        # A preview older than a day, or superseded by a later commit of the same scope.
        EXPIRED = "expired", "期限切れ"

    kind = models.CharField("種類", max_length=10, choices=Kind.choices, blank=True)
    file_name = models.CharField("ファイル名", max_length=255)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveIntegerField("サイズ（バイト）", default=0)
    content = models.BinaryField("ファイル", editable=False)
    status = models.CharField(
        "状態", max_length=10, choices=Status.choices, default=Status.PREVIEWED, db_index=True
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
    # What the preview shows row by row: [{"kind", "label", "status", "cells": [...]}].
    diff = models.JSONField("行ごとの変更", default=list, blank=True, editable=False)
    diff_total = models.PositiveIntegerField("変更のある行の数", default=0)
    # Submitted or published plans the file changes: ["埼玉支部 令和5年度（公表済）", …].
    protected_plans = models.JSONField("提出・公表済みの計画", default=list, blank=True)
    # The admin's choice for header texts the importer did not recognise, as
    # `imports.headers.find_layout` takes it: {"normalised header": "field key" or ""
    # (取り込まない)}.
    mapping = models.JSONField("見出しの対応", default=dict, blank=True)
    # Columns still waiting for that choice (imports.mapping.describe_unmapped):
    # [{"sheet", "column", "row", "header", "signature", "options": [[key, label], …]}].
    unmapped = models.JSONField("対応が未定の見出し", default=list, blank=True)
    # The (branch code, fiscal year) pairs the file's rows name: a later commit of any of
    # them supersedes this preview (imports.expiry).
    scope = models.JSONField("対象の支部・年度", default=list, blank=True)
    # The background job (django-tasks) that writes the batch, and how far it got.
    task_id = models.CharField("ジョブID", max_length=64, blank=True)
    progress_done = models.PositiveIntegerField("処理済みの行", default=0)
    progress_total = models.PositiveIntegerField("行の総数", default=0)
    # Beaten by the job while it writes; a batch whose heartbeat stopped died with its worker.
    heartbeat_at = models.DateTimeField("最終応答", null=True, blank=True)

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
        return self.status == self.Status.PREVIEWED and not self.errors and not self.unmapped

    @property
    def can_undo(self) -> bool:
        return self.status == self.Status.COMMITTED

    @property
    def total_changes(self) -> int:
        return sum(row["create"] + row["update"] for row in self.counts)


class HeaderMapping(models.Model):
    """What an admin chose for the unrecognised columns of a header row, remembered by the
    row's normalised signature and used for the next file with the same header row."""

    signature = models.CharField("見出し行の署名", max_length=64, unique=True)
    headers = models.JSONField("見出し", default=list)
    # {"normalised header text": "field key" or "" (取り込まない)}
    choices = models.JSONField("対応", default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="設定した人",
    )
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "見出しの対応"
        verbose_name_plural = "見出しの対応"

    def __str__(self):
        return "、".join(self.headers)[:80]

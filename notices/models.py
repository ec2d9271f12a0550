from django.conf import settings
from django.db import models
from django.utils import timezone


class Event(models.Model):
    """Something that happened that one person should know about (差し戻し, 公表, 提出, 入力締切):
    listed on their home page and sent to them by mail."""

    class Kind(models.TextChoices):
        SUBMIT = "submit", "提出"
        RETURN = "return", "差し戻し"
        PUBLISH = "publish", "公表"
        REOPEN = "reopen", "公表の取り消し"
        REMINDER = "reminder", "入力締切のお知らせ"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notice_events",
        verbose_name="宛先",
    )
    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    subject = models.CharField("件名", max_length=200)
    message = models.TextField("本文")
    link = models.CharField("リンク", max_length=300, blank=True)
    plan = models.ForeignKey(
        "kpis.BranchPlan",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="支部事業計画",
    )
    created_at = models.DateTimeField("日時", default=timezone.now)
    # Set once the mail went out, so a task run twice does not send it twice.
    mailed_at = models.DateTimeField("メール送信日時", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "お知らせ"
        verbose_name_plural = "お知らせ"
        indexes = [models.Index(fields=["recipient", "-created_at"], name="event_recipient_recent")]

    def __str__(self):
        return self.subject


class SentReminder(models.Model):
    """An entry-deadline reminder that went to a person for one month of a fiscal year: each
    is sent once, however often the daily command runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="宛先",
    )
    fiscal_year = models.ForeignKey(
        "kpis.FiscalYear", on_delete=models.CASCADE, related_name="+", verbose_name="年度"
    )
    month = models.PositiveSmallIntegerField("月")
    sent_at = models.DateTimeField("送信日時", default=timezone.now)

    class Meta:
        verbose_name = "送信済みの入力締切のお知らせ"
        verbose_name_plural = "送信済みの入力締切のお知らせ"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "fiscal_year", "month"], name="reminder_once_per_user_month"
            )
        ]

    def __str__(self):
        return f"{self.user} {self.fiscal_year} {self.month}月"

from django.conf import settings
from django.db import models


class Region(models.TextChoices):
    """Region blocks (地域ブロック) used to group branches in comparisons."""

    HOKKAIDO = "hokkaido", "北海道"
    TOHOKU = "tohoku", "東北"
    KANTO = "kanto", "関東"
    CHUBU = "chubu", "中部"
    KINKI = "kinki", "近畿"
    CHUGOKU = "chugoku", "中国"
    SHIKOKU = "shikoku", "四国"
    KYUSHU = "kyushu", "九州・沖縄"


class Branch(models.Model):
    """A prefectural branch (支部). The 47 branches ship with the app (data migration)."""

    code = models.CharField("支部コード", max_length=2, unique=True)
    name = models.CharField("支部名", max_length=20, unique=True)
    prefecture = models.CharField("都道府県", max_length=10, unique=True)
    region = models.CharField("地域ブロック", max_length=10, choices=Region.choices)
    order = models.PositiveSmallIntegerField("表示順", default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = "支部"
        verbose_name_plural = "支部"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{2}$"), name="branch_code_two_digits"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def short_name(self) -> str:
        return self.name.removesuffix("支部")


class Membership(models.Model):
    """A user's place in one branch (a user belongs to at most one branch)."""

    class Role(models.TextChoices):
        STAFF = "staff", "担当者"
        MANAGER = "manager", "管理者"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name="ユーザー",
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="memberships", verbose_name="支部"
    )
    role = models.CharField("役割", max_length=10, choices=Role.choices, default=Role.STAFF)

    class Meta:
        verbose_name = "支部所属"
        verbose_name_plural = "支部所属"

    def __str__(self):
        return f"{self.user} ({self.branch} {self.get_role_display()})"

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER


class Posting(models.Model):
    """A person's branch and role from a moment on (配属): the record transfers leave behind.

    Membership is the person's current place, which access reads; postings are its history,
    so that a save made in 埼玉 before a transfer to 千葉 still says 埼玉 (branches.transfers).
    A transfer dated in the future waits here (applied False) until its moment comes.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="利用者",
        on_delete=models.CASCADE,
        related_name="postings",
    )
    branch = models.ForeignKey(
        Branch, verbose_name="支部", on_delete=models.PROTECT, related_name="postings"
    )
    role = models.CharField("役割", max_length=10, choices=Membership.Role.choices)
    starts_on = models.DateField("発令日")
    # The moment the posting takes over: the start of `starts_on` (Asia/Tokyo), or the moment
    # it was recorded when that is later (saves made earlier that day were the old branch's).
    effective_at = models.DateTimeField("効力発生日時")
    applied = models.BooleanField("所属に反映済み", default=False)
    recorded_at = models.DateTimeField("登録日時", auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登録者",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["user", "effective_at", "pk"]
        verbose_name = "配属履歴"
        verbose_name_plural = "配属履歴"
        indexes = [models.Index(fields=["user", "effective_at"], name="posting_user_moment")]

    def __str__(self):
        return f"{self.user} {self.starts_on:%Y-%m-%d}〜 {self.branch} {self.get_role_display()}"

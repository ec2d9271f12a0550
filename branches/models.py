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

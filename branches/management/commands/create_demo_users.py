from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from branches.models import Branch, Membership
from branches.roles import ADMIN_GROUP, COUNCIL_GROUP

# Local demo accounts, documented in the README. Never run this on a real server.
DEMO_PASSWORD = "demo-pass-2024"
DEMO_BRANCH = "11"  # 埼玉支部


class Command(BaseCommand):
    help = "デモ用の利用者（本部管理者・評議員・埼玉支部の担当者と管理者）を作成します。"

    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        branch = Branch.objects.get(code=DEMO_BRANCH)
        accounts = [
            (
                "admin",
                "本部",
                "管理者",
                {"is_staff": True, "is_superuser": True},
                ADMIN_GROUP,
                None,
            ),
            ("council", "評議", "委員", {}, COUNCIL_GROUP, None),
            ("staff11", "埼玉", "担当者", {}, None, Membership.Role.STAFF),
            ("manager11", "埼玉", "管理者", {}, None, Membership.Role.MANAGER),
        ]
        for username, last, first, flags, group, role in accounts:
            user, created = User.objects.update_or_create(
                username=username, defaults={"last_name": last, "first_name": first, **flags}
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
            if role:
                Membership.objects.update_or_create(
                    user=user, defaults={"branch": branch, "role": role}
                )
            self.stdout.write(f"{'作成' if created else '更新'}: {username}")
        self.stdout.write(f"パスワードはすべて {DEMO_PASSWORD} です。")

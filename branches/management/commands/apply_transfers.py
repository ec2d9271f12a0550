from django.core.management.base import BaseCommand

from branches import transfers


class Command(BaseCommand):
    help = (
        "発令日を迎えた異動を支部所属に反映します（毎日 0 時過ぎに実行）。"
        "アクセス権は発令日の 0 時から、このコマンドを待たずに切り替わります。"
    )

    def handle(self, *args, **options):
        applied = transfers.apply_due()
        for posting in applied:
            self.stdout.write(
                f"{posting.user.username}: {posting.branch} {posting.get_role_display()}"
                f"（{posting.starts_on:%Y-%m-%d} 発令）"
            )
        self.stdout.write(f"反映した異動: {len(applied)}件")

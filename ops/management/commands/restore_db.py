from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, restore


class Command(BaseCommand):
    help = "バックアップからデータベース全体を復元します。現在の内容は置き換えられます。"

    def add_arguments(self, parser):
        parser.add_argument("backup", type=Path, help="backup_db で作成したファイル")
        parser.add_argument(
            "--yes", action="store_true", help="確認なしで現在のデータベースを置き換える"
        )

    def handle(self, *args, backup: Path, yes: bool, **options):
        if not yes:
            raise CommandError(
                "現在のデータベースを置き換えます。実行するには --yes を付けてください。"
            )
        try:
            vendor = restore(backup)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{backup} から {vendor} のデータベースを復元しました。")

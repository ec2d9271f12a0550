from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup


class Command(BaseCommand):
    help = "データベース全体をファイルにバックアップします（SQLite・PostgreSQL）。"

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="バックアップの保存先")

    def handle(self, *args, output: Path, **options):
        try:
            vendor = backup(output)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{vendor} のバックアップを {output} に保存しました。")

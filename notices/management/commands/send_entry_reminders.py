"""Remind branch staff and managers of an entry deadline three days away or fewer while
months are still empty; each reminder once. Run daily (cron):

    python manage.py send_entry_reminders
    python manage.py send_entry_reminders --date 2023-05-07   # as if it were that day
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notices import reminders


class Command(BaseCommand):
    help = "入力締切が3日以内に迫り、未入力の月がある支部の担当者・管理者に知らせる（毎日実行）"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="この日付として実行する（YYYY-MM-DD、試験用）")

    def handle(self, *args, **options):
        today = _day(options["date"]) if options["date"] else timezone.localdate()
        sent = reminders.send_due(today)
        self.stdout.write(f"{today:%Y-%m-%d}: 入力締切のお知らせを{len(sent)}件送りました。")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--date は YYYY-MM-DD で指定してください（{text}）。") from error

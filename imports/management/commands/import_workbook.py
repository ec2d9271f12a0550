from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from imports.pipeline import import_file, summary_lines


class Command(BaseCommand):
    help = (
        "KPIの表または月次実績の表（.xlsx / .csv）を取り込みます。種類は見出しから判断します。"
        "エラーが1件でもあれば何も書き込まず、終了コード1で終わります。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="取り込むファイル")
        parser.add_argument(
            "--dry-run", action="store_true", help="検証と件数の確認だけを行い、書き込まない"
        )
        parser.add_argument("--user", help="履歴に記録する利用者名（省略時は記録なし）")
        parser.add_argument(
            "--confirm-warnings",
            action="store_true",
            help="警告（100%を超える率など）を確認済みとして取り込む（履歴に記録されます）",
        )

    def handle(self, *args, path, dry_run, user, confirm_warnings, **options):
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"ファイルが見つかりません: {source}")
        if source.stat().st_size > settings.IMPORT_MAX_UPLOAD_BYTES:
            limit = settings.IMPORT_MAX_UPLOAD_BYTES / (1 << 20)
            raise CommandError(f"ファイルが大きすぎます（上限 {limit:.1f}MB）: {source}")
        person = None
        if user:
            person = get_user_model().objects.filter(username=user).first()
            if person is None:
                raise CommandError(f"利用者「{user}」が見つかりません。")
        try:
            batch, analysis = import_file(
                source.read_bytes(),
                source.name,
                person,
                dry_run=dry_run,
                confirm_warnings=confirm_warnings,
            )
        except DatabaseError as error:
            raise CommandError(
                f"保存中にデータベースのエラーが起きたため、何も変更していません: {error}"
            ) from error
        for line in summary_lines(analysis):
            self.stdout.write(line)
        if analysis.problems:
            for problem in analysis.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"エラーが {len(analysis.problems)} 件あるため、何も取り込んでいません。"
            )
        for warning in analysis.warnings:
            self.stderr.write(f"警告: {warning}")
        if analysis.warnings and not confirm_warnings and not dry_run:
            raise CommandError(
                f"警告が {len(analysis.warnings)} 件あるため、何も取り込んでいません。"
                "内容を確かめ、取り込む場合は --confirm-warnings を付けてください。"
            )
        if dry_run:
            self.stdout.write(self.style.SUCCESS("検証のみ行いました（書き込みなし）。"))
        else:
            self.stdout.write(self.style.SUCCESS(f"{batch.change_reason} として取り込みました。"))

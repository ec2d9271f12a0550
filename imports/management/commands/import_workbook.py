from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from imports import mapping
from imports.pipeline import analyse, import_file, summary_lines
from imports.reading import UnreadableFile, read_workbook


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
        parser.add_argument(
            "--map",
            dest="maps",
            action="append",
            default=[],
            metavar="ヘッダ=項目",
            help="見出しが分からない列を何として取り込むか（例: 'KPI目標=target'。"
            "取り込まないときは 'メモ=-'）。何度でも指定できます。指定した対応は見出し行ごとに"
            "記憶され、確認画面と次回の取り込みでも使われます（--dry-run では記憶しません）",
        )

    def handle(self, *args, path, dry_run, user, confirm_warnings, maps, **options):
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
            choices = mapping.parse_map_options(maps)
        except ValueError as error:
            raise CommandError(str(error)) from error
        content = source.read_bytes()
        try:
            if dry_run:
                batch, analysis = None, analyse(content, source.name, choices)
            else:
                if choices:
                    self._remember(content, source.name, choices, person)
                batch, analysis = import_file(
                    content, source.name, person, confirm_warnings=confirm_warnings
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

    def _remember(self, content: bytes, name: str, choices: dict, person) -> None:
        try:
            workbook = read_workbook(content, name)
        except UnreadableFile:
            return  # import_file says what is wrong with the file
        unused = mapping.remember_for_command(workbook, choices, person)
        if unused:
            raise CommandError(
                "--map の見出し（正規化後: "
                + "、".join(f"「{header}」" for header in unused)
                + "）はファイルの見出し行にありません。"
            )

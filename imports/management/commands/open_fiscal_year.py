from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from imports import rollover
from imports.pipeline import summary_lines
from kpis import eras


class Command(BaseCommand):
    help = (
        "次の年度を開きます: 各支部の前年度の計画（区分・施策・事業内容・KPI）を引き継いだ"
        "作成中の計画を作り、前年度実績に前年度の実績を入れます。2回実行しても二重には"
        "作りません（計画を作成済みの支部は対象外）。取り込みとして記録され、新年度に何も"
        "入力されていない間は取り込みの取り消しで元に戻せます。"
    )

    def add_arguments(self, parser):
        parser.add_argument("year", type=int, help="開く年度（西暦の開始年。例: 2025 = 令和7年度）")
        parser.add_argument(
            "--keep-targets", action="store_true", help="目標を前年度の記載のまま引き継ぐ"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="支部ごとの作成件数を表示するだけで作成しない"
        )
        parser.add_argument("--user", help="履歴に記録する利用者名（省略時は記録なし）")
        parser.add_argument(
            "--confirm-warnings", action="store_true", help="警告を確認済みとして作成する"
        )

    def handle(self, *args, year, keep_targets, dry_run, user, confirm_warnings, **options):
        person = None
        if user:
            person = get_user_model().objects.filter(username=user).first()
            if person is None:
                raise CommandError(f"利用者「{user}」が見つかりません。")
        try:
            carried = rollover.carried_branches(year)
        except rollover.RolloverRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        for item in carried:
            self.stdout.write(
                f"{item.branch.code} {item.branch.name}: 施策 {item.measures}件、"
                f"事業内容 {item.activities}件、KPI {item.kpis}件"
            )
        if not carried:
            self.stdout.write(f"{eras.era_label(year)}の計画を作成する支部はありません。")
            return
        if dry_run:
            self.stdout.write(self.style.SUCCESS(f"{len(carried)}支部（作成はしていません）。"))
            return
        try:
            batch, analysis = rollover.open_fiscal_year(
                year, person, keep_targets=keep_targets, confirm_warnings=confirm_warnings
            )
        except rollover.RolloverRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        except DatabaseError as error:
            raise CommandError(
                f"保存中にデータベースのエラーが起きたため、何も変更していません: {error}"
            ) from error
        for line in summary_lines(analysis):
            self.stdout.write(line)
        for problem in analysis.problems:
            self.stderr.write(str(problem))
        if analysis.problems:
            raise CommandError(
                f"エラーが {len(analysis.problems)} 件あるため、何も作成していません。"
            )
        for warning in analysis.warnings:
            self.stderr.write(f"警告: {warning}")
        if batch is None:
            raise CommandError(
                f"警告が {len(analysis.warnings)} 件あるため、何も作成していません。"
                "内容を確かめ、作成する場合は --confirm-warnings を付けてください。"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{eras.era_label(year)}を{len(carried)}支部に作成しました（{batch.change_reason}）。"
            )
        )

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kpis import writes
from kpis.eras import parse_fiscal_year
from kpis.models import Kpi


class Command(BaseCommand):
    help = (
        "月次実績から各KPIの着地見込み（年度末の見込みと、目標に対する見込みの結果）を計算し直して"
        "保存します。月次実績の保存・取り込みのたびに自動で更新されるため、通常は不要です"
        "（この機能より前のデータに見込みを付けるときに使います）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", help="この年度のKPIだけ（例: 2024、令和6年度）。翌年度の見込みも更新します"
        )

    def handle(self, *args, **options):
        kpis = Kpi.objects.all()
        if options["year"]:
            year = parse_fiscal_year(options["year"])
            if year is None:
                raise CommandError(f"年度「{options['year']}」を読めません。")
            kpis = kpis.filter(fiscal_year__start_year=year)
        keys = kpis.values_list("branch_id", "indicator_id", "fiscal_year__start_year")
        with transaction.atomic():
            changed = writes.refresh_outlooks(keys)
        self.stdout.write(f"着地見込みを更新しました（{changed}件）。")

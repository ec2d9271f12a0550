from django.core.management.base import BaseCommand, CommandError

from imports.exports import write_monthly_csv, write_monthly_xlsx
from imports.management.commands.export_kpis import write_export
from kpis.eras import parse_fiscal_year
from kpis.models import MonthlyValue


class Command(BaseCommand):
    help = (
        "月次実績を取り込みと同じ形式（支部コード・年度・KPI指標・系列・4月…3月）で"
        "書き出します。書き出したファイルはそのまま取り込み直せます。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--branch", help="支部コード（例: 11）")
        parser.add_argument("--year", help="年度（例: 2023、令和5年度）")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", help="書き出し先（省略時は標準出力。xlsx では必須）")

    def handle(self, *args, branch, year, format, output, **options):
        values = MonthlyValue.objects.all()
        if branch:
            values = values.filter(kpi__branch__code=branch)
        if year:
            start_year = parse_fiscal_year(year)
            if start_year is None:
                raise CommandError(f"年度「{year}」を読めません。")
            values = values.filter(kpi__fiscal_year__start_year=start_year)
        write_export(self, format, output, values, write_monthly_csv, write_monthly_xlsx)

from imports.management.exporting import ExportCommand
from kpis.exports import write_monthly_csv, write_monthly_xlsx
from kpis.models import MonthlyValue


class Command(ExportCommand):
    help = (
        "月次実績を取り込みと同じ形式（支部コード・年度・KPI指標・系列・4月…3月）で"
        "書き出します。書き出したファイルはそのまま取り込み直せます。"
    )

    def handle(self, *args, branch, year, format, output, **options):
        values = MonthlyValue.objects.all()
        if branch:
            values = values.filter(kpi__branch__code=branch)
        if (start_year := self.start_year(year)) is not None:
            values = values.filter(kpi__fiscal_year__start_year=start_year)
        self.write(format, output, values, write_monthly_csv, write_monthly_xlsx)

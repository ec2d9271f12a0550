from imports.management.exporting import ExportCommand
from kpis.exports import write_monthly_csv, write_monthly_xlsx
from kpis.models import Kpi, MonthlyValue


class Command(ExportCommand):
    help = (
        "月次実績を取り込みと同じ形式（支部コード・年度・KPI指標・系列・4月…3月・年計）で"
        "書き出します（xlsx は内訳のシート「月次内訳」も）。書き出したファイルはそのまま"
        "取り込み直せます。"
    )

    def handle(self, *args, branch, year, format, output, **options):
        kpis = Kpi.objects.all()
        if branch:
            kpis = kpis.filter(branch__code=branch)
        if (start_year := self.start_year(year)) is not None:
            kpis = kpis.filter(fiscal_year__start_year=start_year)
        values = MonthlyValue.objects.filter(kpi__in=kpis)
        self.write(format, output, values, write_monthly_csv, write_monthly_xlsx, kpis=kpis)

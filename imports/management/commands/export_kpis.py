from imports.management.exporting import ExportCommand
from kpis.exports import plan_for_export, write_kpis_csv, write_kpis_xlsx


class Command(ExportCommand):
    help = (
        "KPIと事業内容を取り込みと同じ形式（CSV: UTF-8 BOM付き、または xlsx）で書き出します。"
        "書き出したファイルはそのまま取り込み直せます。"
    )

    def handle(self, *args, branch, year, format, output, **options):
        kpis, activities, measures = plan_for_export(branch, self.start_year(year))
        extra = {"activities": activities, "measures": measures}
        self.write(format, output, kpis, write_kpis_csv, write_kpis_xlsx, **extra)

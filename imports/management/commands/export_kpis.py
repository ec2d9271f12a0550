import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from imports.exports import plan_for_export, write_kpis_csv, write_kpis_xlsx
from kpis.eras import parse_fiscal_year


class Command(BaseCommand):
    help = (
        "KPIと事業内容を取り込みと同じ形式（CSV: UTF-8 BOM付き、または xlsx）で書き出します。"
        "書き出したファイルはそのまま取り込み直せます。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--branch", help="支部コード（例: 11）")
        parser.add_argument("--year", help="年度（例: 2023、令和5年度）")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", help="書き出し先（省略時は標準出力。xlsx では必須）")

    def handle(self, *args, branch, year, format, output, **options):
        start_year = None
        if year:
            start_year = parse_fiscal_year(year)
            if start_year is None:
                raise CommandError(f"年度「{year}」を読めません。")
        kpis, activities, measures = plan_for_export(branch, start_year)
        extra = {"activities": activities, "measures": measures}
        write_export(self, format, output, kpis, write_kpis_csv, write_kpis_xlsx, **extra)


def write_export(command, format, output, queryset, write_csv, write_xlsx, **extra):
    """Write to `output`, or CSV to the command's standard output."""
    if format == "xlsx":
        if not output:
            raise CommandError("xlsx は --output で書き出し先を指定してください。")
        with Path(output).open("wb") as fileobj:
            write_xlsx(queryset, fileobj, **extra)
    elif output:
        with Path(output).open("w", encoding="utf-8", newline="") as fileobj:
            write_csv(queryset, fileobj, **extra)
    else:
        text = io.StringIO(newline="")
        write_csv(queryset, text, **extra)
        command.stdout.write(text.getvalue(), ending="")

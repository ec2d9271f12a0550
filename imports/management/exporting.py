"""What the export commands share: their options and where the file goes."""

import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kpis.eras import parse_fiscal_year


class ExportCommand(BaseCommand):
    """--branch, --year, --format and --output; CSV to standard output when no file."""

    def add_arguments(self, parser):
        parser.add_argument("--branch", help="支部コード（例: 11）")
        parser.add_argument("--year", help="年度（例: 2023、令和5年度）")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        parser.add_argument("--output", help="書き出し先（省略時は標準出力。xlsx では必須）")

    def start_year(self, year: str | None) -> int | None:
        if not year:
            return None
        start_year = parse_fiscal_year(year)
        if start_year is None:
            raise CommandError(f"年度「{year}」を読めません。")
        return start_year

    def write(self, format, output, queryset, write_csv, write_xlsx, **extra):
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
            self.stdout.write(text.getvalue(), ending="")

"""Downloads of the KPI table: the filtered rows (all pages) as CSV or xlsx.

The files are those the export commands write (kpis/exports.py): in the KPI workbook format,
so a download re-imports cleanly; Excel-safe (UTF-8 BOM, formula-like text cells
neutralised); coded columns in the readers' words (手動, 高いほど良い), which the importer
reads as well as the codes.
"""

from django.http import HttpResponse
from django.utils import timezone

from kpis.exports import write_kpis_csv, write_kpis_xlsx

FORMATS = {
    "csv": ("text/csv; charset=utf-8", write_kpis_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", write_kpis_xlsx),
}


def kpi_download(kpis, export_format: str) -> HttpResponse:
    """`kpis` as an attachment named kpi-YYYYMMDD.csv / .xlsx."""
    content_type, write = FORMATS[export_format]
    stamp = timezone.localdate().strftime("%Y%m%d")
    response = HttpResponse(content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="kpi-{stamp}.{export_format}"'
    # The writers read each row's measure with its branch and year: fetch them in one go.
    write(kpis.select_related("measure__branch", "measure__fiscal_year"), response)
    return response

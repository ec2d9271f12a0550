"""Downloads of the KPI table: the filtered rows (all pages) as CSV or xlsx.

The rows are those of the export functions (kpis/exports.py) that the export commands use
too, so a download is in the KPI workbook format, re-imports cleanly, and is Excel-safe (UTF-8
BOM, formula-like text cells neutralised) by the same rules as every other export. Coded
columns are written in the readers' words (手動, 高いほど良い: vocabulary.READERS_WORDS),
which the importer reads as well as the codes.
"""

import csv

from django.http import HttpResponse
from django.utils import timezone

from kpis.exports import (
    INDICATOR_HEADER,
    KPI_HEADER,
    indicator_rows,
    kpi_rows,
    neutralise,
    write_xlsx,
)
from kpis.vocabulary import INDICATOR_LABELS, KPI_LABELS, READERS_WORDS


def in_readers_words(rows, labels: dict[str, str]):
    """`rows` of a sheet whose columns are `labels`' keys, coded cells replaced by their words."""
    words = [(i, READERS_WORDS[key]) for i, key in enumerate(labels) if key in READERS_WORDS]
    for row in rows:
        row = list(row)
        for i, by_code in words:
            row[i] = by_code.get(row[i], row[i])
        yield row


def write_csv(kpis, fileobj) -> None:
    fileobj.write("\ufeff")  # so that Excel opens it as UTF-8
    writer = csv.writer(fileobj, lineterminator="\r\n")
    writer.writerow(KPI_HEADER)
    for row in in_readers_words(kpi_rows(kpis), KPI_LABELS):
        writer.writerow([neutralise(cell) for cell in row])


def write_workbook(kpis, fileobj) -> None:
    """The KPI sheet and its 指標 sheet (the catalogue, so that an import into an empty
    database gets directions right)."""
    write_xlsx(
        fileobj,
        [
            ("KPI", KPI_HEADER, in_readers_words(kpi_rows(kpis), KPI_LABELS)),
            ("指標", INDICATOR_HEADER, in_readers_words(indicator_rows(kpis), INDICATOR_LABELS)),
        ],
    )


FORMATS = {
    "csv": ("text/csv; charset=utf-8", write_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", write_workbook),
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

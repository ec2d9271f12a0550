"""The lower bound of an import: reading every cell of the workbook and nothing else."""

from pathlib import Path

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook


def read_with_openpyxl(path: Path) -> int:
    """Every cell of every sheet with openpyxl in read-only mode; returns the cell count."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        cells = 0
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
        return cells
    finally:
        workbook.close()


def read_with_calamine(path: Path) -> int:
    """The same cells with python-calamine (Rust), the alternative xlsx reader."""
    workbook = CalamineWorkbook.from_path(str(path))
    cells = 0
    for name in workbook.sheet_names:
        for row in workbook.get_sheet_by_name(name).to_python():
            cells += len(row)
    return cells

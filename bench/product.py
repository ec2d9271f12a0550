"""The product's import, called the way `manage.py import_workbook --confirm-warnings` calls it.

The data set has values the value check warns about (kpis.checks: a negative 業務経費の対前年度
増減額 in a point-in-time series, an outlying month), as real workbooks do; an admin confirms
them in the preview, so the bench imports with `confirm_warnings=True`. Without it the import
writes nothing and returns no batch.
"""

from pathlib import Path

from imports.pipeline import Analysis, import_file


def import_workbook(path: Path, user) -> Analysis:
    batch, analysis = import_file(path.read_bytes(), path.name, user, confirm_warnings=True)
    if batch is None:
        problems = "; ".join(str(p) for p in analysis.problems[:5])
        raise RuntimeError(f"the product's import refused {path.name}: {problems}")
    return analysis

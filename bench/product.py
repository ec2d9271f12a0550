"""The product's import, called the way `manage.py import_workbook` calls it."""

from pathlib import Path

from imports.pipeline import import_file


def import_workbook(path: Path, user) -> None:
    batch, analysis = import_file(path.read_bytes(), path.name, user)
    if batch is None:
        problems = "; ".join(str(p) for p in analysis.problems[:5])
        raise RuntimeError(f"the product's import refused {path.name}: {problems}")

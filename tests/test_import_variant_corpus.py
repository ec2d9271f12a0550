"""Workbooks written the ways branches write them import to the rows of the demo file they
come from.

Each variant of scripts/make_variant_corpus.py (a pillar numbered `①`, a header `指標名`, a
title row, a footnote, the table over two sheets, …) is imported into an empty database and
exported, and so is its demo file; the two exports must agree field by field. Labels are
compared after NFKC (`（１）` = `(1)`), measure numbers by their numbers (`(1)` = `1`,
`(2)-1` = `(2)①`), and the pillar by its national pillar: the branch's own wording of a
pillar may differ, nothing else may. A variant that renumbers measures says how
(`relabel`), and the demo file's export is renumbered the same way before comparing; a
variant whose layout has no place for some cells (a breakdown's 備考 on a progress sheet)
names them (`blank`). The import goes through the import command, with the admin's
answers for unknown headers (`--map`) where the variant adds columns.
"""

import io
import re
import tempfile
import unicodedata
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from kpis import exports
from kpis.models import Kpi, MonthlyValue
from scripts.make_variant_corpus import CIRCLED, build, variant_specs
from tests.factories_imports import demo

pytestmark = pytest.mark.django_db

SPECS = {spec.name: spec for spec in variant_specs()}

PILLAR, MEASURE_NO = "区分", "施策番号"

# The demo files' exports, imported once per process: {(required files, file): export}.
_demo_exports: dict[tuple, dict] = {}


def test_the_corpus_has_at_least_30_variants_of_each_demo_file_kind():
    assert len(SPECS) >= 30
    kinds = {spec.canonical for spec in SPECS.values()}
    assert kinds == {
        "saitama_2023_kpi.xlsx",
        "gunma_2023_kpi.xlsx",
        "chiba_2024_kpi.xlsx",
        "gunma_2023_monthly.xlsx",
    }


@pytest.mark.parametrize("name", list(SPECS))
def test_variant_imports_to_the_rows_of_its_demo_file(name):
    spec = SPECS[name]
    variant = build(spec)
    required = [(file, demo(file), ()) for file in spec.requires]

    key = (spec.requires, spec.canonical)
    if key not in _demo_exports:
        _demo_exports[key] = exported_after_import([*required, (key[1], demo(key[1]), ())])
    expected = blanked(relabelled(_demo_exports[key], variant.relabel), variant.blank)
    assert expected["月次" if spec.requires else "KPI"], "the demo file gave no rows"
    got = exported_after_import([*required, (variant.file_name, variant.content, variant.mapping)])

    differences = compare(expected, got)
    assert not differences, f"{variant.mutates}:\n" + "\n".join(differences[:20])


def exported_after_import(files: list[tuple[str, bytes, tuple]]) -> dict[str, list[dict]]:
    """Import the files (name, content, --map options) with the import command into the
    empty database, export everything, and leave the database empty again."""
    with transaction.atomic(), tempfile.TemporaryDirectory() as folder:
        for file_name, content, mapping in files:
            path = Path(folder) / file_name
            path.write_bytes(content)
            options = [option for answer in mapping for option in ("--map", answer)]
            errors = io.StringIO()
            try:
                call_command(
                    "import_workbook",
                    str(path),
                    "--confirm-warnings",
                    *options,
                    stdout=io.StringIO(),
                    stderr=errors,
                )
            except CommandError as error:
                lines = errors.getvalue().splitlines()
                pytest.fail(f"{file_name} was refused: {error}\n" + "\n".join(lines[:20]))
        export = exported()
        transaction.set_rollback(True)
    return export


def exported() -> dict[str, list[dict]]:
    """Everything in the database as the KPI and monthly exports write it, {sheet: rows as
    {header: value}}: the exports' own functions, keeping the rows they hand to the xlsx
    writer instead of writing them (the writing is most of an export's time)."""
    sheets = {}

    def keep(fileobj, triples):
        for title, header, rows in triples:
            sheets[title] = [dict(zip(header, row, strict=True)) for row in rows]

    with mock.patch.object(exports, "write_xlsx", keep):
        kpis, activities, measures = exports.plan_for_export()
        exports.write_kpis_xlsx(kpis, io.BytesIO(), activities=activities, measures=measures)
        exports.write_monthly_xlsx(MonthlyValue.objects.all(), io.BytesIO(), kpis=Kpi.objects.all())
    return sheets


def relabelled(export: dict[str, list[dict]], relabel: dict[str, str]) -> dict:
    """The demo file's export with its measures renumbered as the variant numbers them
    ("pillar|label" → label)."""

    def renumber(row: dict) -> dict:
        if row.get(PILLAR) is None or row.get(MEASURE_NO) is None:
            return row
        key = f"{national_pillar(row[PILLAR])}|{row[MEASURE_NO]}"
        return {**row, MEASURE_NO: relabel.get(key, row[MEASURE_NO])}

    return {title: [renumber(row) for row in rows] for title, rows in export.items()}


def blanked(export: dict[str, list[dict]], blank: list[dict]) -> dict:
    """The demo file's export without the cells the variant's layout cannot carry."""
    export = {title: [dict(row) for row in rows] for title, rows in export.items()}
    for cell in blank:
        for row in export[cell["sheet"]]:
            if all(comparable(k, row.get(k)) == comparable(k, v) for k, v in cell["row"].items()):
                row[cell["column"]] = ""
    return export


def compare(expected: dict, got: dict) -> list[str]:
    differences = []
    for title in sorted(set(expected) | set(got)):
        if title not in got or title not in expected:
            side = "demo file's" if title in expected else "variant's"
            differences.append(f"sheet {title}: only in the {side} export")
            continue
        want, have = expected[title], got[title]
        if len(want) != len(have):
            differences.append(
                f"{title}: {len(want)} rows from the demo file, {len(have)} from the variant"
            )
        for number, (a, b) in enumerate(zip(want, have, strict=False), start=2):
            for column in dict.fromkeys([*a, *b]):
                left, right = comparable(column, a.get(column)), comparable(column, b.get(column))
                if left != right:
                    differences.append(
                        f"{title} row {number} {column}: demo {a.get(column)!r}, "
                        f"variant {b.get(column)!r}"
                    )
    return differences


def comparable(column: str, value):
    if value is None:
        return ""
    text = str(value)
    if column == PILLAR:
        return national_pillar(text)
    if column == MEASURE_NO:
        return measure_numbers(text)
    return unicodedata.normalize("NFKC", text).strip()


def national_pillar(text: str) -> str:
    """The export writes a pillar as its national number and the branch's wording."""
    match = re.match(r"\s*(\d+)", unicodedata.normalize("NFKC", text))
    return match[1] if match else text


def measure_numbers(label: str) -> tuple[int, ...]:
    """`(2)-1`, `2-1`, `(2)①`, `（２）－１` → (2, 1)."""
    text = "".join(f"({CIRCLED.index(c) + 1})" if c in CIRCLED else c for c in label)
    return tuple(int(n) for n in re.findall(r"\d+", unicodedata.normalize("NFKC", text)))

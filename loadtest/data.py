"""The load test's database side, run in its own process with DATABASE_URL set:
`python -m loadtest.data setup STAFF READERS IMPORT_ROWS WORKDIR` migrates, loads the demo,
opens the years for entry and creates the users — and, for the import scenario, loads four
national years of the benchmark's data set and writes a monthly workbook of IMPORT_ROWS rows
(header included) changing every value of them — then prints the plan of the run as JSON;
`python -m loadtest.data final CELLS.json BATCH_FILE_NAME` prints the stored text and
version of each cell and the state of the import batch."""

import io
import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Branch × fiscal year where the simulated staff save values; the demo publishes the first
# two, which the setup turns back into drafts so that staff may change them.
ENTRY_PLANS = [("11", 2023), ("10", 2023), ("12", 2024)]
# Published plans that the readers open.
READ_PLANS = [("12", 2022), ("12", 2023)]
KPIS_PER_BRANCH = 4
MONTHS = [4, 5, 6]  # few cells, so that staff of one branch often save the same cell
PASSWORD = "load-test-password"
# The import scenario's years: the benchmark's national data set, years the demo does not
# have (its measures would share numbers with the demo's).
IMPORT_YEARS = (2017, 2018, 2019, 2020)
IMPORT_FILE_NAME = "loadtest_monthly.xlsx"


def setup(staff_count: int, reader_count: int, import_rows: int, workdir: str) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from branches.models import Branch, Membership
    from branches.roles import COUNCIL_GROUP
    from kpis.entry.services import series_for
    from kpis.models import BranchPlan, FiscalYear, Kpi, MonthlyValue

    quiet = io.StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    call_command("load_demo", verbosity=0, stdout=quiet)
    years = {year for _, year in ENTRY_PLANS}
    FiscalYear.objects.filter(start_year__in=years).update(
        status=FiscalYear.Status.OPEN, entry_deadline_day=None
    )
    for code, year in ENTRY_PLANS:
        BranchPlan.objects.update_or_create(
            branch=Branch.objects.get(code=code),
            fiscal_year=FiscalYear.objects.get(start_year=year),
            defaults={"status": BranchPlan.Status.DRAFT, "published_at": None},
        )

    password = make_password(PASSWORD)  # hashed once: 40 hashes would take a while
    council = Group.objects.get(name=COUNCIL_GROUP)
    staff = []
    for n in range(staff_count):
        code, year = ENTRY_PLANS[n % len(ENTRY_PLANS)]
        user = User.objects.create(username=f"lt-staff-{n:02d}", password=password)
        Membership.objects.create(
            user=user, branch=Branch.objects.get(code=code), role=Membership.Role.STAFF
        )
        staff.append({"username": user.username, "code": code, "year": year})
    readers = []
    for n in range(reader_count):
        user = User.objects.create(username=f"lt-reader-{n:02d}", password=password)
        user.groups.add(council)
        readers.append({"username": user.username})

    cells = []
    for code, year in ENTRY_PLANS:
        kpis = Kpi.objects.filter(branch__code=code, fiscal_year__start_year=year).order_by(
            "order", "pk"
        )[:KPIS_PER_BRANCH]
        for kpi in kpis.select_related("indicator"):
            for month in MONTHS:
                stored = MonthlyValue.objects.filter(
                    kpi=kpi, month=month, series=series_for(kpi.indicator)
                ).first()
                cells.append(
                    {
                        "code": code,
                        "year": year,
                        "kpi": kpi.pk,
                        "month": month,
                        "version": stored.version if stored else 0,
                    }
                )
    read_urls = [f"/branches/{code}/{year}/" for code, year in READ_PLANS]
    scenario = _import_scenario(import_rows, workdir, password) if import_rows else None
    return {
        "import": scenario,
        "password": PASSWORD,
        "staff": staff,
        "readers": readers,
        "cells": cells,
        "read_urls": read_urls,
        "table_urls": ["/kpis/", "/kpis/?fiscal_year=2023"],
    }


def _import_scenario(import_rows: int, workdir: str, password: str) -> dict:
    """Stored KPIs and monthly values for four national years, a workbook changing the first
    `import_rows - 1` series of them, and the head-office admin who imports it."""
    from pathlib import Path

    from django.contrib.auth.models import Group, User

    from bench import load
    from bench.dataset import NationalDataSet, changed_rows, write_monthly_workbook
    from branches.roles import ADMIN_GROUP

    data = NationalDataSet(years=range(2015, IMPORT_YEARS[-1] + 1))
    for year in IMPORT_YEARS:
        load.load_year(data, year)
    rows = [row for year in IMPORT_YEARS for row in changed_rows(data, year)]
    rows = rows[: import_rows - 1]  # the header is the workbook's first row
    path = Path(workdir) / IMPORT_FILE_NAME
    write_monthly_workbook(rows, path)
    admin = User.objects.create(username="lt-admin", password=password)
    admin.groups.add(Group.objects.get_or_create(name=ADMIN_GROUP)[0])
    values = sum(1 for row in rows for cell in row.months if cell is not None)
    return {"path": str(path), "rows": len(rows) + 1, "values": values, "admin": admin.username}


def batch_state(file_name: str) -> dict:
    from imports.models import ImportBatch

    batch = ImportBatch.objects.filter(file_name=file_name).order_by("-pk").first()
    if batch is None:
        return {}
    return {"pk": batch.pk, "status": batch.status, "errors": batch.errors[:3]}


def final(cells: list[dict]) -> dict:
    from kpis.entry.services import series_for
    from kpis.models import Kpi, MonthlyValue

    stored = {}
    for cell in cells:
        kpi = Kpi.objects.select_related("indicator").get(pk=cell["kpi"])
        value = MonthlyValue.objects.filter(
            kpi=kpi, month=cell["month"], series=series_for(kpi.indicator)
        ).first()
        if value is not None:
            stored[f"{cell['kpi']}:{cell['month']}"] = [value.text, value.version]
    return stored


if __name__ == "__main__":
    django.setup()
    if sys.argv[1] == "setup":
        result = setup(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        with open(sys.argv[2], encoding="utf-8") as file:
            result = {"cells": final(json.load(file)), "batch": batch_state(IMPORT_FILE_NAME)}
    print(json.dumps(result, ensure_ascii=False))

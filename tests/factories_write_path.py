"""Builders for the write-path state machine (tests/test_write_path_state_machine.py): the
people, a small world of two branches over two fiscal years with relative targets, the
workbooks an admin uploads, the form data a browser posts, and how a value should read on
a page."""

import csv
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from openpyxl.utils import get_column_letter

from branches.models import Membership
from branches.roles import ADMIN_GROUP
from kpis.entry.forms import cell_field, versions_field
from kpis.eras import FISCAL_MONTHS
from kpis.models import BranchPlan, FiscalYear, Indicator, Kpi, Measure, MonthlyValue, Pillar
from tests import factories
from tests import factories_imports as fi

BRANCHES = ("11", "12")
YEARS = (2023, 2024)
MONTHS = (4, 5)
MEASURE = {"pillar": (1, "基盤的保険者機能関係"), "number": 2, "title": "サービス水準の向上"}
GROUP = "業務G"
KPI_TEXTS = ("target_text", "actual_text", "previous_actual_text", "national_average_text")


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    slug: str
    unit: str
    aggregation: str
    first_target: str  # FY2023; FY2024 is always 対前年度以上
    previous_actual: str  # FY2023's 前年度実績, the baseline of a relative FY2023 target
    actuals: tuple[str, str]  # FY2023, FY2024: both achieved at the start
    april: str  # every KPI's stored 4月 value at the start


INDICATORS = (
    # A rate as at each month (時点): a negative or above-100 % value is suspicious.
    IndicatorSpec(
        "特定健診実施率",
        "tokutei-kenshin",
        "%",
        "point",
        "93.0%以上",
        "92.0%",
        ("93.5%", "94.5%"),
        "93.1%",
    ),
    # Single-month counts summed over the year: a negative month is a net decrease.
    IndicatorSpec(
        "事業所訪問件数",
        "jigyosho-homon",
        "件",
        "sum",
        "対前年度以上",
        "1,000件",
        ("1,100件", "1,150件"),
        "90件",
    ),
)


def person(username: str, *, branch: str | None = None, manager: bool = False, admin=False):
    """A user without a password (the machine logs in with force_login: no hashing)."""
    user = get_user_model().objects.create(username=username, is_staff=admin)
    if admin:
        user.groups.add(Group.objects.get(name=ADMIN_GROUP))
    if branch:
        role = Membership.Role.MANAGER if manager else Membership.Role.STAFF
        Membership.objects.create(user=user, branch=factories.branch(branch), role=role)
    return user


def cast() -> dict:
    """admin, and staff_<code> / manager_<code> of each branch."""
    people = {"admin": person("sm-admin", admin=True)}
    for code in BRANCHES:
        people[f"staff_{code}"] = person(f"sm-staff{code}", branch=code)
        people[f"manager_{code}"] = person(f"sm-manager{code}", branch=code, manager=True)
    return people


def world() -> dict[tuple[str, int, int], Kpi]:
    """Open years, draft plans and one KPI per branch × year × indicator with its April
    value; FY2024's targets are 対前年度以上, so they follow FY2023's actuals. Keyed (code,
    year, indicator index)."""
    pillar = Pillar.national()[1]
    indicators = [
        Indicator.objects.create(
            name=spec.name,
            slug=spec.slug,
            unit=spec.unit,
            aggregation=spec.aggregation,
            direction="higher",
        )
        for spec in INDICATORS
    ]
    kpis = {}
    for year in YEARS:
        fiscal_year = FiscalYear.objects.create(start_year=year, status=FiscalYear.Status.OPEN)
        for code in BRANCHES:
            branch = factories.branch(code)
            BranchPlan.objects.create(branch=branch, fiscal_year=fiscal_year)
            measure = Measure.objects.create(
                branch=branch,
                fiscal_year=fiscal_year,
                pillar=pillar,
                pillar_label=MEASURE["pillar"][1],
                number_label=f"({MEASURE['number']})",
                title=MEASURE["title"],
                group=GROUP,
            )
            for index, (spec, indicator) in enumerate(zip(INDICATORS, indicators, strict=True)):
                first = year == YEARS[0]
                kpis[code, year, index] = Kpi.objects.create(
                    branch=branch,
                    fiscal_year=fiscal_year,
                    indicator=indicator,
                    measure=measure,
                    order=index,
                    description=f"{spec.name}の目標",
                    target_text=spec.first_target if first else "対前年度以上",
                    previous_actual_text=spec.previous_actual if first else "",
                    actual_text=spec.actuals[YEARS.index(year)],
                )
                MonthlyValue.objects.create(
                    kpi=kpis[code, year, index], month=4, series="single", text=spec.april
                )
    return kpis


def reloaded(world: dict[tuple[str, int, int], int]) -> dict[tuple[str, int, int], Kpi]:
    """The world's KPIs ({key: pk}, as `world` built them) read again: each example gets its
    own copies."""
    kpis = Kpi.objects.select_related("branch", "fiscal_year", "indicator", "measure")
    found = kpis.in_bulk(world.values())
    return {key: found[pk] for key, pk in world.items()}


def session(user) -> str:
    """A session of `user` for the clients of every example: one login per person and test,
    not per example."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# --- workbooks as head office uploads them --------------------------------------------------

KPI_ACTUAL_COLUMN = get_column_letter(fi.KPI_HEADER.index("実績") + 1)


def month_column(month: int) -> str:
    return get_column_letter(fi.MONTHLY_HEADER.index(f"{month}月") + 1)


def kpi_workbook(rows: list[tuple[Kpi, str, str]]) -> bytes:
    """KPI workbook rows (kpi, actual text, 結果 or blank for the rule's mark); every other
    column repeats what the KPI holds, so only the actual and the mark change."""
    return fi.xlsx(
        [
            fi.kpi_row(
                **{
                    "支部コード": kpi.branch.code,
                    "年度": str(kpi.fiscal_year.start_year),
                    "区分": f"{MEASURE['pillar'][0]} {MEASURE['pillar'][1]}",
                    "施策番号": f"({MEASURE['number']})",
                    "施策": MEASURE["title"],
                    "担当グループ": GROUP,
                    "事業内容": kpi.description,
                    "KPI指標": kpi.indicator.name,
                    "単位": kpi.indicator.unit,
                    "目標": kpi.target_text,
                    "実績": actual,
                    "前年度実績": kpi.previous_actual_text,
                    "結果": mark,
                }
            )
            for kpi, actual, mark in rows
        ]
    )


def monthly_workbook(rows: list[tuple[Kpi, dict[int, str]]]) -> bytes:
    """Monthly workbook rows (kpi, {month: text}); a blank month changes nothing."""
    return fi.xlsx(
        [
            fi.monthly_row(
                indicator=kpi.indicator.name,
                months=[texts.get(month, "") for month in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)],
                **{"支部コード": kpi.branch.code, "年度": str(kpi.fiscal_year.start_year)},
            )
            for kpi, texts in rows
        ],
        header=fi.MONTHLY_HEADER,
        title="月次",
    )


# --- forms as a browser posts them ------------------------------------------------------------


def grid_data(kpis: list[Kpi]) -> dict:
    """The grid form of these KPIs (one branch × year) as the page renders it now: texts
    and the versions they are shown with (read as plain columns, so that a value the
    decimal field cannot hold does not stop the test)."""
    stored = {
        (kpi_id, month): (text, version)
        for kpi_id, month, text, version in MonthlyValue.objects.filter(kpi__in=kpis).values_list(
            "kpi_id", "month", "text", "version"
        )
    }
    data = {"reason": ""}
    for kpi in kpis:
        versions = []
        for month in FISCAL_MONTHS:
            text, version = stored.get((kpi.pk, month), ("", 0))
            data[cell_field(kpi.pk, month)] = text
            versions.append(str(version))
        data[versions_field(kpi.pk)] = ",".join(versions)
    return data


def form_data(form) -> dict:
    """What a browser posts for an unbound form as rendered: every field's initial value."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    return data


# --- values on pages ----------------------------------------------------------------------------


def as_written(text: str) -> str:
    """How a page should show a stored text: its digits and decimals kept, full-width
    characters half-width, △ for minus (`９６．５％` → `96.5%`, `95.0%` → `95.0%`)."""
    shown = unicodedata.normalize("NFKC", text).strip()
    return "△" + shown[1:] if shown.startswith("-") else shown


def actual_parts(text: str) -> tuple[str, ...]:
    """What a page must show of an actual: the text as written, or its number and its
    as-of note apart (`93.1% (R6.4現在)` → `93.1%` and `R6.4現在`)."""
    shown = as_written(text)
    match = re.fullmatch(r"(.*\S)\s*\((.+)\)", shown)
    return (match[1], match[2]) if match else (shown,)


def csv_actuals(content: bytes) -> dict[tuple[str, str, str], str]:
    """The KPI table's CSV download: (branch code, year, indicator) → 実績 as written."""
    rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    return {
        (row["支部コード"], row["年度"], row["KPI指標"]): row["実績"].removeprefix("'")
        for row in rows
        if row.get("KPI指標")
    }


def pages(kpis: dict, touched: set[tuple[str, int]]) -> list[str]:
    """The pages that show the KPIs of the `touched` branch × years: the KPI table and its
    CSV download, the branch pages, the indicator comparisons, the entry grid, KPI pages
    and history."""
    if not touched:
        return []
    table = reverse("kpis:kpi_table")
    paths = [table, f"{table}?export=csv"]
    for code, year in sorted(touched):
        paths.append(reverse("kpis:branch_year", args=[code, year]))
        paths.append(reverse("entry:grid", args=[code, year]))
        paths.append(reverse("entry:history", args=[code, year]))
        for spec in INDICATORS:
            paths.append(reverse("kpis:indicator_compare", args=[spec.slug, year]))
        for index in range(len(INDICATORS)):
            paths.append(reverse("entry:kpi", args=[code, year, kpis[code, year, index].pk]))
    return list(dict.fromkeys(paths))


def kpi_row_html(page: str, indicator: str) -> str | None:
    """The branch page's rows of one KPI (its row and the detail row with the months)."""
    for part in page.split('<tr class="kpi-row">')[1:]:
        if f">{indicator}</a>" in part:
            return part
    return None


def values_not_as_written(kpis: dict, responses: dict) -> list[str]:
    """Stored texts that a rendered page (200) does not show as written: actuals on the
    branch page (the KPI's rows), the KPI table, its CSV download (as written or as
    stored, which re-imports) and the indicator comparison; monthly values, the target and
    the previous year's actual (its own text, else the year before's actual) on the branch
    page."""

    def html(path):
        response = responses.get(path)
        ok = response is not None and response.status_code == 200
        return response.content.decode() if ok else None

    table = reverse("kpis:kpi_table")
    download = responses.get(f"{table}?export=csv")
    ok = download is not None and download.status_code == 200
    exported = csv_actuals(download.content) if ok else {}
    actuals = dict(Kpi.objects.values_list("pk", "actual_text"))
    others = {
        pk: (target, previous)
        for pk, target, previous in Kpi.objects.values_list(
            "pk", "target_text", "previous_actual_text"
        )
    }
    monthly = defaultdict(list)
    for kpi_id, text in MonthlyValue.objects.values_list("kpi_id", "text"):
        monthly[kpi_id].append(text)
    wrong = []
    for (code, year, index), kpi in kpis.items():
        name = kpi.indicator.name
        page = html(reverse("kpis:branch_year", args=[code, year]))
        row = kpi_row_html(page, name) if page else None
        places = {
            "支部のページ": row,
            "KPI一覧": html(table),
            "指標比較": html(reverse("kpis:indicator_compare", args=[kpi.indicator.slug, year])),
        }
        actual = actuals[kpi.pk]
        if actual.strip():
            for place, shown in places.items():
                if shown is not None and not all(part in shown for part in actual_parts(actual)):
                    wrong.append(f"{place} {code} {year} {name}: 実績「{actual}」")
            in_csv = exported.get((code, str(year), name), actual)
            if in_csv not in (actual, as_written(actual)):
                wrong.append(f"CSV {code} {year} {name}: 実績「{actual}」が「{in_csv}」")
        if row is None:
            continue
        target, previous = others[kpi.pk]
        before = kpis.get((code, year - 1, index))
        previous = previous or (actuals[before.pk] if before else "")
        texts = [("月次", text) for text in monthly[kpi.pk]]
        texts += [("目標", target), ("前年度実績", previous)]
        for label, text in texts:
            if text.strip() and as_written(text) not in row:
                wrong.append(f"支部のページ {code} {year} {name}: {label}「{text}」")
    return wrong

"""The reading and entry pages, timed through Django's test client as a logged-in admin."""

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.timing import repeat

BRANCH_CODE = "11"  # 埼玉支部
INDICATOR = "生活習慣病予防健診実施率"
# A keyword search within one year: the filter a council member would type.
KPI_FILTER = {"q": "実施率"}

_PAGE_LINK = re.compile(r"[?&;]page=(\d+)")


@dataclass
class Page:
    key: str
    label: str
    url: str


def pages(client: Client, year: int, indicator_slug: str) -> list[Page]:
    """The pages the issues name, for `year`, as the admin `client`; last pages are found
    from the first pages. The published year's pages (`published_pages`) come apart."""
    kpi_table = reverse("kpis:kpi_table")
    filtered = f"{kpi_table}?{urlencode({'fiscal_year': year, **KPI_FILTER})}"
    return [
        Page("home", "ホーム", reverse("kpis:home")),
        Page(
            "branch_year",
            "支部の達成状況 (埼玉, 1年度)",
            reverse("kpis:branch_year", args=[BRANCH_CODE, year]),
        ),
        Page("kpi_table_first", "KPI一覧 全件 1ページ目", kpi_table),
        Page("kpi_table_last", "KPI一覧 全件 最終ページ", _last_page(client, kpi_table)),
        Page("kpi_filtered_first", "KPI一覧 絞り込み 1ページ目", filtered),
        Page("kpi_filtered_last", "KPI一覧 絞り込み 最終ページ", _last_page(client, filtered)),
        Page(
            "indicator_compare",
            "指標比較 (47支部, 1年度)",
            reverse("kpis:indicator_compare", args=[indicator_slug, year]),
        ),
        Page(
            "entry_grid",
            "月次入力 (埼玉, 1年度)",
            reverse("entry:grid", args=[BRANCH_CODE, year]),
        ),
        Page(
            "entry_progress",
            "入力状況 (47支部 × 12か月, 1年度)",
            f"{reverse('kpis:entry_progress')}?year={year}",
        ),
        Page(
            "national_map",
            "全国の達成状況 (47支部 × 60指標, 1年度)",
            f"{reverse('kpis:national_map')}?year={year}",
        ),
    ]


def _last_page(client: Client, url: str) -> str:
    html = _get(client, url).content.decode()
    numbers = [int(n) for n in _PAGE_LINK.findall(html)]
    if not numbers:
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}page={max(numbers)}"


def _get(client: Client, url: str):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    return response


def query_count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        _get(client, url)
    return len(queries)


def measure(client: Client, page: Page, repetitions: int) -> dict:
    """One warm-up request, then the median of `repetitions`; queries of a separate request."""
    response = _get(client, page.url)
    timing = repeat(lambda: _get(client, page.url), repetitions)
    return {
        "label": page.label,
        "url": page.url,
        "bytes": len(response.content),
        "queries": query_count(client, page.url),
        **timing.as_dict(),
    }


def sql_report(client: Client, url: str) -> str:
    """The page's queries, slowest first, with their times (for the profiles)."""
    with CaptureQueriesContext(connection) as queries:
        _get(client, url)
    ordered = sorted(queries.captured_queries, key=lambda q: float(q["time"]), reverse=True)
    total = sum(float(q["time"]) for q in ordered)
    lines = [f"{url}: {len(ordered)} queries, {total * 1000:.1f} ms in the database", ""]
    lines += [f"{float(q['time']) * 1000:8.1f} ms  {q['sql']}" for q in ordered]
    return "\n".join(lines) + "\n"


def publish_for_council(year: int, admin) -> None:
    """The branch's plan and results of `year` published as the product publishes them,
    each with its snapshot, so that council members read the snapshot path."""
    from django.utils import timezone

    from kpis import snapshots
    from kpis.models import BranchPlan, PublishedSnapshot

    plan = BranchPlan.objects.get(branch__code=BRANCH_CODE, fiscal_year__start_year=year)
    now = timezone.now()
    plan.status, plan.published_at, plan.plan_published_at = plan.Status.PUBLISHED, now, now
    plan.save()
    for document in (PublishedSnapshot.Document.PLAN, PublishedSnapshot.Document.RESULTS):
        snapshots.capture(plan, document, admin, published_at=now)


def council_client():
    """A logged-in council member (評議員)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from branches.roles import COUNCIL_GROUP

    user = get_user_model().objects.create_user("bench-council")
    user.groups.add(Group.objects.get_or_create(name=COUNCIL_GROUP)[0])
    client = Client()
    client.force_login(user)
    return client


def published_pages(year: int) -> list[tuple[str, Page]]:
    """(who, page): the branch page and the plan page of a published year, as a council
    member reads them (the snapshot) and as an admin (the working version and what differs
    from the published one)."""
    branch = reverse("kpis:branch_year", args=[BRANCH_CODE, year])
    plan = reverse("kpis:plan_year", args=[BRANCH_CODE, year])
    return [
        ("council", Page("branch_year_council", "支部の達成状況 (埼玉, 公表済み) 評議員", branch)),
        ("admin", Page("branch_year_published", "支部の達成状況 (埼玉, 公表済み) 管理者", branch)),
        ("council", Page("plan_year_council", "事業計画 (埼玉, 公表済み) 評議員", plan)),
        ("admin", Page("plan_year_admin", "事業計画 (埼玉, 公表済み) 管理者", plan)),
    ]

"""Access rules as code: who may open which URL, for every URL pattern of the project.

RULES below is the rule table. Every named URL pattern (walked from the root resolver through
every include; the Django admin's own pages are represented by admin:index) must have an
entry, and every entry is asserted for seven roles: anonymous, council (評議員), staff and
manager of 埼玉 (11), staff of 千葉 (12), a head-office admin (本部管理者) and a logged-in user
with no role (no group, no branch), who gets the no-role page everywhere. A new view
without a rule fails `test_every_url_pattern_has_a_rule`; a rule the code does not enforce
fails `test_rule_is_enforced`.

The URLs point at 埼玉's open fiscal year 2023, whose plan is a draft (unpublished), with a
KPI, a monthly value and an import batch; 千葉's 2023 plan is published. Statuses:
LOGIN = 302 to a login page, DONE = 302 elsewhere (the action ran, or "go there"),
200, 403, 404 (unknown or not readable: nothing leaks), 405 (method not allowed),
NO_ROLE = 403 with the page saying the user has no role yet.
"""

import functools
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from branches.models import Membership
from kpis.entry.services import history_stamp
from kpis.models import BranchPlan, Measure
from kpis.writes import report_stamps
from tests import factories
from tests import factories_entry as fe
from tests.factories_imports import kpi_row, xlsx
from tests.factories_pages import BranchPlanFactory, plan_year

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "council", "staff_11", "manager_11", "staff_12", "admin", "no_role")
LOGIN = "login"
DONE = "done"
NO_ROLE = "no role"
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")

# Placeholders in kwargs and POST data, filled from the data built for each test.
KPI = "<kpi>"
BATCH = "<batch>"
SLUG = "<slug>"
STAMP = "<stamp>"
GRID = "<grid>"  # the whole entry grid as the browser posts it, with one cell changed
MEASURE = "<measure>"
MEASURE_STAMP = "<measure stamp>"
PILLAR = "<pillar>"

SAITAMA_2023 = {"code": "11", "year": 2023}


@dataclass
class Rule:
    """Expected status per role (ROLES order) for GET and, where the view takes it, POST."""

    get: tuple
    post: tuple | None = None
    kwargs: dict = field(default_factory=dict)
    data: dict | str = field(default_factory=dict)


# POST-only entry pages: login first, then the method (no role: that page before anything)
MEMBERS_405 = (LOGIN, 405, 405, 405, 405, 405, NO_ROLE)
ADMIN_ONLY = (LOGIN, 403, 403, 403, 403, 200, NO_ROLE)
READERS = (LOGIN, 200, 200, 200, 200, 200, NO_ROLE)
OWN_BRANCH = (LOGIN, 403, 200, 200, 403, 200, NO_ROLE)  # entry pages of 埼玉
OWN_BRANCH_WRITE = (LOGIN, 403, DONE, DONE, 403, DONE, NO_ROLE)
REVIEWERS = (LOGIN, 403, 403, DONE, 403, DONE, NO_ROLE)  # 埼玉's manager and admins
OPEN = (200,) * 6 + (NO_ROLE,)

RULES = {
    # Authentication: open to everyone, also without a role; logout takes POST only.
    "login": Rule(get=(200,) * 7, post=(200,) * 7),
    "logout": Rule(get=(405,) * 7, post=(LOGIN,) * 7),
    # The Django admin: staff users of the admin group only (one page checked per role).
    "admin:index": Rule(get=(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, 200, LOGIN)),
    # Reading pages (kpis.access): logged-in readers; 埼玉's draft only for 埼玉 and admins.
    "kpis:home": Rule(get=READERS),
    "kpis:branch": Rule(get=(LOGIN, 404, DONE, DONE, 404, DONE, NO_ROLE), kwargs={"code": "11"}),
    "kpis:branch_year": Rule(get=(LOGIN, 404, 200, 200, 404, 200, NO_ROLE), kwargs=SAITAMA_2023),
    "kpis:plan_year": Rule(get=(LOGIN, 404, 200, 200, 404, 200, NO_ROLE), kwargs=SAITAMA_2023),
    "kpis:branch_year_pdf": Rule(
        get=(LOGIN, 404, 200, 200, 404, 200, NO_ROLE), kwargs=SAITAMA_2023
    ),
    "kpis:kpi_table": Rule(get=READERS),
    "kpis:indicator_list": Rule(get=READERS),
    # 埼玉's indicator is used only in its draft: unknown to those who may not read it.
    "kpis:indicator_compare": Rule(
        get=(LOGIN, 404, 200, 200, 404, 200, NO_ROLE), kwargs={"slug": SLUG, "year": 2023}
    ),
    # The national map: every reader, each reading only the rows they may (tests below).
    "kpis:national_map": Rule(get=READERS),
    # Entry progress: head office, and a branch's manager for their own branch (below).
    "kpis:entry_progress": Rule(get=(LOGIN, 403, 403, 200, 403, 200, NO_ROLE)),
    # Monthly entry (kpis.entry): members of the branch and admins; review by managers.
    "entry:index": Rule(get=(LOGIN, 403, DONE, DONE, DONE, 200, NO_ROLE)),
    "entry:grid": Rule(get=OWN_BRANCH, post=OWN_BRANCH_WRITE, kwargs=SAITAMA_2023, data=GRID),
    "entry:history": Rule(get=OWN_BRANCH, kwargs=SAITAMA_2023),
    "entry:transition": Rule(
        get=MEMBERS_405,
        post=(LOGIN, 403, 403, DONE, 403, 403, NO_ROLE),  # submitting is the manager's step
        kwargs={**SAITAMA_2023, "action": "submit"},
    ),
    "entry:kpi": Rule(get=OWN_BRANCH, kwargs={**SAITAMA_2023, "pk": KPI}),
    "entry:actual": Rule(
        get=MEMBERS_405,
        post=REVIEWERS,
        kwargs={**SAITAMA_2023, "pk": KPI},
        data={"stamp": STAMP},
    ),
    "entry:mark": Rule(
        get=MEMBERS_405,
        post=REVIEWERS,
        kwargs={**SAITAMA_2023, "pk": KPI},
        data={"stamp": STAMP, "mark": "◎", "reason": "評議会で説明済み"},
    ),
    "entry:cell": Rule(
        get=OWN_BRANCH,
        post=OWN_BRANCH_WRITE,
        kwargs={**SAITAMA_2023, "pk": KPI, "month": 4},
        data={"text": "92%", "version": 1, "reason": ""},
    ),
    "entry:comment": Rule(
        get=MEMBERS_405,
        post=OWN_BRANCH_WRITE,
        kwargs={**SAITAMA_2023, "pk": KPI, "month": 4},
        data={"body": "4月は健診機関の休業で減少"},
    ),
    # The branch's own report: its members (staff too) and admins.
    "entry:measure": Rule(
        get=OWN_BRANCH,
        post=OWN_BRANCH_WRITE,
        kwargs={**SAITAMA_2023, "pk": MEASURE},
        data={"stamp": MEASURE_STAMP, "narrative": "受診勧奨を実施した"},
    ),
    # One grid cell saved as the person leaves it (the grid's script): POST only; a script
    # without a session is answered 401, not sent to the login page.
    "entry:cell_save": Rule(
        get=(405, *MEMBERS_405[1:]),
        post=(401, 403, 200, 200, 403, 200, NO_ROLE),
        kwargs=SAITAMA_2023,
        data={"kpi": KPI, "month": 5, "text": "91%", "version": 0},
    ),
    # The plan editor: the branch's members and admins; a measure added on POST.
    "entry:plan": Rule(
        get=OWN_BRANCH,
        post=OWN_BRANCH_WRITE,
        kwargs=SAITAMA_2023,
        data={"pillar": PILLAR, "number_label": "(9)", "title": "新しい施策"},
    ),
    "entry:plan_measure": Rule(get=OWN_BRANCH, kwargs={**SAITAMA_2023, "pk": MEASURE}),
    "entry:plan_kpi": Rule(get=OWN_BRANCH, kwargs={**SAITAMA_2023, "pk": KPI}),
    "entry:kpi_note": Rule(
        get=MEMBERS_405,
        post=OWN_BRANCH_WRITE,
        kwargs={**SAITAMA_2023, "pk": KPI},
        data={"stamp": STAMP, "note": "9月から集計方法を変更"},
    ),
    # Imports: head-office admins only.
    "imports:upload": Rule(get=ADMIN_ONLY, post=ADMIN_ONLY),
    "imports:preview": Rule(get=ADMIN_ONLY, kwargs={"pk": BATCH}),
    "imports:confirm": Rule(
        get=(LOGIN, 403, 403, 403, 403, 405, NO_ROLE),
        post=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE),
        kwargs={"pk": BATCH},
    ),
    # The batch is a preview: its progress page sends the admin back to it.
    "imports:progress": Rule(get=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE), kwargs={"pk": BATCH}),
    "imports:progress_status": Rule(get=ADMIN_ONLY, kwargs={"pk": BATCH}),
    "imports:result": Rule(get=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE), kwargs={"pk": BATCH}),
    # A mapping for a batch with no unknown column: refused with a message, back to it.
    "imports:mapping": Rule(
        get=(LOGIN, 403, 403, 403, 403, 405, NO_ROLE),
        post=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE),
        kwargs={"pk": BATCH},
    ),
    # GET asks for the confirmation (a preview is sent to its page); POST undoes.
    "imports:undo": Rule(
        get=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE),
        post=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE),
        kwargs={"pk": BATCH},
    ),
    "imports:original": Rule(get=ADMIN_ONLY, kwargs={"pk": BATCH}),
    "imports:template": Rule(get=ADMIN_ONLY, kwargs={"kind": "kpi"}),
    # The yearly rollover: POST queues its preview and sends the admin to its progress.
    "imports:rollover": Rule(
        get=ADMIN_ONLY, post=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE), data={"year": 2024}
    ),
    # People (branches.views): head-office admins only. With no file being checked, the
    # preview sends the admin back to the upload.
    "people:users": Rule(get=ADMIN_ONLY, post=ADMIN_ONLY),
    "people:users_preview": Rule(
        get=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE),
        post=(LOGIN, 403, 403, 403, 403, DONE, NO_ROLE),
    ),
    "people:users_export": Rule(get=ADMIN_ONLY, kwargs={"fmt": "csv"}),
    "people:logins": Rule(get=ADMIN_ONLY),
    # Password reset: open to everyone who is not logged in with no role.
    "password_reset": Rule(
        get=OPEN, post=(DONE,) * 6 + (NO_ROLE,), data={"email": "nobody@example.jp"}
    ),
    "password_reset_done": Rule(get=OPEN),
    # A link that is not valid: the page says so.
    "password_reset_confirm": Rule(
        get=OPEN, post=OPEN, kwargs={"uidb64": "MQ", "token": "not-a-token"}
    ),
    "password_reset_complete": Rule(get=OPEN),
}


def url_names(resolver=None, namespace="") -> set[str]:
    """Every URL pattern's full name (namespace:name), through every include."""
    resolver = resolver or get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if inner == "admin:":
                continue  # the Django admin's own pages: admin:index stands for them
            names |= url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            names.add(f"{namespace}{pattern.name}" if pattern.name else repr(pattern))
    return names - {"static"}


def test_every_url_pattern_has_a_rule():
    names = url_names()
    assert names, "no URL patterns found"
    assert sorted(names - RULES.keys()) == [], "URL patterns without an access rule"
    assert sorted(RULES.keys() - names - {"admin:index"}) == [], "rules for URLs that are gone"


CASES = [
    pytest.param(name, method, role, statuses[i], id=f"{name}-{method}-{role}")
    for name, rule in RULES.items()
    for method, statuses in (("get", rule.get), ("post", rule.post))
    if statuses is not None
    for i, role in enumerate(ROLES)
]


def test_the_table_covers_every_role_of_every_url():
    assert all(len(rule.get) == len(ROLES) for rule in RULES.values())
    assert all(rule.post is None or len(rule.post) == len(ROLES) for rule in RULES.values())


@functools.cache
def kpi_workbook() -> bytes:
    """Written once: some three hundred cases preview it."""
    return xlsx([kpi_row()])


@pytest.fixture(scope="module")
def world_data(django_db_setup, django_db_blocker):
    """埼玉's open FY2023 as a draft with a KPI, a monthly value and an import batch;
    千葉's FY2023 published; the cast, each logged in once. Built once for the module's
    five hundred cases and rolled back after them; each case runs in its own savepoint, so
    what a case writes (a logout ends its session) is gone for the next."""
    from django.db import transaction
    from django.test import Client

    from imports import pipeline

    with django_db_blocker.unblock(), transaction.atomic():
        people = {
            "council": factories.council_user(),
            "staff_11": factories.MembershipFactory(
                user__username="staff11", branch=factories.branch("11"), role=Membership.Role.STAFF
            ).user,
            "manager_11": factories.MembershipFactory(
                user__username="manager11",
                branch=factories.branch("11"),
                role=Membership.Role.MANAGER,
            ).user,
            "staff_12": factories.MembershipFactory(
                user__username="staff12", branch=factories.branch("12"), role=Membership.Role.STAFF
            ).user,
            "admin": factories.admin_user(),
            # Logged in, but no group and no branch yet.
            "no_role": factories.UserFactory(username="newcomer"),
        }
        sessions = {}
        for role, user in people.items():
            browser = Client()
            browser.force_login(user)
            sessions[role] = browser.cookies[settings.SESSION_COOKIE_NAME].value
        kpi = fe.kpi()
        fe.value(kpi, 4, "90%")
        BranchPlanFactory(
            branch=kpi.branch, fiscal_year=kpi.fiscal_year, status=BranchPlan.Status.DRAFT
        )
        plan_year("12", 2023, measures=1, kpis=1)
        batch = pipeline.preview(kpi_workbook(), "kpi.xlsx", people["admin"])
        yield {
            KPI: kpi.pk,
            BATCH: batch.pk,
            SLUG: kpi.indicator.slug,
            STAMP: history_stamp(kpi),
            GRID: fe.grid_data([kpi], {(kpi, 5): "91%"}),
            MEASURE: kpi.measure_id,
            PILLAR: kpi.measure.pillar_id,
            MEASURE_STAMP: report_stamps(Measure, [kpi.measure_id])[kpi.measure_id],
            "people": {role: user.pk for role, user in people.items()},
            "sessions": sessions,
        }
        transaction.set_rollback(True)


@pytest.fixture
def world(db, world_data):
    return world_data


def person(world: dict, role: str):
    """A fresh copy of the module's user: a case may change it (a transfer)."""
    return get_user_model().objects.get(pk=world["people"][role])


@pytest.fixture
def council(world):
    return person(world, "council")


@pytest.fixture
def staff_11(world):
    return person(world, "staff_11")


@pytest.fixture
def manager_11(world):
    return person(world, "manager_11")


@pytest.fixture
def staff_12(world):
    return person(world, "staff_12")


@pytest.fixture
def admin(world):
    return person(world, "admin")


def _fill(values: dict | str, world: dict) -> dict:
    if isinstance(values, str):
        return world[values]
    return {
        key: world.get(value, value) if isinstance(value, str) else value
        for key, value in values.items()
    }


@pytest.mark.parametrize(("name", "method", "role", "expected"), CASES)
def test_rule_is_enforced(client, world, name, method, role, expected):
    rule = RULES[name]
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][role]
    url = reverse(name, kwargs=_fill(rule.kwargs, world))

    response = client.get(url) if method == "get" else client.post(url, _fill(rule.data, world))

    location = urlparse(response.get("Location", "")).path
    if expected == LOGIN:
        assert (response.status_code, location in LOGIN_PAGES) == (302, True), location
    elif expected == DONE:
        assert (response.status_code, location in LOGIN_PAGES) == (302, False), location
    elif expected == NO_ROLE:
        assert response.status_code == 403
        assert "まだ役割が設定されていません" in response.content.decode()
    else:
        assert response.status_code == expected


# --- the national map and the entry progress: what each reader sees on them ---------------


def _saitama_row(html: str) -> str:
    start = html.index(">埼玉<")
    return html[start : html.index("</tr>", start)]


@pytest.fixture
def draft_outlook(world):
    """埼玉's draft KPI with an actual and a year-end outlook nobody outside 埼玉 may read."""
    from kpis.models import Kpi

    Kpi.objects.filter(pk=world[KPI]).update(
        actual_text="93.7%", outlook_mark="△", outlook_text="94.1%（見込み）"
    )
    return world


@pytest.mark.parametrize("role", ["council", "staff_12"])
def test_the_map_never_shows_a_draft_years_figures_or_outlook(request, client, draft_outlook, role):
    client.force_login(request.getfixturevalue(role))

    html = client.get(reverse("kpis:national_map") + "?year=2023").content.decode()

    assert "未公表" in _saitama_row(html)
    assert "93.7%" not in html and "94.1%" not in html and "見△" not in html
    assert "/branches/11/2023/" not in html  # no link to a page they cannot open


@pytest.mark.parametrize("role", ["staff_11", "admin"])
def test_the_branch_and_head_office_see_the_draft_on_the_map(request, client, draft_outlook, role):
    client.force_login(request.getfixturevalue(role))

    row = _saitama_row(client.get(reverse("kpis:national_map") + "?year=2023").content.decode())

    assert "93.7%" in row and "見△" in row and "未公表" not in row


def test_a_manager_sees_only_their_branchs_progress(client, manager_11, world):
    client.force_login(manager_11)

    html = client.get(reverse("kpis:entry_progress") + "?year=2023").content.decode()

    assert "埼玉支部" in html
    assert "千葉支部" not in html and "北海道支部" not in html


def test_staff_are_refused_the_progress_page_in_japanese(client, staff_11, world):
    client.force_login(staff_11)

    response = client.get(reverse("kpis:entry_progress"))

    assert response.status_code == 403
    assert "本部管理者と支部の管理者（自支部のみ）" in response.content.decode()


# --- a transfer: the moved person loses the old branch's drafts at once ------------------


@pytest.mark.parametrize("dated", [False, True], ids=["from today", "dated, its day come"])
def test_a_moved_person_is_refused_on_the_old_branchs_drafts(client, world, staff_11, dated):
    import datetime

    from django.utils import timezone

    from branches import transfers
    from branches.models import Posting

    old_drafts = [
        (reverse("kpis:branch_year", kwargs=SAITAMA_2023), 404),
        (reverse("entry:grid", kwargs=SAITAMA_2023), 403),
        (reverse("entry:kpi", kwargs={**SAITAMA_2023, "pk": world[KPI]}), 403),
    ]
    client.force_login(staff_11)
    assert [client.get(url).status_code for url, _ in old_drafts] == [200, 200, 200]

    starts = timezone.localdate() + datetime.timedelta(days=1 if dated else 0)
    posting = transfers.transfer(staff_11, factories.branch("12"), Membership.Role.STAFF, starts)
    if dated:
        assert [client.get(url).status_code for url, _ in old_drafts] == [200, 200, 200]
        # The day comes; the daily apply_transfers has not run yet.
        Posting.objects.filter(pk=posting.pk).update(effective_at=timezone.now())

    assert [client.get(url).status_code for url, _ in old_drafts] == [s for _, s in old_drafts]
    assert client.get(reverse("entry:grid", kwargs={"code": "12", "year": 2023})).status_code == 200

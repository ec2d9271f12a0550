"""The Django admin speaks Japanese: as a superuser and as a head-office admin (本部管理者),
every list, add, change and history page of the project's models and of the accounts has
no English field label, column header, filter title or heading left; relations are
chosen by autocomplete, not typed as raw ids; django-axes' pages (English only) stay out
of a head-office admin's sight."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse

from branches.roles import ADMIN_GROUP
from imports.models import HeaderMapping, ImportBatch
from kpis.models import BranchPlan, Comment
from tests import factories

pytestmark = pytest.mark.django_db

# Terms the Japanese pages write in Latin letters on purpose.
ALLOWED = ("KPI", "URL", "ID", "CSV", "SHA")

# The project's own apps (top-level packages of this repository) and Django's accounts.
APPS = [
    config.label
    for config in apps.get_app_configs()
    if Path(config.path).parent == settings.BASE_DIR
] + ["auth"]
MODELS = [
    model
    for label in APPS
    for model in apps.get_app_config(label).get_models()
    if admin.site.is_registered(model)
]


class Texts(HTMLParser):
    """The texts of an admin page that name things: labels, column headers of tables,
    filter titles, headings, table captions (app names) and breadcrumbs."""

    SKIPPED = {"select", "option", "script", "style", "textarea"}
    VOID = {"input", "img", "br", "hr", "meta", "link", "source", "col", "wbr"}

    def __init__(self, apps_shown=APPS):
        super().__init__()
        # Only the sections of these apps in the app lists (the index, the side bar).
        self.apps_shown = apps_shown
        self.open: list[tuple[str, dict]] = []
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def _section(self) -> str | None:
        """The app whose section of an app list the text is in (the innermost `app-…`
        class: the page's body names the app of the page)."""
        for _, attrs in reversed(self.open):
            for name in (attrs.get("class") or "").split():
                if name.startswith("app-"):
                    return name.removeprefix("app-")
        return None

    def _row_header(self) -> bool:
        # Model names in the app lists of the index and the side bar.
        return any(tag == "th" and attrs.get("scope") == "row" for tag, attrs in self.open)

    def handle_data(self, data):
        text = " ".join(data.split())
        tags = [tag for tag, _ in self.open]
        if not text or self.SKIPPED.intersection(tags):
            return
        ids = {attrs.get("id") for _, attrs in self.open}
        classes = {c for _, attrs in self.open for c in (attrs.get("class") or "").split()}
        if self._section() not in (None, *self.apps_shown):
            return
        if "label" in tags:
            self.found.append(("label", text))
        elif "th" in tags and ("thead" in tags or self._row_header()):
            self.found.append(("column header", text))
        elif "strong" in tags and "change-history" in ids:
            self.found.append(("changed field", text))
        elif "changelist-filter" in ids and ("summary" in tags or "h3" in tags):
            self.found.append(("filter title", text))
        elif {"h1", "h2", "h3", "legend", "caption"}.intersection(tags):
            self.found.append(("heading", text))
        elif "breadcrumbs" in classes:
            self.found.append(("breadcrumbs", text))


def english(page: str, names: tuple[str, ...] = (), apps_shown=APPS) -> list[str]:
    """What the page names in English; `names` (the object's own str, user names) are data,
    not labels."""
    parser = Texts(apps_shown)
    parser.feed(page)
    left = []
    for kind, text in parser.found:
        rest = text
        for name in (*names, *ALLOWED):
            rest = rest.replace(name, "")
        if re.search(r"[A-Za-z]", rest):
            left.append(f"{kind}: {text}")
    return left


@pytest.fixture(scope="module")
def objects(django_db_setup, django_db_blocker):
    """One row of every registered model, and their history, for the whole module (rolled
    back after it): the pages list, show and change something."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        root = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
        head_office = factories.admin_user("head-office")
        member = factories.MembershipFactory(user__username="staff11").user
        value = factories.MonthlyValueFactory(updated_by=member, kpi__measure__number=1)
        factories.MeasureFactory(branch=factories.branch("12"), number=1)
        kpi = value.kpi
        activity = factories.ActivityFactory(measure=kpi.measure)
        plan = BranchPlan.objects.create(branch=kpi.branch, fiscal_year=kpi.fiscal_year)
        # A second version of each, so that the history pages list what changed.
        for row, field, text in [
            (value, "text", "96.0%"),
            (kpi, "note", "4月から集計方法を変更"),
            (kpi.measure, "challenges", "周知が不足"),
            (activity, "mark", "○"),
            (plan, "status", BranchPlan.Status.SUBMITTED),
        ]:
            setattr(row, field, text)
            row.save()
        Comment.objects.create(kpi=kpi, month=4, body="窓口が混雑した", author=member)
        ImportBatch.objects.create(
            kind="kpi", file_name="kpi.xlsx", sha256="0" * 64, content=b"", created_by=root
        )
        HeaderMapping.objects.create(
            signature="1" * 64, headers=["施策番号", "KPI"], choices={}, updated_by=root
        )
        yield {"superuser": root, "head office": head_office, "kpi": kpi}
        transaction.set_rollback(True)


def walk(client, user, model) -> list[str]:
    """The model's list, add, change and history pages as `user` sees them, and what they
    name in English."""
    opts = model._meta
    name = f"admin:{opts.app_label}_{opts.model_name}"
    if not user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
        return []
    request = RequestFactory().get("/admin/")
    request.user = user
    obj = admin.site.get_model_admin(model).get_queryset(request).order_by("pk").first()
    assert obj is not None, f"{opts.label}: no row to open"
    data_names = (str(obj), *(u.get_username() for u in type(user).objects.all()))
    pages = [reverse(f"{name}_changelist"), reverse(f"{name}_add")]
    pages += [reverse(f"{name}_change", args=[obj.pk]), reverse(f"{name}_history", args=[obj.pk])]
    left = []
    for url in pages:
        response = client.get(url)
        if response.status_code in (302, 403) and url.endswith("/add/"):
            continue  # made elsewhere (imports start on the upload page) or not by hand
        assert response.status_code == 200, (url, response.status_code)
        left += [f"{url} {text}" for text in english(response.content.decode(), data_names)]
    return left


@pytest.mark.parametrize("who", ["superuser", "head office"])
@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_no_english_label_is_left(client, objects, who, model):
    user = objects[who]
    client.force_login(user)
    left = walk(client, user, model)
    assert not left, "\n".join(left)


@pytest.mark.parametrize("who", ["superuser", "head office"])
def test_admin_index_names_apps_and_models_in_japanese(client, objects, who):
    client.force_login(objects[who])
    page = client.get(reverse("admin:index")).content.decode()
    left = english(page)
    assert not left, "\n".join(left)


def test_kpi_measure_is_chosen_by_autocomplete(client, objects):
    client.force_login(objects["head office"])
    kpi = objects["kpi"]
    page = client.get(reverse("admin:kpis_kpi_change", args=[kpi.pk])).content.decode()
    measure = re.search(r'<select name="measure"[^>]*>', page)
    assert measure and "admin-autocomplete" in measure.group(), "施策が自動補完で選べない"
    assert "vForeignKeyRawIdAdminField" not in page
    # The branch and the number find it among every branch's (1).
    found = client.get(
        reverse("admin:autocomplete"),
        {"term": "埼玉 (1)", "app_label": "kpis", "model_name": "kpi", "field_name": "measure"},
    ).json()["results"]
    assert [result["id"] for result in found] == [str(kpi.measure.pk)]


def test_a_head_office_admin_does_not_see_the_login_records(client, objects):
    client.force_login(objects["head office"])
    assert Group.objects.get(name=ADMIN_GROUP) in objects["head office"].groups.all()
    index = client.get(reverse("admin:index")).content.decode()
    assert "/admin/axes/" not in index
    for model in apps.get_app_config("axes").get_models():
        if admin.site.is_registered(model):
            url = reverse(f"admin:axes_{model._meta.model_name}_changelist")
            assert client.get(url).status_code == 403

"""The cast every test can use: staff and manager of 埼玉 (11), staff of 千葉 (12), a
council member, a head-office admin, and an anonymous visitor (the plain `client`)."""

import importlib
import os

import pytest
from django.apps import apps
from django.db.models.signals import post_migrate
from hypothesis import settings as hypothesis_settings

from branches.models import Membership
from tests import factories


def pytest_configure(config):
    """Tests hash a password for every user they create, and PBKDF2 is slow on purpose
    (0.23 s of CPU per hash here). MD5 in tests only, as healthchecks and pretix do;
    production settings are untouched."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    post_migrate.connect(_reload_branches_after_flush, dispatch_uid="tests_reload_branches")
    _list_static_files_once_per_process()


def _list_static_files_once_per_process():
    """Every test client loads the middleware again, and WhiteNoise's lists, stats and
    reads the headers of every static file each time (11 ms of the 15 a client takes to
    start; nearly every view test starts one). The files do not change during a run:
    the first client of a process lists them and the others get the same entries, as the
    one middleware of a server process serves them all. Keyed by the prefix and max age
    in case a test changes them."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    list_files = WhiteNoiseMiddleware.add_files_from_finders
    listed = {}

    def add_files_from_finders(self):
        key = (self.static_prefix, self.max_age)
        if key not in listed:
            files, self.files = self.files, {}
            list_files(self)
            listed[key], self.files = self.files, files
        self.files.update(listed[key])

    WhiteNoiseMiddleware.add_files_from_finders = add_files_from_finders


def _reload_branches_after_flush(sender, app_config=None, **kwargs):
    """A transactional test ends with a flush, which empties the 47 branches of the data
    migration; the tests after it in the same process expect them. Under pytest-xdist a
    worker may run a database test after a transactional one (pytest-django orders them
    last only within what a worker was given), so they come back after every flush."""
    if app_config is not None and app_config.label == "branches":
        from branches.models import Branch

        if Branch.objects.count() < 47:
            _load_branches(apps, None)


# Property tests: Hypothesis' default number of examples at most (a test may ask for
# fewer), no per-example deadline (a busy CI machine is not a failure), and the same
# examples on every run so that CI is repeatable.
hypothesis_settings.register_profile("suite", max_examples=100, deadline=None, derandomize=True)
hypothesis_settings.load_profile("suite")


@pytest.fixture
def admin(db):
    return factories.admin_user()


@pytest.fixture
def council(db):
    return factories.council_user()


@pytest.fixture
def staff_11(db):
    return factories.MembershipFactory(
        user__username="staff11", branch=factories.branch("11"), role=Membership.Role.STAFF
    ).user


@pytest.fixture
def manager_11(db):
    return factories.MembershipFactory(
        user__username="manager11", branch=factories.branch("11"), role=Membership.Role.MANAGER
    ).user


@pytest.fixture
def staff_12(db):
    return factories.MembershipFactory(
        user__username="staff12", branch=factories.branch("12"), role=Membership.Role.STAFF
    ).user


@pytest.fixture
def branches_present(transactional_db):
    """For transactional tests: one that ran before flushed the tables, which re-creates the
    role groups (post_migrate) but not the 47 branches of the data migration. Load them
    again when some are missing (update_or_create of all 47 takes 50–100 ms on PostgreSQL
    even when none is)."""
    from branches.models import Branch

    if Branch.objects.count() < 47:
        _load_branches(apps, None)


def _load_branches(apps, schema_editor):
    importlib.import_module("branches.migrations.0002_load_branches").load_branches(
        apps, schema_editor
    )


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data (imports/demo: the seeds' documents) loaded once for a test module and
    rolled back after it: loading takes seconds, the page tests only read it."""
    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
        yield
        transaction.set_rollback(True)

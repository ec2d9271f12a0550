"""The cast every test can use: staff and manager of 埼玉 (11), staff of 千葉 (12), a
council member, a head-office admin, and an anonymous visitor (the plain `client`)."""

import importlib

import pytest
from django.apps import apps

from branches.models import Membership
from tests import factories


def pytest_configure(config):
    """Tests hash a password for every user they create, and PBKDF2 is slow on purpose
    (0.23 s of CPU per hash here). MD5 in tests only, as healthchecks and pretix do;
    production settings are untouched."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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
    again (update_or_create, so a no-op when present)."""
    migration = importlib.import_module("branches.migrations.0002_load_branches")
    migration.load_branches(apps, None)

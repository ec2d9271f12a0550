"""Middleware of the whole site."""

import logging
import sqlite3

from django.contrib.sessions.backends.base import UpdateError
from django.db import OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from branches.roles import has_role

logger = logging.getLogger(__name__)

# SQLite's primary result codes for "another connection holds the lock"; Python reports the
# extended code, whose low byte is the primary one.
SQLITE_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
# PostgreSQL: lock_not_available (lock_timeout), query_canceled (statement_timeout),
# deadlock_detected.
POSTGRES_BUSY_STATES = {"55P03", "57014", "40P01"}
RETRY_AFTER_SECONDS = 10


def is_database_busy(exception: BaseException) -> bool:
    """Whether the database refused because another transaction held a lock too long."""
    if not isinstance(exception, OperationalError):
        return False
    cause = exception.__cause__
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in SQLITE_BUSY_CODES
    return getattr(cause, "sqlstate", None) in POSTGRES_BUSY_STATES


class BusyDatabaseMiddleware:
    """A request that meets a locked database gets 503 with Retry-After, never a 500.

    The lock waits are short (DATABASES options in config/settings.py), so the person sees
    this page within seconds instead of a page that hangs. The template needs no database,
    which is busy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_database_busy(exception):
            return None
        logger.warning("database busy: %s %s (%s)", request.method, request.path, exception)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def note_login_activity(sender, request, user, **kwargs):
    request.session[SessionActivityMiddleware.KEY] = int(timezone.now().timestamp())


class SessionActivityMiddleware:
    """The idle timeout (SESSION_COOKIE_AGE) counts from the last page read: a logged-in
    session is saved again — which sets its new end — once `REFRESH_SECONDS` have passed
    since it was last saved, so an active person stays logged in without a database write
    on every page. A refresh that meets a busy database is skipped (the next page tries
    again): reading a page must not fail because of it."""

    REFRESH_SECONDS = 300
    KEY = "_last_activity"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = request.session
        if request.method != "GET" or session.modified or not request.user.is_authenticated:
            return response  # a modified session is saved by SessionMiddleware anyway
        now = int(timezone.now().timestamp())
        if now - session.get(self.KEY, 0) < self.REFRESH_SECONDS:
            return response
        session[self.KEY] = now
        try:
            session.save()
        except (UpdateError, OperationalError) as error:
            logger.info("session not refreshed: %s", error)
        session.modified = False
        return response


# Pages a logged-in user without a role may still open; the Django admin checks its own
# permissions.
OPEN_WITHOUT_ROLE = {"login", "logout"}


class NoRoleMiddleware:
    """A logged-in user with no role (not admin, not council, no branch) gets one page on
    every URL: 403 saying so and whom to ask, and nothing else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            not request.user.is_authenticated
            or match.view_name in OPEN_WITHOUT_ROLE
            or "admin" in match.namespaces
            or has_role(request.user)
        ):
            return None
        return render(request, "no_role.html", status=403)

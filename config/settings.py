"""Settings for the branch KPI tracker, read from the environment.

Production defaults are the safe ones: DEBUG is off unless DJANGO_DEBUG asks for it, and
then a secret key must be given. `make run` sets DJANGO_DEBUG=1 for local use.
"""

import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment, or set DJANGO_DEBUG=1 "
            "for local development."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug"

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "simple_history",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "branches",
    "kpis",
    "imports",
    "notices",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.SessionActivityMiddleware",
    "config.middleware.NoRoleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.middleware.BusyDatabaseMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "branches.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# A request waits at most this long for a lock held by another transaction; then it gets
# the 503 page (config.middleware.BusyDatabaseMiddleware) instead of a page that hangs.
DB_LOCK_TIMEOUT = env.int("KPI_DB_LOCK_TIMEOUT", default=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer saves; IMMEDIATE takes the write lock at
    # BEGIN so concurrent savers wait (busy timeout) instead of failing mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": DB_LOCK_TIMEOUT,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    # Row locks are held until commit: waiting for one is bounded by lock_timeout, and a
    # runaway statement (which would hold its locks) by statement_timeout. 0 turns one off.
    DB_STATEMENT_TIMEOUT = env.int("KPI_DB_STATEMENT_TIMEOUT", default=30)
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c lock_timeout={DB_LOCK_TIMEOUT}s"
        f" -c statement_timeout={DB_STATEMENT_TIMEOUT}s"
    ).strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses logins for a locked-out user/IP before checking passwords.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: after 5 failures for one user name from one address, 1 hour lockout.
AXES_FAILURE_LIMIT = env.int("KPI_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The address a lockout counts against. Behind the TLS proxy every request comes from the
# proxy, so the client is taken from X-Forwarded-For: each of our proxies appends the address
# it was connected from, so the client is the DJANGO_TRUSTED_PROXY_COUNT-th entry from the
# right, and anything a client wrote to the left of it is ignored. django-ipware counts only
# the entries after the client as proxies, hence one less. Without the proxy the header is
# a client's own claim and is never read.
BEHIND_TLS_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=1)
    if TRUSTED_PROXY_COUNT < 1:
        raise ImproperlyConfigured("DJANGO_TRUSTED_PROXY_COUNT must be 1 or more.")
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT - 1
    # At least that many entries, not exactly: a client's own (or forged) entries on the left
    # must not send it back to the proxy's address that everyone shares.
    IPWARE_STRICT = False
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "kpis:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "ja"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from static/ as well, so tests and `make run` need no collectstatic.
WHITENOISE_USE_FINDERS = True

# Security: strict unless DEBUG. TLS is terminated in front of the app in production.
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Sessions end when the browser closes, and after DJANGO_SESSION_IDLE_SECONDS without a
# request: config.middleware.SessionActivityMiddleware moves the end forward while someone
# works, saving the session at most every few minutes rather than on every request (each
# save is a write, and SQLite has one writer at a time).
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_IDLE_SECONDS", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): nothing from other origins and no inline scripts.
# Inline styles stay allowed because the Django admin's templates use style attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Request bodies other than uploaded files (forms) stay small; uploads above 2.5 MB are
# streamed to a temporary file, and the importer refuses them above IMPORT_MAX_UPLOAD_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Mail (notices/): workflow events and entry-deadline reminders, sent by the task worker.
# EMAIL_URL (e.g. smtp+tls://user:password@mail.example.jp:587), or EMAIL_HOST, EMAIL_PORT,
# EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS; with neither, development prints
# mail on the console and production sends to localhost:25. Tests keep mail in memory
# (Django's test set-up replaces the backend with locmem).
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif DEBUG and not env.str("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# A mail server that does not answer fails the attempt (retried later), not the worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
# Links in mail are absolute: the address people open the application at.
KPI_SITE_URL = env.str("KPI_SITE_URL", default="http://localhost:8000")

# Published achievement pages readable without logging in (off: everything needs a login).
PUBLIC_ACHIEVEMENT_PAGES = env.bool("KPI_PUBLIC_ACHIEVEMENT_PAGES", default=False)

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "kpis": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "imports": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Workbook imports (imports/): limits that keep a bad or hostile file from exhausting the
# server. Uploads above the size are refused before reading; an xlsx is a zip, so its
# declared uncompressed size and per-entry ratio are checked before openpyxl opens it.
IMPORT_MAX_UPLOAD_BYTES = env.int("KPI_IMPORT_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int(
    "KPI_IMPORT_MAX_UNCOMPRESSED_BYTES", default=100 * 1024 * 1024
)
IMPORT_MAX_COMPRESSION_RATIO = 100
IMPORT_MAX_ROWS = env.int("KPI_IMPORT_MAX_ROWS", default=10_000)
# Fiscal years further ahead than this are a typo, not a plan.
IMPORT_MAX_YEARS_AHEAD = 5

# Import jobs (imports/tasks.py): confirming an import enqueues a job on Django's tasks
# framework (django-tasks); the database backend keeps the queue in the application's own
# database, so SQLite and PostgreSQL need no extra server. The worker is a separate process:
# `python manage.py import_worker` (`make run` starts it beside the server).
TASKS = {
    "default": {
        "BACKEND": env.str("KPI_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
# A job writes a whole file in one transaction, which on SQLite holds the database's write
# lock and is invisible to other connections until it commits: its progress and heartbeat
# therefore go through this cache, a directory shared by the web and worker processes
# (FileBasedCache; on one host — give both the same KPI_IMPORT_PROGRESS_DIR).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "import_jobs": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env.str(
            "KPI_IMPORT_PROGRESS_DIR",
            default=str(Path(tempfile.gettempdir()) / "kpi-import-progress"),
        ),
        "TIMEOUT": 24 * 60 * 60,
    },
}
# A running job beats its heartbeat this often; the worker marks a job's batch failed when
# its heartbeat is older than IMPORT_JOB_STALE_SECONDS (the job died with its process).
IMPORT_JOB_HEARTBEAT_SECONDS = 2
IMPORT_JOB_STALE_SECONDS = env.int("KPI_IMPORT_JOB_STALE_SECONDS", default=60)
# An upload larger than this is previewed by a job as well: reading and comparing a national
# workbook takes longer than a request may last. Smaller files (a branch's workbook, a few
# hundred rows) are previewed in the request.
IMPORT_PREVIEW_IN_REQUEST_MAX_BYTES = env.int(
    "KPI_IMPORT_PREVIEW_IN_REQUEST_MAX_BYTES", default=200 * 1024
)

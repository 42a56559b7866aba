"""Settings, read from the environment with safe defaults for local use.

DATABASE_URL   default sqlite:///<project>/var/followthrough.sqlite3
SECRET_KEY     or SECRET_KEY_FILE; default: a random key made once in var/secret_key
DEBUG          default off; `make run` turns it on for local use
ALLOWED_HOSTS  comma-separated; default localhost names
With DEBUG off the deployment hardening is on (HTTPS-only cookies, HSTS,
SSL redirect): `followthrough check --deploy` passes. Behind a proxy that
terminates TLS, keep it and name the proxy in TRUSTED_PROXIES (its
X-Forwarded-Proto and X-Forwarded-For are believed, nobody else's); for
plain-HTTP trials set SECURE_SSL_REDIRECT=0.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FOLLOWTHROUGH_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return default if value in (None, "") else int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return default if value is None else [v.strip() for v in value.split(",") if v.strip()]


DEBUG = env_bool("DEBUG", False)

_PLACEHOLDERS = ("change-me", "changeme", "secret", "insecure")


def _secret_key() -> str:
    """SECRET_KEY, SECRET_KEY_FILE, or a random key made once for this installation.

    The last keeps local use to zero set-up without ever running on a known
    key: it is generated on first use into var/secret_key (mode 0600) and
    reused after, so sessions survive restarts.
    """
    if os.environ.get("SECRET_KEY_FILE"):
        try:
            return Path(os.environ["SECRET_KEY_FILE"]).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE cannot be read: {exc}") from exc
    key = os.environ.get("SECRET_KEY", "")
    if key:
        if key.lower() in _PLACEHOLDERS or len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY is a placeholder or too short; set a long random value")
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # First, so that its templates (sign-in, password reset, errors) win over Django's own.
    "web",
    # Our own admin site (tracking.admin.site) decides permissions with tracking.permissions.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "csp",
    "tracking",
    "reports",
    # The job queue (jobs/): before django_tasks_db, so that its `db_worker` is ours (with leases and retries).
    "jobs",
    "django_tasks",
    "django_tasks_db",
    "search",
    "reminders",
    # The open API (/api/v1/) and its tokens; ninja for its docs page's own static files (no CDN).
    "api",
    "ninja",
]

MIDDLEWARE = [
    # First: the client's address and scheme, from TRUSTED_PROXIES only, before anything reads them.
    "web.proxies.ForwardedHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before everything that may answer on its own (static files, error pages, the
    # sign-in lockout page): every response carries the Content-Security-Policy.
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "web.middleware.ActorMiddleware",
    # The reader's time zone (their choice, kept in the session), for every time a page shows.
    "web.middleware.TimeZoneMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "followthrough.urls"
WSGI_APPLICATION = "followthrough.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.reader",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
_default_sqlite = f"sqlite:///{VAR_DIR / 'followthrough.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's, with writers that say when they wait for the write lock (an import pauses for them: followthrough/sqlite).
    DATABASES["default"]["ENGINE"] = "followthrough.sqlite"
    # Said outright (Django's default for SQLite): pytest-django knows only Django's engine by name, and would give
    # each worker's test database a file name of its own instead.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", ":memory:")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Kept open between requests (each thread its own), as on PostgreSQL: opening one costs 3.6 ms at L
    # (the schema parsed, the pragmas run, the 64 MiB page cache empty again), about a tenth of a page.
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so busy_timeout is honoured
        # instead of failing with "database is locked" on the first write.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;"  # readers do not block the writer
            "PRAGMA synchronous=NORMAL;"  # safe with WAL, far fewer fsyncs
            "PRAGMA foreign_keys=ON;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA cache_size=-65536;"  # 64 MiB page cache
            "PRAGMA mmap_size=268435456;"
        ),
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL compiles any statement it costs above jit_above_cost to machine code first: 0.6 s of a
    # 1.2 s search at L, before a row is read, for statements that then run in well under a second.
    # Pages are many short statements, not long analytical ones: off for the app's connections, unless
    # POSTGRES_JIT=server (behind PgBouncer, which refuses startup options: `ALTER ROLE ... SET jit = off`).
    if os.environ.get("POSTGRES_JIT", "off") == "off":
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Statements sent with their parameters apart (server-side binding), and prepared once a connection has run
    # one twice: PostgreSQL then plans it once per connection, not once per request. Planning was most of a
    # page's SQL: the action page's key action (six joins) 3.7 ms to plan, 0.3 ms to run, at L. The cursor writes
    # the values of a statement with more than PostgreSQL takes apart into it (followthrough/pgcursor.py). Off
    # behind a pooler that cannot keep prepared statements (PgBouncer in transaction mode, unless 1.21 or newer
    # with max_prepared_statements set): POSTGRES_PREPARE=off.
    if os.environ.get("POSTGRES_PREPARE", "on") != "off":
        from followthrough.pgcursor import Cursor as _BindingCursor

        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=env_int("POSTGRES_PREPARE_THRESHOLD", 2), cursor_factory=_BindingCursor
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# "SQLite does not support indexes with non-key columns": the key action's figures index includes the id for
# PostgreSQL; SQLite's indexes hold the rowid already. Said by every migrate (`make run` too), to no purpose.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:workspace"
LOGOUT_REDIRECT_URL = "web:home"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses sign-ins after repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes, weighed by web/signin.py), counted two ways within the
# cool-off time: LOGIN_FAILURE_LIMIT failures lock an account whatever the addresses they
# came from; LOGIN_ADDRESS_FAILURE_LIMIT failures lock a client address whatever the
# accounts tried. A password reset or a one-time sign-in link gets the person in anyway.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = env_int("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # separately, not the pair
AXES_HANDLER = "web.signin.SignInThrottle"
AXES_LOCKOUT_CALLABLE = "web.signin.lockout_response"
# A success lifts that account's own failures only (web/signin.py), not the address's.
AXES_RESET_ON_SUCCESS = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # every failure and refusal, kept (AccessFailureLog, in the admin)
AXES_VERBOSE = False
PASSWORD_RESET_TIMEOUT = 3 * 3600
# Sign-in e-mails (password resets and one-time links), per hour: per e-mail address asked
# for, and per client address. A one-time sign-in link works for SIGN_IN_LINK_MINUTES.
ACCOUNT_MAIL_LIMIT = env_int("ACCOUNT_MAIL_LIMIT", 3)
ACCOUNT_MAIL_CLIENT_LIMIT = env_int("ACCOUNT_MAIL_CLIENT_LIMIT", 10)
SIGN_IN_LINK_MINUTES = env_int("SIGN_IN_LINK_MINUTES", 15)

# A management response is due (approved) this many weeks after its evaluation's completion:
# the dashboards' timeliness and each evaluation plan's compliance count against it.
RESPONSE_WEEKS = env_int("RESPONSE_WEEKS", 6)
# The largest document (report, terms of reference, annex) an evaluation takes, in megabytes.
DOCUMENT_MAX_MB = env_int("DOCUMENT_MAX_MB", 50)
# Printed documents (PDF) laid out per client address and minute (a cached one is free); past it, 429.
PDF_RENDERS_PER_MINUTE = env_int("PDF_RENDERS_PER_MINUTE", 6)
PDF_THROTTLE_SECONDS = 60  # the window those renders are counted in, from an address's first
# Characters of text a printed document holds at most (reports/pdf.py): past it, a note says what is left out.
PDF_TEXT_LIMIT = env_int("PDF_TEXT_LIMIT", 120_000)
for _name in ("LOGIN_FAILURE_LIMIT", "LOGIN_ADDRESS_FAILURE_LIMIT", "LOGIN_LOCKOUT_MINUTES", "ACCOUNT_MAIL_LIMIT",
              "ACCOUNT_MAIL_CLIENT_LIMIT", "SIGN_IN_LINK_MINUTES", "PDF_RENDERS_PER_MINUTE"):
    if env_int(_name, 1) < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more")
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- i18n -----------------------------------------------------------------
LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise looks here even before collectstatic
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- cache ----------------------------------------------------------------
# Rendered pages and figures, keyed on data versions (web/caching.py), shared
# by every server process: one of them computes an expensive figure for all.
#   CACHE_URL unset          files in var/cache: one machine only (kept across restarts)
#   CACHE_URL=redis://host:6379/0   Redis: several app servers (the production shape)
#   CACHE_URL=db             a table in the database (`followthrough migrate` makes it):
#                            several app servers where there is no Redis
#   CACHE_URL=file:///path   files in /path; CACHE_URL=locmem: one process only (tests)
# CACHE_BACKEND / CACHE_LOCATION name any Django cache backend instead.
# CACHE_KEY_PREFIX keeps several installations on one Redis apart.


def _cache(url: str | None, backend: str | None, location: str | None) -> dict:
    if backend:
        config = {"BACKEND": backend, "LOCATION": location or str(VAR_DIR / "cache")}
    elif not url:
        config = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(VAR_DIR / "cache")}
    elif url.startswith(("redis://", "rediss://", "unix://")):
        config = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    elif url in ("db", "database", "db://"):
        config = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "followthrough_cache"}
    elif url.startswith("file://"):
        config = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": url[len("file://"):]}
    elif url in ("locmem", "locmem://"):
        config = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "followthrough"}
    else:
        raise ImproperlyConfigured(
            f"CACHE_URL {url!r} is not understood: use redis://host:port/db, db, file:///path or locmem"
        )
    if config["BACKEND"].endswith(("FileBasedCache", "LocMemCache", "DatabaseCache")):
        config["OPTIONS"] = {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 20000)}
    config["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "")
    return config


CACHES = {
    "default": _cache(os.environ.get("CACHE_URL"), os.environ.get("CACHE_BACKEND"), os.environ.get("CACHE_LOCATION"))
}
# Figures that take seconds at scale are recomputed by a job worker after a change,
# the page showing the previous ones (with their time) meanwhile. Off: in the request.
CACHE_REFRESH_IN_BACKGROUND = env_bool("CACHE_REFRESH_IN_BACKGROUND", True)
# Seconds at least between two computations of one page's slow figures: while offices report (a change every few
# seconds) the worker computes each at most this often, rather than without pause on a core the pages need.
CACHE_REFRESH_EVERY = env_int("CACHE_REFRESH_EVERY", 60)

# --- the API ----------------------------------------------------------------
# Requests per window (seconds), counted in the cache above: per token (or signed-in user) and per client address.
API_TOKEN_RATE = (env_int("API_TOKEN_RATE", 300), env_int("API_RATE_WINDOW", 60))
API_ADDRESS_RATE = (env_int("API_ADDRESS_RATE", 600), env_int("API_RATE_WINDOW", 60))

# --- jobs -----------------------------------------------------------------
# What must not run in a request runs in `followthrough worker` processes
# (jobs/), queued in the database: django-tasks with its database backend.
# A new queue (say, for long imports) is named here; workers take every queue unless told `--queue-name`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# A worker says it is alive every quarter of the lease; a job whose worker has
# been silent for a whole lease is taken over by another worker.
JOBS_LEASE_SECONDS = env_int("JOBS_LEASE_SECONDS", 60)
# A failed job is tried again after 30 s, 1 min, 2 min, ... (at most an hour), 5 attempts in all.
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 5)
JOBS_RETRY_BACKOFF_SECONDS = env_int("JOBS_RETRY_BACKOFF_SECONDS", 30)
# Finished jobs are kept this long (failed ones four times as long), then purged by a daily job.
JOBS_KEEP_DAYS = env_int("JOBS_KEEP_DAYS", 7)

# --- search ---------------------------------------------------------------
# Similar recommendations: "auto" (sentence embeddings where the optional extra is installed,
# TF-IDF otherwise), "tfidf" or "embeddings" (search/recurring.py).
SIMILARITY_METHOD = os.environ.get("SIMILARITY_METHOD", "auto")
if SIMILARITY_METHOD not in ("auto", "tfidf", "embeddings"):
    raise ImproperlyConfigured(f"SIMILARITY_METHOD must be auto, tfidf or embeddings, not {SIMILARITY_METHOD!r}")

# --- accountability ---------------------------------------------------------
# The graded rating of how far a recommendation was adopted, best first, given by management and
# validated by the evaluation office (tracking/services/ratings.py). ADOPTION_SCALE="Full,Substantial,
# Partial,Negligible" sets another; a rating is stored as its label's slug, so keep the labels of
# ratings already given (an unknown stored value is shown as it is).
ADOPTION_SCALE = [
    (label.lower().replace(" ", "-"), label)
    for label in env_list("ADOPTION_SCALE", ["Full", "Substantial", "Partial", "Negligible"])
]
if not ADOPTION_SCALE:
    raise ImproperlyConfigured("ADOPTION_SCALE needs at least one rating.")

# --- email ----------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "followthrough@localhost")
if DEBUG and "EMAIL_HOST" not in os.environ:
    # Local use without a mail server: mails (password resets) are printed on the console.
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- reminders (reminders/) ---------------------------------------------------
# `followthrough remind` (daily, by the job worker at REMINDER_SEND_AT) sends each person one digest.
# Links in the mails start with SITE_URL (the address people open the app at).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Unit focal points hear of key actions due within this many days (and of their overdue ones).
REMINDER_DUE_WITHIN_DAYS = env_int("REMINDER_DUE_WITHIN_DAYS", 30)
# Escalation: overdue for more than the first number of days -> the office focal points; more than the
# second -> the office head (an address or a person per office, in the admin). Each level once per action.
REMINDER_ESCALATION_DAYS = [int(v) for v in env_list("REMINDER_ESCALATION_DAYS", ["30", "90"])]
if len(REMINDER_ESCALATION_DAYS) != 2 or not 0 < REMINDER_ESCALATION_DAYS[0] < REMINDER_ESCALATION_DAYS[1]:
    raise ImproperlyConfigured("REMINDER_ESCALATION_DAYS must be two numbers of days, the first smaller (e.g. 30,90)")
# The quarterly call for progress goes out on these days (month-day), or on the first run within
# REMINDER_CALL_WINDOW_DAYS after one (a missed day is made up once, not later).
REMINDER_QUARTER_CALLS = env_list("REMINDER_QUARTER_CALLS", ["03-15", "06-15", "09-15", "12-15"])
for _call in REMINDER_QUARTER_CALLS:
    try:
        _month, _day = (int(v) for v in _call.split("-"))
        __import__("datetime").date(2001, _month, _day)
    except ValueError:
        raise ImproperlyConfigured(f"REMINDER_QUARTER_CALLS: {_call!r} is not a month-day like 03-15") from None
REMINDER_CALL_WINDOW_DAYS = env_int("REMINDER_CALL_WINDOW_DAYS", 14)
# A failed send is tried again by each next run, this many times in all.
REMINDER_MAX_ATTEMPTS = env_int("REMINDER_MAX_ATTEMPTS", 10)
# A message a run took for sending and never finished (the run crashed) is taken again after this long.
REMINDER_SENDING_LEASE_SECONDS = env_int("REMINDER_SENDING_LEASE_SECONDS", 600)
# The day reminders are computed for: empty is today. Set it to try the reminders on another day.
REMINDER_TODAY = os.environ.get("REMINDER_TODAY", "")
# The languages a person may choose for their mails (Django's own words, dates included, are translated).
REMINDER_LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]

# --- deployment hardening (on whenever DEBUG is off) ------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# The reverse proxies in front of the app (addresses or networks, comma-separated). Only
# from them are X-Forwarded-For (the client's address) and X-Forwarded-Proto (HTTPS)
# believed (web/proxies.py); with none, REMOTE_ADDR is the client and neither header counts.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_proxy!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)"
        ) from None
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SECURE_CONTENT_TYPE_NOSNIFF = True
# --- Content-Security-Policy (django-csp) -----------------------------------
# Scripts, styles, images and fonts come from the app itself only; no inline
# script, no inline style attribute, no eval: a value that escaped its
# escaping still cannot run. The templates have no inline code (web/static/web/
# site.js reads data-* attributes), htmx is told not to inject its own style
# nor to eval (base.html), and the charts are SVG elements styled by classes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

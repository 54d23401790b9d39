"""Apps, middleware, templates, static files, tasks, caches and logging."""

from pathlib import Path

from .env import ENV, mailer

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = ENV.data_dir
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = ENV.secret_key
DEBUG = ENV.debug
MANYI_BASE_URL = ENV.base_url

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_tasks_db",
    "manyi.core",
    "manyi.org",
    "manyi.customers",
    "manyi.surveys",
    "manyi.responses",
    "manyi.feedback",
    "manyi.cases",
    "manyi.console",
    "manyi.distribution",
    "manyi.integrations",
    "manyi.rules",
    "manyi.analytics",
    "manyi.insights",
    "manyi.alerts",
    "manyi.enrichment",
    "manyi.notifications",
    # Only so the API docs page serves Swagger UI from our static files, never from a CDN.
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "manyi.core.middleware.BodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "manyi.org.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "manyi.urls"
WSGI_APPLICATION = "manyi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "media"},
    },
    # Hashed, pre-compressed names after `collectstatic` (which serve and demo run); plain names before.
    # Hashed, pre-compressed names; `manyi serve` and `manyi demo` run collectstatic first.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Tests and `manyi serve` without collectstatic still find files through the finders.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = True
# A page that says what happened and for how long, in both languages (console/locked.html).
AXES_LOCKOUT_CALLABLE = "manyi.console.views.locked_out"

# Body limit for every request: 64 KB. The middleware answers larger bodies with a 413 page or JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
MANYI_MAX_BODY_BYTES = 64 * 1024

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

CACHES: dict[str, dict[str, object]]
if ENV.cache_url:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": ENV.cache_url}
    }
else:
    # Shared by every web process on the machine, so rate limits hold across gunicorn workers.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

MANYI_SUBMIT_RATE_LIMIT = ENV.submit_rate_limit
MANYI_PUBLIC_RATE_LIMIT = ENV.public_rate_limit
MANYI_API_RATE_LIMIT = ENV.api_rate_limit
MANYI_DEMO_RESPONSES = ENV.demo_responses

# Survey invitations: e-mail through Django's mailers, SMS through a provider backend.
MAILERS = {"default": mailer(ENV.email_url)}
DEFAULT_FROM_EMAIL = ENV.email_from
MANYI_SMS_BACKEND = ENV.sms_backend
MANYI_SMS_FILE = ENV.sms_file
# Notifications (docs/notifications.md): SSRF allow-list, retries with backoff, strict timeouts.
MANYI_WEBHOOK_ALLOW_HOSTS = ENV.webhook_allow_hosts
MANYI_WEBHOOK_MAX_ATTEMPTS = ENV.webhook_max_attempts
MANYI_WEBHOOK_RETRY_BASE = ENV.webhook_retry_base
MANYI_WEBHOOK_CONNECT_TIMEOUT = ENV.webhook_connect_timeout
MANYI_WEBHOOK_TIMEOUT = ENV.webhook_timeout
# An invitation still "sending" this long after a scanner claimed it was interrupted by a crash.
MANYI_DISTRIBUTION_SENDING_LEASE = 600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": ENV.log_level},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

"""Every setting Manyi reads from the environment, typed, in one place.

Other modules import values from here; nothing else calls ``os.environ``. Each variable is
documented in ``.env.example`` at the project root.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from environs import Env, EnvError

_env = Env()
_env.read_env(override=False)  # a .env file in the working directory, if there is one


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and what is expected."""


def _secret_key(data_dir: Path, explicit: str | None) -> str:
    """Return the secret key: from the environment, else generated once and kept in the data dir."""
    if explicit:
        return explicit
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting at once must agree on one key.
    try:
        fd = path.open("x")
    except FileExistsError:
        return path.read_text().strip()
    with fd:
        fd.write(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    """The typed view of the environment."""

    data_dir: Path
    database_url: str | None
    pg_server_side_binding: bool
    analytics_database_rollups: bool
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    base_url: str
    cache_url: str | None
    time_zone: str
    language_code: str
    secure_cookies: bool
    log_level: str
    submit_rate_limit: str
    public_rate_limit: str
    api_rate_limit: str
    web_workers: int
    demo_responses: int
    hsts_seconds: int
    ssl_redirect: bool
    behind_proxy: bool
    email_url: str
    email_from: str
    sms_backend: str
    sms_file: Path
    webhook_allow_hosts: list[str]
    webhook_max_attempts: int
    webhook_retry_base: int
    webhook_connect_timeout: float
    webhook_timeout: float


def load() -> Settings:
    """Read and validate the environment; raise ConfigError naming the variable that is wrong."""
    try:
        data_dir = Path(_env.str("MANYI_DATA_DIR", "var")).expanduser().resolve()
        debug = _env.bool("MANYI_DEBUG", False)
        base_url = _env.str("MANYI_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        return Settings(
            data_dir=data_dir,
            database_url=_env.str("MANYI_DATABASE_URL", None) or None,
            pg_server_side_binding=_env.bool("MANYI_PG_SERVER_SIDE_BINDING", True),
            analytics_database_rollups=_env.bool("MANYI_ANALYTICS_DATABASE_ROLLUPS", True),
            secret_key=_secret_key(data_dir, _env.str("MANYI_SECRET_KEY", None)),
            debug=debug,
            allowed_hosts=_env.list("MANYI_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"]),
            csrf_trusted_origins=_env.list("MANYI_CSRF_TRUSTED_ORIGINS", []),
            base_url=base_url,
            cache_url=_env.str("MANYI_CACHE_URL", None) or None,
            time_zone=_env.str("MANYI_TIME_ZONE", "Asia/Shanghai"),
            language_code=_env.str("MANYI_LANGUAGE", "zh-hans"),
            secure_cookies=_env.bool("MANYI_SECURE_COOKIES", base_url.startswith("https://")),
            log_level=_env.str("MANYI_LOG_LEVEL", "INFO").upper(),
            submit_rate_limit=_env.str("MANYI_SUBMIT_RATE_LIMIT", "30/m"),
            public_rate_limit=_env.str("MANYI_PUBLIC_RATE_LIMIT", "120/m"),
            api_rate_limit=_env.str("MANYI_API_RATE_LIMIT", "600/m"),
            web_workers=_env.int("MANYI_WEB_WORKERS", 0),
            demo_responses=_env.int("MANYI_DEMO_RESPONSES", 200_000),
            hsts_seconds=_env.int("MANYI_HSTS_SECONDS", 0),
            ssl_redirect=_env.bool("MANYI_SSL_REDIRECT", False),
            behind_proxy=_env.bool("MANYI_BEHIND_PROXY", False),
            email_url=_env.str("MANYI_EMAIL_URL", "console:") or "console:",
            email_from=_env.str("MANYI_EMAIL_FROM", "Manyi <noreply@localhost>"),
            sms_backend=_env.str("MANYI_SMS_BACKEND", "console") or "console",
            sms_file=Path(_env.str("MANYI_SMS_FILE", "") or data_dir / "sms-outbox.jsonl").expanduser(),
            webhook_allow_hosts=_env.list("MANYI_WEBHOOK_ALLOW_HOSTS", []),
            webhook_max_attempts=_env.int("MANYI_WEBHOOK_MAX_ATTEMPTS", 8, validate=lambda n: 1 <= n <= 30),
            webhook_retry_base=_env.int("MANYI_WEBHOOK_RETRY_BASE", 60, validate=lambda n: n >= 1),
            webhook_connect_timeout=_env.float(
                "MANYI_WEBHOOK_CONNECT_TIMEOUT", 3.0, validate=lambda t: 0 < t <= 30
            ),
            webhook_timeout=_env.float("MANYI_WEBHOOK_TIMEOUT", 10.0, validate=lambda t: 0 < t <= 60),
        )
    except EnvError as exc:
        raise ConfigError(f"invalid environment setting: {exc}") from exc


def mailer(url: str) -> dict[str, Any]:
    """Django's MAILERS entry for MANYI_EMAIL_URL.

    ``smtp://user:pass@host:587?tls=true`` (STARTTLS), ``smtps://host:465`` (TLS from the start),
    ``console:`` (print to standard output, the default for development).
    """
    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "MANYI_EMAIL_URL must look like smtp://user:password@host:587?tls=true, smtps://host:465 "
            f"or console:, got {parts.scheme or url!r}"
        )
    query = parse_qs(parts.query)
    tls = query.get("tls", ["false"])[0].lower() in ("1", "true", "yes", "on")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise ConfigError(f"MANYI_EMAIL_URL has an invalid port: {exc}") from exc
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": port,
            "username": unquote(parts.username or ""),
            "password": unquote(parts.password or ""),
            "use_tls": tls and parts.scheme == "smtp",
            "use_ssl": parts.scheme == "smtps",
            "timeout": float(query.get("timeout", ["10"])[0]),
        },
    }


ENV = load()

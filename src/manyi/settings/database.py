"""The operational database: SQLite in the data dir (WAL) by default, PostgreSQL from MANYI_DATABASE_URL."""

import dj_database_url

from .env import ENV, ConfigError

SQLITE_PATH = ENV.data_dir / "manyi.sqlite3"

if ENV.database_url:
    if not ENV.database_url.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ConfigError(
            "MANYI_DATABASE_URL must start with postgres:// or sqlite://, got "
            f"{ENV.database_url.split('://')[0]}://"
        )
    _db = dj_database_url.parse(ENV.database_url, conn_max_age=60, conn_health_checks=True)
    if _db["ENGINE"] == "django.db.backends.postgresql" and ENV.pg_server_side_binding:
        # Parameters bound by the server, and statements psycopg has run five times prepared once:
        # PostgreSQL skips parsing and planning, about 1 ms of CPU per survey submission.
        _db.setdefault("OPTIONS", {})["server_side_binding"] = True
else:
    # Persistent connections: opening SQLite and running the PRAGMAs costs ~0.9 ms a request.
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(SQLITE_PATH), "CONN_MAX_AGE": 600}

if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on busy_timeout
    # instead of failing with "database is locked" when a read transaction upgrades.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-20000; PRAGMA temp_store=MEMORY;"
        ),
    }
    _db.setdefault("TEST", {})["NAME"] = str(ENV.data_dir / "test.sqlite3")

DATABASES = {"default": _db}

# PostgreSQL keeps rollup tables of its own for the analytics runner (see docs/analytics.md).
MANYI_ANALYTICS_DATABASE_ROLLUPS = ENV.analytics_database_rollups

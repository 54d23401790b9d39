from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """The analytics store lives in DuckDB; in the operational database the app keeps only the
    rollups PostgreSQL reads (:mod:`manyi.analytics.models`). The worker's scheduler finds the
    ``PERIODIC`` tasks in :mod:`manyi.analytics.tasks`."""

    name = "manyi.analytics"
    label = "analytics"

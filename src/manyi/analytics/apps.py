from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    """The analytics store has no models in the operational database; the app is registered so
    that the worker's scheduler finds the ``PERIODIC`` tasks in :mod:`manyi.analytics.tasks`."""

    name = "manyi.analytics"
    label = "analytics"

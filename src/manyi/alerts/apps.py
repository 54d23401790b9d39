from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "manyi.alerts"
    label = "alerts"

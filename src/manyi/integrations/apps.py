from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "manyi.integrations"
    label = "integrations"
    verbose_name = "Integrations"

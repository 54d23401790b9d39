from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "manyi.core"
    label = "core"
    verbose_name = "Manyi core"

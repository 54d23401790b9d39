from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "manyi.console"
    label = "console"

from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "manyi.rules"
    label = "rules"

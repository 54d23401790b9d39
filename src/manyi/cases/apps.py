from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "manyi.cases"
    label = "cases"

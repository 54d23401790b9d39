from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "manyi.org"
    label = "org"

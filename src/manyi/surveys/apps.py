from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "manyi.surveys"
    label = "surveys"

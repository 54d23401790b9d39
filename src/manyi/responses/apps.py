from django.apps import AppConfig


class ResponsesConfig(AppConfig):
    name = "manyi.responses"
    label = "responses"

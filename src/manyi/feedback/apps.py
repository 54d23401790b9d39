from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "manyi.feedback"
    label = "feedback"

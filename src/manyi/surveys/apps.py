from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class SurveysConfig(AppConfig):
    name = "manyi.surveys"
    label = "surveys"

    def ready(self) -> None:
        from .models import SurveyVersion
        from .queries import forget_answerable_versions

        post_save.connect(
            forget_answerable_versions, sender=SurveyVersion, dispatch_uid="surveys.version_cache"
        )
        post_delete.connect(
            forget_answerable_versions, sender=SurveyVersion, dispatch_uid="surveys.version_cache_del"
        )

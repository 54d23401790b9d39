from django.apps import AppConfig


class EnrichmentConfig(AppConfig):
    name = "manyi.enrichment"
    label = "enrichment"

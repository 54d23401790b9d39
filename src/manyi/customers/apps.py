from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "manyi.customers"
    label = "customers"

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kiban.api"
    label = "api"

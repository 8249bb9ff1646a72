from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kiban.ops"
    label = "ops"

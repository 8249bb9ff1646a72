from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kiban.core"
    label = "core"

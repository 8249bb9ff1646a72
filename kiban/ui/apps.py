from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "kiban.ui"
    label = "ui"

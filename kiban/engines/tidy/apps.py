from django.apps import AppConfig


class TidyConfig(AppConfig):
    """Django face of the tidy engine (web page, API). The library itself does not import Django."""

    name = "kiban.engines.tidy"
    label = "engine_tidy"

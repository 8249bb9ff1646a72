from django.apps import AppConfig


class AnonConfig(AppConfig):
    """Django face of the anon engine (web page, API). The library itself does not import Django."""

    name = "kiban.engines.anon"
    label = "engine_anon"

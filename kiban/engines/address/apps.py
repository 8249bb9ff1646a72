from django.apps import AppConfig


class AddressConfig(AppConfig):
    """Django face of the address engine (web page, API). The library itself does not import Django."""

    name = "kiban.engines.address"
    label = "engine_address"

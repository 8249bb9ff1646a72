from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kiban.ops"
    label = "ops"

    def ready(self) -> None:
        from kiban.ops import checks  # noqa: F401  (registers the deploy checks)

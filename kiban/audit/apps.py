from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kiban.audit"
    label = "audit"

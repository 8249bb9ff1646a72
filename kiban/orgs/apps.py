from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "kiban.orgs"
    label = "orgs"

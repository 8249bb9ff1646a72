"""Models that exist only in the transfer tests: a body-scoped parent and a child scoped through it, so the
generic export/import (discovery, FK remapping, dependency order, kept timestamps) is exercised without
depending on which engines happen to have models."""

from django.conf import settings
from django.db import models


class Notebook(models.Model):
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=100)
    meta = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "ops"


class Note(models.Model):
    notebook = models.ForeignKey(Notebook, on_delete=models.CASCADE, related_name="notes")
    parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    org_path = "notebook__org"

    class Meta:
        app_label = "ops"

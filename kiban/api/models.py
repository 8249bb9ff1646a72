"""冪等キー (Idempotency-Key): what a create request answered, so that a retry gets the same answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The outcome of a POST sent with an `Idempotency-Key` header, kept for `kiban.api.idempotency.TTL`.

    Keys are per body and per user (a user's tokens share them), and stored hashed. Secrets (an API token's)
    are never stored: a replayed token creation answers with the same token and `secret: null`.
    """

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key_hash = models.CharField(max_length=64)
    operation = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "user", "key_hash"], name="idempotency_org_user_key_unique")
        ]

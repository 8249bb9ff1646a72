"""API token secrets: how they are made, stored (hashed) and found again.

A token reads `kbn_<prefix>_<secret>`: the 12-character prefix is public (shown in lists and audit entries,
unique, used for lookup), the 43-character secret has 256 bits of entropy and is stored only as SHA-256 of
the whole token. SHA-256 (not argon2) is right here: the secret is random, not a human password, so there
is nothing to brute-force, and every API call must check it quickly.

Writes (creation with audit, revocation, recording use) are in kiban.accounts.actions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from datetime import timedelta

from django.utils import timezone

from kiban.accounts.models import ApiToken

PREFIX_ALPHABET = string.ascii_lowercase + string.digits
PREFIX_LENGTH = 12
TOKEN_RE = re.compile(r"^kbn_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def new_token_string() -> tuple[str, str]:
    """A fresh (prefix, full token string)."""
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return prefix, f"kbn_{prefix}_{secrets.token_urlsafe(32)}"


def parse_prefix(raw: str) -> str | None:
    """The prefix of a well-formed token string, or None."""
    match = TOKEN_RE.match(raw or "")
    return match.group(1) if match else None


def mint(*, org, user, name: str, scopes: list[str], expires_at) -> tuple[ApiToken, str]:
    """Create the token row and return it with its secret (the only time the secret exists in clear).

    No permission checks and no audit: callers are `actions.do_create_api_token` and test fixtures."""
    while True:
        prefix, raw = new_token_string()
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    token = ApiToken.objects.create(
        org=org,
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=hash_token(raw),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    return token, raw


def default_expiry(days: int = 90):
    return timezone.now() + timedelta(days=days)


def check(raw: str) -> tuple[ApiToken | None, str, str]:
    """Look a presented token up. Returns (token or None, reason, prefix).

    reason is "ok", "malformed", "unknown", "mismatch", "revoked", "expired" or "inactive" (its user is no
    longer an active member of the token's body). The reason is for the audit log only: callers must answer
    every refusal the same way, so that a caller cannot learn which tokens exist.
    """
    prefix = parse_prefix(raw)
    if prefix is None:
        return None, "malformed", ""
    token = ApiToken.objects.select_related("user", "org").filter(prefix=prefix).first()
    if token is None:
        return None, "unknown", prefix
    if not hmac.compare_digest(token.secret_hash, hash_token(raw)):
        return token, "mismatch", prefix
    if token.is_revoked:
        return token, "revoked", prefix
    if token.is_expired():
        return token, "expired", prefix
    if not token.user.is_active or not token.user.memberships.filter(org_id=token.org_id).exists():
        return token, "inactive", prefix
    return token, "ok", prefix

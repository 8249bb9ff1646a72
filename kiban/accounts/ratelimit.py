"""Rate limits kept in the database (試行回数の制限), shared by every app node.

A token bucket per key: `capacity` attempts, refilled evenly over `per_seconds`. Kept in the database rather
than a per-process cache because several stateless app nodes share one PostgreSQL: a limit per node would
multiply an attacker's budget by the number of nodes.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone

from kiban.accounts.models import RateLimitBucket

# ログイン: per username and per client IP.
LOGIN_PER_USER = (10, 15 * 60)
LOGIN_PER_IP = (50, 15 * 60)


def _key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def consume(key: str, *, capacity: int, per_seconds: float, cost: float = 1.0) -> bool:
    """Take `cost` tokens from the bucket `key`; False (and nothing taken) when there are not enough."""
    now = timezone.now()
    digest = _key(key)
    with transaction.atomic():
        bucket, _ = RateLimitBucket.objects.select_for_update().get_or_create(
            key=digest, defaults={"tokens": float(capacity), "updated_at": now}
        )
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(float(capacity), bucket.tokens + elapsed * capacity / per_seconds)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        RateLimitBucket.objects.filter(pk=bucket.pk).update(tokens=tokens, updated_at=now)
    return allowed


def reset(key: str) -> None:
    RateLimitBucket.objects.filter(key=_key(key)).delete()


def allow_login(username: str, ip: str) -> bool:
    """One login attempt for `username` from `ip`: both buckets must allow it."""
    user_ok = consume(f"login-user:{username.strip().lower()}", capacity=LOGIN_PER_USER[0], per_seconds=LOGIN_PER_USER[1])
    ip_ok = consume(f"login-ip:{ip}", capacity=LOGIN_PER_IP[0], per_seconds=LOGIN_PER_IP[1])
    return user_ok and ip_ok

"""監査記録の追記 (appending to the audit log): `record()`, called by every action function.

    from django.db import transaction
    from kiban.audit.log import record

    def do_change_role(membership, role, *, acting_user, request=None):
        with transaction.atomic():
            before = {"role": membership.role}
            membership.role = role
            membership.save(update_fields=["role"])
            record(actor=acting_user, org=membership.org, action="membership.role_change",
                   target=membership, before=before, after={"role": role}, request=request)

`record()` refuses to run outside `transaction.atomic()`: the entry and the change it describes commit or roll
back together, so there is never a change without its entry or an entry for a change that did not happen.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.db import models, router, transaction

from kiban.audit.chain import GENESIS_HASH, HASHED_FIELDS, canonical_time, clean_text, entry_hash, json_native
from kiban.audit.models import AuditChainHead, AuditEntry
from kiban.ops.logging import current_request_id

# Any 64-bit constant will do; it only has to be the same on every app node. ("kiban.audit" in ASCII, cut.)
ADVISORY_LOCK_KEY = 0x6B6962616E2E6175

# Values under these keys are never written to the log, only the fact that they changed.
_SECRET_KEY_PARTS = ("password", "secret", "token_hash", "key_hash")
REDACTED = "[秘匿]"


class AuditOutsideTransaction(RuntimeError):
    """record() was called outside transaction.atomic() (監査記録はトランザクション内でのみ書けます)."""


def _in_real_atomic_block(connection) -> bool:
    # Django's TestCase wraps each test in atomic blocks marked _from_testcase; those must not count, or a
    # forgotten transaction.atomic() in an action would pass every test and fail only in production.
    return connection.in_atomic_block and any(
        not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks
    )


def _lock_chain(connection) -> None:
    """Serialise appenders so that two app nodes never read the same last entry and fork the chain."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Transaction-level: released by COMMIT/ROLLBACK, so no code path can leak it.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
    # SQLite: settings use transaction_mode IMMEDIATE, so the outermost atomic() already holds the database's
    # single write lock. Any other backend still cannot fork: seq is UNIQUE and a racing insert fails.


def client_ip(request) -> str:
    """The client's IP: REMOTE_ADDR, or X-Forwarded-For when KIBAN_TRUSTED_PROXY_COUNT proxies are trusted.

    With N trusted proxies the client is the N-th address from the right of X-Forwarded-For; anything left of
    it was written by the client and is not believed.
    """
    if request is None:
        return ""
    meta = getattr(request, "META", {}) or {}
    address = meta.get("REMOTE_ADDR", "") or ""
    trusted = int(getattr(settings, "KIBAN_TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if trusted > 0 and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            address = hops[-trusted] if len(hops) >= trusted else hops[0]
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return ""


def _request_id(request) -> str:
    return (getattr(request, "request_id", "") or current_request_id.get() or "")[:64]


def _actor_fields(actor: Any) -> dict[str, Any]:
    """actor_user_id / actor_token_prefix / actor_label for a User, an ApiToken (duck-typed) or None."""
    if actor is None:
        return {"actor_user_id": None, "actor_token_prefix": "", "actor_label": "system"}
    if hasattr(actor, "prefix") and hasattr(actor, "user"):
        user = actor.user
        label = user.get_username() if user is not None else f"token:{actor.prefix}"
        return {
            "actor_user_id": user.pk if user is not None else None,
            "actor_token_prefix": str(actor.prefix)[:32],
            "actor_label": label[:200],
        }
    if not getattr(actor, "is_authenticated", False) or actor.pk is None:
        # AnonymousUser: e.g. a refused login or token, where nobody is signed in.
        return {"actor_user_id": None, "actor_token_prefix": "", "actor_label": "anonymous"}
    return {"actor_user_id": actor.pk, "actor_token_prefix": "", "actor_label": actor.get_username()[:200]}


def _target_fields(target: Any) -> dict[str, str]:
    """target_type / target_id / target_repr from a model instance, or a (type, id, repr) tuple."""
    if target is None:
        return {"target_type": "", "target_id": "", "target_repr": ""}
    if isinstance(target, models.Model):
        meta = target._meta
        return {
            "target_type": f"{meta.app_label}.{meta.model_name}",
            "target_id": "" if target.pk is None else str(target.pk)[:64],
            "target_repr": str(target)[:200],
        }
    target_type, target_id, target_repr = target
    return {"target_type": str(target_type)[:100], "target_id": str(target_id)[:64], "target_repr": str(target_repr)[:200]}


def _redact(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (REDACTED if any(part in k.lower() for part in _SECRET_KEY_PARTS) else v) for k, v in values.items()
    }


def diff_changes(before: dict | None, after: dict | None) -> dict[str, Any]:
    """変更内容: {"before": {...}, "after": {...}} holding only the fields whose values differ.

    A creation has only "after", a deletion only "before". Values are reduced to their JSON form first, so
    that a Decimal or a date compares and stores the same way it will be read back. Secrets are redacted
    after comparing, so a password change shows that it changed but never the hash.
    """
    b = json_native(dict(before)) if before is not None else None
    a = json_native(dict(after)) if after is not None else None
    if b is None and a is None:
        return {}
    if b is None:
        return {"after": _redact(a)}
    if a is None:
        return {"before": _redact(b)}
    missing = object()
    changed = sorted(k for k in set(b) | set(a) if b.get(k, missing) != a.get(k, missing))
    return {
        "before": _redact({k: b[k] for k in changed if k in b}),
        "after": _redact({k: a[k] for k in changed if k in a}),
    }


def record(
    *,
    actor: Any,
    org: Any,
    action: str,
    target: Any = None,
    before: dict | None = None,
    after: dict | None = None,
    request: Any = None,
) -> AuditEntry:
    """Append one 監査記録 to the chain, in the caller's transaction, and return it.

    actor:   the acting User, an ApiToken (anything with `.user`, `.org`, `.prefix`), or None for the system.
    org:     the body (団体) the entry belongs to — the only body whose 管理者 can see it; None = system-wide.
    action:  dotted verb, e.g. "user.create", "membership.role_change", "token.use", "token.refused".
    target:  the model instance acted on, or a (type, id, repr) tuple, or None.
    before/after: field values before and after; only changed fields are kept.
    request: the HttpRequest, for the request id and client IP (optional).

    Raises AuditOutsideTransaction when not inside transaction.atomic().
    """
    from django.utils import timezone

    alias = router.db_for_write(AuditEntry)
    connection = transaction.get_connection(alias)
    if not _in_real_atomic_block(connection):
        raise AuditOutsideTransaction(
            "監査記録は transaction.atomic() の中で、変更と同じトランザクションで書く必要があります。"
        )
    if not action or len(action) > 64:
        raise ValueError("action must be a non-empty string of at most 64 characters")

    fields: dict[str, Any] = {
        **_actor_fields(actor),
        "org_id": getattr(org, "pk", org),
        "action": action,
        **_target_fields(target),
        "changes": diff_changes(before, after),
        "request_id": _request_id(request),
        "ip": client_ip(request),
    }
    for name in ("actor_token_prefix", "actor_label", "action", "target_type", "target_id", "target_repr", "request_id"):
        fields[name] = clean_text(fields[name])

    _lock_chain(connection)
    prev_seq, prev_hash = _chain_head(alias)
    # Microseconds are what every backend stores; anything finer would be cut on save and break the hash.
    now = timezone.now()
    fields["seq"] = prev_seq + 1
    fields["time"] = canonical_time(now)
    digest = entry_hash(prev_hash, {k: fields[k] for k in HASHED_FIELDS})

    entry = AuditEntry(prev_hash=prev_hash, hash=digest, **{k: v for k, v in fields.items() if k != "time"})
    entry.time = now
    entry.save(using=alias, force_insert=True)
    AuditChainHead.objects.using(alias).update_or_create(pk=1, defaults={"seq": entry.seq, "hash": digest})
    return entry


def _chain_head(alias: str) -> tuple[int, str]:
    """(seq, hash) of the newest entry; called with the chain lock held."""
    head = AuditChainHead.objects.using(alias).filter(pk=1).values_list("seq", "hash").first()
    if head is not None:
        return head
    # No head row yet (new install, or tables flushed by a test): start from the newest entry, if any.
    last = AuditEntry.objects.using(alias).order_by("-seq").values_list("seq", "hash").first()
    return last if last is not None else (0, GENESIS_HASH)

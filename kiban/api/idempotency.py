"""Safe retries of create requests (冪等性): the `Idempotency-Key` header.

A client that did not get an answer (timeout, dropped connection) may send the same POST again with the
same `Idempotency-Key`; it then gets the first answer back instead of a second user or token. Use it in a
handler that creates something::

    @router.post("/things", response={201: ThingOut})
    def create_thing(request, payload: ThingIn):
        org = require(request, "things:write")
        return idempotent(request, org, lambda: (201, ThingOut.from_orm(do_create_thing(...)).model_dump(mode="json")))

* The same key with a different body (or for another route) is a 422 problem (`idempotency_key_reused`).
* Keys are 1–200 visible ASCII characters, per body and user, and forgotten after `TTL`.
* An answer that failed (any error) is not stored: the retry runs again and fails or succeeds on its own.
* Fields listed in `secret_fields` are not stored; a replay answers them as null (see the token route).
* A multipart upload passes a `fingerprint` of its fields and files (kiban.core.jobs_api) instead of its body.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Status

from kiban.api.models import IdempotencyRecord
from kiban.core import tenancy
from kiban.core.errors import KibanError

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


class IdempotencyError(KibanError):
    default_code = "idempotency_key_reused"
    status = 422


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def idempotent(
    request: HttpRequest,
    org,
    create: Callable[[], tuple[int, dict[str, Any]]],
    *,
    secret_fields: Iterable[str] = (),
    fingerprint: str | None = None,
) -> Status:
    """Run `create` once per Idempotency-Key (or every time, without the header) and return its answer.

    `fingerprint` stands for the request's content where its raw body cannot: a multipart upload has a new
    boundary on every send (a retry would look different) and may be larger than fits in memory."""
    key = request.headers.get(HEADER)
    if key is None:
        status, body = create()
        return Status(status, body)
    if not _KEY_RE.match(key):
        raise IdempotencyError(
            "Idempotency-Key は1〜200文字の半角英数記号で指定してください。",
            "Idempotency-Key must be 1 to 200 visible ASCII characters.",
            code="invalid_idempotency_key",
            field=HEADER,
            rule="format",
        )
    user = tenancy.actor_user(getattr(request, "auth", None))
    operation = f"{request.method} {request.path}"
    request_hash = fingerprint or _sha(request.body or b"")
    now = timezone.now()
    lookup = {"org": org, "user": user, "key_hash": _sha(key)}
    with transaction.atomic():
        IdempotencyRecord.objects.filter(org=org, created_at__lt=now - TTL).delete()
        record = IdempotencyRecord.objects.select_for_update().filter(**lookup).first()
        if record is None:
            status, body = create()
            stored = {k: (None if k in set(secret_fields) else v) for k, v in body.items()}
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        **lookup, operation=operation, request_hash=request_hash, status=status, body=stored
                    )
            except IntegrityError:
                # A concurrent twin committed first: raising rolls our creation back with this transaction.
                raise IdempotencyError(
                    "同じ Idempotency-Key のリクエストが同時に処理されました。もう一度送信してください。",
                    "A request with the same Idempotency-Key was processed concurrently. Send it again.",
                    code="idempotency_conflict", field=HEADER, rule="concurrent", status=409,
                ) from None
            return Status(status, body)
    if record.operation != operation or record.request_hash != request_hash:
        raise IdempotencyError(
            "この Idempotency-Key は別の内容のリクエストに使われています。新しいキーを指定してください。",
            "This Idempotency-Key was used for a different request. Use a new key.",
            field=HEADER,
            rule="same_request",
        )
    request.idempotent_replay = True
    return Status(record.status, record.body)

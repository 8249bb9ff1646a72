"""ハッシュ連鎖 (the hash chain): the canonical form of an entry and its SHA-256, as pure functions.

hash = SHA-256( prev_hash + canonical JSON of the entry )

The canonical JSON has sorted keys, no whitespace, ensure_ascii=False, and the time in UTC ISO 8601 with
microseconds. `record()`, `verify_chain()` and the benchmark's bulk filler all call `entry_hash()`, so the
three can never disagree about the format.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The stored columns the hash covers, in the order verify reads them. `id`, `prev_hash` and `hash` are not
# in the payload: prev_hash is chained in front of it and id is only the row's handle.
HASHED_FIELDS: tuple[str, ...] = (
    "seq",
    "time",
    "actor_user_id",
    "actor_token_prefix",
    "actor_label",
    "org_id",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "changes",
    "request_id",
    "ip",
)

_encoder = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
)


def canonical_time(value: datetime) -> str:
    """UTC, ISO 8601, always with microseconds (so 12:00:00 and 12:00:00.000000 hash the same)."""
    if value.tzinfo is None:
        # Naive datetimes only come from SQLite raw reads, where Django stores UTC.
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical_json(fields: dict[str, Any]) -> str:
    """The entry as canonical JSON: `fields` holds HASHED_FIELDS with `time` already a canonical string."""
    return _encoder.encode(fields)


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """SHA-256 hex of prev_hash followed by the canonical JSON of the entry."""
    return hashlib.sha256((prev_hash + _encoder.encode(fields)).encode("utf-8")).hexdigest()


def json_native(value: Any) -> Any:
    """`value` reduced to what JSON stores and gives back unchanged (dates → ISO strings, Decimal → str …).

    Hashing this form, and storing exactly it, is what makes a re-read entry hash the same as when written.
    """
    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, allow_nan=False))

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

_OPTIONS = {"ensure_ascii": False, "sort_keys": True, "separators": (",", ":"), "allow_nan": False}
_encoder = json.JSONEncoder(check_circular=False, **_OPTIONS)
_str = json.encoder.encode_basestring  # the C function when available: ensure_ascii=False string encoding


class CanonicalJSONEncoder(json.JSONEncoder):
    """JSONField encoder that stores `changes` in canonical form.

    On SQLite the stored text is then byte-for-byte what the hash covers, so verify can hash it as read
    instead of parsing and re-encoding it — the difference between ~60,000 and ~300,000 entries/s.
    (PostgreSQL's jsonb re-formats whatever it is given; there verify re-encodes.)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.update(_OPTIONS)
        super().__init__(*args, **kwargs)


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


def fast_payload(
    seq: int,
    time_text: str,
    actor_user_id: int | None,
    actor_token_prefix: str,
    actor_label: str,
    org_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    target_repr: str,
    changes_text: str,
    request_id: str,
    ip: str,
) -> str:
    """canonical_json() of an entry, built directly from stored values (the verify hot loop).

    `time_text` is already canonical_time(); `changes_text` is already canonical JSON. Keys are written in
    sorted order by hand; tests check this equals canonical_json() for arbitrary entries. A value of the wrong
    type (e.g. a number written into a text column behind Django's back) raises TypeError/ValueError, which
    verify reports as an edited entry.
    """
    s = _str
    return (
        f'{{"action":{s(action)},"actor_label":{s(actor_label)},"actor_token_prefix":{s(actor_token_prefix)},'
        f'"actor_user_id":{"null" if actor_user_id is None else _int(actor_user_id)},"changes":{changes_text},'
        f'"ip":{s(ip)},"org_id":{"null" if org_id is None else _int(org_id)},"request_id":{s(request_id)},'
        f'"seq":{_int(seq)},"target_id":{s(target_id)},"target_repr":{s(target_repr)},'
        f'"target_type":{s(target_type)},"time":{s(time_text)}}}'
    )


def _int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def sqlite_time_text(value: str) -> str:
    """canonical_time() of a DateTimeField as SQLite stores it: naive UTC "YYYY-MM-DD HH:MM:SS[.ffffff]"."""
    if type(value) is not str or value[10:11] != " ":
        # Not what Django writes: parse it properly (and let an odd value fail the hash, not crash).
        return canonical_time(datetime.fromisoformat(value))
    if len(value) == 26:
        return value[:10] + "T" + value[11:] + "+00:00"
    if len(value) == 19:
        return value[:10] + "T" + value[11:] + ".000000+00:00"
    return canonical_time(datetime.fromisoformat(value))


def _clean_str(text: str) -> str:
    # PostgreSQL refuses NUL in text and jsonb, and lone surrogates cannot be hashed as UTF-8: drop/replace
    # them before hashing, so that every backend stores exactly what was hashed.
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def clean_text(text: Any) -> str:
    """A text column's value as it will be stored and hashed."""
    return _clean_str(str(text))


def json_native(value: Any) -> Any:
    """`value` reduced to JSON that every backend stores and gives back unchanged.

    dates → ISO strings, Decimal/UUID → str (Django's JSON encoder); NUL and lone surrogates removed; floats
    in exponent form (1e+16) → str, because PostgreSQL's jsonb prints them as plain numbers (10000000000000000)
    that read back as ints and would no longer hash the same. NaN and infinity are refused.
    """
    from django.core.serializers.json import DjangoJSONEncoder

    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return _clean_str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinity cannot be stored in the audit log")
        text = repr(value)
        return text if ("e" in text or "E" in text) else value
    if isinstance(value, dict):
        return {_clean_str(str(k)): json_native(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [json_native(v) for v in items]
    return json_native(DjangoJSONEncoder().default(value))

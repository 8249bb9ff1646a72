"""The canonical form and hash of an entry, without a database (ハッシュ連鎖の正規化)."""

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from kiban.audit.chain import (
    HASHED_FIELDS,
    canonical_json,
    canonical_time,
    entry_hash,
    fast_payload,
    json_native,
    sqlite_time_text,
)

text = st.text(max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**62), 2**62) | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def entries(draw):
    return {
        "seq": draw(st.integers(1, 2**62)),
        "time": canonical_time(draw(times)),
        "actor_user_id": draw(st.none() | st.integers(1, 2**62)),
        "actor_token_prefix": draw(text),
        "actor_label": draw(text),
        "org_id": draw(st.none() | st.integers(1, 2**62)),
        "action": draw(text),
        "target_type": draw(text),
        "target_id": draw(text),
        "target_repr": draw(text),
        "changes": json_native(draw(st.dictionaries(text, json_values, max_size=4))),
        "request_id": draw(text),
        "ip": draw(text),
    }


@given(entries())
def test_fast_payload_is_the_canonical_json(fields):
    """verify's hand-written encoder must agree with json.dumps(sort_keys) for any entry."""
    changes_text = canonical_json(fields["changes"])
    fast = fast_payload(*(changes_text if k == "changes" else fields[k] for k in _FAST_ORDER))
    assert fast == canonical_json(fields)
    assert json.loads(fast) == fields


_FAST_ORDER = (
    "seq", "time", "actor_user_id", "actor_token_prefix", "actor_label", "org_id", "action",
    "target_type", "target_id", "target_repr", "changes", "request_id", "ip",
)  # fmt: skip


def test_hashed_fields_are_the_fast_payload_fields():
    assert set(_FAST_ORDER) == set(HASHED_FIELDS)


@given(times)
def test_sqlite_text_time_reads_as_canonical(value):
    # What Django writes to SQLite for an aware datetime: naive UTC via str(), which omits ".000000".
    stored = str(value.astimezone(UTC).replace(tzinfo=None))
    assert sqlite_time_text(stored) == canonical_time(value)


def test_canonical_time_is_utc_with_microseconds():
    tokyo = timezone(timedelta(hours=9))
    assert canonical_time(datetime(2026, 4, 1, 9, 0, tzinfo=tokyo)) == "2026-04-01T00:00:00.000000+00:00"


@given(json_values)
def test_json_native_survives_a_round_trip(value):
    """What record() stores must read back — on SQLite as text, on PostgreSQL as jsonb — to the same JSON."""
    native = json_native(value)
    encoded = canonical_json(native)
    assert canonical_json(json.loads(encoded)) == encoded
    assert "\x00" not in encoded


def test_json_native_keeps_exponent_floats_as_text():
    # jsonb prints 1e16 as 10000000000000000, which reads back as an int and would change the hash.
    assert json_native({"n": 1e16, "m": 0.5}) == {"n": "1e+16", "m": 0.5}


def test_hash_depends_on_previous_hash_and_every_field():
    fields = {k: "" for k in HASHED_FIELDS} | {"seq": 1, "changes": {}}
    base = entry_hash("0" * 64, fields)
    assert entry_hash("1" + "0" * 63, fields) != base
    for key in HASHED_FIELDS:
        changed = dict(fields, **{key: 2 if key == "seq" else ({"a": 1} if key == "changes" else "x")})
        assert entry_hash("0" * 64, changed) != base, key

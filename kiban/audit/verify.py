"""連鎖の検証 (verifying the chain): stream every entry in seq order and recompute its hash.

An entry is bad when
  - its seq is not the previous seq + 1 (an entry was deleted, or a seq rewritten)      → "missing"
  - its prev_hash is not the previous entry's hash (deleted, inserted or reordered)      → "prev_hash"
  - its hash is not SHA-256(prev_hash + canonical JSON of its stored values) (edited)    → "hash"
and the chain as a whole is bad when it ends before, or goes past, the chain head (truncated at the end, or
appended to without record()), or disagrees with an anchor (seq, hash) kept elsewhere.

The first bad entry is reported; everything after it is not trusted either.
"""

from __future__ import annotations

import hashlib
import json
import time as _time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, connections, router

from kiban.audit.chain import GENESIS_HASH, HASHED_FIELDS, canonical_time, fast_payload, sqlite_time_text
from kiban.audit.models import AuditChainHead, AuditEntry

REASONS_JA = {
    "missing": "通番 {seq} の記録がありません（削除されたか、通番が書き換えられています）。",
    "bad_seq": "通番 {seq} は不正な通番です（1 から始まる連番ではありません）。",
    "prev_hash": "通番 {seq} の直前ハッシュが前の記録と一致しません（記録の削除・挿入・並べ替え）。",
    "hash": "通番 {seq} の内容がハッシュと一致しません（記録が書き換えられています）。",
    "truncated": "通番 {seq} 以降の記録がありません（末尾の記録が削除されています）。",
    "head_mismatch": "通番 {seq} のハッシュが連鎖の先頭記録と一致しません（末尾の記録が書き換えられています）。",
    "beyond_head": "通番 {seq} は連鎖の先頭記録より後にあります（正規の手順を経ずに追加されています）。",
    "head_missing": "連鎖の先頭記録がありません（通番 {seq} まで確認済み）。",
    "anchor": "通番 {seq} のハッシュが保管済みのアンカーと一致しません（記録が書き換えられています）。",
    "anchor_missing": "アンカーの通番 {seq} の記録がありません（記録が削除されています）。",
    "unreadable": "通番 {seq} 以降の記録を読み取れません（データベースが直接書き換えられています）。",
}
REASONS_EN = {
    "missing": "entry seq {seq} is missing (deleted, or a seq was rewritten)",
    "bad_seq": "seq {seq} is not part of a sequence starting at 1",
    "prev_hash": "entry seq {seq}: prev_hash does not match the previous entry (deleted, inserted or reordered)",
    "hash": "entry seq {seq}: contents do not match its hash (edited)",
    "truncated": "entries from seq {seq} on are missing (the end of the log was deleted)",
    "head_mismatch": "entry seq {seq}: hash differs from the chain head (the last entry was edited)",
    "beyond_head": "entry seq {seq} lies beyond the chain head (added without record())",
    "head_missing": "the chain head is missing (checked up to seq {seq})",
    "anchor": "entry seq {seq}: hash differs from the stored anchor (edited)",
    "anchor_missing": "the anchor's entry seq {seq} is missing (deleted)",
    "unreadable": "entries from seq {seq} on cannot be read (the database was written to directly)",
}

# Column order of a streamed row (model field names; their columns are looked up in _meta): the row's handle,
# the hashed fields in the order the hash covers them, then the chain links. _hash_row unpacks this order.
_FIELD_NAMES = ("id", *HASHED_FIELDS, "prev_hash", "hash")


@dataclass
class VerifyResult:
    """Outcome of verify_chain(): ok, how many entries were checked, and the first bad entry and why."""

    ok: bool
    checked: int = 0
    last_seq: int = 0
    head_hash: str = GENESIS_HASH
    bad_seq: int | None = None
    bad_id: int | None = None
    reason: str = ""
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Entries verified per second."""
        return self.checked / self.seconds if self.seconds > 0 else 0.0

    def message(self, lang: str = "ja") -> str:
        """A one-line summary in Japanese (default) or English."""
        if self.ok:
            if lang == "en":
                return f"OK: {self.checked} entries verified (up to seq {self.last_seq}), head {self.head_hash[:16]}…"
            return (
                f"正常: {self.checked:,} 件の監査記録を検証しました（通番 {self.last_seq} まで）。"
                f"先頭ハッシュ {self.head_hash[:16]}…"
            )
        table = REASONS_EN if lang == "en" else REASONS_JA
        text = table[self.reason].format(seq=self.bad_seq)
        if self.bad_id is not None:
            text += f" (id {self.bad_id})" if lang == "en" else f"（id {self.bad_id}）"
        return text


def _fail(result: VerifyResult, reason: str, seq: int, entry_id: int | None, started: float) -> VerifyResult:
    result.ok = False
    result.reason = reason
    result.bad_seq = seq
    result.bad_id = entry_id
    result.seconds = _time.perf_counter() - started
    return result


def _select(alias: str, columns_sql: str, after: int, upto: int | None, batch_size: int) -> Iterator[list[tuple]]:
    """`columns_sql` (whose 2nd column is seq) of entries with after < seq <= upto, in seq order,
    `batch_size` rows at a time.

    Raw keyset paging (seq > last ORDER BY seq LIMIT n): streams on every backend without a server-side
    cursor or a long transaction, costs the same at seq 1 and seq 1,000,000, and skips Django's per-row
    field conversion, which was most of verify's time.
    """
    connection = connections[alias]
    qn = connection.ops.quote_name
    seq = qn(AuditEntry._meta.get_field("seq").column)
    sql = f"SELECT {columns_sql} FROM {qn(AuditEntry._meta.db_table)} WHERE {seq} > %s"
    if upto is not None:
        sql += f" AND {seq} <= %s"
    sql += f" ORDER BY {seq} LIMIT %s"
    last = after
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [last, upto, batch_size] if upto is not None else [last, batch_size])
            rows = cursor.fetchall()
            if not rows:
                return
            yield rows
            if len(rows) < batch_size:
                return
            last = rows[-1][1]


def _columns(alias: str) -> list[str]:
    qn = connections[alias].ops.quote_name
    return [qn(AuditEntry._meta.get_field(name).column) for name in _FIELD_NAMES]


def _generic_sql(alias: str) -> str:
    """All of _FIELD_NAMES, with `time` read as text where the database can give it (skips a Python
    datetime per row)."""
    columns = _columns(alias)
    i = _FIELD_NAMES.index("time")
    vendor = connections[alias].vendor
    if vendor == "sqlite":
        columns[i] = f"CAST({columns[i]} AS TEXT)"
    elif vendor == "postgresql":
        # The canonical text itself, from the server: no datetime objects to build and format per row.
        columns[i] = f"""to_char({columns[i]} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
    return ", ".join(columns)


_encode = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False, check_circular=False
).encode


def _hash_row(row: tuple, prev_hash: str, on_sqlite: bool) -> str | None:
    """SHA-256 of prev_hash + canonical JSON of a row of _FIELD_NAMES, or None when a stored value has a
    type Django never writes there (the row was changed behind its back)."""
    (_, seq, time, actor_user_id, actor_token_prefix, actor_label, org_id, action,
     target_type, target_id, target_repr, changes, request_id, ip, _, _) = row  # fmt: skip
    try:
        if on_sqlite:
            # Stored by CanonicalJSONEncoder: the text is the canonical JSON itself.
            time_text = sqlite_time_text(time) if type(time) is str else canonical_time(time)
            if type(changes) is not str:
                raise TypeError("changes is not text")
            changes_text = changes
        else:
            # jsonb re-formats what it stores: parse and re-encode canonically.
            time_text = time if type(time) is str else canonical_time(time)
            changes_text = _encode(json.loads(changes) if isinstance(changes, str | bytes) else changes)
        payload = fast_payload(
            seq, time_text, actor_user_id, actor_token_prefix, actor_label, org_id, action,
            target_type, target_id, target_repr, changes_text, request_id, ip,
        )  # fmt: skip
        return hashlib.sha256((prev_hash + payload).encode()).hexdigest()
    except (TypeError, ValueError, AttributeError, UnicodeError):
        return None


def _first_unreadable(alias: str, from_seq: int, limit: int) -> tuple[int, int | None]:
    """(seq, id) of the first row from `from_seq` that cannot be read, one row at a time."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    table, seq_col = qn(AuditEntry._meta.db_table), qn("seq")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {qn('id')}, {seq_col} FROM {table} WHERE {seq_col} >= %s ORDER BY {seq_col} LIMIT %s",
            [from_seq, limit],
        )
        candidates = cursor.fetchall()
    for entry_id, seq in candidates:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {_generic_sql(alias)} FROM {table} WHERE {qn('id')} = %s", [entry_id])
                cursor.fetchall()
        except (DatabaseError, UnicodeError):
            return seq, entry_id
    return from_seq, None


@dataclass
class _Segment:
    """What one pass over a range of seq found (a worker's answer in a parallel verify)."""

    lo: int
    first: tuple[int, int, str] | None = None  # (seq, id, stored prev_hash) of its first row
    last_seq: int = 0  # the last seq verified (lo - 1 when none)
    last_hash: str | None = None
    fail: tuple[str, int, int | None] | None = None  # (reason, seq, id)
    ran_out: bool = False  # rows stopped before the end of the range
    anchor_seen: bool = False


def _verify_segment(
    alias: str, lo: int, hi: int | None, batch_size: int, prev_hash: str | None, anchor: tuple[int, str] | None
) -> _Segment:
    """Verify entries lo..hi. `prev_hash` is what the first row must link to; None (a later segment of a
    parallel run) takes the first row's own prev_hash and leaves the link to the caller."""
    on_sqlite = connections[alias].vendor == "sqlite"
    seg = _Segment(lo=lo, last_seq=lo - 1)
    anchor_seq, anchor_hash = anchor if anchor else (None, None)
    hash_row = _hash_row  # local names: this loop runs a million times
    expected_seq = lo
    try:
        for rows in _select(alias, _generic_sql(alias), lo - 1, hi, batch_size):
            for row in rows:
                entry_id, seq, stored_prev, stored_hash = row[0], row[1], row[14], row[15]
                if seg.first is None:
                    seg.first = (seq, entry_id, stored_prev)
                    if prev_hash is None:
                        prev_hash = stored_prev
                if seq != expected_seq:
                    if type(seq) is int and seq > expected_seq:
                        seg.fail = ("missing", expected_seq, None)
                    else:
                        seg.fail = ("bad_seq", seq, entry_id)
                    return seg
                if stored_prev != prev_hash:
                    seg.fail = ("prev_hash", seq, entry_id)
                    return seg
                if hash_row(row, prev_hash, on_sqlite) != stored_hash:
                    seg.fail = ("hash", seq, entry_id)
                    return seg
                if seq == anchor_seq:
                    seg.anchor_seen = True
                    if stored_hash != anchor_hash:
                        seg.fail = ("anchor", seq, entry_id)
                        return seg
                prev_hash = stored_hash
                expected_seq = seq + 1
                seg.last_seq, seg.last_hash = seq, stored_hash
    except (DatabaseError, UnicodeError):
        # Bytes that are not text where text belongs: the database was written to behind Django's back.
        bad_seq, bad_id = _first_unreadable(alias, expected_seq, batch_size)
        seg.fail = ("unreadable", bad_seq, bad_id)
        return seg
    seg.ran_out = hi is not None and seg.last_seq < hi
    return seg


def _run_segment(args: tuple) -> _Segment:
    # In a forked worker: the parent closed its connections before forking, so this opens its own.
    try:
        return _verify_segment(*args)
    finally:
        connections.close_all()


def _parallel_segments(
    alias: str, upto: int, workers: int, batch_size: int, anchor: tuple[int, str] | None
) -> list[_Segment]:
    """Split 1..upto into `workers` ranges and verify them in as many processes.

    Each entry's hash depends only on values stored in its own row, so ranges can be checked apart; the
    links between ranges (first prev_hash = previous range's last hash) are checked by the caller.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    bounds = [1 + (upto * k) // workers for k in range(workers)] + [upto + 1]
    jobs = [
        (alias, bounds[k], bounds[k + 1] - 1, batch_size, GENESIS_HASH if k == 0 else None, anchor)
        for k in range(workers)
    ]
    # Forked children must not share the parent's database connections.
    connections.close_all()
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(_run_segment, jobs))


def _stitch(segments: list[_Segment]) -> tuple[tuple[str, int, int | None] | None, int, str]:
    """The first failure across consecutive segments, as one pass in seq order would have found it, and the
    last verified (seq, hash)."""
    last_seq, last_hash = 0, GENESIS_HASH
    for k, seg in enumerate(segments):
        if seg.first is not None and seg.first[0] == seg.lo and k > 0 and seg.first[2] != last_hash:
            return ("prev_hash", seg.lo, seg.first[1]), last_seq, last_hash
        if seg.fail is not None:
            return seg.fail, last_seq, last_hash
        if seg.last_hash is not None:
            last_seq, last_hash = seg.last_seq, seg.last_hash
        if seg.ran_out:
            later_rows = any(s.first is not None for s in segments[k + 1 :])
            return ("missing" if later_rows else "truncated", seg.last_seq + 1, None), last_seq, last_hash
    return None, last_seq, last_hash


def _workers_can_see(alias: str) -> bool:
    """Whether a forked worker with its own connection sees what we see: not the rows of an open
    transaction, nor an in-memory SQLite database."""
    connection = connections[alias]
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite" and connection.is_in_memory_db())


def default_workers(entries: int, alias: str) -> int:
    """Worker processes worth starting: one per CPU (at most 8) from 200,000 entries on, else 1."""
    import os

    if entries < 200_000 or not _workers_can_see(alias):
        return 1
    return max(1, min(8, os.cpu_count() or 1))


def verify_chain(
    batch_size: int = 10000,
    *,
    using: str | None = None,
    anchor: tuple[int, str] | None = None,
    workers: int | None = 1,
) -> VerifyResult:
    """Check the whole chain in seq order, streaming `batch_size` rows at a time; return the first bad entry.

    `anchor` is an optional (seq, hash) saved earlier from `kiban audit head`; the entry at that seq must
    still have that hash. `workers` > 1 checks ranges of the chain in that many processes (None: choose by
    size and CPUs); the answer is the same as with one. Entries appended while verifying are left for the
    next run.
    """
    alias = using or router.db_for_read(AuditEntry)
    started = _time.perf_counter()
    head = AuditChainHead.objects.using(alias).filter(pk=1).values_list("seq", "hash").first()
    result = VerifyResult(ok=True)
    upto = head[0] if head is not None else None  # later appends are checked next time
    if workers is None:
        workers = default_workers(upto or 0, alias)
    elif workers > 1 and not _workers_can_see(alias):
        # Forked workers could not see rows of an open transaction or of an in-memory database.
        workers = 1
    if workers > 1 and upto and upto >= workers:
        segments = _parallel_segments(alias, upto, workers, batch_size, anchor)
    else:
        segments = [_verify_segment(alias, 1, upto, batch_size, GENESIS_HASH, anchor)]
    fail, last_seq, prev_hash = _stitch(segments)
    result.checked = last_seq
    result.last_seq = last_seq
    result.head_hash = prev_hash
    result.details["workers"] = len(segments)
    if fail is not None:
        return _fail(result, fail[0], fail[1], fail[2], started)
    anchor_seen = any(seg.anchor_seen for seg in segments)
    anchor_seq = anchor[0] if anchor else None

    if head is not None:
        head_seq, head_hash = head
        if last_seq < head_seq:
            return _fail(result, "truncated", last_seq + 1, None, started)
        if head_hash != prev_hash:
            last_id = AuditEntry.objects.using(alias).filter(seq=last_seq).values_list("id", flat=True).first()
            return _fail(result, "head_mismatch", last_seq, last_id, started)
    # Entries past the head that the head does not know about were not appended by record(). The max is read
    # before the head: record() moves both in one commit, so a legitimate append can never look like this.
    extra = AuditEntry.objects.using(alias).order_by("-seq").values_list("seq", "id").first()
    head_now = AuditChainHead.objects.using(alias).filter(pk=1).values_list("seq", flat=True).first()
    if extra is not None:
        if head_now is None:
            return _fail(result, "head_missing", last_seq, None, started)
        if extra[0] > head_now:
            beyond = (
                AuditEntry.objects.using(alias)
                .filter(seq__gt=head_now)
                .order_by("seq")
                .values_list("seq", "id")
                .first()
            )
            return _fail(result, "beyond_head", beyond[0], beyond[1], started)
    if anchor_seq is not None and not anchor_seen:
        return _fail(result, "anchor_missing", anchor_seq, None, started)
    result.seconds = _time.perf_counter() - started
    return result

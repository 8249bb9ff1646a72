"""監査ログのCSV出力 (CSV export of one body's audit entries), shared by the web page and `kiban audit export`.

The CSV carries every hashed value as stored (time in UTC, user and body ids, changes as canonical JSON) and
each entry's prev_hash and hash, so a body can re-check each exported entry on its own:
SHA-256(prev_hash + canonical JSON) must equal hash. (The chain itself runs through all bodies' entries, so
consecutive rows of one body are not linked to each other; `kiban audit verify` checks the whole chain.)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone

from kiban.audit.chain import canonical_json, canonical_time
from kiban.audit.models import AuditEntry

HEADER = [
    "通番",
    "日時（日本時間）",
    "日時（UTC）",
    "操作者",
    "操作者ID",
    "APIトークン",
    "団体コード",
    "団体ID",
    "操作",
    "対象の種類",
    "対象ID",
    "対象",
    "変更内容",
    "リクエストID",
    "IPアドレス",
    "直前のハッシュ",
    "ハッシュ",
]

# Spreadsheet programs run cells that start like a formula; free-text cells get a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def entry_row(entry: AuditEntry, org_code: str = "") -> list[Any]:
    """One CSV row for `entry` (see HEADER)."""
    return [
        entry.seq,
        timezone.localtime(entry.time).isoformat(timespec="seconds"),
        canonical_time(entry.time),
        _safe(entry.actor_label),
        "" if entry.actor_user_id is None else entry.actor_user_id,
        entry.actor_token_prefix,
        org_code,
        "" if entry.org_id is None else entry.org_id,
        _safe(entry.action),
        entry.target_type,
        _safe(entry.target_id),
        _safe(entry.target_repr),
        canonical_json(entry.changes),
        entry.request_id,
        entry.ip,
        entry.prev_hash,
        entry.hash,
    ]


class _Echo:
    """A file-like object whose write() hands the line back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def iter_csv(entries: Iterable[AuditEntry], org_code: str, *, bom: bool = False) -> Iterator[str]:
    """The CSV text, line by line (streams: never holds the whole export in memory)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    if bom:
        # Excel on Windows, which most 自治体 staff use, needs the BOM to read UTF-8.
        yield "\ufeff"
    yield writer.writerow(HEADER)
    for entry in entries:
        yield writer.writerow(entry_row(entry, org_code))

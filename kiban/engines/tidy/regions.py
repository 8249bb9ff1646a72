"""地域名と地域コード (L3-06): which cells are region names, formal or abbreviated.

The 47 prefectures are bundled here (their names and codes do not change); municipalities come from the
core registry `kiban.orgs.source.load_bodies()` (pure Python, package data, no database), loaded only when a
column looks like municipality names, because building it takes most of a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

PREFECTURES = ["北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"]


def prefecture_code(name: str) -> str | None:
    """「青森県」→ '02' (JIS X 0401)."""
    try:
        return f"{PREFECTURES.index(name) + 1:02d}"
    except ValueError:
        return None


@dataclass
class RegionIndex:
    formal: dict[str, str]  # formal name → code
    short: dict[str, str]  # abbreviated name → formal name


def _short_pref(name: str) -> str | None:
    return None if name == "北海道" else re.sub(r"[都府県]$", "", name)


@lru_cache(maxsize=1)
def prefecture_index() -> RegionIndex:
    formal = {p: prefecture_code(p) for p in PREFECTURES}
    short = {_short_pref(p): p for p in PREFECTURES if _short_pref(p)}
    return RegionIndex(formal, short)


@lru_cache(maxsize=1)
def municipal_index() -> RegionIndex:
    formal = dict(prefecture_index().formal)
    short = dict(prefecture_index().short)
    try:
        from kiban.orgs.source import load_bodies

        bodies = load_bodies()
    except (ImportError, OSError, ValueError, KeyError):  # registry unavailable: prefectures only
        return RegionIndex(formal, short)
    for b in bodies:
        if b.kind == "ministry":
            continue
        formal.setdefault(b.name, b.code)
        if b.kind == "city_ward":
            formal.setdefault(b.name, b.code)
        m = re.match(r"^(.+?)[市区町村]$", b.name)
        if m and len(m.group(1)) >= 2 and m.group(1) not in formal:
            short.setdefault(m.group(1), b.name)
    return RegionIndex(formal, short)


def region_index(values: list[str] | None = None) -> RegionIndex:
    """The prefecture index, or the full municipal one when the values look like municipality names."""
    if values:
        pref = prefecture_index()
        hits = sum(1 for v in values if v in pref.formal or v in pref.short)
        if hits < 0.5 * len(values) and sum(1 for v in values if re.search(r"[市区町村]$", v)) >= 0.3 * len(values):
            return municipal_index()
    return prefecture_index()

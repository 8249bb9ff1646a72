"""Reverse and search helpers (逆引き・検索): postal code → addresses, code → names, towns of a body."""

from __future__ import annotations

import unicodedata

from kiban.engines.address.errors import AddressError
from kiban.engines.address.index import AddressIndex, load_index


def _idx(index: AddressIndex | None) -> AddressIndex:
    return index or load_index()


def clean_postal(code: str) -> str:
    """'〒100-0013' / '１００００１３' → '1000013'; AddressError when it is not 7 digits."""
    text = unicodedata.normalize("NFKC", str(code)).strip().lstrip("〒").replace("-", "").replace(" ", "")
    if len(text) != 7 or not text.isdigit() or not text.isascii():
        raise AddressError(
            f"郵便番号は7桁の数字で指定してください（入力: {code!r}）",
            f"A postal code must be 7 digits (got {code!r})",
            field="postal_code",
            rule="format",
        )
    return text


def by_postal(code: str, index: AddressIndex | None = None) -> list[dict]:
    """郵便番号 → 候補住所: [{postal_code, pref, city, town, building, lg_code}] (empty when unknown)."""
    idx = _idx(index)
    pc = clean_postal(code)
    out = []
    for code6, tid, building in idx.postal.get(pc, ()):
        display, _kana, _kind, _parent, p2 = idx.bodies[code6]
        out.append(
            {
                "postal_code": pc,
                "pref": idx.prefs[p2][0],
                "city": display,
                "town": idx.towns[tid][1] if tid >= 0 else "",
                "building": building,
                "lg_code": code6,
            }
        )
    return out


def body(code: str, index: AddressIndex | None = None) -> dict:
    """団体コード → names: {code, name, kana, kind, pref, parent, wards, town_count}."""
    from kiban.orgs.source import InvalidOrgCode, normalize_code

    idx = _idx(index)
    try:
        code6 = normalize_code(code)
    except InvalidOrgCode as exc:
        raise AddressError(exc.message_ja, exc.message_en, field="code", rule=exc.rule) from None
    if code6[2:5] == "000" and code6[:2] in idx.prefs:
        name, kana, _c = idx.prefs[code6[:2]]
        return {
            "code": code6,
            "name": name,
            "kana": kana,
            "kind": "prefecture",
            "pref": name,
            "parent": None,
            "wards": [],
            "town_count": sum(1 for t in idx.towns if idx.bodies[t[0]][4] == code6[:2]),
        }
    if code6 not in idx.bodies:
        raise AddressError(
            f"団体コード {code6} は辞書にありません",
            f"Code {code6} is not in the index",
            field="code",
            rule="unknown",
        )
    display, kana, kind, parent, p2 = idx.bodies[code6]
    scopes = idx.wards_of.get(code6, (code6,))
    return {
        "code": code6,
        "name": display,
        "kana": kana,
        "kind": kind,
        "pref": idx.prefs[p2][0],
        "parent": parent or None,
        "wards": [{"code": w, "name": idx.bodies[w][0]} for w in idx.wards_of.get(code6, ())],
        "town_count": sum(1 for t in idx.towns if t[0] in scopes),
    }


def towns(code: str, index: AddressIndex | None = None) -> list[dict]:
    """市区町村の町字一覧: [{lg_code, city, town, kana, chome, postal_codes}] in KEN_ALL order."""
    idx = _idx(index)
    info = body(code, idx)
    if info["kind"] == "prefecture":
        scopes = {c for c, b in idx.bodies.items() if b[4] == info["code"][:2]}
    else:
        scopes = set(idx.wards_of.get(info["code"], (info["code"],)))
    return [
        {
            "lg_code": code6,
            "city": idx.bodies[code6][0],
            "town": name,
            "kana": kana,
            "chome": chome,
            "postal_codes": list(dict.fromkeys(p for p, _c, _b in postals)),
        }
        for code6, name, kana, chome, postals in idx.towns
        if code6 in scopes
    ]


def info(index: AddressIndex | None = None) -> dict:
    """Facts about the index: data version and date, counts, build time."""
    from kiban.engines.address.index import cache_path

    idx = _idx(index)
    return {
        "version": idx.version,
        "data_date": idx.data_date,
        "prefectures": len(idx.prefs),
        "bodies": len(idx.bodies),
        "towns": len(idx.towns),
        "postal_codes": len(idx.postal),
        "build_seconds": round(idx.build_seconds, 2),
        "cache": str(cache_path()),
    }

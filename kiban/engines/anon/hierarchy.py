"""Generalisation hierarchies: loading, building and validating them.

A hierarchy is a table with one row per original value: ``value;level1;level2;…;top`` (the ARX format). Level 0
is the value itself; the last level is usually ``*`` (fully generalised). Hierarchies come from CSV files or
from the built-in builders:

* ``intervals`` — numbers to bands (``35-39`` → ``30-39`` → ``*``), each width a multiple of the previous one;
* ``date`` — dates to month (``2024-04``), year (``2024``) and/or 年度 (``2024年度``, April–March);
* ``address`` — 住所 or 全国地方公共団体コード to 市区町村 to 都道府県 (from the registry, kiban.orgs.source);
* ``mask`` — codes masked digit by digit from the right (``1234567`` → ``123456*`` → ``12345**``).

Every hierarchy is validated before use: every row has the same number of levels, level-0 values are unique,
each value at one level generalises to exactly one value at the next (otherwise the hierarchy is
inconsistent), and every value in the data has a row.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import fail, preview

TOP = "*"


@dataclass
class Hierarchy:
    """A value generalisation hierarchy (rows of level values, level 0 first)."""

    name: str
    rows: list[tuple[str, ...]]
    source: str = ""  # where it came from, for reports ("file adult_hierarchy_age.csv", "intervals 5/10/20")
    level_names: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        """Number of levels including level 0."""
        return len(self.rows[0]) if self.rows else 1

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        return {r[0]: r for r in self.rows}

    def validate(self, field_name: str | None = None) -> None:
        """Raise AnonError if the hierarchy is malformed or inconsistent."""
        fname = field_name or f"columns.{self.name}.hierarchy"
        if not self.rows:
            raise fail(fname, "hierarchy_empty", "階層が空です。", "the hierarchy has no rows.")
        widths = {len(r) for r in self.rows}
        if len(widths) != 1:
            bad = [r[0] for r in self.rows if len(r) != len(self.rows[0])]
            raise fail(
                fname,
                "hierarchy_ragged",
                f"階層の行ごとに段数が異なります（{sorted(widths)} 段）。該当値: {preview(bad)}",
                f"rows have different numbers of levels ({sorted(widths)}); values: {preview(bad)}",
            )
        seen: set[str] = set()
        dups = []
        for r in self.rows:
            if r[0] in seen:
                dups.append(r[0])
            seen.add(r[0])
        if dups:
            raise fail(
                fname,
                "hierarchy_duplicate_value",
                f"同じ元の値が複数行にあります: {preview(dups)}",
                f"the same original value has several rows: {preview(dups)}",
            )
        for level in range(1, self.height):
            parent: dict[str, str] = {}
            for r in self.rows:
                child, up = r[level - 1], r[level]
                if parent.setdefault(child, up) != up:
                    raise fail(
                        fname,
                        "hierarchy_inconsistent",
                        f"階層が一貫していません: 段{level - 1}の値 {child!r} が段{level}で "
                        f"{parent[child]!r} と {up!r} の二通りに一般化されます。",
                        f"inconsistent hierarchy: level-{level - 1} value {child!r} generalises to both "
                        f"{parent[child]!r} and {up!r} at level {level}.",
                    )

    def check_covers(self, values: Iterable[str], field_name: str | None = None) -> None:
        """Raise AnonError naming the values of the data that have no row."""
        known = {r[0] for r in self.rows}
        missing = sorted({v for v in values if v not in known})
        if missing:
            raise fail(
                field_name or f"columns.{self.name}.hierarchy",
                "hierarchy_uncovered",
                f"階層に含まれない値がデータにあります（{len(missing)} 種類）: {preview(missing)}",
                f"{len(missing)} value(s) in the data have no row in the hierarchy: {preview(missing)}",
                details={"missing": missing[:100]},
            )


# --------------------------------------------------------------------------------------------- loading


def read_hierarchy_csv(path: Path, name: str, separator: str = ";", encoding: str = "utf-8") -> Hierarchy:
    """Read an ARX-style hierarchy file (no header, one row per value, `;` by default)."""
    fname = f"columns.{name}.hierarchy"
    if not path.is_file():
        raise fail(fname, "file_not_found", f"階層ファイルがありません: {path}", f"hierarchy file not found: {path}")
    text = path.read_bytes().decode(encoding)
    rows = [tuple(c.strip() for c in r) for r in csv.reader(io.StringIO(text), delimiter=separator) if r]
    h = Hierarchy(name, rows, source=f"file {path.name}")
    h.validate(fname)
    return h


# --------------------------------------------------------------------------------------------- builders


def _num(text: str) -> float | None:
    try:
        return float(unicodedata.normalize("NFKC", text).replace(",", ""))
    except ValueError:
        return None


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def build_intervals(name: str, values: Iterable[str], spec: dict[str, Any]) -> Hierarchy:
    """Numbers to bands of growing width: widths [5, 10, 20] → `35-39`, `30-39`, `20-39`, then `*`.

    spec: start (lower edge of the first band, default 0), widths (each a multiple of the previous),
    optional `min`/`max` (values outside are an error), `top` (label of the last level, default `*`).
    """
    fname = f"columns.{name}.hierarchy"
    widths = spec.get("widths")
    if not isinstance(widths, list) or not widths or not all(isinstance(w, (int, float)) and w > 0 for w in widths):
        raise fail(fname + ".widths", "intervals_widths", "幅 widths は正の数の一覧で指定してください。",
                   "widths must be a list of positive numbers.")
    for a, b in zip(widths, widths[1:]):
        if b < a or not math.isclose(b / a, round(b / a)):
            raise fail(fname + ".widths", "hierarchy_inconsistent",
                       f"幅 {b} が直前の幅 {a} の倍数でないため、区間が入れ子になりません。",
                       f"width {b} is not a multiple of the previous width {a}, so bands do not nest.")
    start = float(spec.get("start", 0))
    lo, hi = spec.get("min"), spec.get("max")
    integer = spec.get("integer", True)
    top = str(spec.get("top", TOP))
    rows = []
    bad = []
    for v in sorted(set(values), key=lambda s: (_num(s) is None, _num(s) or 0, s)):
        x = _num(v)
        if x is None or (lo is not None and x < lo) or (hi is not None and x > hi) or x < start:
            bad.append(v)
            continue
        row = [v]
        for w in widths:
            low = start + math.floor((x - start) / w) * w
            up = low + w - (1 if integer else 0)
            row.append(f"{_fmt(low)}-{_fmt(up)}" if integer else f"[{_fmt(low)}, {_fmt(low + w)})")
        row.append(top)
        rows.append(tuple(row))
    if bad:
        raise fail(fname, "hierarchy_uncovered",
                   f"区間の範囲外または数値でない値があります: {preview(bad)}",
                   f"values outside the interval range or not numeric: {preview(bad)}")
    names = [f"{_fmt(w)}刻み" for w in widths]
    return Hierarchy(name, rows, source="intervals " + "/".join(_fmt(w) for w in widths),
                     level_names=["値", *names, "全て"])


_DATE_LEVELS = {"day", "month", "year", "fiscal_year"}


def _parse_date(text: str, fmt: str | None) -> _dt.date | None:
    t = unicodedata.normalize("NFKC", text).strip()
    if fmt:
        try:
            return _dt.datetime.strptime(t, fmt).date()
        except ValueError:
            return None
    for f in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y年%m月%d日"):
        try:
            return _dt.datetime.strptime(t, f).date()
        except ValueError:
            continue
    return None


def build_dates(name: str, values: Iterable[str], spec: dict[str, Any]) -> Hierarchy:
    """Dates to month / year / 年度 (fiscal year from April, or spec `fiscal_start_month`), then `*`.

    spec: levels (ordered list from fine to coarse, of `month`, `year`, `fiscal_year`), format (strptime).
    Levels that do not nest (year then fiscal_year) are rejected as inconsistent.
    """
    fname = f"columns.{name}.hierarchy"
    levels = spec.get("levels", ["month", "year"])
    if not isinstance(levels, list) or not levels or any(lv not in _DATE_LEVELS for lv in levels):
        raise fail(fname + ".levels", "date_levels",
                   f"levels は {sorted(_DATE_LEVELS)} から選んで並べてください。",
                   f"levels must be a list drawn from {sorted(_DATE_LEVELS)}.")
    for a, b in zip(levels, levels[1:]):
        if (a, b) in {("year", "fiscal_year"), ("fiscal_year", "year"), ("year", "month"), ("fiscal_year", "month")} or a == b:
            raise fail(fname + ".levels", "hierarchy_inconsistent",
                       f"段 {a} から {b} へは入れ子にならないため一般化できません（例: 暦年と年度は境界が異なる）。",
                       f"level {a} does not nest into {b} (e.g. calendar and fiscal years have different bounds).")
    fy_start = int(spec.get("fiscal_start_month", 4))
    fmt = spec.get("format")
    rows, bad = [], []
    for v in sorted(set(values)):
        d = _parse_date(v, fmt)
        if d is None:
            bad.append(v)
            continue
        row = [v]
        for lv in levels:
            if lv == "day":
                row.append(d.isoformat())
            elif lv == "month":
                row.append(f"{d.year:04d}-{d.month:02d}")
            elif lv == "year":
                row.append(f"{d.year:04d}")
            else:
                fy = d.year if d.month >= fy_start else d.year - 1
                row.append(f"{fy:04d}年度")
        row.append(str(spec.get("top", TOP)))
        rows.append(tuple(row))
    if bad:
        raise fail(fname, "hierarchy_uncovered", f"日付として読めない値があります: {preview(bad)}",
                   f"values that are not dates: {preview(bad)}")
    label = {"day": "日", "month": "月", "year": "年", "fiscal_year": "年度"}
    return Hierarchy(name, rows, source="date " + "/".join(levels), level_names=["値", *[label[x] for x in levels], "全て"])


def build_mask(name: str, values: Iterable[str], spec: dict[str, Any]) -> Hierarchy:
    """Mask characters from the right: levels [1, 2, 3] → `123456*`, `12345**`, `1234***`, then `*`."""
    fname = f"columns.{name}.hierarchy"
    levels = spec.get("levels", [1, 2, 3])
    if not isinstance(levels, list) or not levels or not all(isinstance(n, int) and n > 0 for n in levels) or levels != sorted(set(levels)):
        raise fail(fname + ".levels", "mask_levels", "levels は増加する正の整数の一覧で指定してください。",
                   "levels must be a strictly increasing list of positive integers.")
    char = str(spec.get("char", "*"))
    rows = []
    for v in sorted(set(values)):
        row = [v]
        for n in levels:
            keep = max(len(v) - n, 0)
            row.append(v[:keep] + char * (len(v) - keep))
        row.append(str(spec.get("top", TOP)))
        rows.append(tuple(row))
    # Masking can merge values of different lengths into the same label only if lengths differ: fine, still a tree.
    return Hierarchy(name, rows, source="mask " + "/".join(map(str, levels)),
                     level_names=["値", *[f"下{n}桁" for n in levels], "全て"])


_PREF_RE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)")


def _address_index():
    from kiban.orgs.source import CITY_WARD, MINISTRY, PREFECTURE, load_bodies  # registry, pure Python

    bodies = [b for b in load_bodies() if b.kind != MINISTRY]
    by_code = {b.code: b for b in bodies}
    prefs = {b.code: b.name for b in bodies if b.kind == PREFECTURE}
    muni = {}  # (pref name, municipality name) -> municipality label; wards map to their city
    for b in bodies:
        if b.kind == PREFECTURE:
            continue
        pref = prefs.get(b.prefecture_code or "", "")
        city = by_code.get(b.parent_code or "") if b.kind == CITY_WARD else b
        label = pref + (city.name if city else b.name)
        muni[(pref, b.name)] = label
        if b.county:
            muni[(pref, b.county + b.name)] = label
    return by_code, prefs, muni


def build_address(name: str, values: Iterable[str], spec: dict[str, Any]) -> Hierarchy:
    """住所 (or 5/6-digit 全国地方公共団体コード) → 市区町村 → 都道府県 → `*`, from the registry of bodies.

    Addresses must start with the prefecture and the municipality (`東京都千代田区霞が関1-2-1`); a 政令指定都市's
    wards generalise to the city. Values that cannot be placed are an error listing them.
    """
    from kiban.orgs.source import CITY_WARD, PREFECTURE, normalize_code

    fname = f"columns.{name}.hierarchy"
    by_code, prefs, muni = _address_index()
    pref_names = set(prefs.values())
    rows, bad = [], []
    for v in sorted(set(values)):
        t = unicodedata.normalize("NFKC", v).strip().replace(" ", "").replace("　", "")
        city_label = pref = None
        if t.isdigit() and len(t) in (5, 6):
            try:
                b = by_code.get(normalize_code(t))
            except Exception:  # noqa: BLE001 - invalid code is reported as uncovered below
                b = None
            if b is not None and b.kind != PREFECTURE:
                pref = prefs.get(b.prefecture_code or "")
                city = by_code.get(b.parent_code or "") if b.kind == CITY_WARD else b
                city_label = (pref or "") + city.name
            elif b is not None:
                pref = b.name
        else:
            m = _PREF_RE.match(t)
            if m and m.group(1) in pref_names:
                pref = m.group(1)
                rest = t[len(pref):]
                for n in range(min(len(rest), 12), 0, -1):
                    label = muni.get((pref, rest[:n]))
                    if label:
                        city_label = label
                        break
        if pref is None or (city_label is None and spec.get("require_municipality", True)):
            bad.append(v)
            continue
        rows.append((v, city_label or pref, pref, str(spec.get("top", TOP))))
    if bad:
        raise fail(fname, "hierarchy_uncovered",
                   f"都道府県・市区町村を特定できない住所・コードがあります: {preview(bad)}",
                   f"addresses or codes whose prefecture/municipality cannot be determined: {preview(bad)}")
    return Hierarchy(name, rows, source="address (registry)", level_names=["値", "市区町村", "都道府県", "全て"])


BUILDERS = {"intervals": build_intervals, "date": build_dates, "mask": build_mask, "address": build_address}


def build(name: str, values: Iterable[str], spec: dict[str, Any]) -> Hierarchy:
    builder = spec.get("builder")
    if builder not in BUILDERS:
        raise fail(f"columns.{name}.hierarchy.builder", "unknown_builder",
                   f"未知の階層ビルダー {builder!r} です（{', '.join(BUILDERS)} のいずれか）。",
                   f"unknown hierarchy builder {builder!r} (one of {', '.join(BUILDERS)}).")
    h = BUILDERS[builder](name, values, spec)
    h.validate(f"columns.{name}.hierarchy")
    return h


def flat(name: str, values: Iterable[str]) -> Hierarchy:
    """The trivial two-level hierarchy value → `*` (used when a QI has no hierarchy given)."""
    return Hierarchy(name, [(v, TOP) for v in sorted(set(values))], source="value/*")

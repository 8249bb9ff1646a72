"""Agreement with peers' own test expectations (../shared/eval/address/cases.jsonl), per source and field.

Each source is scored against its own conventions (see the eval README):
- fields compared: pref, city, town, lg_code (abr only), rest, level; a field is skipped when the source
  leaves it null (not asserted) — for geolonia main.test.ts only `meta.asserted` fields count;
- `rest`: ours is `rest` + `building` (the peers keep trailing text in their rest/other); spaces removed;
- `level`: mapped to our 0–4 scale. Our 4 means "town + a house number follows"; the peers' levels above
  the town say whether *their* registry resolved that number, so a peer level of 町字 with a rest that
  starts with a digit is counted as our 4:
  abr MatchLevel −1/0→0, 1→1, 2→2, 3/4→3 (4 if rest starts with a digit), 5–7→4;
  geolonia v3 0–3 as is (3→4 when rest starts with a digit), 8→4; v2 (0–3): 3 → 3 or 4 likewise;
- `folded`: the same comparison after folding ヶ/ケ/が and variant kanji (the sources disagree on those);
- records called with a maximum level (`meta.options.level`) are skipped: they truncate on purpose.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from kiban.engines.address.normalizer import Normalizer
from kiban.engines.address.text import fold

FIELDS = ("pref", "city", "town", "lg_code", "rest", "level")


def source_name(record: dict) -> str:
    src = record["source"]
    if src.startswith("digital-go-jp/abr-geocoder"):
        return "abr-geocoder"
    if record["meta"].get("legacy_v2"):
        return "geolonia-v2"
    if "addresses.csv" in src:
        return "geolonia-v3-csv"
    return "geolonia-v3-main"


def expected_level(record: dict) -> int | None:
    exp = record["expect"]
    level = exp.get("level")
    if level is None:
        return None
    rest = (exp.get("rest") or "").strip()
    digit_rest = rest[:1].isdigit()
    if source_name(record) == "abr-geocoder":
        if level <= 0:
            return 0
        if level in (1, 2):
            return level
        if level in (3, 4):
            return 4 if digit_rest else 3
        return 4
    if level == 8:
        return 4
    if level == 3:
        return 4 if digit_rest else 3
    return level


def _ours(res, name: str):
    if name == "rest":
        return (res.rest + res.building).replace(" ", "")
    return getattr(res, name)


def _theirs(record: dict, name: str):
    if name == "level":
        return expected_level(record)
    value = record["expect"].get(name)
    if name == "rest" and value is not None:
        koaza = record["expect"].get("koaza")
        if koaza and not _is_street(koaza):  # abr keeps 小字 apart; ours stays in rest
            value = koaza + value
        return value.replace(" ", "")
    return value


def _checked(record: dict, name: str) -> bool:
    meta = record["meta"]
    asserted = meta.get("asserted")
    exp = record["expect"]
    if asserted is not None and source_name(record) != "geolonia-v3-csv":
        mapping = {"rest": ("addr", "other"), "lg_code": ("lg_code",)}
        if not any(a in asserted for a in mapping.get(name, (name,))):
            return False
    if name == "lg_code" and exp.get("lg_code") is None:
        return False
    if name == "level":
        return exp.get("level") is not None
    if name in ("pref", "city") and exp.get(name) is None and source_name(record) != "abr-geocoder":
        return False
    return True


def _is_street(text: str) -> bool:
    return any(mark in text for mark in ("上る", "下る", "入る", "東入", "西入", "上ル", "下ル", "入ル"))


def load_cases(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def agreement(cases: list[dict]) -> dict[str, dict]:
    """Per source: {records, fields: {field: (agree, checked, agree_folded)}, levels: {exp: (agree, n)}, misses}."""
    normalize = Normalizer()
    out: dict[str, dict] = {}
    for record in cases:
        if record["meta"].get("options"):
            continue
        src = source_name(record)
        stats = out.setdefault(
            src,
            {
                "records": 0,
                "fields": defaultdict(lambda: [0, 0, 0]),
                "levels": defaultdict(lambda: [0, 0]),
                "all": [0, 0],
                "misses": [],
            },
        )
        stats["records"] += 1
        res = normalize(record["input"])
        all_ok = True
        for name in FIELDS:
            if not _checked(record, name):
                continue
            mine, theirs = _ours(res, name), _theirs(record, name)
            cell = stats["fields"][name]
            cell[1] += 1
            ok = mine == theirs
            cell[0] += ok
            folded = ok or (isinstance(mine, str) and isinstance(theirs, str) and fold(mine) == fold(theirs))
            cell[2] += folded
            if name == "level":
                stats["levels"][theirs][1] += 1
                stats["levels"][theirs][0] += ok
            if not folded:
                all_ok = False
                if len(stats["misses"]) < 400:
                    stats["misses"].append((record["input"], name, mine, theirs))
        stats["all"][1] += 1
        stats["all"][0] += all_ok
    return out


def report(stats: dict[str, dict]) -> str:
    lines = []
    for src, st in sorted(stats.items()):
        lines.append(
            f"{src}: {st['records']} records, all checked fields agree (folded) on "
            f"{st['all'][0]}/{st['all'][1]} = {st['all'][0] / max(1, st['all'][1]):.1%}"
        )
        for name in FIELDS:
            if name in st["fields"]:
                a, n, f = st["fields"][name]
                lines.append(f"  {name:8s} exact {a}/{n} = {a / max(1, n):.1%}   folded {f / max(1, n):.1%}")
        lv = ", ".join(
            f"L{k}: {a}/{n}" for k, (a, n) in sorted(st["levels"].items(), key=lambda x: (x[0] is None, x[0]))
        )
        lines.append(f"  level by expected level: {lv}")
    return "\n".join(lines)

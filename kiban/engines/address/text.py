"""Text primitives of address normalisation (住所文字列の正規化): widths, variant kanji, numerals.

Everything here is a pure function on strings, used on both sides: to build the index keys from the
KEN_ALL names and to read the user's input, so that both meet in the same *matching key* (照合キー).
The key is only for lookup; what we output is always the spelling of the data.

Design notes (why):
- `prepare()` is NFKC (全角英数→半角, 半角カナ→全角, NFKD 濁点の合成) plus whitespace rules; it is C speed.
- `fold()` maps variant characters one to one (ヶ/ケ/が → ケ, 澤 → 沢 …) with `str.translate`, so the folded
  text keeps the positions of the prepared text.
- Kanji numerals are turned into digits only before a counter (丁目, 条, 線, 地割, 番町 …) in keys, and only in
  the house-number part of an input; names such as 千種区, 九十九里町 or 四日市市 are never touched
  because no counter follows them.
"""

from __future__ import annotations

import re
import unicodedata

MAX_INPUT_CHARS = 256  # longer inputs are cut: no real address is longer; keeps every call bounded

# --- characters -----------------------------------------------------------------------------------------

# 異体字・旧字体 → the form used for matching (one character to one character, both sides).
_VARIANTS = {
    "ヶ": "ケ",
    "ヵ": "ケ",
    "が": "ケ",
    "ガ": "ケ",
    "ゖ": "ケ",
    "ゕ": "ケ",
    "ノ": "の",
    "ツ": "つ",
    "龍": "竜",
    "澤": "沢",
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "碕": "崎",
    "檜": "桧",
    "邊": "辺",
    "邉": "辺",
    "齋": "斎",
    "齊": "斉",
    "亞": "亜",
    "麩": "麸",
    "驒": "騨",
    "冝": "宜",
    "榮": "栄",
    "國": "国",
    "廣": "広",
    "櫻": "桜",
    "濱": "浜",
    "濵": "浜",
    "眞": "真",
    "惠": "恵",
    "德": "徳",
    "黑": "黒",
    "瀨": "瀬",
    "曾": "曽",
    "舘": "館",
    "嶋": "島",
    "嶌": "島",
    "莵": "菟",
    "籠": "篭",
    "蘆": "芦",
    "鄕": "郷",
    "條": "条",
    "藪": "薮",
    "淵": "渕",
    "槇": "槙",
    "增": "増",
    "兒": "児",
    "峯": "峰",
    "巖": "巌",
    "嶽": "岳",
    "當": "当",
    "寶": "宝",
    "靜": "静",
    "團": "団",
    "淸": "清",
    "鐵": "鉄",
    "驛": "駅",
    "縣": "県",
    "與": "与",
    "舊": "旧",
    "會": "会",
    "實": "実",
    "壽": "寿",
    "燈": "灯",
    "狹": "狭",
    "穗": "穂",
    "邨": "村",
    "冨": "富",
    "栁": "柳",
    "鷄": "鶏",
    "鹽": "塩",
    "灣": "湾",
    "禮": "礼",
    "薗": "園",
    "敎": "教",
    "圓": "円",
    "豐": "豊",
    "檮": "梼",
    "杦": "杉",
    "峽": "峡",
    "巿": "市",
    "ゑ": "え",
    "ゐ": "い",
    "ヱ": "エ",
    "ヰ": "イ",
}
_FOLD = str.maketrans({k: v for k, v in _VARIANTS.items() if k != v})

# Hyphen-like characters people type between numbers (after NFKC: ｰ→ー, －→-, ～→~).
HYPHENS = "-‐‑‒–—―−ー─━〜~⁃﹣"
_HYPHEN_CLASS = re.escape(HYPHENS)

_KANJI_DIGITS = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "一": 1,
    "壱": 1,
    "壹": 1,
    "二": 2,
    "弐": 2,
    "貳": 2,
    "三": 3,
    "参": 3,
    "參": 3,
    "四": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_UNITS = {"十": 10, "拾": 10, "百": 100, "千": 1000}
KANJI_NUM_CHARS = "".join(_KANJI_DIGITS) + "".join(_KANJI_UNITS)
_KANJI_NUM_RE = f"[{KANJI_NUM_CHARS}]+"

# Counters after which a number is a number (in names of towns too: 霞が関二丁目, 北一条, 第二地割, 十一番町).
COUNTERS = ("丁目", "町目", "丁", "条", "線", "地割", "番町", "番丁", "番地", "番", "号", "区")
_COUNTER_RE = "丁目|町目|丁|条|線|地割|番町|番丁|の町"
_KEY_NUM_RE = re.compile(rf"({_KANJI_NUM_RE}|[0-9]+)(?=(?:{_COUNTER_RE}))")
_CHOME_TYPO_RE = re.compile(r"(?<=[0-9])町目")  # 一町目 written for 一丁目 (上尾市壱丁目)
_CONTROL_RE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff0-\uffff]"
)
_SPACE_RE = re.compile(r"\s+")


def kanji_to_int(text: str) -> int | None:
    """漢数字 → int: 二十四 → 24, 一〇五 → 105, 壱 → 1, 千二百 → 1200. None when not a numeral."""
    if not text:
        return None
    if all(ch in _KANJI_DIGITS for ch in text):  # positional: 一〇五
        value = 0
        for ch in text:
            value = value * 10 + _KANJI_DIGITS[ch]
        return value
    # unit form: 二十四, 千二百, 百五; a digit run before a unit must be one digit (三五十 is a name, not 350).
    # A positional run may close it when it fits below the last unit: 千二三四 = 1234, 千二百三四 = 1234.
    total, current, digits, last_unit = 0, 0, 0, 10**9
    for ch in text:
        if ch in _KANJI_DIGITS:
            digits += 1
            current = current * 10 + _KANJI_DIGITS[ch]
        elif ch in _KANJI_UNITS:
            unit = _KANJI_UNITS[ch]
            if unit >= last_unit or digits > 1:
                return None  # 十百, 三五十: not a numeral
            total += (current or 1) * unit
            current, digits, last_unit = 0, 0, unit
        else:
            return None
    if digits > 1 and 10**digits > last_unit:
        return None
    return total + current


def number_value(text: str) -> int | None:
    """Arabic (ASCII) or kanji numeral → int."""
    if text.isascii() and text.isdigit():
        return int(text)
    return kanji_to_int(text)


_KANJI_OUT = "〇一二三四五六七八九"


def int_to_kanji(n: int) -> str:
    """int → 漢数字 as the data writes 丁目: 1 → 一, 10 → 十, 21 → 二十一, 105 → 百五."""
    if n <= 0:
        return "〇"
    out = []
    for unit, ch in ((1000, "千"), (100, "百"), (10, "十")):
        q, n = divmod(n, unit)
        if q:
            out.append(("" if q == 1 else _KANJI_OUT[q]) + ch)
    if n:
        out.append(_KANJI_OUT[n])
    return "".join(out)


def prepare(text: str) -> str:
    """Input cleaning common to everything: NFKC, no control characters, each run of whitespace (newlines
    included) as one space. Spaces are kept because they separate a house number from a building
    (三番地四 霞ビル); the matcher skips them between prefecture, municipality and town."""
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL_RE.sub("", text)
    return _SPACE_RE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Variant characters → matching form, one to one (positions are kept)."""
    return text.translate(_FOLD)


def _num_key(m: re.Match) -> str:
    value = number_value(m.group(1))
    return m.group(1) if value is None else str(value)


def key(name: str) -> str:
    """Matching key of a name from the data (or of an input fragment): prepared, folded, numerals as digits
    before counters, no spaces, 町目 read as 丁目."""
    k = fold(prepare(name)).replace(" ", "")
    k = _KEY_NUM_RE.sub(_num_key, k)
    return _CHOME_TYPO_RE.sub("丁目", k) if "町目" in k else k


def keyed_with_map(folded: str) -> tuple[str, list[int] | None]:
    """Like `key()` on already prepared+folded input, also returning the map key position → input position
    (None when identity), so that a match in the key can be cut from the input text."""
    if not _KEY_NUM_RE.search(folded) and "町目" not in folded:
        return folded, None
    out: list[str] = []
    pos: list[int] = []
    last = 0
    for m in _KEY_NUM_RE.finditer(folded):
        out.append(folded[last : m.start()])
        pos.extend(range(last, m.start()))
        rep = _num_key(m)
        out.append(rep)
        # every character of the replacement maps to the start of the numeral; its end maps to its end
        pos.extend([m.start()] * len(rep))
        last = m.end()
    out.append(folded[last:])
    pos.extend(range(last, len(folded)))
    text = "".join(out)
    if "町目" in text:  # same length replacement keeps the map
        text = _CHOME_TYPO_RE.sub("丁目", text)
    pos.append(len(folded))
    return text, pos

"""機種依存文字 (platform-dependent characters, L1-08) and their standard replacements.

A character is 機種依存 when Windows' CP932 has it but JIS X 0208 (Shift_JIS) does not: the NEC special
characters (①, Ⅲ, ㈱, ㎡, ㍻ …) and the NEC/IBM extended kanji (髙, 﨑, 德 …). The replacement is NFKC where
NFKC gives the customary form (㈱→(株), ㎡→m2, Ⅲ→III), a bracketed number for circled digits (①→(1)), and
the JIS X 0208 form for the extended kanji.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

KANJI_REPLACEMENTS = {
    "髙": "高", "﨑": "崎", "德": "徳", "隆": "隆", "﨔": "欅", "塚": "塚", "琢": "琢", "晴": "晴", "凞": "熙",
    "神": "神", "福": "福", "羽": "羽", "增": "増", "寬": "寛", "黑": "黒", "敎": "教", "淸": "清", "靖": "靖",
    "精": "精", "逸": "逸", "都": "都", "猪": "猪", "諸": "諸", "館": "館", "朗": "朗", "橫": "横", "瀨": "瀬",
    "濵": "浜", "栁": "柳", "彅": "なぎ", "鄧": "鄧", "昻": "昂", "曻": "昇", "鍈": "鍈",
}


@lru_cache(maxsize=1)
def dependent_chars() -> frozenset[str]:
    """Every character in CP932 that is not in JIS X 0208 (Shift_JIS)."""
    out = set()
    for lead in list(range(0x81, 0xA0)) + list(range(0xE0, 0xFD)):
        for trail in list(range(0x40, 0x7F)) + list(range(0x80, 0xFD)):
            try:
                ch = bytes((lead, trail)).decode("cp932")
            except UnicodeDecodeError:
                continue
            try:
                ch.encode("shift_jis")
            except UnicodeEncodeError:
                if ch not in "～∥－￠￡￢":  # wave dash & co. differ only in mapping, not in the font
                    out.add(ch)
    # characters outside CP932 that are also platform-dependent in practice
    out.update("㋿㍻㍼㍽㍾№℡™")
    return frozenset(out)


@lru_cache(maxsize=1)
def dependent_re() -> re.Pattern:
    return re.compile("[" + re.escape("".join(sorted(dependent_chars()))) + "]")


def dependent_regex_source() -> str:
    """The character class as a regex source string (for Polars str.contains)."""
    chars = "".join(sorted(dependent_chars()))
    return "[" + "".join("\\" + c if c in "\\^-[]" else c for c in chars) + "]"


def replacement(ch: str) -> str:
    """Standard replacement of one platform-dependent character: ①→(1), ㈱→(株), ㎡→m2, Ⅲ→III, 髙→高."""
    if ch in KANJI_REPLACEMENTS:
        return KANJI_REPLACEMENTS[ch]
    name = unicodedata.name(ch, "")
    if name.startswith(("CIRCLED DIGIT", "CIRCLED NUMBER")):
        return f"({unicodedata.normalize('NFKC', ch)})"
    norm = unicodedata.normalize("NFKC", ch)
    if norm != ch:
        return norm
    return ch


@lru_cache(maxsize=1)
def _translation() -> dict[int, str]:
    return {ord(ch): replacement(ch) for ch in dependent_chars()}


def replace_dependent(text: str) -> str:
    """Replace every platform-dependent character in `text` (a set test first: most text has none)."""
    if dependent_chars().isdisjoint(text):
        return text
    return text.translate(_translation())


def find_dependent(text: str) -> list[str]:
    deps = dependent_chars()
    return [ch for ch in text if ch in deps]

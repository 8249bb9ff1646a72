"""Property-based tests (hypothesis): idempotence, and every spelling of a valid KEN_ALL town agrees.

The towns are drawn from the built index (the data), with the same filter as make_table.py: plain names
(kana/kanji only, no digits, not ending in a kanji numeral, not starting with 大字/字).
"""

from __future__ import annotations

import re

import jaconv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiban.engines.address import load_index, normalize
from kiban.engines.address.text import int_to_kanji

PLAIN = re.compile(r"^[\u3041-\u309f\u30a1-\u30ff\u4e00-\u9fff々ヶ]{2,}$")
NUMERAL_END = re.compile("[一二三四五六七八九十〇百千]$")
FIELDS = ("pref", "city", "town", "rest", "building", "lg_code", "level")


def _towns() -> list[tuple[str, str, str, bool]]:
    idx = load_index()
    by_city: dict[str, list[str]] = {}
    for code6, name, *_ in idx.towns:
        by_city.setdefault(code6, []).append(name)
    out = []
    for i, (code6, name, _kana, chome, _p) in enumerate(idx.towns):
        if i % 97 or not PLAIN.match(name) or NUMERAL_END.search(name) or name.startswith(("大字", "字")):
            continue
        if any(o != name and o.startswith(name) for o in by_city[code6]):
            continue
        p2 = idx.bodies[code6][4]
        out.append((idx.prefs[p2][0], idx.bodies[code6][0], name, chome))
    return out


TOWNS = _towns()
HYPHENS = ["-", "－", "ー", "−", "‐", "ｰ"]


def _num(draw, n: int) -> str:
    style = draw(st.sampled_from(["arabic", "full", "kanji"]))
    if style == "arabic":
        return str(n)
    if style == "full":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return int_to_kanji(n)


@st.composite
def spelled(draw):
    pref, city, town, chome = draw(st.sampled_from(TOWNS))
    c, b, g = draw(st.integers(1, 9)), draw(st.integers(1, 60)), draw(st.integers(1, 40))
    canonical = f"{pref}{city}{town}" + (f"{c}丁目" if chome else "") + f"{b}番{g}号"
    parts = [pref, draw(st.sampled_from(["", " ", "　"])), city, town]
    if chome:
        parts.append(_num(draw, c) + "丁目")
    sep = draw(st.sampled_from(["hyphen", "banchi", "no"]))
    if sep == "hyphen":
        h = draw(st.sampled_from(HYPHENS))
        parts.append(_num(draw, b) + h + _num(draw, g))
    elif sep == "banchi":
        parts.append(
            _num(draw, b)
            + draw(st.sampled_from(["番", "番地"]))
            + _num(draw, g)
            + draw(st.sampled_from(["号", ""]))
        )
    else:
        parts.append(_num(draw, b) + draw(st.sampled_from(["の", "ノ"])) + _num(draw, g))
    text = "".join(parts)
    if draw(st.booleans()):  # katakana and ASCII to half width, digits to full width, or the reverse
        text = jaconv.z2h(text, kana=True, ascii=True, digit=False)
    return canonical, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spelled())
def test_any_spelling_of_a_town_normalises_to_the_same_result(case):
    canonical, text = case
    want = normalize(canonical)
    got = normalize(text)
    assert want.level == 4, want.as_dict()
    assert {f: getattr(got, f) for f in FIELDS} == {f: getattr(want, f) for f in FIELDS}, (
        text,
        got.as_dict(),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spelled())
def test_normalising_a_normalised_address_returns_it_unchanged(case):
    _canonical, text = case
    first = normalize(text)
    second = normalize(first.address)
    assert second.address == first.address
    assert {f: getattr(second, f) for f in FIELDS} == {f: getattr(first, f) for f in FIELDS}


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(TOWNS), st.text(alphabet="0123456789-丁目番地号の ", max_size=12))
def test_idempotent_on_arbitrary_tails(town, tail):
    pref, city, name, _chome = town
    first = normalize(f"{pref}{city}{name}{tail}")
    second = normalize(first.address)
    assert second.address == first.address
    assert (second.pref, second.city, second.town, second.lg_code) == (
        first.pref,
        first.city,
        first.town,
        first.lg_code,
    )


def test_idempotent_on_every_short_tail():
    """Exhaustive companion of the hypothesis test: every tail of ≤ 3 symbols after a 丁目 town and a plain
    town (hypothesis found several classes here: a lone number, 1号0, 0-の0, の 1, 十十)."""
    import itertools

    alphabet = "01-丁目番号の 一十亥A"
    for town in ("北海道札幌市中央区旭ケ丘", "東京都千代田区紀尾井町"):
        for n in range(1, 4):
            for tail in itertools.product(alphabet, repeat=n):
                first = normalize(town + "".join(tail))
                assert normalize(first.address).address == first.address, (town, tail, first.address)

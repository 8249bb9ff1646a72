"""Value normalisers: 和暦 ↔ 西暦 across era boundaries, kanji numerals, full-width forms, symbols; and the
vectorised Polars pass agrees with the scalar functions."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.engines.tidy.chars import replace_dependent
from kiban.engines.tidy.normalize import (
    build_symbols,
    int_to_kanji,
    kanji_to_int,
    legend_from_notes,
    normalize_series,
    parse_date,
    parse_wareki,
    squash_spaces,
    to_number,
    to_wareki,
)

ZEN = str.maketrans("0123456789,.-", "０１２３４５６７８９，．－")


def test_era_boundaries():
    assert parse_wareki("平成31年4月30日").iso == "2019-04-30"
    assert parse_wareki("令和元年5月1日").iso == "2019-05-01"
    assert parse_wareki("令和1年5月1日").iso == "2019-05-01"
    assert parse_wareki("昭和64年1月7日").iso == "1989-01-07"
    assert parse_wareki("平成元年1月8日").iso == "1989-01-08"
    # the day before an era starts, or after it ended, does not exist in that era
    assert parse_wareki("平成31年5月1日").kind == "invalid"
    assert parse_wareki("令和元年4月30日").kind == "invalid"
    assert parse_wareki("昭和64年1月8日").kind == "invalid"
    assert parse_wareki("令和22年").kind == "invalid"  # in the future
    assert to_wareki(dt.date(2019, 4, 30)) == "平成31年4月30日"
    assert to_wareki(dt.date(2019, 5, 1)) == "令和元年5月1日"


def test_short_and_fiscal_forms():
    assert parse_wareki("R7.4.1").iso == "2025-04-01"
    assert parse_wareki("H31.4.30").iso == "2019-04-30"
    assert parse_wareki("令和２年").iso == "2020"  # full-width digit
    p = parse_wareki("令和元年度")
    assert (p.iso, p.kind) == ("2019", "fiscal_year")
    p = parse_wareki("平成29年（2017年）")
    assert p.iso == "2017" and p.has_seireki
    assert parse_wareki("平成29年（2018年）").kind == "invalid"  # the two years disagree
    assert parse_date("2019年5月").iso == "2019-05"
    assert parse_date("東京都") is None


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1926, 12, 25), max_value=dt.date(2026, 12, 31)))
def test_wareki_round_trip(date):
    text = to_wareki(date)
    assert parse_wareki(text).iso == date.isoformat()
    assert parse_wareki(text.translate(ZEN)).iso == date.isoformat()
    assert parse_date(text).iso == date.isoformat()


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**16 - 1))
def test_kanji_numerals_round_trip(n):
    assert kanji_to_int(int_to_kanji(n)) == n


def test_kanji_examples():
    assert kanji_to_int("千二百三十四") == 1234
    assert kanji_to_int("二〇二五") == 2025
    assert kanji_to_int("3万5千") == 35000
    assert kanji_to_int("十") == 10
    assert kanji_to_int("東京") is None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-10**12, max_value=10**12), st.booleans(), st.booleans())
def test_full_width_numbers(n, zenkaku, triangle):
    text = f"{abs(n):,}"
    if zenkaku:
        text = text.translate(ZEN)
    text = ("△" if triangle and n < 0 else ("-" if n < 0 else "")) + text
    assert to_number(text).value == n
    # the vectorised pass agrees
    out = normalize_series(pl.Series([text]), None, build_symbols())
    assert out["value"][0] == n


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.integers(-10**9, 10**9).map(lambda n: f"{n:,}".translate(ZEN)),
    st.integers(0, 10**6).map(lambda n: f"△{n}"),
    st.sampled_from(["-", "…", "x", "Ｘ", "***", "1,234円", "12人", "5*", "千二百", "abc", "", " ３ "]),
), min_size=1, max_size=30))
def test_vectorised_agrees_with_scalar(cells):
    symbols = build_symbols()
    out = normalize_series(pl.Series(cells, dtype=pl.Utf8), None, symbols)
    for i, cell in enumerate(cells):
        p = to_number(cell, symbols)
        assert out["value"][i] == p.value, cell
        if p.status:
            assert out["status"][i] == p.status, cell


def test_symbols_and_units():
    assert to_number("-").status == "該当なし"
    assert to_number("…").status == "不詳"
    assert to_number("ｘ").status == "秘匿"
    p = to_number("10000円")
    assert (p.value, p.unit) == (10000, "円")
    assert to_number("△123").value == -123
    assert to_number("▲1,000").value == -1000


def test_legend_read_from_notes():
    legend = legend_from_notes(["注：「-」は該当なし、「…」は不詳、「x」は秘匿を示す。", "s: Suppressed"])
    assert legend == {"-": "該当なし", "...": "不詳", "x": "秘匿", "s": "Suppressed"}
    assert build_symbols(legend)["s"] == "Suppressed"


@pytest.mark.parametrize("raw,clean", [("東　京", "東京"), ("総　数", "総数"), (" Age  group ", "Age group"),
                                       ("北 海 道", "北海道")])
def test_layout_spaces(raw, clean):
    assert squash_spaces(raw) == clean


def test_dependent_characters():
    assert replace_dependent("①㈱㎡Ⅲ髙") == "(1)(株)m2III高"
    assert replace_dependent("東京都") == "東京都"

"""Bad input: never an exception, never a hang — level 0 or 1 with a reason, each call bounded in time."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.engines.address import AddressError, normalize

BOUND_S = 0.05  # one call; the median is ~0.04 ms

BAD = [
    "",
    "   \n\t ",
    "あ" * 10_000,
    "東京都" * 3_500,
    "1-" * 5_000,
    "丁目" * 5_000,
    "（" * 5_000,
    "【【【【【【【【【【",
    "🏠🏢🗾🎌",
    "\x00\x01\x02\x1b[31m",
    "\ud800",  # a lone surrogate
    "中央合同庁舎第2号館 10階",
    "サンシャイン60 45F",
    "1600 Amphitheatre Parkway, Mountain View, CA 94043, USA",
    "서울특별시 중구 세종대로 110",
    "Paris 75007, 5 Avenue Anatole France",
    "〒",
    "〒100-0013",
    "null",
    "0" * 10_000,
]


@pytest.mark.parametrize("text", BAD, ids=lambda s: repr(s[:20]))
def test_bad_input_gives_a_reason_quickly(text):
    started = time.perf_counter()
    res = normalize(text)
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_S, elapsed
    assert res.level <= 1
    assert res.reason
    assert res.as_dict()["input"] == text


@pytest.mark.parametrize(
    "value", [None, b"\xff\xfe\x00binary", 12345, 3.5, ["東京都"], bytearray(b"\x80\x81")]
)
def test_non_strings_do_not_raise(value):
    res = normalize(value)
    assert res.level <= 1
    assert res.reason


@pytest.mark.parametrize("tail", ["(((((((((((((((((((((((", "（" * 3000, "【中央合同庁舎", "(2-1-2"])
def test_unclosed_brackets_after_an_address_never_hang(tail):
    started = time.perf_counter()
    res = normalize("東京都千代田区霞が関" + tail)
    assert time.perf_counter() - started < BOUND_S
    assert res.town == "霞が関" and res.level == 3


def test_long_input_is_truncated_and_said_so():
    res = normalize("東京都千代田区霞が関2-1-2" + " ビル" * 5_000)
    assert res.town == "霞が関二丁目"
    assert any(c.kind == "truncated" for c in res.corrections)


def test_only_a_building_name():
    res = normalize("ジオロニアマンション 301号室")
    assert res.level == 0
    assert "見つかりません" in res.reason


def test_bad_default_body_is_a_configuration_error():
    with pytest.raises(AddressError) as err:
        normalize("北区", default_body="131171")
    assert err.value.field == "default_body" and err.value.rule == "check_digit"
    with pytest.raises(AddressError):
        normalize("北区", default_body="999990")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_and_is_bounded(text):
    started = time.perf_counter()
    res = normalize(text)
    assert time.perf_counter() - started < BOUND_S
    assert 0 <= res.level <= 4
    if res.level < 2:
        assert res.reason or res.pref


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="東京都千代田区霞が関一二三丁目番地号の-ー－（）()〒 0123456789", max_size=200))
def test_address_like_noise_never_raises_and_is_bounded(text):
    started = time.perf_counter()
    res = normalize(text)
    assert time.perf_counter() - started < BOUND_S
    assert 0 <= res.level <= 4

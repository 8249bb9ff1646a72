"""The registry's source data and its pure functions (no database): codes, check digits, search keys."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.orgs import source
from kiban.orgs.source import InvalidOrgCode


def test_check_digit_examples():
    # 全国地方公共団体コード: 札幌市 01100-2, 川崎市 14130-5, 千代田区 13101-6, 東京都 13000-1.
    assert source.check_digit("01100") == "2"
    assert source.check_digit("14130") == "5"
    assert source.check_digit("13101") == "6"
    assert source.check_digit("13000") == "1"


@given(st.text(alphabet="0123456789", min_size=5, max_size=5))
def test_five_digits_get_a_check_digit_that_validates(code5):
    six = source.normalize_code(code5)
    assert six[:5] == code5 and len(six) == 6
    assert source.is_valid_code(six)
    wrong = code5 + str((int(six[5]) + 1) % 10)
    with pytest.raises(InvalidOrgCode) as exc:
        source.normalize_code(wrong)
    assert exc.value.rule == "check_digit" and exc.value.field == "code"


def test_normalize_code_accepts_what_people_type():
    assert source.normalize_code("０１１００２") == "011002"  # 全角
    assert source.normalize_code(" 01100 ") == "011002"
    assert source.normalize_code("01100-2") == "011002"
    assert source.normalize_code("２００００１２０２０００１") == "2000012020001"  # 法人番号 in 全角


@pytest.mark.parametrize("bad", ["", "abc", "1234", "1234567", "01100a", "札幌市", "200001202000"])
def test_malformed_codes_name_the_format_rule(bad):
    with pytest.raises(InvalidOrgCode) as exc:
        source.normalize_code(bad)
    assert exc.value.rule == "format" and exc.value.field == "code"
    assert "団体コード" in exc.value.message("ja")
    assert "code" in exc.value.message("en")


def test_wrong_check_digit_message_gives_the_right_code():
    with pytest.raises(InvalidOrgCode) as exc:
        source.normalize_code("011003")
    assert exc.value.message("ja") == "団体コード 011003 の検査数字が正しくありません（正しくは 011002）"
    assert exc.value.status == 422


def test_corporate_number_check_digit():
    # 総務省 2000012020001: the brief's worked example.
    assert source.corporate_check_digit("000012020001") == "2"
    assert source.normalize_code("2000012020001") == "2000012020001"
    with pytest.raises(InvalidOrgCode) as exc:
        source.normalize_code("3000012020001")
    assert exc.value.rule == "check_digit"
    assert "法人番号" in exc.value.message("ja")


def test_every_ministry_row_has_a_valid_corporate_number():
    with (source.DATA_DIR / "ministries.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 25
    names = {r["name"] for r in rows}
    for required in ["内閣官房", "内閣府", "総務省", "法務省", "外務省", "財務省", "文部科学省", "厚生労働省",
                     "農林水産省", "経済産業省", "国土交通省", "環境省", "防衛省", "デジタル庁", "復興庁", "警察庁"]:
        assert required in names
    codes = [r["code"] for r in rows]
    assert len(set(codes)) == len(codes)
    for row in rows:
        number = row["corporate_number"]
        assert row["code"] == number, row
        assert len(number) == 13 and number.isdigit(), row
        assert number[0] == source.corporate_check_digit(number[1:]), row
        # 国の機関の法人番号: base digits 00001 + the agency number.
        assert number[1:6] == "00001", row
        assert row["kana"] and all("゠" <= ch <= "ヿ" for ch in row["kana"]), row
        assert not row["parent_code"] or row["parent_code"] in codes, row


def test_sources_give_every_body_once():
    bodies = source.load_bodies()
    kinds = Counter(b.kind for b in bodies)
    assert kinds[source.PREFECTURE] == 47
    assert sum(kinds[k] for k in source.MUNICIPAL_KINDS) == 1741
    assert kinds[source.DESIGNATED_CITY] == 20
    assert kinds[source.SPECIAL_WARD] == 23
    assert kinds[source.CITY_WARD] > 150
    codes = [b.code for b in bodies]
    assert len(set(codes)) == len(codes)
    assert all(source.is_valid_code(c) for c in codes)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("鶴ケ島", "鶴ヶ島市"),
        ("鶴が島", "鶴ヶ島市"),
        ("鶴ガ島", "鶴ヶ島市"),
        ("さいたま", "さいたま市"),
        ("ｻｲﾀﾏ", "さいたま市"),
        ("かすみがうら", "かすみがうら市"),
        ("千代田　区", "千代田区"),
    ],
)
def test_name_key_folds_what_people_type(typed, stored):
    assert source.name_key(typed) in source.name_key(stored)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("さっぽろ", "サッポロシ"), ("ｻｯﾎﾟﾛ", "サッポロシ"), ("ほつかいどう", "ホッカイドウ"), ("チヨダ ク", "チヨダク")],
)
def test_kana_key_folds_what_people_type(typed, stored):
    assert source.kana_key(typed) in source.kana_key(stored)


def test_keys_do_not_fold_unrelated_text():
    assert source.name_key("札幌") not in source.name_key("川崎市")
    assert source.kana_key("カワ") not in source.kana_key("サッポロシ")

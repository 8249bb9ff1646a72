"""The registry's source data and the check digit, without the database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiban.orgs import source


@pytest.mark.parametrize(
    "code5, expected",
    [("13101", "6"), ("01100", "2"), ("14130", "5"), ("13000", "1"), ("01000", "6")],
)
def test_check_digit_of_known_codes(code5, expected):
    # Expected values from the published 全国地方公共団体コード table (千代田区 131016, 札幌市 011002, …).
    assert source.check_digit(code5) == expected


@given(st.from_regex(r"[0-9]{5}", fullmatch=True))
def test_five_digit_codes_always_normalise_to_a_valid_six_digit_code(code5):
    code6 = source.normalize_code(code5)
    assert code6[:5] == code5 and source.is_valid_code(code6)


@given(st.from_regex(r"[0-9]{5}", fullmatch=True), st.integers(1, 9))
def test_a_changed_check_digit_is_rejected(code5, delta):
    good = source.normalize_code(code5)
    bad = good[:5] + str((int(good[5]) + delta) % 10)
    with pytest.raises(source.InvalidOrgCode) as err:
        source.normalize_code(bad)
    assert err.value.rule == "check_digit" and "検査数字" in err.value.message_ja


def test_counts_of_the_registry():
    bodies = source.load_bodies()
    kinds = [b.kind for b in bodies]
    assert kinds.count(source.PREFECTURE) == 47
    assert sum(kinds.count(k) for k in source.MUNICIPAL_KINDS) == 1741
    assert kinds.count(source.DESIGNATED_CITY) == 20
    assert kinds.count(source.SPECIAL_WARD) == 23
    assert all(source.is_valid_code(b.code) for b in bodies if b.kind != source.MINISTRY)

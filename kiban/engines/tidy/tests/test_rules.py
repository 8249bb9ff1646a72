"""Every rule the checker judges: a generated file that breaks it is reported, one that does not is not."""

from __future__ import annotations

import pytest

from kiban.engines.tidy import check, convert
from kiban.engines.tidy.rules import HUMAN, JUDGED

from .fixtures import RULE_CASES, clean


def rules_of(path) -> set[str]:
    return {f.rule for f in check(path).findings}


def test_every_judged_rule_has_a_case():
    assert set(RULE_CASES) == set(JUDGED)


def test_clean_table_has_no_finding(tmp_path):
    report = check(clean(tmp_path))
    assert report.findings == [], [f.as_dict() for f in report.findings]
    assert report.score == 100


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_rule_breaking_and_passing(rule, tmp_path):
    bad, good = RULE_CASES[rule]
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    found_bad = check(bad(tmp_path / "bad"))
    found_good = check(good(tmp_path / "good"))
    bad_rules = {f.rule for f in found_bad.findings}
    good_rules = {f.rule for f in found_good.findings}
    assert rule in bad_rules, [f.as_dict() for f in found_bad.findings]
    assert rule not in good_rules, [f.as_dict() for f in found_good.findings if f.rule == rule]
    for f in found_bad.findings:
        if f.rule == rule:
            # every finding says where, in Japanese, with a fix and a severity
            assert f.severity in ("FATAL", "CRITICAL", "MAJOR", "MINOR")
            assert f.message and f.fix
            assert any("\u3040" <= ch <= "\u9fff" for ch in f.message)
    assert found_bad.score < 100


def test_needs_human_check_is_listed(tmp_path):
    d = check(clean(tmp_path)).as_dict()
    assert {h["rule"] for h in d["needs_human_check"]} == set(HUMAN)
    assert {r["rule"] for r in d["rules_checked"]} == set(JUDGED)


def test_cell_ranges_point_at_the_problem(tmp_path):
    from .fixtures import bad_L1_09, bad_L1_11, bad_L1_12

    f = next(f for f in check(bad_L1_12(tmp_path)).findings if f.rule == "L1-12")
    assert f.ranges == ["C2:C3"] and f.sheet == "データ"
    f = next(f for f in check(bad_L1_11(tmp_path)).findings if f.rule == "L1-11")
    assert set(f.ranges) == {"E3", "E5"}
    f = next(f for f in check(bad_L1_09(tmp_path)).findings if f.rule == "L1-09")
    assert f.ranges[0] == "F2:F7" and f.count == 1


def test_dependent_characters_get_the_standard_replacement(tmp_path):
    from .fixtures import bad_L1_08

    f = next(f for f in check(bad_L1_08(tmp_path)).findings if f.rule == "L1-08")
    assert "①→(1)" in f.fix and "㈱→(株)" in f.fix


def test_number_typed_as_text_in_a_spreadsheet(tmp_path):
    from .fixtures import table, write_xlsx

    h, d = table()
    for row in d:
        row[4] = str(row[4])  # plain ASCII digits, but a text cell
    f = [f for f in check(write_xlsx(tmp_path / "t.xlsx", [h, *d])).findings if f.rule == "L2-01"]
    assert f and f[0].count == len(d) and "文字列型の数値" in f[0].message


def test_blank_rows_inside_a_table_join_it_and_are_reported(tmp_path):
    """One table cut by spacer rows is one table (L1-03 names the empty rows), not several (L1-02)."""
    from .fixtures import table, write_xlsx

    h, d = table()
    path = write_xlsx(tmp_path / "spacers.xlsx", [h, *d[:2], [], *d[2:4], [], [], *d[4:]])
    report = check(path)
    assert len(report.tables) == 1 and report.tables[0]["data_rows"] == len(d)
    rules = {f.rule: f for f in report.findings}
    assert "L1-02" not in rules
    assert rules["L1-03"].ranges == ["4:4", "7:7", "8:8"]
    conv = convert(path)
    assert next(iter(conv.frames.values())).height == len(d)
    assert conv.recipe["sheets"]["データ"]["join_blocks"] is True  # the guess is written out, to be flipped
    # a recipe can keep the blocks apart
    assert len(check(path, recipe={"join_blocks": False}).tables) == 3


def test_a_second_table_with_its_own_header_stays_apart(tmp_path):
    from .fixtures import table, write_xlsx

    h, d = table()
    path = write_xlsx(tmp_path / "two.xlsx", [h, *d, [], h, *d])
    assert len(check(path).tables) == 2
    path = write_xlsx(tmp_path / "years.xlsx", [["地域", "2019", "2020"], ["北海道", 1, 2], ["青森県", 3, 4], [],
                                                  ["地域", 2019, 2020], ["岩手県", 5, 6], ["宮城県", 7, 8]])
    assert len(check(path).tables) == 2

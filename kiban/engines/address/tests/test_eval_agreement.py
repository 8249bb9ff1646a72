"""Agreement with real peers' own test expectations (../shared/eval/address), per source and level.

Scored by kiban.engines.address.evaluation (each source against its own conventions; see that module).
The figures are printed (pytest -s) and the floors below are ones we reach, so a regression fails.
"""

from __future__ import annotations

import pytest

from kiban.core.paths import shared_path
from kiban.engines.address import evaluation

# source → field → floor (exact agreement); measured 2026-11-23 — see docs/address.md for the figures.
FLOORS = {
    "abr-geocoder": {"pref": 0.99, "city": 0.99, "lg_code": 0.99, "town": 0.86, "rest": 0.87, "level": 0.83},
    "geolonia-v3-csv": {"pref": 0.99, "city": 0.99, "town": 0.985, "rest": 0.99, "level": 0.99},
    "geolonia-v3-main": {"pref": 0.99, "city": 0.99, "town": 0.45, "rest": 0.60, "level": 0.85},
    "geolonia-v2": {"pref": 0.99, "city": 0.99, "town": 0.65, "rest": 0.75, "level": 0.85},
}


@pytest.fixture(scope="module")
def stats():
    path = shared_path("eval", "address", "cases.jsonl")
    if path is None:
        pytest.skip(
            "../shared/eval/address/cases.jsonl is absent (KIBAN_SHARED_DIR): no peer expectations to compare"
        )
    return evaluation.agreement(evaluation.load_cases(path))


def test_agreement_per_source_and_field(stats, capsys):
    with capsys.disabled():
        print("\n" + evaluation.report(stats))
    for source, floors in FLOORS.items():
        assert source in stats, source
        for field, floor in floors.items():
            agree, checked, _folded = stats[source]["fields"][field]
            assert checked > 0
            assert agree / checked >= floor, (source, field, agree, checked)


def test_agreement_per_level(stats):
    # abr: every level-2 case and ≥ 95 % of cases resolved beyond the town; geolonia csv: ≥ 99 % at our level 4
    abr = stats["abr-geocoder"]["levels"]
    assert abr[2][0] == abr[2][1]
    assert abr[4][0] / abr[4][1] >= 0.95
    geo = stats["geolonia-v3-csv"]["levels"]
    assert geo[4][0] / geo[4][1] >= 0.99

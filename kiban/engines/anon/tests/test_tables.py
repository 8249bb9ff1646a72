"""Statistical tables: margins, primary rules, secondary suppression (ILP and heuristic), the LP attack, DP.

The central guarantee is checked by an attack written here with HiGHS, independently of tables.attack():
for every primary cell, the minimum and maximum it can take given all published cells and the additivity of
the table must be at least its protection level away from the true value.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiban.engines.anon import tables as T
from kiban.engines.anon.errors import AnonError


def sample(n=300, seed=1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "地区": rng.choice(["北", "南", "東", "西", "中央"], n, p=[0.4, 0.3, 0.15, 0.1, 0.05]).tolist(),
        "年代": rng.choice(["20代", "30代", "40代", "50代"], n).tolist(),
        "性別": rng.choice(["男", "女"], n).tolist(),
        "所得": [str(int(x)) for x in rng.lognormal(6, 1, n)],
    })


def independent_attack(table: T.Table, i: int) -> tuple[float, float]:
    """min/max of cell i over all tables that agree with the published cells and are additive."""
    cells = table.cells
    n = len(cells)
    rows, lo, hi = [], [], []
    for total, kids in table.relations:
        row = {total: -1.0}
        for k in kids:
            row[k] = row.get(k, 0.0) + 1.0
        rows.append(row)
        lo.append(0.0)
        hi.append(0.0)
    big = sum(abs(c.value) for c in cells) + 1
    col_lo = [c.value if c.status == "published" else 0.0 for c in cells]
    col_hi = [c.value if c.status == "published" else big for c in cells]
    obj = np.zeros(n)
    obj[i] = 1
    _, _, mn = T.solve(obj, rows, lo, hi, col_lo, col_hi)
    _, _, mx = T.solve(obj, rows, lo, hi, col_lo, col_hi, maximize=True)
    return mn, mx


def assert_protected(table: T.Table) -> None:
    primaries = [i for i, c in enumerate(table.cells) if c.status == "primary"]
    assert primaries, "the test table has no sensitive cell"
    for i in primaries:
        c = table.cells[i]
        mn, mx = independent_attack(table, i)
        assert mx - c.value >= c.protection - 1e-6, (c.key, c.value, mn, mx, c.protection)
        assert c.value - mn >= min(c.protection, c.value) - 1e-6, (c.key, c.value, mn, mx, c.protection)
        assert mx - mn > c.protection - 1e-6  # the feasible interval is wider than the protection level


def test_margins_add_up():
    df = sample()
    t, _ = T.make(df, {"dimensions": ["地区", "年代", "性別"]})
    idx = t.index
    assert t.cells[idx[(T.TOTAL, T.TOTAL, T.TOTAL)]].value == df.height
    for total, kids in t.relations:
        assert t.cells[total].value == pytest.approx(sum(t.cells[k].value for k in kids))
    assert len(t.cells) == 6 * 5 * 3


@pytest.mark.parametrize("dims", [["地区"], ["地区", "年代"], ["地区", "年代", "性別"]])
@pytest.mark.parametrize("method", ["ilp", "heuristic"])
def test_frequency_threshold_secondary_is_safe(dims, method):
    threshold = {1: 20, 2: 10, 3: 8}[len(dims)]
    t, info = T.make(sample(), {"dimensions": dims, "primary": {"threshold": threshold}, "secondary": method})
    assert info["primary"] > 0
    assert info["all_protected"]
    assert_protected(t)


def test_ilp_is_no_worse_than_heuristic():
    df = sample(400, 3)
    spec = {"dimensions": ["地区", "年代"], "primary": {"threshold": 12}}
    _, exact = T.make(df, {**spec, "secondary": "ilp"})
    _, heur = T.make(df, {**spec, "secondary": "heuristic"})
    assert exact["suppressed_cost"] <= heur["suppressed_cost"] + 1e-9


def test_magnitude_rules_and_protection():
    t, info = T.make(sample(), {"dimensions": ["地区", "年代"], "value": "所得",
                                "primary": {"threshold": 3, "dominance": {"n": 1, "k": 0.6}, "p_percent": 0.1}})
    rules = {r.split("(")[0].split("<")[0] for c in t.cells for r in c.rules}
    assert rules <= {"threshold", "dominance", "p%"} and rules
    for c in t.cells:
        if any(r.startswith("dominance") for r in c.rules):
            assert c.top[0] > 0.6 * c.value
        if any(r.startswith("p%") for r in c.rules):
            assert c.value - c.top[0] - (c.top[1] if len(c.top) > 1 else 0) < 0.1 * c.top[0]
    assert_protected(t)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 15), st.sampled_from(["ilp", "heuristic"]))
def test_random_tables_are_protected(seed, threshold, method):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 200))
    df = pl.DataFrame({"a": rng.choice(list("pqrs"), n).tolist(), "b": rng.choice(list("xyz"), n).tolist()})
    t, info = T.make(df, {"dimensions": ["a", "b"], "primary": {"threshold": threshold}, "secondary": method})
    if info["primary"]:
        assert_protected(t)


def test_dp_counts_state_epsilon():
    t, info = T.make(sample(), {"dimensions": ["地区", "年代"], "dp": {"epsilon": 0.5}})
    assert info["dp"]["epsilon"] == 0.5 and info["dp"]["epsilon_spent"] == pytest.approx(0.5)
    noisy = t.dp["noisy"]
    assert all(isinstance(v, int) for v in noisy)
    idx = t.index
    for total, kids in t.relations:  # margins are post-processed sums of the noisy cells
        assert noisy[total] == sum(noisy[k] for k in kids)
    assert "DP度数" in t.frame().columns
    _ = idx


@pytest.mark.parametrize("spec,rule", [
    ({"dimensions": ["地区", "年代", "性別", "所得"]}, "dimensions"),
    ({"dimensions": ["ない列"]}, "unknown_column"),
    ({"dimensions": ["地区"], "primary": {"dominance": {"n": 1, "k": 0.6}}}, "magnitude_only"),
    ({"dimensions": ["地区"], "primary": {"threshold": 0}}, "range"),
    ({"dimensions": ["地区"], "value": "性別"}, "not_numeric"),
    ({"dimensions": ["地区"], "dp": {"epsilon": -1}}, "range"),
    ({"dimensions": ["地区"], "colour": 1}, "unknown_key"),
])
def test_bad_table_settings(spec, rule):
    with pytest.raises(AnonError) as e:
        T.make(sample(), spec)
    assert e.value.rule == rule and e.value.field.startswith("tables.")


def test_all_cells_enumerated():
    df = sample(50, 7)
    t = T.build_table(df, "x", ["地区", "年代"])
    keys = {c.key for c in t.cells}
    lv = [sorted(df[c].unique().to_list()) + [T.TOTAL] for c in ["地区", "年代"]]
    assert keys == set(itertools.product(*lv))

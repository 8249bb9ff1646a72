"""The published messy spreadsheets in ../shared/eval/tidy: check and convert every file (a report or a
clear TidyError, never a crash), and measure agreement with the expected forms where the README gives them.

No file is special-cased in the engine. Agreement is measured name-agnostically: an observation is the set
of its label values plus its number, so "Value" vs 「値」 or a different column order does not matter.
Run with `-s` to see the figures.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl
import pytest

from kiban.core.paths import shared_path
from kiban.engines.tidy import TidyError, check, convert
from kiban.engines.tidy.reader import a1, col_index

EVAL = shared_path("eval", "tidy")
pytestmark = pytest.mark.skipif(EVAL is None, reason="../shared/eval/tidy is absent (shared material not mounted)")
SKIP = {"LICENCE", "LICENSE.md", "SHA256SUMS", "README.md", "baking.feature"}


def eval_files() -> list[Path]:
    if EVAL is None:
        return []
    return sorted(p for p in EVAL.rglob("*") if p.is_file() and p.name not in SKIP)


def _norm(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return re.sub(r"\s+", " ", str(v)).strip()


def observations(df: pl.DataFrame) -> list[tuple[frozenset, float | None]]:
    """(label values, number) per observation; wide numeric columns are melted with their name as a label."""
    num_cols = [c for c, t in df.schema.items() if t.is_numeric()]
    lab_cols = [c for c in df.columns if c not in num_cols and not c.endswith("状態")]
    out = []
    for row in df.iter_rows(named=True):
        labels = {_norm(row[c]) for c in lab_cols if row[c] is not None}
        if len(num_cols) == 1:
            out.append((frozenset(labels), row[num_cols[0]]))
        else:
            for c in num_cols:
                out.append((frozenset(labels | {_norm(c)}), row[c]))
    return out


def recall(gold: list[tuple[frozenset, float | None]], ours: list[tuple[frozenset, float | None]],
           vocabulary: set[str] | None = None) -> float:
    """Share of gold observations found in ours (same number, labels included). Gold labels that never
    occur in our output at all (a constant like "Thing") are ignored when `vocabulary` is given."""
    found = 0
    for labels, value in gold:
        want = {x for x in labels if vocabulary is None or x in vocabulary}
        for ol, ov in ours:
            if (ov == value or (ov is None and value is None)) and want <= ol:
                found += 1
                break
    return found / len(gold) if gold else 1.0


FIGURES: dict[str, str] = {}


@pytest.mark.parametrize("path", eval_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_eval_file_gives_a_report_or_a_clear_error(path, tmp_path):
    try:
        report = check(path, timeout=120)
    except TidyError as exc:  # a clear, coded message is an acceptable outcome
        assert exc.code and exc.message_ja
        return
    assert 0 <= report.score <= 100
    for f in report.findings:
        assert f.rule and f.severity and f.message and f.fix
    try:
        res = convert(path, tmp_path, timeout=120)
    except TidyError as exc:
        assert exc.code == "no_table"
        return
    for key in res.frames:
        assert (tmp_path / f"{key}.csv").exists() and (tmp_path / f"{key}.parquet").exists()
    assert (tmp_path / "datapackage.json").exists()


def test_purpose_export_matches_its_tidy_sheet(tmp_path):
    src = EVAL / "unpivotr" / "purpose.xlsx"
    ours = convert(src, tmp_path, recipe={"only_sheets": ["NZ.Stat export"]}).frames
    df = next(iter(ours.values()))
    gold = convert(src, tmp_path / "g", recipe={"only_sheets": ["Tidy"], "sheets": {"Tidy": {"melt": False}}})
    gdf = next(iter(gold.frames.values())).drop([c for c in next(iter(gold.frames.values())).columns
                                                 if c.startswith("Flags")])
    r = recall(observations(gdf), observations(df))
    FIGURES["purpose.xlsx NZ.Stat export vs Tidy"] = f"{r:.1%} of {gdf.height} gold observations"
    assert df.height == 80  # 40 rows × 2 columns, suppressed cells kept with a status
    assert r >= 0.95


def test_titanic_gives_the_32_rows_of_the_titanic_dataset(tmp_path):
    df = next(iter(convert(EVAL / "tidyxl" / "titanic.xlsx", tmp_path).frames.values()))
    df = df.with_columns([pl.col(c).cast(pl.Utf8) for c, t in df.schema.items() if t == pl.Categorical])
    FIGURES["titanic.xlsx"] = f"{df.height} rows, columns {df.columns}, total {df['値'].sum()}"
    assert df.columns[:4] == ["Class", "Sex", "Age", "Survived"]
    assert df.height == 32 and df["値"].sum() == 2201  # as.data.frame(Titanic): 32 rows, 2,201 people
    assert df.filter((pl.col("Class") == "Crew") & (pl.col("Sex") == "Female") & (pl.col("Age") == "Adult")
                     & (pl.col("Survived") == "Yes"))["値"].to_list() == [20]


def test_harry_potter_untidy_matches_tidy_sheet(tmp_path):
    res = convert(EVAL / "unpivotr" / "harry-potter.xlsx", tmp_path)
    gold = res.frames["harry-potter__tidy"]
    ours = res.frames["harry-potter__untidy"]
    r = recall(observations(gold), observations(ours))
    FIGURES["harry-potter.xlsx untidy vs tidy"] = f"{r:.1%} of {gold.height} (the text '10 - really?' is kept " \
                                                 "in the status column, not as a number)"
    assert r >= 7 / 8


def test_baking_dataset_against_baking_test_csv(tmp_path):
    src = EVAL / "databaker" / "bakingtestdataset.xls"
    df = next(iter(convert(src, tmp_path).frames.values()))
    df = df.with_columns([pl.col(c).cast(pl.Utf8) for c, t in df.schema.items() if t == pl.Categorical])
    gold = []
    with (EVAL / "databaker" / "baking_test.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            labels = frozenset(_norm(float(v)) if re.fullmatch(r"\d+\.0", v) else _norm(v)
                               for k, v in row.items() if k != "OBS")
            gold.append((labels, float(row["OBS"])))
    ours = observations(df)
    vocab = {x for labels, _ in ours for x in labels}
    r = recall(gold, ours, vocab)
    FIGURES["bakingtestdataset.xls vs baking_test.csv"] = (
        f"{r:.1%} of {len(gold)} observations on the labels we produce (Year, Month, Day, Another Dim, "
        "Dim n, County, Country, Unit); the header row below the block (Dim 7-12, Another Dim 2) is kept as a "
        "note and the recipe constant 'Thing' is not produced")
    assert r > 0.5


def _cells(ranges: list[str]) -> set[str]:
    out = set()
    for rng in ranges:
        m = re.fullmatch(r"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?", rng)
        if not m:
            continue
        c0, r0 = col_index(m.group(1)), int(m.group(2)) - 1
        c1, r1 = (col_index(m.group(3)), int(m.group(4)) - 1) if m.group(3) else (c0, r0)
        if (r1 - r0 + 1) * (c1 - c0 + 1) > 5000:
            continue
        out |= {a1(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)}
    return out


# open-data-linter's asserted invalid cells (0-based (row, col) in its tests) and our rule for that check
LINTER = [
    ("check_1_2.csv", "L1-07", {(1, 1), (2, 1), (3, 1), (1, 3), (2, 3), (3, 3), (4, 3), (5, 3)}),
    ("check_1_5.csv", "L1-06", {(0, 2), (1, 1), (1, 2), (2, 0), (2, 1)}),
    ("check_1_13.csv", "L3-03", {(2, 0), (4, 0), (5, 0)}),
    ("expression.xlsx", "L2-06", {(1, 2), (2, 0), (2, 2)}),
    ("nb01h0013_cp932.csv", "L1-08", {(4, 0)}),
]


@pytest.mark.parametrize("name,rule,expected", LINTER, ids=[x[0] for x in LINTER])
def test_linter_expectations(name, rule, expected):
    findings = check(EVAL / "open-data-linter" / name).findings
    cells = set()
    for f in findings:
        if f.rule in (rule, "L1-09" if rule == "L3-03" else rule, "L1-14" if rule == "L1-06" else rule):
            cells |= _cells(f.ranges)
    want = {a1(r, c) for r, c in expected}
    hit = len(want & cells) / len(want)
    FIGURES[f"{name} {rule}"] = f"{len(want & cells)}/{len(want)} expected cells flagged"
    assert hit >= 0.6, (want - cells)


def test_valid_baselines_stay_clean_of_those_rules():
    # nb01h0013_sjis.csv: no platform-dependent character (only the cp932 copy has ①)
    assert "L1-08" not in {f.rule for f in check(EVAL / "open-data-linter" / "nb01h0013_sjis.csv").findings}
    assert "L2-06" not in {f.rule for f in check(EVAL / "open-data-linter" / "perfect.csv").findings}


def test_jnto_merged_label_cells_reported():
    report = check(EVAL / "open-data-linter" / "since2003_visitor_arrivals.xlsx", timeout=120)
    merged = [f for f in report.findings if f.rule == "L1-12" and f.sheet == "2021"]
    cells = _cells([r for f in merged for r in f.ranges])
    want = {a1(r, 0) for r in list(range(3, 18)) + list(range(21, 57))}
    FIGURES["since2003 L1-12 (sheet 2021)"] = f"{len(want & cells)}/{len(want)} expected col-A cells in merges"
    assert len(want & cells) / len(want) >= 0.9


def teardown_module(module):
    if FIGURES:
        print("\n== tidy eval agreement ==")
        for k, v in FIGURES.items():
            print(f"  {k}: {v}")

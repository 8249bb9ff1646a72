"""Fixtures of the anon engine's tests: the Adult benchmark (from ../shared, skipped when absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from kiban.core.paths import shared_path
from kiban.engines.anon.hierarchy import read_hierarchy_csv
from kiban.engines.anon.lattice import Dataset

ADULT_COLUMNS = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation",
                 "salary-class"]


def adult_dir() -> Path:
    d = shared_path("data", "adult")
    if d is None or not (d / "adult.csv").is_file():
        pytest.skip("../shared/data/adult is absent (benchmark data not available)")
    return d


@pytest.fixture(scope="session")
def adult():
    """(DataFrame of text columns, {column: Hierarchy}) for UCI Adult with ARX's hierarchies."""
    d = adult_dir()
    df = pl.read_csv(d / "adult.csv", separator=";", infer_schema=False)
    hier = {c: read_hierarchy_csv(d / f"adult_hierarchy_{c}.csv", c) for c in df.columns}
    return df, hier


def adult_dataset(adult, sensitive: str | None = None) -> Dataset:
    df, hier = adult
    qis = [c for c in df.columns if c != sensitive]
    cols = {c: df[c].to_numpy().astype(str) for c in df.columns}
    return Dataset.build(cols, {c: hier[c] for c in qis}, {sensitive: hier[sensitive]} if sensitive else {})


@pytest.fixture(scope="session")
def adult9(adult) -> Dataset:
    return adult_dataset(adult)


@pytest.fixture(scope="session")
def adult8(adult) -> Dataset:
    return adult_dataset(adult, "occupation")


def arx_reference_rows():
    p = shared_path("eval", "anon", "arx_reference.csv")
    if p is None:
        return None
    with open(p, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


from kiban.core.testing import *  # noqa: E402,F401,F403  (world, alice, bob, charlie … for the page tests)

"""Re-identification risk under the prosecutor, journalist and marketer attacker models.

For a released record in an equivalence class of size f (records sharing its quasi-identifier values):

* prosecutor (the attacker knows the target is in the data): risk 1/f;
* journalist (the attacker does not know; the data is a sample of a population): risk 1/F, F the size of the
  class in the population. Without population data, F is estimated as f/π from the sampling fraction π; if
  π is not given the data is taken to be the whole population (F = f, journalist = prosecutor);
* marketer (the attacker tries to re-identify as many records as possible): expected share re-identified,
  (1/n)·Σ_records 1/F.

Reported for each: the maximum and average risk, the share of records whose risk exceeds the threshold,
and the number of unique records (f = 1).
"""

from __future__ import annotations

import numpy as np
import polars as pl

SIZE_BUCKETS = [(1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None)]


def class_sizes(df: pl.DataFrame, qis: list[str]) -> np.ndarray:
    """Size of the equivalence class of every record (same order as df)."""
    if df.height == 0:
        return np.zeros(0, dtype=np.int64)
    if not qis:
        return np.full(df.height, df.height, dtype=np.int64)
    return df.select(pl.len().over(qis).alias("f"))["f"].to_numpy().astype(np.int64)


def profile(sizes: np.ndarray, threshold: float, sampling_fraction: float | None = None) -> dict:
    n = int(sizes.shape[0])
    if n == 0:
        empty = {"max": 0.0, "average": 0.0, "share_above_threshold": 0.0, "records_above_threshold": 0}
        return {"records": 0, "classes": 0, "uniques": 0, "prosecutor": empty, "journalist": empty,
                "marketer": 0.0, "threshold": threshold, "class_size_histogram": []}
    f = sizes.astype(np.float64)
    pros = 1.0 / f
    if sampling_fraction:
        F = np.maximum(f / sampling_fraction, 1.0)
        journ = 1.0 / F
        basis = f"母集団での同値類の大きさを f/π（抽出率 π = {sampling_fraction:g}）と推定"
    else:
        journ = pros
        basis = "抽出率の指定なし: データを母集団とみなす（記者モデル = 検察官モデル）"
    classes = int(round(float(pros.sum())))  # Σ_records 1/f = number of classes

    def stats(r: np.ndarray) -> dict:
        above = r > threshold
        return {"max": float(r.max()), "average": float(r.mean()),
                "share_above_threshold": float(above.mean()), "records_above_threshold": int(above.sum())}

    hist = []
    for lo, hi in SIZE_BUCKETS:
        m = (sizes >= lo) & (sizes <= hi) if hi is not None else sizes >= lo
        label = f"{lo}" if hi == lo else (f"{lo}-{hi}" if hi is not None else f"{lo}+")
        hist.append({"size": label, "records": int(m.sum())})
    return {
        "records": n,
        "classes": classes,
        "uniques": int((sizes == 1).sum()),
        "threshold": threshold,
        "prosecutor": stats(pros),
        "journalist": {**stats(journ), "basis": basis},
        "marketer": float(journ.mean()),
        "class_size_histogram": hist,
    }


def assess(df: pl.DataFrame, qis: list[str], threshold: float, sampling_fraction: float | None = None) -> dict:
    """Risk profile of a table for the given quasi-identifiers."""
    out = profile(class_sizes(df, qis), threshold, sampling_fraction)
    out["quasi_identifiers"] = list(qis)
    return out

"""Independent check of a released table against the privacy models.

Written separately from the search code (privacy.py, lattice.py): it groups the *output table itself*
with Polars and recomputes each model from the definitions, so the report's evidence and the tests do not
rely on the code that chose the transformation.
"""

from __future__ import annotations

import math

import polars as pl

from .hierarchy import Hierarchy


def _groups(df: pl.DataFrame, qis: list[str], sensitive: str | None = None) -> list[dict]:
    """Per equivalence class: size and (optionally) the counts of sensitive values."""
    if not qis:
        keys = pl.lit(1).alias("_all")
        df = df.with_columns(keys)
        qis = ["_all"]
    if sensitive is None:
        return [{"size": n} for n in df.group_by(qis).len()["len"].to_list()]
    counts = df.group_by([*qis, sensitive]).len()
    out = []
    for _key, g in counts.group_by(qis):
        vals = dict(zip(g[sensitive].to_list(), g["len"].to_list()))
        out.append({"size": sum(vals.values()), "values": vals})
    return out


def emd_equal(class_counts: dict[str, int], population: dict[str, float]) -> float:
    """½ Σ |p − q| over all values."""
    n = sum(class_counts.values())
    keys = set(population) | set(class_counts)
    return 0.5 * sum(abs(population.get(v, 0.0) - class_counts.get(v, 0) / n) for v in keys)


def emd_hierarchical(class_counts: dict[str, int], population: dict[str, float], hierarchy: Hierarchy) -> float:
    """Li et al.'s hierarchical EMD: Σ over inner nodes N of (level(N)/H)·min(positive, negative extra mass)."""
    n = sum(class_counts.values())
    H = hierarchy.height - 1
    up: list[dict[str, str]] = [{} for _ in range(H + 1)]
    for r in hierarchy.rows:
        for level in range(1, H + 1):
            up[level][r[level - 1]] = r[level]
    extra = {v: population.get(v, 0.0) - class_counts.get(v, 0) / n for v in set(population) | set(class_counts)}
    cost = 0.0
    for level in range(1, H + 1):
        pos: dict[str, float] = {}
        neg: dict[str, float] = {}
        for key, e in extra.items():
            parent = up[level][key]
            if e > 0:
                pos[parent] = pos.get(parent, 0.0) + e
            elif e < 0:
                neg[parent] = neg.get(parent, 0.0) - e
        nxt = {}
        for parent in set(pos) | set(neg):
            p, m = pos.get(parent, 0.0), neg.get(parent, 0.0)
            cost += (level / H) * min(p, m)
            nxt[parent] = p - m
        extra = nxt
    return cost


def check_release(df: pl.DataFrame, qis: list[str], *, k: int | None = None, l_diversity: list[dict] | None = None,
                  t_closeness: list[dict] | None = None, population: dict[str, dict[str, float]] | None = None,
                  hierarchies: dict[str, Hierarchy] | None = None) -> dict:
    """Recompute every model on the released table; returns per-model results with the worst value."""
    results = []
    if df.height == 0:
        return {"records": 0, "classes": 0, "models": [], "all_satisfied": True}
    sizes = [g["size"] for g in _groups(df, qis)]
    if k is not None:
        results.append({"model": "k-anonymity", "k": k, "min_class_size": min(sizes),
                        "satisfied": min(sizes) >= k})
    for item in l_diversity or []:
        a, lv, variant = item["attribute"], item["l"], item["variant"]
        worst = math.inf
        ok = True
        for g in _groups(df, qis, a):
            counts = sorted(g["values"].values(), reverse=True)
            distinct = len(counts)
            if variant == "distinct":
                val = distinct
                good = distinct >= lv
            elif variant == "entropy":
                total = sum(counts)
                H = -sum(c / total * math.log(c / total) for c in counts)
                val = math.exp(H)  # the ℓ this class reaches
                good = distinct >= math.ceil(lv) and H >= math.log(lv) - 1e-12
            else:
                c = item["c"]
                tail = sum(counts[int(lv) - 1:])
                val = counts[0] / tail if tail else math.inf  # must stay below c
                good = distinct >= lv and counts[0] < c * tail
            if variant == "recursive":
                worst = val if worst == math.inf else max(worst, val)
            else:
                worst = min(worst, val)
            ok &= good
        results.append({"model": f"{variant}-l-diversity", "attribute": a, "l": lv, "c": item.get("c"),
                        "worst_class_value": worst, "satisfied": ok})
    for item in t_closeness or []:
        a, t, dist = item["attribute"], item["t"], item["distance"]
        pop = (population or {})[a]
        worst = 0.0
        for g in _groups(df, qis, a):
            d = emd_equal(g["values"], pop) if dist == "equal" else emd_hierarchical(g["values"], pop, hierarchies[a])
            worst = max(worst, d)
        results.append({"model": "t-closeness", "distance": dist, "attribute": a, "t": t,
                        "max_distance": worst, "satisfied": worst <= t + 1e-12})
    return {"records": df.height, "classes": len(sizes), "models": results,
            "all_satisfied": all(r["satisfied"] for r in results)}

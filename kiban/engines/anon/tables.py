"""Statistical tables with disclosure control.

* Frequency tables (counts) and magnitude tables (sums of a value) with up to three dimensions and all
  margins (合計).
* Primary suppression: threshold rule (fewer than n contributors), dominance (n,k) rule (the n largest
  contributors exceed k of the cell total) and p% rule (the cell total less the two largest contributions is
  below p of the largest, so the second contributor can estimate the first within p).
* Secondary (complementary) suppression so that no suppressed cell can be narrowed, from the published
  cells and the additivity of the table, to less than its protection interval:
  - exact: a mixed-integer programme (HiGHS via highspy) minimising the suppressed cost, with, for every
    sensitive cell and direction, a deviation ("attacker flow") that must move the cell by its protection
    level using only suppressed cells (Fischetti–Salazar's model in its compact form);
  - heuristic (large tables): for every sensitive cell and direction, a linear programme finds the cheapest
    set of cells whose deviation protects it; those cells are suppressed (cells already suppressed are free).
* Audit: the linear-programming attack — for each suppressed cell, the minimum and maximum value it can
  take given everything published — is reported, and must be at least the protection level away.
* Differentially private counts with OpenDP's Laplace mechanism on the interior cells (each person is in
  one cell, so the L1 sensitivity is 1), margins added up from the noisy cells; the ε is stated.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from .errors import fail

TOTAL = "合計"
_HIGHS_BANNER_SHOWN = False


def _highs():
    """A silent HiGHS instance (the banner printed on first use goes to /dev/null, not our stdout)."""
    global _HIGHS_BANNER_SHOWN
    import highspy

    if not _HIGHS_BANNER_SHOWN:
        _HIGHS_BANNER_SHOWN = True
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def solve(c, A_rows: list[dict[int, float]], row_lo, row_hi, col_lo, col_hi, integer: list[int] | None = None,
          maximize: bool = False, time_limit: float | None = None):
    """Solve min/max c·x s.t. row_lo ≤ A x ≤ row_hi, col_lo ≤ x ≤ col_hi (some x integer) with HiGHS."""
    import highspy

    n = len(c)
    cols: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for r, row in enumerate(A_rows):
        for j, v in row.items():
            cols[j].append((r, v))
    start = [0]
    index, value = [], []
    for col in cols:
        for r, v in col:
            index.append(r)
            value.append(v)
        start.append(len(index))
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(A_rows)
    lp.col_cost_ = np.asarray(c, dtype=np.float64)
    lp.col_lower_ = np.asarray(col_lo, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_hi, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lo, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_hi, dtype=np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.asarray(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value, dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    if integer:
        integ = [highspy.HighsVarType.kContinuous] * n
        for j in integer:
            integ[j] = highspy.HighsVarType.kInteger
        lp.integrality_ = integ
    h = _highs()
    if time_limit:
        h.setOptionValue("time_limit", float(time_limit))
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    x = np.asarray(h.getSolution().col_value) if status in ("Optimal", "Time limit reached") else None
    return status, x, (h.getInfo().objective_function_value if x is not None else None)


@dataclass
class Cell:
    key: tuple[str, ...]
    value: float
    count: int
    top: list[float] = field(default_factory=list)  # largest contributions (magnitude tables)
    status: str = "published"  # published | primary | secondary
    rules: list[str] = field(default_factory=list)
    protection: float = 0.0
    interval: tuple[float, float] | None = None

    @property
    def is_margin(self) -> bool:
        return TOTAL in self.key


@dataclass
class Table:
    name: str
    dims: list[str]
    value: str | None
    cells: list[Cell]
    relations: list[tuple[int, list[int]]]  # (total cell, its children) along one dimension
    notes: list[str] = field(default_factory=list)
    dp: dict | None = None
    method: str = "none"
    cost: float = 0.0

    @property
    def index(self) -> dict[tuple[str, ...], int]:
        return {c.key: i for i, c in enumerate(self.cells)}

    def frame(self) -> pl.DataFrame:
        data: dict[str, list] = {d: [c.key[j] for c in self.cells] for j, d in enumerate(self.dims)}
        if self.value:
            data["値"] = [None if c.status != "published" else c.value for c in self.cells]
        else:
            data["度数"] = pl.Series([None if c.status != "published" else int(c.value) for c in self.cells],
                                   dtype=pl.Int64)
        data["秘匿"] = [{"published": "", "primary": "一次秘匿", "secondary": "二次秘匿"}[c.status] for c in self.cells]
        if self.dp:
            data["DP度数"] = self.dp["noisy"]
        return pl.DataFrame(data)


def build_table(df: pl.DataFrame, name: str, dims: list[str], value: str | None = None, top_n: int = 2) -> Table:
    """Cells for every combination of dimension values and 合計, with margins."""
    if not 1 <= len(dims) <= 3:
        raise fail(f"tables.{name}.dimensions", "dimensions", "次元は 1〜3 列で指定してください。",
                   "a table has 1 to 3 dimensions.")
    for c in dims + ([value] if value else []):
        if c not in df.columns:
            raise fail(f"tables.{name}", "unknown_column", f"データにない列です: {c!r}", f"no such column: {c!r}")
    if value:
        try:
            df = df.with_columns(pl.col(value).str.replace_all(",", "").cast(pl.Float64).alias("_v"))
        except pl.exceptions.PolarsError as exc:
            raise fail(f"tables.{name}.value", "not_numeric", f"{value!r} に数値でない値があります。",
                       f"{value!r} has non-numeric values.") from exc
        if df["_v"].null_count():
            raise fail(f"tables.{name}.value", "not_numeric", f"{value!r} に空欄があります。", f"{value!r} has empty values.")
    else:
        df = df.with_columns(pl.lit(1.0).alias("_v"))
    levels = [sorted(df[d].unique().to_list(), key=str) for d in dims]
    cells: list[Cell] = []
    index: dict[tuple, int] = {}
    for mask in itertools.product([False, True], repeat=len(dims)):  # True = this dimension is a total
        group = [d for d, t in zip(dims, mask) if not t]
        aggs = [pl.col("_v").sum().alias("value"), pl.len().alias("count")]
        if value:
            top = pl.col("_v").sort(descending=True).head(top_n)
            aggs.append((top if group else top.implode()).alias("top"))
        g = df.group_by(group).agg(aggs) if group else df.select(aggs)
        got = {tuple(r[d] for d in group): r for r in g.iter_rows(named=True)}
        for combo in itertools.product(*[lv for lv, t in zip(levels, mask) if not t]):
            key, it = [], iter(combo)
            for t in mask:
                key.append(TOTAL if t else next(it))
            r = got.get(tuple(combo))
            cell = Cell(tuple(key), float(r["value"]) if r else 0.0, int(r["count"]) if r else 0,
                        list(r["top"]) if (r and value) else [])
            index[cell.key] = len(cells)
            cells.append(cell)
    relations = []
    for i, c in enumerate(cells):
        for j, d in enumerate(dims):
            if c.key[j] == TOTAL:
                kids = [index[c.key[:j] + (v,) + c.key[j + 1:]] for v in levels[j]]
                relations.append((i, kids))
    return Table(name, dims, value, cells, relations)


def primary(table: Table, threshold: int | None = None, dominance: dict | None = None, p_percent: float | None = None,
            protection: float | None = None) -> None:
    """Mark sensitive cells and set their protection levels."""
    for c in table.cells:
        pls = []
        if c.count == 0:
            continue
        if threshold and c.count < threshold:
            c.rules.append(f"threshold<{threshold}")
            ratio = protection if protection is not None else 0.5
            pls.append(float(max(1.0, math.ceil(ratio * abs(c.value)) if not table.value else ratio * abs(c.value))))
        if table.value and dominance and c.top:
            n, k = int(dominance.get("n", 1)), float(dominance.get("k", 0.85))
            top = sum(c.top[:n])
            if c.value > 0 and top > k * c.value:
                c.rules.append(f"dominance({n},{k:g})")
                pls.append(max(top / k - c.value, 1e-6))
        if table.value and p_percent and c.top:
            x1 = c.top[0]
            x2 = c.top[1] if len(c.top) > 1 else 0.0
            rest = c.value - x1 - x2
            if rest < p_percent * x1:
                c.rules.append(f"p%({p_percent:g})")
                pls.append(max(p_percent * x1 - rest, 1e-6))
        if pls:
            c.status = "primary"
            c.protection = max(pls)


def _relations_rows(table: Table) -> list[dict[int, float]]:
    rows = []
    for total, kids in table.relations:
        row = {total: -1.0}
        for k in kids:
            row[k] = row.get(k, 0.0) + 1.0
        rows.append(row)
    return rows


def _costs(table: Table, cost: str) -> np.ndarray:
    if cost == "cells":
        return np.ones(len(table.cells))
    return np.array([abs(c.value) + 1.0 for c in table.cells])


def secondary(table: Table, method: str = "auto", cost: str = "value", time_limit: float = 60.0) -> None:
    """Choose complementary suppressions (exact ILP for small tables, LP heuristic for large ones)."""
    sens = [i for i, c in enumerate(table.cells) if c.status == "primary"]
    if not sens or method == "none":
        table.method = "none"
        return
    n = len(table.cells)
    if method == "auto":
        method = "ilp" if n * len(sens) <= 6000 else "heuristic"
    table.method = method
    if method == "ilp":
        _secondary_ilp(table, sens, _costs(table, cost), time_limit)
    else:
        _secondary_heuristic(table, sens, _costs(table, cost))
    table.cost = float(sum(_costs(table, cost)[i] for i, c in enumerate(table.cells) if c.status != "published"))


def _bounds(table: Table) -> float:
    return max(abs(c.value) for c in table.cells) * 2 + 1.0


def _secondary_ilp(table: Table, sens: list[int], w: np.ndarray, time_limit: float) -> None:
    n = len(table.cells)
    rel = _relations_rows(table)
    U = _bounds(table)
    a = np.array([c.value for c in table.cells])
    # variables: x (n, binary) then, per sensitive cell and direction, a flow f (n, continuous)
    dirs = [(p, +1) for p in sens] + [(p, -1) for p in sens if min(table.cells[p].protection, a[p]) > 0]
    nv = n + n * len(dirs)
    c = np.concatenate([w, np.zeros(n * len(dirs))])
    col_lo = np.concatenate([np.zeros(n), np.full(n * len(dirs), -U)])
    col_hi = np.concatenate([np.ones(n), np.full(n * len(dirs), U)])
    for p in sens:
        col_lo[p] = 1.0  # sensitive cells are suppressed
    rows: list[dict[int, float]] = []
    lo: list[float] = []
    hi: list[float] = []
    for t, (p, sign) in enumerate(dirs):
        off = n + t * n
        for r in rel:  # the deviation keeps the table additive
            rows.append({off + j: v for j, v in r.items()})
            lo.append(0.0)
            hi.append(0.0)
        pl_ = table.cells[p].protection if sign > 0 else min(table.cells[p].protection, a[p])
        col_lo[off + p] = col_hi[off + p] = sign * pl_
        for i in range(n):  # deviation only in suppressed cells: -a_i x_i ≤ f_i ≤ U x_i
            if i == p:
                continue
            rows.append({off + i: 1.0, i: -U})
            lo.append(-np.inf)
            hi.append(0.0)
            rows.append({off + i: 1.0, i: max(a[i], 0.0)})
            lo.append(0.0)
            hi.append(np.inf)
    status, x, _ = solve(c, rows, lo, hi, col_lo, col_hi, integer=list(range(n)), time_limit=time_limit)
    if x is None:
        table.notes.append(f"ILP: {status}; falling back to the heuristic")
        _secondary_heuristic(table, sens, w)
        table.method = "heuristic (ILP fallback)"
        return
    if status != "Optimal":
        table.notes.append(f"ILP stopped: {status} (best solution found is used)")
    for i in range(n):
        if x[i] > 0.5 and table.cells[i].status == "published":
            table.cells[i].status = "secondary"


def _secondary_heuristic(table: Table, sens: list[int], w: np.ndarray) -> None:
    n = len(table.cells)
    rel = _relations_rows(table)
    U = _bounds(table)
    a = np.array([c.value for c in table.cells])
    for p in sens:
        for sign in (+1, -1):
            pl_ = table.cells[p].protection if sign > 0 else min(table.cells[p].protection, a[p])
            if pl_ <= 0:
                continue
            # variables g+ (n) and g- (n): deviation g+ - g-; suppressed cells are free to use
            cost = np.array([0.0 if table.cells[i].status != "published" else w[i] for i in range(n)])
            c = np.concatenate([cost + 1e-6, cost + 1e-6])
            col_lo = np.zeros(2 * n)
            col_hi = np.concatenate([np.full(n, U), np.maximum(a, 0.0)])
            if sign > 0:
                col_lo[p] = col_hi[p] = pl_
                col_hi[n + p] = 0.0
            else:
                col_lo[n + p] = col_hi[n + p] = pl_
                col_hi[p] = 0.0
            rows = [{**{j: v for j, v in r.items()}, **{n + j: -v for j, v in r.items()}} for r in rel]
            status, x, _ = solve(c, rows, [0.0] * len(rows), [0.0] * len(rows), col_lo, col_hi)
            if x is None:
                table.notes.append(f"cell {table.cells[p].key}: no protecting pattern found ({status})")
                continue
            for i in range(n):
                if (x[i] > 1e-7 or x[n + i] > 1e-7) and table.cells[i].status == "published":
                    table.cells[i].status = "secondary"


def attack(table: Table) -> list[dict]:
    """LP attack: the feasible interval of every suppressed cell given all published cells."""
    n = len(table.cells)
    rel = _relations_rows(table)
    U = _bounds(table)
    col_lo = np.zeros(n)
    col_hi = np.zeros(n)
    for i, c in enumerate(table.cells):
        if c.status == "published":
            col_lo[i] = col_hi[i] = c.value
        else:
            col_lo[i] = min(0.0, c.value)
            col_hi[i] = U
    out = []
    for i, c in enumerate(table.cells):
        if c.status == "published":
            continue
        obj = np.zeros(n)
        obj[i] = 1.0
        _, xl, lo = solve(obj, rel, [0.0] * len(rel), [0.0] * len(rel), col_lo, col_hi)
        _, xh, hi = solve(obj, rel, [0.0] * len(rel), [0.0] * len(rel), col_lo, col_hi, maximize=True)
        c.interval = (lo, hi)
        need_up = c.protection
        need_down = min(c.protection, c.value)
        protected = c.status != "primary" or (hi >= c.value + need_up - 1e-6 and lo <= c.value - need_down + 1e-6)
        out.append({"cell": list(c.key), "status": c.status, "value": c.value, "protection": c.protection,
                    "interval": [lo, hi], "protected": bool(protected)})
    return out


def dp_counts(table: Table, epsilon: float) -> dict:
    """Laplace noise (OpenDP) on the interior cell counts; margins are sums of the noisy cells."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    interior = [i for i, c in enumerate(table.cells) if not c.is_margin]
    space = (dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int))
    meas = dp.m.make_laplace(*space, scale=1.0 / epsilon)
    noisy_interior = meas([int(table.cells[i].count) for i in interior])
    spent = meas.map(1)
    noisy = [0] * len(table.cells)
    for i, v in zip(interior, noisy_interior):
        noisy[i] = int(v)
    # margins: sum of the noisy interior cells they cover (post-processing keeps ε)
    for i, c in enumerate(table.cells):
        if c.is_margin:
            noisy[i] = sum(noisy[j] for j in interior
                           if all(c.key[d] == TOTAL or c.key[d] == table.cells[j].key[d] for d in range(len(c.key))))
    table.dp = {"epsilon": epsilon, "epsilon_spent": float(spent), "mechanism": "Laplace (discrete, OpenDP make_laplace)",
                "scale": 1.0 / epsilon, "sensitivity": 1, "noisy": noisy}
    return {k: v for k, v in table.dp.items() if k != "noisy"}


def make(df: pl.DataFrame, spec: dict, index: int = 0) -> tuple[Table, dict]:
    """Build, protect and audit one table from its configuration."""
    name = str(spec.get("name", f"table{index + 1}"))
    allowed = {"name", "dimensions", "value", "output", "primary", "secondary", "cost", "protection", "dp"}
    extra = set(spec) - allowed
    if extra:
        raise fail(f"tables.{name}.{sorted(extra)[0]}", "unknown_key", f"未知の設定項目です（使える項目: {', '.join(sorted(allowed))}）。",
                   f"unknown setting (allowed: {', '.join(sorted(allowed))}).")
    dims = spec.get("dimensions") or []
    if isinstance(dims, str):
        dims = [dims]
    table = build_table(df, name, list(dims), spec.get("value"))
    prim = spec.get("primary") or {}
    threshold = prim.get("threshold")
    if threshold is not None and (not isinstance(threshold, int) or threshold < 1):
        raise fail(f"tables.{name}.primary.threshold", "range", "しきい値は 1 以上の整数です。", "threshold must be an integer ≥ 1.")
    p_percent = prim.get("p_percent")
    if p_percent is not None and not (0 < float(p_percent) < 1):
        raise fail(f"tables.{name}.primary.p_percent", "range", "p% は 0 と 1 の間の割合で指定してください（10% → 0.1）。",
                   "p_percent is a share between 0 and 1 (10% → 0.1).")
    dom = prim.get("dominance")
    if dom is not None and not (isinstance(dom, dict) and 0 < float(dom.get("k", 0.85)) <= 1 and int(dom.get("n", 1)) >= 1):
        raise fail(f"tables.{name}.primary.dominance", "range", "dominance は {n: 整数, k: 0〜1} で指定してください。",
                   "dominance is {n: integer, k: share in (0,1]}.")
    if (dom or p_percent) and not table.value:
        raise fail(f"tables.{name}.primary", "magnitude_only", "支配性ルール・p% ルールは量的表（value 指定）にのみ使えます。",
                   "the dominance and p% rules apply to magnitude tables (with a value column) only.")
    primary(table, threshold, dom, float(p_percent) if p_percent else None, spec.get("protection"))
    secondary(table, spec.get("secondary", "auto"), spec.get("cost", "value"))
    audit = attack(table)
    info = {"name": name, "dimensions": table.dims, "value": table.value, "cells": len(table.cells),
            "primary": sum(c.status == "primary" for c in table.cells),
            "secondary": sum(c.status == "secondary" for c in table.cells),
            "method": table.method, "suppressed_cost": table.cost, "audit": audit,
            "all_protected": all(a["protected"] for a in audit), "notes": table.notes}
    if spec.get("dp"):
        eps = spec["dp"].get("epsilon") if isinstance(spec["dp"], dict) else spec["dp"]
        if not isinstance(eps, (int, float)) or eps <= 0:
            raise fail(f"tables.{name}.dp.epsilon", "range", "ε は正の数です。", "epsilon must be positive.")
        if table.value:
            raise fail(f"tables.{name}.dp", "frequency_only", "差分プライバシーの度数は度数表にのみ付けられます。",
                       "differentially private counts apply to frequency tables only.")
        info["dp"] = dp_counts(table, float(eps))
    return table, info

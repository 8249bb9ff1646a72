"""Information-loss metrics, defined exactly as ARX (org.deidentifier.arx.metric.v2) so results agree.

With the default generalisation/suppression factor gs = 0.5, gFactor = sFactor = 1
(sFactor = 2·gs if gs < 0.5 else 1; gFactor = 1 if gs ≤ 0.5 else 1 − 2·(gs − 0.5)).
Multi-dimensional metrics compute one value per QI, floored to 10 decimals where ARX does
(`Metric.round`), and aggregate them (SUM, ARITHMETIC_MEAN, GEOMETRIC_MEAN, MAXIMUM or RANK) with attribute
weights normalised by their maximum.

* ``entropy`` (monotonic, MetricMDNUEntropyPrecomputed): per QI, −Σ_v c(v)·log2(c(v)/c(g_L(v))), where c counts
  input records; suppressed records are counted like the others, so the value depends on the transformation
  only. SUM.
* ``entropy`` non-monotonic (MetricMDNUNMEntropyPrecomputed): the above plus, for the suppressed records,
  −sFactor·Σ_w n_w·log2(n_w/n_supp) per QI (n_w: suppressed records with generalised value w).
* ``height`` (MetricMDHeight): Σ generalisation levels.
* ``precision`` (MetricMDPrecision / MetricMDNMPrecision): per QI level/max-level; the non-monotonic variant
  averages over records with suppressed records counted as fully generalised
  (((n−s)·level/max)·gFactor + s·sFactor)/n. ARITHMETIC_MEAN.
* ``discernibility`` (MetricSDDiscernability, DM*: Σ|E|² over all classes / MetricSDNMDiscernability:
  Σ|E|² over kept classes + n·|E| for suppressed classes).
* ``aecs`` (MetricSDAECS): n / (kept classes·sFactor + gFactor·[any record suppressed]).
* ``loss`` (MetricMDNMLoss, Iyengar's LM): per QI Σ_E |E|·share(value, level) (suppressed classes count as
  |E|), normalised as (x − gFactor·n/|domain|)/(n − gFactor·n/|domain|), clamped at 0; GEOMETRIC_MEAN.
  share = number of hierarchy leaves under the generalised value / number of leaves.

Every metric also gives a *lower bound* per lattice node computable without the data's classes, used by the
search to prune: it is exact for metrics that depend on the transformation only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .lattice import Classes, Dataset

AGGREGATES = ("sum", "arithmetic_mean", "geometric_mean", "maximum", "rank")
METRICS = ("entropy", "height", "precision", "discernibility", "aecs", "loss")


def arx_round(x: float) -> float:
    """ARX's Metric.round: floor to 10 decimal places."""
    return math.floor(x * 1e10) / 1e10


def _log2(x):
    return np.log(x) / math.log(2)


@dataclass
class Metric:
    name: str
    monotonic_variant: bool = True  # the "monotonic" flag of ARX's factory (ignored where meaningless)
    gs_factor: float = 0.5
    aggregate: str | None = None
    weights: dict[str, float] | None = None

    def __post_init__(self):
        if self.aggregate is None:
            self.aggregate = {"entropy": "sum", "height": "sum", "precision": "arithmetic_mean",
                              "loss": "geometric_mean"}.get(self.name, "sum")
        gs = self.gs_factor
        self.s_factor = 2 * gs if gs < 0.5 else 1.0
        self.g_factor = 1.0 if gs <= 0.5 else 1.0 - 2 * (gs - 0.5)
        self._ds: Dataset | None = None

    # ------------------------------------------------------------------ properties used by the search
    @property
    def multi_dimensional(self) -> bool:
        return self.name in ("entropy", "height", "precision", "loss")

    def monotonic(self, suppression: bool) -> bool:
        """Is loss(generalisation) ≥ loss(node) for every pair (given whether records may be suppressed)?"""
        if self.name == "height":
            return True
        if self.name in ("entropy", "precision", "discernibility"):
            return self.monotonic_variant or not suppression
        return not suppression  # aecs, loss: monotonic only without suppression

    def exact_bound(self, suppression: bool) -> bool:
        """Is the static lower bound the exact value for every transformation?"""
        if self.name == "height":
            return True
        if self.name in ("entropy", "precision"):
            return self.monotonic_variant or not suppression
        if self.name == "loss":
            return not suppression
        return False

    def label(self) -> str:
        mono = "" if self.name in ("height", "aecs", "loss") else (" (monotonic)" if self.monotonic_variant else " (non-monotonic)")
        return f"{self.name}{mono}"

    def describe(self) -> dict:
        return {"metric": self.name, "monotonic": self.monotonic_variant, "gs_factor": self.gs_factor,
                "aggregate": self.aggregate if self.multi_dimensional else None}

    # ------------------------------------------------------------------ preparation
    def bind(self, ds: Dataset) -> "Metric":
        self._ds = ds
        d = ds.d
        w = np.array([float((self.weights or {}).get(q.name, 1.0)) for q in ds.qis])
        mx = w.max() if d else 0.0
        self._w = np.ones(d) if mx == 0 else w / mx
        self._maxlevel = np.array([q.height - 1 for q in ds.qis], dtype=np.float64)
        if self.name == "entropy":
            self._entropy_tables()
        if self.name == "loss":
            self._loss_tables()
        return self

    def _entropy_tables(self):
        ds = self._ds
        self._ent = []  # per QI: array over levels of the (unrounded, unsigned) raw Σ a·log2(a/b)
        for q in ds.qis:
            a = q.counts.astype(np.float64)
            raw = []
            for level in range(q.height):
                b = np.bincount(q.maps[level], weights=a)[q.maps[level]]
                value = 0.0
                order = q.arx_order if q.arx_order is not None else np.arange(len(a))
                for ai, bi in zip(a[order].tolist(), b[order].tolist()):  # ARX's order (dictionary order)
                    if ai != 0.0:
                        value += ai * (math.log(ai / bi) / math.log(2))
                raw.append(value)
            self._ent.append(np.array(raw))

    def _loss_tables(self):
        ds = self._ds
        self._share = []  # per QI, per level: share of each level code (leaves below / all leaves)
        self._domain = []
        self._lm_static = []  # per QI, per level: Σ_v c(v)·share(g_L(v))
        for q in ds.qis:
            rows = q.hierarchy.rows
            size = len(rows)
            per_level = []
            static = []
            for level in range(q.height):
                cnt: dict[str, int] = {}
                for r in rows:
                    cnt[r[level]] = cnt.get(r[level], 0) + 1
                share = np.array([cnt[lbl] / size for lbl in q.labels[level]], dtype=np.float64)
                per_level.append(share)
                static.append(float((q.counts * share[q.maps[level]]).sum()))
            self._share.append(per_level)
            self._domain.append(size)
            self._lm_static.append(static)

    # ------------------------------------------------------------------ aggregation (ARX ILMultiDimensional*)
    def aggregate_values(self, values: np.ndarray):
        w = self._w
        d = len(values)
        if self.aggregate == "sum":
            r = 0.0
            for v, wi in zip(values.tolist(), w.tolist()):
                r += v * wi
            return r
        if self.aggregate == "arithmetic_mean":
            r = 0.0
            for v, wi in zip(values.tolist(), w.tolist()):
                r += (v / d) * wi
            return r
        if self.aggregate == "geometric_mean":
            r = 1.0
            for v, wi in zip(values.tolist(), w.tolist()):
                r *= math.pow((v + 1.0) * wi, 1.0 / d)
            return r - 1.0
        if self.aggregate == "maximum":
            return max((v * wi for v, wi in zip(values.tolist(), w.tolist())), default=0.0)
        if self.aggregate == "rank":
            return tuple(sorted((v * wi for v, wi in zip(values.tolist(), w.tolist())), reverse=True))
        raise ValueError(self.aggregate)

    def _aggregate_matrix(self, vals: np.ndarray) -> np.ndarray:
        """Vectorised aggregate over many nodes (rows); used for lower bounds only (RANK → sorted rows)."""
        w = self._w
        d = vals.shape[1]
        if self.aggregate == "sum":
            return (vals * w).sum(axis=1)
        if self.aggregate == "arithmetic_mean":
            return ((vals / d) * w).sum(axis=1)
        if self.aggregate == "geometric_mean":
            return np.prod(np.power((vals + 1.0) * w, 1.0 / d), axis=1) - 1.0
        if self.aggregate == "maximum":
            return (vals * w).max(axis=1)
        return -np.sort(-(vals * w), axis=1)  # rank

    # ------------------------------------------------------------------ per-QI values
    def _entropy_qi(self, levels) -> np.ndarray:
        return np.array([self._ent[q][levels[q]] * self.g_factor for q in range(len(levels))])

    def static_bound(self) -> np.ndarray:
        """Lower bound for every lattice node (shape (N,) or (N, d) for RANK), without looking at classes."""
        ds = self._ds
        lv = ds.lattice.levels.astype(np.int64)
        N, d = lv.shape
        if self.name == "entropy":
            vals = np.zeros((N, d))
            for q in range(d):
                tab = np.array([0.0 if x == 0 else arx_round(-x * self.g_factor) for x in self._ent[q]])
                vals[:, q] = tab[lv[:, q]]
            if self.aggregate == "sum":  # exact, in ARX's order of addition
                out = np.zeros(N)
                for q in range(d):
                    out = out + vals[:, q] * self._w[q]
                return out
            return self._aggregate_matrix(vals)
        if self.name == "height":
            return self._aggregate_matrix(lv.astype(np.float64))
        if self.name == "precision":
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(self._maxlevel > 0, lv / np.maximum(self._maxlevel, 1), 0.0)
            g = rel * self.g_factor
            if not self.monotonic_variant:
                g = np.minimum(g, self.s_factor)
            return self._aggregate_matrix(g)
        if self.name == "loss":
            vals = np.zeros((N, d))
            n = ds.n
            for q in range(d):
                tab = np.array([self._lm_normalize(self.g_factor * x, q) for x in self._lm_static[q]])
                vals[:, q] = tab[lv[:, q]]
            return self._aggregate_matrix(vals)
        if self.name == "discernibility":
            return np.full(N, float(ds.n))
        if self.name == "aecs":
            return np.zeros(N)
        raise ValueError(self.name)

    def _lm_normalize(self, agg: float, q: int) -> float:
        n = self._ds.n
        lo = self.g_factor * n / self._domain[q]
        r = (agg - lo) / (n - lo) if n != lo else 0.0
        return arx_round(r if r >= 0.0 else 0.0)

    # ------------------------------------------------------------------ value of one transformation
    def value(self, levels: tuple[int, ...], cl: Classes, ok: np.ndarray):
        """Loss of `levels` whose classes are `cl`, classes failing the models (ok False) being suppressed.

        Returns (score, per-QI values or None). Scores compare with < (floats, or tuples for RANK).
        """
        ds = self._ds
        n = ds.n
        if self.name == "entropy":
            raw = [self._ent[q][levels[q]] * self.g_factor for q in range(ds.d)]
            if not self.monotonic_variant and not ok.all():
                out = ~ok
                cnt = cl.counts[out].astype(np.float64)
                supp = cnt.sum()
                for q in range(ds.d):
                    nw = np.bincount(cl.codes[q][out], weights=cnt)
                    nw = nw[nw > 0]
                    raw[q] += float((nw * _log2(nw / supp)).sum()) * self.s_factor
            vals = np.array([arx_round(0.0 if x == 0.0 else -x) for x in raw])
            return self.aggregate_values(vals), vals
        if self.name == "height":
            vals = np.array(levels, dtype=np.float64)
            return self.aggregate_values(vals), vals
        if self.name == "precision":
            rel = np.array([0.0 if self._maxlevel[q] == 0 else levels[q] / self._maxlevel[q] for q in range(ds.d)])
            if self.monotonic_variant:
                vals = rel * self.g_factor
            else:
                supp = float(cl.counts[~ok].sum())
                unsupp = float(n) - supp
                vals = np.array([((unsupp * v) * self.g_factor + supp * self.s_factor) / n for v in rel.tolist()])
            return self.aggregate_values(vals), vals
        if self.name == "discernibility":
            c = cl.counts.astype(np.float64)
            if self.monotonic_variant:
                return float((c * c).sum()), None
            return float(np.where(ok, c * c, float(n) * c).sum()), None
        if self.name == "aecs":
            kept = float(ok.sum())
            some = not ok.all()
            groups = kept * self.s_factor + (self.g_factor if some else 0.0)
            return (float(n) / groups if groups else float("inf")), None
        if self.name == "loss":
            c = cl.counts.astype(np.float64)
            vals = np.zeros(ds.d)
            for q in range(ds.d):
                share = c * self._share[q][levels[q]][cl.codes[q]]
                if self.s_factor == 1.0:
                    out_term = c
                else:
                    out_term = share + self.s_factor * (c - share)
                agg = float(np.where(ok, share * self.g_factor, out_term).sum())
                vals[q] = self._lm_normalize(agg, q)
            return self.aggregate_values(vals), vals
        raise ValueError(self.name)


def format_score(score) -> str:
    if isinstance(score, tuple):
        return "[" + ", ".join(repr(float(x)) for x in score) + "]"
    return repr(float(score))

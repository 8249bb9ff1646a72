"""Optimal search over the full generalisation lattice.

The search finds the transformation with minimal information loss that fulfils the privacy models within
the suppression limit. It is exact: it returns the same optimum (same loss) as checking every node.

How it prunes (Flash/OLA-style, with predictive tagging):

* Every node has a lower bound of its loss computable without the data (exact for metrics that depend on
  the transformation only, e.g. monotonic non-uniform entropy). Nodes are visited in order of that bound;
  once the bound reaches the best loss found, the search stops.
* When the privacy models are monotonic (always without suppression; k-anonymity and distinct ℓ-diversity
  also with suppression), a node that fails tags all its specialisations as failing, and a node that passes
  tags all its generalisations as passing (and, if the metric is monotonic too, as unable to beat it).
  To resolve a candidate, the search walks a path of generalisations upwards from it (through the lowest
  bounds, up to the top, beyond the best loss found: a failing probe there still tags the candidates below
  it) and binary-searches that path for its lowest passing node (as Flash does), so one check can tag a
  large part of the lattice.
* When the models are not monotonic (entropy/recursive ℓ-diversity, t-closeness with suppression), each
  candidate is checked directly; only its monotonic part (k-anonymity, distinct ℓ-diversity) tags
  specialisations. This is the exhaustive fallback, still cut by the loss bound.

Checking a node derives its equivalence classes from the smallest cached class table of a finer node
(lattice.Dataset.rollup), never from the input rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .lattice import Classes, Dataset
from .metrics import Metric
from .privacy import Criteria

UNKNOWN, PASS, FAIL, DOMINATED = 0, 1, 2, 3
INTERMEDIATE = 12000  # source size above which a near predecessor is built first


@dataclass
class Check:
    """One node whose classes were computed during the search."""

    levels: tuple[int, ...]
    anonymous: bool
    suppressed: int
    classes: int
    score: object = None  # loss if anonymous

    def as_dict(self) -> dict:
        from .metrics import format_score

        return {"transformation": list(self.levels), "anonymous": self.anonymous, "suppressed": self.suppressed,
                "classes": self.classes, "loss": None if self.score is None else format_score(self.score)}


@dataclass
class SearchResult:
    algorithm: str
    lattice_size: int
    checked: list[Check]
    optimum: tuple[int, ...] | None
    score: object = None
    per_qi: np.ndarray | None = None
    suppressed: int = 0
    classes: int = 0
    elapsed: float = 0.0
    tagged_fail: int = 0
    tagged_pass: int = 0
    pruned_by_bound: int = 0
    notes: list[str] = field(default_factory=list)
    count: int = 0  # nodes whose classes were computed

    @property
    def nodes_checked(self) -> int:
        return self.count

    def summary(self) -> dict:
        from .metrics import format_score

        return {
            "algorithm": self.algorithm,
            "lattice_size": self.lattice_size,
            "nodes_checked": self.nodes_checked,
            "optimum": None if self.optimum is None else list(self.optimum),
            "loss": None if self.score is None else format_score(self.score),
            "records_suppressed": self.suppressed,
            "equivalence_classes": self.classes,
            "seconds": round(self.elapsed, 4),
            "nodes_tagged_failing": self.tagged_fail,
            "nodes_tagged_passing_or_dominated": self.tagged_pass,
            "nodes_pruned_by_loss_bound": self.pruned_by_bound,
            "notes": self.notes,
        }


class _Cache:
    """Class tables of checked nodes, found by 'finer than' and preferring the smallest."""

    def __init__(self, ds: Dataset, max_cells: int = 40_000_000):
        self.ds = ds
        self.max_cells = max_cells
        self.cells = 0
        self.tables: list[Classes] = []
        self.lv = np.zeros((64, ds.d), dtype=np.int8)
        self.sizes = np.zeros(64, dtype=np.int64)
        self.alive = np.zeros(64, dtype=bool)

    def add(self, cl: Classes) -> None:
        i = len(self.tables)
        if i >= self.lv.shape[0]:
            grow = self.lv.shape[0]
            self.lv = np.vstack([self.lv, np.zeros((grow, self.ds.d), dtype=np.int8)])
            self.sizes = np.concatenate([self.sizes, np.zeros(grow, dtype=np.int64)])
            self.alive = np.concatenate([self.alive, np.zeros(grow, dtype=bool)])
        self.tables.append(cl)
        self.lv[i] = cl.levels
        self.sizes[i] = cl.size
        self.alive[i] = True
        self.cells += cl.size * (self.ds.d + 1 + sum(h.shape[1] for h in cl.hists))
        if self.cells > self.max_cells:  # evict the largest tables except the bottom (index 0)
            order = np.argsort(-np.where(self.alive, self.sizes, -1))
            for j in order:
                if self.cells <= self.max_cells // 2:
                    break
                if j == 0 or not self.alive[j]:
                    continue
                t = self.tables[j]
                self.cells -= t.size * (self.ds.d + 1 + sum(h.shape[1] for h in t.hists))
                self.alive[j] = False
                self.tables[j] = None  # type: ignore[assignment]

    def source(self, levels: np.ndarray) -> Classes:
        k = len(self.tables)
        mask = self.alive[:k] & np.all(self.lv[:k] <= levels, axis=1)
        idx = np.flatnonzero(mask)
        return self.tables[int(idx[np.argmin(self.sizes[idx])])]


class Search:
    def __init__(self, ds: Dataset, criteria: Criteria, metric: Metric, record_checks: bool = True,
                 allowed: np.ndarray | None = None):
        self.allowed = allowed  # optional mask of admissible nodes (min/max generalisation levels)
        self.ds = ds
        self.criteria = criteria
        self.metric = metric
        self.lat = ds.lattice
        self.record_checks = record_checks

    # ------------------------------------------------------------------ evaluation of one node
    def _evaluate(self, i: int, cache: _Cache, need_score: bool = True):
        lv = self.lat.levels[i]
        levels = tuple(int(x) for x in lv)
        src = cache.source(lv)
        # Projection step: if the target drops QIs (generalised to their top) that the source still
        # distinguishes, first derive the source without them and cache it — later checks that drop the
        # same QIs start from this much smaller table.
        top = self.lat.top
        proj = tuple(top[q] if levels[q] == top[q] else src.levels[q] for q in range(len(levels)))
        if proj != src.levels and proj != levels and src.size > 2048:
            src = self.ds.rollup(src, proj)
            cache.add(src)
        if INTERMEDIATE and src.size > INTERMEDIATE:
            # A near predecessor (one level below in every coordinate) serves this node's neighbours too.
            mid = tuple(max(src.levels[q], levels[q] - 1) for q in range(len(levels)))
            if mid != src.levels and mid != levels:
                src = self.ds.rollup(src, mid)
                cache.add(src)
        cl = self.ds.rollup(src, levels)
        cache.add(cl)
        mono_models = self.criteria.monotonic_part
        if not self.criteria.monotonic and mono_models:
            ok_mono = self.criteria.ok(cl, mono_models)
            supp_mono = int(cl.counts[~ok_mono].sum())
            if supp_mono > self.criteria.max_outliers:
                return levels, cl, False, supp_mono, None, True, ok_mono
            others = [m for m in self.criteria.models if not m.monotonic_with_suppression]
            ok = ok_mono & self.criteria.ok(cl, others)
        else:
            ok = self.criteria.ok(cl)
        supp = int(cl.counts[~ok].sum())
        anon = supp <= self.criteria.max_outliers
        score = None
        if anon and need_score:
            score = self.metric.value(levels, cl, ok)
        # Failure bound (non-monotonic models): if even the records bound to fail in every specialisation
        # exceed the limit, this node and all its specialisations fail.
        bound_fail = (not anon and not self.criteria.monotonic
                      and self.criteria.fail_bound(cl) > self.criteria.max_outliers + 1e-9)
        return levels, cl, anon, supp, score, bound_fail, ok

    # ------------------------------------------------------------------ the optimal search
    def run(self) -> SearchResult:
        t0 = time.perf_counter()
        ds, lat, crit, metric = self.ds, self.lat, self.criteria, self.metric
        suppression = crit.max_outliers > 0
        crit_mono = crit.monotonic
        metric_mono = metric.monotonic(suppression)
        exact = metric.exact_bound(suppression)
        lb = metric.static_bound()
        rank = lb.ndim == 2
        if rank:
            order = np.lexsort(tuple([lat.level_sum] + [lb[:, j] for j in range(lb.shape[1] - 1, -1, -1)]))
        else:
            order = np.lexsort((lat.level_sum, lb))
        status = np.zeros(lat.size, dtype=np.int8)
        evaluated = np.zeros(lat.size, dtype=bool)
        cache = _Cache(ds)
        cache.add(ds.bottom())
        allowed = self.allowed
        checks: list[Check] = []
        best: dict = {"i": None, "score": None, "vals": None, "supp": 0, "classes": 0}

        def lb_of(i):
            return tuple(lb[i]) if rank else float(lb[i])

        def below_best(i) -> bool:
            return best["score"] is None or lb_of(i) < best["score"]

        def check(i) -> bool:
            levels, cl, anon, supp, score, mono_fail, _ok = self._evaluate(i, cache)
            evaluated[i] = True
            if self.record_checks:
                checks.append(Check(levels, anon, supp, cl.size, score[0] if score else None))
            else:
                checks.append(None)  # type: ignore[arg-type]
            if anon:
                s, vals = score
                admissible = allowed is None or allowed[i]
                if admissible and (best["score"] is None or s < best["score"]):
                    best.update(i=i, score=s, vals=vals, supp=supp, classes=cl.size)
                if crit_mono:
                    up = lat.upset(i)
                    status[up & (status == UNKNOWN)] = PASS
                    if metric_mono and admissible:
                        status[up & ~evaluated] = DOMINATED
                status[i] = DOMINATED
            else:
                if crit_mono or mono_fail:
                    status[lat.downset(i)] = FAIL
                status[i] = FAIL
            return anon

        def chain_from(i, bounded: bool = True) -> list[int]:
            # Probes may lie above the best loss: a failing probe still tags candidates below it.
            chain = [i]
            cur = i
            while True:
                nxt = [s for s in lat.successors(cur)
                       if status[s] == UNKNOWN and (not bounded or below_best(s))
                       and (allowed is None or allowed[s])]
                if not nxt:
                    return chain
                cur = min(nxt, key=lambda s: (lb_of(s), s))  # stay where the candidates are
                chain.append(cur)

        pruned = 0
        for pos, i in enumerate(order.tolist()):
            if not below_best(i):
                pruned = lat.size - pos
                break
            if allowed is not None and not allowed[i]:
                continue
            st = status[i]
            if st in (FAIL, DOMINATED):
                continue
            if st == PASS:
                if exact:
                    # Known to fulfil the models and its bound is the loss: it is the optimum.
                    check(i)
                    break
                check(i)
                continue
            if not crit_mono:
                # Probe generalisations of i: a probe whose failure bound exceeds the limit tags i (and its
                # whole down-set) as failing; otherwise narrow towards i, which is checked last.
                chain = chain_from(i)
                hi = len(chain) - 1
                while hi >= 0 and status[i] == UNKNOWN and not evaluated[i]:
                    mid = hi // 2 if hi > 0 else 0
                    j = chain[mid]
                    if status[j] == UNKNOWN and not evaluated[j]:
                        check(j)
                    if status[j] == FAIL and j != i and status[i] == FAIL:
                        break
                    hi = mid - 1
                if status[i] == UNKNOWN and not evaluated[i]:
                    check(i)
                continue
            chain = chain_from(i, bounded=False)
            lo, hi = 0, len(chain)
            while lo < hi:
                mid = (lo + hi) // 2
                s = status[chain[mid]]
                if s == FAIL:
                    lo = mid + 1
                elif s in (PASS, DOMINATED):
                    hi = mid
                elif check(chain[mid]):
                    hi = mid
                else:
                    lo = mid + 1
            if status[i] == PASS and exact and not evaluated[i]:
                check(i)
                break
            if status[i] == PASS and not evaluated[i]:
                check(i)

        result = SearchResult("optimal", lat.size, [c for c in checks if c is not None],
                              None if best["i"] is None else lat.node(best["i"]), count=len(checks))
        if not crit_mono:
            result.notes.append("privacy models not monotonic with suppression: every candidate checked "
                                "(pruned by the loss bound and by failure bounds)")
        self._finish(result, best, t0, status, pruned)
        return result

    def _finish(self, result: SearchResult, best: dict, t0: float, status: np.ndarray, pruned: int) -> None:
        result.score = best["score"]
        result.per_qi = best["vals"]
        result.suppressed = best["supp"]
        result.classes = best["classes"]
        result.elapsed = time.perf_counter() - t0
        result.tagged_fail = int((status == FAIL).sum())
        result.tagged_pass = int((status == PASS).sum() + (status == DOMINATED).sum())
        result.pruned_by_bound = pruned

    # ------------------------------------------------------------------ exhaustive search (the reference)
    def exhaustive(self, metrics: list[Metric] | None = None) -> dict[str, SearchResult] | SearchResult:
        """Check every node of the lattice (depth-first, each table derived from its parent's).

        With `metrics`, returns one result per metric label (all computed in the same pass).
        """
        t0 = time.perf_counter()
        ds, lat, crit = self.ds, self.lat, self.criteria
        ms = metrics or [self.metric]
        bests = [{"i": None, "score": None, "vals": None, "supp": 0, "classes": 0} for _ in ms]
        heights = [int(h) for h in lat.heights]
        d = ds.d
        count = 0
        stack: list[tuple[Classes, int]] = [(ds.bottom(), 0)]
        while stack:
            cl, last = stack.pop()
            levels = cl.levels
            count += 1
            ok = crit.ok(cl)
            supp = int(cl.counts[~ok].sum())
            i = lat.index(levels)
            if supp <= crit.max_outliers and (self.allowed is None or self.allowed[i]):
                for m, b in zip(ms, bests):
                    s, vals = m.value(levels, cl, ok)
                    if b["score"] is None or s < b["score"]:
                        b.update(i=i, score=s, vals=vals, supp=supp, classes=cl.size)
            for q in range(d - 1, last - 1, -1):
                if levels[q] < heights[q] - 1:
                    nl = list(levels)
                    nl[q] += 1
                    stack.append((ds.rollup(cl, tuple(nl)), q))
        out = {}
        for m, b in zip(ms, bests):
            r = SearchResult("exhaustive", lat.size, [], None if b["i"] is None else lat.node(b["i"]), count=count)
            self._finish(r, b, t0, np.zeros(1, dtype=np.int8), 0)
            out[m.label() + f"/{m.aggregate}/{m.gs_factor}"] = r
        return out if metrics else next(iter(out.values()))

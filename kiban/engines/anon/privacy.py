"""Privacy models evaluated on a class table: which equivalence classes fulfil the model.

Definitions follow the literature and ARX exactly:

* k-anonymity: |E| ≥ k.
* distinct ℓ-diversity: at least ℓ distinct sensitive values in E.
* entropy ℓ-diversity (Shannon estimator): H(E) = ln N − (1/N) Σ n_s ln n_s ≥ ln ℓ, and at least ⌈ℓ⌉
  distinct values.
* recursive (c,ℓ)-diversity: r₁ < c · (r_ℓ + … + r_m) with r₁ ≥ r₂ ≥ … the sorted frequencies, and at least ℓ
  distinct values.
* t-closeness, equal distance: EMD = ½ Σ |p_s − q_s| ≤ t (p: distribution in the whole table).
* t-closeness, hierarchical distance: Li et al.'s EMD over the value hierarchy of the sensitive attribute,
  Σ over inner nodes N of (level(N)/H) · min(pos(N), neg(N)), computed bottom-up exactly as ARX does.

A transformation fulfils the models when the records of the classes that fail any model (they are suppressed)
are at most ⌊limit · n⌋ (ARX's `absoluteMaxOutliers`).

Monotonicity (used by the search to prune): every model here is monotonic under generalisation when no
record may be suppressed. With suppression, k-anonymity and distinct ℓ-diversity stay monotonic (a merged class
contains a fulfilling class); entropy/recursive ℓ-diversity and t-closeness do not (merging a fulfilling with a
failing class can fail), so the search falls back to checking every candidate for them.

For those, each model also gives a *failure bound* (`fail_share`): for a class E of a transformation Y, a lower
bound on the share of E's records that fail the model in *every* specialisation X ≤ Y. It follows from the
convexity of the EMD and of recursive diversity's r₁ − c·Σ_{i≥ℓ} r_i, and the concavity of entropy, e.g. for
t-closeness d(E) ≤ w_F·1 + (1 − w_F)·t, so w_F ≥ (d(E) − t)/(1 − t). If the bounded records of Y already
exceed the suppression limit, Y and all its specialisations fail — predictive tagging for non-monotonic models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .lattice import Classes, Dataset

@dataclass
class Model:
    """Base class: `ok(classes)` marks the classes that fulfil the model."""

    attribute: str | None = None
    monotonic_with_suppression: bool = True
    _index: int = field(default=-1, repr=False)

    def bind(self, ds: Dataset) -> None:
        if self.attribute is not None:
            self._index = ds.sensitive_index(self.attribute)

    def ok(self, cl: Classes) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def fail_share(self, cl: Classes) -> np.ndarray:
        """Per class of Y: lower bound on the share of its records failing in every specialisation of Y."""
        return (~self.ok(cl)).astype(np.float64) if self.monotonic_with_suppression else np.zeros(cl.size)

    @property
    def min_class_size(self) -> int:
        return 1

    def describe(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def label_ja(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class KAnonymity(Model):
    k: int = 2

    def ok(self, cl: Classes) -> np.ndarray:
        return cl.counts >= self.k

    @property
    def min_class_size(self) -> int:
        return self.k

    def describe(self) -> dict:
        return {"model": "k-anonymity", "k": self.k}

    def label_ja(self) -> str:
        return f"k-匿名性 (k={self.k})"


@dataclass
class DistinctLDiversity(Model):
    l: int = 2  # noqa: E741

    def ok(self, cl: Classes) -> np.ndarray:
        return (cl.hists[self._index] > 0).sum(axis=1) >= self.l

    @property
    def min_class_size(self) -> int:
        return self.l

    def describe(self) -> dict:
        return {"model": "distinct-l-diversity", "attribute": self.attribute, "l": self.l}

    def label_ja(self) -> str:
        return f"distinct ℓ-多様性 (ℓ={self.l}, {self.attribute})"


@dataclass
class EntropyLDiversity(Model):
    l: float = 2.0  # noqa: E741
    monotonic_with_suppression: bool = False

    def _entropy(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        distinct = (h > 0).sum(axis=1)
        total = h.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            sum1 = np.where(h > 0, h * np.log(np.maximum(h, 1)), 0.0).sum(axis=1)
        return distinct, total, sum1

    def ok(self, cl: Classes) -> np.ndarray:
        distinct, total, sum1 = self._entropy(cl.hists[self._index])
        C = total * (np.log(np.maximum(total, 1)) - math.log(self.l))
        return (distinct >= math.ceil(self.l)) & (sum1 <= C)

    def fail_share(self, cl: Classes) -> np.ndarray:
        distinct, total, sum1 = self._entropy(cl.hists[self._index])
        t = np.maximum(total, 1).astype(np.float64)
        H = np.log(t) - sum1 / t
        share = np.clip(1.0 - H / math.log(self.l), 0.0, 1.0) if self.l > 1 else np.zeros(cl.size)
        return np.where(distinct < math.ceil(self.l), 1.0, share)

    @property
    def min_class_size(self) -> int:
        return math.ceil(self.l)

    def describe(self) -> dict:
        return {"model": "entropy-l-diversity", "attribute": self.attribute, "l": self.l}

    def label_ja(self) -> str:
        return f"エントロピー ℓ-多様性 (ℓ={self.l:g}, {self.attribute})"


@dataclass
class RecursiveCLDiversity(Model):
    c: float = 3.0
    l: int = 2  # noqa: E741
    monotonic_with_suppression: bool = False

    def ok(self, cl: Classes) -> np.ndarray:
        h = cl.hists[self._index]
        distinct = (h > 0).sum(axis=1)
        s = -np.sort(-h, axis=1)  # descending
        tail = s[:, self.l - 1:].sum(axis=1) if self.l - 1 < s.shape[1] else np.zeros(h.shape[0])
        return (distinct >= self.l) & (s[:, 0] < self.c * tail)

    def fail_share(self, cl: Classes) -> np.ndarray:
        h = cl.hists[self._index]
        distinct = (h > 0).sum(axis=1)
        s = -np.sort(-h, axis=1)
        tail = s[:, self.l - 1:].sum(axis=1) if self.l - 1 < s.shape[1] else np.zeros(h.shape[0])
        f = (s[:, 0] - self.c * tail) / np.maximum(h.sum(axis=1), 1)
        return np.where(distinct < self.l, 1.0, np.clip(f, 0.0, 1.0))

    @property
    def min_class_size(self) -> int:
        return self.l

    def describe(self) -> dict:
        return {"model": "recursive-(c,l)-diversity", "attribute": self.attribute, "c": self.c, "l": self.l}

    def label_ja(self) -> str:
        return f"再帰的 (c,ℓ)-多様性 (c={self.c:g}, ℓ={self.l}, {self.attribute})"


@dataclass
class EqualDistanceTCloseness(Model):
    t: float = 0.2
    monotonic_with_suppression: bool = False
    _p: np.ndarray | None = field(default=None, repr=False)

    def bind(self, ds: Dataset) -> None:
        super().bind(ds)
        s = ds.sensitive[self._index]
        self._p = np.bincount(s.codes, minlength=s.size) / ds.n

    def distance(self, cl: Classes) -> np.ndarray:
        h = cl.hists[self._index].astype(np.float64)
        total = h.sum(axis=1, keepdims=True)
        q = h / np.maximum(total, 1)
        p = self._p[None, :]
        # ARX: 1 + Σ over present values (|p − q| − p), halved; equals ½ Σ |p − q|.
        val = 1.0 + np.where(h > 0, np.abs(p - q) - p, 0.0).sum(axis=1)
        return val / 2

    def ok(self, cl: Classes) -> np.ndarray:
        return self.distance(cl) <= self.t

    def fail_share(self, cl: Classes) -> np.ndarray:
        return np.clip((self.distance(cl) - self.t) / (1.0 - self.t), 0.0, 1.0) if self.t < 1 else np.zeros(cl.size)

    def describe(self) -> dict:
        return {"model": "t-closeness", "distance": "equal", "attribute": self.attribute, "t": self.t}

    def label_ja(self) -> str:
        return f"t-近接性 (t={self.t:g}, 等距離, {self.attribute})"


@dataclass
class HierarchicalTCloseness(Model):
    t: float = 0.2
    monotonic_with_suppression: bool = False
    _p: np.ndarray | None = field(default=None, repr=False)
    _levels: list = field(default_factory=list, repr=False)
    _height: int = 1

    def bind(self, ds: Dataset) -> None:
        super().bind(ds)
        s = ds.sensitive[self._index]
        if s.hierarchy is None:
            from .errors import fail

            raise fail(f"privacy.t_closeness.{self.attribute}", "hierarchy_required",
                       "階層距離の t-近接性には機微属性の階層が必要です。",
                       "hierarchical-distance t-closeness needs a hierarchy for the sensitive attribute.")
        self._p = np.bincount(s.codes, minlength=s.size).astype(np.int64)
        rows = s.hierarchy.as_dict()
        H = s.hierarchy.height
        self._height = H - 1
        # For each inner level L (1..H-1): parent index of each node of level L-1 (level 0 = values).
        prev_keys = [(v,) for v in s.values]
        prev_rows = [rows[v] for v in s.values]
        self._levels = []
        for L in range(1, H):
            index: dict[str, int] = {}
            parent = np.empty(len(prev_keys), dtype=np.int64)
            for i, r in enumerate(prev_rows):
                parent[i] = index.setdefault(r[L], len(index))
            mat = np.zeros((len(prev_keys), len(index)), dtype=np.int64)
            mat[np.arange(len(prev_keys)), parent] = 1
            self._levels.append((L, mat))
            # next level's "rows": one representative row per node of level L
            reps: dict[int, tuple] = {}
            for i, r in enumerate(prev_rows):
                reps.setdefault(int(parent[i]), r)
            prev_rows = [reps[j] for j in range(len(index))]
            prev_keys = list(range(len(index)))

    def distance(self, cl: Classes) -> np.ndarray:
        h = cl.hists[self._index].astype(np.int64)
        P = int(self._p.sum())
        Q = h.sum(axis=1, keepdims=True)
        extra = self._p[None, :] * Q - h * P  # p_i − q_i, scaled by P·Q
        cost = np.zeros(h.shape[0], dtype=np.float64)
        for L, mat in self._levels:
            pos = np.maximum(extra, 0) @ mat
            neg = np.maximum(-extra, 0) @ mat
            cost += (L / self._height) * np.minimum(pos, neg).sum(axis=1)
            extra = pos - neg
        return cost / (float(P) * Q[:, 0].astype(np.float64))

    def ok(self, cl: Classes) -> np.ndarray:
        return self.distance(cl) <= self.t

    def fail_share(self, cl: Classes) -> np.ndarray:
        return np.clip((self.distance(cl) - self.t) / (1.0 - self.t), 0.0, 1.0) if self.t < 1 else np.zeros(cl.size)

    def describe(self) -> dict:
        return {"model": "t-closeness", "distance": "hierarchical", "attribute": self.attribute, "t": self.t}

    def label_ja(self) -> str:
        return f"t-近接性 (t={self.t:g}, 階層距離, {self.attribute})"


class Criteria:
    """A conjunction of models with a record-suppression limit."""

    def __init__(self, models: list[Model], suppression_limit: float, n: int):
        self.models = models
        self.limit = suppression_limit
        self.max_outliers = int(n * suppression_limit + 1e-12)  # ARX: (int)(n * limit)
        self.n = n

    def bind(self, ds: Dataset) -> "Criteria":
        for m in self.models:
            m.bind(ds)
        return self

    @property
    def monotonic(self) -> bool:
        return self.max_outliers == 0 or all(m.monotonic_with_suppression for m in self.models)

    @property
    def monotonic_part(self) -> list[Model]:
        return [m for m in self.models if m.monotonic_with_suppression]

    def ok(self, cl: Classes, models: list[Model] | None = None) -> np.ndarray:
        mask = np.ones(cl.size, dtype=bool)
        for m in self.models if models is None else models:
            mask &= m.ok(cl)
        return mask

    def fail_bound(self, cl: Classes) -> float:
        """Records that fail in every specialisation of this transformation (lower bound)."""
        share = np.zeros(cl.size)
        for m in self.models:
            share = np.maximum(share, m.fail_share(cl))
        return float((share * cl.counts).sum())

    def describe(self) -> list[dict]:
        return [m.describe() for m in self.models]

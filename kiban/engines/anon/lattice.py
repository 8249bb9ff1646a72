"""The encoded data set, the generalisation lattice and equivalence-class tables (the hot path).

Every quasi-identifier (QI) is encoded once as integer codes per generalisation level; the lattice is the set
of all full-domain transformations (one level per QI). The equivalence classes of a transformation are kept
as a *class table*: one row per class with the class's QI codes, its size and, when a sensitive attribute is
modelled, its histogram of sensitive values. A table for a coarser transformation is derived from the table of
any finer one (a predecessor in the lattice) by mapping codes up the hierarchies and grouping the class rows —
never from the input rows again — so the cost of a check depends on the number of classes of the source, not
on the number of records.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np

from .hierarchy import Hierarchy

DENSE_LIMIT = 1 << 22  # group with a dense bincount when the key space is at most this large


@dataclass
class QI:
    """One quasi-identifier, encoded: base code per row and code maps per level."""

    name: str
    hierarchy: Hierarchy
    values: list[str]  # distinct values present in the data; base code = index
    labels: list[list[str]]  # per level: label of each level code
    maps: list[np.ndarray]  # per level: base code -> level code
    up: dict[tuple[int, int], np.ndarray]  # (a, b) with a < b: level-a code -> level-b code
    counts: np.ndarray  # records per base value
    arx_order: np.ndarray | None = None  # base codes in order of first appearance in the data

    @property
    def height(self) -> int:
        return len(self.labels)

    def card(self, level: int) -> int:
        return len(self.labels[level])


def natural_key(text: str):
    """Sort key that orders embedded numbers numerically (`9` before `10`)."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text) if t != ""]


def encode_qi(name: str, column: np.ndarray, hierarchy: Hierarchy) -> tuple[QI, np.ndarray]:
    """Encode a column (array of str) with its hierarchy; returns the QI and the base code of every row.

    Base values are ordered along the hierarchy (by their labels from the top level down), so that every
    level's codes are contiguous under their parent: the maps between levels are non-decreasing, which keeps
    derived class tables nearly sorted and makes grouping them cheap.
    """
    hierarchy.check_covers(np.unique(column).tolist())
    uniq, first, inverse = np.unique(column, return_index=True, return_inverse=True)
    rows = hierarchy.as_dict()
    H = hierarchy.height
    order = sorted(range(len(uniq)), key=lambda i: [natural_key(rows[str(uniq[i])][L]) for L in range(H - 1, -1, -1)])
    rank = np.empty(len(order), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
    codes = rank[inverse].astype(np.int32)
    values = [str(uniq[i]) for i in order]
    # ARX's dictionary order (first appearance in the data), used where the order of summation matters.
    arx_order = rank[np.argsort(first, kind="stable")]
    labels: list[list[str]] = []
    maps: list[np.ndarray] = []
    for level in range(H):
        index: dict[str, int] = {}
        m = np.empty(len(values), dtype=np.int32)
        for i, v in enumerate(values):
            m[i] = index.setdefault(rows[v][level], len(index))
        labels.append(list(index))
        maps.append(m)
    up: dict[tuple[int, int], np.ndarray] = {}
    for a in range(H):
        for b in range(a + 1, H):
            u = np.zeros(len(labels[a]), dtype=np.int32)
            u[maps[a]] = maps[b]
            up[(a, b)] = u
    counts = np.bincount(codes, minlength=len(values)).astype(np.int64)
    return QI(name, hierarchy, values, labels, maps, up, counts, arx_order), codes


@dataclass
class Sensitive:
    """A sensitive attribute: code per row, its values and (optionally) its hierarchy."""

    name: str
    values: list[str]
    codes: np.ndarray
    hierarchy: Hierarchy | None = None

    @property
    def size(self) -> int:
        return len(self.values)


class Classes:
    """Equivalence classes of one transformation: QI codes per class (decoded lazily), sizes, histograms."""

    __slots__ = ("levels", "counts", "hists", "_codes", "_key", "_parts", "_d", "_first", "_src", "_maps")

    def __init__(self, levels, codes, counts, hists=None, key=None, parts=None, d=0, first=None, src=None, maps=None):
        self.levels = tuple(levels)
        self.counts = counts  # (m,) int64
        self.hists = hists if hists is not None else []  # per sensitive attribute, (m, S) int64
        self._codes = codes  # (d, m) int32 or None until needed
        self._key = key
        self._parts = parts
        self._d = d
        self._first = first  # source row of each class (sort path): codes are gathered, not divided out
        self._src = src  # the source's code arrays
        self._maps = maps  # per QI: map from the source's level to this level, or None

    @property
    def codes(self) -> np.ndarray:
        if self._codes is None:
            uniq = self._key
            out = np.zeros((self._d, uniq.shape[0]), dtype=np.int32)
            if self._first is not None:
                for q, _stride, _card in self._parts:
                    c = self._src[q][self._first]
                    out[q] = c if self._maps[q] is None else self._maps[q][c]
            else:
                for q, stride, card in self._parts:
                    out[q] = (uniq // stride) % card if stride > 1 else uniq % card
            self._codes = out
            self._key = self._first = self._src = self._maps = None
        return self._codes

    @property
    def size(self) -> int:
        return int(self.counts.shape[0])


class Lattice:
    """All full-domain transformations: node i has levels `levels[i]` (one per QI)."""

    def __init__(self, heights: list[int]):
        self.heights = np.asarray(heights, dtype=np.int64)
        self.d = len(heights)
        self.size = int(np.prod(self.heights)) if heights else 1
        self.levels = np.array(list(itertools.product(*[range(h) for h in heights])), dtype=np.int8).reshape(
            self.size, self.d
        )
        self.radix = np.ones(self.d, dtype=np.int64)
        for q in range(self.d - 2, -1, -1):
            self.radix[q] = self.radix[q + 1] * self.heights[q + 1]
        self.level_sum = self.levels.sum(axis=1, dtype=np.int64)
        self.top = tuple(int(h) - 1 for h in heights)
        # Per QI and level: masks of the nodes at or below / at or above that level (for fast tagging).
        self._le = [[self.levels[:, q] <= lv for lv in range(int(h))] for q, h in enumerate(heights)]
        self._ge = [[self.levels[:, q] >= lv for lv in range(int(h))] for q, h in enumerate(heights)]

    def index(self, levels) -> int:
        return int(np.dot(np.asarray(levels, dtype=np.int64), self.radix))

    def node(self, i: int) -> tuple[int, ...]:
        return tuple(int(x) for x in self.levels[i])

    def upset(self, i: int) -> np.ndarray:
        """Mask of node i and all its generalisations (successors)."""
        mask = np.ones(self.size, dtype=bool)
        for q, lv in enumerate(self.levels[i].tolist()):
            if lv > 0:
                mask &= self._ge[q][lv]
        return mask

    def downset(self, i: int) -> np.ndarray:
        """Mask of node i and all its specialisations (predecessors)."""
        mask = np.ones(self.size, dtype=bool)
        for q, lv in enumerate(self.levels[i].tolist()):
            if lv < self.heights[q] - 1:
                mask &= self._le[q][lv]
        return mask

    def successors(self, i: int) -> list[int]:
        lv = self.levels[i]
        return [i + int(self.radix[q]) for q in range(self.d) if lv[q] < self.heights[q] - 1]

    def predecessors(self, i: int) -> list[int]:
        lv = self.levels[i]
        return [i - int(self.radix[q]) for q in range(self.d) if lv[q] > 0]


class Dataset:
    """The encoded input: QIs, sensitive attributes and the lattice, with class-table derivation."""

    def __init__(self, qis: list[QI], qi_codes: np.ndarray, sensitive: list[Sensitive], n: int):
        self.qis = qis
        self.d = len(qis)
        self.n = n
        self.qi_codes = qi_codes  # (d, n) int32 base codes
        self.sensitive = sensitive
        self.lattice = Lattice([q.height for q in qis])
        self.cards = [np.array([q.card(level) for level in range(q.height)], dtype=np.int64) for q in qis]
        self._bottom: Classes | None = None
        self.groupings = 0  # number of class tables derived (for statistics)

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def build(cls, columns: dict[str, np.ndarray], hierarchies: dict[str, Hierarchy],
              sensitive: dict[str, Hierarchy | None] | None = None) -> "Dataset":
        qis, codes = [], []
        n = len(next(iter(columns.values()))) if columns else 0
        for name, h in hierarchies.items():
            qi, c = encode_qi(name, columns[name], h)
            qis.append(qi)
            codes.append(c)
        sens = []
        for name, h in (sensitive or {}).items():
            col = columns[name]
            if h is not None:
                h.check_covers(np.unique(col).tolist(), f"columns.{name}.hierarchy")
            uniq, inv = np.unique(col, return_inverse=True)
            sens.append(Sensitive(name, [str(v) for v in uniq], inv.astype(np.int32), h))
        qi_codes = np.vstack(codes) if codes else np.zeros((0, n), dtype=np.int32)
        return cls(qis, qi_codes, sens, n)

    def sensitive_index(self, name: str) -> int:
        for i, s in enumerate(self.sensitive):
            if s.name == name:
                return i
        raise KeyError(name)

    # ------------------------------------------------------------------ class tables
    def _group(self, codes: list[np.ndarray], levels: tuple[int, ...], weights: np.ndarray,
               hists: list[np.ndarray] | None, sens_rows: bool,
               from_levels: tuple[int, ...] | None = None) -> Classes:
        """Group rows (of the input, or of a finer class table) by their codes at `levels`.

        `codes[q]` are codes at `from_levels[q]` (or at `levels[q]` when from_levels is None). The key is
        mixed-radix with the first QI most significant, built by gathering from small per-QI tables
        (level map × stride); tables come out sorted by it. Because the maps between levels are
        non-decreasing, the keys of a derived table are made of sorted runs, which a stable (run-merging)
        sort groups in near-linear time.
        """
        self.groupings += 1
        m = weights.shape[0]
        key = None
        parts = []
        K = 1
        for q in range(self.d - 1, -1, -1):
            card = int(self.cards[q][levels[q]])
            if card == 1:
                continue
            a = levels[q] if from_levels is None else from_levels[q]
            b = levels[q]
            if a == b:
                table = np.arange(card, dtype=np.int64) * K
            else:
                table = self.qis[q].up[(a, b)].astype(np.int64) * K
            contrib = table[codes[q]]
            if key is None:
                key = contrib
            else:
                key += contrib
            parts.append((q, K, card))
            K *= card
        if key is None:
            key = np.zeros(m, dtype=np.int64)
        new_hists: list[np.ndarray] = []
        if not hists and K <= DENSE_LIMIT and K <= 4 * m + 1024:
            dense = np.bincount(key, weights=weights, minlength=K)
            uniq = np.flatnonzero(dense)
            counts = dense[uniq].astype(np.int64)
            return Classes(levels, None, counts, new_hists, key=uniq, parts=parts, d=self.d)
        if m > 1 and bool((key[1:] >= key[:-1]).all()):
            perm = None
            sk = key
            w = weights
        else:
            perm = np.argsort(key, kind="stable")
            sk = key[perm]
            w = weights[perm]
        flag = np.empty(m, dtype=bool)
        if m:
            flag[0] = True
            np.not_equal(sk[1:], sk[:-1], out=flag[1:])
        starts = np.flatnonzero(flag)
        counts = np.add.reduceat(w, starts).astype(np.int64) if m else np.zeros(0, dtype=np.int64)
        g = starts.shape[0]
        first = starts if perm is None else perm[starts]
        maps = [None if (from_levels is None or from_levels[q] == levels[q]) else self.qis[q].up[(from_levels[q], levels[q])]
                for q in range(self.d)]
        result = Classes(levels, None, counts, new_hists, key=sk[starts], parts=parts, d=self.d, first=first,
                         src=codes, maps=maps)
        if hists:
            if sens_rows:
                inv = np.empty(m, dtype=np.int64)
                grp = np.cumsum(flag) - 1
                if perm is None:
                    inv = grp
                else:
                    inv[perm] = grp
            for h in hists:
                if sens_rows:  # h: the sensitive code of every input row
                    S = int(h.max()) + 1 if h.size else 1
                    flat = np.bincount(inv * S + h, minlength=g * S)
                    new_hists.append(flat.reshape(g, S).astype(np.int64))
                else:
                    hp = h if perm is None else h[perm]
                    new_hists.append(np.add.reduceat(hp, starts, axis=0) if m else h[:0])
        return result

    def bottom(self) -> Classes:
        """Classes of the identity transformation, grouped from the input rows (done once)."""
        if self._bottom is None:
            levels = tuple(0 for _ in range(self.d))
            codes = [self.qi_codes[q] for q in range(self.d)]
            hists = [s.codes for s in self.sensitive]
            b = self._group(codes, levels, np.ones(self.n, dtype=np.int64), hists or None, True)
            # Histograms need the full width S of every sensitive attribute.
            fixed = []
            for s, h in zip(self.sensitive, b.hists):
                if h.shape[1] < s.size:
                    h = np.hstack([h, np.zeros((h.shape[0], s.size - h.shape[1]), dtype=np.int64)])
                fixed.append(h)
            b.hists = fixed
            self._bottom = b
        return self._bottom

    def rollup(self, src: Classes, levels: tuple[int, ...]) -> Classes:
        """Classes of `levels` derived from the classes of a finer transformation `src`."""
        if tuple(src.levels) == tuple(levels):
            return src
        for q in range(self.d):
            if src.levels[q] > levels[q]:
                raise ValueError("rollup source must be a specialisation of the target")
        return self._group(src.codes, tuple(levels), src.counts, src.hists or None, False, src.levels)

    def classes_of(self, levels: tuple[int, ...]) -> Classes:
        return self.rollup(self.bottom(), tuple(levels))

    def row_classes(self, levels: tuple[int, ...]) -> tuple[np.ndarray, Classes]:
        """Class index of every input row for `levels`, and the class table (same class order)."""
        key = np.zeros(self.n, dtype=np.int64)
        K = 1
        for q in range(self.d - 1, -1, -1):
            c = self.qis[q].maps[levels[q]][self.qi_codes[q]]
            key += c.astype(np.int64) * K
            K *= int(self.cards[q][levels[q]])
        uniq, inv = np.unique(key, return_inverse=True)
        cl = self.classes_of(levels)
        # classes_of orders classes by the same mixed-radix key (ascending), so indices agree.
        return inv, cl

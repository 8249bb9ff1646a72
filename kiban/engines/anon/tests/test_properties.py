"""Property-based tests (hypothesis) on random small tables with random hierarchies.

* every output satisfies the models (k-anonymity always; ℓ/t when configured) and suppresses at most the limit;
* the optimal search returns the exhaustive optimum, for random models, limits and metrics;
* metrics are monotone under generalisation where theory says so;
* the failure bounds used to prune non-monotonic models are sound: the records a coarser node bounds to fail
  do fail in every finer node.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiban.engines.anon.hierarchy import Hierarchy
from kiban.engines.anon.lattice import Dataset
from kiban.engines.anon.metrics import Metric
from kiban.engines.anon.privacy import (
    Criteria,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualDistanceTCloseness,
    HierarchicalTCloseness,
    KAnonymity,
    RecursiveCLDiversity,
)
from kiban.engines.anon.search import Search

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
METRICS = [("entropy", True), ("entropy", False), ("precision", True), ("precision", False), ("height", True),
           ("discernibility", True), ("discernibility", False), ("aecs", True), ("loss", True)]


@st.composite
def hierarchy(draw, name: str):
    m = draw(st.integers(2, 7))
    values = [f"{name}{i}" for i in range(m)]
    rows = [[v] for v in values]
    height = draw(st.integers(2, 4))
    current = list(range(m))  # group id of each value at the current level
    for level in range(1, height - 1):
        groups = draw(st.integers(1, max(1, len(set(current)) - 1)))
        mapping = {g: draw(st.integers(0, groups - 1)) for g in sorted(set(current))}
        current = [mapping[g] for g in current]
        for r, g in zip(rows, current):
            r.append(f"{name}L{level}G{g}")
    for r in rows:
        r.append("*")
    return Hierarchy(name, [tuple(r) for r in rows])


@st.composite
def problem(draw):
    d = draw(st.integers(1, 3))
    hs = [draw(hierarchy(f"q{j}")) for j in range(d)]
    n = draw(st.integers(8, 80))
    cols = {h.name: np.array([draw(st.sampled_from([r[0] for r in h.rows])) for _ in range(n)]) for h in hs}
    svals = ["a", "b", "c", "d", "e"][: draw(st.integers(2, 5))]
    cols["s"] = np.array([draw(st.sampled_from(svals)) for _ in range(n)])
    shier = Hierarchy("s", [(v, "x" if i % 2 else "y", "*") for i, v in enumerate(svals)])
    ds = Dataset.build(cols, {h.name: h for h in hs}, {"s": shier})
    models = [KAnonymity(k=draw(st.integers(1, 6)))]
    extra = draw(st.sampled_from(["none", "distinct", "entropy", "recursive", "equal", "hier"]))
    if extra == "distinct":
        models.append(DistinctLDiversity(attribute="s", l=draw(st.integers(1, 3))))
    elif extra == "entropy":
        models.append(EntropyLDiversity(attribute="s", l=draw(st.sampled_from([1.5, 2.0, 2.5]))))
    elif extra == "recursive":
        models.append(RecursiveCLDiversity(attribute="s", c=draw(st.sampled_from([1.0, 2.0, 3.0])), l=draw(st.integers(2, 3))))
    elif extra == "equal":
        models.append(EqualDistanceTCloseness(attribute="s", t=draw(st.sampled_from([0.1, 0.3, 0.5]))))
    elif extra == "hier":
        models.append(HierarchicalTCloseness(attribute="s", t=draw(st.sampled_from([0.1, 0.3, 0.5]))))
    limit = draw(st.sampled_from([0.0, 0.05, 0.1, 0.3, 1.0]))
    crit = Criteria(models, limit, n).bind(ds)
    return ds, crit


@pytest.mark.slow
@SETTINGS
@given(problem(), st.sampled_from(METRICS))
def test_search_is_optimal_and_output_is_safe(prob, metric_spec):
    ds, crit = prob
    metric = Metric(metric_spec[0], monotonic_variant=metric_spec[1]).bind(ds)
    s = Search(ds, crit, metric)
    res = s.run()
    ref = s.exhaustive()
    assert (res.optimum is None) == (ref.optimum is None)
    if res.optimum is None:
        return
    assert res.score == ref.score
    # the released rows: classes that fail a model are suppressed, never more than the limit
    inv, cl = ds.row_classes(res.optimum)
    ok = crit.ok(cl)
    suppressed = int(cl.counts[~ok].sum())
    assert suppressed == res.suppressed <= crit.max_outliers <= crit.limit * ds.n
    kept = np.flatnonzero(ok[inv])
    if kept.size:
        sizes = np.bincount(inv[kept])
        sizes = sizes[sizes > 0]
        k = next(m.k for m in crit.models if isinstance(m, KAnonymity))
        assert sizes.min() >= k


@st.composite
def node_pair(draw, ds: Dataset):
    lat = ds.lattice
    y = draw(st.integers(0, lat.size - 1))
    below = np.flatnonzero(lat.downset(y))
    x = int(below[draw(st.integers(0, len(below) - 1))])
    return x, y


@pytest.mark.slow
@SETTINGS
@given(problem(), st.data())
def test_monotone_metrics_and_sound_failure_bounds(prob, data):
    ds, crit = prob
    x, y = data.draw(node_pair(ds))
    lx, ly = ds.lattice.node(x), ds.lattice.node(y)
    cx, cy = ds.classes_of(lx), ds.classes_of(ly)
    okx, oky = crit.ok(cx), crit.ok(cy)
    # soundness of the failure bound (the pruning rule for non-monotonic models)
    assert int(cx.counts[~okx].sum()) >= crit.fail_bound(cy) - 1e-6
    # metrics that ARX declares monotonic grow with generalisation
    for name, mono in METRICS:
        m = Metric(name, monotonic_variant=mono).bind(ds)
        if m.monotonic(suppression=True):
            vx = m.value(lx, cx, okx)[0]
            vy = m.value(ly, cy, oky)[0]
            assert vy >= vx - 1e-9, (name, lx, ly, vx, vy)
        elif okx.all() and oky.all():  # without suppression every metric is monotonic
            vx = m.value(lx, cx, okx)[0]
            vy = m.value(ly, cy, oky)[0]
            assert vy >= vx - 1e-9, (name, lx, ly, vx, vy)
    # monotonic models: if the finer node satisfies the model in a class, the coarser one keeps it
    mono_models = [mdl for mdl in crit.models if mdl.monotonic_with_suppression]
    if mono_models:
        assert int(cy.counts[~crit.ok(cy, mono_models)].sum()) <= int(cx.counts[~crit.ok(cx, mono_models)].sum())

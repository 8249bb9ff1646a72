"""Agreement with the reference tool ARX on Adult (../shared/eval/anon/arx_reference.csv).

Only what ARX's own JUnit suite asserts is used as ground truth (see that folder's README):
* per-node losses of TestUtilityMetrics.java (asserted to 1e-8) for every metric we implement;
* the loss of the global optimum of the anonymisation tests (the transformation is not asserted there, so
  ties are possible and only losses are compared). With ARX's heuristic "practical monotonicity" switched on,
  ARX may miss the optimum; for those cases our exact optimum must be at least as good.
Cases whose definitions we do not implement (δ-presence, research subsets, k-map, differential privacy,
β-likeness, ordered-distance t-closeness, the Grassberger entropy estimator, local recoding, the heuristic
and genetic algorithms) are skipped with that reason.
"""

from __future__ import annotations

import re

import pytest

from kiban.engines.anon.metrics import Metric, format_score
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

from .conftest import ADULT_COLUMNS, adult_dataset, arx_reference_rows

ROWS = arx_reference_rows()
UNSUPPORTED = ("delta-presence", "k-map", "differential", "beta-likeness", "ordered distance", "GRASSBERGER",
               "profitab", "risk", "uniqueness", "d-disclosure", "average-risk", "Inclusion", "population")


def parse_models(text: str, sens: str):
    models = []
    for part in text.split(" + "):
        if part.startswith("k="):
            models.append(KAnonymity(k=int(part[2:])))
        elif m := re.match(r"t-closeness\(t=([\d.]+), hierarchical distance\)", part):
            models.append(HierarchicalTCloseness(attribute=sens, t=float(m[1])))
        elif m := re.match(r"t-closeness\(t=([\d.]+), equal ground distance\)", part):
            models.append(EqualDistanceTCloseness(attribute=sens, t=float(m[1])))
        elif m := re.match(r"recursive-\(c=([\d.]+),l=(\d+)\)-diversity", part):
            models.append(RecursiveCLDiversity(attribute=sens, c=float(m[1]), l=int(m[2])))
        elif m := re.match(r"entropy-l-diversity\(l=([\d.]+)(?:, estimator=SHANNON)?\)", part):
            models.append(EntropyLDiversity(attribute=sens, l=float(m[1])))
        elif m := re.match(r"distinct-l-diversity\(l=(\d+)\)", part):
            models.append(DistinctLDiversity(attribute=sens, l=int(m[1])))
        else:
            return None
    return models


def parse_metric(java: str, weights=None):
    agg = (m[1].lower() if (m := re.search(r"AggregateFunction\.(\w+)", java)) else None)
    gs = float(m[1]) if (m := re.search(r"Metric\.create\w+\((\d\.\d+)d", java)) and "Entropy" not in java else 0.5
    mono = "true" in java
    if "AECS" in java:
        return Metric("aecs", gs_factor=gs)
    if "Entropy" in java:
        return Metric("entropy", monotonic_variant=mono)
    if "Discernability" in java:
        return Metric("discernibility", monotonic_variant=mono)
    if "Height" in java:
        return Metric("height")
    if "Precision" in java:
        return Metric("precision", monotonic_variant=mono)
    if "LossMetric" in java:
        return Metric("loss", aggregate=agg, gs_factor=gs, weights=weights)
    return None


def expected_value(text: str):
    if text.startswith("["):
        return tuple(float(x) for x in text.strip("[]").split(","))
    return float(text)


def close(a, b, tol=1e-8) -> bool:
    if isinstance(b, tuple):
        return isinstance(a, tuple) and len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))
    return abs(a - b) <= tol * max(1.0, abs(b))


_DS: dict = {}


def dataset_for(adult, sens: str):
    if sens not in _DS:
        _DS[sens] = adult_dataset(adult, sens or None)
    return _DS[sens]


def _params(kind_filter):
    if ROWS is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/eval/anon is absent"))]
    out = []
    for r in ROWS:
        if not kind_filter(r):
            continue
        reason = next((u for u in UNSUPPORTED if u.lower() in (r["privacy_model"] + r["source_file"]).lower()), None)
        if reason is None and r["other_config"] and "weight()" not in r["other_config"] \
                and "adds new HierarchicalDistanceTCloseness" not in r["other_config"]:
            reason = "extra configuration not modelled: " + r["other_config"][:60]
        ident = f"{r['source_file'].split('/')[-1][:-5]}-{r['case_index']}-{r.get('expected_transformation', '')}"
        marks = [pytest.mark.skip(reason=f"definition not implemented ({reason})")] if reason else []
        out.append(pytest.param(r, id=ident, marks=marks))
    return out


PER_NODE = _params(lambda r: r["source_file"].endswith("/TestUtilityMetrics.java") and r["kind"] == "per_transformation")


@pytest.mark.slow
@pytest.mark.parametrize("row", PER_NODE)
def test_per_node_loss_matches_arx(adult, row):
    sens = row["sensitive_attribute"]
    ds = dataset_for(adult, sens)
    models = parse_models(row["privacy_model"], sens)
    metric = parse_metric(row["metric_java"])
    assert models is not None and metric is not None
    crit = Criteria(models, float(row["suppression_limit"]), ds.n).bind(ds)
    metric.bind(ds)
    levels = tuple(int(x) for x in row["expected_transformation"].strip("[]").split(","))
    cl = ds.classes_of(levels)
    score, _ = metric.value(levels, cl, crit.ok(cl))
    assert close(score, expected_value(row["expected_information_loss"])), (format_score(score), row["expected_information_loss"])


OPTIMA_FILES = ("TestAnonymizationKAnonymity.java", "TestAnonymizationLDiversity.java",
                "TestAnonymizationEntropyLDiversity.java", "TestAnonymizationTCloseness.java",
                "TestAnonymizationCombinations.java", "TestUtilityMetricsLoss.java")


def _is_optimum_case(r) -> bool:
    f = r["source_file"].split("/")[-1]
    if f not in OPTIMA_FILES or r["kind"] not in ("optimum", "no_solution"):
        return False
    if f == "TestUtilityMetricsLoss.java":  # 100 cases; a spread of them keeps the suite short
        return int(r["case_index"]) % 7 == 0
    return True


OPTIMA = _params(_is_optimum_case)


@pytest.mark.slow
@pytest.mark.parametrize("row", OPTIMA)
def test_optimum_matches_arx(adult, row):
    sens = row["sensitive_attribute"]
    models = parse_models(row["privacy_model"], sens)
    assert models is not None
    if "TestAnonymizationTCloseness" in row["source_file"] and not any("Closeness" in type(m).__name__ for m in models):
        models.append(HierarchicalTCloseness(attribute=sens, t=0.2))  # as ARX's test body does
    uses_sensitive = any(m.attribute for m in models)
    ds = dataset_for(adult, sens if (uses_sensitive or sens) else "")
    weights = {c: i + 1 for i, c in enumerate(ADULT_COLUMNS)} if "weight()" in row["other_config"] else None
    metric = parse_metric(row["metric_java"], weights)
    crit = Criteria(models, float(row["suppression_limit"]), ds.n).bind(ds)
    metric.bind(ds)
    res = Search(ds, crit, metric).run()
    if row["kind"] == "no_solution":
        assert res.optimum is None
        return
    exp = expected_value(row["expected_information_loss"])
    assert res.optimum is not None
    if row["practical_monotonicity"] == "true":
        # ARX assumed monotonicity heuristically here: it may have missed the optimum, never beaten it.
        assert close(res.score, exp) or res.score < exp, (format_score(res.score), exp)
    else:
        assert close(res.score, exp, 1e-9), (format_score(res.score), row["expected_information_loss"], res.optimum)

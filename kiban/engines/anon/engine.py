"""The anonymisation flow: validate everything, search, apply, assess, write.

`prepare()` does all the checking (configuration, columns, hierarchies, impossible settings) and encodes the
data; nothing is written and no search is run until it has succeeded. `anonymize()` runs the search and
builds the released table and the report; `run()` does both and writes the files atomically.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from . import risk as risk_mod
from .config import Config, load_config, require
from .errors import AnonError, fail, preview
from .hierarchy import Hierarchy, build, flat, read_hierarchy_csv
from .io import read_table, write_table_atomic, write_text_atomic
from .lattice import Dataset
from .metrics import Metric, format_score
from .privacy import (
    Criteria,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualDistanceTCloseness,
    HierarchicalTCloseness,
    KAnonymity,
    RecursiveCLDiversity,
)
from .search import Search, SearchResult
from .verify import check_release


@dataclass
class Prepared:
    cfg: Config
    df: pl.DataFrame
    qis: list[str]
    sensitive: list[str]
    hierarchies: dict[str, Hierarchy]
    sensitive_hierarchies: dict[str, Hierarchy | None]
    dataset: Dataset
    criteria: Criteria
    metric: Metric
    allowed: np.ndarray | None = None
    dropped: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Outcome:
    result: SearchResult
    released: pl.DataFrame
    report: dict
    suppressed_rows: np.ndarray
    paths: dict[str, str] = field(default_factory=dict)


def load_hierarchy(cfg: Config, name: str, spec, values: list[str], allow_files: bool = True) -> Hierarchy:
    if spec is None:
        return flat(name, values)
    if (isinstance(spec, str) or "file" in spec) and not allow_files:
        raise fail(f"columns.{name}.hierarchy", "files_not_allowed",
                   "ここでは階層ファイルを参照できません。ビルダーか rows（値の一覧）で指定してください。",
                   "hierarchy files cannot be referenced here; use a builder or inline rows.")
    if isinstance(spec, dict) and "rows" in spec:
        rows = spec["rows"]
        if not isinstance(rows, list) or not all(isinstance(r, (list, tuple)) and r for r in rows):
            raise fail(f"columns.{name}.hierarchy.rows", "type", "rows は [値, 段1, …] の一覧です。",
                       "rows is a list of [value, level1, …].")
        h = Hierarchy(name, [tuple(str(x) for x in r) for r in rows], source="inline rows")
        h.validate(f"columns.{name}.hierarchy")
    elif isinstance(spec, str):
        h = read_hierarchy_csv(cfg.resolve(spec), name)
    elif "file" in spec:
        h = read_hierarchy_csv(cfg.resolve(spec["file"]), name, separator=spec.get("separator", ";"),
                               encoding=spec.get("encoding", "utf-8"))
    else:
        h = build(name, values, spec)
    h.check_covers(values, f"columns.{name}.hierarchy")
    return h


def build_models(cfg: Config) -> list:
    models = []
    if cfg.k is not None:
        models.append(KAnonymity(k=cfg.k))
    for item in cfg.l_diversity:
        if item["variant"] == "distinct":
            models.append(DistinctLDiversity(attribute=item["attribute"], l=int(item["l"])))
        elif item["variant"] == "entropy":
            models.append(EntropyLDiversity(attribute=item["attribute"], l=float(item["l"])))
        else:
            models.append(RecursiveCLDiversity(attribute=item["attribute"], c=float(item["c"]), l=int(item["l"])))
    for item in cfg.t_closeness:
        cls = EqualDistanceTCloseness if item["distance"] == "equal" else HierarchicalTCloseness
        models.append(cls(attribute=item["attribute"], t=float(item["t"])))
    return models


def prepare(cfg: Config | str | Path | dict, df: pl.DataFrame | None = None, allow_files: bool = True) -> Prepared:
    """Validate the configuration against the data and encode it. Raises AnonError before any work.

    `allow_files=False` (the web page) refuses hierarchy files named in the configuration.
    """
    t0 = time.perf_counter()
    if not isinstance(cfg, Config):
        cfg = load_config(cfg)
    require(cfg, "columns", "quasi", "privacy")
    if df is None:
        require(cfg, "input")
        df = read_table(cfg.input_path, cfg.input_format, cfg.separator, cfg.encoding, cfg.sheet)
    n = df.height
    # columns
    unknown = [c for c in cfg.columns if c not in df.columns]
    if unknown:
        raise fail(f"columns.{unknown[0]}", "unknown_column",
                   f"データにない列です（データの列: {preview(df.columns, 8)}）。",
                   f"no such column in the data (columns: {preview(df.columns, 8)}).",
                   details={"unknown": unknown})
    unlisted = [c for c in df.columns if c not in cfg.columns]
    dropped: list[str] = []
    if unlisted:
        if cfg.unlisted == "error":
            raise fail("columns", "unlisted_column",
                       f"役割が指定されていない列があります: {preview(unlisted)}（unlisted: keep か drop で扱いを指定できます）",
                       f"columns without a role: {preview(unlisted)} (set unlisted: keep or drop).",
                       details={"unlisted": unlisted})
        if cfg.unlisted == "drop":
            dropped = unlisted
    if n == 0:
        raise fail("input.path", "empty", "データに行がありません。", "the data has no rows.")
    qis = cfg.quasi()
    sens = cfg.sensitive()
    # hierarchies (validated and checked to cover every value)
    hierarchies = {}
    for name in qis:
        values = df[name].unique().to_list()
        hierarchies[name] = load_hierarchy(cfg, name, cfg.columns[name].hierarchy, values, allow_files)
    sens_h: dict[str, Hierarchy | None] = {}
    modelled = {i["attribute"] for i in cfg.l_diversity + cfg.t_closeness}
    for name in sens:
        if name in modelled:
            spec = cfg.columns[name].hierarchy
            sens_h[name] = (load_hierarchy(cfg, name, spec, df[name].unique().to_list(), allow_files)
                            if spec is not None else None)
    # impossible settings
    if cfg.k is not None and cfg.k > n:
        raise fail("privacy.k", "impossible", f"k={cfg.k} がデータの件数 {n} を超えているため、満たす加工はありません。",
                   f"k={cfg.k} exceeds the number of records ({n}); no transformation can satisfy it.")
    for item in cfg.l_diversity:
        distinct = df[item["attribute"]].n_unique()
        if item["l"] > distinct:
            raise fail("privacy.l_diversity.l", "impossible",
                       f"ℓ={item['l']:g} が {item['attribute']!r} の値の種類数 {distinct} を超えているため、満たす加工はありません。",
                       f"ℓ={item['l']:g} exceeds the {distinct} distinct values of {item['attribute']!r}; impossible.")
    for name, lvl in ((c.name, c) for c in cfg.columns.values() if c.role == "quasi"):
        h = hierarchies[name]
        for key in ("min_level", "max_level"):
            v = getattr(lvl, key)
            if v is not None and v > h.height - 1:
                raise fail(f"columns.{name}.{key}", "impossible", f"段 {v} は階層の最大段 {h.height - 1} を超えています。",
                           f"level {v} exceeds the hierarchy's top level {h.height - 1}.")
        if lvl.min_level is not None and lvl.max_level is not None and lvl.min_level > lvl.max_level:
            raise fail(f"columns.{name}.min_level", "impossible", "min_level が max_level より大きくなっています。",
                       "min_level is greater than max_level.")
    columns = {c: df[c].to_numpy().astype(str) for c in [*qis, *sens_h]}
    ds = Dataset.build(columns, hierarchies, sens_h)
    criteria = Criteria(build_models(cfg), cfg.suppression_limit, n).bind(ds)
    m = cfg.metric
    metric = Metric(m["name"], monotonic_variant=m["monotonic"], gs_factor=m["gs_factor"], aggregate=m["aggregate"],
                    weights=m["weights"]).bind(ds)
    allowed = None
    if any(cfg.columns[q].min_level is not None or cfg.columns[q].max_level is not None for q in qis):
        lv = ds.lattice.levels
        allowed = np.ones(ds.lattice.size, dtype=bool)
        for j, q in enumerate(qis):
            c = cfg.columns[q]
            if c.min_level is not None:
                allowed &= lv[:, j] >= c.min_level
            if c.max_level is not None:
                allowed &= lv[:, j] <= c.max_level
    # The most generalised allowed transformation must work, or nothing will (for monotonic models).
    top = tuple(int(x) for x in (ds.lattice.levels[np.flatnonzero(allowed)[-1]] if allowed is not None else ds.lattice.top))
    top_cl = ds.classes_of(top)
    ok = criteria.ok(top_cl)
    if int(top_cl.counts[~ok].sum()) > criteria.max_outliers and criteria.monotonic:
        raise fail("privacy", "impossible",
                   "全ての準識別子を最大限一般化しても条件（k・ℓ・t と削除上限）を満たせません。条件を緩めてください。",
                   "even the most generalised transformation cannot meet the models within the suppression limit.")
    return Prepared(cfg, df, qis, sens, hierarchies, sens_h, ds, criteria, metric, allowed, dropped,
                    time.perf_counter() - t0)


def _levels_info(p: Prepared, levels: tuple[int, ...], per_qi) -> list[dict]:
    out = []
    for j, q in enumerate(p.qis):
        qi = p.dataset.qis[j]
        h = qi.hierarchy
        lvl = levels[j]
        names = h.level_names
        out.append({
            "column": q,
            "level": lvl,
            "max_level": h.height - 1,
            "level_name": names[lvl] if lvl < len(names) else ("値" if lvl == 0 else ("全て" if lvl == h.height - 1 else f"段{lvl}")),
            "hierarchy": h.source,
            "distinct_before": qi.card(0),
            "distinct_after": qi.card(lvl),
            "generalisation_intensity": (lvl / (h.height - 1)) if h.height > 1 else 0.0,
            "metric_value": None if per_qi is None else float(per_qi[j]),
        })
    return out


def anonymize(p: Prepared, algorithm: str | None = None) -> Outcome:
    """Search the optimum, apply it and build the report (nothing is written)."""
    cfg, ds = p.cfg, p.dataset
    search = Search(ds, p.criteria, p.metric, allowed=p.allowed)
    algo = algorithm or cfg.algorithm
    result = search.run() if algo == "optimal" else search.exhaustive()
    if result.optimum is None:
        raise fail("privacy", "no_solution",
                   f"条件を満たす加工が見つかりません（{result.nodes_checked} 通りを確認）。k・ℓ・t を緩めるか削除上限を上げてください。",
                   f"no transformation satisfies the models ({result.nodes_checked} checked); relax them or raise the "
                   "suppression limit.")
    levels = result.optimum
    inv, cl = ds.row_classes(levels)
    ok = p.criteria.ok(cl)
    row_ok = ok[inv]
    suppressed = ~row_ok
    # released table
    df = p.df
    cols = []
    for c in df.columns:
        spec = cfg.columns.get(c)
        if c in p.dropped or (spec is not None and spec.role == "identifier"):
            continue
        if spec is not None and spec.role == "quasi":
            j = p.qis.index(c)
            qi = ds.qis[j]
            labels = np.asarray(qi.labels[levels[j]], dtype=object)
            values = labels[qi.maps[levels[j]][ds.qi_codes[j]]]
            if cfg.suppressed_records == "mask":
                values = np.where(suppressed, "*", values)
            cols.append(pl.Series(c, values.tolist(), dtype=pl.Utf8))
        else:
            cols.append(df[c])
    released = pl.DataFrame(cols)
    if cfg.suppressed_records == "remove":
        released = released.filter(pl.Series(row_ok))
    report = build_report(p, result, released, suppressed)
    return Outcome(result, released, report, suppressed)


def build_report(p: Prepared, result: SearchResult, released: pl.DataFrame, suppressed: np.ndarray) -> dict:
    from .report import checklist

    cfg = p.cfg
    n = p.df.height
    before = risk_mod.assess(p.df, p.qis, cfg.risk_threshold, cfg.sampling_fraction)
    kept = released if cfg.suppressed_records == "remove" else released.filter(pl.Series(~suppressed))
    after = risk_mod.assess(kept, p.qis, cfg.risk_threshold, cfg.sampling_fraction)
    population = {}
    for item in cfg.t_closeness:
        a = item["attribute"]
        vc = p.df[a].value_counts()
        population[a] = {v: c / n for v, c in zip(vc[a].to_list(), vc["count"].to_list())}
    verification = check_release(kept, p.qis, k=cfg.k, l_diversity=cfg.l_diversity, t_closeness=cfg.t_closeness,
                                 population=population, hierarchies=p.sensitive_hierarchies)
    # per-column utility: the Loss metric per QI (ARX MetricMDNMLoss), with this suppression
    loss = Metric("loss").bind(p.dataset)
    cl = p.dataset.classes_of(result.optimum)
    ok = p.criteria.ok(cl)
    _, lm = loss.value(result.optimum, cl, ok)
    transformation = _levels_info(p, result.optimum, result.per_qi)
    for t, v in zip(transformation, lm):
        t["loss"] = float(v)
    report = {
        "report": "kiban-anon/1",
        "title": cfg.title or "匿名加工報告書",
        "generated_at": _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
        "input": {"path": str(cfg.input_path) if cfg.input_path else None, "records": n, "columns": p.df.columns},
        "output": {"records": released.height, "columns": released.columns,
                   "suppressed_records": cfg.suppressed_records},
        "roles": {c.name: {"role": c.role, **({"kind": c.kind} if c.role == "identifier" else {})}
                  for c in cfg.columns.values()},
        "removed_columns": [c.name for c in cfg.identifiers()] + p.dropped,
        "privacy": {"models": p.criteria.describe(), "suppression_limit": cfg.suppression_limit,
                    "max_suppressed_records": p.criteria.max_outliers},
        "metric": {**p.metric.describe(), "value": format_score(result.score),
                   "per_quasi_identifier": None if result.per_qi is None else [float(x) for x in result.per_qi]},
        "transformation": transformation,
        "suppression": {"records": int(suppressed.sum()), "share": float(suppressed.mean()),
                        "limit_records": p.criteria.max_outliers},
        "search": {**result.summary(), "checked_nodes": [c.as_dict() for c in result.checked]},
        "risk": {"before": before, "after": after},
        "verification": verification,
    }
    report["checklist"] = checklist(p, report, released)
    return report


def report_paths(cfg: Config) -> tuple[Path, Path]:
    base = cfg.report_base or cfg.output_path.with_name(cfg.output_path.stem + ".report")
    if base.suffix in (".json", ".html"):
        base = base.with_suffix("")
    return base.parent / (base.name + ".json"), base.parent / (base.name + ".html")


def run(config: Config | str | Path | dict, algorithm: str | None = None) -> Outcome:
    """Validate, anonymise and write the released table and its report (JSON + HTML), atomically."""
    import json

    from .report import render_html

    cfg = config if isinstance(config, Config) else load_config(config)
    require(cfg, "input", "output")
    p = prepare(cfg)
    out = anonymize(p, algorithm)
    json_path, html_path = report_paths(cfg)
    html = render_html(out.report)
    payload = json.dumps(out.report, ensure_ascii=False, indent=2, default=_json_default)
    # Everything is computed; now write (each file to a temporary name, renamed into place).
    write_table_atomic(out.released, cfg.output_path, encoding=cfg.output_encoding)
    write_text_atomic(json_path, payload)
    write_text_atomic(html_path, html)
    out.paths = {"output": str(cfg.output_path), "report_json": str(json_path), "report_html": str(html_path)}
    return out


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


__all__ = ["prepare", "anonymize", "run", "Prepared", "Outcome", "AnonError"]

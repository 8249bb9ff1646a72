"""The configuration of an anonymisation run (YAML or JSON), validated before any work is done.

Example (YAML)::

    input: {path: residents.csv, separator: ",", encoding: utf-8}
    output: {path: residents_anon.csv, report: residents_anon.report}
    columns:
      氏名: {role: identifier}
      個人番号: {role: identifier, kind: individual_code}
      住民ID: {role: identifier, kind: linking_code}
      年齢: {role: quasi, hierarchy: {builder: intervals, widths: [5, 10, 20]}}
      住所: {role: quasi, hierarchy: {builder: address}}
      生年月日: {role: quasi, hierarchy: {builder: date, levels: [month, fiscal_year]}}
      職業: {role: sensitive, hierarchy: occupation_hierarchy.csv}
      世帯人数: {role: insensitive}
    privacy:
      k: 5
      suppression_limit: 0.04
      l_diversity: {attribute: 職業, variant: recursive, c: 4, l: 3}
      t_closeness: {attribute: 職業, t: 0.2, distance: hierarchical}
    metric: {name: entropy, monotonic: true}
    risk: {threshold: 0.2}

Roles: ``identifier`` (direct identifier: removed; ``kind`` individual_code = 個人識別符号, linking_code = 連結符号),
``quasi`` (quasi-identifier, generalised by its hierarchy), ``sensitive`` and ``insensitive`` (kept as is).
Every column of the data must have a role (``unlisted: keep`` keeps unlisted columns as insensitive).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import AnonError, fail
from .metrics import AGGREGATES, METRICS

ROLES = ("identifier", "quasi", "sensitive", "insensitive")
ID_KINDS = ("name", "individual_code", "linking_code", "other")
TOP_KEYS = {"version", "input", "output", "columns", "privacy", "metric", "search", "risk", "tables", "title", "unlisted"}


@dataclass
class ColumnSpec:
    name: str
    role: str
    kind: str = "other"
    hierarchy: Any = None  # str path, dict builder spec, or None
    min_level: int | None = None
    max_level: int | None = None


@dataclass
class Config:
    base_dir: Path
    input_path: Path | None
    input_format: str | None = None
    separator: str | None = None
    encoding: str = "utf-8"
    sheet: str | None = None
    output_path: Path | None = None
    report_base: Path | None = None
    output_encoding: str = "utf-8"
    suppressed_records: str = "remove"
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    unlisted: str = "error"
    k: int | None = None
    suppression_limit: float = 0.0
    l_diversity: list[dict] = field(default_factory=list)
    t_closeness: list[dict] = field(default_factory=list)
    metric: dict = field(default_factory=lambda: {"name": "entropy", "monotonic": True})
    algorithm: str = "optimal"
    risk_threshold: float = 0.2
    sampling_fraction: float | None = None
    tables: list[dict] = field(default_factory=list)
    title: str = ""
    raw: dict = field(default_factory=dict)

    def quasi(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.role == "quasi"]

    def sensitive(self) -> list[str]:
        return [c.name for c in self.columns.values() if c.role == "sensitive"]

    def identifiers(self) -> list[ColumnSpec]:
        return [c for c in self.columns.values() if c.role == "identifier"]

    def resolve(self, value: str | Path) -> Path:
        p = Path(value)
        return p if p.is_absolute() else (self.base_dir / p)


def _expect(cond: bool, field_name: str, rule: str, ja: str, en: str) -> None:
    if not cond:
        raise fail(field_name, rule, ja, en)


def _number(value, field_name: str, *, lo=None, hi=None, integer=False, lo_open=False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok and lo is not None:
        ok = value > lo if lo_open else value >= lo
    if ok and hi is not None:
        ok = value <= hi
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo if lo is not None else '-∞'}, {hi if hi is not None else '∞'}]"
        kind_ja, kind_en = ("整数", "an integer") if integer else ("数値", "a number")
        raise fail(field_name, "range", f"{rng} の{kind_ja}を指定してください（指定値: {value!r}）。",
                   f"must be {kind_en} in {rng} (got {value!r}).")
    return int(value) if integer else float(value)


def _unknown_keys(d: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(d) - allowed)
    if extra:
        raise fail(f"{where}.{extra[0]}" if where else extra[0], "unknown_key",
                   f"未知の設定項目です（使える項目: {', '.join(sorted(allowed))}）。",
                   f"unknown setting (allowed: {', '.join(sorted(allowed))}).")


def load_config(source: str | Path | dict, base_dir: Path | None = None) -> Config:
    """Parse and validate a configuration file (or an already-parsed dict)."""
    if isinstance(source, dict):
        raw = source
        base = base_dir or Path.cwd()
    else:
        path = Path(source)
        if not path.is_file():
            raise fail("config", "file_not_found", f"設定ファイルがありません: {path}", f"config file not found: {path}")
        text = path.read_text(encoding="utf-8")
        try:
            raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise fail("config", "syntax", f"設定ファイルの構文が正しくありません: {exc}",
                       f"the config file is not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {exc}") from exc
        base = base_dir or path.resolve().parent
    _expect(isinstance(raw, dict), "config", "type", "設定は項目名と値の対応（マッピング）で書いてください。",
            "the configuration must be a mapping.")
    _unknown_keys(raw, TOP_KEYS, "")
    cfg = Config(base_dir=base, input_path=None, raw=raw, title=str(raw.get("title", "")))

    # input / output
    inp = raw.get("input")
    if inp is not None:
        if isinstance(inp, str):
            inp = {"path": inp}
        _expect(isinstance(inp, dict) and "path" in inp, "input.path", "required", "入力ファイル input.path が必要です。",
                "input.path is required.")
        _unknown_keys(inp, {"path", "format", "separator", "encoding", "sheet"}, "input")
        cfg.input_path = cfg.resolve(inp["path"])
        cfg.input_format = inp.get("format")
        cfg.separator = inp.get("separator")
        cfg.encoding = inp.get("encoding", "utf-8")
        cfg.sheet = inp.get("sheet")
    out = raw.get("output")
    if out is not None:
        if isinstance(out, str):
            out = {"path": out}
        _expect(isinstance(out, dict) and "path" in out, "output.path", "required", "出力ファイル output.path が必要です。",
                "output.path is required.")
        _unknown_keys(out, {"path", "report", "encoding", "suppressed_records"}, "output")
        cfg.output_path = cfg.resolve(out["path"])
        if out.get("report"):
            cfg.report_base = cfg.resolve(out["report"])
        cfg.output_encoding = out.get("encoding", "utf-8")
        cfg.suppressed_records = out.get("suppressed_records", "remove")
        _expect(cfg.suppressed_records in ("remove", "mask"), "output.suppressed_records", "choice",
                "remove（削除）か mask（* に置換）を指定してください。", "must be remove or mask.")
        if cfg.input_path is not None:
            _expect(cfg.output_path.resolve() != cfg.input_path.resolve(), "output.path", "overwrite_input",
                    "出力先が入力ファイルと同じです。元データを上書きしないよう別のファイルを指定してください。",
                    "the output is the input file; choose another file so the original is not overwritten.")

    # columns
    cols = raw.get("columns")
    if cols is not None:
        _expect(isinstance(cols, dict) and cols, "columns", "type", "columns には列名ごとの役割を書いてください。",
                "columns must map each column name to its role.")
        for name, spec in cols.items():
            where = f"columns.{name}"
            if isinstance(spec, str):
                spec = {"role": spec}
            _expect(isinstance(spec, dict), where, "type", "列の設定はマッピングで書いてください。",
                    "a column's setting must be a mapping.")
            _unknown_keys(spec, {"role", "kind", "hierarchy", "min_level", "max_level", "note"}, where)
            role = spec.get("role")
            _expect(role in ROLES, where + ".role", "choice", f"役割は {', '.join(ROLES)} のいずれかです（指定値: {role!r}）。",
                    f"role must be one of {', '.join(ROLES)} (got {role!r}).")
            kind = spec.get("kind", "other")
            _expect(kind in ID_KINDS, where + ".kind", "choice", f"kind は {', '.join(ID_KINDS)} のいずれかです。",
                    f"kind must be one of {', '.join(ID_KINDS)}.")
            h = spec.get("hierarchy")
            _expect(h is None or isinstance(h, (str, dict)), where + ".hierarchy", "type",
                    "hierarchy は CSV ファイルのパスかビルダーの設定です。", "hierarchy is a CSV path or a builder setting.")
            cs = ColumnSpec(str(name), role, kind, h)
            for key in ("min_level", "max_level"):
                if spec.get(key) is not None:
                    setattr(cs, key, _number(spec[key], f"{where}.{key}", lo=0, integer=True))
            cfg.columns[str(name)] = cs
    cfg.unlisted = raw.get("unlisted", "error")
    _expect(cfg.unlisted in ("error", "keep", "drop"), "unlisted", "choice", "error・keep・drop のいずれかです。",
            "must be error, keep or drop.")

    # privacy
    priv = raw.get("privacy", {}) or {}
    _expect(isinstance(priv, dict), "privacy", "type", "privacy はマッピングで書いてください。", "privacy must be a mapping.")
    _unknown_keys(priv, {"k", "suppression_limit", "l_diversity", "t_closeness"}, "privacy")
    if priv.get("k") is not None:
        cfg.k = _number(priv["k"], "privacy.k", lo=1, integer=True)
    cfg.suppression_limit = _number(priv.get("suppression_limit", 0.0), "privacy.suppression_limit", lo=0, hi=1)
    for key, target in (("l_diversity", cfg.l_diversity), ("t_closeness", cfg.t_closeness)):
        items = priv.get(key) or []
        items = [items] if isinstance(items, dict) else items
        _expect(isinstance(items, list), f"privacy.{key}", "type", "マッピングかその一覧で書いてください。",
                "must be a mapping or a list of mappings.")
        for j, item in enumerate(items):
            where = f"privacy.{key}" + (f"[{j}]" if len(items) > 1 else "")
            _expect(isinstance(item, dict) and "attribute" in item, where + ".attribute", "required",
                    "対象の機微属性 attribute が必要です。", "the sensitive attribute is required.")
            if key == "l_diversity":
                _unknown_keys(item, {"attribute", "variant", "l", "c"}, where)
                variant = item.get("variant", "distinct")
                _expect(variant in ("distinct", "entropy", "recursive"), where + ".variant", "choice",
                        "variant は distinct・entropy・recursive のいずれかです。", "variant must be distinct, entropy or recursive.")
                lval = _number(item.get("l"), where + ".l", lo=1, integer=variant != "entropy")
                c = _number(item.get("c", 1.0), where + ".c", lo=0, lo_open=True) if variant == "recursive" else None
                target.append({"attribute": str(item["attribute"]), "variant": variant, "l": lval, "c": c})
            else:
                _unknown_keys(item, {"attribute", "t", "distance"}, where)
                distance = item.get("distance", "equal")
                _expect(distance in ("equal", "hierarchical"), where + ".distance", "choice",
                        "distance は equal か hierarchical です。", "distance must be equal or hierarchical.")
                t = _number(item.get("t"), where + ".t", lo=0, hi=1)
                target.append({"attribute": str(item["attribute"]), "t": t, "distance": distance})

    # metric
    met = raw.get("metric", "entropy")
    if isinstance(met, str):
        met = {"name": met}
    _expect(isinstance(met, dict), "metric", "type", "metric は名前かマッピングです。", "metric is a name or a mapping.")
    _unknown_keys(met, {"name", "monotonic", "gs_factor", "aggregate", "weights"}, "metric")
    _expect(met.get("name") in METRICS, "metric.name", "choice", f"指標は {', '.join(METRICS)} のいずれかです。",
            f"the metric must be one of {', '.join(METRICS)}.")
    if met.get("aggregate") is not None:
        _expect(met["aggregate"] in AGGREGATES, "metric.aggregate", "choice", f"集約は {', '.join(AGGREGATES)} のいずれかです。",
                f"aggregate must be one of {', '.join(AGGREGATES)}.")
    if "gs_factor" in met:
        _number(met["gs_factor"], "metric.gs_factor", lo=0, hi=1)
    cfg.metric = {"name": met["name"], "monotonic": bool(met.get("monotonic", True)),
                  "gs_factor": float(met.get("gs_factor", 0.5)), "aggregate": met.get("aggregate"),
                  "weights": met.get("weights")}

    search = raw.get("search", {}) or {}
    _unknown_keys(search, {"algorithm"}, "search")
    cfg.algorithm = search.get("algorithm", "optimal")
    _expect(cfg.algorithm in ("optimal", "exhaustive"), "search.algorithm", "choice",
            "optimal か exhaustive を指定してください。", "must be optimal or exhaustive.")

    risk = raw.get("risk", {}) or {}
    _unknown_keys(risk, {"threshold", "sampling_fraction"}, "risk")
    cfg.risk_threshold = _number(risk.get("threshold", 0.2), "risk.threshold", lo=0, hi=1, lo_open=True)
    if risk.get("sampling_fraction") is not None:
        cfg.sampling_fraction = _number(risk["sampling_fraction"], "risk.sampling_fraction", lo=0, hi=1, lo_open=True)

    tables = raw.get("tables") or []
    _expect(isinstance(tables, list), "tables", "type", "tables は一覧で書いてください。", "tables must be a list.")
    cfg.tables = tables

    # cross-field rules that need no data
    for item in cfg.l_diversity + cfg.t_closeness:
        a = item["attribute"]
        if cfg.columns:
            _expect(a in cfg.columns, "privacy.attribute", "unknown_column",
                    f"機微属性 {a!r} が columns にありません。", f"sensitive attribute {a!r} is not in columns.")
            _expect(cfg.columns[a].role == "sensitive", f"columns.{a}.role", "sensitive_required",
                    f"{a!r} を ℓ-多様性・t-近接性の対象にするには role を sensitive にしてください。",
                    f"{a!r} must have role sensitive to be used by ℓ-diversity or t-closeness.")
        if item.get("distance") == "hierarchical" and cfg.columns:
            _expect(cfg.columns[a].hierarchy is not None, f"columns.{a}.hierarchy", "hierarchy_required",
                    "階層距離の t-近接性には機微属性の階層が必要です。",
                    "hierarchical-distance t-closeness needs a hierarchy for the sensitive attribute.")
    return cfg


def require(cfg: Config, *what: str) -> None:
    """Check that a command's required parts are present."""
    for w in what:
        if w == "input" and cfg.input_path is None:
            raise fail("input.path", "required", "入力ファイル input.path が必要です。", "input.path is required.")
        if w == "output" and cfg.output_path is None:
            raise fail("output.path", "required", "出力ファイル output.path が必要です。", "output.path is required.")
        if w == "columns" and not cfg.columns:
            raise fail("columns", "required", "columns（列の役割）が必要です。", "columns (the roles of the columns) are required.")
        if w == "quasi" and not cfg.quasi():
            raise fail("columns", "quasi_required", "準識別子（role: quasi）の列が一つもありません。",
                       "no column has role quasi (quasi-identifier).")
        if w == "privacy" and cfg.k is None and not cfg.l_diversity and not cfg.t_closeness:
            raise fail("privacy", "model_required", "プライバシーモデル（k・ℓ-多様性・t-近接性）が一つも指定されていません。",
                       "no privacy model (k, ℓ-diversity, t-closeness) is configured.")


__all__ = ["Config", "ColumnSpec", "load_config", "require", "AnonError"]

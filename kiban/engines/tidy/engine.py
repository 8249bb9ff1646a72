"""Python API of the tidy engine: `check` (機械可読性チェック) and `convert` (整形・tidy data への変換).

Both read the file once, analyse the layout once and share the same normalisation pass; `convert` also
returns the check report, so one call gives both.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .errors import TidyError
from .extract import Extracted, extract
from .layout import Table, analyze_sheet
from .reader import Book, Deadline, Limits, a1_range, read_book
from .rules import JUDGED, RULES, SEVERITY_WEIGHT, Finding, check_book, needs_human, score

SEVERITIES = ("FATAL", "CRITICAL", "MAJOR", "MINOR")


@dataclass
class Report:
    """Result of a check (チェック結果)."""

    file: str
    format: str
    encoding: str | None
    findings: list[Finding]
    tables: list[dict]
    score: int
    elapsed: float
    sheets: list[str] = field(default_factory=list)
    uncertain: list[dict] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        c = Counter(f.severity for f in self.findings)
        return {s: c.get(s, 0) for s in SEVERITIES}

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "format": self.format,
            "encoding": self.encoding,
            "sheets": self.sheets,
            "score": self.score,
            "summary": self.summary,
            "rules_checked": [{"rule": r, "title": RULES[r]} for r in JUDGED],
            "needs_human_check": needs_human(),
            "findings": [f.as_dict() for f in self.findings],
            "tables": self.tables,
            "uncertain": self.uncertain,
            "outputs": self.outputs,
            "limitations": self.limitations,
            "elapsed_seconds": round(self.elapsed, 3),
        }


def load_recipe(recipe: str | Path | dict | None) -> dict:
    """A recipe (変換レシピ) from a dict, a YAML file or a JSON file."""
    if recipe is None:
        return {}
    if isinstance(recipe, dict):
        return recipe
    path = Path(recipe)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except (OSError, ValueError) as exc:
        raise TidyError(f"レシピを読めません: {path.name}（{exc}）", f"Cannot read the recipe {path.name}: {exc}",
                        code="bad_recipe", field="recipe") from exc
    except Exception as exc:  # yaml.YAMLError
        raise TidyError(f"レシピの書式が正しくありません: {path.name}（{exc}）", f"Malformed recipe {path.name}: {exc}",
                        code="bad_recipe", field="recipe") from exc
    if not isinstance(data, dict):
        raise TidyError("レシピは項目名: 値 の形式で書いてください。", "A recipe must be a mapping.", code="bad_recipe",
                        field="recipe")
    return data


def _sheet_recipe(recipe: dict, sheet: str) -> dict:
    base = {k: v for k, v in recipe.items() if k not in ("sheets", "version")}
    sheets = recipe.get("sheets") or {}
    base.update(sheets.get("*", {}) or {})
    base.update(sheets.get(sheet, {}) or {})
    return base


def _analyse(path, recipe: dict, limits: Limits | None, timeout: float | None):
    limits = limits or Limits()
    deadline = Deadline(timeout or limits.timeout)
    wanted = recipe.get("only_sheets")
    book = read_book(path, limits, deadline, sheet_names=wanted)
    analysed: list[tuple[Any, list[Table], list[Extracted]]] = []
    for sheet in book.sheets:
        srec = _sheet_recipe(recipe, sheet.name)
        if srec.get("skip"):
            continue
        tables = analyze_sheet(sheet, srec)
        deadline.check(f"layout {sheet.name}")
        exs = [extract(sheet, t, srec) for t in tables]
        deadline.check(f"extract {sheet.name}")
        analysed.append((sheet, tables, exs))
    return book, analysed, deadline


def _table_info(sheet, t: Table, ex: Extracted) -> dict:
    return {
        "sheet": sheet.name,
        "index": t.index,
        "region": a1_range(t.r0, t.c0, t.r1, t.c1),
        "title": t.title,
        "notes": t.notes,
        "header_rows": [r + 1 for r in t.header_rows],
        "data_rows": len(t.data_rows),
        "first_data_row": (t.data_rows[0] + 1) if t.data_rows else None,
        "row_header_columns": [t.names.get(c) for c in t.id_cols],
        "value_columns": [t.names.get(c) for c in t.value_cols],
        "melt": t.melt,
        "melt_reason": t.melt_reason,
        "level_names": t.level_names,
        "unit": t.unit,
        "symbols_legend": ex.legend,
        "filled_down": {t.names.get(c, str(c)): n for c, n in ex.filled.items()},
        "totals_dropped": [r + 1 for r in t.total_rows],
        "shape": list(ex.frame.shape),
        "guesses": [g.as_dict() for g in t.guesses],
    }


_INSPECTED_JA = {"hidden": "非表示行・列", "formulas": "数式", "formats": "書式", "comments": "コメント",
                 "objects": "オブジェクト"}


def _limitations(book: Book) -> list[str]:
    """What could not be inspected in this file (the report must not look cleaner than it is)."""
    out = []
    if book.format in ("csv", "tsv"):
        return out
    missing = [ja for key, ja in _INSPECTED_JA.items() if any(key not in s.inspected for s in book.sheets)]
    if missing:
        out.append(f"{book.format} 形式のこのファイルでは{'、'.join(missing)}を検査していません。")
    if book.extras.get("inspection_error"):
        out.append(f"書式の検査に失敗しました（値は読めています）: {book.extras['inspection_error'][:200]}")
    return out


def _report(path, book, analysed, started, outputs=None) -> Report:
    findings = check_book(book, analysed)
    findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.rule, f.sheet or ""))
    tables, uncertain = [], []
    for sheet, ts, exs in analysed:
        for t, ex in zip(ts, exs):
            tables.append(_table_info(sheet, t, ex))
            for g in t.guesses:
                if g.confidence < 0.8:
                    uncertain.append({"sheet": sheet.name, "table": t.index, **g.as_dict()})
    if not any(t["data_rows"] for t in tables):
        findings.insert(0, Finding("L1-01", "FATAL", None, [], "データの表が見つかりません（空のファイル、または表の形になっていません）。",
                                   "値の入った表（1 行目に項目名、2 行目以降にデータ）を含むファイルにしてください。"))
    return Report(Path(path).name, book.format, book.encoding, findings, tables, score(findings),
                  time.monotonic() - started, [s.name for s in book.sheets], uncertain, outputs or [],
                  _limitations(book))


def check(path: str | Path, *, recipe: str | Path | dict | None = None, limits: Limits | None = None,
          timeout: float | None = None) -> Report:
    """Check a file against the machine-readability rules (機械可読性チェック). Raises TidyError for unreadable input."""
    started = time.monotonic()
    rec = load_recipe(recipe)
    book, analysed, _ = _analyse(path, rec, limits, timeout)
    return _report(path, book, analysed, started)


@dataclass
class Conversion:
    """Result of a conversion: the tidy frames, the report, and the recipe that reproduces it."""

    frames: dict[str, pl.DataFrame]
    report: Report
    recipe: dict
    datapackage: dict


def convert(path: str | Path, out_dir: str | Path | None = None, *, recipe: str | Path | dict | None = None,
            formats: tuple[str, ...] = ("csv", "parquet"), bom: bool = False, limits: Limits | None = None,
            timeout: float | None = None) -> Conversion:
    """Convert a messy table into tidy data (整形). Writes CSV/Parquet/datapackage.json/report/recipe when
    `out_dir` is given. Raises TidyError when the file cannot be read or holds no table."""
    started = time.monotonic()
    rec = load_recipe(recipe)
    book, analysed, deadline = _analyse(path, rec, limits, timeout)
    frames: dict[str, pl.DataFrame] = {}
    metas: dict[str, tuple[Table, Extracted]] = {}
    stem = _safe(Path(path).stem)
    nonempty = [(s, t, ex) for s, ts, exs in analysed for t, ex in zip(ts, exs) if t.data_rows and ex.frame.height]
    if not nonempty:
        raise TidyError(f"データの表が見つかりません: {Path(path).name}", f"No table found in {Path(path).name}",
                        code="no_table")
    for sheet, t, ex in nonempty:
        key = stem if len(nonempty) == 1 else f"{stem}__{_safe(sheet.name)}" + (f"__{t.index + 1}" if t.index else "")
        frames[key] = ex.frame
        metas[key] = (t, ex)
    outputs: list[str] = []
    dp = _datapackage(Path(path), frames, metas, book)
    writing = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)

        def write_csv() -> None:
            for key, df in frames.items():
                with (out / f"{key}.csv").open("wb") as fh:
                    if bom:
                        fh.write(b"\xef\xbb\xbf")
                    df.write_csv(fh)
                deadline.check("write")

        def write_parquet() -> None:
            for key, df in frames.items():
                # row groups of ~1M rows (pyarrow's default): the repeated labels of a long table need fewer
                # dictionary pages, so the file is smaller (4.4 MB instead of 6.3 MB) and written faster
                df.write_parquet(out / f"{key}.parquet", row_group_size=1 << 20)
                deadline.check("write")

        # Polars writes without the GIL: the CSV and Parquet files are written in two threads while the
        # (mostly Python) rules build the report; the report only needs the output names, known beforehand
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=2)
        writing = [pool.submit(w) for w, fmt in ((write_csv, "csv"), (write_parquet, "parquet")) if fmt in formats]
        pool.shutdown(wait=False)
        for key in frames:
            outputs += [f"{key}.{ext}" for ext in ("csv", "parquet") if ext in formats]
        outputs.append("datapackage.json")
    try:
        report = _report(path, book, analysed, started, outputs)
    finally:
        for w in writing or []:
            w.result()  # a write error (or the deadline) is raised here, as before the report
    if out_dir is not None:
        (out / "datapackage.json").write_text(json.dumps(dp, ensure_ascii=False, indent=2), encoding="utf-8")
    recipe_out = make_recipe(analysed, rec)
    if out_dir is not None:
        import yaml

        (Path(out_dir) / "recipe.yaml").write_text(
            "# kiban tidy の変換レシピ。値を直して `kiban tidy convert FILE --recipe recipe.yaml` で再利用できます。\n"
            + yaml.safe_dump(recipe_out, allow_unicode=True, sort_keys=False), encoding="utf-8")
        (Path(out_dir) / "report.json").write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2),
                                                   encoding="utf-8")
        report.outputs += ["recipe.yaml", "report.json"]
    return Conversion(frames, report, recipe_out, dp)


def make_recipe(analysed, given: dict) -> dict:
    """The recipe that reproduces this conversion: every guess written out, so it can be edited and reused
    on next year's file of the same layout (L3-07)."""
    sheets: dict[str, dict] = {}
    for sheet, ts, exs in analysed:
        if not ts:
            continue
        t, ex = ts[0], exs[0]
        if not t.data_rows:
            continue
        entry: dict[str, Any] = {
            "skip_rows": (t.header_rows[0] if t.header_rows else t.data_rows[0]) - t.r0,
            "header_rows": len(t.header_rows),
            "melt": t.melt,
        }
        if t.melt:
            entry["level_names"] = given.get("level_names") or [ln for ln in _level_names_of(ex)]
        entry["columns"] = {t.names[c]: t.names[c] for c in t.id_cols + t.value_cols}
        if ex.filled:
            entry["fill_down"] = sorted(c - t.c0 for c in ex.filled)
        if t.spacer_rows:
            entry["join_blocks"] = True  # blocks cut by empty rows were read as one table
        sheets[sheet.name] = entry
    out: dict[str, Any] = {"version": 1}
    legend = {}
    for _s, _ts, exs in analysed:
        for ex in exs:
            legend.update(ex.legend)
    out["symbols"] = dict(given.get("symbols") or legend)
    out["sheets"] = sheets
    return out


def _level_names_of(ex: Extracted) -> list[str]:
    return [k for k, v in ex.field_meta.items() if v.get("description") == "表頭から"]


def _safe(name: str) -> str:
    import re

    return re.sub(r"[^\w\-]+", "_", name).strip("_") or "table"


def _datapackage(path: Path, frames, metas, book: Book) -> dict:
    """Frictionless Data Package descriptor (datapackage.json)."""
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    resources = []
    for key, df in frames.items():
        t, ex = metas[key]
        fields = []
        for name, dtype in df.schema.items():
            meta = dict(ex.field_meta.get(name, {}))
            typ = meta.pop("type", None) or ("number" if dtype.is_numeric() else "string")
            if typ in ("date", "year", "yearmonth"):
                typ = "string" if typ != "date" else "date"
            f = {"name": name, "type": typ}
            if "unit" in meta:
                f["unit"] = meta["unit"]
            if meta.get("description"):
                f["description"] = meta["description"]
            if meta.get("role"):
                f["kiban:role"] = meta["role"]
            fields.append(f)
        res = {
            "name": key.lower(),
            "path": f"{key}.csv",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "profile": "tabular-data-resource",
            "schema": {"fields": fields, "missingValues": [""]},
            "sources": [{"title": f"{path.name} / {t.sheet} / {a1_range(t.r0, t.c0, t.r1, t.c1)}"}],
            "kiban:notes": t.notes,
            "kiban:title": t.title,
            "kiban:symbols": {k: v for k, v in ex.legend.items()} or None,
        }
        resources.append(res)
    return {
        "profile": "tabular-data-package",
        "name": _safe(path.stem).lower(),
        "title": next((metas[k][0].title for k in frames if metas[k][0].title), path.stem),
        "sources": [{"title": path.name, "kiban:sha256": h.hexdigest(), "kiban:format": book.format,
                     "kiban:encoding": book.encoding}],
        "resources": resources,
    }


_ = SEVERITY_WEIGHT

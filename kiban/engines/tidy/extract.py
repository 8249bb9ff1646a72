"""Extraction (整形): a Table (layout) → a tidy Polars frame, plus per-column statistics for the checker.

Row-header columns are cleaned (layout spaces removed, 全角英数→半角, 機種依存文字 replaced), omitted
repeats are filled down (L2-02), merged cells unmerged, 和暦 converted to ISO 8601; value columns go
through the vectorised normaliser (normalize.normalize_series); cross tables are melted (L3-09).
"""

from __future__ import annotations

import bisect
from collections import Counter
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .chars import replace_dependent
from .grid import _as_text
from .layout import Table, is_empty, parse_date
from .normalize import build_symbols, legend_from_notes, nfkc, normalize_series, squash_spaces
from .reader import Sheet

FLAG_NAMES = ("zenkaku", "comma", "unit_flag", "footnote", "negative_mark", "symbol", "text", "kanji", "blank",
              "text_number")
VALUE = "値"
STATUS = "状態"
UNIT = "単位"
# several values in one cell: 391445 (344943) / 50468 45332 / 373(平成27年度)、434(…) / 1300東京都
MULTI_RE_SRC = (
    r"^\s*[\d,.]+\s*\(\s*[\d,.]+\s*\)\s*$"
    r"|^\s*[\d,.]+(?:\s+[\d,.]+)+\s*$"
    r"|\d[^、,;；\n]*[、;；][^、;；]*\d"
    r"|^\d{2,6}[\p{Hiragana}\p{Katakana}\p{Han}]{2,}"
)
_UNIT_IN_NAME_RE = re.compile(r"\s*[（(]\s*(?:単位\s*[:：]?\s*)?([^()（）]{1,14}?)\s*[)）]\s*$")
_UNITISH_RE = re.compile(r"(?:人|円|世帯|件|%|％|ha|km|m2|㎡|kg|t|千|万|百万|億|倍|戸|台|所|歳|当たり|につき|ポイント)")


@dataclass
class ColumnStats:
    """What the normaliser found in one value column (for the checker and the report)."""

    col: int
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[int]] = field(default_factory=dict)  # flag → sheet rows (0-based)
    units: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    zero: int = 0
    empty: int = 0  # blank cells (None or "")
    numbers: int = 0
    symbols: dict[str, int] = field(default_factory=dict)  # symbol as written (NFKC) → cells
    multi: list[tuple[int, str]] = field(default_factory=list)  # cells holding several values


@dataclass
class Extracted:
    """The tidy frame of one table and what was learned on the way."""

    table: Table
    frame: pl.DataFrame
    stats: dict[int, ColumnStats]
    id_values: dict[int, pl.Series]  # cleaned row-header columns (before melt)
    id_raw: dict[int, list[Any]]
    filled: dict[int, int]  # column → number of cells filled down
    field_meta: dict[str, dict]  # output column → {type, unit, description, ...}
    symbols: dict[str, str]
    legend: dict[str, str]
    date_cols: dict[int, str]  # column → kind (date, year, fiscal_year, month)
    notes: list[str]
    uncertain: list[dict]
    kept_cells: dict[tuple[int, int], Any] = field(default_factory=dict)  # (row, col) → value as written

    def cell(self, sheet: Sheet, r: int, c: int) -> Any:
        """A cell as written (merged cells filled: the ones a report quotes as examples are kept here)."""
        if (r, c) in self.kept_cells:
            return self.kept_cells[(r, c)]
        return sheet.grid.cell(r, c)


def _split_unit(name: str) -> tuple[str, str | None]:
    m = _UNIT_IN_NAME_RE.search(name)
    if m and _UNITISH_RE.search(m.group(1)):
        return name[: m.start()].strip(" _"), m.group(1).strip()
    return name, None


def extract(sheet: Sheet, t: Table, recipe: dict | None = None) -> Extracted:
    """Build the tidy frame for one table (表の整形)."""
    recipe = recipe or {}
    _tick("start extract")
    rows = sheet.rows
    data_rows = t.data_rows
    legend = legend_from_notes([t.title, *t.notes])
    symbols = build_symbols(legend, recipe.get("symbols"))
    uncertain = [g.as_dict() for g in t.guesses if g.confidence < 0.8]
    # unmerge: merged cells in the data area get the top-left value (結合セルの解除)
    grid = sheet.grid
    merged_fill: dict[int, list[tuple[int, Any]]] = {}  # column → [(position in data_rows, value)]
    if sheet.merges and data_rows:
        lo, hi = data_rows[0], data_rows[-1]
        pos: dict[int, int] = {}
        for (mr0, mc0, mr1, mc1) in sheet.merges:
            if mr1 < lo or mr0 > hi:
                continue
            if not pos:  # only when a merge reaches into the data rows
                pos = {r: i for i, r in enumerate(data_rows)}
            v = grid.cell(mr0, mc0)
            # a vertical merge repeats the value down; a horizontal one (a label over A:B) belongs to its
            # first column only
            for r in range(mr0 + 1, mr1 + 1):
                if r in pos:
                    merged_fill.setdefault(mc0, []).append((pos[r], v))
    _tick("merges")

    def column(c: int) -> tuple[pl.Series, pl.Series]:
        """(text cells, number cells) of a value column over the data rows, merged cells filled."""
        tx, nm = grid.column(c, data_rows)
        fills = [(i, v) for i, v in merged_fill.get(c, ()) if tx[i] is None and nm[i] is None]
        if fills:
            tx, nm = tx.clone(), nm.clone()
            for i, v in fills:
                if isinstance(v, float):
                    nm[i] = v
                elif not is_empty(v):
                    tx[i] = str(v)
        return tx, nm

    id_values: dict[int, pl.Series] = {}
    id_raw: dict[int, list[Any]] = {}
    filled: dict[int, int] = {}
    date_cols: dict[int, str] = {}
    field_meta: dict[str, dict] = {}
    stub_end = min(t.value_cols) if t.value_cols else t.c1 + 1
    fill_cfg = recipe.get("fill_down")
    for c in t.id_cols:
        raw = grid.values(c, data_rows)
        text = grid.texts(c, data_rows)
        fills = [(i, v) for i, v in merged_fill.get(c, ()) if is_empty(raw[i])]
        if fills:
            text = text.clone()
            for i, v in fills:
                raw[i] = v
                text[i] = _as_text(v)
        id_raw[c] = raw
        clean = _clean_text(text)
        blanks = int(clean.is_null().sum())
        do_fill = False
        if blanks >= 2 and len(clean) > 3 or blanks and fill_cfg is not None:
            nonblank = clean.drop_nulls()
            runs = nonblank.len()
            distinct = nonblank.n_unique()
            if fill_cfg is not None:
                do_fill = (c - t.c0) in set(fill_cfg)
            else:
                do_fill = (clean[0] is not None or c < stub_end or runs == 1) and runs > 0 and distinct >= 0.8 * runs
        if do_fill:
            clean = clean.fill_null(strategy="forward")
            if len(clean) >= 5 and clean.drop_nulls().n_unique() == 1 and fill_cfg is None:
                # one lone label in an otherwise empty column (databaker's "Year" beside the block) is a
                # constant of the whole table, not only of the rows below it
                clean = clean.fill_null(strategy="backward")
            filled[c] = blanks
        kind = _date_kind(clean)
        if kind:
            date_cols[c] = kind
            uniq = clean.drop_nulls().unique(maintain_order=True).to_list()
            iso = {u: _to_iso(u) for u in uniq}
            clean = clean.replace_strict(list(iso), list(iso.values()), default=None, return_dtype=pl.Utf8)
        id_values[c] = clean
    _tick("id columns")
    # section rows (Ron / Ginny above their rows) become a column; nested ones (「 Credits」 over
    # 「   Exports of goods」, indented deeper) become one column per level, outermost first
    section_cols: list[pl.Series] = []
    if t.section_rows:
        srows = sorted(t.section_rows)
        stacks: list[list[tuple[int, str | None]]] = []
        stack: list[tuple[int, str | None]] = []
        label_cols: Counter = Counter()
        for r in srows:
            c_label, v = next(((c, x) for c, x in enumerate(rows[r]) if not is_empty(x)), (None, None))
            label_cols[c_label] += 1
            raw = str(v) if v is not None else ""
            indent = _indent(raw)
            while stack and stack[-1][0] >= indent:  # a section closes the ones indented as deep or deeper
                stack.pop()
            stack.append((indent, squash_spaces(nfkc(raw)) if v is not None else None))
            stacks.append(list(stack))
        depth = max(len(st) for st in stacks)
        row_indent: list[int | None] = [None] * len(data_rows)
        if depth > 1:
            # a data row indented less than the data usually is (「　計」 among 「　　0～4歳」) is a sibling of
            # the sections indented as deep as itself: it belongs only to those indented less
            col = label_cols.most_common(1)[0][0]
            if col is not None:
                texts = grid.texts(col, data_rows)
                indents = (texts.str.len_chars() - texts.str.strip_chars_start(" \u3000\t").str.len_chars())
                typical = indents.drop_nulls().median()
                if typical is not None:
                    row_indent = [d if d is not None and d < typical else None for d in indents.to_list()]
        levels: list[list[str | None]] = [[] for _ in range(depth)]
        j = -1
        for i, r in enumerate(data_rows):
            while j + 1 < len(srows) and srows[j + 1] < r:
                j += 1
            current = stacks[j] if j >= 0 else []
            if row_indent[i] is not None:
                current = [e for e in current if e[0] < row_indent[i]]
            for k in range(depth):
                levels[k].append(current[k][1] if k < len(current) else None)
        section_cols = [pl.Series(lv, dtype=pl.Utf8) for lv in levels]
        t.guesses.append(_guess("section_rows", len(srows), "値のない見出し行を区分列にしました"
                                + (f"（字下げから {depth} 段の入れ子）" if depth > 1 else "")))
    # value columns: vectorised passes over batches of concatenated columns (~400k cells each, to bound
    # the transient memory)
    stats: dict[int, ColumnStats] = {}
    values: dict[int, pl.DataFrame] = {}
    kept_cells: dict[tuple[int, int], Any] = {}
    n = len(data_rows)
    batches: list[list[int]] = []
    for c in t.value_cols:
        if not batches or len(batches[-1]) * max(n, 1) >= _BATCH_CELLS:
            batches.append([])
        batches[-1].append(c)
    def finish(batch, txs, norm_all) -> None:
        # per-column statistics in a handful of grouped queries per batch (not a few per column: each
        # eager Polars call has a fixed cost)
        m = max(n, 1)
        tx_all = pl.concat(txs)
        keyed_df = norm_all.with_columns(_k=(pl.int_range(0, pl.len()) // m).cast(pl.Int32),
                                         _j=(pl.int_range(0, pl.len()) % m).cast(pl.Int64), _t=tx_all)
        keyed = keyed_df.lazy()
        sym = keyed.filter(pl.col("symbol")).with_columns(_t=pl.col("_t").str.normalize("NFKC").str.strip_chars())
        # the text cells first (eagerly: a lazy plan would fold both filters into one and normalise every cell)
        hits = (keyed_df.filter(pl.col("text")).lazy()
                .filter(pl.col("_t").str.normalize("NFKC").str.contains(MULTI_RE_SRC).fill_null(False))
                .select("_k", "_j", "_t"))
        # every statistic of the batch in one parallel collect (each eager Polars call has a fixed cost):
        # sums per column, the first cells of each flag (examples), units, symbols and statuses, several
        # values in one cell
        queries = [
            keyed.group_by("_k").agg(
                *[pl.col(f).cast(pl.UInt32).sum() for f in FLAG_NAMES],
                zero=(pl.col("value") == 0).sum(), numbers=pl.col("value").is_not_null().sum(),
                empty=(pl.col("value").is_null() & pl.col("status").is_null() & ~pl.col("text")).sum(),
            ).sort("_k"),
            *[keyed.select("_k", "_j", f).filter(pl.col(f)).group_by("_k", maintain_order=True).head(5)
              .select("_k", "_j") for f in FLAG_NAMES],
            keyed.filter(pl.col("unit_flag")).group_by("_k").agg(pl.col("unit").unique()),
            sym.group_by("_k", "status", maintain_order=True).len(),
            sym.group_by("_k", "_t", maintain_order=True).len(),
            hits.group_by("_k").len(),
            hits.group_by("_k", maintain_order=True).head(50),
        ]
        sums, *rest = pl.collect_all(queries)
        subs, (unit_q, status_q, sym_q, multi_n_q, multi_q) = rest[:len(FLAG_NAMES)], rest[len(FLAG_NAMES):]
        samples: dict[tuple[int, str], list[int]] = {}
        for f, sub in zip(FLAG_NAMES, subs):
            for k, j in sub.iter_rows():
                samples.setdefault((k, f), []).append(data_rows[j])
        units = {k: sorted(us) for k, us in unit_q.iter_rows()}
        statuses: dict[int, dict[str, int]] = {}
        for k, st_, cnt in status_q.iter_rows():
            statuses.setdefault(k, {})[st_] = cnt
        sym_counts: dict[int, dict[str, int]] = {}
        for k, sy, cnt in sym_q.iter_rows():
            sym_counts.setdefault(k, {})[sy] = cnt
        multi_n = dict(multi_n_q.iter_rows())
        multi: dict[int, list[tuple[int, str]]] = {}
        for k, j, txt in multi_q.iter_rows():
            multi.setdefault(k, []).append((data_rows[j], txt))
        for i, c in enumerate(batch):
            tx_i = txs[i]
            values[c] = norm_all.slice(i * n, n).select("value", "status")  # flags are freed with norm_all
            st = ColumnStats(c, t.names.get(c, ""))
            row = sums.row(i, named=True)
            for f in FLAG_NAMES:
                if row[f]:
                    st.counts[f] = int(row[f])
                    st.samples[f] = samples.get((i, f), [])
                    for r in st.samples[f]:  # keep the example cells; the rest of the column is freed
                        j = bisect.bisect_left(data_rows, r)
                        v = tx_i[j]
                        kept_cells[(r, c)] = v if v is not None else norm_all["value"][i * n + j]
            st.empty = int(row["empty"] or 0)
            st.zero = int(row["zero"] or 0)
            st.numbers = int(row["numbers"] or 0)
            st.units = units.get(i, [])
            st.statuses = statuses.get(i, {})
            st.symbols = sym_counts.get(i, {})
            if i in multi_n:
                st.multi = multi[i]
                st.counts["multi"] = multi_n[i]
            stats[c] = st
        del tx_all, keyed_df

    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    pending = None
    for batch in batches:
        txs, nms = [], []
        for c in batch:
            tx, nm = column(c)
            txs.append(tx)
            nms.append(nm)
        _tick("columns")
        # normalise this batch in a thread (Polars releases the GIL) while Python splits the next one;
        # statistics run one batch behind, so at most two batches are in flight
        fut = pool.submit(normalize_series, pl.concat(txs), pl.concat(nms), symbols)
        del nms
        if pending is not None:
            pb, ptx, pfut = pending
            finish(pb, ptx, pfut.result())
        pending = (batch, txs, fut)
    if pending is not None:
        pb, ptx, pfut = pending
        finish(pb, ptx, pfut.result())
    pool.shutdown()
    _tick("normalize + statistics")
    frame = _assemble(t, id_values, section_cols, values, stats, field_meta, date_cols, recipe)
    _tick("assemble")
    return Extracted(t, frame, stats, id_values, id_raw, filled, field_meta, symbols, legend, date_cols,
                     t.notes, uncertain, kept_cells)


_BATCH_CELLS = 400_000  # cells per vectorised batch: bounds the transient memory
_PROFILE = bool(os.environ.get("KIBAN_TIDY_PROFILE"))
_T = [0.0]


def _tick(label: str) -> None:
    """Stage timings on stderr when KIBAN_TIDY_PROFILE is set (development aid)."""
    if _PROFILE:
        now = time.perf_counter()
        if _T[0]:
            try:  # resident memory now (Linux), to see where the peak builds up
                with open("/proc/self/statm") as fh:
                    mb = f", RSS {int(fh.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 1e6:.0f} MB"
            except (OSError, ValueError):
                mb = ""
            print(f"  [tidy] {label}: {now - _T[0]:.2f}s{mb}", file=sys.stderr)
        _T[0] = now


def _trim() -> None:
    """Give freed heap pages back to the OS (glibc), so released Python cells do not add to the peak."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _indent(text: str) -> int:
    """Leading spaces (half- or full-width) and tabs: how deep a label is indented."""
    return len(text) - len(text.lstrip(" \u3000\t"))


def _guess(what, value, why):
    from .layout import Guess

    return Guess(what, value, 0.6, why, what)


def _clean_text(s: pl.Series) -> pl.Series:
    """Row-header text: NFKC (全角英数→半角), layout spaces removed (「東　京」→「東京」), 機種依存文字.
    A long column of few labels (47 prefectures over 100,000 rows) is cleaned once per label."""
    if len(s) > 2000:
        uniq = s.drop_nulls().unique(maintain_order=True)
        if len(uniq) * 4 < len(s):
            return s.replace_strict(uniq, _clean_text(uniq), default=None, return_dtype=pl.Utf8)
    if s.str.contains(r"[^\x00-\x7f]").any():
        uniq = s.drop_nulls().unique(maintain_order=True).to_list()
        changed = {u: replace_dependent(u) for u in uniq}
        changed = {k: v for k, v in changed.items() if k != v}
        if changed:
            s = s.replace(list(changed), list(changed.values()))
    out = (
        s.str.normalize("NFKC")
        .str.strip_chars()
        .str.replace_all(r"[\s]+", " ")
        .str.replace_all(r"(?:(\P{ASCII}) +)", "$1")
        .str.replace_all(r" +(\P{ASCII})", "$1")
    )
    return out.set(out == "", None) if (out == "").any() else out


def _date_kind(s: pl.Series) -> str | None:
    uniq = s.drop_nulls().unique(maintain_order=True).head(2000).to_list()
    if not uniq:
        return None
    kinds = {}
    ok = 0
    for u in uniq:
        p = parse_date(u)
        if p is not None and p.iso:
            ok += 1
            kinds[p.kind] = kinds.get(p.kind, 0) + 1
    if ok >= 0.8 * len(uniq) and any(parse_date(u) and parse_date(u).wareki for u in uniq[:200]) or \
            (ok >= 0.8 * len(uniq) and kinds and not all(u.isdigit() for u in uniq)):
        return max(kinds, key=kinds.get)
    return None


def _to_iso(v: str | None) -> str | None:
    if v is None:
        return None
    p = parse_date(v)
    return p.iso if p is not None and p.iso else v


def _level_name(t: Table, lvl: int, vals: list[str]) -> str:
    if lvl < len(t.level_names) and t.level_names[lvl]:
        return t.level_names[lvl]
    parsed = [parse_date(v) for v in vals if v]
    if parsed and all(p is not None and p.iso for p in parsed):
        kinds = {p.kind for p in parsed}
        return {"fiscal_year": "年度", "year": "年", "month": "年月", "date": "日付"}.get(kinds.pop(), "時点") \
            if len(kinds) == 1 else "時点"
    if vals and all(re.fullmatch(r"\d{4}", nfkc(v)) for v in vals if v):
        return "年"
    return "項目" if lvl == 0 else f"項目{lvl + 1}"


def _assemble(t: Table, id_values, section_cols, values, stats, field_meta, date_cols, recipe) -> pl.DataFrame:
    cols: dict[str, pl.Series] = {}
    base_name = recipe.get("section_name") or "区分"
    for k, col in enumerate(section_cols):
        name = base_name if len(section_cols) == 1 else f"{base_name}{k + 1}"
        cols[name] = col
        field_meta[name] = {"type": "string", "role": "dimension",
                            "description": "値のない見出し行から" + (f"（第{k + 1}段）" if len(section_cols) > 1 else "")}
    for c in t.id_cols:
        name = t.names[c]
        cols[name] = id_values[c]
        field_meta[name] = {"type": _dtype_name(date_cols.get(c)), "role": "dimension"}
        if c in date_cols:
            field_meta[name]["description"] = "和暦等を ISO 8601 に変換" if date_cols[c] != "fiscal_year" else "年度（西暦）"
    base = pl.DataFrame(cols) if cols else pl.DataFrame()
    header_units = {}
    for c in t.value_cols:
        nm, unit = _split_unit(t.names[c])
        if not unit:
            for p in t.header_parts.get(c, []):
                _, u = _split_unit(p)
                if u:
                    unit = u
        header_units[c] = unit or (stats[c].units[0] if len(stats[c].units) == 1 else None) or t.unit
    if not t.melt:
        out = base
        for c in t.value_cols:
            parts = t.header_parts.get(c) or [t.names[c]]
            nm = "_".join(dict.fromkeys(_split_unit(p)[0] or p for p in parts)) or t.names[c]
            if t.names[c] != "_".join(parts):  # renamed by the recipe, or a placeholder name (列3)
                nm = t.names[c]
            if nm in out.columns:
                nm = t.names[c]
            v = values[c]
            vv = _intify(v["value"]).alias(nm)
            out = out.with_columns(vv) if out.width else pl.DataFrame({nm: vv})
            field_meta[nm] = {"type": "integer" if vv.dtype == pl.Int64 else "number", "role": "measure"}
            if header_units[c]:
                field_meta[nm]["unit"] = header_units[c]
            if v["status"].null_count() < len(v):
                sn = f"{nm}_{STATUS}"
                out = out.with_columns(v["status"].alias(sn))
                field_meta[sn] = {"type": "string", "role": "status", "description": f"{nm} の特殊記号の意味"}
        return out
    # melt (縦持ち): one observation per row
    depth = max((len(t.header_parts.get(c, [])) for c in t.value_cols), default=1)
    level_vals = []
    for lvl in range(depth):
        vals = []
        for c in t.value_cols:
            parts = [(_split_unit(p)[0] or p) for p in t.header_parts.get(c, [])]
            # align from the top; short columns (a merged label over two levels) repeat their last part
            vals.append(parts[lvl] if lvl < len(parts) else (parts[-1] if parts else ""))
        level_vals.append(vals)
    level_names = []
    names_cfg = recipe.get("level_names") or []
    for lvl in range(depth):
        nm = names_cfg[lvl] if lvl < len(names_cfg) else _level_name(t, lvl, level_vals[lvl])
        while nm in cols or nm in level_names:
            nm += "_"
        level_names.append(nm)
    n = len(t.data_rows)
    k = len(t.value_cols)
    # row-major order (one source row after the other) without sorting strings: index arrays first
    value = pl.concat([values[c]["value"] for c in t.value_cols])
    status = pl.concat([values[c]["status"] for c in t.value_cols])
    # (in Polars, not numpy: importing numpy alone costs ~0.2 s of a CLI run)
    present = value.is_not_null() | status.is_not_null()
    idx = (pl.DataFrame({"_m": present})  # one flag per cell, column-major like value/status (n * k)
           .with_columns(_p=pl.int_range(0, pl.len(), dtype=pl.Int64))
           .select(_r=(pl.col("_p") // k).cast(pl.Int32),  # row-major: built in order, no sort needed
                   _k=(pl.col("_p") % k).cast(pl.Int32), _m=pl.col("_m"))
           .with_columns(_i=pl.col("_k").cast(pl.Int64) * n + pl.col("_r"))  # position in the column-major concat
           .filter(pl.col("_m").gather(pl.col("_i")))
           .select("_r", "_k", "_i"))
    gi = idx["_i"]
    long_cols: dict[str, pl.Series] = {}
    for name in base.columns:
        # repeated labels are stored once (categorical): the long form of a 100k-row cross table stays small
        col = base[name]
        long_cols[name] = (col.cast(pl.Categorical) if col.dtype == pl.Utf8 else col).gather(idx["_r"])
    for lvl, nm in enumerate(level_names):
        vals = level_vals[lvl]
        parsed = [_to_iso(v) if parse_date(v) else v for v in vals]
        long_cols[nm] = pl.Series(nm, parsed, dtype=pl.Utf8).cast(pl.Categorical).gather(idx["_k"])
        field_meta[nm] = {"type": "string", "role": "dimension", "description": "表頭から"}
    values.clear()
    long_cols[VALUE] = value.gather(gi)
    unit_vals = [header_units[c] for c in t.value_cols]
    has_unit = any(unit_vals)
    if has_unit:
        long_cols[UNIT] = pl.Series(UNIT, unit_vals, dtype=pl.Utf8).cast(pl.Categorical).gather(idx["_k"])
    long_cols[STATUS] = status.cast(pl.Categorical).gather(gi)
    del idx, gi, value, status, present
    long = pl.DataFrame(long_cols)
    order = list(base.columns) + level_names + [VALUE] + ([UNIT] if has_unit else []) + [STATUS]
    long = long.with_columns(_intify(long[VALUE]).alias(VALUE))
    field_meta[VALUE] = {"type": "integer" if long[VALUE].dtype == pl.Int64 else "number", "role": "measure"}
    if has_unit and len({u for u in unit_vals if u}) == 1:
        field_meta[VALUE]["unit"] = next(u for u in unit_vals if u)
    if has_unit:
        field_meta[UNIT] = {"type": "string", "role": "unit"}
    field_meta[STATUS] = {"type": "string", "role": "status", "description": "特殊記号の意味（該当なし・不詳・秘匿 等）"}
    return long.select(order)


def _intify(s: pl.Series) -> pl.Series:
    """Whole numbers are written without '.0' (人数 108990, not 108990.0)."""
    nn = s.drop_nulls()
    if len(nn) and (nn == nn.round(0)).all() and nn.abs().max() < 2**53:
        return s.cast(pl.Int64)
    return s


def _dtype_name(kind: str | None) -> str:
    return {"date": "date", "month": "yearmonth", "year": "year", "fiscal_year": "year"}.get(kind or "", "string")

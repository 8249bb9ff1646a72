"""Layout analysis (表の構造推定): where the table is, which rows are titles, headers, data and notes,
which columns are row headers (表側) and which hold values (表頭 × 表側 → 値).

Works on a Sheet's grid of Python values. Each decision that is a guess is recorded in `Table.guesses`
with a confidence, so the report can say where a human should look, and a recipe can override it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from .normalize import (
    DEFAULT_SYMBOLS,
    NEGATIVE_MARKS,
    UNIT_RE_SRC,
    nfkc,
    parse_date,
    squash_spaces,
)
from .reader import Sheet

PROFILE_WINDOW = 400  # rows inspected in detail at the top and bottom of a block

_NUMLIKE_RE = re.compile(
    r"^[\s\u3000]*[" + "".join(NEGATIVE_MARKS) + r"+\-－−]?[\s\u3000]*[0-9０-９][0-9０-９,，.．]*"
    r"[\s\u3000]*(?:" + UNIT_RE_SRC + r"|[*＊]+|※\d*|[(（]\d+[)）]|[a-z][)）])?[\s\u3000]*$"
)
_SYMBOLS_NFKC_ALL = set(DEFAULT_SYMBOLS) | {"...", "・・・"}
_SYMBOLS_NFKC = set(DEFAULT_SYMBOLS) | {"－", "…", "ｘ", "Ｘ", "＊", "＊＊", "＊＊＊", "・・・", "‥"}
NOTE_PREFIX_RE = re.compile(
    r"^[\s\u3000]*(?:[（(]?注|※|＊|\*|資料|出典|出所|備考|（?参考|調査|Source|Sources|Note|Notes|NB|[1-9１-９][）)]\s|"
    r"[（(][1-9１-９][）)]|１）|©|Crown|\u00a9)",
    re.IGNORECASE,
)
TOTAL_RE = re.compile(r"^(?:合計|総計|計|総数|小計|総額|累計|全体|Total|Totals|Grand total|All|Sum)$", re.IGNORECASE)
UNIT_IN_TEXT_RE = re.compile(r"[（(]\s*(?:単位\s*[:：]?\s*)?([^()（）]{1,12}?)\s*[)）]|単位\s*[:：]\s*([^\s,、)）]{1,12})")


def is_empty(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, str) and not v.strip())


def is_numlike(v: Any) -> bool:
    """Number, or text that is a number once normalised, or a statistical symbol (「-」「…」「x」)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    if not isinstance(v, str):
        return False
    t = v.strip().strip("\u3000")
    if not t:
        return False
    if t in _SYMBOLS_NFKC or nfkc(t) in DEFAULT_SYMBOLS:
        return True
    return bool(_NUMLIKE_RE.match(t)) and not parse_date(t)


def is_yearlike(v: Any) -> bool:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return 1800 <= v <= 2200
    return isinstance(v, str) and parse_date(v) is not None


@dataclass
class Guess:
    """A decision the converter made on its own (推定), with a confidence 0..1 and what overrides it."""

    what: str
    value: Any
    confidence: float
    why: str
    recipe_key: str

    def as_dict(self) -> dict:
        return {"what": self.what, "value": self.value, "confidence": round(self.confidence, 2), "why": self.why,
                "recipe_key": self.recipe_key}


@dataclass
class Table:
    """One table region in a sheet, as understood by the layout analysis."""

    sheet: str
    index: int
    r0: int
    r1: int  # inclusive, last row of the block (data or notes)
    c0: int
    c1: int
    title_rows: list[int] = field(default_factory=list)
    header_rows: list[int] = field(default_factory=list)
    data_rows: list[int] = field(default_factory=list)
    note_rows: list[int] = field(default_factory=list)
    section_rows: list[int] = field(default_factory=list)  # lone labels inside the data (Ron, Ginny)
    spacer_rows: list[int] = field(default_factory=list)  # empty rows that cut the table into blocks
    total_rows: list[int] = field(default_factory=list)
    id_cols: list[int] = field(default_factory=list)
    value_cols: list[int] = field(default_factory=list)
    empty_cols: list[int] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # column → flattened header name
    header_parts: dict[int, list[str]] = field(default_factory=dict)  # column → header labels, top→bottom
    level_names: list[str | None] = field(default_factory=list)  # names of the column-header levels
    stub_label_row: int | None = None
    melt: bool = False
    melt_reason: str = ""
    title: str = ""
    notes: list[str] = field(default_factory=list)
    unit: str | None = None
    guesses: list[Guess] = field(default_factory=list)

    @property
    def data_first(self) -> int | None:
        return self.data_rows[0] if self.data_rows else None


# ---------------------------------------------------------------------------------------------------------


def _cell(rows: list[list[Any]], r: int, c: int) -> Any:
    row = rows[r]
    return row[c] if c < len(row) else None


def _nonempty_cols(row: list[Any]) -> list[int]:
    return [i for i, v in enumerate(row) if not is_empty(v)]


def find_blocks(sheet: Sheet) -> list[tuple[int, int, int, int]]:
    """Split the sheet into blocks of non-empty rows separated by empty rows: (r0, r1, c0, c1).

    A single empty row between two parts with the same column span does not split (spacer rows inside a
    table are common); a title line is its own block and is attached later to the table below it.
    """
    rows = sheet.rows
    filled = sheet.grid.filled_rows().arg_true()
    blocks: list[tuple[int, int]] = []
    if len(filled):
        gap = filled.diff().fill_null(1) > 1  # an empty row before this filled one
        starts = filled.filter(gap.scatter(0, True))
        ends = filled.filter(gap.shift(-1, fill_value=True))
        blocks = list(zip(starts.to_list(), ends.to_list()))
    out = []
    for r0, r1 in blocks:
        cols = set()
        for r in list(range(r0, min(r1 + 1, r0 + PROFILE_WINDOW))) + list(range(max(r0, r1 - 50), r1 + 1)):
            cols.update(_nonempty_cols(rows[r]))
        out.append((r0, r1, min(cols), max(cols)))
    return out


def _row_kind(rows, r, c0, c1) -> tuple[int, int, int]:
    """(non-empty cells, numeric-like cells, text cells) of a row inside [c0, c1]."""
    ne = num = 0
    row = rows[r]
    for c in range(c0, min(c1 + 1, len(row))):
        v = row[c]
        if is_empty(v):
            continue
        ne += 1
        if is_numlike(v):
            num += 1
    return ne, num, ne - num


def analyze_sheet(sheet: Sheet, recipe: dict | None = None) -> list[Table]:
    """Find the tables in a sheet and their parts (表の領域・見出し・注記)."""
    recipe = recipe or {}
    rows = sheet.rows
    if not rows:
        return []
    blocks = find_blocks(sheet)
    if recipe.get("region"):
        from .reader import col_index

        m = re.match(r"^([A-Z]+)(\d+):([A-Z]+)(\d+)$", recipe["region"].upper())
        if m:
            blocks = [(int(m.group(2)) - 1, int(m.group(4)) - 1, col_index(m.group(1)), col_index(m.group(3)))]
        spacers = {}
    elif recipe.get("join_blocks", True):
        blocks, spacers = _join_spacer_split(rows, blocks)
    else:
        spacers = {}
    # Attach small text-only blocks (titles above, notes below) to the nearest table block.
    kinds = []
    for (r0, r1, c0, c1) in blocks:
        height = r1 - r0 + 1
        wide = 0
        for r in range(r0, min(r1 + 1, r0 + 30)):
            ne, _num, _ = _row_kind(rows, r, c0, c1)
            if ne >= 2:
                wide += 1
        kinds.append("table" if wide >= 2 or (height >= 3 and wide >= 1) else "text")
    tables: list[Table] = []
    pending_title: list[int] = []
    for (r0, r1, c0, c1), kind in zip(blocks, kinds):
        if kind == "text":
            if tables and tables[-1].r1 < r0 and not pending_title and _is_note_block(rows, r0, r1):
                tables[-1].note_rows.extend(range(r0, r1 + 1))
            else:
                pending_title.extend(range(r0, r1 + 1))
            continue
        t = Table(sheet.name, len(tables), r0, r1, c0, c1)
        t.spacer_rows = spacers.get(r0, [])
        if t.spacer_rows:
            t.guesses.append(Guess("join_blocks", True, 0.7,
                                   f"空行 {len(t.spacer_rows)} 行で区切られたブロックを 1 つの表として読みました", "join_blocks"))
        t.title_rows = pending_title
        pending_title = []
        _split_block(sheet, t, recipe)
        tables.append(t)
    if pending_title and tables:
        tables[-1].note_rows.extend(pending_title)
    for t in tables:
        _texts(rows, t)
    return tables


def _join_spacer_split(rows, blocks):
    """Join blocks that are one table cut by empty spacer rows (L1-03): the next block starts within two
    empty rows, ends at the same right edge, holds numbers, and has no header of its own (a row of text
    labels only, or of years only). Returns the joined blocks and, per joined block, its spacer rows."""
    out: list[tuple[int, int, int, int]] = []
    spacers: dict[int, list[int]] = {}
    for blk in blocks:
        if out and _continues(rows, out[-1], blk):
            p0, p1, pc0, pc1 = out[-1]
            spacers.setdefault(p0, []).extend(range(p1 + 1, blk[0]))
            out[-1] = (p0, blk[1], min(pc0, blk[2]), max(pc1, blk[3]))
        else:
            out.append(blk)
    return out, spacers


def _continues(rows, prev, nxt) -> bool:
    (p0, p1, pc0, pc1), (n0, n1, nc0, nc1) = prev, nxt
    if n0 - p1 - 1 > 2 or abs(nc1 - pc1) > 0 or pc1 - pc0 < 2:
        return False
    if not any(_row_kind(rows, r, pc0, pc1)[0] >= 2 for r in range(p0, min(p1 + 1, p0 + 30))):
        return False  # a title line, not the top of a table
    def cells(r):
        row = rows[r]
        return [row[c] for c in range(nc0, min(nc1 + 1, len(row))) if not is_empty(row[c])]

    has_number = False
    for r in range(n0, min(n1 + 1, n0 + 30)):
        vals = cells(r)
        nums = [v for v in vals if is_numlike(v)]
        if r < n0 + 5:
            if len(vals) - len(nums) >= 2 and not nums:
                return False  # a row of labels: the header of a table of its own
            if len(nums) >= 2 and len(vals) - len(nums) <= 1 and all(is_yearlike(v) for v in nums) and \
                    r < n1 and not all(is_yearlike(v) for v in cells(r + 1) if is_numlike(v)):
                return False  # years across the top, numbers below: a header too
        has_number = has_number or bool(nums)
    return has_number


def _is_note_block(rows, r0, r1) -> bool:
    for r in range(r0, r1 + 1):
        for v in rows[r]:
            if not is_empty(v):
                return bool(NOTE_PREFIX_RE.match(str(v))) or len(str(v)) > 15
    return False


def _texts(rows, t: Table) -> None:
    def line(r):
        return " ".join(str(_fmt(v)).strip() for v in rows[r] if not is_empty(v))

    t.title = " ".join(line(r) for r in t.title_rows)[:500]
    t.notes = [line(r) for r in t.note_rows if line(r)]
    for text in [t.title, *t.notes]:
        m = re.search(r"単位\s*[:：]\s*([^\s,、)）]{1,12})", nfkc(text))
        if m:
            t.unit = m.group(1)
            break


def _split_block(sheet: Sheet, t: Table, recipe: dict) -> None:
    rows = sheet.rows
    r0, r1, c0, c1 = t.r0, t.r1, t.c0, t.c1
    width = c1 - c0 + 1
    # 1. leading lone-text rows are titles, trailing ones (or note-like ones) are notes
    top = r0
    while top < r1 - 1:
        ne, num, _txt = _row_kind(rows, top, c0, c1)
        first_col = next((c for c in range(c0, c1 + 1) if not is_empty(_cell(rows, top, c))), c0)
        nxt_ne = _row_kind(rows, top + 1, c0, c1)[0]
        if num == 0 and first_col == c0 and (ne == 1 and width >= 3 or ne == 2 and width >= 6 and nxt_ne <= 2):
            t.title_rows.append(top)
            top += 1
            continue
        break
    bottom = r1
    while bottom > top:
        ne, num, _txt = _row_kind(rows, bottom, c0, c1)
        first = next((v for v in rows[bottom][c0:c1 + 1] if not is_empty(v)), "")
        if ne <= 2 and isinstance(first, str) and (NOTE_PREFIX_RE.match(first) or (ne == 1 and len(first) > 20)):
            t.note_rows.insert(0, bottom)
            bottom -= 1
            continue
        break
    if recipe.get("header_rows") is not None:
        hdr_n = int(recipe["header_rows"])
        skip = int(recipe.get("skip_rows", 0) or 0)
        t.title_rows = sorted(set(t.title_rows) - set(range(r0, r1 + 1)) | set(range(r0, r0 + skip)))
        top = r0 + skip
        t.header_rows = list(range(top, top + hdr_n))
        first_data = top + hdr_n
    else:
        first_data = None
    # 2. value columns: mostly numeric-like in the lower part of the block
    sample = list(range(max(top, bottom - PROFILE_WINDOW), bottom + 1))
    if len(sample) < 40:
        sample = list(range(top, bottom + 1))
    num_count = Counter()
    ne_count = Counter()
    real_count = Counter()
    for r in sample:
        row = rows[r]
        for c in range(c0, min(c1 + 1, len(row))):
            v = row[c]
            if is_empty(v):
                continue
            ne_count[c] += 1
            if is_numlike(v):
                num_count[c] += 1
                if not (isinstance(v, str) and nfkc(v.strip()) in _SYMBOLS_NFKC_ALL):
                    real_count[c] += 1
    value_cols = [c for c in range(c0, c1 + 1)
                  if ne_count[c] and num_count[c] / ne_count[c] >= 0.6 and real_count[c] >= max(1, 0.2 * ne_count[c])]
    if recipe.get("id_columns"):
        value_cols = [c for c in value_cols if c - c0 not in set(recipe["id_columns"])]
    if recipe.get("value_columns"):
        value_cols = sorted(c0 + i for i in recipe["value_columns"])
    # 3. header rows: from the top, until the first row that looks like data in the value columns
    if first_data is None:
        first_data = top
        vc = value_cols or list(range(c0, c1 + 1))
        for r in range(top, min(bottom + 1, top + 30)):
            row = rows[r]
            vals = [row[c] for c in vc if c < len(row) and not is_empty(row[c])]
            nums = [v for v in vals if is_numlike(v)]
            idtext = [row[c] for c in range(c0, c1 + 1) if c not in vc and c < len(row) and not is_empty(row[c])]
            if vals and len(nums) >= max(1, 0.5 * len(vals)):
                # years across the top of a cross table are headers, not data
                if all(is_yearlike(v) for v in nums) and len(nums) >= 2 and r + 1 <= bottom and \
                        not all(is_yearlike(v) for v in rows[r + 1] if not is_empty(v)):
                    if not idtext or r == top:
                        first_data = r + 1
                        continue
                first_data = r
                break
            if not vals and idtext and value_cols and r > top:
                # a label-only row: Titanic's "Class / Sex" row belongs to the header; a lone label that
                # recurs further down (Ron … Ginny) is a section row inside the data
                if len(idtext) == 1 and _lone_label_recurs(rows, r, bottom, c0, c1, set(vc)):
                    first_data = r
                    break
                first_data = r + 1
                continue
            first_data = r + 1
        else:
            first_data = top + 1 if value_cols else top
        if not value_cols:
            # all-text table: one header row if the first row is distinct text
            first = [v for v in rows[top][c0:c1 + 1] if not is_empty(v)]
            first_data = top + 1 if first and len(set(map(str, first))) == len(first) and bottom > top else top
        t.header_rows = list(range(top, first_data))
        conf = 0.9 if 1 <= len(t.header_rows) <= 3 else 0.5
        t.guesses.append(Guess("header_rows", len(t.header_rows), conf,
                               f"表頭は {len(t.header_rows)} 行と推定（最初のデータ行: {first_data + 1} 行目）",
                               "header_rows"))
    # 4. data rows, section rows, totals
    data_rows = []
    vc_set = set(value_cols)
    id_range = [c for c in range(c0, c1 + 1) if c not in vc_set]
    # every row of the block, vectorised: does it hold a value, how many row labels
    grid = sheet.grid
    n_span = max(bottom + 1 - first_data, 0)
    span = pl.int_range(first_data, first_data + n_span, eager=True)
    has_value = grid.filled_count(value_cols).slice(first_data, n_span) > 0
    labels = grid.filled_count(id_range).slice(first_data, n_span)
    section = (~has_value & (labels == 1)) if value_cols else pl.repeat(False, n_span, dtype=pl.Boolean, eager=True)
    data = (has_value | (labels > 0)) & ~section
    t.section_rows.extend(span.filter(section).to_list())
    data_rows = span.filter(data).to_list()
    last_value_row = -1
    for r in reversed(data_rows):  # the last row that holds a number (rows below it are notes)
        row = rows[r]
        if any(is_numlike(row[c]) for c in value_cols if c < len(row)):
            last_value_row = r
            break
    if value_cols and data_rows:
        # rows after the last row holding a value are notes (凡例・出典), not data
        t.note_rows = sorted(set(t.note_rows) | {r for r in data_rows if r > last_value_row})
        data_rows = [r for r in data_rows if r <= last_value_row]
    t.data_rows = data_rows
    if data_rows:
        # lone labels after the last data row are notes; a section must be followed by data
        tail = [r for r in t.section_rows if r > data_rows[-1]]
        t.note_rows = sorted(set(t.note_rows) | set(tail))
        t.section_rows = [r for r in t.section_rows if r < data_rows[-1]]
        followed = [r for r in t.section_rows if any(r < d for d in data_rows[:PROFILE_WINDOW])]
        if len(t.section_rows) < 2 or len(followed) < 2:  # a lone label row is more likely a stray note
            t.section_rows = []
    # 5. columns
    used = set()
    for r in data_rows[:PROFILE_WINDOW] + data_rows[-PROFILE_WINDOW:]:
        used.update(c for c in _nonempty_cols(rows[r]) if c0 <= c <= c1)
    t.empty_cols = [c for c in range(c0, c1 + 1) if c not in used]
    t.value_cols = [c for c in value_cols if c in used]
    t.id_cols = [c for c in range(c0, c1 + 1) if c in used and c not in vc_set]
    if not t.id_cols and t.value_cols and not t.header_rows:
        pass
    _name_columns(sheet, t, recipe)
    # codes and time points are identifiers (表側), not measures, even when they are digits
    ident = [c for c in t.value_cols if _identifier_column(rows, t, c)]
    if ident and not recipe.get("value_columns"):
        t.value_cols = [c for c in t.value_cols if c not in ident]
        t.id_cols = sorted(t.id_cols + ident)
        _name_columns(sheet, t, recipe)
    _find_totals(rows, t)
    _decide_melt(rows, t, recipe)


_IDENT_NAME_RE = re.compile(r"(コード|code|番号|^ID$|^No\.?$|^年$|^年度$|^月$|^日$|^年月$|^年月日$|^時点$|^調査年|^Year$|^Month$|"
                            r"^Day$|^Date$|^Period$)", re.IGNORECASE)


def _identifier_column(rows, t: Table, c: int) -> bool:
    name = t.names.get(c, "")
    if _IDENT_NAME_RE.search(name):
        return True
    sample = [rows[r][c] for r in t.data_rows[:200] if c < len(rows[r]) and not is_empty(rows[r][c])]
    # zero-padded digit strings (「010006」) are codes
    return bool(sample) and all(isinstance(v, str) and v.strip().isdigit() and v.strip().startswith("0")
                                for v in sample[:50]) and len(sample) >= 2


def _lone_label_recurs(rows, r, bottom, c0, c1, vc: set) -> bool:
    for x in range(r + 2, min(bottom + 1, r + 2000)):
        row = rows[x]
        cells = [c for c in range(c0, min(c1 + 1, len(row))) if not is_empty(row[c])]
        if len(cells) == 1 and cells[0] not in vc:
            return True
    return False


def _header_grid(sheet: Sheet, t: Table) -> list[list[str]]:
    """Header cells as text with merged ranges filled (結合セルの展開)."""
    rows = sheet.rows
    grid = [[("" if is_empty(_cell(rows, r, c)) else squash_spaces(nfkc(str(_fmt(_cell(rows, r, c))))))
             for c in range(t.c0, t.c1 + 1)] for r in t.header_rows]
    if not grid:
        return grid
    h0 = t.header_rows[0]
    for (mr0, mc0, mr1, mc1) in sheet.merges:
        if mr1 < h0 or mr0 > t.header_rows[-1]:
            continue
        src_r, src_c = mr0 - h0, mc0 - t.c0
        if not (0 <= src_r < len(grid) and 0 <= src_c < len(grid[0])):
            continue
        val = grid[src_r][src_c]
        for r in range(max(mr0, h0), min(mr1, t.header_rows[-1]) + 1):
            for c in range(max(mc0, t.c0), min(mc1, t.c1) + 1):
                if r - h0 != src_r:  # vertical merge: the label belongs to the top cell only
                    continue
                grid[r - h0][c - t.c0] = val
    return grid


def _fmt(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _name_columns(sheet: Sheet, t: Table, recipe: dict) -> None:
    grid = _header_grid(sheet, t)
    n_levels = len(grid)
    vc = [c - t.c0 for c in t.value_cols]
    idc = [c - t.c0 for c in t.id_cols]
    stub_end = min(vc) if vc else t.c1 - t.c0 + 1
    # fill sparse group labels to the right (「病院」 over 総数/医師/助産師) in all but the last level,
    # within the value area only and not past the next label
    for lvl in range(n_levels - 1):
        row = grid[lvl]
        last = ""
        vset = set(vc)
        for c in range(len(row)):
            if c not in vset:
                last = ""
                continue
            if row[c]:
                last = row[c]
            elif last and any(grid[k][c] for k in range(lvl + 1, n_levels)):
                row[c] = last
    # stub label row: the last header row with text over the id columns
    stub_label_row = None
    for lvl in range(n_levels - 1, -1, -1):
        if any(grid[lvl][c] for c in range(stub_end)):
            stub_label_row = lvl
            break
    t.level_names = [None] * n_levels
    if stub_label_row is not None:
        for lvl in range(stub_label_row):
            labels = list(dict.fromkeys(grid[lvl][c] for c in range(stub_end) if grid[lvl][c]))
            has_values = any(grid[lvl][c] for c in vc)
            if len(labels) == 1 and has_values:
                t.level_names[lvl] = labels[0]
                for c in range(stub_end):
                    grid[lvl][c] = ""
    t.stub_label_row = stub_label_row
    names: dict[int, str] = {}
    parts_by_col: dict[int, list[str]] = {}
    for c in range(t.c1 - t.c0 + 1):
        parts: list[str] = []
        for lvl in range(n_levels):
            p = grid[lvl][c]
            if p and (not parts or parts[-1] != p):
                parts.append(p)
        parts_by_col[c + t.c0] = parts
        names[c + t.c0] = "_".join(parts)
    # empty column that holds level names (Titanic's column C): already used above
    for c in idc + vc:
        if not names.get(c + t.c0):
            names[c + t.c0] = ""
    overrides = recipe.get("columns") or {}
    seen: Counter = Counter()
    final: dict[int, str] = {}
    for c in t.id_cols + t.value_cols:
        name = names.get(c, "")
        name = overrides.get(name, overrides.get(str(c - t.c0), name)) if isinstance(overrides, dict) else name
        if not name:
            name = f"列{c - t.c0 + 1}"
            t.guesses.append(Guess(f"name of column {c - t.c0 + 1}", name, 0.3,
                                   "項目名が空のため仮の名前を付けました", "columns"))
        seen[name] += 1
        final[c] = name if seen[name] == 1 else f"{name}_{seen[name]}"
    t.names = final
    t.header_parts = {c: parts_by_col.get(c, []) for c in t.id_cols + t.value_cols}


def _find_totals(rows, t: Table) -> None:
    """Total rows (合計・総数): a totals word in a row-header cell *and* values equal to the column sums of the
    rows they total (検算); rows that only have the word are kept and reported."""
    if not t.id_cols or not t.value_cols or len(t.data_rows) > 20000:
        return
    from .normalize import to_number

    cands = []
    for r in t.data_rows:
        row = rows[r]
        for c in reversed(t.id_cols):
            v = row[c] if c < len(row) else None
            if isinstance(v, str) and v.strip():
                if len(v) <= 16 and TOTAL_RE.match(squash_spaces(nfkc(v))):
                    cands.append(r)
                break
    for r in cands:
        others = [x for x in t.data_rows if x not in cands]
        ok = bool(others)
        for c in t.value_cols:
            tv = to_number(_cell(rows, r, c)).value
            s = sum((to_number(_cell(rows, x, c)).value or 0.0) for x in others)
            if tv is None or abs(tv - s) > 1e-6 * max(1.0, abs(s)):
                ok = False
                break
        if ok:
            t.total_rows.append(r)
    if t.total_rows:
        t.data_rows = [r for r in t.data_rows if r not in t.total_rows]


_ORDINAL_RE = re.compile(r"^(.*?)(\d+)(.*)$")


def _level_values(t: Table, lvl: int) -> list[str]:
    out = []
    for c in t.value_cols:
        parts = t.header_parts.get(c, [])
        out.append(parts[lvl] if lvl < len(parts) else "")
    return out


def _decide_melt(rows, t: Table, recipe: dict) -> None:
    if "melt" in recipe:
        t.melt = bool(recipe["melt"])
        t.melt_reason = "recipe"
        return
    if len(t.value_cols) < 2:
        return
    depth = max((len(t.header_parts.get(c, [])) for c in t.value_cols), default=0)
    if depth == 0:
        return
    reasons = []
    for lvl in range(depth):
        vals = _level_values(t, lvl)
        distinct = [v for v in dict.fromkeys(vals) if v]
        if not distinct:
            continue
        if all(parse_date(v) is not None or is_yearlike(v) or re.fullmatch(r"\d{1,2}月|[Qq][1-4]|第?[1-4]四半期", nfkc(v))
               for v in distinct) and len(distinct) >= 2:
            reasons.append(f"表頭の第{lvl + 1}段が時点（{distinct[0]} など）")
        elif lvl < len(t.level_names) and t.level_names[lvl] and len(distinct) >= 2:
            reasons.append(f"表頭の第{lvl + 1}段に名前（{t.level_names[lvl]}）がある")
        else:
            repeated = False
            if lvl > 0:
                groups: dict[str, list[str]] = {}
                upper = _level_values(t, lvl - 1)
                for u, v in zip(upper, vals):
                    groups.setdefault(u, []).append(v)
                subs = [tuple(v) for v in groups.values() if len(v) >= 2]
                if len(subs) >= 2 and len(set(subs)) < len(subs):
                    repeated = True
                    reasons.append(f"表頭の第{lvl + 1}段が繰り返し（{'・'.join(subs[0][:3])}）")
            if not repeated:
                stems = set()
                for v in distinct:
                    m = _ORDINAL_RE.match(nfkc(v))
                    stems.add((m.group(1), m.group(3)) if m else None)
                generic = {("header", ""), ("列", ""), ("col", ""), ("column", ""), ("項目", ""), ("c", ""), ("v", "")}
                if len(distinct) >= 3 and len(stems) == 1 and None not in stems and \
                        (next(iter(stems))[0].strip().lower(), next(iter(stems))[1]) not in generic:
                    reasons.append(f"表頭が連番（{distinct[0]}, {distinct[1]} …）")
    if reasons:
        t.melt = True
        t.melt_reason = "; ".join(reasons)
        t.guesses.append(Guess("melt", True, 0.7, "クロス集計表と判断して縦持ちに変換: " + t.melt_reason, "melt"))

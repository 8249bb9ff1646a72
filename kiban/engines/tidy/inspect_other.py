"""Layout inspection for ODS and XLS (ODS・XLS の書式・構造の点検).

calamine gives the values of every format, but for ODS and legacy XLS (BIFF) it says nothing about hidden rows
and columns, formulas, comments, drawings or the fills and font colours that carry meaning (L1-11), nor (for
ODS, python-calamine 0.9) about merged cells. This module finds those facts, the way `reader.XlsxScan` does
for XLSX:

- ODS: one streaming pass over `content.xml` (and `styles.xml` for the named cell styles) with expat
  callbacks, building no element tree (and refusing DTDs); repeated rows and columns (LibreOffice writes
  ~1,048,000 repeated empty rows at the end of a sheet) are kept as ranges, never expanded beyond the cells
  that hold something.
- XLS: `xlrd` (2.x, .xls only) with `formatting_info=True` for hidden rows/columns, sheet visibility, notes,
  merges and cell formats; formulas and drawing objects, which xlrd does not expose, are counted by walking the
  sheet's BIFF records (FORMULA 0x0006, OBJ 0x005D) in the workbook stream that xlrd already holds.

Hidden rows and columns, and formatted cells, count only within the sheet's extent (the last row and column
holding a value, formula or comment): rows hidden or coloured beyond the table do not matter to its reader.

Coordinates are 0-based (row, col) from A1, the grid of calamine's `to_python(skip_empty_area=False)`.
"""

from __future__ import annotations

import bisect
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.parsers import expat

from .errors import TidyError

if TYPE_CHECKING:
    from xlrd.book import Book as XlsBook

    from .reader import Deadline

MAX_FORMULAS = 1000  # cells kept; formula_count counts them all
MAX_STYLED = 5000  # cells kept per kind of meaning-bearing format
MAX_COMMENTS = 1000
MAX_MERGES = 10000
MAX_RANGES = 200_000  # pending hidden/styled ranges of one sheet (ODS), to bound memory on pathological files


@dataclass
class SheetFacts:
    """Layout facts of one sheet (シートの書式・構造): the fields `reader.Sheet` has besides the values."""

    hidden: bool = False
    hidden_rows: list[int] = field(default_factory=list)
    hidden_cols: list[int] = field(default_factory=list)
    formulas: list[tuple[int, int]] = field(default_factory=list)  # at most MAX_FORMULAS
    formula_count: int = 0
    comments: list[tuple[int, int, str]] = field(default_factory=list)  # text cut to 200 characters
    drawings: list[str] = field(default_factory=list)  # kinds: image, chart, shape, ole
    styled: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # "fill", "italic+font_color" → cells
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 (0-based, incl.)
    inspected: set[str] = field(default_factory=set)  # hidden, formulas, formats, comments, objects, merges


def _corrupt(fmt: str, exc: BaseException) -> TidyError:
    return TidyError(
        f"{fmt} ファイルが壊れているか途中で切れています（{type(exc).__name__}）。",
        f"The {fmt} file is corrupt or truncated ({type(exc).__name__}: {str(exc)[:200]}).",
        code="corrupt", status=422,
    )


def _add_styled(facts: SheetFacts, kind: str, row: int, col: int) -> bool:
    """Keep one styled cell; False once the kind is full."""
    cells = facts.styled.setdefault(kind, [])
    if len(cells) >= MAX_STYLED:
        return False
    cells.append((row, col))
    return True


# ---------------------------------------------------------------------------------------------------------
# ODS

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "xlink": "http://www.w3.org/1999/xlink",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}


def _q(name: str) -> str:
    """'table:table-row' → the name expat reports with namespace_separator=' ' ('urn:…:table:1.0 table-row')."""
    prefix, local = name.split(":")
    return f"{_NS[prefix]} {local}"


T_TABLE, T_ROW, T_COL = _q("table:table"), _q("table:table-row"), _q("table:table-column")
T_CELL, T_COVERED, T_SHAPES = _q("table:table-cell"), _q("table:covered-table-cell"), _q("table:shapes")
A_NAME, A_STYLE, A_VIS = _q("table:name"), _q("table:style-name"), _q("table:visibility")
A_DEFAULT_STYLE = _q("table:default-cell-style-name")
A_ROWS_REP, A_COLS_REP = _q("table:number-rows-repeated"), _q("table:number-columns-repeated")
A_ROWS_SPAN, A_COLS_SPAN = _q("table:number-rows-spanned"), _q("table:number-columns-spanned")
A_FORMULA, A_VALUE_TYPE = _q("table:formula"), _q("office:value-type")
S_STYLE, S_DEFAULT = _q("style:style"), _q("style:default-style")
S_NAME, S_FAMILY, S_PARENT = _q("style:name"), _q("style:family"), _q("style:parent-style-name")
O_ANNOTATION, TEXT_P = _q("office:annotation"), _q("text:p")
DRAW_NS = _NS["draw"] + " "
D_FRAME, D_IMAGE, D_OBJECT, D_OLE = _q("draw:frame"), _q("draw:image"), _q("draw:object"), _q("draw:object-ole")
X_HREF = _q("xlink:href")
A_NOTIFY = _q("draw:notify-on-update-of-ranges")
M_ENTRY, M_PATH, M_TYPE = _q("manifest:file-entry"), _q("manifest:full-path"), _q("manifest:media-type")

# property element → {attribute: our name}; inherited through style:parent-style-name
_STYLE_PROPS = {
    _q("style:table-cell-properties"): {_q("fo:background-color"): "bg"},
    _q("style:text-properties"): {_q("fo:color"): "color", _q("fo:font-style"): "font_style",
                                  _q("style:text-line-through-style"): "strike"},
    _q("style:table-properties"): {_q("table:display"): "display"},
}
_HIDDEN = ("collapse", "filter")
_CHUNK = 1 << 20


class _OdsStyles:
    """Cell and table styles of an ODS (styles.xml and content.xml's automatic styles), with inheritance."""

    def __init__(self) -> None:
        self.raw: dict[tuple[str, str], dict[str, str]] = {}  # (family, name) → own properties (+ "parent")
        self.defaults: dict[str, dict[str, str]] = {}  # family → style:default-style properties
        self._kinds: dict[str, str] = {}

    def resolved(self, family: str, name: str) -> dict[str, str]:
        out: dict[str, str] = {}
        seen = set()
        while name and name not in seen and (family, name) in self.raw:
            seen.add(name)
            props = self.raw[(family, name)]
            for key, value in props.items():
                out.setdefault(key, value)
            name = props.get("parent", "")
        for key, value in self.defaults.get(family, {}).items():
            out.setdefault(key, value)
        return out

    def cell_kinds(self, name: str) -> str:
        """The meaning-bearing formats of a cell style, in XlsxScan's order: 'fill', 'italic', 'strike',
        'font_color', joined by '+' ('' for none)."""
        if name not in self._kinds:
            p = self.resolved("table-cell", name)
            kinds = []
            if p.get("bg", "transparent").lower() not in ("transparent", "#ffffff", "#fff"):
                kinds.append("fill")
            if p.get("font_style", "normal") in ("italic", "oblique"):
                kinds.append("italic")
            if p.get("strike", "none") != "none":
                kinds.append("strike")
            if p.get("color", "#000000").lower() not in ("#000000", "#000"):
                kinds.append("font_color")
            self._kinds[name] = "+".join(kinds)
        return self._kinds[name]

    def table_hidden(self, name: str) -> bool:
        return self.resolved("table", name).get("display", "true") == "false"


def _add_span(spans: list[tuple[int, int]], first: int, count: int) -> None:
    """Keep hidden rows or columns (first, count), joining a run that continues the last one."""
    if spans and spans[-1][0] + spans[-1][1] == first:
        spans[-1] = (spans[-1][0], spans[-1][1] + count)
    elif len(spans) < MAX_RANGES:
        spans.append((first, count))


def _add_range(ranges: list[tuple[int, int, int, int]], r: int, nr: int, c: int, nc: int) -> None:
    """Keep a block of cells (row, n_rows, col, n_cols); a block right below one of the last few with the same
    columns extends it, so a styled column of a long table stays one range."""
    for i in range(len(ranges) - 1, max(len(ranges) - 8, -1), -1):
        r0, nr0, c0, nc0 = ranges[i]
        if c0 == c and nc0 == nc and r0 + nr0 == r:
            ranges[i] = (r0, nr0 + nr, c0, nc0)
            return
    if len(ranges) < MAX_RANGES:
        ranges.append((r, nr, c, nc))


class _OdsSheet:
    """One table being scanned: facts found so far, and hidden/styled cells kept as ranges until its extent
    (the last row and column holding a value, text, formula, comment or merge) is known."""

    def __init__(self, name: str, hidden: bool):
        self.name = name
        self.facts = SheetFacts(hidden=hidden)
        self.row = 0
        self.col = 0
        self.row_rep = 1
        self.row_default = ""
        self.columns: list[tuple[int, int, str]] = []  # (first col, count, default cell style), in order
        self.column_starts: list[int] = []
        self.n_cols = 0
        self.max_row = -1
        self.max_col = -1
        self.hidden_row_ranges: list[tuple[int, int]] = []
        self.hidden_col_ranges: list[tuple[int, int]] = []
        self.styled_ranges: dict[str, list[tuple[int, int, int, int]]] = {}  # kind → (row, n_rows, col, n_cols)

    def column_segments(self, col: int, n: int) -> list[tuple[int, int, str]]:
        """The columns col..col+n-1 that have a default cell style, as (first, count, style)."""
        out = []
        i = max(bisect.bisect_right(self.column_starts, col) - 1, 0)
        while i < len(self.columns) and self.columns[i][0] < col + n:
            first, count, style = self.columns[i]
            lo, hi = max(first, col), min(first + count, col + n)
            if lo < hi:
                out.append((lo, hi - lo, style))
            i += 1
        return out

    def finish(self) -> SheetFacts:
        """Expand the kept ranges within the extent of the sheet's content."""
        f = self.facts
        for first, count in self.hidden_row_ranges:
            f.hidden_rows.extend(range(first, min(first + count, self.max_row + 1)))
        for first, count in self.hidden_col_ranges:
            f.hidden_cols.extend(range(first, min(first + count, self.max_col + 1)))
        for kind, ranges in self.styled_ranges.items():
            cells = ((r, c) for r0, nr, c0, nc in ranges
                     for r in range(r0, min(r0 + nr, self.max_row + 1))
                     for c in range(c0, min(c0 + nc, self.max_col + 1)))
            for r, c in cells:
                if not _add_styled(f, kind, r, c):
                    break
        f.inspected = {"hidden", "formulas", "formats", "comments", "objects", "merges"}
        return f


def _int(value: str | None) -> int:
    """A repeat or span count: at least 1."""
    if not value:
        return 1
    try:
        return max(1, int(value))
    except ValueError:
        return 1


def _object_path(href: str) -> str:
    return href.removeprefix("./").rstrip("/")


class _Cell:
    """The table:table-cell being read (its children come before its end)."""

    __slots__ = ("attrs", "comment", "covered", "drawings", "has_text")

    def __init__(self, attrs: dict[str, str], covered: bool):
        self.attrs = attrs
        self.covered = covered
        self.has_text = False
        self.comment: list[str] | None = None
        self.drawings: list[str] = []


class _OdsScan:
    """One streaming pass (expat callbacks, no element tree) over styles.xml, then content.xml."""

    def __init__(self, styles: _OdsStyles, charts: set[str], sheet_names: list[str] | None):
        self.styles = styles
        self.charts = charts
        self.wanted = set(sheet_names) if sheet_names else None
        self.out: dict[str, SheetFacts] = {}
        self.sheet: _OdsSheet | None = None
        self.skip_depth = 0  # >0 inside a table that was not asked for
        self.cell: _Cell | None = None
        self.in_shapes = False
        self.in_annotation = False
        self.in_annotation_p = 0
        self.draw_depth = 0  # depth inside the outermost drawing element of a cell or of table:shapes
        self.draw_frame = False
        self.draw_kind: str | None = None
        self.style: tuple[str, str, dict[str, str]] | None = None  # (element, family/name key, properties)
        self.xml: expat.XMLParserType | None = None

    def parser(self) -> expat.XMLParserType:
        p = expat.ParserCreate(namespace_separator=" ")
        p.buffer_text = True
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.StartDoctypeDeclHandler = _refuse_dtd  # ODF has no DTD: refuse entity expansion tricks
        p.EntityDeclHandler = _refuse_dtd
        self.xml = p
        return p

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if self.skip_depth:
            if tag == T_TABLE:
                self.skip_depth += 1
            return
        cell = self.cell
        if cell is not None or self.in_shapes:
            if tag.startswith(DRAW_NS):
                self._draw_start(tag, attrs)
            elif cell is not None and not self.draw_depth:  # the text of a shape is not the cell's
                if tag == TEXT_P:
                    if self.in_annotation:
                        self.in_annotation_p += 1
                        self.xml.CharacterDataHandler = self.text  # text is read inside comments only
                    else:
                        cell.has_text = True
                elif tag == O_ANNOTATION:
                    self.in_annotation = True
                    cell.comment = []
            return
        sh = self.sheet
        if tag == T_CELL or tag == T_COVERED:
            if sh is not None:
                self.cell = _Cell(attrs, tag == T_COVERED)
        elif tag == T_ROW:
            if sh is not None:
                sh.row_rep = _int(attrs.get(A_ROWS_REP))
                sh.row_default = attrs.get(A_DEFAULT_STYLE, "")
                sh.col = 0
                if attrs.get(A_VIS) in _HIDDEN:
                    _add_span(sh.hidden_row_ranges, sh.row, sh.row_rep)
        elif tag == T_COL:
            if sh is not None:
                count = _int(attrs.get(A_COLS_REP))
                if attrs.get(A_DEFAULT_STYLE):
                    sh.columns.append((sh.n_cols, count, attrs[A_DEFAULT_STYLE]))
                    sh.column_starts.append(sh.n_cols)
                if attrs.get(A_VIS) in _HIDDEN:
                    _add_span(sh.hidden_col_ranges, sh.n_cols, count)
                sh.n_cols += count
        elif tag == T_TABLE:
            name = attrs.get(A_NAME, "")
            if self.wanted is not None and name not in self.wanted:
                self.skip_depth = 1
            else:
                self.sheet = _OdsSheet(name, self.styles.table_hidden(attrs.get(A_STYLE, "")))
        elif tag == T_SHAPES:
            self.in_shapes = sh is not None
        elif tag == S_STYLE or tag == S_DEFAULT:
            key = attrs.get(S_FAMILY, "") if tag == S_DEFAULT else (attrs.get(S_FAMILY, ""), attrs.get(S_NAME, ""))
            props = {"parent": attrs[S_PARENT]} if attrs.get(S_PARENT) else {}
            self.style = (tag, key, props)
        elif self.style is not None and tag in _STYLE_PROPS:
            for attr, key in _STYLE_PROPS[tag].items():
                if attr in attrs:
                    self.style[2][key] = attrs[attr]

    def _draw_start(self, tag: str, attrs: dict[str, str]) -> None:
        if not self.draw_depth:
            self.draw_frame, self.draw_kind = tag == D_FRAME, None
        self.draw_depth += 1
        if not self.draw_frame:
            return
        if tag == D_OBJECT or tag == D_OLE:
            if self.draw_kind not in ("chart", "ole"):
                chart = tag == D_OBJECT and (_object_path(attrs.get(X_HREF, "")) in self.charts
                                             or A_NOTIFY in attrs)
                self.draw_kind = "chart" if chart else "ole"
        elif tag == D_IMAGE and self.draw_kind is None:
            self.draw_kind = "image"

    def text(self, data: str) -> None:
        comment = self.cell.comment if self.in_annotation_p and self.cell is not None else None
        if comment is not None and sum(map(len, comment)) < 400:
            comment.append(data)

    def end(self, tag: str) -> None:
        if self.skip_depth:
            if tag == T_TABLE:
                self.skip_depth -= 1
            return
        if self.draw_depth:
            if tag.startswith(DRAW_NS):
                self.draw_depth -= 1
                if not self.draw_depth:
                    kind = (self.draw_kind or "shape") if self.draw_frame else "shape"
                    if self.cell is not None:
                        self.cell.drawings.append(kind)
                    elif self.sheet is not None:
                        self.sheet.facts.drawings.append(kind)
            return
        cell = self.cell
        if cell is not None:
            if tag == T_CELL or tag == T_COVERED:
                self.cell = None
                self._cell(self.sheet, cell)
            elif tag == TEXT_P and self.in_annotation_p:
                self.in_annotation_p -= 1
                if not self.in_annotation_p:
                    self.xml.CharacterDataHandler = None
                if cell.comment is not None:
                    cell.comment.append("\n")
            elif tag == O_ANNOTATION:
                self.in_annotation = False
            return
        sh = self.sheet
        if tag == T_ROW:
            if sh is not None:
                sh.row += sh.row_rep
        elif tag == T_TABLE:
            if sh is not None:
                self.out[sh.name] = sh.finish()
                self.sheet = None
        elif tag == T_SHAPES:
            self.in_shapes = False
        elif self.style is not None and tag == self.style[0]:
            element, key, props = self.style
            if element == S_DEFAULT:
                self.styles.defaults[key] = props
            else:
                self.styles.raw[key] = props
            self.style = None

    def _cell(self, sh: _OdsSheet, cell: _Cell) -> None:
        f = sh.facts
        attrs = cell.attrs
        r, c = sh.row, sh.col
        nr, nc = sh.row_rep, _int(attrs.get(A_COLS_REP))
        sh.col += nc
        if cell.drawings:
            f.drawings.extend(cell.drawings * min(nr * nc, 100))
        if cell.covered:
            return
        formula = attrs.get(A_FORMULA)
        rs, cs = _int(attrs.get(A_ROWS_SPAN)), _int(attrs.get(A_COLS_SPAN))
        if (cell.has_text or A_VALUE_TYPE in attrs or formula is not None or cell.comment is not None
                or rs > 1 or cs > 1):
            if r + nr > sh.max_row:
                sh.max_row = r + nr - 1
            if c + nc > sh.max_col:
                sh.max_col = c + nc - 1
        if formula is not None:
            f.formula_count += nr * nc
            for rr in range(r, r + min(nr, MAX_FORMULAS)):
                for cc in range(c, c + min(nc, MAX_FORMULAS - len(f.formulas))):
                    f.formulas.append((rr, cc))
        if cell.comment is not None and len(f.comments) < MAX_COMMENTS:
            f.comments.append((r, c, "".join(cell.comment).strip()[:200]))  # paragraphs end with a newline
        if rs > 1 or cs > 1:
            for rr in range(r, r + min(nr, MAX_MERGES)):
                for cc in range(c, c + min(nc, MAX_MERGES - len(f.merges))):
                    f.merges.append((rr, cc, rr + rs - 1, cc + cs - 1))
        own = attrs.get(A_STYLE) or sh.row_default
        if own:
            kind = self.styles.cell_kinds(own)
            if kind:
                _add_range(sh.styled_ranges.setdefault(kind, []), r, nr, c, nc)
            return
        # no style of its own: each column's default cell style (repeated cells may span several columns)
        for first, count, style in sh.column_segments(c, nc):
            kind = self.styles.cell_kinds(style)
            if kind:
                _add_range(sh.styled_ranges.setdefault(kind, []), r, nr, first, count)


def _refuse_dtd(*_args) -> None:
    raise ValueError("DTD or entity declarations are not allowed in ODF XML")


def _parse(zf: zipfile.ZipFile, member: str, scan: _OdsScan, deadline: Deadline) -> None:
    """Feed one XML member to the scan, a megabyte at a time."""
    parser = scan.parser()
    with zf.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            parser.Parse(chunk, False)
            deadline.check(f"ods {member}")
    parser.Parse(b"", True)


def _chart_objects(zf: zipfile.ZipFile) -> set[str]:
    """Paths of the embedded objects that are charts (from META-INF/manifest.xml)."""
    try:
        with zf.open("META-INF/manifest.xml") as fh:
            data = fh.read(4 << 20)
    except KeyError:
        return set()
    out = set()

    def entry(tag: str, attrs: dict[str, str]) -> None:
        if tag == M_ENTRY and attrs.get(M_TYPE, "").endswith("opendocument.chart"):
            out.add(_object_path(attrs.get(M_PATH, "")))

    p = expat.ParserCreate(namespace_separator=" ")
    p.StartElementHandler = entry
    p.StartDoctypeDeclHandler = _refuse_dtd
    p.Parse(data, True)
    return out


def inspect_ods(path: Path, sheet_names: list[str] | None, deadline: Deadline) -> dict[str, SheetFacts]:
    """Layout facts of each sheet (or of the named ones) of an ODS file, by sheet name."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "content.xml" not in names:
                raise KeyError("content.xml is missing")
            scan = _OdsScan(_OdsStyles(), _chart_objects(zf), sheet_names)
            if "styles.xml" in names:
                _parse(zf, "styles.xml", scan, deadline)
            _parse(zf, "content.xml", scan, deadline)
    except TidyError:
        raise
    except (zipfile.BadZipFile, zlib.error, expat.ExpatError, KeyError, ValueError, OSError, EOFError) as exc:
        raise _corrupt("ODS", exc) from exc
    return scan.out


# ---------------------------------------------------------------------------------------------------------
# XLS (BIFF)

_BOF = {0x0809, 0x0409, 0x0209, 0x0009}
_EOF, _FORMULA, _OBJ = 0x000A, {0x0006, 0x0206, 0x0406}, 0x005D
# OBJ ftCmo object types (ot): 0x00 group (its members have their own OBJ), 0x05 chart, 0x08 picture,
# 0x14 drop-down (also the arrows of an autofilter), 0x19 note (a comment, read from NOTE records)
_OT_GROUP, _OT_CHART, _OT_PICTURE, _OT_DROPDOWN, _OT_NOTE = 0x00, 0x05, 0x08, 0x14, 0x19


def _xls_meaning_xfs(book: XlsBook) -> dict[int, str]:
    """XF indices whose fill, italic, strike or font colour may carry meaning (L1-11)."""
    colours = book.colour_map
    white, black = (255, 255, 255), (0, 0, 0)
    out: dict[int, str] = {}
    for i, xf in enumerate(book.xf_list):
        kinds = []
        bg = xf.background
        if bg.fill_pattern:
            shown = [bg.pattern_colour_index] if bg.fill_pattern == 1 else [bg.pattern_colour_index,
                                                                            bg.background_colour_index]
            if any(colours.get(c) not in (None, white) for c in shown):
                kinds.append("fill")
        if xf.font_index < len(book.font_list):
            font = book.font_list[xf.font_index]
            if font.italic:
                kinds.append("italic")
            if font.struck_out:
                kinds.append("strike")
            if colours.get(font.colour_index) not in (None, black):
                kinds.append("font_color")
        if kinds:
            out[i] = "+".join(kinds)
    return out


def _xls_records(mem: bytes, start: int, facts: SheetFacts, deadline: Deadline) -> None:
    """Walk one sheet's BIFF records (from its BOF to its EOF, skipping embedded chart substreams): count
    FORMULA records and classify OBJ records."""
    pos, depth, n = start, 0, 0
    end = len(mem)
    while pos + 4 <= end:
        code, length = struct.unpack_from("<HH", mem, pos)
        data = pos + 4
        pos = data + length
        n += 1
        if not n & 0xFFFF:
            deadline.check("xls records")
        if code in _BOF:
            depth += 1
            continue
        if code == _EOF:
            depth -= 1
            if depth <= 0:
                return
            continue
        if depth != 1 or pos > end:
            continue
        if code in _FORMULA and length >= 4:
            row, col = struct.unpack_from("<HH", mem, data)
            facts.formula_count += 1
            if len(facts.formulas) < MAX_FORMULAS:
                facts.formulas.append((row, col))
        elif code == _OBJ and length >= 10:
            ft, cb, ot, _id, flags = struct.unpack_from("<HHHHH", mem, data)
            if ft == 0x15 and cb == 18:  # BIFF8: subrecords, the first (ftCmo) gives the type
                if ot in (_OT_GROUP, _OT_NOTE) or (ot == _OT_DROPDOWN and flags & 0x0100):
                    continue
                ole = ot == _OT_PICTURE and _has_subrecord(mem, data, length, 0x0009)
            else:  # BIFF5 layout (cObj, OT, id, ...), which xlwt also writes into BIFF8 files
                ot = struct.unpack_from("<H", mem, data + 4)[0]
                if ot in (_OT_GROUP, _OT_DROPDOWN):  # a BIFF5 drop-down is in practice an autofilter arrow
                    continue
                ole = False
            if ot == _OT_CHART:
                facts.drawings.append("chart")
            elif ot == _OT_PICTURE:
                facts.drawings.append("ole" if ole else "image")
            else:
                facts.drawings.append("shape")


def _has_subrecord(mem: bytes, data: int, length: int, ft_wanted: int) -> bool:
    """Whether an OBJ record holds a subrecord of this type (ftPictFmla 0x0009 marks an OLE object)."""
    pos, end = data, data + length
    while pos + 4 <= end:
        ft, cb = struct.unpack_from("<HH", mem, pos)
        if ft == ft_wanted:
            return True
        if ft == 0x0000:
            return False
        pos += 4 + cb
    return False


def inspect_xls(path: Path, sheet_names: list[str] | None, deadline: Deadline) -> dict[str, SheetFacts]:
    """Layout facts of each worksheet (or of the named ones) of a legacy .xls (BIFF) file, by sheet name."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True, logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise TidyError("パスワードで保護されたファイルは読めません。保護を解除して保存し直してください。",
                            "The file is password-protected; save it without a password.",
                            code="encrypted", status=422) from exc
        raise _corrupt("XLS", exc) from exc
    except Exception as exc:  # xlrd raises many types (struct.error, AssertionError, IndexError...) on bad files
        raise _corrupt("XLS", exc) from exc
    out: dict[str, SheetFacts] = {}
    try:
        meaning = _xls_meaning_xfs(book)
        meaning_set = set(meaning)
        # the workbook stream stays in memory in on_demand mode (BIFF 5 and later): formulas and objects
        mem = book.mem if getattr(book, "mem", None) is not None and book.biff_version >= 50 else None
        for index, name in enumerate(book.sheet_names()):
            if sheet_names and name not in sheet_names:
                continue
            deadline.check(f"xls {name}")
            sh = book.sheet_by_index(index)
            facts = SheetFacts(hidden=sh.visibility != 0)
            facts.inspected = {"hidden", "comments", "merges", "formats"}
            facts.merges = [(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sh.merged_cells[:MAX_MERGES]]
            max_row = max_col = -1
            for r in range(sh.nrows):
                types = bytes(sh.row_types(r)).rstrip(b"\x00\x06")  # drop trailing empty/blank cells
                if types:
                    max_row, max_col = r, max(max_col, len(types) - 1)
            for (r, c), note in sorted(sh.cell_note_map.items())[:MAX_COMMENTS]:
                facts.comments.append((r, c, (note.text or "")[:200]))
                max_row, max_col = max(max_row, r), max(max_col, c)
            # formatted blank cells count inside the table's extent only, as for ODS
            xf_rows = getattr(sh, "_cell_xf_indexes", [])
            for r in range(min(max_row + 1, len(xf_rows))):
                if not meaning_set.isdisjoint(xf_rows[r]):
                    for c, xf in enumerate(xf_rows[r][: max_col + 1]):
                        if xf in meaning_set:
                            _add_styled(facts, meaning[xf], r, c)
                if not r & 0xFFF:
                    deadline.check(f"xls {name}")
            # hidden rows/columns outside the cells that hold something (e.g. "hide all unused columns") do
            # not matter to the reader of the table
            facts.hidden_rows = sorted(r for r, info in sh.rowinfo_map.items() if info.hidden and r <= max_row)
            facts.hidden_cols = sorted(c for c, info in sh.colinfo_map.items() if info.hidden and c <= max_col)
            if mem is not None and index < len(book._sh_abs_posn):
                _xls_records(mem, book._sh_abs_posn[index], facts, deadline)
                facts.inspected |= {"formulas", "objects"}
            book.unload_sheet(index)
            out[name] = facts
    except TidyError:
        raise
    except Exception as exc:
        raise _corrupt("XLS", exc) from exc
    finally:
        book.release_resources()
    return out

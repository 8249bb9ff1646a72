"""Reader (読み込み): CSV/TSV (文字コード判定), XLSX/XLSM/XLS/ODS, with safe bounds.

Values come from python-calamine (fast, Rust). What calamine does not expose for XLSX (hidden rows and
columns, formulas, comments, drawings, cell fills/fonts that carry meaning) is read by a targeted, streaming
scan of the sheet XML inside the zip: openpyxl (even read-only) needs ~15× longer than calamine on a
100k-row sheet and its read-only mode has no merges, hidden rows or comments.

Bounds are checked *before* anything is decompressed: file size, the zip's declared uncompressed sizes and
compression ratio (zip bomb), the sheet's declared dimension (row/cell limits), and a deadline that every
stage checks.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import TidyError
from .grid import Grid, LazyRows, nulls, number_text

EXCEL_ZIP = {".xlsx", ".xlsm", ".xltx", ".xltm"}
FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsm", ".xltx": "xlsx",
           ".xls": "xls", ".xlsb": "xlsb", ".ods": "ods"}
UNSUPPORTED = {".pdf", ".doc", ".docx", ".ppt", ".pptx", ".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff",
               ".html", ".htm", ".jtd", ".odt", ".rtf"}
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Limits:
    """Safe bounds (安全上限). Defaults fit a 2-core, few-GB server."""

    max_file_bytes: int = 200 * 1024 * 1024
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_ratio: float = 200.0  # per zip member, uncompressed/compressed
    max_rows: int = 1_100_000
    max_cells: int = 10_000_000  # peak memory is ~150-200 bytes a cell (Arrow grid, statistics, long table): ~2 GB at most
    timeout: float = 600.0


class Deadline:
    """Cooperative time limit (処理時間の上限): every stage calls check()."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self, stage: str = "") -> None:
        if time.monotonic() > self.end:
            raise TidyError(
                f"処理時間の上限（{self.seconds:.0f}秒）を超えました（{stage}）。ファイルを分割してください。",
                f"Time limit of {self.seconds:.0f} s exceeded ({stage}); split the file.",
                code="timeout", status=413,
            )


@dataclass
class Sheet:
    """One sheet's cells (a Grid of columns, from A1) and the layout facts the checker needs."""

    name: str
    grid: Grid = field(default_factory=Grid.empty)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 (0-based, incl.)
    hidden: bool = False
    hidden_rows: list[int] = field(default_factory=list)
    hidden_cols: list[int] = field(default_factory=list)
    formulas: list[tuple[int, int]] = field(default_factory=list)
    formula_count: int = 0
    comments: list[tuple[int, int, str]] = field(default_factory=list)
    drawings: list[str] = field(default_factory=list)  # kinds: image, chart, shape, ole
    styled: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # meaning-bearing formats → cells
    inspected: set[str] = field(default_factory=set)  # what could be inspected: values, merges, hidden, ...

    @property
    def rows(self) -> LazyRows:
        """Row r as a list of Python values (float / str / ""), built on demand: for the few rows the layout
        analysis reads one by one. Whole-sheet questions go to `grid`."""
        return self.grid.rows

    @property
    def n_rows(self) -> int:
        return self.grid.height

    @property
    def n_cols(self) -> int:
        return self.grid.width


@dataclass
class Book:
    """A file read into sheets (ブック)."""

    path: str
    format: str
    size: int
    sheets: list[Sheet]
    encoding: str | None = None
    bom: bool = False
    delimiter: str | None = None
    csv_issues: list[dict] = field(default_factory=list)  # ragged rows, quoting, embedded newlines
    extras: dict[str, Any] = field(default_factory=dict)  # vba, external links, ...


# ---------------------------------------------------------------------------------------------------------


def _err(code: str, ja: str, en: str, status: int = 422) -> TidyError:
    return TidyError(ja, en, code=code, status=status)


def read_book(path: str | Path, limits: Limits | None = None, deadline: Deadline | None = None,
              sheet_names: list[str] | None = None) -> Book:
    """Read any supported file (ファイルの読み込み). Raises TidyError with a clear code on bad input."""
    limits = limits or Limits()
    deadline = deadline or Deadline(limits.timeout)
    path = Path(path)
    if not path.is_file():
        raise _err("not_found", f"ファイルが見つかりません: {path.name}", f"File not found: {path.name}", 404)
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise _err("too_large", f"ファイルが大きすぎます（{size:,} バイト、上限 {limits.max_file_bytes:,}）。",
                   f"File too large ({size:,} bytes, limit {limits.max_file_bytes:,}).", 413)
    if size == 0:
        raise _err("no_table", "ファイルが空です。", "The file is empty.")
    with path.open("rb") as fh:
        head = fh.read(8)
    ext = path.suffix.lower()
    if ext in UNSUPPORTED or head.startswith(b"%PDF"):
        raise TidyError(
            f"{ext or 'この'} 形式は機械が直接読み取れません（L1-01）。Excel（.xlsx）か CSV で提供してください。",
            f"{ext or 'This'} format is not machine-readable (L1-01); provide .xlsx or CSV.",
            code="unsupported_format", rule="L1-01", status=415)
    fmt = FORMATS.get(ext)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if ext == ".ods":
            fmt = "ods"
        elif fmt not in ("xlsx", "xlsm", "xlsb"):
            fmt = "xlsx"
        _zip_guard(path, size, limits)
    elif head.startswith(CFB_MAGIC):
        if _is_encrypted_ooxml(path):
            raise _err("encrypted", "パスワードで保護（暗号化）されたファイルは読めません。保護を解除して保存し直してください。",
                       "The file is password-protected (encrypted); save it without a password.", 422)
        fmt = "xls"
    elif fmt in ("xlsx", "xlsm", "xls", "xlsb", "ods"):
        raise _err("corrupt", f"{ext} ファイルとして壊れているか、形式が違います（先頭バイトが不正）。",
                   f"The file is not a valid {ext} file (bad signature).")
    if fmt in ("csv", "tsv") or fmt is None:
        return _read_text(path, size, limits, deadline, tsv=(fmt == "tsv"))
    return _read_excel(path, fmt, size, limits, deadline, sheet_names)


def _zip_guard(path: Path, size: int, limits: Limits) -> None:
    """Zip-bomb guard: check declared sizes and ratios before decompressing anything."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise _err("corrupt", "ファイルが壊れているか途中で切れています（ZIP構造が不正）。",
                   f"The file is corrupt or truncated (bad zip: {exc}).") from exc
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 10 * 1024 * 1024 and ratio > limits.max_ratio:
            raise _err("zip_bomb", f"圧縮率が異常に高い部品があります（{info.filename}: {ratio:.0f}倍）。ZIP爆弾の疑いがあるため処理しません。",
                       f"Suspicious compression ratio ({info.filename}: {ratio:.0f}x); refusing a possible zip bomb.", 413)
    if total > limits.max_uncompressed_bytes:
        raise _err("zip_bomb", f"展開後のサイズが上限を超えます（{total:,} バイト）。ZIP爆弾の疑いがあるため処理しません。",
                   f"Uncompressed size {total:,} bytes exceeds the limit; refusing a possible zip bomb.", 413)


def _is_encrypted_ooxml(path: Path) -> bool:
    """An encrypted XLSX is an OLE compound file holding 'EncryptionInfo'/'EncryptedPackage' streams."""
    needle = "EncryptedPackage".encode("utf-16-le")
    needle2 = "EncryptionInfo".encode("utf-16-le")
    with path.open("rb") as fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            buf = tail + chunk
            if needle in buf or needle2 in buf:
                return True
            tail = buf[-64:]
    return False


# ---------------------------------------------------------------------------------------------------------
# Text (CSV/TSV)

ENCODINGS = ("utf-8", "cp932", "euc_jp")


def detect_encoding(data: bytes) -> tuple[str, bool]:
    """Detect the encoding of a CSV: (codec name, has BOM). UTF-8 (BOM or not), Shift_JIS/CP932, EUC-JP."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", True
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    try:
        data.decode("utf-8")
        return "utf-8", False
    except UnicodeDecodeError as exc:
        # truncated multi-byte char at the very end only: still UTF-8
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8", False
    scores = {}
    for enc in ("shift_jis", "cp932", "euc_jp"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        # prefer the decoding that yields the most common Japanese characters
        scores[enc] = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    if scores:
        best = max(scores.values())
        for enc in ("shift_jis", "cp932", "euc_jp"):
            if scores.get(enc) == best:
                return enc, False
    from charset_normalizer import from_bytes

    guess = from_bytes(data[: 1 << 20]).best()
    if guess is not None and guess.encoding:
        return guess.encoding, False
    raise _err("encoding", "文字コードを判定できません（UTF-8、Shift_JIS、EUC-JP のいずれでもありません）。",
               "Cannot detect the character encoding (not UTF-8, Shift_JIS or EUC-JP).")


def _looks_binary(data: bytes) -> bool:
    sample = data[:65536]
    if b"\x00" in sample:
        return True
    ctrl = sum(1 for b in sample if b < 9 or 13 < b < 32 and b != 27)
    return ctrl > len(sample) * 0.02


_BAD_QUOTE_RE = re.compile(r'(?m)(?:^|(?<=[,\t]))"(?:[^"]|"")*"(?=[^,\t\r\n])')


def _read_text(path: Path, size: int, limits: Limits, deadline: Deadline, tsv: bool) -> Book:
    data = path.read_bytes()
    if _looks_binary(data):
        raise _err("binary", f"テキスト（CSV）ではなくバイナリデータです: {path.name}",
                   f"Not a text (CSV) file but binary data: {path.name}")
    encoding, bom = detect_encoding(data)
    codec = "utf-8-sig" if encoding == "utf-8" and bom else encoding
    text = data.decode(codec, errors="replace")
    del data
    deadline.check("decode")
    sample = text[:65536]
    if tsv:
        delim = "\t"
    else:
        counts = {d: sample.count(d) for d in (",", "\t", ";")}
        delim = max(counts, key=counts.get) if max(counts.values()) else ","
    issues: list[dict] = []
    for m in _BAD_QUOTE_RE.finditer(text[:5_000_000]):
        line = text.count("\n", 0, m.start())
        issues.append({"kind": "quote", "row": line, "text": text[m.start(): m.end() + 8].split("\n")[0]})
        if len(issues) > 50:
            break
    rows: list[list[Any]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    multiline: list[int] = []
    line_no = 0
    max_cells = limits.max_cells
    cells = 0
    try:
        for row in reader:
            if reader.line_num - line_no > 1:
                multiline.append(len(rows))
            line_no = reader.line_num
            rows.append(row)
            cells += len(row)
            if len(rows) > limits.max_rows or cells > max_cells:
                raise _err("too_many_rows", f"行数またはセル数が上限を超えます（{limits.max_rows:,} 行 / {max_cells:,} セル）。",
                           f"Row or cell limit exceeded ({limits.max_rows:,} rows / {max_cells:,} cells).", 413)
            if not len(rows) & 0xFFFF:
                deadline.check("csv")
    except csv.Error as exc:
        raise _err("corrupt", f"CSV として読めません（{reader.line_num} 行目: {exc}）。",
                   f"Cannot parse as CSV (line {reader.line_num}: {exc}).") from exc
    del text
    for r in multiline[:50]:
        issues.append({"kind": "newline", "row": r})
    widths: dict[int, int] = {}
    for row in rows:
        widths[len(row)] = widths.get(len(row), 0) + 1
    if rows:
        mode = max(widths, key=widths.get)
        for i, row in enumerate(rows):
            if len(row) != mode and any(v.strip() for v in row):
                issues.append({"kind": "ragged", "row": i, "fields": len(row), "expected": mode})
                if len(issues) > 200:
                    break
    fmt = "tsv" if delim == "\t" else "csv"
    sheet = Sheet(path.stem, Grid.from_rows(rows, all_text=True))
    del rows
    sheet.inspected = {"values"}
    return Book(str(path), fmt, size, [sheet], encoding=encoding, bom=bom, delimiter=delim, csv_issues=issues)


# ---------------------------------------------------------------------------------------------------------
# Spreadsheets


def _read_excel(path: Path, fmt: str, size: int, limits: Limits, deadline: Deadline,
                sheet_names: list[str] | None) -> Book:
    try:
        xml = XlsxScan(path) if fmt in ("xlsx", "xlsm") else None
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
        raise _err("corrupt", f"ファイルが壊れているか途中で切れています（{type(exc).__name__}）。",
                   f"The file is corrupt or truncated ({type(exc).__name__}: {str(exc)[:200]}).") from exc
    if xml is not None:
        xml.check_dimensions(limits)
        try:
            return _read_xlsx_columns(path, fmt, size, limits, deadline, sheet_names, xml)
        except _TypedReadNeeded:
            pass  # the exact, slower path below decides (and names the error of a broken file)
    return _read_typed(path, fmt, size, limits, deadline, sheet_names, xml)


class _TypedReadNeeded(Exception):
    """The column reader cannot tell every number cell from text here: read cell by cell instead."""


# fastexcel writes every cell as text: a number as Rust prints an f64 (no exponent, no「.0」), a date or
# time as「2020-01-02 00:00:00」, a boolean as「true」. A text cell that reads exactly like that is found in
# the XML (XlsxScan.inspect) so that it stays text.
NUMBER_TEXT_RE = r"^-?[0-9]+(?:\.[0-9]+)?$"
DATETIME_TEXT_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?$"
_LOOKS_TYPED_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
                             r"|true|false")


def _read_xlsx_columns(path: Path, fmt: str, size: int, limits: Limits, deadline: Deadline,
                       sheet_names: list[str] | None, xml: XlsxScan) -> Book:
    """XLSX values straight into Arrow columns (fastexcel: calamine in Rust, no Python object per cell),
    while a thread scans the XML for what calamine does not report. Both release the GIL."""
    import fastexcel
    from concurrent.futures import ThreadPoolExecutor

    wanted = [n for n, part in xml.sheet_paths.items()
              if (not sheet_names or n in sheet_names) and "/chartsheets/" not in "/" + part]
    scans = {n: Sheet(n) for n in wanted}

    def scan_all() -> None:
        typed_text = xml.typed_looking_strings(deadline)
        for n in wanted:
            xml.inspect(scans[n], deadline, typed_text)

    pool = ThreadPoolExecutor(max_workers=1)
    scanning = pool.submit(scan_all)
    pool.shutdown(wait=False)
    loaded: dict[str, tuple[Any, int, str]] = {}
    try:
        try:
            reader = fastexcel.read_excel(str(path))
            names = [n for n in reader.sheet_names if n in scans]
            if set(scans) - set(names):
                raise _TypedReadNeeded
        except Exception as exc:  # fastexcel raises its own types for broken files
            raise _TypedReadNeeded from exc
        for name in names:
            try:
                sh = reader.load_sheet(name, header_row=None, dtypes="string", skip_rows=0)
                cols = sh.available_columns()
                offset = cols[0].absolute_index if cols else 0
                if sh.total_height > limits.max_rows or sh.total_height * max(offset + sh.width, 1) > limits.max_cells:
                    raise _err("too_many_rows",
                               f"シート「{name}」の行数・セル数が上限を超えます（{sh.total_height:,} 行 × {offset + sh.width} 列）。",
                               f"Sheet '{name}' exceeds the row/cell limit ({sh.total_height:,} x {offset + sh.width}).", 413)
                loaded[name] = (sh.to_polars() if cols else None, offset, str(sh.visible))
            except TidyError:
                raise
            except Exception as exc:
                raise _TypedReadNeeded from exc
            deadline.check(f"sheet {name}")
    finally:
        try:
            scanning.result()
        except TidyError:
            raise
        except Exception as exc:  # a damaged sheet part: let the exact path name the problem
            raise _TypedReadNeeded from exc
    if any(xml.unresolved.get(n) for n in loaded):
        raise _TypedReadNeeded
    sheets = []
    for name in names:
        df, offset, visible = loaded[name]
        sheet = scans[name]
        sheet.grid = _grid_from_text(df, offset, xml.text_cells.get(name, []), xml.exact_numbers.get(name, []))
        sheet.merges = xml.merges.get(name, [])
        sheet.hidden = visible != "visible"
        sheet.inspected |= {"values", "merges", "hidden_sheets"}
        sheets.append(sheet)
    return Book(str(path), fmt, size, sheets, extras=xml.extras())


def _grid_from_text(df: Any, offset: int, text_cells: list[tuple[int, int]],
                    exact: list[tuple[int, int, float]] = ()) -> Grid:
    """fastexcel's all-text frame → Grid: number cells get their value, dates become ISO 8601, the text
    cells that merely read like a number (found in the XML) stay text, and the numbers fastexcel rounded
    get their exact value back (found in the XML too)."""
    import polars as pl

    if df is None or not df.width:
        return Grid.empty()
    by_col: dict[int, list[int]] = {}
    for r, c in text_cells:
        by_col.setdefault(c, []).append(r)
    # first the cheap questions, for every column at once: which cells are numbers, which columns hold a
    # date, a「-0」or a long number (the only numbers whose text is not fastexcel's already)
    masks, probes = [], []
    for j, name in enumerate(df.columns):
        c = offset + j
        s = pl.col(name)
        typed = ~pl.int_range(0, pl.len()).is_in(by_col[c]) if c in by_col else pl.lit(True)
        masks.append((s.str.contains(NUMBER_TEXT_RE) & typed).alias(f"m{c}"))
    both = pl.concat([df, df.select(masks)], how="horizontal")
    for j, name in enumerate(df.columns):
        c = offset + j
        s, m = pl.col(name), pl.col(f"m{c}")
        probes.append(s.str.contains(DATETIME_TEXT_RE).any().alias(f"d{c}"))
        probes.append(((m & ((s == "-0") | (s.str.len_bytes() > 15))) | (s == "")).any().alias(f"x{c}"))
    probe = both.select(probes).row(0, named=True)
    exprs = []
    for j, name in enumerate(df.columns):
        c = offset + j
        s, is_num = pl.col(name), pl.col(f"m{c}")
        num = s.cast(pl.Float64, strict=False)
        exprs.append(pl.when(is_num).then(num).alias(f"n{c}"))
        text = s
        if probe[f"d{c}"]:
            typed = ~pl.int_range(0, pl.len()).is_in(by_col[c]) if c in by_col else pl.lit(True)
            is_dt = s.str.contains(DATETIME_TEXT_RE) & typed
            iso = (s.str.replace(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) 00:00:00$", "$1")
                   .str.replace(r"^1899-12-3[01] ", "")
                   .str.replace(r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) ", "${1}T"))
            text = pl.when(is_dt).then(iso).otherwise(text)
        if probe[f"x{c}"]:
            text = pl.when(is_num).then(number_text(num)).when(s != "").then(text)
        exprs.append(text.alias(f"t{c}"))
    out = both.select(exprs)
    height = out.height
    text = [nulls(height, pl.Utf8)] * offset
    num: list[Any] = [None] * offset
    fixes: dict[int, list[tuple[int, float]]] = {}
    for r, c, v in exact:
        fixes.setdefault(c, []).append((r, v))
    for j in range(df.width):
        c = offset + j
        n, t = out.get_column(f"n{c}"), out.get_column(f"t{c}")
        fix = [(r, v) for r, v in fixes.get(c, ()) if r < height and n[r] is not None]
        if fix:
            rows = pl.Series([r for r, _ in fix], dtype=pl.UInt32)
            vals = pl.Series([v for _, v in fix], dtype=pl.Float64)
            n = n.scatter(rows, vals)
            t = t.scatter(rows, pl.select(number_text(pl.lit(vals))).to_series())
        text.append(t)
        num.append(n if n.null_count() < height else None)
    return Grid(text, num, height)


def _read_typed(path: Path, fmt: str, size: int, limits: Limits, deadline: Deadline,
                sheet_names: list[str] | None, xml: XlsxScan | None) -> Book:
    """Cell by cell through python-calamine (XLS, ODS, XLSB, and XLSX the column reader cannot type)."""
    import python_calamine as pc

    scans: dict[str, Sheet] = {}
    pool = None
    futures = {}
    if xml is not None:
        # zlib inflation releases the GIL: scan the XML in a thread while calamine parses the values
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1)
        for name in xml.sheet_paths:
            if sheet_names and name not in sheet_names:
                continue
            scans[name] = Sheet(name)
            futures[name] = pool.submit(xml.inspect, scans[name], deadline)
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
    except pc.PasswordError as exc:
        raise _err("encrypted", "パスワードで保護されたファイルは読めません。保護を解除して保存し直してください。",
                   "The file is password-protected; save it without a password.") from exc
    except Exception as exc:  # calamine raises several types for broken files
        raise _err("corrupt", f"ファイルが壊れているか途中で切れています（{type(exc).__name__}: {str(exc)[:200]}）。",
                   f"The file is corrupt or truncated ({type(exc).__name__}: {str(exc)[:200]}).") from exc
    sheets: list[Sheet] = []
    meta = {m.name: m for m in wb.sheets_metadata}
    for name in wb.sheet_names:
        if sheet_names and name not in sheet_names:
            continue
        m = meta.get(name)
        if m is not None and "Chart" in str(m.typ):
            continue
        try:
            sh = wb.get_sheet_by_name(name)
            if sh.total_height > limits.max_rows or sh.total_height * max(sh.total_width, 1) > limits.max_cells:
                raise _err("too_many_rows",
                           f"シート「{name}」の行数・セル数が上限を超えます（{sh.total_height:,} 行 × {sh.total_width} 列）。",
                           f"Sheet '{name}' exceeds the row/cell limit ({sh.total_height:,} x {sh.total_width}).", 413)
            grid = Grid.from_rows(sh.to_python(skip_empty_area=False))
            merges = [(a[0], a[1], b[0], b[1]) for a, b in (sh.merged_cell_ranges or [])]
        except TidyError:
            raise
        except Exception as exc:
            raise _err("corrupt", f"シート「{name}」を読めません（{type(exc).__name__}: {str(exc)[:200]}）。",
                       f"Cannot read sheet '{name}' ({type(exc).__name__}: {str(exc)[:200]}).") from exc
        deadline.check(f"sheet {name}")
        # str(m.visible) is "SheetVisibleEnum.Hidden": compare the member's name, not a substring
        sheet = Sheet(name, grid, merges=merges, hidden=bool(m and str(m.visible).rsplit(".", 1)[-1] != "Visible"))
        sheet.inspected = {"values", "merges", "hidden_sheets"}
        if name in futures:
            try:
                futures[name].result()
            except TidyError:
                raise
            except Exception as exc:  # a damaged sheet part: the values were readable, the XML is not
                raise _err("corrupt", f"シート「{name}」の書式情報が壊れています（{type(exc).__name__}）。",
                           f"Sheet '{name}': the XML is damaged ({type(exc).__name__}: {str(exc)[:200]}).") from exc
            sc = scans[name]
            sheet.hidden_rows, sheet.hidden_cols = sc.hidden_rows, sc.hidden_cols
            sheet.formulas, sheet.formula_count, sheet.styled = sc.formulas, sc.formula_count, sc.styled
            sheet.comments, sheet.drawings = sc.comments, sc.drawings
            sheet.inspected |= sc.inspected
        sheets.append(sheet)
    extras: dict[str, Any] = {}
    if pool is not None:
        pool.shutdown(wait=True)
    if xml is not None:
        extras.update(xml.extras())
    wb.close()
    if fmt in ("ods", "xls"):
        _inspect_other(path, fmt, sheets, deadline, extras)
    return Book(str(path), fmt, size, sheets, extras=extras)


def _inspect_other(path: Path, fmt: str, sheets: list[Sheet], deadline: Deadline, extras: dict) -> None:
    """ODS/XLS layout facts (hidden rows and columns, formulas, comments, drawings, formats, ODS merges):
    the values were read; if the layout cannot be, the report says what was not inspected."""
    from .inspect_other import inspect_ods, inspect_xls

    try:
        facts = (inspect_ods if fmt == "ods" else inspect_xls)(path, [s.name for s in sheets], deadline)
    except TidyError as exc:
        if exc.code == "timeout":
            raise
        extras["inspection_error"] = str(exc)
        return
    except ImportError:  # xlrd is a dependency; an install without it still reads the values
        return
    for sheet in sheets:
        f = facts.get(sheet.name)
        if f is None:
            continue
        sheet.hidden = sheet.hidden or f.hidden
        sheet.hidden_rows, sheet.hidden_cols = f.hidden_rows, f.hidden_cols
        sheet.formulas, sheet.formula_count = f.formulas, f.formula_count
        sheet.comments, sheet.drawings, sheet.styled = f.comments, f.drawings, f.styled
        if not sheet.merges and f.merges:  # python-calamine gives no merges for ODS
            sheet.merges = f.merges
        sheet.inspected |= f.inspected


_XF_RE = re.compile(r"<xf\b([^>]*?)(?:/>|>(.*?)</xf>)", re.DOTALL)
_ATTR_RE = re.compile(r'(\w+)="([^"]*)"')


class XlsxScan:
    """Streaming scan of an XLSX's XML parts for what calamine does not report."""

    def __init__(self, path: Path):
        self.path = path
        self.zf = zipfile.ZipFile(path)
        self.names = set(self.zf.namelist())
        self.sheet_paths = self._sheet_paths()
        self.meaning_styles = self._meaning_styles()
        # filled by inspect(): merged ranges, and (for the column reader) the text cells that read like a
        # number, date or boolean, and whether any such cell could not be located
        self.merges: dict[str, list[tuple[int, int, int, int]]] = {}
        self.text_cells: dict[str, list[tuple[int, int]]] = {}
        self.exact_numbers: dict[str, list[tuple[int, int, float]]] = {}  # numbers fastexcel writes rounded
        self.unresolved: dict[str, bool] = {}

    def _read(self, name: str, limit: int = 20 * 1024 * 1024) -> str:
        if name not in self.names:
            return ""
        with self.zf.open(name) as fh:
            return fh.read(limit).decode("utf-8", errors="replace")

    def _sheet_paths(self) -> dict[str, str]:
        wb = self._read("xl/workbook.xml")
        rels = self._read("xl/_rels/workbook.xml.rels")
        targets = {}
        for m in re.finditer(r"<Relationship\b([^>]*)/?>", rels):
            a = dict(_ATTR_RE.findall(m.group(1)))
            t = a.get("Target", "")
            t = t.lstrip("/") if t.startswith("/") else "xl/" + t
            targets[a.get("Id")] = t
        out = {}
        for m in re.finditer(r"<sheet\b([^>]*)/?>", wb):
            attrs = m.group(1)
            name = re.search(r'\bname="([^"]*)"', attrs)
            rid = re.search(r'\br:id="([^"]*)"', attrs) or re.search(r'\b\w+:id="([^"]*)"', attrs)
            if name and rid and rid.group(1) in targets:
                out[_unescape(name.group(1))] = targets[rid.group(1)]
        return out

    def _meaning_styles(self) -> dict[int, str]:
        """Style indices whose fill, font colour, italic or strike may carry meaning (L1-11)."""
        styles = self._read("xl/styles.xml")
        if not styles:
            return {}
        fills, fonts = [], []
        fills_xml = re.search(r"<fills\b.*?</fills>", styles, re.DOTALL)
        for fm in re.finditer(r"<fill>(.*?)</fill>", fills_xml.group(0) if fills_xml else "", re.DOTALL):
            body = fm.group(1)
            pt = re.search(r'patternType="(\w+)"', body)
            fills.append(bool(pt and pt.group(1) not in ("none", "gray125")) or "<gradientFill" in body)
        fonts_xml = re.search(r"<fonts\b.*?</fonts>", styles, re.DOTALL)
        for fm in re.finditer(r"<font\b[^>]*?(?:/>|>(.*?)</font>)", fonts_xml.group(0) if fonts_xml else "", re.DOTALL):
            body = fm.group(1) or ""
            kinds = []
            if re.search(r"<i(?:\s+val=\"(?:1|true)\")?\s*/>", body):
                kinds.append("italic")
            if re.search(r"<strike(?:\s+val=\"(?:1|true)\")?\s*/>", body):
                kinds.append("strike")
            col = re.search(r"<color\b([^>]*)/>", body)
            if col:
                a = dict(_ATTR_RE.findall(col.group(1)))
                rgb = a.get("rgb", "").upper()
                if rgb and rgb not in ("FF000000", "000000") or a.get("theme") not in (None, "1", "0") or a.get("indexed") not in (None, "8", "64"):
                    kinds.append("font_color")
            fonts.append(kinds)
        out: dict[int, str] = {}
        xfs = re.search(r"<cellXfs\b.*?</cellXfs>", styles, re.DOTALL)
        for i, xm in enumerate(_XF_RE.finditer(xfs.group(0) if xfs else "")):
            a = dict(_ATTR_RE.findall(xm.group(1)))
            kinds = []
            fill = int(a.get("fillId", 0) or 0)
            font = int(a.get("fontId", 0) or 0)
            if fill < len(fills) and fills[fill]:
                kinds.append("fill")
            if font < len(fonts):
                kinds.extend(fonts[font])
            if kinds:
                out[i] = "+".join(kinds)
        return out

    def typed_looking_strings(self, deadline: Deadline) -> set[bytes]:
        """Indices (as written in the sheet XML) of the shared strings that read exactly like a number, a
        date or a boolean once fastexcel has written every cell as text (「12345」 typed as text)."""
        name = "xl/sharedStrings.xml"
        if name not in self.names:
            return set()
        cand_re = re.compile(rb"<t(?:\s[^>]*)?>(?:" + _LOOKS_TYPED_RE.pattern.encode() + rb")</t>")
        out: set[bytes] = set()
        base = 0  # <si> entries before this piece
        tail = b""
        with self.zf.open(name) as fh:
            while True:
                chunk = fh.read(8 << 20)
                buf = tail + chunk
                cut = buf.rfind(b"</si>") + 5 if chunk else len(buf)
                if cut < 5:
                    tail = buf
                    if not chunk:
                        break
                    continue
                work, tail = buf[:cut], buf[cut:]
                for m in cand_re.finditer(work):
                    start = max(work.rfind(b"<si>", 0, m.start()), work.rfind(b"<si ", 0, m.start()))
                    index = base + work.count(b"<si>", 0, m.start()) + work.count(b"<si ", 0, m.start()) - 1
                    end = work.find(b"</si>", m.start())
                    if _LOOKS_TYPED_RE.fullmatch(_si_text(work[start:end])):
                        out.add(str(index).encode())
                base += work.count(b"<si>") + work.count(b"<si ")
                deadline.check("shared strings")
                if not chunk:
                    break
        return out

    def check_dimensions(self, limits: Limits) -> None:
        for name, part in self.sheet_paths.items():
            if part not in self.names:
                continue
            with self.zf.open(part) as fh:
                head = fh.read(4096).decode("utf-8", errors="replace")
            m = re.search(r'<dimension ref="[A-Z]+\d+:([A-Z]+)(\d+)"', head)
            if m:
                rows, cols = int(m.group(2)), col_index(m.group(1)) + 1
                if rows > limits.max_rows or rows * cols > limits.max_cells:
                    raise _err("too_many_rows",
                               f"シート「{name}」の行数・セル数が上限を超えます（{rows:,} 行 × {cols} 列）。",
                               f"Sheet '{name}' exceeds the row/cell limit ({rows:,} x {cols}).", 413)

    def inspect(self, sheet: Sheet, deadline: Deadline, typed_text: set[bytes] | None = None) -> None:
        """Scan one sheet's XML (bytes, chunk by chunk): regexes run only when a cheap `in` test hits.

        With `typed_text` (the column reader), also locate the text cells that read like a number, date
        or boolean: shared strings of those indices, inline strings and formula text results."""
        part = self.sheet_paths.get(sheet.name)
        if not part or part not in self.names:
            return
        merges = self.merges.setdefault(sheet.name, [])
        text_cells = self.text_cells.setdefault(sheet.name, [])
        exact = self.exact_numbers.setdefault(sheet.name, [])
        merge_re = re.compile(rb'<mergeCell\b[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
        shared_re = None
        if typed_text:
            if len(typed_text) <= 300:
                alts = b"|".join(sorted(typed_text, key=lambda x: (-len(x), x)))
                shared_re = re.compile(rb"<c\b([^>]*)>\s*<v>(" + alts + rb")</v>")
            else:
                shared_re = re.compile(rb'<c\b([^>]*\bt="s"[^>]*)>\s*<v>(\d+)</v>')
        inline_re = re.compile(rb'<c\b([^>]*\bt="(?:inlineStr|str)"[^>/]*)>(.*?)</c>', re.DOTALL)
        ref_re = re.compile(rb'\br="([A-Z]+)(\d+)"')

        def locate(attrs: bytes) -> None:
            ref = ref_re.search(attrs)
            if ref is None:  # a cell without its reference: only calamine's own counting places it
                self.unresolved[sheet.name] = True
            else:
                text_cells.append((int(ref.group(2)) - 1, col_index(ref.group(1).decode())))
        style_re = None
        if self.meaning_styles:
            alts = "|".join(str(i) for i in sorted(self.meaning_styles))
            style_re = re.compile(rf'<c r="([A-Z]+)(\d+)"[^>]*?\bs="({alts})"'.encode())
            style_needles = [f's="{i}"'.encode() for i in self.meaning_styles]
        cell_f_re = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?>(?:<f\b)')
        hidden_row_re = re.compile(rb'<row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
        row_r_re = re.compile(rb'\br="(\d+)"')
        hidden_col_re = re.compile(rb'<col\b[^>]*?\bhidden="(?:1|true)"[^>]*/?>')
        attr_re = re.compile(rb'(\w+)="([^"]*)"')
        tail = b""
        head_done = False
        with self.zf.open(part) as fh:
            while True:
                chunk = fh.read(8 << 20)
                buf = tail + chunk
                if chunk:
                    cut = buf.rfind(b"</row>")
                    if cut < 0 and len(buf) < (32 << 20):
                        tail = buf
                        continue
                    cut = len(buf) if cut < 0 else cut + 6
                    work, tail = buf[:cut], buf[cut:]
                else:
                    work, tail = buf, b""
                if not head_done:
                    for cm in hidden_col_re.finditer(work):
                        a = dict(attr_re.findall(cm.group(0)))
                        lo, hi = int(a.get(b"min", 1)), int(a.get(b"max", 1))
                        sheet.hidden_cols.extend(range(lo - 1, min(hi, lo + 200)))
                    head_done = b"<sheetData" in work
                if b"hidden=" in work:
                    for rm in hidden_row_re.finditer(work):
                        r = row_r_re.search(rm.group(0))
                        if r:
                            sheet.hidden_rows.append(int(r.group(1)) - 1)
                if b"<f>" in work or b"<f " in work:
                    for fm in cell_f_re.finditer(work):
                        sheet.formula_count += 1
                        if len(sheet.formulas) < 1000:
                            sheet.formulas.append((int(fm.group(2)) - 1, col_index(fm.group(1).decode())))
                if typed_text is not None:
                    if shared_re is not None:
                        for cm in shared_re.finditer(work):
                            if b't="s"' in cm.group(1) and cm.group(2) in typed_text:
                                locate(cm.group(1))
                    if b't="inlineStr"' in work or b't="str"' in work:
                        for cm in inline_re.finditer(work):
                            body = cm.group(2)
                            v = re.search(rb"<v>(.*?)</v>", body, re.DOTALL) if b't="str"' in cm.group(1) else None
                            text = _unescape(v.group(1).decode("utf-8", "replace")) if v else _si_text(body)
                            if _LOOKS_TYPED_RE.fullmatch(text):
                                locate(cm.group(1))
                if typed_text is not None:
                    for attrs, value in _long_numbers(work):
                        if re.search(rb'\bt="(?!n")', attrs):  # text, error, boolean: not a number cell
                            continue
                        ref = ref_re.search(attrs)
                        if ref is None:
                            self.unresolved[sheet.name] = True
                        else:
                            exact.append((int(ref.group(2)) - 1, col_index(ref.group(1).decode()), float(value)))
                if b"<mergeCell" in work:
                    for mm in merge_re.finditer(work):
                        c0, r0 = col_index(mm.group(1).decode()), int(mm.group(2)) - 1
                        c1 = col_index(mm.group(3).decode()) if mm.group(3) else c0
                        r1 = int(mm.group(4)) - 1 if mm.group(4) else r0
                        merges.append((r0, c0, r1, c1))
                if style_re is not None and any(nd in work for nd in style_needles):
                    for sm in style_re.finditer(work):
                        cells = sheet.styled.setdefault(self.meaning_styles[int(sm.group(3))], [])
                        if len(cells) < 5000:
                            cells.append((int(sm.group(2)) - 1, col_index(sm.group(1).decode())))
                deadline.check(f"scan {sheet.name}")
                if not chunk:
                    break
        sheet.inspected |= {"hidden", "formulas", "formats", "comments", "objects"}
        # relationships of this sheet: drawings (images, charts, shapes), comments
        rels_name = part.rsplit("/", 1)[0] + "/_rels/" + part.rsplit("/", 1)[1] + ".rels"
        rels = self._read(rels_name)
        for m in re.finditer(r"<Relationship\b([^>]*)/?>", rels):
            a = dict(_ATTR_RE.findall(m.group(1)))
            typ = a.get("Type", "").rsplit("/", 1)[-1]
            target = a.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else _join(part, target)
            if typ == "comments":
                for cm in re.finditer(r'<comment\b[^>]*\bref="([A-Z]+)(\d+)"[^>]*>(.*?)</comment>',
                                      self._read(target), re.DOTALL):
                    txt = _unescape(re.sub(r"<[^>]+>", "", cm.group(3)))[:200]
                    sheet.comments.append((int(cm.group(2)) - 1, col_index(cm.group(1)), txt))
            elif typ == "drawing":
                drawing = self._read(target)
                sheet.drawings += ["image"] * drawing.count("<xdr:pic>") + ["image"] * drawing.count("<xdr:pic ")
                sheet.drawings += ["chart"] * len(re.findall(r"<c:chart\b", drawing))
                sheet.drawings += ["shape"] * (drawing.count("<xdr:sp>") + drawing.count("<xdr:sp "))
            elif typ in ("oleObject", "package", "image"):
                sheet.drawings.append("ole" if typ != "image" else "image")

    def extras(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "xl/vbaProject.bin" in self.names:
            out["vba"] = True
        ext = [n for n in self.names if n.startswith("xl/externalLinks/") and n.endswith(".xml")]
        if ext:
            out["external_links"] = len(ext)
        return out


def _join(base_part: str, target: str) -> str:
    parts = base_part.rsplit("/", 1)[0].split("/")
    for seg in target.split("/"):
        if seg == "..":
            parts.pop()
        elif seg and seg != ".":
            parts.append(seg)
    return "/".join(parts)


_LONG_NUMBER_RE = (r"<c\b[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)?<v>(?:-?[0-9]*\.[0-9]{10,}(?:[eE][-+]?[0-9]+)?"
                   r"|-?[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+)</v>")


def _long_numbers(xml: bytes) -> list[tuple[bytes, bytes]]:
    """(cell attributes, value) of the cells whose value has more than 9 decimals or an exponent: fastexcel
    writes numbers as Excel shows them (at most 9 decimals, 「0.666666667」), so their exact value is taken
    from the XML. Rust's regex (through Polars) scans the piece; Python only sees the few hits."""
    import polars as pl

    hits = pl.Series([xml.decode("utf-8", "replace")]).str.extract_all(_LONG_NUMBER_RE)[0]
    out = []
    for h in hits.to_list() if hits is not None else []:
        m = re.match(r"<c\b([^>]*)>.*<v>([^<]*)</v>$", h, re.DOTALL)
        if m:
            out.append((m.group(1).encode(), m.group(2).encode()))
    return out


def _si_text(xml: bytes) -> str:
    """The text of one shared or inline string: its <t> pieces, without the phonetic reading (rPh)."""
    xml = re.sub(rb"<rPh\b.*?</rPh>", b"", xml, flags=re.DOTALL)
    return _unescape(b"".join(re.findall(rb"<t(?:\s[^>]*)?>(.*?)</t>", xml, re.DOTALL)).decode("utf-8", "replace"))


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
            .replace("&amp;", "&"))


def col_index(letters: str) -> int:
    """'A' → 0, 'AA' → 26."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letter(index: int) -> str:
    """0 → 'A', 26 → 'AA'."""
    s = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        s = chr(65 + rem) + s
    return s


def a1(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


def a1_range(r0: int, c0: int, r1: int, c1: int) -> str:
    return a1(r0, c0) if (r0, c0) == (r1, c1) else f"{a1(r0, c0)}:{a1(r1, c1)}"



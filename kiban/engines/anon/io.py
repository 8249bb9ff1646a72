"""Reading tables (CSV, Parquet, Excel) as text columns and writing files atomically.

Values are read as text, never inferred, so that codes keep their leading zeros and the hierarchies see
exactly what is in the file. Outputs are written to a temporary file beside the target and renamed into
place only after the whole file was written, so a failed run never leaves a partial file that looks complete.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import Callable

import polars as pl

from .errors import fail

FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".xlsx": "excel", ".xlsm": "excel",
           ".xls": "excel"}


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        return fmt
    return FORMATS.get(path.suffix.lower(), "csv")


def read_table(path: Path, fmt: str | None = None, separator: str | None = None, encoding: str = "utf-8",
               sheet: str | None = None, field: str = "input.path") -> pl.DataFrame:
    """Read a table with every column as text (nulls become empty strings)."""
    if not path.is_file():
        raise fail(field, "file_not_found", f"入力ファイルがありません: {path}", f"input file not found: {path}")
    kind = detect_format(path, fmt)
    try:
        if kind == "csv":
            raw = path.read_bytes()
            if encoding == "auto":
                from charset_normalizer import from_bytes

                best = from_bytes(raw).best()
                encoding = best.encoding if best else "utf-8"
            text = raw.decode(encoding)
            if text.startswith("\ufeff"):
                text = text[1:]
            sep = separator or ("\t" if path.suffix.lower() == ".tsv" else _sniff(text))
            df = pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False, quote_char='"')
        elif kind == "parquet":
            df = pl.read_parquet(path)
        elif kind == "excel":
            df = _read_excel(path, sheet)
        else:
            raise fail("input.format", "unknown_format", f"未対応の形式です: {kind}", f"unsupported format: {kind}")
    except UnicodeDecodeError as exc:
        raise fail("input.encoding", "decode", f"文字コード {encoding} として読めません: {exc.reason}",
                   f"cannot decode as {encoding}: {exc.reason}") from exc
    except pl.exceptions.PolarsError as exc:
        raise fail(field, "unreadable", f"表として読み込めません: {exc}", f"cannot read the table: {exc}") from exc
    df = df.select([pl.col(c).cast(pl.Utf8).fill_null("").str.strip_chars("\r") for c in df.columns])
    return df


def _sniff(text: str) -> str:
    """The delimiter of a CSV whose separator was not given: the most frequent of , ; tab on the header line."""
    head = text.split("\n", 1)[0]
    counts = {sep: head.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _read_excel(path: Path, sheet: str | None) -> pl.DataFrame:
    """First (or the named) sheet, first row as header, every cell as text (python-calamine)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    if sheet is not None and sheet not in wb.sheet_names:
        raise fail("input.sheet", "unknown_sheet", f"シートがありません: {sheet!r}（{', '.join(wb.sheet_names)}）",
                   f"no such sheet: {sheet!r} ({', '.join(wb.sheet_names)})")
    rows = (wb.get_sheet_by_name(sheet) if sheet else wb.get_sheet_by_index(0)).to_python()
    if not rows:
        return pl.DataFrame()
    header = [_cell(h) or f"column_{i + 1}" for i, h in enumerate(rows[0])]
    body = [[_cell(v) for v in r] + [""] * (len(header) - len(r)) for r in rows[1:] if any(v not in (None, "") for v in r)]
    return pl.DataFrame({h: [r[i] for r in body] for i, h in enumerate(header)}, schema={h: pl.Utf8 for h in header})


def _write_excel(df: pl.DataFrame, path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(df.columns)
    for row in df.iter_rows():
        ws.append(list(row))
    wb.save(path)


def write_atomic(path: Path, writer: Callable[[Path], None]) -> None:
    """Call writer(tmp) and move tmp to `path` only if it succeeded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_table_atomic(df: pl.DataFrame, path: Path, encoding: str = "utf-8", separator: str = ",") -> None:
    kind = detect_format(path)

    def writer(tmp: Path) -> None:
        if kind == "parquet":
            df.write_parquet(tmp)
        elif kind == "excel":
            _write_excel(df, tmp)
        else:
            data = df.write_csv(separator=separator)
            tmp.write_bytes(data.encode("utf-8-sig" if encoding == "utf-8-sig" else encoding))

    write_atomic(path, writer)

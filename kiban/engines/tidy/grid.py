"""Grid (セルの格子): a sheet's cells held as Arrow columns, not as a Python object per cell.

A 100,000 × 20 sheet is two million cells; as Python objects they cost ~120 MB and most of a second to build
and again to turn into columns. Here every column is two Polars series:

- ``text[c]`` (Utf8): the text of every non-empty cell as a person reads it — text cells as written,
  number cells without a spurious ``.0`` (「131016」), dates as ISO 8601 (「2020-01-02」). Null where the
  cell is empty.
- ``num[c]`` (Float64, or None for a column without number cells): the value of the cells that are numbers
  in the file (not text that looks like a number: that difference is rule L2-01).

The layout analysis looks at a few hundred rows in detail and at every row only through vectorised
questions (which rows have anything, how many cells are filled in these columns); `rows` gives those
few rows as Python lists, built on demand a block at a time, with the values calamine would give: a float
for a number cell, a str for text, "" for an empty cell.
"""

from __future__ import annotations

import operator
from itertools import repeat
from typing import Any

import polars as pl

BLOCK = 1024  # rows materialised at a time for `rows[r]`
_STR_ONLY = {str}
_STR_FLOAT = {str, float, type(None)}


def nulls(n: int, dtype: pl.DataType, name: str = "") -> pl.Series:
    """A series of n nulls, built in Rust (from a Python list of None it costs ~1 ms per 100,000)."""
    return pl.repeat(None, n, dtype=dtype, eager=True).alias(name)


def number_text(num: pl.Expr | pl.Series) -> pl.Expr:
    """How a person writes a number cell: integers without「.0」(str(int(v)) for whole floats)."""
    e = num if isinstance(num, pl.Expr) else pl.lit(num)
    whole = e.is_finite() & (e == e.round(0)) & (e.abs() < 1e15)
    return pl.when(whole).then(e.cast(pl.Int64, strict=False).cast(pl.Utf8)).otherwise(e.cast(pl.Utf8))


def _as_text(v: Any) -> str | None:
    """One typed cell (python-calamine) as text: the same as `number_text` for numbers, ISO for dates."""
    if v is None or v == "":
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, bool):
        return "true" if v else "false"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


class Grid:
    """A sheet's cells as columns (see the module docstring)."""

    def __init__(self, text: list[pl.Series], num: list[pl.Series | None], height: int | None = None):
        self.text = text
        self.num = num
        self.height = height if height is not None else (len(text[0]) if text else 0)
        self.width = len(text)
        self._blocks: dict[int, list[list[Any]]] = {}
        self._nonempty: list[pl.Series | None] = [None] * self.width
        self.rows = LazyRows(self)

    @classmethod
    def empty(cls) -> Grid:
        return cls([], [], 0)

    # -- building ----------------------------------------------------------------------------------------

    @classmethod
    def from_rows(cls, rows: list[list[Any]], all_text: bool = False) -> Grid:
        """From a list of rows of Python values (CSV: all str, `all_text`; python-calamine: str / float /
        date / bool / "")."""
        if not rows:
            return cls.empty()
        width = max(len(r) for r in rows)
        if any(len(r) < width for r in rows):
            rows = [r if len(r) >= width else list(r) + [""] * (width - len(r)) for r in rows]
        if all_text:  # one row-wise build in Rust, then "" → null for every column at once
            if not width:
                return cls.empty()
            names = [f"c{i}" for i in range(width)]
            df = pl.DataFrame(rows, orient="row", schema=[(n, pl.Utf8) for n in names])
            df = df.select(pl.when(pl.col(n) != "").then(pl.col(n)).alias(n) for n in names)
            return cls(df.get_columns(), [None] * width, len(rows))
        text: list[pl.Series] = []
        num: list[pl.Series | None] = []
        for col in zip(*rows):
            t, n = _split_column(col)
            text.append(t)
            num.append(n)
        return cls(text, num, len(rows))

    # -- cells -------------------------------------------------------------------------------------------

    def cell(self, r: int, c: int) -> Any:
        """One cell as python-calamine gives it: float for a number, str for text, "" when empty."""
        if not (0 <= r < self.height and 0 <= c < self.width):
            return None
        n = self.num[c]
        if n is not None:
            v = n[r]
            if v is not None:
                return v
        v = self.text[c][r]
        return "" if v is None else v

    def block(self, b: int) -> list[list[Any]]:
        rows = self._blocks.get(b)
        if rows is None:
            r0 = b * BLOCK
            n = min(BLOCK, self.height - r0)
            cols = []
            for t, nm in zip(self.text, self.num):
                tl = t.slice(r0, n).to_list()
                if nm is None or nm.slice(r0, n).null_count() == n:
                    cols.append([v if v is not None else "" for v in tl])
                else:
                    cols.append([x if x is not None else (y if y is not None else "")
                                 for x, y in zip(nm.slice(r0, n).to_list(), tl)])
            rows = [list(r) for r in zip(*cols)] if cols else [[] for _ in range(n)]
            if len(self._blocks) > 64:  # bounded cache: a sweep over a huge sheet does not keep every row
                self._blocks.clear()
            self._blocks[b] = rows
        return rows

    # -- vectorised questions ----------------------------------------------------------------------------

    def nonempty(self, c: int) -> pl.Series:
        """Per row: does column c hold anything (not empty, not only spaces)? (Boolean series; Polars, not
        numpy: importing numpy costs a CLI run ~0.1 s.)"""
        if c >= self.width:
            return pl.repeat(False, self.height, dtype=pl.Boolean, eager=True)
        m = self._nonempty[c]
        if m is None:
            t = self.text[c]
            if t.null_count() == len(t):
                m = pl.repeat(False, self.height, dtype=pl.Boolean, eager=True)
            else:
                m = t.str.contains(r"\S").fill_null(False)
            self._nonempty[c] = m
        return m

    def filled_count(self, cols) -> pl.Series:
        """Per row: how many of `cols` hold something (UInt32 series)."""
        cols = list(cols)
        if not cols:
            return pl.repeat(0, self.height, dtype=pl.UInt32, eager=True)
        return pl.select(pl.sum_horizontal([pl.lit(self.nonempty(c)).cast(pl.UInt32) for c in cols])).to_series()

    def filled_rows(self) -> pl.Series:
        """Per row: does the row hold anything at all?"""
        return self.filled_count(range(self.width)) > 0

    def column(self, c: int, rows: list[int]) -> tuple[pl.Series, pl.Series]:
        """(text, number) of column c at the given rows; text is null for number cells."""
        n = len(rows)
        if c >= self.width or not n:
            return nulls(n, pl.Utf8), nulls(n, pl.Float64)
        t, nm = self.text[c], self.num[c]
        if rows[-1] - rows[0] == n - 1:  # contiguous: a slice, no copy
            t = t.slice(rows[0], n)
            nm = nm.slice(rows[0], n) if nm is not None else None
        else:
            idx = pl.Series(rows, dtype=pl.UInt32)
            t = t.gather(idx)
            nm = nm.gather(idx) if nm is not None else None
        if nm is None:
            return t, nulls(n, pl.Float64)
        return t.set(nm.is_not_null(), None) if nm.null_count() < n else t, nm

    def values(self, c: int, rows: list[int]) -> list[Any]:
        """Column c at the given rows as Python values (float / str / "")."""
        n = len(rows)
        if c >= self.width or not n:
            return [None] * n
        t, nm = self.column(c, rows)
        tl = t.to_list()
        if nm.null_count() == n:
            return [v if v is not None else "" for v in tl]
        return [x if x is not None else (y if y is not None else "") for x, y in zip(nm.to_list(), tl)]

    def texts(self, c: int, rows: list[int]) -> pl.Series:
        """Column c at the given rows as text (numbers written as a person would), null when empty."""
        n = len(rows)
        if c >= self.width or not n:
            return nulls(n, pl.Utf8)
        if rows[-1] - rows[0] == n - 1:
            return self.text[c].slice(rows[0], n)
        return self.text[c].gather(pl.Series(rows, dtype=pl.UInt32))


class LazyRows:
    """`grid.rows[r]`: row r as a list of Python values, built a block at a time when first asked for."""

    def __init__(self, grid: Grid):
        self.grid = grid

    def __len__(self) -> int:
        return self.grid.height

    def __getitem__(self, r: int) -> list[Any]:
        if isinstance(r, slice):
            return [self[i] for i in range(*r.indices(len(self)))]
        if r < 0:
            r += self.grid.height
        if not 0 <= r < self.grid.height:
            raise IndexError(r)
        return self.grid.block(r // BLOCK)[r % BLOCK]

    def __iter__(self):
        for r in range(self.grid.height):
            yield self[r]

    def __bool__(self) -> bool:
        return self.grid.height > 0


def _split_column(col: tuple[Any, ...]) -> tuple[pl.Series, pl.Series | None]:
    """One column of Python cells → (text, number). Only C-speed per-cell work on the usual columns
    (all str, or str and float); dates, bools and ints take the exact per-cell path."""
    tys = set(map(type, col))
    if tys <= _STR_ONLY:
        t = pl.Series(col, dtype=pl.Utf8)
        return (t.set(t == "", None) if (t == "").any() else t), None
    if tys <= _STR_FLOAT:
        is_str = pl.Series(list(map(operator.is_, map(type, col), repeat(str))), dtype=pl.Boolean)
        both = pl.DataFrame({"s": pl.Series(col, dtype=pl.Utf8, strict=False), "m": is_str})
        out = both.with_columns(n=pl.when(~pl.col("m")).then(pl.col("s").cast(pl.Float64)))
        out = out.with_columns(t=pl.when(pl.col("n").is_not_null()).then(number_text(pl.col("n")))
                               .when(pl.col("s") != "").then(pl.col("s")))
        n = out.get_column("n")
        return out.get_column("t"), (n if n.null_count() < len(n) else None)
    n = pl.Series([float(v) if type(v) in (float, int) else None for v in col], dtype=pl.Float64)
    t = pl.Series([None if type(v) in (float, int) else _as_text(v) for v in col], dtype=pl.Utf8)
    t = pl.select(pl.when(pl.lit(n).is_not_null()).then(number_text(pl.lit(n))).otherwise(pl.lit(t))).to_series()
    return t, (n if n.null_count() < len(n) else None)

"""`kiban address …`: normalise addresses in a file or on the command line, and look things up.

    kiban address normalize FILE --column 住所 -o OUT [--default-body CODE] [--sheet NAME]
    kiban address parse "東京都千代田区霞ヶ関2-1-2" […]       one JSON object per address
    kiban address postal 1000013                            postal code → candidate addresses
    kiban address code 131016                               code → names
    kiban address towns 131016                              towns of a municipality (or prefecture)
    kiban address index [--rebuild]                         data version/date, counts, build time

FILE is CSV (UTF-8 with or without BOM, or Shift_JIS/CP932, detected) or Excel (.xlsx/.xlsm/.xls/.ods).
OUT is CSV (UTF-8 with BOM, so Excel opens it) or .xlsx; every input column is kept and the result columns
are appended. Rows are streamed; a progress bar goes to stderr.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from kiban.core.errors import KibanError
from kiban.engines.address.errors import AddressError

RESULT_COLUMNS = (
    ("都道府県", lambda r: r.pref or ""),
    ("市区町村", lambda r: r.city or ""),
    ("町字", lambda r: r.town or ""),
    ("番地", lambda r: r.rest),
    ("建物", lambda r: r.building),
    ("通り名", lambda r: r.street),
    ("団体コード", lambda r: r.lg_code or ""),
    ("郵便番号", lambda r: " ".join(r.postal_code)),
    ("レベル", lambda r: r.level),
    ("正規化住所", lambda r: r.address),
    (
        "補正",
        lambda r: "; ".join(
            c.label + (f"({c.before}→{c.after})" if c.before or c.after else "") for c in r.corrections
        ),
    ),
    ("理由", lambda r: r.reason or ""),
    ("候補", lambda r: " / ".join(r.ambiguity)),
)

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


class Progress:
    """A one-line progress bar on stderr (only when stderr is a terminal, or forced)."""

    def __init__(self, total: int | None, enabled: bool):
        self.total, self.enabled, self.done = total, enabled, 0
        self.started = self.last = time.monotonic()

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self.last >= 0.2:
            self.last = now
            self.draw(now)

    def draw(self, now: float) -> None:
        rate = self.done / max(now - self.started, 1e-9)
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 30)
            sys.stderr.write(f"\r[{bar:<30}] {self.done:,}/{self.total:,} 件 {frac:4.0%} {rate:,.0f} 件/秒")
        else:
            sys.stderr.write(f"\r{self.done:,} 件 {rate:,.0f} 件/秒")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            self.draw(time.monotonic())
            sys.stderr.write("\n")


def _detect_encoding(path: Path) -> str:
    head = path.open("rb").read(1 << 16)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # cut inside a character at the end of the sample
            return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    enc = (best.encoding if best else "cp932") or "cp932"
    return "cp932" if enc.lower() in ("shift_jis", "shift-jis", "sjis", "cp932", "ms932") else enc


def _count_lines(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return max(n - 1, 0)


def read_rows(path: Path, sheet: str | None = None) -> tuple[list[str], Iterator[list], int | None]:
    """(header, rows, total or None) of a CSV or Excel file, rows as an iterator."""
    if not path.exists():
        raise AddressError(
            f"入力ファイルがありません: {path}", f"No such input file: {path}", field="file", rule="exists"
        )
    if path.suffix.lower() in EXCEL_SUFFIXES:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
        if sheet and sheet not in names:
            raise AddressError(
                f"シート「{sheet}」がありません（あるのは: {', '.join(names)}）",
                f"No sheet {sheet!r} (have: {', '.join(names)})",
                field="sheet",
                rule="exists",
            )
        ws = book.get_sheet_by_name(sheet) if sheet else book.get_sheet_by_index(0)
        rows = ws.iter_rows()
        header = [str(c) for c in next(rows, [])]
        return header, rows, max(ws.height - 1, 0)
    encoding = _detect_encoding(path)
    fh = path.open(encoding=encoding, newline="", errors="replace")
    reader = csv.reader(fh)
    header = next(reader, [])

    def gen():
        with fh:
            yield from reader

    return header, gen(), _count_lines(path)


class _CsvOut:
    def __init__(self, path: Path | None):
        self.fh = path.open("w", encoding="utf-8-sig", newline="") if path else sys.stdout
        self.writer = csv.writer(self.fh)

    def write(self, row: list) -> None:
        self.writer.writerow(row)

    def close(self) -> None:
        if self.fh is not sys.stdout:
            self.fh.close()


class _XlsxOut:
    def __init__(self, path: Path):
        from openpyxl import Workbook

        self.path = path
        self.book = Workbook(write_only=True)
        self.ws = self.book.create_sheet("正規化")

    def write(self, row: list) -> None:
        self.ws.append(row)

    def close(self) -> None:
        self.book.save(self.path)


def normalize_file(
    path: Path,
    column: str,
    out: Path | None,
    default_body: str | None = None,
    sheet: str | None = None,
    progress: bool | None = None,
) -> dict:
    """Normalise one column of a CSV/Excel file, streaming; returns counts per level."""
    from kiban.engines.address.normalizer import Normalizer

    normalizer = Normalizer(default_body)
    header, rows, total = read_rows(path, sheet)
    if column not in header:
        if column.isdigit() and int(column) < len(header):
            col = int(column)
        else:
            raise AddressError(
                f"列「{column}」がありません（あるのは: {', '.join(header)}）",
                f"No column {column!r} (have: {', '.join(header)})",
                field="column",
                rule="exists",
            )
    else:
        col = header.index(column)
    name = header[col]
    writer = _XlsxOut(out) if out and out.suffix.lower() in (".xlsx", ".xlsm") else _CsvOut(out)
    writer.write([*header, *(f"{name}_{label}" for label, _f in RESULT_COLUMNS)])
    bar = Progress(total, sys.stderr.isatty() if progress is None else progress)
    levels = [0] * 5
    try:
        for row in rows:
            row = list(row)
            value = row[col] if col < len(row) else ""
            res = normalizer("" if value is None else str(value))
            levels[res.level] += 1
            writer.write([*row, *(f(res) for _label, f in RESULT_COLUMNS)])
            bar.step()
    finally:
        bar.close()
        writer.close()
    return {"rows": sum(levels), "levels": {str(i): n for i, n in enumerate(levels)}}


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=None if isinstance(data, list) else 2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiban address", description="住所正規化 (offline, KEN_ALL + 団体コード)"
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("normalize", help="CSV/Excel の住所列を正規化する")
    p.add_argument("file", type=Path)
    p.add_argument("--column", "-c", default="住所", help="住所の列名（または0始まりの列番号）")
    p.add_argument("-o", "--output", type=Path, help="出力先 (.csv / .xlsx)。省略時は標準出力に CSV")
    p.add_argument("--default-body", help="都道府県・市区町村が書かれていない住所の既定の団体コード")
    p.add_argument("--sheet", help="Excel のシート名（既定: 先頭のシート）")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="進捗バーを表示")
    p = sub.add_parser("parse", help="住所文字列を正規化して JSON で表示")
    p.add_argument("text", nargs="+")
    p.add_argument("--default-body")
    p = sub.add_parser("postal", help="郵便番号 → 候補住所")
    p.add_argument("code")
    p = sub.add_parser("code", help="団体コード → 名称")
    p.add_argument("code")
    p = sub.add_parser("towns", help="市区町村（または都道府県）の町字一覧")
    p.add_argument("code")
    p.add_argument("--csv", action="store_true", help="CSV で出力")
    p = sub.add_parser("index", help="辞書の情報（データ日付・件数・構築時間）")
    p.add_argument("--rebuild", action="store_true", help="キャッシュを使わずに作り直す")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kiban.engines.address import lookup
    from kiban.engines.address.normalizer import normalize

    try:
        if args.cmd == "normalize":
            summary = normalize_file(
                args.file, args.column, args.output, args.default_body, args.sheet, args.progress
            )
            where = f" → {args.output}" if args.output else ""
            print(
                f"{summary['rows']:,} 件を正規化しました{where}（レベル別: "
                + ", ".join(f"{k}: {v:,}" for k, v in summary["levels"].items())
                + "）",
                file=sys.stderr,
            )
        elif args.cmd == "parse":
            for text in args.text:
                print(
                    json.dumps(normalize(text, default_body=args.default_body).as_dict(), ensure_ascii=False)
                )
        elif args.cmd == "postal":
            found = lookup.by_postal(args.code)
            if not found:
                print(f"郵便番号 {lookup.clean_postal(args.code)} は辞書にありません", file=sys.stderr)
                return 1
            _print_json(found)
        elif args.cmd == "code":
            _print_json(lookup.body(args.code))
        elif args.cmd == "towns":
            rows = lookup.towns(args.code)
            if args.csv:
                w = csv.writer(sys.stdout)
                w.writerow(["団体コード", "市区町村", "町字", "読み", "丁目あり", "郵便番号"])
                for r in rows:
                    w.writerow(
                        [
                            r["lg_code"],
                            r["city"],
                            r["town"],
                            r["kana"],
                            int(r["chome"]),
                            " ".join(r["postal_codes"]),
                        ]
                    )
            else:
                for r in rows:
                    print(json.dumps(r, ensure_ascii=False))
        elif args.cmd == "index":
            from kiban.engines.address.index import load_index

            load_index(rebuild=args.rebuild)
            _print_json(lookup.info())
    except KibanError as exc:
        print(f"エラー: {exc.message()}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `… | head`
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

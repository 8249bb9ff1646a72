"""`kiban tidy` — 機械可読性チェックと整形.

    kiban tidy check FILE... [--format text|json|sarif] [--recipe R] [--timeout S]
    kiban tidy convert FILE -o OUTDIR [--recipe R] [--bom] [--format csv,parquet]

Exit status: 0 no CRITICAL/FATAL finding (check) or converted (convert); 1 findings of severity CRITICAL or
FATAL; 2 the file could not be read (a clear message says why).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

from .engine import SEVERITIES, check, convert
from .errors import TidyError
from .reader import Limits
from .rules import RULES


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiban tidy", description="機械可読性チェックと整形 (tidy data)")
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="機械可読性ルール (L1-01…L3-09) で検査する")
    c.add_argument("files", nargs="+")
    c.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    c.add_argument("--recipe")
    c.add_argument("--timeout", type=float, default=600.0)
    c.add_argument("--max-rows", type=int)
    v = sub.add_parser("convert", help="tidy data (CSV/Parquet/datapackage.json) に変換する")
    v.add_argument("file")
    v.add_argument("-o", "--out", required=True)
    v.add_argument("--recipe")
    v.add_argument("--bom", action="store_true", help="CSV に BOM を付ける (Excel で開く場合)")
    v.add_argument("--format", default="csv,parquet")
    v.add_argument("--timeout", type=float, default=600.0)
    v.add_argument("--max-rows", type=int)
    v.add_argument("--json", action="store_true", help="報告を JSON で出力")
    return p


def _alarm(seconds: float) -> None:
    """Hard stop for native code that does not return (calamine on a pathological file)."""
    if hasattr(signal, "SIGALRM") and seconds:
        def handler(signum, frame):
            raise TidyError(f"処理時間の上限（{seconds:.0f}秒）を超えました。", f"Time limit of {seconds:.0f} s exceeded.",
                            code="timeout")

        signal.signal(signal.SIGALRM, handler)
        signal.alarm(int(seconds) + 5)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    limits = Limits()
    if args.max_rows:
        limits.max_rows = args.max_rows
    _alarm(args.timeout)
    if args.cmd == "check":
        return _check(args, limits)
    return _convert(args, limits)


def _check(args, limits: Limits) -> int:
    status = 0
    reports, errors = [], []
    for f in args.files:
        try:
            r = check(f, recipe=args.recipe, limits=limits, timeout=args.timeout)
            reports.append(r)
            if r.summary["FATAL"] or r.summary["CRITICAL"]:
                status = max(status, 1)
        except TidyError as e:
            errors.append((f, e))
            status = 2
    if args.format == "json":
        out = [r.as_dict() for r in reports] + [{"file": f, "error": e.as_dict()} for f, e in errors]
        print(json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False, indent=2))
    elif args.format == "sarif":
        print(json.dumps(to_sarif(reports, errors), ensure_ascii=False, indent=2))
    else:
        for r in reports:
            print(to_text(r))
        for f, e in errors:
            print(f"{f}: エラー [{e.code}] {e.message()}", file=sys.stderr)
    return status


def _convert(args, limits: Limits) -> int:
    try:
        res = convert(args.file, args.out, recipe=args.recipe, bom=args.bom, limits=limits, timeout=args.timeout,
                      formats=tuple(x.strip() for x in args.format.split(",")))
    except TidyError as e:
        print(f"{args.file}: エラー [{e.code}] {e.message()}", file=sys.stderr)
        return 2
    r = res.report
    if args.json:
        print(json.dumps(r.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"{r.file}: {len(res.frames)} 表を変換しました → {args.out}")
    for key, df in res.frames.items():
        print(f"  {key}: {df.height:,} 行 × {df.width} 列 ({', '.join(df.columns[:8])}{' …' if df.width > 8 else ''})")
    print(f"  出力: {', '.join(r.outputs)}")
    if r.uncertain:
        print("  要確認の推定（レシピで上書きできます）:")
        for g in r.uncertain[:10]:
            print(f"    - [{g['sheet']}] {g['why']} (recipe: {g['recipe_key']})")
    print(f"  機械可読性スコア {r.score}/100 — 指摘 {len(r.findings)} 件（詳細は report.json）")
    return 0


def to_text(r) -> str:
    lines = [f"{r.file} ({r.format}{', ' + r.encoding if r.encoding else ''}): スコア {r.score}/100  "
             + "  ".join(f"{s} {n}" for s, n in r.summary.items())]
    for f in r.findings:
        where = " ".join(x for x in (f"[{f.sheet}]" if f.sheet else "", ", ".join(f.ranges[:3]) +
                                     (" …" if len(f.ranges) > 3 else "")) if x)
        lines.append(f"  {f.severity:8} {f.rule} {where}: {f.message}")
        lines.append(f"           → {f.fix}")
    for h in r.as_dict()["needs_human_check"]:
        lines.append(f"  要人手確認 {h['rule']} {h['title']}: {h['reason']}")
    for lim in r.limitations:
        lines.append(f"  注意: {lim}")
    return "\n".join(lines)


_SARIF_LEVEL = {"FATAL": "error", "CRITICAL": "error", "MAJOR": "warning", "MINOR": "note"}


def to_sarif(reports, errors=()) -> dict:
    """SARIF 2.1.0 log: one run, one result per finding, cell ranges as logical locations."""
    results = []
    for r in reports:
        for f in r.findings:
            locs = []
            for rng in f.ranges[:10] or [""]:
                loc = {"physicalLocation": {"artifactLocation": {"uri": r.file}}}
                name = f"{f.sheet}!{rng}" if f.sheet else rng
                if name:
                    loc["logicalLocations"] = [{"name": name, "kind": "cellRange"}]
                locs.append(loc)
            results.append({"ruleId": f.rule, "level": _SARIF_LEVEL[f.severity],
                            "message": {"text": f"{f.message} 修正案: {f.fix}"}, "locations": locs,
                            "properties": {"severity": f.severity, "count": f.count}})
    for file, e in errors:
        results.append({"ruleId": "L1-01", "level": "error", "message": {"text": e.message()},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": str(file)}}}],
                        "properties": {"severity": "FATAL", "code": e.code}})
    rules = [{"id": k, "name": k, "shortDescription": {"text": v}} for k, v in RULES.items()]
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "kiban-tidy", "informationUri": "https://github.com/",
                                          "rules": rules}}, "results": results}]}


_ = SEVERITIES

"""`kiban anon …`: anonymised microdata, risk reports and protected statistical tables.

    kiban anon run CONFIG              search the optimal transformation, write the data and its report
    kiban anon risk DATA CONFIG        re-identification risk of DATA for the config's quasi-identifiers
    kiban anon table CONFIG            frequency/magnitude tables with primary and secondary suppression

Errors in the configuration or the data are reported before any work, in Japanese (--lang en for English),
with exit status 2; nothing is written then.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .errors import AnonError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiban anon", description="匿名加工・統計データ化 (anonymisation and safe tables)")
    p.add_argument("--lang", choices=["ja", "en"], default=None, help="message language (default: ja)")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="anonymise the data described by CONFIG")
    r.add_argument("config")
    r.add_argument("--exhaustive", action="store_true", help="check every lattice node instead of the optimal search")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    k = sub.add_parser("risk", help="re-identification risk of DATA")
    k.add_argument("data")
    k.add_argument("config")
    k.add_argument("--out", help="also write the risk report as JSON to this file")
    t = sub.add_parser("table", help="statistical tables with disclosure control")
    t.add_argument("config")
    t.add_argument("--json", action="store_true")
    return p


def _run(args) -> int:
    from .engine import run

    args.lang = args.lang or os.environ.get("KIBAN_LANG") or "ja"
    out = run(args.config, algorithm="exhaustive" if args.exhaustive else None)
    rep = out.report
    summary = {
        "transformation": {t["column"]: t["level"] for t in rep["transformation"]},
        "loss": rep["metric"]["value"],
        "metric": rep["metric"]["metric"],
        "nodes_checked": rep["search"]["nodes_checked"],
        "lattice_size": rep["search"]["lattice_size"],
        "records_suppressed": rep["suppression"]["records"],
        "risk_after": {"prosecutor_max": rep["risk"]["after"]["prosecutor"]["max"],
                       "prosecutor_average": rep["risk"]["after"]["prosecutor"]["average"]},
        "verification": rep["verification"]["all_satisfied"],
        "checklist": {c["item"]: c["status_label"] for c in rep["checklist"]},
        "files": out.paths,
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    elif args.lang == "en":
        print(f"transformation: {', '.join(f'{k}={v}' for k, v in summary['transformation'].items())}")
        print(f"loss ({summary['metric']}): {summary['loss']}  nodes checked: {summary['nodes_checked']:,} / "
              f"{summary['lattice_size']:,}  suppressed: {summary['records_suppressed']:,}")
        print(f"prosecutor risk: max {summary['risk_after']['prosecutor_max']:.4f} average "
              f"{summary['risk_after']['prosecutor_average']:.4f}  independent check: "
              f"{'passed' if summary['verification'] else 'FAILED'}")
        for c in rep["checklist"]:
            print(f"  [{c['status']}] {c['item']}")
        for k, v in out.paths.items():
            print(f"{k}: {v}")
    else:
        print(f"加工: {', '.join(f'{k}={v}' for k, v in summary['transformation'].items())}")
        print(f"情報損失 ({summary['metric']}): {summary['loss']}  確認した組合せ: {summary['nodes_checked']:,} / "
              f"{summary['lattice_size']:,}  削除: {summary['records_suppressed']:,} 件")
        print(f"再識別リスク（検察官モデル）: 最大 {summary['risk_after']['prosecutor_max']:.4f} "
              f"平均 {summary['risk_after']['prosecutor_average']:.4f}  独立検証: {'合格' if summary['verification'] else '不合格'}")
        for item, label in summary["checklist"].items():
            print(f"  [{label}] {item}")
        for k, v in out.paths.items():
            print(f"{k}: {v}")
    return 0


def _risk(args) -> int:
    from . import risk
    from .config import load_config, require
    from .errors import fail, preview
    from .io import read_table, write_text_atomic

    cfg = load_config(args.config)
    require(cfg, "columns", "quasi")
    data = Path(args.data)
    same = cfg.input_path is not None and data.resolve() == cfg.input_path.resolve()
    # The input's reading options apply to the input itself; other files (e.g. the released CSV) are sniffed.
    df = read_table(data, cfg.input_format if same else None, cfg.separator if same else None,
                    cfg.encoding if same else "utf-8", cfg.sheet if same else None, field="DATA")
    qis = cfg.quasi()
    missing = [q for q in qis if q not in df.columns]
    if missing:
        raise fail(f"columns.{missing[0]}", "unknown_column", f"データにない準識別子の列です: {preview(missing)}",
                   f"quasi-identifier columns not in the data: {preview(missing)}")
    report = risk.assess(df, qis, cfg.risk_threshold, cfg.sampling_fraction)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.out:
        write_text_atomic(Path(args.out), text)
    print(text)
    return 0


def _table(args) -> int:
    from . import tables
    from .config import load_config, require
    from .errors import fail
    from .io import read_table, write_table_atomic, write_text_atomic

    cfg = load_config(args.config)
    require(cfg, "input")
    if not cfg.tables:
        raise fail("tables", "required", "tables に作成する表を一つ以上書いてください。", "list at least one table under tables.")
    df = read_table(cfg.input_path, cfg.input_format, cfg.separator, cfg.encoding, cfg.sheet)
    built = []
    for i, spec in enumerate(cfg.tables):  # build and check every table before writing any
        if not isinstance(spec, dict):
            raise fail(f"tables[{i}]", "type", "表の設定はマッピングで書いてください。", "a table setting must be a mapping.")
        built.append((spec, *tables.make(df, spec, i)))
    infos = []
    for spec, table, info in built:
        out = spec.get("output")
        if out:
            path = cfg.resolve(out)
            write_table_atomic(table.frame(), path, encoding=cfg.output_encoding)
            info["output"] = str(path)
        infos.append(info)
    if cfg.output_path is not None:
        write_text_atomic(cfg.output_path.with_suffix(".tables.json"), json.dumps(infos, ensure_ascii=False, indent=2))
    if args.json:
        print(json.dumps(infos, ensure_ascii=False, indent=2))
    else:
        for info in infos:
            print(f"{info['name']}: {info['cells']} セル, 一次秘匿 {info['primary']}, 二次秘匿 {info['secondary']} "
                  f"({info['method']}), LP 攻撃で保護確認: {'全セル合格' if info['all_protected'] else '不合格あり'}"
                  + (f", DP ε={info['dp']['epsilon']:g}" if info.get("dp") else "")
                  + (f" → {info['output']}" if info.get("output") else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    lang = args.lang or os.environ.get("KIBAN_LANG") or "ja"
    try:
        return {"run": _run, "risk": _risk, "table": _table}[args.command](args)
    except AnonError as exc:
        print(f"エラー: {exc.message(lang)}" if lang == "ja" else f"error: {exc.message(lang)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Benchmark of the tidy engine (kiban tidy check / convert) against frictionless and a bare calamine read.

    .venv/bin/python bench/tidy.py              # 100,000 rows × 20 columns (the issue's size)
    .venv/bin/python bench/tidy.py --rows 5000  # quick run

Generates a messy XLSX (title, merged 2-row header, notes at the bottom; ~40% numbers, ~40% full-width
strings like 「１２，３４５」, ~20% symbols 「-」「…」「x」「△123」; a 和暦 date column) and the same data as
CSV into a temporary directory. Every contender runs in its own subprocess; wall time and peak RSS
(ru_maxrss of that child, which includes Rust/Arrow allocations that tracemalloc cannot see) are measured.
Prints a table with ratios to the bare calamine read, and what each tool found.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
BIN = Path(PY).parent


def run(cmd: list[str], timeout: float, cwd: Path = ROOT) -> dict:
    """Run one contender; return wall seconds, peak RSS MB, exit code and stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            proc.kill()
            raise
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if wall > timeout:
        print(f"  (took {wall:.0f}s, over the {timeout:.0f}s budget)", file=sys.stderr)
    return {"seconds": wall, "rss_mb": usage.ru_maxrss / 1024, "code": proc.returncode, "stdout": stdout,
            "stderr": stderr[-2000:]}


def frictionless_summary(stdout: str) -> str:
    try:
        data = json.loads(stdout)
    except ValueError:
        return "no JSON output"
    counts: dict[str, int] = {}
    for task in data.get("tasks", []):
        for err in task.get("errors", []):
            counts[err.get("type", "?")] = counts.get(err.get("type", "?"), 0) + 1
    total = sum(counts.values())
    return f"{total} errors: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) \
        if total else "valid (no error reported)"


def kiban_summary(stdout: str) -> str:
    try:
        data = json.loads(stdout)
    except ValueError:
        return "no JSON output"
    if isinstance(data, list):
        data = data[0]
    rules = sorted({f["rule"] for f in data.get("findings", [])})
    return f"{len(data.get('findings', []))} findings, rules {' '.join(rules)}; score {data.get('score')}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--skip-frictionless", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="run each contender N times, report the median")
    ap.add_argument("--keep", help="write the generated files here instead of a temp dir")
    args = ap.parse_args(argv)

    tmp = Path(args.keep or tempfile.mkdtemp(prefix="kiban-tidy-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    xlsx, csv = tmp / "messy.xlsx", tmp / "messy.csv"
    t0 = time.perf_counter()
    # Generated in a child process: on Linux a child's ru_maxrss starts from its parent's RSS at fork/exec,
    # so this process must stay small for the per-contender peak memory to mean anything.
    gen = ("import sys; from kiban.engines.tidy.samples import write_messy_csv, write_messy_xlsx; "
           "write_messy_xlsx(sys.argv[1], int(sys.argv[3])); write_messy_csv(sys.argv[2], int(sys.argv[3]))")
    subprocess.run([PY, "-c", gen, str(xlsx), str(csv), str(args.rows)], check=True, cwd=ROOT)
    print(f"generated {args.rows:,} rows × 20 columns in {time.perf_counter() - t0:.1f}s: "
          f"{xlsx.stat().st_size / 1e6:.1f} MB xlsx, {csv.stat().st_size / 1e6:.1f} MB csv ({tmp})")
    try:
        load = os.getloadavg()[0]
        print(f"machine: {os.cpu_count()} cores, load average {load:.1f} at start")
    except OSError:
        pass

    bare = ("import sys; from python_calamine import CalamineWorkbook as W; "
            "r = W.from_path(sys.argv[1]).get_sheet_by_index(0).to_python(); print(len(r))")
    calamine = [PY, "-c", bare]
    kiban = [str(BIN / "kiban"), "tidy"]
    fl = [str(BIN / "frictionless"), "validate", "--json"]
    contenders = [
        ("calamine read (bare)", "xlsx", calamine + [str(xlsx)], None),
        ("kiban tidy check", "xlsx", kiban + ["check", "--format", "json", str(xlsx)], kiban_summary),
        ("kiban tidy convert", "xlsx", kiban + ["convert", str(xlsx), "-o", str(tmp / "out-xlsx"), "--json"],
         kiban_summary),
        ("kiban tidy check", "csv", kiban + ["check", "--format", "json", str(csv)], kiban_summary),
        ("kiban tidy convert", "csv", kiban + ["convert", str(csv), "-o", str(tmp / "out-csv"), "--json"],
         kiban_summary),
    ]
    if not args.skip_frictionless:
        contenders += [
            # frictionless refuses absolute paths outside its working directory ("not safe"): run it there
            ("frictionless validate (defaults)", "xlsx", fl + [xlsx.name], frictionless_summary),
            ("frictionless validate --header-rows 3,4", "xlsx", fl + ["--header-rows", "3,4", xlsx.name],
             frictionless_summary),
            ("frictionless validate (defaults)", "csv", fl + [csv.name], frictionless_summary),
            ("frictionless validate --header-rows 3,4", "csv", fl + ["--header-rows", "3,4", csv.name],
             frictionless_summary),
        ]
    # Round robin (every contender once, then again …): a shared host's speed drifts over minutes, and
    # running one contender's repeats back to back would hand the drift to whichever ran last.
    all_runs: list[list[dict]] = [[] for _ in contenders]
    for rep in range(max(1, args.repeat)):
        for i, (name, kind, cmd, _summarise) in enumerate(contenders):
            print(f"run {rep + 1}: {name} on {kind} …", file=sys.stderr, flush=True)
            all_runs[i].append(run(cmd, timeout=3600, cwd=tmp if name.startswith("frictionless") else ROOT))
    results = []
    for (name, kind, cmd, summarise), runs in zip(contenders, all_runs):
        runs.sort(key=lambda x: x["seconds"])
        r = runs[len(runs) // 2]  # the median run (a shared machine is noisy)
        r["rss_mb"] = max(x["rss_mb"] for x in runs)
        r["name"], r["kind"] = name, kind
        r["found"] = summarise(r["stdout"]) if summarise else f"{r['stdout'].strip()} rows"
        if r["code"] not in (0, 1):
            r["found"] = f"exit {r['code']}: {r['stderr'].strip().splitlines()[-1] if r['stderr'].strip() else ''}"
        results.append(r)
    base = results[0]["seconds"]
    print()
    print(f"bench parent RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (a floor for the "
          "children's peak)")
    if args.repeat > 1:
        print(f"seconds: median of {args.repeat} runs (taken round robin); peak MB: the highest of them")
    print(f"{'contender':44} {'file':5} {'seconds':>8} {'× calamine':>11} {'peak MB':>8}  found")
    for r in results:
        print(f"{r['name']:44} {r['kind']:5} {r['seconds']:8.2f} {r['seconds'] / base:11.2f} {r['rss_mb']:8.0f}  "
              f"{r['found'][:150]}")
    by = {(r["name"], r["kind"]): r for r in results}
    chk, conv = by[("kiban tidy check", "xlsx")], by[("kiban tidy convert", "xlsx")]
    print()
    print(f"goal check ≤ 2× calamine: check {chk['seconds'] / base:.2f}×, convert (includes the check report) "
          f"{conv['seconds'] / base:.2f}×; peak memory {max(chk['rss_mb'], conv['rss_mb']):.0f} MB (goal < 500)")
    fh = by.get(("frictionless validate --header-rows 3,4", "xlsx"))
    if fh:
        print(f"frictionless with header rows / kiban convert: {fh['seconds'] / conv['seconds']:.1f}× (goal ≥ 10×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

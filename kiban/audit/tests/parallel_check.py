"""Run by test_concurrency.test_parallel_verify_agrees_with_serial in a fresh process on a SQLite file.

Builds a chain once, then for many random tamperings (edit, delete, swap, truncate) checks that verifying
with several worker processes names the same first bad entry, for the same reason, as one pass does.
"""

import random
import shutil
import sys
from pathlib import Path

import django

django.setup()

from django.db import connection, connections, transaction  # noqa: E402

from kiban.audit.log import record  # noqa: E402
from kiban.audit.verify import verify_chain  # noqa: E402


def main(db: Path, trials: int, seed: int) -> int:
    rng = random.Random(seed)
    n = 60
    with transaction.atomic():
        for i in range(n):
            record(actor=None, org=None, action="test.parallel", after={"i": i, "名": "千代田" * (i % 3)})
    connections.close_all()
    pristine = db.with_suffix(".pristine")
    shutil.copy(db, pristine)
    disagreements = []
    for trial in range(trials):
        connections.close_all()
        shutil.copy(pristine, db)
        kind = rng.choice(["edit", "delete", "swap", "truncate", "none"])
        a, b = sorted(rng.sample(range(1, n + 1), 2))
        with connection.cursor() as c:
            if kind == "edit":
                column = rng.choice(["action", "target_repr", "changes", "prev_hash", "hash", "time", "seq"])
                value = 10**9 + a if column == "seq" else ('{"x":1}' if column == "changes" else "tampered")
                c.execute(f"UPDATE audit_auditentry SET {column} = %s WHERE seq = %s", [value, a])
            elif kind == "delete":
                c.execute("DELETE FROM audit_auditentry WHERE seq = %s", [a])
            elif kind == "swap":
                c.execute("UPDATE audit_auditentry SET seq = 1000000000000 WHERE seq = %s", [a])
                c.execute("UPDATE audit_auditentry SET seq = %s WHERE seq = %s", [a, b])
                c.execute("UPDATE audit_auditentry SET seq = %s WHERE seq = 1000000000000", [b])
            elif kind == "truncate":
                c.execute("DELETE FROM audit_auditentry WHERE seq >= %s", [b])
        serial = verify_chain(workers=1, batch_size=7)
        for workers in (2, 3, 7):
            parallel = verify_chain(workers=workers, batch_size=7)
            got = (parallel.ok, parallel.reason, parallel.bad_seq, parallel.bad_id, parallel.last_seq if parallel.ok else None)
            want = (serial.ok, serial.reason, serial.bad_seq, serial.bad_id, serial.last_seq if serial.ok else None)
            if got != want or parallel.details["workers"] != workers:
                disagreements.append((trial, kind, a, b, workers, want, got))
    for d in disagreements:
        print("DISAGREE", d)
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))

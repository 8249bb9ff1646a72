"""Concurrent appends never fork the chain (連鎖の分岐防止).

Several threads, each with its own database connection (Django opens one per thread), append at once.
On PostgreSQL record() takes pg_advisory_xact_lock before reading the chain head; on SQLite the IMMEDIATE
transaction mode takes the write lock at BEGIN. Either way every entry must get its own seq and link to
the one before it.
"""

import json
import os
import subprocess
import sys
import threading

import pytest
from django.db import close_old_connections, connection, transaction

from kiban.audit.log import record
from kiban.audit.models import AuditEntry
from kiban.audit.verify import verify_chain

THREADS = 4
PER_THREAD = 15


def _append(org, errors: list, barrier: threading.Barrier) -> None:
    try:
        barrier.wait()
        for i in range(PER_THREAD):
            with transaction.atomic():
                record(actor=None, org=org, action="test.concurrent", after={"i": i})
    except Exception as exc:  # collected and reported by the test
        errors.append(exc)
    finally:
        close_old_connections()
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_do_not_fork_the_chain(org_a):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # An in-memory test database is shared between threads through SQLite's shared cache, whose
        # table locks do not wait; test_concurrent_processes_on_sqlite covers SQLite with a real file.
        pytest.skip("needs a file-backed SQLite test database or PostgreSQL")
    errors: list = []
    barrier = threading.Barrier(THREADS)
    threads = [threading.Thread(target=_append, args=(org_a, errors, barrier)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, THREADS * PER_THREAD + 1))
    result = verify_chain()
    assert result.ok, result.message()
    assert result.checked == THREADS * PER_THREAD


WORKER = """
import sys, time
import django
django.setup()
from django.db import transaction
from kiban.audit.log import record
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
for i in range(int(sys.argv[2])):
    with transaction.atomic():
        record(actor=None, org=None, action="test.concurrent", after={"node": sys.argv[3], "i": i})
"""


@pytest.mark.slow
def test_concurrent_processes_on_sqlite(tmp_path):
    """Three processes — three app nodes — append to one SQLite file at the same moment."""
    import time

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kiban.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'nodes.sqlite3'}",
        "KIBAN_DATA_DIR": str(tmp_path),
    }
    env.pop("KIBAN_DB_TESTS_ONLY", None)
    kiban = [sys.executable, "-m", "kiban.cli"]
    subprocess.run([*kiban, "migrate", "--verbosity=0"], env=env, check=True, timeout=300)
    start = str(time.time() + 3)
    nodes = [
        subprocess.Popen([sys.executable, "-c", WORKER, start, str(PER_THREAD), str(n)], env=env)
        for n in range(3)
    ]
    assert [p.wait(timeout=300) for p in nodes] == [0, 0, 0]
    done = subprocess.run(
        [*kiban, "audit", "verify", "--json"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["checked"] == 3 * PER_THREAD


@pytest.mark.slow
def test_parallel_verify_agrees_with_serial(tmp_path):
    """Verifying in several processes finds the same first bad entry as one pass, for random tampering."""
    db = tmp_path / "parallel.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kiban.settings", "DATABASE_URL": f"sqlite:///{db}",
           "KIBAN_DATA_DIR": str(tmp_path)}  # fmt: skip
    subprocess.run([sys.executable, "-m", "kiban.cli", "migrate", "--verbosity=0"], env=env, check=True, timeout=300)
    script = os.path.join(os.path.dirname(__file__), "parallel_check.py")
    done = subprocess.run([sys.executable, script, str(db), "40", "3"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr

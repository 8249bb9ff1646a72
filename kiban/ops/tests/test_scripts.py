"""The set-up scripts: which Debian packages `make test` installs, and the throwaway PostgreSQL wrapper."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from kiban.core.paths import PROJECT_DIR

SCRIPTS = PROJECT_DIR / "scripts"


def _missing(tmp_path: Path, **env: str) -> list[str]:
    done = subprocess.run(
        [str(SCRIPTS / "missing-debian-packages")],
        env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, check=True, timeout=30,
    )
    return done.stdout.split()


def _executable(path: Path, body: str = "exit 0") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


def test_nothing_installed(tmp_path):
    missing = _missing(tmp_path, KIBAN_CHROMIUM=str(tmp_path / "no-chromium"),
                       KIBAN_PG_CTL_GLOB=str(tmp_path / "pg/*/bin/pg_ctl"), KIBAN_FC_LIST="no-such-fc-list")
    assert missing == ["chromium", "fontconfig", "fonts-noto-cjk", "postgresql"]


def test_everything_installed(tmp_path):
    chromium = _executable(tmp_path / "chromium")
    _executable(tmp_path / "pg/15/bin/pg_ctl")
    fc_list = _executable(tmp_path / "fc-list", 'echo "/usr/share/fonts/NotoSansCJK-Regular.ttc: Noto Sans CJK JP:style=Regular"')
    assert _missing(tmp_path, KIBAN_CHROMIUM=str(chromium), KIBAN_PG_CTL_GLOB=str(tmp_path / "pg/*/bin/pg_ctl"),
                    KIBAN_FC_LIST=str(fc_list)) == []


def test_fonts_missing_but_fontconfig_present(tmp_path):
    chromium = _executable(tmp_path / "chromium")
    _executable(tmp_path / "pg/16/bin/pg_ctl")
    fc_list = _executable(tmp_path / "fc-list", 'echo "/usr/share/fonts/DejaVuSans.ttf: DejaVu Sans:style=Book"')
    assert _missing(tmp_path, KIBAN_CHROMIUM=str(chromium), KIBAN_PG_CTL_GLOB=str(tmp_path / "pg/*/bin/pg_ctl"),
                    KIBAN_FC_LIST=str(fc_list)) == ["fonts-noto-cjk"]


def test_long_font_list_with_the_font_first(tmp_path):
    """grep stops at the first match; fc-list must not then die of SIGPIPE and make the fonts look missing."""
    fc_list = _executable(tmp_path / "fc-list", 'echo "x: Noto Sans CJK JP:style=Regular"\nseq 1 200000')
    for _ in range(5):
        assert "fonts-noto-cjk" not in _missing(tmp_path, KIBAN_FC_LIST=str(fc_list))


def test_a_non_executable_chromium_does_not_count(tmp_path):
    (tmp_path / "chromium").write_text("not a program")
    assert "chromium" in _missing(tmp_path, KIBAN_CHROMIUM=str(tmp_path / "chromium"))


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_scripts_parse():
    for script in ("run-tests", "with-postgres", "serve-demo", "missing-debian-packages"):
        subprocess.run(["bash", "-n", str(SCRIPTS / script)], check=True)


@pytest.mark.slow
def test_with_postgres_stops_the_cluster_even_on_failure():
    if not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")):
        pytest.skip("PostgreSQL is not installed here (scripts/run-tests installs it)")
    # Not pytest's tmp_path: its parents are private to root, and the cluster runs as 'postgres' under root.
    base = Path(tempfile.mkdtemp(prefix="kiban-test-pg-"))
    base.chmod(0o755)
    try:
        done = subprocess.run([str(SCRIPTS / "with-postgres"), "sh", "-c", 'echo "$DATABASE_URL"; exit 3'],
                              env={**os.environ, "TMPDIR": str(base)}, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 3, done.stderr  # the command's own exit code
        assert "postgres://kiban@127.0.0.1:" in done.stdout
        assert not list(base.glob("kiban-pg.*"))  # cluster stopped and removed
    finally:
        shutil.rmtree(base, ignore_errors=True)

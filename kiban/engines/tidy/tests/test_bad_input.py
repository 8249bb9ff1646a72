"""Bad input: a clear message (TidyError with a code) per file, never a hang, bounded memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from kiban.engines.tidy import Limits, TidyError, check, convert
from kiban.engines.tidy.cli import main as cli

from .fixtures import clean


def code_of(path, **kw) -> str:
    with pytest.raises(TidyError) as exc:
        check(path, **kw)
    assert exc.value.message_ja and exc.value.message_en
    return exc.value.code


def fake_encrypted_xlsx(path: Path) -> Path:
    """What Excel writes for a password-protected workbook: an OLE compound file (not a zip) whose
    directory holds the 'EncryptionInfo' and 'EncryptedPackage' streams."""
    header = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 504
    directory = "EncryptionInfo".encode("utf-16-le").ljust(128, b"\x00") + \
        "EncryptedPackage".encode("utf-16-le").ljust(128, b"\x00")
    path.write_bytes(header + directory + os.urandom(4096))
    return path


def test_password_protected(tmp_path):
    assert code_of(fake_encrypted_xlsx(tmp_path / "locked.xlsx")) == "encrypted"


def test_corrupt_and_truncated(tmp_path):
    good = clean(tmp_path).read_bytes()
    (tmp_path / "trunc.xlsx").write_bytes(good[: len(good) // 2])
    assert code_of(tmp_path / "trunc.xlsx") == "corrupt"
    (tmp_path / "noise.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(3000))
    assert code_of(tmp_path / "noise.xlsx") == "corrupt"
    (tmp_path / "text.xlsx").write_text("this is not a workbook")
    assert code_of(tmp_path / "text.xlsx") == "corrupt"
    (tmp_path / "fake.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + os.urandom(2000))
    assert code_of(tmp_path / "fake.xls") == "corrupt"
    # a zip whose sheet part is damaged
    bad = tmp_path / "badpart.xlsx"
    with zipfile.ZipFile(clean(tmp_path, "c2.xlsx")) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data[: len(data) // 3] if item.filename.endswith("sheet1.xml") else data)
    assert code_of(bad) == "corrupt"


def test_zip_bomb_refused_before_inflating(tmp_path):
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(clean(tmp_path)) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, src.read(item))
        with dst.open("xl/worksheets/sheet2.xml", "w") as fh:  # 64 MB of zeros, ~60 kB compressed
            block = b"0" * (1 << 20)
            for _ in range(64):
                fh.write(block)
    assert bomb.stat().st_size < 1_000_000
    started = time.monotonic()
    assert code_of(bomb) == "zip_bomb"
    assert time.monotonic() - started < 5
    # the total uncompressed size is bounded too
    assert code_of(clean(tmp_path, "c3.xlsx"), limits=Limits(max_uncompressed_bytes=1000)) == "zip_bomb"


def test_binary_garbage_named_csv(tmp_path):
    p = tmp_path / "garbage.csv"
    p.write_bytes(os.urandom(50_000))
    assert code_of(p) == "binary"


def test_no_table(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    assert code_of(tmp_path / "empty.csv") == "no_table"
    only_title = tmp_path / "title.csv"
    only_title.write_text("令和6年度 統計表\n\n", encoding="utf-8")
    report = check(only_title)
    assert report.findings[0].severity == "FATAL"
    with pytest.raises(TidyError) as exc:
        convert(only_title, tmp_path / "out")
    assert exc.value.code == "no_table"


def test_file_too_large_and_missing(tmp_path):
    assert code_of(clean(tmp_path), limits=Limits(max_file_bytes=100)) == "too_large"
    assert code_of(tmp_path / "nope.xlsx") == "not_found"


def test_row_limit_is_checked_before_reading(tmp_path):
    p = tmp_path / "many.csv"
    p.write_text("a,b\n" + "1,2\n" * 5000)
    assert code_of(p, limits=Limits(max_rows=1000)) == "too_many_rows"
    assert code_of(clean(tmp_path), limits=Limits(max_rows=3)) == "too_many_rows"


def test_timeout_is_a_clear_error(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b\n" + "1,2\n" * 200_000)
    assert code_of(p, timeout=0.000001) == "timeout"


def test_cli_says_why_and_exits_2(tmp_path, capsys):
    p = tmp_path / "garbage.csv"
    p.write_bytes(os.urandom(5000))
    assert cli(["check", str(p)]) == 2
    err = capsys.readouterr().err
    assert "binary" in err and "バイナリ" in err
    assert cli(["convert", str(p), "-o", str(tmp_path / "o")]) == 2


@pytest.mark.slow
def test_million_row_sheet_bounded_time_and_memory(tmp_path):
    """A 1,000,000-row CSV (generated cheaply): checked in a subprocess, in bounded time and memory."""
    p = tmp_path / "million.csv"
    with p.open("w", encoding="utf-8") as fh:
        fh.write("地域コード,年,人口（人）\n")
        line = "".join(f"{i % 47 + 1:02d}000,2020,{i}\n" for i in range(1000))
        for _ in range(1000):
            fh.write(line)
    code = ("import resource, sys\nfrom kiban.engines.tidy import check\nr = check(sys.argv[1])\n"
            "print(r.tables[0]['data_rows'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=600, check=False,
                         cwd=Path(__file__).resolve().parents[4])
    elapsed = time.monotonic() - started
    assert out.returncode == 0, out.stderr[-2000:]
    rows, rss_mb = map(int, out.stdout.split())
    assert rows == 1_000_000
    assert rss_mb < 1500, rss_mb
    assert elapsed < 300, elapsed
    print(f"1M-row CSV: {elapsed:.1f}s, peak {rss_mb} MB")


def test_unsupported_format_names_rule_l1_01(tmp_path):
    p = tmp_path / "report.pdf"
    p.write_bytes(b"%PDF-1.7\n" + os.urandom(1000))
    with pytest.raises(TidyError) as exc:
        check(p)
    assert exc.value.code == "unsupported_format" and exc.value.rule == "L1-01"

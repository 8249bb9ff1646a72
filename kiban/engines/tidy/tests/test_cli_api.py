"""CLI (`kiban tidy check|convert`), output formats, recipe files, and the Django-free Python API."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import yaml

from kiban.cli import main as kiban
from kiban.engines.tidy import convert

from .fixtures import bad_L1_12, bad_L3_09, clean

ROOT = Path(__file__).resolve().parents[4]


def test_library_does_not_import_django():
    code = ("import sys; import kiban.engines.tidy as t; from kiban.engines.tidy import check, convert; "
            "print(any(m == 'django' or m.startswith('django.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_check_text_json_sarif(tmp_path, capsys):
    path = bad_L1_12(tmp_path)
    assert kiban(["tidy", "check", str(path)]) == 1  # CRITICAL finding → exit 1
    text = capsys.readouterr().out
    assert "L1-12" in text and "C2:C3" in text and "要人手確認" in text
    assert kiban(["tidy", "check", "--format", "json", str(path)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["score"] < 100 and any(f["rule"] == "L1-12" and f["range"] == "C2:C3" for f in data["findings"])
    assert data["summary"]["CRITICAL"] >= 1
    assert kiban(["tidy", "check", "--format", "sarif", str(path)]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    res = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "L1-12"]
    assert res and res[0]["locations"][0]["logicalLocations"][0]["name"] == "データ!C2:C3"
    assert kiban(["tidy", "check", str(clean(tmp_path, "ok.xlsx"))]) == 0


def test_convert_writes_csv_parquet_datapackage_recipe(tmp_path, capsys):
    path = bad_L3_09(tmp_path)
    out = tmp_path / "out"
    assert kiban(["tidy", "convert", str(path), "-o", str(out), "--bom"]) == 0
    assert "cross" in capsys.readouterr().out
    raw = (out / "cross.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    df = pl.read_csv(out / "cross.csv", encoding="utf8-lossy")
    assert df.columns == ["\ufeff都道府県コード", "都道府県", "年", "値", "単位", "状態"] or \
        df.columns == ["都道府県コード", "都道府県", "年", "値", "単位", "状態"]
    assert df.height == 18
    assert pl.read_parquet(out / "cross.parquet").height == 18
    dp = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in dp["resources"][0]["schema"]["fields"]}
    assert fields["値"]["type"] == "integer" and fields["値"]["unit"] == "人"
    assert dp["sources"][0]["kiban:sha256"]
    recipe = yaml.safe_load((out / "recipe.yaml").read_text(encoding="utf-8"))
    assert recipe["sheets"]["データ"]["melt"] is True
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert any(f["rule"] == "L3-09" for f in report["findings"])


def test_recipe_file_overrides_guesses(tmp_path):
    path = bad_L3_09(tmp_path)
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"sheets": {"データ": {"melt": False, "columns": {"都道府県": "都道府県名"}}}},
                                     allow_unicode=True), encoding="utf-8")
    df = convert(path, recipe=recipe).frames["cross"]
    assert "都道府県名" in df.columns and df.height == 6  # kept wide as asked
    jrecipe = tmp_path / "r.json"
    jrecipe.write_text(json.dumps({"sheets": {"データ": {"level_names": ["調査年"]}}}), encoding="utf-8")
    assert "調査年" in convert(path, recipe=jrecipe).frames["cross"].columns


def test_bad_recipe_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "r.yaml"
    bad.write_text("sheets: [unclosed", encoding="utf-8")
    assert kiban(["tidy", "convert", str(clean(tmp_path)), "-o", str(tmp_path / "o"), "--recipe", str(bad)]) == 2
    assert "bad_recipe" in capsys.readouterr().err


def test_encodings_are_detected(tmp_path):
    from kiban.engines.tidy import check

    from .fixtures import DATA, HEADER, write_csv

    for enc, label in (("utf-8-sig", "utf-8"), ("cp932", "cp932"), ("euc_jp", "euc_jp"), ("shift_jis", "shift_jis")):
        p = write_csv(tmp_path / f"{label}.csv", [HEADER, *DATA], encoding=enc)
        r = check(p)
        assert r.encoding in (label, "cp932" if label == "shift_jis" else label, "shift_jis"), (enc, r.encoding)
        assert r.tables[0]["row_header_columns"][:2] == ["地域コード", "都道府県"]
    tsv = tmp_path / "t.tsv"
    tsv.write_text("\n".join("\t".join(map(str, r)) for r in [HEADER, *DATA]) + "\n", encoding="utf-8")
    assert check(tsv).format == "tsv"


def _minimal_ods(path: Path, rows: list[list]) -> Path:
    """A minimal OpenDocument spreadsheet written by hand (no ODS writer is installed)."""
    import zipfile
    from xml.sax.saxutils import escape

    def cell(v):
        if isinstance(v, (int, float)):
            return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in r) + "</table:table-row>" for r in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="表">{body}</table:table></office:spreadsheet>'
        "</office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    return path


def test_ods_is_read_and_reported_as_such(tmp_path):
    from kiban.engines.tidy import check

    from .fixtures import DATA, HEADER

    r = check(_minimal_ods(tmp_path / "t.ods", [HEADER, *DATA]))
    assert r.format == "ods" and r.tables[0]["data_rows"] == len(DATA)
    assert {f.rule for f in r.findings} == {"L1-01"}  # .ods: readable, but .xlsx / CSV are recommended
    assert not r.limitations  # hidden rows, formulas, formats, comments and objects were inspected too


def test_ods_layout_is_checked(tmp_path):
    """A hidden row and a merged header in an ODS file are reported as in an XLSX (L1-13, L1-12)."""
    from kiban.engines.tidy import check

    path = tmp_path / "layout.ods"
    HIDDEN = ' table:visibility="collapse"'
    body = (
        '<table:table-row><table:table-cell table:number-columns-spanned="2" office:value-type="string">'
        "<text:p>人口</text:p></table:table-cell><table:covered-table-cell/></table:table-row>"
        '<table:table-row><table:table-cell office:value-type="string"><text:p>地域</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string"><text:p>人数</text:p></table:table-cell></table:table-row>'
        + "".join(
            f"<table:table-row{HIDDEN if i == 2 else ''}>"
            f'<table:table-cell office:value-type="string"><text:p>地域{i}</text:p></table:table-cell>'
            f'<table:table-cell office:value-type="float" office:value="{i * 10}"><text:p>{i * 10}</text:p>'
            "</table:table-cell></table:table-row>" for i in range(1, 6))
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="表">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    found = {f.rule: f for f in check(path).findings}
    assert found["L1-13"].ranges == ["4:4"]
    assert found["L1-12"].ranges == ["A1:B1"]

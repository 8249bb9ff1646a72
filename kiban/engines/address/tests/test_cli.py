"""`kiban address …`: batch normalisation of CSV/Excel files and the lookup helpers."""

from __future__ import annotations

import csv
import json

import pytest
from openpyxl import Workbook, load_workbook

from kiban.cli import main as kiban_main
from kiban.engines.address.cli import main


def _csv(path, rows, encoding="utf-8"):
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_normalize_csv_adds_every_field(tmp_path, capsys):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _csv(
        src,
        [
            ["番号", "住所"],
            ["1", "〒100-0013 東京都千代田区霞ヶ関２－１－２ 中央合同庁舎"],
            ["2", ""],
            ["3", "北区"],
        ],
    )
    assert kiban_main(["address", "normalize", str(src), "--column", "住所", "-o", str(out)]) == 0
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["番号"] for r in rows] == ["1", "2", "3"]
    first = rows[0]
    assert (first["住所_都道府県"], first["住所_市区町村"], first["住所_町字"], first["住所_番地"]) == (
        "東京都",
        "千代田区",
        "霞が関二丁目",
        "1-2",
    )
    assert first["住所_建物"] == "中央合同庁舎"
    assert first["住所_団体コード"] == "131016" and first["住所_郵便番号"] == "1000013"
    assert first["住所_レベル"] == "4" and "霞ヶ関→霞が関" in first["住所_補正"]
    assert rows[1]["住所_レベル"] == "0" and rows[1]["住所_理由"]
    assert "東京都北区" in rows[2]["住所_候補"]
    assert "3 件を正規化しました" in capsys.readouterr().err


def test_normalize_shift_jis_csv_with_default_body(tmp_path):
    src, out = tmp_path / "sjis.csv", tmp_path / "out.csv"
    _csv(
        src,
        [["氏名", "所在地"], ["山田", "北区北七条西2丁目"], ["鈴木", "中央区大通西1丁目"]],
        encoding="cp932",
    )
    assert main(["normalize", str(src), "-c", "所在地", "-o", str(out), "--default-body", "011002"]) == 0
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["所在地_市区町村"] == "札幌市北区" and rows[0]["所在地_町字"] == "北七条西二丁目"
    assert rows[1]["所在地_市区町村"] == "札幌市中央区" and rows[1]["所在地_町字"] == "大通西一丁目"


def test_normalize_excel_to_excel(tmp_path):
    src, out = tmp_path / "in.xlsx", tmp_path / "out.xlsx"
    book = Workbook()
    ws = book.active
    ws.append(["住所"])
    ws.append(["京都府京都市中京区河原町通三条上る恵比須町427"])
    book.save(src)
    assert main(["normalize", str(src), "-o", str(out)]) == 0
    rows = list(load_workbook(out).active.values)
    header, row = rows[0], dict(zip(rows[0], rows[1]))
    assert "住所_通り名" in header
    assert (
        row["住所_町字"] == "恵比須町"
        and row["住所_通り名"] == "河原町通三条上る"
        and row["住所_番地"] == "427"
    )


def test_missing_column_and_bad_default_body_are_clear_errors(tmp_path, capsys):
    src = tmp_path / "in.csv"
    _csv(src, [["名前"], ["x"]])
    assert main(["normalize", str(src), "--column", "住所"]) == 2
    assert "列「住所」がありません（あるのは: 名前）" in capsys.readouterr().err
    _csv(src, [["住所"], ["北区"]])
    assert main(["normalize", str(src), "--default-body", "011001"]) == 2
    assert "検査数字" in capsys.readouterr().err
    assert main(["normalize", str(tmp_path / "none.csv")]) == 2


def test_postal_code_helpers(capsys):
    assert main(["postal", "〒100-0013"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {"pref": "東京都", "city": "千代田区", "town": "霞が関"}.items() <= found[0].items()
    assert main(["postal", "9806105"]) == 0  # a floor of a building with its own postal code
    found = json.loads(capsys.readouterr().out)
    assert found[0]["town"] == "中央" and found[0]["building"] == "アエル"
    assert main(["postal", "12"]) == 2


def test_code_and_towns(capsys):
    assert main(["code", "13101"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["code"] == "131016" and info["name"] == "千代田区" and info["town_count"] > 50
    assert main(["code", "141003"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert any(w["name"] == "横浜市中区" for w in info["wards"])
    assert main(["towns", "131016"]) == 0
    towns = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(t["town"] == "霞が関" and t["postal_codes"] == ["1000013"] for t in towns)
    assert main(["towns", "131016", "--csv"]) == 0
    assert "霞が関" in capsys.readouterr().out


def test_parse_and_index(capsys):
    assert main(["parse", "北区赤羽1-1"]) == 0
    assert json.loads(capsys.readouterr().out)["lg_code"] == "131172"
    assert main(["index"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["prefectures"] == 47 and info["towns"] > 100_000 and "KEN_ALL" in info["data_date"]


@pytest.mark.parametrize("argv", [["normalize"], ["nope"]])
def test_usage_errors(argv):
    with pytest.raises(SystemExit):
        main(argv)

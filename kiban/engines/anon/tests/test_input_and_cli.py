"""Configuration, hierarchy builders, bad input and the CLI, on a small synthetic municipal data set.

Bad input must be reported before any work with the field and the rule, in Japanese (English on request),
and must never leave a partially written file that looks complete.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl
import pytest
import yaml

from kiban.engines.anon import cli
from kiban.engines.anon.config import load_config
from kiban.engines.anon.engine import prepare, run
from kiban.engines.anon.errors import AnonError
from kiban.engines.anon.hierarchy import Hierarchy, build, read_hierarchy_csv
from kiban.engines.anon.io import write_atomic

ADDRESSES = ["東京都千代田区霞が関1-2-1", "東京都港区芝公園4-2-8", "北海道札幌市中央区北1条西2丁目", "北海道札幌市北区北8条西2",
             "大阪府大阪市北区中之島1-3-20", "神奈川県横浜市中区港町1-1", "石川県金沢市広坂1-1-1", "石川県野々市市三納1-1"]
JOBS = ["事務", "販売", "製造", "農業", "教員", "医療"]


def make_data(tmp: Path, n: int = 240, seed: int = 7) -> Path:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append({
            "氏名": f"住民{i:04d}",
            "個人番号": f"{rnd.randrange(10**11, 10**12)}",
            "住民ID": f"ID{i:06d}",
            "年齢": str(rnd.randint(18, 89)),
            "住所": rnd.choice(ADDRESSES),
            "生年月日": f"{rnd.randint(1935, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            "郵便番号": f"{rnd.randint(100, 999)}{rnd.randint(0, 9999):04d}",
            "職業": rnd.choice(JOBS),
            "世帯人数": str(rnd.randint(1, 5)),
        })
    path = tmp / "residents.csv"
    pl.DataFrame(rows).write_csv(path)
    (tmp / "jobs.csv").write_text("".join(f"{j};{'専門' if j in ('教員', '医療') else '一般'};*\n" for j in JOBS), encoding="utf-8")
    return path


def base_config(tmp: Path) -> dict:
    make_data(tmp)
    return {
        "title": "住民データ匿名加工",
        "input": {"path": "residents.csv"},
        "output": {"path": "out/residents_anon.csv"},
        "columns": {
            "氏名": {"role": "identifier", "kind": "name"},
            "個人番号": {"role": "identifier", "kind": "individual_code"},
            "住民ID": {"role": "identifier", "kind": "linking_code"},
            "年齢": {"role": "quasi", "hierarchy": {"builder": "intervals", "widths": [5, 10, 20]}},
            "住所": {"role": "quasi", "hierarchy": {"builder": "address"}},
            "生年月日": {"role": "quasi", "hierarchy": {"builder": "date", "levels": ["month", "fiscal_year"]}},
            "郵便番号": {"role": "quasi", "hierarchy": {"builder": "mask", "levels": [2, 4, 7]}},
            "職業": {"role": "sensitive", "hierarchy": "jobs.csv"},
            "世帯人数": {"role": "insensitive"},
        },
        "privacy": {"k": 3, "suppression_limit": 0.05,
                    "l_diversity": {"attribute": "職業", "variant": "distinct", "l": 2}},
        "metric": {"name": "loss"},
    }


def write_config(tmp: Path, cfg: dict, name="anon.yaml") -> Path:
    p = tmp / name
    p.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


# ------------------------------------------------------------------------------------------ builders


def test_interval_builder_nests():
    h = build("年齢", ["3", "37", "40", "89"], {"builder": "intervals", "widths": [5, 10, 20]})
    d = h.as_dict()
    assert d["37"] == ("37", "35-39", "30-39", "20-39", "*")
    assert d["3"][1] == "0-4"


def test_date_builder_fiscal_year():
    h = build("日", ["2024-03-31", "2024-04-01"], {"builder": "date", "levels": ["month", "fiscal_year"]})
    d = h.as_dict()
    assert d["2024-03-31"][1:] == ("2024-03", "2023年度", "*")
    assert d["2024-04-01"][1:] == ("2024-04", "2024年度", "*")


def test_mask_builder():
    h = build("郵便番号", ["1000013"], {"builder": "mask", "levels": [2, 4]})
    assert h.rows[0] == ("1000013", "10000**", "100****", "*")


@pytest.mark.slow
def test_address_builder_uses_registry():
    h = build("住所", ["東京都千代田区霞が関1-2-1", "北海道札幌市中央区北1条西2丁目", "131016", "01100"],
              {"builder": "address"})
    d = h.as_dict()
    assert d["東京都千代田区霞が関1-2-1"][1:] == ("東京都千代田区", "東京都", "*")
    assert d["北海道札幌市中央区北1条西2丁目"][1:] == ("北海道札幌市", "北海道", "*")  # ward → designated city
    assert d["131016"][1:] == ("東京都千代田区", "東京都", "*")  # 全国地方公共団体コード (6 digits, check digit)
    assert d["01100"][1:] == ("北海道札幌市", "北海道", "*")  # 5-digit code of Sapporo


# ------------------------------------------------------------------------------------------ bad input


def rule_of(fn) -> AnonError:
    with pytest.raises(AnonError) as e:
        fn()
    assert e.value.message("ja") != e.value.message("en")
    assert e.value.field and e.value.rule
    assert "規則" in e.value.message("ja") and "rule" in e.value.message("en")
    return e.value


def test_hierarchy_not_covering_values(tmp_path):
    cfg = base_config(tmp_path)
    (tmp_path / "jobs.csv").write_text("事務;一般;*\n販売;一般;*\n", encoding="utf-8")
    e = rule_of(lambda: prepare(load_config(write_config(tmp_path, cfg))))
    assert e.rule == "hierarchy_uncovered" and e.field == "columns.職業.hierarchy"
    assert "製造" in e.message("ja")


def test_inconsistent_hierarchy(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("a;x;*\nb;x;*\nc;y;*\n", encoding="utf-8")
    read_hierarchy_csv(p, "c")  # fine
    h = Hierarchy("c", [("a", "x", "P"), ("b", "x", "Q")])  # x generalises to P and to Q
    e = rule_of(h.validate)
    assert e.rule == "hierarchy_inconsistent"
    e = rule_of(lambda: build("d", ["2024-01-01"], {"builder": "date", "levels": ["year", "fiscal_year"]}))
    assert e.rule == "hierarchy_inconsistent"
    e = rule_of(lambda: build("n", ["5"], {"builder": "intervals", "widths": [5, 7]}))
    assert e.rule == "hierarchy_inconsistent"


def test_ragged_hierarchy(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("a;x;*\nb;*\n", encoding="utf-8")
    assert rule_of(lambda: read_hierarchy_csv(p, "c")).rule == "hierarchy_ragged"


@pytest.mark.parametrize("mutate,field,rule", [
    (lambda c: c["columns"].update({"ない列": {"role": "quasi"}}), "columns.ない列", "unknown_column"),
    (lambda c: c["columns"].pop("世帯人数"), "columns", "unlisted_column"),
    (lambda c: c["privacy"].update({"k": 10_000}), "privacy.k", "impossible"),
    (lambda c: c["privacy"].update({"k": 0}), "privacy.k", "range"),
    (lambda c: c["privacy"].update({"suppression_limit": 1.5}), "privacy.suppression_limit", "range"),
    (lambda c: c["privacy"]["l_diversity"].update({"l": 9}), "privacy.l_diversity.l", "impossible"),
    (lambda c: c["columns"]["年齢"].update({"role": "qi"}), "columns.年齢.role", "choice"),
    (lambda c: c.update({"privacy": {**c["privacy"], "kk": 3}}), "privacy.kk", "unknown_key"),
    (lambda c: c.update({"metric": "accuracy"}), "metric.name", "choice"),
    (lambda c: c["columns"]["年齢"].update({"hierarchy": {"builder": "magic"}}), "columns.年齢.hierarchy.builder",
     "unknown_builder"),
    (lambda c: c["columns"]["年齢"].update({"hierarchy": "missing.csv"}), "columns.年齢.hierarchy", "file_not_found"),
    (lambda c: c["columns"]["職業"].update({"role": "insensitive"}), "columns.職業.role", "sensitive_required"),
    (lambda c: c["output"].update({"path": "residents.csv"}), "output.path", "overwrite_input"),
])
def test_bad_config_is_reported_before_work(tmp_path, mutate, field, rule):
    cfg = base_config(tmp_path)
    mutate(cfg)
    path = write_config(tmp_path, cfg)
    e = rule_of(lambda: run(path))
    assert (e.field, e.rule) == (field, rule)
    assert not (tmp_path / "out").exists()  # nothing written


def test_syntax_error_and_cli_messages(tmp_path, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text("columns: [unclosed", encoding="utf-8")
    assert cli.main(["run", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("エラー: config:") and "syntax" in err
    assert cli.main(["--lang", "en", "run", str(p)]) == 2
    assert capsys.readouterr().err.startswith("error: config:")


def test_failure_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out.csv"

    def writer(tmp: Path):
        tmp.write_text("half a file")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, writer)
    assert not target.exists() and not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------------------ the flow


@pytest.mark.slow
def test_run_end_to_end(tmp_path, capsys):
    cfg = base_config(tmp_path)
    path = write_config(tmp_path, cfg)
    assert cli.main(["run", str(path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    out = pl.read_csv(tmp_path / "out/residents_anon.csv", infer_schema=False)
    assert set(out.columns) == {"年齢", "住所", "生年月日", "郵便番号", "職業", "世帯人数"}  # identifiers removed
    sizes = out.group_by(["年齢", "住所", "生年月日", "郵便番号"]).len()["len"]
    assert sizes.min() >= 3
    assert 240 - out.height <= int(240 * 0.05)
    div = out.group_by(["年齢", "住所", "生年月日", "郵便番号"]).agg(pl.col("職業").n_unique())["職業"]
    assert div.min() >= 2
    report = json.loads((tmp_path / "out/residents_anon.report.json").read_text(encoding="utf-8"))
    assert report["verification"]["all_satisfied"]
    assert report["removed_columns"] == ["氏名", "個人番号", "住民ID"]
    assert {c["status"] for c in report["checklist"]} <= {"satisfied", "needs_review"}
    assert report["checklist"][-1]["status"] == "needs_review"  # other measures: always a human decision
    assert report["risk"]["after"]["prosecutor"]["max"] <= 1 / 3
    assert report["risk"]["before"]["uniques"] > report["risk"]["after"]["uniques"] == 0
    html = (tmp_path / "out/residents_anon.report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "http" not in html.split("</title>", 1)[1].replace("http://www.w3.org/2000/svg", "")
    assert summary["nodes_checked"] == report["search"]["nodes_checked"] > 0
    # risk command on the released data, for the same quasi-identifiers
    assert cli.main(["risk", str(tmp_path / "out/residents_anon.csv"), str(path)]) == 0
    risk = json.loads(capsys.readouterr().out)
    assert risk["prosecutor"]["max"] == report["risk"]["after"]["prosecutor"]["max"]


def test_risk_of_raw_data(tmp_path, capsys):
    cfg = base_config(tmp_path)
    path = write_config(tmp_path, cfg)
    assert cli.main(["risk", str(tmp_path / "residents.csv"), str(path), "--out", str(tmp_path / "r.json")]) == 0
    risk = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert risk["records"] == 240 and risk["prosecutor"]["max"] == 1.0 and risk["uniques"] > 0
    assert risk["marketer"] == pytest.approx(risk["classes"] / 240)


def test_table_command(tmp_path, capsys):
    make_data(tmp_path)
    cfg = {"input": "residents.csv", "output": "out/x.csv",
           "tables": [{"name": "職業×世帯", "dimensions": ["職業", "世帯人数"], "primary": {"threshold": 5},
                       "output": "out/jobs_by_household.csv", "dp": {"epsilon": 1.0}}]}
    path = write_config(tmp_path, cfg, "tables.yaml")
    assert cli.main(["table", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)[0]
    assert info["all_protected"] and info["dp"]["epsilon"] == 1.0
    t = pl.read_csv(tmp_path / "out/jobs_by_household.csv", infer_schema=False)
    assert {"職業", "世帯人数", "度数", "秘匿", "DP度数"} <= set(t.columns)
    assert t.filter(pl.col("秘匿") != "")["度数"].null_count() == t.filter(pl.col("秘匿") != "").height


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".tsv"])
def test_other_formats_read_as_text(tmp_path, suffix):
    from kiban.engines.anon.io import read_table, write_table_atomic

    df = pl.DataFrame({"コード": ["001", "12"], "値": ["x", ""]})
    path = tmp_path / f"t{suffix}"
    if suffix == ".tsv":
        path.write_text("コード\t値\n001\tx\n12\t\n", encoding="utf-8")
    else:
        write_table_atomic(df, path)
    back = read_table(path)
    assert back.columns == ["コード", "値"] and back["コード"].to_list() == ["001", "12"]
    assert back["値"].to_list() == ["x", ""]


def test_inline_hierarchy_rows_and_web_refuses_files(tmp_path):
    cfg = base_config(tmp_path)
    cfg["columns"]["職業"]["hierarchy"] = {"rows": [[j, "専門" if j in ("教員", "医療") else "一般", "*"] for j in JOBS]}
    p = prepare(load_config(write_config(tmp_path, cfg)), allow_files=False)
    assert p.sensitive_hierarchies["職業"].source == "inline rows"
    cfg["columns"]["職業"]["hierarchy"] = "jobs.csv"
    e = rule_of(lambda: prepare(load_config(write_config(tmp_path, cfg)), allow_files=False))
    assert e.rule == "files_not_allowed"

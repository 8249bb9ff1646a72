"""The same file gives the same report: examples and sampled values follow the order of the file, not the
order of a hash set (Polars' unique() without maintain_order varies from run to run)."""

from kiban.engines.tidy import check


def test_wareki_examples_are_quoted_in_file_order(tmp_path):
    values = [f"令和{year}年{month}月1日" for year in range(2, 7) for month in range(1, 13)]
    path = tmp_path / "dates.csv"
    rows = "".join(f"東京都,{v},{i}\n" for i, v in enumerate(values))
    path.write_text("地域,日付,人数\n" + rows, encoding="utf-8")

    findings = [f for f in check(path).as_dict()["findings"] if f["rule"] == "L3-05"]

    assert len(findings) == 1
    assert findings[0]["examples"][:5] == values[:5]
    assert f"（{values[0]} など 60 セル）" in findings[0]["message"]
    assert check(path).as_dict()["findings"] == check(path).as_dict()["findings"]

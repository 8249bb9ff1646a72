"""Round trip: a tidy table rendered into a "printed" layout (title, merged multi-row headers, 和暦,
full-width digits, symbols, notes, a totals row) converts back to exactly the same tidy table."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment

from kiban.engines.tidy import check, convert
from kiban.engines.tidy.normalize import to_wareki

ZEN = str.maketrans("0123456789,", "０１２３４５６７８９，")
REGIONS = ["北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"]
SEXES = ["男", "女"]
SYMBOLS = {"-": "該当なし", "x": "秘匿", "…": "不詳"}


def tidy_table(years: list[int], seed: int = 1) -> pl.DataFrame:
    """The truth: one observation per row (地域, 年度, 性別, 値, 単位, 状態)."""
    rng = random.Random(seed)
    rows = []
    for region in REGIONS:
        for year in years:
            for sex in SEXES:
                x = rng.random()
                if x < 0.1:
                    sym = rng.choice(list(SYMBOLS))
                    rows.append((region, str(year), sex, None, "人", SYMBOLS[sym], sym))
                else:
                    v = rng.randint(-5000, 2_000_000) if x < 0.2 else rng.randint(0, 2_000_000)
                    rows.append((region, str(year), sex, v, "人", None, None))
    df = pl.DataFrame(rows, schema={"地域": pl.Utf8, "年度": pl.Utf8, "性別": pl.Utf8, "値": pl.Int64, "単位": pl.Utf8,
                                    "状態": pl.Utf8, "_sym": pl.Utf8}, orient="row")
    return df


def fiscal_label(year: int) -> str:
    """2019 → 令和元年度 (as a printed table writes it)."""
    w = to_wareki(dt.date(year, 6, 1))
    return w[: w.index("年") + 1] + "度"


def render_printed(df: pl.DataFrame, path, *, corner_labels: bool) -> None:
    """Lay the tidy table out as a typical printed Japanese table."""
    years = list(dict.fromkeys(df["年度"].to_list()))
    wb = Workbook()
    ws = wb.active
    ws.title = "第1表"
    ncol = 1 + 2 * len(years)
    ws.append(["第１表　都道府県別・年度別・男女別　人数（単位：人）"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
    ws.append([])
    r0 = 3
    ws.cell(r0, 1, "年度" if corner_labels else "地域")
    ws.cell(r0 + 1, 1, "性別" if corner_labels else None)
    for i, y in enumerate(years):
        ws.cell(r0, 2 + 2 * i, fiscal_label(int(y)))
        ws.merge_cells(start_row=r0, start_column=2 + 2 * i, end_row=r0, end_column=3 + 2 * i)
        for j, s in enumerate(SEXES):
            ws.cell(r0 + 1, 2 + 2 * i + j, s)
    if corner_labels:
        ws.cell(r0 + 2, 1, "地域")  # the row of row-header names (as in Titanic)
        first = r0 + 3
    else:
        ws.merge_cells(start_row=r0, start_column=1, end_row=r0 + 1, end_column=1)
        first = r0 + 2
    by = {(r["地域"], r["年度"], r["性別"]): r for r in df.iter_rows(named=True)}
    totals = [0] * (ncol - 1)
    for k, region in enumerate(REGIONS):
        row = first + k
        ws.cell(row, 1, "\u3000".join(region) if k % 2 else region)  # 「青　森　県」 style padding
        for i, y in enumerate(years):
            for j, s in enumerate(SEXES):
                rec = by[(region, y, s)]
                if rec["_sym"]:
                    text = rec["_sym"]
                elif rec["値"] < 0:
                    text = "△" + f"{-rec['値']:,}".translate(ZEN)
                    totals[2 * i + j] += rec["値"]
                elif rec["値"] % 3 == 0:
                    text = rec["値"]  # some cells are real numbers
                    totals[2 * i + j] += rec["値"]
                else:
                    text = f"{rec['値']:,}".translate(ZEN)
                    totals[2 * i + j] += rec["値"]
                ws.cell(row, 2 + 2 * i + j, text).alignment = Alignment(horizontal="right")
    trow = first + len(REGIONS)
    ws.cell(trow, 1, "合　計")
    for c, v in enumerate(totals):
        ws.cell(trow, 2 + c, v)
    ws.cell(trow + 2, 1, "注1）「-」は該当なし、「x」は秘匿、「…」は不詳を示す。「△」は負数。")
    ws.cell(trow + 3, 1, "資料：テスト用に生成した表")
    wb.save(path)


def expected(df: pl.DataFrame) -> pl.DataFrame:
    return df.drop("_sym")


def as_plain(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns([pl.col(c).cast(pl.Utf8) for c, t in df.schema.items() if t == pl.Categorical])


def test_printed_layout_round_trip_automatic(tmp_path):
    truth = tidy_table([2018, 2019, 2020, 2021])
    path = tmp_path / "printed.xlsx"
    render_printed(truth, path, corner_labels=True)
    res = convert(path, tmp_path / "out")
    assert list(res.frames) == ["printed"]
    got = as_plain(res.frames["printed"])
    assert got.equals(expected(truth)), (got.head(8), expected(truth).head(8))
    # the CSV written is the same table
    back = pl.read_csv(tmp_path / "out" / "printed.csv", schema_overrides={"年度": pl.Utf8})
    assert back.equals(expected(truth))
    info = res.report.tables[0]
    assert info["totals_dropped"] and info["symbols_legend"]["x"] == "秘匿"
    assert "資料：テスト用に生成した表" in info["notes"]


def test_printed_layout_round_trip_with_recipe_reused_next_year(tmp_path):
    """Japanese corner (「地域」 merged over two header rows, no level names): the first conversion's recipe
    names the levels once; the same recipe converts next year's file (more columns) exactly (L3-07)."""
    this_year = tidy_table([2019, 2020], seed=2)
    path = tmp_path / "r2.xlsx"
    render_printed(this_year, path, corner_labels=False)
    first = convert(path, tmp_path / "o1")
    recipe = first.recipe
    sheet = recipe["sheets"]["第1表"]
    assert sheet["melt"] is True and sheet["header_rows"] == 2
    sheet["level_names"] = ["年度", "性別"]  # the one human edit
    got = as_plain(convert(path, tmp_path / "o2", recipe=recipe).frames["r2"])
    assert got.equals(expected(this_year))
    next_year = tidy_table([2019, 2020, 2021], seed=3)
    path2 = tmp_path / "r3.xlsx"
    render_printed(next_year, path2, corner_labels=False)
    got2 = as_plain(convert(path2, tmp_path / "o3", recipe=recipe).frames["r3"])
    assert got2.equals(expected(next_year))


def test_printed_layout_is_reported(tmp_path):
    truth = tidy_table([2019, 2020])
    path = tmp_path / "printed.xlsx"
    render_printed(truth, path, corner_labels=False)
    rules = {f.rule for f in check(path).findings}
    for rule in ("L1-04", "L1-06", "L1-12", "L2-01", "L2-03", "L3-01", "L3-05", "L3-06", "L3-09"):
        assert rule in rules, rule


def test_seed_table_12_1(tmp_path):
    """The Digital Agency's cleansing example (seed 002, 表12-1): wide table of distinct measures stays
    wide, with 「人口_総数」-style names, 「北 海 道」→「北海道」 and separators removed."""
    wb = Workbook()
    ws = wb.active
    ws.append(["表 12-1 都道府県、性別人口、人口性比、人口密度および人口増加率：2020年"])
    ws.append(["都道府県", "人口 (1,000人)", None, None, "人口性比 (女100につき男)", "人口密度 (1km2当たり)",
               "人口増加率 (%)", None, None])
    ws.append([None, "総数", "男", "女", None, None, "総数", "自然増", "社会増"])
    ws.append(["全 国", "126,146", "61,350", "64,797", 94.7, 338, -0.32, -0.40, 0.07])
    ws.append(["北 海 道", "5,225", "2,465", "2,760", 89.3, 67, -0.66, -0.65, -0.01])
    ws.append(["青 森", "1,238", "583", "655", 89.1, 128, -1.17, -0.88, -0.30])
    ws.merge_cells("A2:A3")
    ws.merge_cells("B2:D2")
    ws.merge_cells("G2:I2")
    ws.merge_cells("E2:E3")
    ws.merge_cells("F2:F3")
    path = tmp_path / "t12_1.xlsx"
    wb.save(path)
    res = convert(path, tmp_path / "out")
    df = res.frames["t12_1"]
    assert df.columns == ["都道府県", "人口_総数", "人口_男", "人口_女", "人口性比", "人口密度", "人口増加率_総数",
                          "人口増加率_自然増", "人口増加率_社会増"]
    assert df["都道府県"].to_list() == ["全国", "北海道", "青森"]
    assert df["人口_総数"].to_list() == [126146, 5225, 1238]
    assert df["人口増加率_社会増"].to_list() == [0.07, -0.01, -0.30]
    fields = {f["name"]: f for f in res.datapackage["resources"][0]["schema"]["fields"]}
    assert fields["人口_総数"].get("unit") == "1,000人"


def test_nested_section_rows_by_indentation_become_one_column_each(tmp_path):
    """Label-only rows nested by indentation (「男性」 over 「　年少」 over 「　　0～4歳」) give one 区分 column
    per level, outermost first; a row indented less than the data (「　計」) belongs to the outer level only."""
    from openpyxl import Workbook

    rows = [["年齢", "人数（人）"]]
    for sex, base in (("男性", 10), ("女性", 20)):
        rows += [[sex, None], ["　年少", None], ["　　0～4歳", base], ["　　5～9歳", base + 1],
                 ["　年長", None], ["　　10～14歳", base + 2], ["　　15～19歳", base + 3], ["　計", 4 * base + 6]]
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    path = tmp_path / "nested.xlsx"
    wb.save(path)
    frame = next(iter(convert(path).frames.values()))
    assert frame.columns[:3] == ["区分1", "区分2", "年齢"]
    got = frame.select("区分1", "区分2", "年齢").rows()
    # (labels are cleaned as everywhere: NFKC turns 「～」 into 「~」)
    assert got[:5] == [("男性", "年少", "0~4歳"), ("男性", "年少", "5~9歳"), ("男性", "年長", "10~14歳"),
                       ("男性", "年長", "15~19歳"), ("男性", None, "計")]
    assert got[5] == ("女性", "年少", "0~4歳") and len(got) == 10

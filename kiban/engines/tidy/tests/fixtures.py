"""Generated fixtures (openpyxl / csv): for every rule the checker judges, one file that breaks it and one
that does not. The passing file is the clean base table, or the same table with the problem fixed."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import PatternFill

HEADER = ["地域コード", "都道府県", "区分", "年", "人口（人）", "世帯数（世帯）"]
DATA = [
    ["010006", "北海道", "一般", 2020, 5224614, 2476846],
    ["020001", "青森県", "特別", 2020, 1237984, 511526],
    ["030007", "岩手県", "一般", 2020, 1210534, 492049],
    ["040002", "宮城県", "特別", 2020, 2301996, 982523],
    ["050008", "秋田県", "一般", 2020, 959502, 385187],
    ["060003", "山形県", "特別", 2020, 1068027, 398015],
]


def table() -> tuple[list, list[list]]:
    return list(HEADER), copy.deepcopy(DATA)


def write_xlsx(path: Path, rows: list[list], *, edit=None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "データ"
    for row in rows:
        ws.append(row)
    if edit:
        edit(wb, ws)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], encoding="utf-8", raw: str | None = None) -> Path:
    if raw is not None:
        path.write_bytes(raw.encode(encoding))
        return path
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def clean(tmp: Path, name="clean.xlsx") -> Path:
    h, d = table()
    return write_xlsx(tmp / name, [h, *d])


# ---------------------------------------------------------------------------------------------------------
# one breaking file per rule; each returns the path


def bad_L1_01(tmp):  # CSV in Shift_JIS (not UTF-8): format / encoding
    h, d = table()
    return write_csv(tmp / "sjis.csv", [h, *d], encoding="cp932")


def good_L1_01(tmp):
    h, d = table()
    return write_csv(tmp / "utf8.csv", [h, *d])


def bad_L1_02(tmp):  # a second, different table below the first
    h, d = table()
    return write_xlsx(tmp / "two.xlsx", [h, *d, [], [], ["品目", "数量（個）", "単価（円）"], ["りんご", 10, 100],
                                          ["みかん", 20, 50], ["ぶどう", 5, 300]])


def bad_L1_03(tmp):  # the same table split over two sheets
    h, d = table()

    def edit(wb, ws):
        ws2 = wb.create_sheet("続き")
        ws2.append(h)
        for row in d[3:]:
            ws2.append(row)
        for _ in range(3):
            ws.delete_rows(ws.max_row)

    return write_xlsx(tmp / "split.xlsx", [h, *d], edit=edit)


def bad_L1_04(tmp):  # notes below the table
    h, d = table()
    return write_xlsx(tmp / "notes.xlsx", [h, *d, [], ["注）人口は10月1日現在。"], ["資料：国勢調査"]])


def bad_L1_05(tmp):  # a column without a header
    h, d = table()
    h[5] = None
    return write_xlsx(tmp / "nohead.xlsx", [h, *d])


def bad_L1_06(tmp):  # spaces used for layout
    h, d = table()
    for row in d:
        row[2] = row[2][0] + "\u3000" + row[2][1:]
    return write_xlsx(tmp / "spaces.xlsx", [h, *d])


def bad_L1_07(tmp):  # code and name in one cell
    h, d = table()
    for row in d:
        row[1] = row[0][:2] + row[1]
    return write_xlsx(tmp / "fused.xlsx", [h, *d])


def bad_L1_08(tmp):  # platform-dependent characters
    h, d = table()
    d[0][2] = "①一般"
    d[1][2] = "㈱特別"
    return write_xlsx(tmp / "izon.xlsx", [h, *d])


def bad_L1_09(tmp):  # a blank among numbers
    h, d = table()
    d[2][5] = None
    return write_xlsx(tmp / "blank.xlsx", [h, *d])


def bad_L1_10(tmp):  # a chart object on the data sheet
    h, d = table()

    def edit(wb, ws):
        chart = BarChart()
        chart.add_data(Reference(ws, min_col=5, min_row=1, max_row=7), titles_from_data=True)
        ws.add_chart(chart, "H2")

    return write_xlsx(tmp / "chart.xlsx", [h, *d], edit=edit)


def bad_L1_11(tmp):  # meaning carried by a fill colour on a few cells
    h, d = table()

    def edit(wb, ws):
        for ref in ("E3", "E5"):
            ws[ref].fill = PatternFill("solid", fgColor="FFFF00")

    return write_xlsx(tmp / "fill.xlsx", [h, *d], edit=edit)


def bad_L1_12(tmp):  # merged cells
    h, d = table()
    d[1][2] = d[0][2]

    def edit(wb, ws):
        ws.merge_cells("C2:C3")

    return write_xlsx(tmp / "merged.xlsx", [h, *d], edit=edit)


def bad_L1_13(tmp):  # a hidden row
    h, d = table()

    def edit(wb, ws):
        ws.row_dimensions[4].hidden = True

    return write_xlsx(tmp / "hidden.xlsx", [h, *d], edit=edit)


def bad_L1_14(tmp):  # a newline inside a field: one record over two lines
    h, d = table()
    d[1][2] = "特\n別"
    return write_csv(tmp / "newline.csv", [h, *d])


def bad_L1_15(tmp):  # an unquoted comma inside a number shifts the columns
    h, d = table()
    lines = [",".join(h)] + [",".join(str(v) for v in row) for row in d]
    lines[3] = lines[3].replace(",1210534,", ",1,210,534,")
    return write_csv(tmp / "comma.csv", [], raw="\n".join(lines) + "\n")


def good_L1_15(tmp):
    h, d = table()
    d[2][4] = "1,210,534"  # quoted by the csv writer: fine for L1-15 (L2-01 is another matter)
    return write_csv(tmp / "quoted.csv", [h, *d])


def bad_L2_01(tmp):  # numbers as full-width text with separators
    h, d = table()
    for row in d:
        row[4] = f"{row[4]:,}".translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))
    return write_xlsx(tmp / "zenkaku.xlsx", [h, *d])


def _two_years() -> tuple[list, list[list]]:
    h, d = table()
    rows = []
    for row in d[:3]:
        rows.append(list(row))
        nxt = list(row)
        nxt[3] = 2021
        nxt[4] += 1000
        rows.append(nxt)
    return h, rows


def bad_L2_02(tmp):  # repeated values omitted
    h, rows = _two_years()
    for i in range(1, len(rows), 2):
        rows[i][0] = rows[i][1] = rows[i][2] = None
    return write_xlsx(tmp / "omit.xlsx", [h, *rows])


def good_L2_02(tmp):
    h, rows = _two_years()
    return write_xlsx(tmp / "full.xlsx", [h, *rows])


def bad_L2_03(tmp):  # two header rows
    _h, d = table()
    top = ["地域", "", "", "", "人口等", ""]
    sub = ["コード", "都道府県", "区分", "年", "人口（人）", "世帯数（世帯）"]
    return write_xlsx(tmp / "twohead.xlsx", [top, sub, *d])


def bad_L2_04(tmp):  # the same choice spelt differently
    h, d = table()
    h[2] = "該当"
    for i, row in enumerate(d):
        row[2] = ("有", "あり", "無", "なし", "有", "無")[i]
    return write_xlsx(tmp / "choices.xlsx", [h, *d])


def good_L2_04(tmp):
    h, d = table()
    h[2] = "該当"
    for i, row in enumerate(d):
        row[2] = ("有", "有", "無", "無", "有", "無")[i]
    return write_xlsx(tmp / "choices_ok.xlsx", [h, *d])


def bad_L2_06(tmp):  # a formula left in
    h, d = table()

    def edit(wb, ws):
        ws["F2"] = "=E2/2"

    return write_xlsx(tmp / "formula.xlsx", [h, *d], edit=edit)


def bad_L3_01(tmp):  # a title and an empty row above the header
    h, d = table()
    return write_xlsx(tmp / "title.xlsx", [["都道府県別人口"], [], h, *d])


def bad_L3_03(tmp):  # a confidentiality mark with no definition
    h, d = table()
    d[1][5] = "x"
    return write_xlsx(tmp / "symbol.xlsx", [h, *d])


def good_L3_03(tmp):  # the same mark, defined in a legend (the legend row is itself an L1-04 matter)
    h, d = table()
    d[1][5] = "x"
    return write_xlsx(tmp / "symbol_ok.xlsx", [h, *d, [], ["注）「x」は秘匿を示す。"]])


def bad_L3_04(tmp):  # no unit anywhere
    h, d = table()
    h[4], h[5] = "人口", "世帯数"
    return write_xlsx(tmp / "nounit.xlsx", [h, *d])


def bad_L3_05(tmp):  # 和暦 without 西暦
    h, d = table()
    for row in d:
        row[3] = "令和2年"
    return write_xlsx(tmp / "wareki.xlsx", [h, *d])


def good_L3_05(tmp):
    h, d = table()
    for row in d:
        row[3] = "令和2年（2020年）"
    return write_xlsx(tmp / "wareki_ok.xlsx", [h, *d])


def bad_L3_06(tmp):  # region names without codes (and abbreviated)
    h, d = table()
    h = h[1:]
    d = [row[1:] for row in d]
    for row in d:
        row[0] = row[0].rstrip("県")
    return write_xlsx(tmp / "region.xlsx", [h, *d])


def bad_L3_09(tmp):  # a cross table: years across the columns
    rows = [["都道府県コード", "都道府県", "2019", "2020", "2021"]]
    for row in DATA:
        rows.append([row[0], row[1], row[4] - 100, row[4], row[4] + 100])
    rows[0][2:] = [2019, 2020, 2021]
    return write_xlsx(tmp / "cross.xlsx", [["人口（単位：人）"], *rows])


def good_L3_09(tmp):
    rows = [["都道府県コード", "都道府県", "年", "人口（人）"]]
    for row in DATA:
        for y, dv in ((2019, -100), (2020, 0), (2021, 100)):
            rows.append([row[0], row[1], y, row[4] + dv])
    return write_xlsx(tmp / "long.xlsx", rows)


RULE_CASES = {
    "L1-01": (bad_L1_01, good_L1_01),
    "L1-02": (bad_L1_02, clean),
    "L1-03": (bad_L1_03, clean),
    "L1-04": (bad_L1_04, clean),
    "L1-05": (bad_L1_05, clean),
    "L1-06": (bad_L1_06, clean),
    "L1-07": (bad_L1_07, clean),
    "L1-08": (bad_L1_08, clean),
    "L1-09": (bad_L1_09, clean),
    "L1-10": (bad_L1_10, clean),
    "L1-11": (bad_L1_11, clean),
    "L1-12": (bad_L1_12, clean),
    "L1-13": (bad_L1_13, clean),
    "L1-14": (bad_L1_14, good_L1_01),
    "L1-15": (bad_L1_15, good_L1_15),
    "L2-01": (bad_L2_01, clean),
    "L2-02": (bad_L2_02, good_L2_02),
    "L2-03": (bad_L2_03, clean),
    "L2-04": (bad_L2_04, good_L2_04),
    "L2-06": (bad_L2_06, clean),
    "L3-01": (bad_L3_01, clean),
    "L3-03": (bad_L3_03, good_L3_03),
    "L3-04": (bad_L3_04, clean),
    "L3-05": (bad_L3_05, good_L3_05),
    "L3-06": (bad_L3_06, clean),
    "L3-09": (bad_L3_09, good_L3_09),
}

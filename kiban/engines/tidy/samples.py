"""Generated messy spreadsheets (サンプル生成) for the benchmark, the tests and demos.

`write_messy_xlsx` writes the XLSX XML directly (shared strings, merged 2-row header, title, notes), because
openpyxl needs minutes for 100,000 × 20 cells. The data are deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from .normalize import to_wareki
from .reader import col_letter
from .regions import PREFECTURES

GROUPS = ("人口", "世帯員", "就業者", "通学者", "転入者", "転出者")
SUBS = ("総数", "男", "女")
TITLE = "表1　都道府県別・日別の人口動態（令和元年～令和6年）"
NOTES = (
    "注1）「-」は該当なし、「…」は不詳、「x」は秘匿、「△」は負数を示す。",
    "注2）単位：人",
    "資料：サンプル生成データ（kiban tidy ベンチマーク用）",
)
_FW = str.maketrans("0123456789,", "０１２３４５６７８９，")


def messy_rows(n: int, seed: int = 0) -> list[list]:
    """n data rows: 和暦 date, region, 18 values (~40% numbers, ~40% 全角 strings, ~20% symbols)."""
    rng = random.Random(seed)
    start = dt.date(2019, 4, 1)  # crosses 平成31年4月30日 → 令和元年5月1日
    out = []
    for i in range(n):
        d = start + dt.timedelta(days=i % 2000)
        pref = PREFECTURES[i % 47]
        row: list = [to_wareki(d), pref if i % 11 else pref[0] + "\u3000" + pref[1:]]
        for _ in range(18):
            x = rng.random()
            v = rng.randint(0, 99999)
            if x < 0.4:
                row.append(float(v))
            elif x < 0.8:
                row.append(f"{v:,}".translate(_FW))
            else:
                row.append(rng.choice(("-", "…", "x", f"△{rng.randint(1, 999)}")))
        out.append(row)
    return out


def header_rows() -> tuple[list, list]:
    top = ["年月日", "地域"]
    sub = ["", ""]
    for g in GROUPS:
        top += [g, "", ""]
        sub += list(SUBS)
    return top, sub


def write_messy_csv(path: str | Path, n: int, seed: int = 0, encoding: str = "utf-8") -> Path:
    import csv

    path = Path(path)
    top, sub = header_rows()
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow([TITLE])
        w.writerow([])
        w.writerow(top)
        w.writerow(sub)
        for row in messy_rows(n, seed):
            w.writerow([int(v) if isinstance(v, float) else v for v in row])
        w.writerow([])
        for note in NOTES:
            w.writerow([note])
    return path


def write_messy_xlsx(path: str | Path, n: int, seed: int = 0) -> Path:
    """The benchmark workbook: title (merged), blank row, merged 2-row header, n data rows, notes."""
    path = Path(path)
    top, sub = header_rows()
    sst: dict[str, int] = {}

    def s(v: str) -> int:
        i = sst.get(v)
        if i is None:
            i = sst[v] = len(sst)
        return i

    rows_xml: list[str] = []

    def add_row(r: int, values: list, style: int = 0) -> None:
        cells = []
        for c, v in enumerate(values):
            if v is None or v == "":
                continue
            ref = f"{col_letter(c)}{r}"
            st = f' s="{style}"' if style else ""
            if isinstance(v, float):
                cells.append(f'<c r="{ref}"{st}><v>{int(v) if v.is_integer() else v}</v></c>')
            else:
                cells.append(f'<c r="{ref}"{st} t="s"><v>{s(v)}</v></c>')
        rows_xml.append(f'<row r="{r}">{"".join(cells)}</row>')

    add_row(1, [TITLE])
    add_row(3, top, 1)
    add_row(4, sub, 1)
    data = messy_rows(n, seed)
    for i, row in enumerate(data):
        add_row(5 + i, row)
    last = 4 + n
    for k, note in enumerate(NOTES):
        add_row(last + 2 + k, [note])
    merges = ["A1:T1", "A3:A4", "B3:B4"] + [f"{col_letter(2 + 3 * g)}3:{col_letter(4 + 3 * g)}3" for g in range(6)]
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:T{last + 1 + len(NOTES)}"/><sheetData>' + "".join(rows_xml) + "</sheetData>"
        f'<mergeCells count="{len(merges)}">' + "".join(f'<mergeCell ref="{m}"/>' for m in merges) + "</mergeCells>"
        "</worksheet>"
    )
    strings = "".join(f"<si><t>{escape(k)}</t></si>" for k in sst)
    sst_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(sst)}" '
               f'uniqueCount="{len(sst)}">{strings}</sst>')
    styles = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="2"><font><sz val="11"/><name val="Yu Gothic"/></font><font><b/><sz val="11"/>'
        '<name val="Yu Gothic"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
        '</fill></fills><borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs></styleSheet>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.styles+xml"/></Types>'))
        zf.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        zf.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="人口動態" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        zf.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'styles" Target="styles.xml"/></Relationships>'))
        zf.writestr("xl/styles.xml", styles)
        zf.writestr("xl/sharedStrings.xml", sst_xml)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
    return path

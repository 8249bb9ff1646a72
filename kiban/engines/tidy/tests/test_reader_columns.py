"""The XLSX column reader (fastexcel → Arrow) must give exactly the cells of the cell-by-cell reader
(python-calamine), including the text cells that read like a number, a date or a boolean (「12345」 typed
as text is rule L2-01), which fastexcel alone cannot tell from numbers."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from kiban.core.paths import shared_path
from kiban.engines.tidy import check
from kiban.engines.tidy.reader import Deadline, Limits, XlsxScan, _read_typed, _read_xlsx_columns, read_book


def both(path: Path):
    """(column reader, cell-by-cell reader) books of the same file."""
    xml = XlsxScan(path)
    fast = _read_xlsx_columns(path, "xlsx", path.stat().st_size, Limits(), Deadline(60), None, xml)
    typed = _read_typed(path, "xlsx", path.stat().st_size, Limits(), Deadline(60), None, XlsxScan(path))
    return fast, typed


def grid_values(sheet) -> list[list]:
    """Every cell as the layout analysis sees it; calamine's ints and dates compared as their text."""
    out = []
    for r in range(sheet.n_rows):
        out.append([sheet.grid.cell(r, c) for c in range(sheet.n_cols)])
    return out


def assert_same(path: Path) -> None:
    fast, typed = both(path)
    assert [s.name for s in fast.sheets] == [s.name for s in typed.sheets]
    for a, b in zip(fast.sheets, typed.sheets):
        va, vb = grid_values(a), grid_values(b)
        # calamine's range can end with empty rows/columns that fastexcel leaves out: both are empty
        h, w = max(len(va), len(vb)), max(a.n_cols, b.n_cols)
        va = [r + [""] * (w - len(r)) for r in va] + [[""] * w] * (h - len(va))
        vb = [r + [""] * (w - len(r)) for r in vb] + [[""] * w] * (h - len(vb))
        assert va == vb, a.name
        for c in range(w):
            ta = a.grid.text[c].to_list() if c < a.n_cols else []
            tb = b.grid.text[c].to_list() if c < b.n_cols else []
            ta += [None] * (h - len(ta))
            tb += [None] * (h - len(tb))
            assert ta == tb, (a.name, c)
        assert sorted(a.merges) == sorted(b.merges)
        assert a.hidden == b.hidden


def test_types_and_offsets_match_the_cell_reader(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    ws["C5"] = "地域"
    ws["D5"] = "人口"
    rows = [
        ("北海道", 5224614), ("12345", 1.5), ("007", -0.0), ("１２，３４５", 1e21), ("true", True),
        ("2020-01-02 00:00:00", dt.date(2020, 1, 2)), ("-", dt.datetime(2020, 1, 2, 10, 30)),
        ("  ", 0.1), ("x", 123456789012345678), ("3.0", 3.0),
    ]
    for i, (a, b) in enumerate(rows, start=6):
        ws.cell(i, 3, a)
        ws.cell(i, 4, b)
    ws.merge_cells("C20:D21")
    ws["C20"] = "注）単位：人"
    hidden = wb.create_sheet("隠し")
    hidden["A1"] = 1
    hidden.sheet_state = "hidden"
    wb.create_sheet("空")
    path = tmp_path / "types.xlsx"
    wb.save(path)
    assert_same(path)
    fast, _ = both(path)
    sheet = fast.sheets[0]
    assert sheet.grid.cell(6, 2) == "12345" and sheet.grid.cell(6, 3) == 1.5  # text stays text
    assert sheet.grid.cell(7, 2) == "007"
    assert sheet.grid.text[3][10] == "2020-01-02"
    assert fast.sheets[1].hidden


def _rewrite_sheet(path: Path, edit) -> None:
    """Rewrite the first sheet's XML inside the zip (for cell kinds openpyxl does not write)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            dst.writestr(info, data)
    tmp.replace(path)


def test_inline_strings_and_formula_text_results_stay_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["名前", "値"])
    for i, name in enumerate("abcdefghij", start=1):
        ws.append([name, i])
    path = tmp_path / "inline.xlsx"
    wb.save(path)

    def edit(xml: str) -> str:
        xml = re.sub(r'<c r="B2"[^>]*>.*?</c>', '<c r="B2" t="inlineStr"><is><t>100</t></is></c>', xml)
        xml = re.sub(r'<c r="B3"[^>]*>.*?</c>', '<c r="B3" t="str"><f>TEXT(1,"0")</f><v>200</v></c>', xml)
        return re.sub(r'<c r="B4"[^>]*>.*?</c>', '<c r="B4" t="inlineStr"><is><t>三百</t></is></c>', xml)

    _rewrite_sheet(path, edit)
    assert_same(path)
    fast, _ = both(path)
    assert [fast.sheets[0].grid.cell(r, 1) for r in (1, 2, 3)] == ["100", "200", "三百"]
    report = check(path)
    l201 = [f for f in report.findings if f.rule == "L2-01"]
    assert l201 and l201[0].count == 3 and {"B2", "B3", "B4"} <= set(l201[0].ranges), "numbers typed as text"


def test_numbers_keep_every_digit(tmp_path):
    """fastexcel writes numbers as Excel shows them (9 decimals at most); the XML gives the exact value."""
    values = [2 / 3, 1e-10, 2.863055662600775e-136, 123456.78901234567, 1.5e300, -1 / 7, 0.5]
    wb = Workbook()
    ws = wb.active
    ws.append(["比率"])
    for v in values:
        ws.append([v])
    ws["B2"] = "=A2*1"  # a formula cell with a cached long value
    path = tmp_path / "long.xlsx"
    wb.save(path)
    _rewrite_sheet(path, lambda xml: xml.replace('<f>A2*1</f><v></v>', '<f>A2*1</f><v>0.66666666666666663</v>')
                   .replace("<f>A2*1</f><v />", "<f>A2*1</f><v>0.66666666666666663</v>"))
    assert_same(path)
    fast, _ = both(path)
    # openpyxl writes 15-16 significant digits; fastexcel alone would give 0.666666667 and 0 for 1e-10
    assert [fast.sheets[0].grid.cell(r, 0) for r in range(1, len(values) + 1)] == pytest.approx(values, rel=1e-15)
    assert fast.sheets[0].grid.cell(1, 1) == 2 / 3


def test_cells_without_a_reference_fall_back_to_the_cell_reader(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["名前", "値"])
    ws.append(["a", "12"])  # a shared string that reads like a number
    ws.append(["b", 5])
    path = tmp_path / "noref.xlsx"
    wb.save(path)
    _rewrite_sheet(path, lambda xml: re.sub(r'<c r="[A-Z]+\d+"', "<c", xml))
    book = read_book(path)
    assert book.sheets[0].grid.cell(1, 1) == "12"
    assert book.sheets[0].grid.cell(2, 1) == 5.0


cell_values = st.one_of(
    st.none(),
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda x: abs(x) < 1e15),
    st.text(alphabet="0123456789.-,０１２ △x…年月日令和", max_size=8),
    st.sampled_from(["true", "false", "1", "-1", "1.50", "2020-01-02 00:00:00", "0"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grid=st.lists(st.lists(cell_values, min_size=1, max_size=5), min_size=1, max_size=8))
def test_any_grid_reads_the_same_both_ways(tmp_path, grid):
    wb = Workbook()
    ws = wb.active
    for row in grid:
        ws.append(row)
    path = tmp_path / "h.xlsx"
    wb.save(path)
    if not any(v not in (None, "") for row in grid for v in row):
        return
    assert_same(path)


def test_eval_workbooks_read_the_same_both_ways():
    root = shared_path("eval", "tidy")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".xlsx", ".xlsm")) if root else []
    if not files:
        pytest.skip("../shared/eval/tidy is not here (CI has it)")
    for path in files:
        assert_same(path)


def test_rich_text_runs_that_read_like_a_number_stay_text(tmp_path):
    """A shared string split into formatted runs (「1」+「2」 in bold) reads like 12 and is text."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    wb = Workbook()
    ws = wb.active
    ws.append(["名前", "値"])
    ws.append(["a", CellRichText(["1", TextBlock(InlineFont(b=True), "2")])])
    ws.append(["b", 3])
    path = tmp_path / "rich.xlsx"
    wb.save(path)
    assert_same(path)
    fast, _ = both(path)
    assert fast.sheets[0].grid.cell(1, 1) == "12" and fast.sheets[0].grid.cell(2, 1) == 3.0

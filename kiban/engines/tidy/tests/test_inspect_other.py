"""Layout inspection of ODS and XLS (ODS・XLS の書式・構造の点検): hidden rows and columns, merges, formulas,
comments, drawings, meaning-bearing formats and hidden sheets, at the coordinates of calamine's grid.

ODS fixtures are written here as XML in a zip; XLS fixtures with xlwt (test-only), plus the real .xls files of
the evaluation set under ../shared when it is there."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import python_calamine as pc

from kiban.engines.tidy.errors import TidyError
from kiban.engines.tidy.inspect_other import SheetFacts, inspect_ods, inspect_xls
from kiban.engines.tidy.reader import Deadline

EVAL_XLS = Path(__file__).resolve().parents[4].parent / "shared" / "eval" / "tidy"

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
      'xmlns:xlink="http://www.w3.org/1999/xlink" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/" '
      'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
      'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2"')

STYLES_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles {NS}><office:styles>
<style:default-style style:family="table-cell"><style:text-properties style:font-name="Liberation Sans"/></style:default-style>
<style:style style:name="Default" style:family="table-cell"/>
<style:style style:name="Bad" style:family="table-cell" style:parent-style-name="Default">
 <style:table-cell-properties fo:background-color="#ffcccc"/><style:text-properties fo:color="#cc0000"/>
</style:style>
</office:styles></office:document-styles>"""

AUTO_STYLES = """
<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style>
<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style>
<style:style style:name="ce1" style:family="table-cell" style:parent-style-name="Default"><style:table-cell-properties fo:background-color="#ffff00"/></style:style>
<style:style style:name="ce2" style:family="table-cell" style:parent-style-name="Default"><style:text-properties fo:color="#ff0000"/></style:style>
<style:style style:name="ce3" style:family="table-cell"><style:text-properties fo:font-style="italic"/></style:style>
<style:style style:name="ce4" style:family="table-cell"><style:text-properties style:text-line-through-style="solid"/></style:style>
<style:style style:name="ce5" style:family="table-cell" style:parent-style-name="Bad"/>
<style:style style:name="ce6" style:family="table-cell"><style:table-cell-properties fo:background-color="transparent"/><style:text-properties fo:color="#000000"/></style:style>
<style:style style:name="ce7" style:family="table-cell"><style:table-cell-properties fo:background-color="#ffffff"/></style:style>
"""


def s(text: str, style: str = "", extra: str = "") -> str:
    """A string cell."""
    st = f' table:style-name="{style}"' if style else ""
    return f'<table:table-cell office:value-type="string"{st}{extra}><text:p>{text}</text:p></table:table-cell>'


def n(value: float, style: str = "", extra: str = "", inner: str = "") -> str:
    """A number cell."""
    st = f' table:style-name="{style}"' if style else ""
    return (f'<table:table-cell office:value-type="float" office:value="{value}"{st}{extra}>{inner}'
            f"<text:p>{value}</text:p></table:table-cell>")


def row(*cells: str, attrs: str = "") -> str:
    return f"<table:table-row{attrs}>{''.join(cells)}</table:table-row>"


COVERED = "<table:covered-table-cell/>"
TRAILING = ('<table:table-row table:number-rows-repeated="1048567" table:visibility="collapse">'
            '<table:table-cell table:style-name="ce1" table:number-columns-repeated="1024"/></table:table-row>')

# データ: every fact the inspection reports, at known places
RICH_TABLE = (
    '<table:table table:name="データ" table:style-name="ta1">'
    '<table:shapes><draw:rect svg:x="1cm" svg:y="1cm" svg:width="2cm" svg:height="1cm"/></table:shapes>'
    '<table:table-column table:default-cell-style-name="Default"/>'
    '<table:table-column table:visibility="collapse"/>'
    '<table:table-column table:number-columns-repeated="2"/>'
    '<table:table-column table:default-cell-style-name="ce1"/>'
    '<table:table-column table:number-columns-repeated="1019"/>'
    + row(s("名前"), s("隠し"), s("値"), s("計"), s("色列"))
    + row(s("a"), n(1), n(2, "ce2"),
          n(3, extra=' table:formula="of:=[.B2]+[.C2]"',
            inner="<office:annotation><dc:creator>担当</dc:creator><text:p>確認済み</text:p></office:annotation>"),
          "<table:table-cell/>")
    + row(s("h"), n(5), attrs=' table:visibility="collapse"')
    + row(s("結合", extra=' table:number-columns-spanned="2" table:number-rows-spanned="2"'), COVERED,
          n(7, "ce1"), s("i", "ce3"))
    + row(COVERED, COVERED, s("s", "ce4"), s("bad", "ce5"))
    + row(s("r", extra=' table:number-columns-repeated="2"'), n(9, "ce6"), n(1, "ce7"),
          attrs=' table:number-rows-repeated="3"')
    + row('<table:table-cell office:value-type="string"><draw:frame svg:width="1cm" svg:height="1cm">'
          '<draw:image xlink:href="Pictures/1.png"/></draw:frame><text:p>img</text:p></table:table-cell>',
          '<table:table-cell office:value-type="string"><draw:frame svg:width="5cm" svg:height="3cm">'
          '<draw:object xlink:href="./Object 1"/><draw:image xlink:href="./ObjectReplacements/Object 1"/>'
          "</draw:frame><text:p>chart</text:p></table:table-cell>")
    + TRAILING
    + "</table:table>"
)
HIDDEN_TABLE = ('<table:table table:name="隠し" table:style-name="ta2"><table:table-column/>'
                + row(s("x")) + "</table:table>")
CLEAN_TABLE = ('<table:table table:name="表" table:style-name="ta1">'
               '<table:table-column table:number-columns-repeated="1024"/>'
               + row(s("地域"), s("人口")) + row(s("北海道"), n(5224614)) + row(s("青森県"), n(1237984))
               + '<table:table-row table:number-rows-repeated="1048573">'
               '<table:table-cell table:number-columns-repeated="1024"/></table:table-row></table:table>')

MANIFEST_CHART = ('<manifest:file-entry manifest:full-path="Object 1/" '
                  'manifest:media-type="application/vnd.oasis.opendocument.chart"/>')


def write_ods(path: Path, tables: str, auto_styles: str = AUTO_STYLES, styles: str = STYLES_XML,
              manifest_extra: str = "") -> Path:
    content = (f'<?xml version="1.0" encoding="UTF-8"?>\n<office:document-content {NS}>'
               f"<office:automatic-styles>{auto_styles}</office:automatic-styles>"
               f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
               "</office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n<manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
                f"{manifest_extra}</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("styles.xml", styles, zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def deadline() -> Deadline:
    return Deadline(60)


def grid(path: Path, name: str) -> list[list]:
    wb = pc.CalamineWorkbook.from_path(str(path))
    return wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def at(rows: list[list], r: int, c: int):
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else None


def nothing_found(f: SheetFacts) -> bool:
    return not (f.hidden or f.hidden_rows or f.hidden_cols or f.formulas or f.formula_count or f.comments
                or f.drawings or f.styled or f.merges)


# ---------------------------------------------------------------------------------------------------------
# ODS


@pytest.fixture
def rich_ods(tmp_path):
    return write_ods(tmp_path / "rich.ods", RICH_TABLE + HIDDEN_TABLE, manifest_extra=MANIFEST_CHART)


def test_ods_reports_every_fact_at_its_cell(rich_ods):
    facts = inspect_ods(rich_ods, None, deadline())
    assert list(facts) == ["データ", "隠し"]
    f = facts["データ"]
    assert f.hidden is False
    assert f.hidden_rows == [2]  # the 1,048,567 collapsed empty rows after the table are not reported
    assert f.hidden_cols == [1]
    assert f.merges == [(3, 0, 4, 1)]
    assert f.formulas == [(1, 3)] and f.formula_count == 1
    assert f.comments == [(1, 3, "確認済み")]  # the author (dc:creator) is not part of the text
    assert sorted(f.drawings) == ["chart", "image", "shape"]
    assert f.styled == {
        "fill": [(0, 4), (1, 4), (3, 2)],  # E1, E2 from the column's default style; C4 its own
        "font_color": [(1, 2)],
        "italic": [(3, 3)],
        "strike": [(4, 2)],
        "fill+font_color": [(4, 3)],  # inherited from the named style "Bad" in styles.xml
    }
    assert f.inspected == {"hidden", "formulas", "formats", "comments", "objects", "merges"}
    assert facts["隠し"].hidden is True


def test_ods_coordinates_are_calamines_grid(rich_ods):
    f = inspect_ods(rich_ods, None, deadline())["データ"]
    rows = grid(rich_ods, "データ")
    assert len(rows) == 9  # calamine does not expand the repeated empty rows either
    assert at(rows, 2, 0) == "h" and at(rows, 0, 1) == "隠し"  # hidden row, hidden column
    assert at(rows, *f.formulas[0]) == 3.0
    assert at(rows, *f.comments[0][:2]) == 3.0
    assert at(rows, *f.merges[0][:2]) == "結合"
    expect = {(0, 4): "色列", (3, 2): 7.0, (1, 2): 2.0, (3, 3): "i", (4, 2): "s", (4, 3): "bad"}
    for cells in f.styled.values():
        for cell in cells:
            if cell in expect:
                assert at(rows, *cell) == expect.pop(cell)
    assert not expect
    # the repeated row and repeated cells land where calamine puts them
    assert [at(rows, r, c) for r in (5, 6, 7) for c in (0, 1, 2)] == ["r", "r", 9.0] * 3
    assert at(rows, 8, 0) == "img"


def test_ods_without_any_of_these_reports_nothing(tmp_path):
    path = write_ods(tmp_path / "clean.ods", CLEAN_TABLE)
    f = inspect_ods(path, None, deadline())["表"]
    assert nothing_found(f), f
    assert "formats" in f.inspected
    assert grid(path, "表")[2] == ["青森県", 1237984.0]


def test_ods_only_the_named_sheets(rich_ods):
    assert list(inspect_ods(rich_ods, ["隠し"], deadline())) == ["隠し"]


def test_ods_repeated_formula_and_style_cells_are_counted(tmp_path):
    table = ('<table:table table:name="T"><table:table-column table:number-columns-repeated="3"/>'
             + row(s("a"), s("b"), s("c"))
             + row(n(1, "ce1", ' table:formula="of:=1" table:number-columns-repeated="3"'),
                   attrs=' table:number-rows-repeated="4"')
             + "</table:table>")
    path = write_ods(tmp_path / "rep.ods", table)
    f = inspect_ods(path, None, deadline())["T"]
    cells = [(r, c) for r in range(1, 5) for c in range(3)]
    assert f.formula_count == 12 and f.formulas == cells
    assert f.styled == {"fill": cells}
    rows = grid(path, "T")
    assert len(rows) == 5 and all(at(rows, r, c) == 1.0 for r, c in cells)


def test_ods_comment_text_and_shape_text(tmp_path):
    long = "長" * 300
    note = (f"<office:annotation><dc:creator>担当</dc:creator><dc:date>2024-01-01</dc:date>"
            f"<text:p>一行目</text:p><text:p>{long}</text:p></office:annotation>")
    shape = ('<table:table-cell><draw:custom-shape svg:width="2cm" svg:height="1cm">'
             "<text:p>図形の文字</text:p></draw:custom-shape></table:table-cell>")
    table = ('<table:table table:name="T"><table:table-column table:number-columns-repeated="3"/>'
             '<table:table-column table:visibility="collapse"/>'
             + row(s("a"), n(1, inner=note)) + row(s("b"), n(2), "<table:table-cell/>", shape)
             + "</table:table>")
    f = inspect_ods(write_ods(tmp_path / "note.ods", table), None, deadline())["T"]
    assert f.comments == [(0, 1, ("一行目\n" + long)[:200])]
    assert f.drawings == ["shape"]
    assert f.hidden_cols == []  # column D holds only a shape: outside the table's cells


def test_ods_leading_empty_rows_and_columns_keep_a1_as_origin(tmp_path):
    empty = '<table:table-cell table:number-columns-repeated="2"/>'
    table = ('<table:table table:name="T"><table:table-column table:number-columns-repeated="1024"/>'
             + row(empty, attrs=' table:number-rows-repeated="3"')
             + row(empty, s("見出し", "ce1"))
             + row(empty, n(4, extra=' table:formula="of:=2*2"'), attrs=' table:visibility="collapse"')
             + "</table:table>")
    path = write_ods(tmp_path / "offset.ods", table)
    f = inspect_ods(path, None, deadline())["T"]
    assert f.styled == {"fill": [(3, 2)]} and f.formulas == [(4, 2)] and f.hidden_rows == [4]
    rows = grid(path, "T")
    assert at(rows, 3, 2) == "見出し" and at(rows, 4, 2) == 4.0


def test_ods_column_default_styles_under_repeated_cells(tmp_path):
    table = ('<table:table table:name="T">'
             '<table:table-column table:default-cell-style-name="Default" table:number-columns-repeated="2"/>'
             '<table:table-column table:default-cell-style-name="ce1"/>'
             '<table:table-column table:default-cell-style-name="Default" table:number-columns-repeated="1021"/>'
             + row(s("a"), s("b"), s("c"))
             + row(s("x"), '<table:table-cell table:number-columns-repeated="1023"/>')  # B..AMI, C is yellow
             + "</table:table>")
    f = inspect_ods(write_ods(tmp_path / "cols.ods", table), None, deadline())["T"]
    assert f.styled == {"fill": [(0, 2), (1, 2)]}


def test_ods_memory_stays_bounded_on_a_long_sheet(tmp_path):
    body = "".join(row(s(f"k{i}"), n(i), s("x", "ce1")) for i in range(40_000))
    path = write_ods(tmp_path / "long.ods", f'<table:table table:name="L">{body}</table:table>')
    tracemalloc.start()
    try:
        f = inspect_ods(path, None, deadline())["L"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(f.styled["fill"]) == 5000 and f.styled["fill"][-1] == (4999, 2)
    # keeping the parsed elements would hold ~280,000 of them (tens of MB)
    assert peak < 8 * 1024 * 1024, peak


@pytest.mark.parametrize("damage", ["truncated", "not_zip", "no_content", "bad_xml", "entity"])
def test_ods_damaged_files_raise_corrupt(rich_ods, tmp_path, damage):
    path = tmp_path / "bad.ods"
    data = rich_ods.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "not_zip":
        path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    elif damage == "no_content":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    else:
        with zipfile.ZipFile(rich_ods) as src:
            content = src.read("content.xml").decode()
        if damage == "bad_xml":
            content = content[: len(content) // 2]
        else:
            content = content.replace(
                "<office:document-content",
                '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><office:document-content', 1)
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("content.xml", content)
    with pytest.raises(TidyError) as exc:
        inspect_ods(path, None, deadline())
    assert exc.value.code == "corrupt"
    assert "壊れて" in exc.value.message_ja and "corrupt" in exc.value.message_en


def test_ods_respects_the_deadline(rich_ods):
    with pytest.raises(TidyError) as exc:
        inspect_ods(rich_ods, None, Deadline(-1))
    assert exc.value.code == "timeout"


# ---------------------------------------------------------------------------------------------------------
# XLS

try:
    import xlwt  # test extra: writes the .xls fixtures
except ImportError:
    xlwt = None
try:
    import xlrd  # runtime dependency of inspect_xls
except ImportError:
    xlrd = None
needs_xlrd = pytest.mark.skipif(xlrd is None, reason="xlrd is not installed: inspect_xls cannot run")
needs_xlwt = pytest.mark.skipif(xlwt is None or xlrd is None,
                                reason="xlwt (test extra) or xlrd is not installed: no .xls fixtures")


def bitmap() -> bytes:
    """A 1×1 24-bit BMP (the only kind xlwt can insert)."""
    pixels = b"\x00\x00\xff\x00"  # one pixel, row padded to 4 bytes
    header = struct.pack("<2sIHHI", b"BM", 14 + 40 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def write_xls(path: Path, rich: bool = True) -> Path:
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("データ")
    for c, v in enumerate(["名前", "隠し", "値", "計"]):
        ws.write(0, c, v)
    if not rich:
        ws.write(1, 0, "北海道")
        ws.write(1, 1, 5224614)
        wb.save(str(path))
        return path
    ws.write(1, 0, "a")
    ws.write(1, 1, 1)
    ws.write(1, 2, 2, xlwt.easyxf("font: colour red"))
    ws.write(1, 3, xlwt.Formula("B2+C2"))
    ws.write(2, 0, "h")
    ws.row(2).hidden = True
    ws.col(1).hidden = True
    ws.write_merge(3, 4, 0, 1, "結合")
    ws.write(3, 2, 7, xlwt.easyxf("pattern: pattern solid, fore_colour yellow"))
    ws.write(3, 3, "i", xlwt.easyxf("font: italic on"))
    ws.write(4, 2, "s", xlwt.easyxf("font: struck_out on"))
    ws.write(4, 3, "w", xlwt.easyxf("pattern: pattern solid, fore_colour white; font: colour black"))
    ws.insert_bitmap_data(bitmap(), 5, 0)
    ws.write(5, 1, "img")
    ws.row(40).hidden = True  # after the table: not reported
    ws2 = wb.add_sheet("隠し")
    ws2.write(0, 0, "x")
    ws2.visibility = 1
    wb.save(str(path))
    return path


@needs_xlwt
def test_xls_reports_every_fact_at_calamines_cells(tmp_path):
    path = write_xls(tmp_path / "rich.xls")
    facts = inspect_xls(path, None, deadline())
    f = facts["データ"]
    assert f.hidden is False and facts["隠し"].hidden is True
    assert f.hidden_rows == [2] and f.hidden_cols == [1]
    assert f.merges == [(3, 0, 4, 1)]
    assert f.formulas == [(1, 3)] and f.formula_count == 1
    assert f.drawings == ["image"]
    assert f.styled == {"font_color": [(1, 2)], "fill": [(3, 2)], "italic": [(3, 3)], "strike": [(4, 2)]}
    assert f.comments == []
    assert f.inspected == {"hidden", "formulas", "formats", "comments", "objects", "merges"}
    rows = grid(path, "データ")
    assert at(rows, 2, 0) == "h" and at(rows, 0, 1) == "隠し"
    assert at(rows, 3, 0) == "結合" and at(rows, 3, 2) == 7.0 and at(rows, 4, 2) == "s"
    assert at(rows, 1, 2) == 2.0 and at(rows, 3, 3) == "i" and at(rows, 5, 1) == "img"
    assert [(a[0], a[1], b[0], b[1]) for a, b in pc.CalamineWorkbook.from_path(str(path))
            .get_sheet_by_name("データ").merged_cell_ranges] == f.merges


def biff(code: int, data: bytes) -> bytes:
    return struct.pack("<HH", code, len(data)) + data


def note_records(row: int, col: int, text: str, obj_id: int = 7) -> bytes:
    """The BIFF8 records of one cell comment (OBJ of type note, TXO with its text, NOTE), as Excel writes
    them; xlwt cannot write comments."""
    cmo = struct.pack("<HHHHH12x", 0x15, 18, 0x19, obj_id, 0x4011)
    obj = cmo + struct.pack("<HH22x", 0x0D, 22) + struct.pack("<HH", 0, 0)
    txo = struct.pack("<HH6sHHH2x", 0x0212, 0, b"\0" * 6, len(text), 16, 0)
    runs = struct.pack("<HH4xHH4x", 0, 0, len(text), 0)
    author = "担当".encode("utf-16-le")
    note = struct.pack("<4HHB", row, col, 0, obj_id, 2, 1) + author + b"\0"
    return (biff(0x005D, obj) + biff(0x01B6, txo) + biff(0x003C, b"\x01" + text.encode("utf-16-le"))
            + biff(0x003C, runs) + biff(0x001C, note))


@needs_xlwt
def test_xls_comments_are_read_and_not_counted_as_drawings(tmp_path):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("メモ")
    ws.write(0, 0, "地域")
    ws.write(0, 1, "人口")
    ws.write(1, 0, "北海道")
    ws.write(1, 1, 5224614)
    stream = wb.get_biff_data()
    assert stream[-4:] == b"\x0a\x00\x00\x00"  # the one sheet's EOF ends the stream
    stream = stream[:-4] + note_records(1, 1, "推計値です") + stream[-4:]
    path = tmp_path / "note.xls"
    from xlwt.CompoundDoc import XlsDoc

    XlsDoc().save(str(path), stream)
    f = inspect_xls(path, None, deadline())["メモ"]
    assert f.comments == [(1, 1, "推計値です")]
    assert f.drawings == []
    assert at(grid(path, "メモ"), 1, 1) == 5224614.0


@needs_xlwt
def test_xls_leading_empty_rows_and_columns_keep_a1_as_origin(tmp_path):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("T")
    ws.write(3, 2, "見出し", xlwt.easyxf("pattern: pattern solid, fore_colour yellow"))
    ws.write(4, 2, xlwt.Formula("2*2"))
    ws.row(4).hidden = True
    path = tmp_path / "offset.xls"
    wb.save(str(path))
    f = inspect_xls(path, None, deadline())["T"]
    assert f.styled == {"fill": [(3, 2)]} and f.formulas == [(4, 2)] and f.hidden_rows == [4]
    rows = grid(path, "T")
    assert at(rows, 3, 2) == "見出し" and at(rows, 4, 2) in (4.0, "")  # xlwt stores no cached result


@needs_xlwt
def test_xls_without_any_of_these_reports_nothing(tmp_path):
    f = inspect_xls(write_xls(tmp_path / "clean.xls", rich=False), None, deadline())["データ"]
    assert nothing_found(f), f


@needs_xlwt
def test_xls_only_the_named_sheets(tmp_path):
    assert list(inspect_xls(write_xls(tmp_path / "rich.xls"), ["隠し"], deadline())) == ["隠し"]


@needs_xlwt
@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty_cfb"])
def test_xls_damaged_files_raise_corrupt(tmp_path, damage):
    data = write_xls(tmp_path / "rich.xls").read_bytes()
    path = tmp_path / "bad.xls"
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8)
    else:
        path.write_bytes(data[:512])
    with pytest.raises(TidyError) as exc:
        inspect_xls(path, None, deadline())
    assert exc.value.code == "corrupt"
    assert "壊れて" in exc.value.message_ja and "corrupt" in exc.value.message_en


@needs_xlwt
def test_xls_password_protected_is_reported_as_such(tmp_path):
    from xlwt.CompoundDoc import XlsDoc

    wb = xlwt.Workbook()
    wb.add_sheet("A").write(0, 0, 1)
    stream = wb.get_biff_data()
    bof_end = 4 + struct.unpack_from("<HH", stream, 0)[1]
    filepass = biff(0x002F, struct.pack("<HHH", 0, 0, 0))  # FILEPASS (XOR obfuscation) right after BOF
    path = tmp_path / "locked.xls"
    XlsDoc().save(str(path), stream[:bof_end] + filepass + stream[bof_end:])
    with pytest.raises(TidyError) as exc:
        inspect_xls(path, None, deadline())
    assert exc.value.code == "encrypted"


@needs_xlwt
def test_xls_respects_the_deadline(tmp_path):
    with pytest.raises(TidyError) as exc:
        inspect_xls(write_xls(tmp_path / "rich.xls"), None, Deadline(-1))
    assert exc.value.code == "timeout"


@needs_xlrd
@pytest.mark.skipif(not EVAL_XLS.is_dir(), reason="the evaluation files (../shared/eval/tidy) are not here")
def test_xls_real_files_agree_with_calamine():
    files = sorted(EVAL_XLS.rglob("*.xls"))
    assert files
    for path in files:
        facts = inspect_xls(path, None, deadline())
        wb = pc.CalamineWorkbook.from_path(str(path))
        assert list(facts) == wb.sheet_names, path
        meta = {m.name: m for m in wb.sheets_metadata}
        for name, f in facts.items():
            sheet = wb.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
            assert f.hidden == (meta[name].visible != pc.SheetVisibleEnum.Visible), (path, name)
            assert f.merges == [(a[0], a[1], b[0], b[1]) for a, b in sheet.merged_cell_ranges or []], (path, name)
            # a formula cell holds its cached value in calamine's grid
            assert all(at(rows, r, c) not in (None, "") for r, c in f.formulas), (path, name)
            for cells in f.styled.values():
                assert all(r < len(rows) for r, _ in cells), (path, name)

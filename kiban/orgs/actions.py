"""Writes to the registry of bodies (団体台帳の更新): every one records its audit entry in the same transaction.

The registry is public reference data, loaded from the packaged sources by `kiban orgs load` (a system write,
actor None) — or by an operator (actor = the acting user or token) when a later feature lets one trigger it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import transaction

from kiban.core.errors import KibanError
from kiban.orgs import source
from kiban.orgs.models import Org, RegistryInfo
from kiban.orgs.source import BodyRecord, InvalidOrgCode

_VALUE_FIELDS = ("name", "kana", "kind", "county", "corporate_number", "search_name", "search_kana", "search_full")


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


def load_registry(
    records: Iterable[BodyRecord] | None = None, *, data_date: str | None = None, actor: Any = None
) -> LoadResult:
    """Upsert the registry (団体台帳の読込) from `records` (default: source.load_bodies()). Idempotent.

    Checks the source first (unique, valid codes; every link present), then in one transaction: bulk upsert
    of the bodies with their normalised search keys, parent/prefecture links, bodies no longer in the source
    marked inactive (never deleted: other data points at them), RegistryInfo (data date and counts) and one
    audit entry ("orgs.load"; actor None = the system) — all committed together or not at all.
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
        audit_record(actor=actor, org=None, action="orgs.load", target=None, after=result.as_dict())
    return result

"""団体データの書き出しと取り込み (per-body export and import): a body owns its data and can take it away.

`export_org(org, actor=...)` writes one zip with, for every model that belongs to a body, that body's rows
as JSON and as CSV:

    manifest.json                     format, version, body, time, models and counts
    users.json / users.csv            the body's members (never password hashes)
    memberships.json / .csv           username and role in this body
    data/<app>.<model>.json / .csv    every model with an `org` foreign key (or an `org_path`), found through
                                      the app registry, so a new engine's data is exported with no change here
    audit/entries.json / .csv         the body's audit entries, with their hashes (kept as evidence)

Foreign keys are written portably: to a body as its code, to a user as the username, to another exported
row as that row's original id. Fields whose names say they hold a secret (password, secret, token/key
hashes) are left out; a model that cannot do without such a field (API tokens) is exported for the
record and not restored (`restorable`).

`import_org(path, actor=...)` restores such a zip into an install whose registry is loaded and which holds
nothing yet for that body: users (without a usable password: they set one through the usual reset),
memberships and every data row, in dependency order with ids remapped. The body's old audit entries stay in
the zip: replaying them would break the target's hash chain, so the import appends its own entries instead.
Both directions are audited in the same transaction as the work.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from kiban.audit.log import record
from kiban.core.errors import KibanError

FORMAT = "kiban-org-export"
VERSION = 1
SECRET_PARTS = ("password", "secret", "token_hash", "key_hash")
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3  # refuse zip bombs
# Written in their own files: memberships (with users) and the hash-chained audit log.
SEPARATE_MODELS = {"accounts.membership", "audit.auditentry"}

USER_FIELDS = ("username", "email", "display_name", "first_name", "last_name", "is_active", "date_joined")


class TransferError(KibanError):
    """書き出し・取り込みの誤り."""

    default_code = "transfer_invalid"


@dataclass(frozen=True)
class ScopedModel:
    """A model holding body data, and the lookup from it to its body."""

    model: type[models.Model]
    org_path: str

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


def _org_model():
    return apps.get_model("orgs", "Org")


def scoped_models() -> list[ScopedModel]:
    """Every installed model that belongs to a body: an `org` FK to orgs.Org, or an explicit `org_path`."""
    Org = _org_model()
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        path = getattr(model, "org_path", None)
        if path is None:
            field = next((f for f in model._meta.concrete_fields if f.name == "org" and f.is_relation), None)
            if field is None or field.related_model is not Org:
                continue
            path = "org"
        found.append(ScopedModel(model, path))
    return sorted(found, key=lambda s: s.label)


def _is_secret(name: str) -> bool:
    return any(part in name.lower() for part in SECRET_PARTS)


def restorable(model: type[models.Model]) -> bool:
    """Whether rows of `model` can be restored from an export: not if a secret it needs was left out.

    An API token without its secret hash, or an idempotency record without its key hash, would be a
    broken row; such models are exported for the record only (their rows are listed, never re-created).
    """
    return all(
        not _is_secret(f.name) or f.null or f.has_default() for f in model._meta.concrete_fields if not f.primary_key
    )


class _Portable:
    """Turns rows into portable dicts, looking each body code and username up once, not once per row."""

    def __init__(self) -> None:
        self.Org, self.User = _org_model(), apps.get_model(settings.AUTH_USER_MODEL)
        self.codes: dict[Any, str] = {}
        self.usernames: dict[Any, str | None] = {}

    def _code(self, pk) -> str | None:
        if pk not in self.codes:
            self.codes[pk] = self.Org.objects.filter(pk=pk).values_list("code", flat=True).first()
        return self.codes[pk]

    def _username(self, pk) -> str | None:
        if pk not in self.usernames:
            self.usernames[pk] = self.User.objects.filter(pk=pk).values_list("username", flat=True).first()
        return self.usernames[pk]

    def row(self, obj: models.Model) -> dict[str, Any]:
        """One row as JSON-ready values (see the module docstring for foreign keys)."""
        row: dict[str, Any] = {"id": obj.pk}
        for field in obj._meta.concrete_fields:
            if field.primary_key or _is_secret(field.name):
                continue
            if field.is_relation:
                raw = getattr(obj, field.attname)
                if raw is None:
                    row[field.name] = None
                elif field.related_model is self.Org:
                    row[field.name] = self._code(raw)
                elif field.related_model is self.User:
                    row[field.name] = self._username(raw)
                else:
                    row[field.name] = raw
            else:
                row[field.name] = field.value_from_object(obj)
        return row

    def rows(self, queryset) -> list[dict[str, Any]]:
        return [self.row(obj) for obj in queryset.iterator(chunk_size=2000)]


def _dumps(data: Any) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1)


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns = list(rows[0]) if rows else []
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({
            k: json.dumps(v, cls=DjangoJSONEncoder, ensure_ascii=False) if isinstance(v, (dict, list)) else
            ("" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v))
            for k, v in row.items()
        })
    return "\ufeff" + out.getvalue()  # BOM: Excel in Japanese locales reads UTF-8 CSV correctly with it


def _write(zf: zipfile.ZipFile, stem: str, rows: list[dict[str, Any]]) -> None:
    zf.writestr(f"{stem}.json", _dumps(rows))
    zf.writestr(f"{stem}.csv", _csv(rows))


def default_export_path(org) -> Path:
    directory = Path(settings.DATA_DIR) / "exports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"kiban-{org.code}-{timezone.now():%Y%m%d-%H%M%S}.zip"


def export_org(org, *, actor: Any, request: Any = None, path: Path | str | None = None) -> Path:
    """Write all of `org`'s data to a zip (JSON + CSV) and record the export in the audit log."""
    from kiban.accounts.models import Membership
    from kiban.audit.models import AuditEntry

    target = Path(path) if path is not None else default_export_path(org)
    target.parent.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        record(actor=actor, org=org, action="org.export", target=org, after={"file": target.name}, request=request)
        memberships = list(Membership.objects.filter(org=org).select_related("user").order_by("user__username"))
        users = [{f: getattr(m.user, f) for f in USER_FIELDS} for m in memberships]
        member_rows = [{"username": m.user.username, "role": m.role, "created_at": m.created_at} for m in memberships]
        counts: dict[str, int] = {}
        portable = _Portable()
        tmp = target.with_suffix(".zip.part")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            _write(zf, "users", users)
            _write(zf, "memberships", member_rows)
            for scoped in scoped_models():
                if scoped.label in SEPARATE_MODELS:
                    continue
                rows = portable.rows(scoped.model._default_manager.filter(**{scoped.org_path: org}).order_by("pk"))
                counts[scoped.label] = len(rows)
                _write(zf, f"data/{scoped.label}", rows)
            audit_rows = portable.rows(AuditEntry.objects.for_org(org).order_by("seq"))
            _write(zf, "audit/entries", audit_rows)
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "exported_at": timezone.now(),
                "org": {"code": org.code, "name": org.name, "kind": org.kind},
                "users": len(users),
                "memberships": len(member_rows),
                "models": counts,
                "audit_entries": len(audit_rows),
                "not_restored": sorted(
                    [f"{label} (needs secrets, which are never exported)" for label in counts
                     if not restorable(apps.get_model(label))] + ["audit entries (kept as evidence)"]
                ),
            }
            zf.writestr("manifest.json", _dumps(manifest))
        tmp.replace(target)
    return target


# ------------------------------------------------------------------------------------------------ import


def _read_zip(path: Path) -> tuple[zipfile.ZipFile, dict]:
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise TransferError(f"zip ファイルとして読めません: {path}", f"Not a readable zip file: {path}",
                            code="transfer_bad_zip", field="file") from exc
    if sum(i.file_size for i in zf.infolist()) > MAX_UNCOMPRESSED_BYTES:
        raise TransferError("展開後のサイズが上限 (2 GiB) を超えています。", "The archive expands beyond 2 GiB.",
                            code="transfer_too_large", field="file")
    manifest = _load(zf, "manifest.json")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise TransferError("Kiban の団体データ (形式 kiban-org-export 版 1) ではありません。",
                            "Not a Kiban body export (format kiban-org-export, version 1).",
                            code="transfer_bad_format", field="manifest.json")
    return zf, manifest


def _load(zf: zipfile.ZipFile, name: str) -> Any:
    try:
        return json.loads(zf.read(name).decode("utf-8"))
    except KeyError:
        raise TransferError(f"{name} がありません。", f"{name} is missing.", code="transfer_missing_file",
                            field=name) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TransferError(f"{name} の JSON が壊れています ({exc})。", f"{name} is not valid JSON ({exc}).",
                            code="transfer_bad_json", field=name) from exc


def _dependency_order(labels: list[str]) -> list[str]:
    """Models ordered so that each comes after the exported models it points to."""
    deps: dict[str, set[str]] = {}
    for label in labels:
        model = apps.get_model(label)
        deps[label] = {
            f.related_model._meta.label_lower for f in model._meta.concrete_fields
            if f.is_relation and f.related_model._meta.label_lower in labels
            and f.related_model._meta.label_lower != label
        }
    ordered: list[str] = []
    while deps:
        ready = sorted(label for label, d in deps.items() if not d - set(ordered))
        if not ready:
            raise TransferError("モデル間の参照が循環しています。", "Circular references between models.",
                                code="transfer_cycle")
        ordered += ready
        for label in ready:
            del deps[label]
    return ordered


@dataclass
class ImportResult:
    org: Any
    users: int
    memberships: int
    models: dict[str, int]


def import_org(path: Path | str, *, actor: Any = None, request: Any = None) -> ImportResult:
    """Restore a body's export into this install (registry loaded, nothing yet for that body); audited."""
    from kiban.accounts.models import Membership, Role

    Org, User = _org_model(), apps.get_model(settings.AUTH_USER_MODEL)
    zf, manifest = _read_zip(Path(path))
    code = str(manifest.get("org", {}).get("code", ""))
    org = Org.objects.filter(code=code).first()
    if org is None:
        raise TransferError(
            f"団体コード {code} の団体が登録簿にありません。先に `kiban orgs load` を実行してください。",
            f"Body {code} is not in the registry; run `kiban orgs load` first.",
            code="transfer_unknown_org", field="org.code")
    labels = [label for label in manifest.get("models", {}) if label not in SEPARATE_MODELS]
    unknown = [label for label in labels if not _model_exists(label)]
    if unknown:
        raise TransferError(f"この環境にないデータ種別です: {', '.join(unknown)}",
                            f"Unknown data types in this install: {', '.join(unknown)}",
                            code="transfer_unknown_model", field="models")
    labels = [label for label in labels if restorable(apps.get_model(label))]
    users = _load(zf, "users.json")
    member_rows = _load(zf, "memberships.json")
    rows_by_label = {label: _load(zf, f"data/{label}.json") for label in labels}

    with transaction.atomic():
        if Membership.objects.filter(org=org).exists() or any(
            s.model._default_manager.filter(**{s.org_path: org}).exists()
            for s in scoped_models() if s.label in labels
        ):
            raise TransferError(f"{org.name} ({org.code}) には既にデータがあります。取り込みは空の環境にだけ行えます。",
                                f"{org.name} ({org.code}) already has data; import only into an empty install.",
                                code="transfer_not_empty", field="org.code")
        taken = set(User.objects.filter(username__in=[u["username"] for u in users]).values_list("username", flat=True))
        if taken:
            raise TransferError(f"同じ利用者名が既にあります: {', '.join(sorted(taken))}",
                                f"These usernames already exist: {', '.join(sorted(taken))}",
                                code="transfer_user_exists", field="users")
        user_ids: dict[str, int] = {}
        for data in users:
            user = User(**{f: data[f] for f in USER_FIELDS if f in data})
            user.set_unusable_password()
            user.save()
            user_ids[user.username] = user.pk
        for data in member_rows:
            if data.get("role") not in Role.values or data.get("username") not in user_ids:
                raise TransferError(f"所属の行が不正です: {data}", f"Invalid membership row: {data}",
                                    code="transfer_bad_row", field="memberships")
            Membership.objects.create(user_id=user_ids[data["username"]], org=org, role=data["role"])

        id_maps: dict[str, dict[Any, Any]] = defaultdict(dict)
        counts: dict[str, int] = {}
        for label in _dependency_order(labels):
            model = apps.get_model(label)
            automatic = [f for f in model._meta.concrete_fields
                         if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
            for data in rows_by_label[label]:
                values = _values(model, data, org, user_ids, id_maps)
                obj = model(**values)
                obj.save(force_insert=True)
                id_maps[label][data.get("id")] = obj.pk
                kept = {f.attname: values[f.attname] for f in automatic if values.get(f.attname) is not None}
                if kept:  # save() stamped "now"; the data's own history is part of the data
                    model._default_manager.filter(pk=obj.pk).update(**kept)
            counts[label] = len(rows_by_label[label])
        record(actor=actor, org=org, action="org.import", target=org, request=request,
               after={"users": len(users), "memberships": len(member_rows), "models": counts,
                      "exported_at": manifest.get("exported_at")})
    return ImportResult(org=org, users=len(users), memberships=len(member_rows), models=counts)


def _model_exists(label: str) -> bool:
    try:
        apps.get_model(label)
    except (LookupError, ValueError):
        return False
    return True


def _values(model, data: dict, org, user_ids: dict[str, int], id_maps: dict[str, dict]) -> dict[str, Any]:
    """Model field values for one exported row, with foreign keys resolved in this install."""
    Org, User = _org_model(), apps.get_model(settings.AUTH_USER_MODEL)
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.name not in data:
            continue
        value = data[field.name]
        if field.is_relation and value is not None:
            target = field.related_model
            if target is Org:
                value = org.pk if value == org.code else Org.objects.filter(code=value).values_list("pk", flat=True).first()
            elif target is User:
                value = user_ids.get(value) or User.objects.filter(username=value).values_list("pk", flat=True).first()
            else:
                value = id_maps.get(target._meta.label_lower, {}).get(value, value)
            values[field.attname] = value
        else:
            values[field.attname] = field.to_python(value) if value is not None else None
    return values


def describe(manifest: dict) -> str:
    """One line for the CLI: what a zip holds."""
    total = sum(manifest.get("models", {}).values())
    org = manifest.get("org", {})
    return f"{org.get('name')} ({org.get('code')}): {manifest.get('users')} users, {total} rows"


"""Audit API, mounted at /api/v1/audit/ — the acting body's 監査ログ, for its 管理者 (scope audit:read).

    GET /api/v1/audit/              entries of the acting body, newest first (cursor pagination)
    GET /api/v1/audit/{seq}         one entry

Another body's entry is a 404, as if it did not exist; a 職員's session or token lacks audit:read: 403.
"""


from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Path, Query, Router, Schema

from kiban.api.auth import require
from kiban.api.pagination import paginated
from kiban.audit.models import AuditEntry
from kiban.audit.queries import action_label, filter_entries, org_entries

router = Router(tags=["audit"])

MAX_SEQ = 2**63 - 1


class AuditEntryOut(Schema):
    """監査記録: one entry of the hash-chained audit log."""

    seq: int = Field(..., description="通番 (連鎖の順序)")
    time: datetime = Field(..., description="日時")
    actor: str = Field(..., description="操作者 (記録時の名前; system はシステム)")
    actor_user_id: int | None = Field(None, description="操作者の利用者ID")
    actor_token_prefix: str = Field("", description="APIトークンの識別子 (トークンによる操作の場合)")
    org_code: str = Field(..., description="団体コード")
    action: str = Field(..., description="操作 (例: user.create)")
    action_label: str = Field(..., description="操作の名称")
    target_type: str = Field("", description="対象の種類 (例: accounts.user)")
    target_id: str = Field("", description="対象ID")
    target_repr: str = Field("", description="対象")
    changes: dict[str, Any] = Field(default_factory=dict, description='変更内容 {"before": {...}, "after": {...}}')
    request_id: str = Field("", description="リクエストID")
    ip: str = Field("", description="IPアドレス")
    prev_hash: str = Field(..., description="直前の記録のハッシュ")
    hash: str = Field(..., description="SHA-256(prev_hash + 正規化JSON)")

    @staticmethod
    def resolve_actor(entry: AuditEntry) -> str:
        return entry.actor_label

    @staticmethod
    def resolve_org_code(entry: AuditEntry) -> str:
        return entry.org.code

    @staticmethod
    def resolve_action_label(entry: AuditEntry) -> str:
        return action_label(entry.action)


class AuditFilters(Schema):
    action: str | None = Field(None, max_length=64, description='操作 ("token." のように . で終えると前方一致)')
    actor: str | None = Field(None, max_length=150, description="操作者名 (部分一致) またはトークン識別子")
    target_type: str | None = Field(None, max_length=100, description="対象の種類")
    target_id: str | None = Field(None, max_length=64, description="対象ID")
    since: date | None = Field(None, description="この日以降 (日本時間)")
    until: date | None = Field(None, description="この日まで (日本時間、当日を含む)")


@router.get("/", response=list[AuditEntryOut], summary="監査ログの一覧")
@paginated(ordering=("-seq",))
def list_entries(request: HttpRequest, filters: Query[AuditFilters]):
    """The acting body's entries, newest first. Needs audit:read (管理者 only)."""
    org = require(request, "audit:read")
    return filter_entries(org_entries(org), **filters.dict(exclude_none=True)).select_related("org")


@router.get("/{seq}", response=AuditEntryOut, summary="監査記録の詳細")
def get_entry(request: HttpRequest, seq: int = Path(..., ge=1, le=MAX_SEQ)):
    """One entry of the acting body; another body's entry is a 404."""
    org = require(request, "audit:read")
    entry = org_entries(org).filter(seq=seq).select_related("org").first()
    if entry is None:
        raise Http404
    return entry

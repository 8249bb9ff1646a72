"""Accounts API, mounted at /api/v1/: the current user, the users of my body, API tokens.

    GET    /api/v1/me                     who am I, for which body, with which scopes
    GET    /api/v1/users                  users of the acting body            (users:read)
    POST   /api/v1/users                  create a user in the acting body    (users:write)
    GET    /api/v1/users/{id}             one user of the acting body         (users:read)
    PATCH  /api/v1/users/{id}             role, active, email, display name   (users:write)
    DELETE /api/v1/users/{id}             remove from the acting body         (users:write)
    GET    /api/v1/tokens                 API tokens of the acting body       (tokens:read)
    POST   /api/v1/tokens                 create; the secret is in this response only (tokens:write)

The two POSTs accept an `Idempotency-Key` header (kiban.api.idempotency): a retry gets the first answer.
    GET    /api/v1/tokens/{id}                                                (tokens:read)
    DELETE /api/v1/tokens/{id}            revoke (idempotent)                 (tokens:write)

A user or token of another body is a 404, as if it did not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, Path, Router, Schema, Status

from kiban.accounts import actions
from kiban.accounts.models import ApiToken, Membership, User
from kiban.accounts.scopes import all_scopes, scopes_for_role
from kiban.api.auth import actor, require
from kiban.api.idempotency import idempotent
from kiban.api.pagination import paginated
from kiban.core import tenancy
from kiban.orgs.api import OrgRef  # one schema for a body in short, shared with /orgs/

router = Router(tags=["accounts"])

MAX_ID = 2**63 - 1
RoleName = Literal["admin", "staff", "reviewer", "viewer"]


class MembershipOut(Schema):
    org: OrgRef
    role: RoleName = Field(..., description="役割: admin=管理者, staff=職員, reviewer=審査者, viewer=閲覧者")


class TokenInfo(Schema):
    prefix: str
    scopes: list[str]
    expires_at: datetime


class MeOut(Schema):
    """The caller (自分): for a token, its user and only the token's body."""

    id: int
    username: str
    display_name: str
    email: str
    acting_org: OrgRef = Field(..., description="操作中の団体")
    role: RoleName = Field(..., description="操作中の団体での役割")
    scopes: list[str] = Field(..., description="この呼び出しで使える権限")
    memberships: list[MembershipOut] = Field(..., description="所属 (トークンの場合はその団体のみ)")
    token: TokenInfo | None = Field(None, description="APIトークンで呼んだ場合のトークン情報")


class UserOut(Schema):
    """A user of the acting body (利用者), with their role there."""

    id: int
    username: str
    display_name: str
    email: str
    role: RoleName
    is_active: bool


class UserCreateIn(Schema):
    username: str = Field(..., min_length=1, max_length=150, description="ユーザー名 (文字・数字・@.+-_)")
    role: RoleName = Field(..., description="役割")
    email: str = Field("", max_length=254, description="メールアドレス")
    display_name: str = Field("", max_length=100, description="表示名")
    password: str | None = Field(
        None, max_length=256, description="初期パスワード (省略するとパスワードでのログイン不可)"
    )


class UserPatchIn(Schema):
    role: RoleName | None = None
    is_active: bool | None = None
    email: str | None = Field(None, max_length=254)
    display_name: str | None = Field(None, max_length=100)


class TokenOut(Schema):
    """An API token (APIトークン), never with its secret."""

    id: int
    name: str
    prefix: str = Field(..., description="公開の識別子 (kbn_<prefix>_…)")
    scopes: list[str]
    status: Literal["active", "expired", "revoked"]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    # Also validated from a stored dict (an Idempotency-Key replay), where the values are already plain.
    @staticmethod
    def resolve_status(t: ApiToken | dict) -> str:
        return t["status"] if isinstance(t, dict) else t.status()

    @staticmethod
    def resolve_created_by(t: ApiToken | dict) -> str:
        return t["created_by"] if isinstance(t, dict) else t.user.username


class TokenCreatedOut(TokenOut):
    secret: str | None = Field(
        ..., description="トークン本体。この応答でのみ表示され、再表示はできません (Idempotency-Key による再送では null)"
    )


class TokenCreateIn(Schema):
    name: str = Field(..., min_length=1, max_length=100, description="用途がわかる名前")
    scopes: list[str] = Field(..., min_length=1, max_length=50, description="権限 (例: users:read)")
    expires_in_days: int = Field(
        actions.TOKEN_DEFAULT_DAYS, ge=actions.TOKEN_MIN_DAYS, le=actions.TOKEN_MAX_DAYS, description="有効日数"
    )


class ScopeOut(Schema):
    name: str
    label: str
    roles: list[str]


def _org_ref(org) -> dict:
    return {"code": org.code, "name": org.name, "kind": org.kind}


@router.get("/me", response=MeOut, summary="自分の情報")
def me(request: HttpRequest):
    """The caller, the acting body and the scopes usable in this call."""
    org = require(request)
    who = actor(request)
    user = tenancy.actor_user(who)
    role = tenancy.role_in(who, org)
    memberships = tenancy.acting_memberships(who).select_related("org").order_by("org__code")
    if tenancy.is_token(who):
        scopes = sorted(set(who.scopes) & scopes_for_role(role))
        token = {"prefix": who.prefix, "scopes": who.scopes, "expires_at": who.expires_at}
    else:
        scopes = sorted(scopes_for_role(role))
        token = None
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "acting_org": _org_ref(org),
        "role": role,
        "scopes": scopes,
        "memberships": [{"org": _org_ref(m.org), "role": m.role} for m in memberships],
        "token": token,
    }


@router.get("/scopes", response=list[ScopeOut], auth=None, summary="権限の一覧")
def list_scopes(request: HttpRequest):
    """Every scope a token may carry, with the roles allowed to hold it (public)."""
    from kiban.api.problems import wants_english

    en = wants_english(request)
    return [{"name": s.name, "label": s.label_en if en else s.label_ja, "roles": sorted(s.roles)} for s in all_scopes()]


# ---- users ------------------------------------------------------------------------------------------------------


def users_of(org) -> QuerySet[User]:
    """The users of `org`, each with `role` = their role there (one membership per user and body)."""
    return User.objects.filter(memberships__org=org).annotate(role=F("memberships__role"))


def _user_or_404(org, user_id: int) -> User:
    user = users_of(org).filter(pk=user_id).first()
    if user is None:
        raise Http404
    return user


def _membership_or_404(org, user_id: int) -> Membership:
    membership = Membership.objects.for_org(org).select_related("user", "org").filter(user_id=user_id).first()
    if membership is None:
        raise Http404
    return membership


@router.get("/users", response=list[UserOut], summary="団体の利用者一覧")
@paginated(ordering=("username",))
def list_users(request: HttpRequest):
    org = require(request, "users:read")
    return users_of(org)


IDEMPOTENCY_HEADER = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "description": "再送を安全にするキー (1〜200文字の半角英数記号)。同じキーの再送には最初の応答を返します",
            "schema": {"type": "string", "minLength": 1, "maxLength": 200},
        }
    ]
}


@router.post("/users", response={201: UserOut}, summary="利用者の登録", openapi_extra=IDEMPOTENCY_HEADER)
def create_user(request: HttpRequest, payload: UserCreateIn):
    """Create a user in the acting body. Send an Idempotency-Key header to make retries safe."""
    org = require(request, "users:write")

    def create() -> tuple[int, dict]:
        user = actions.do_create_user(
            org=org,
            username=payload.username,
            role=payload.role,
            email=payload.email,
            display_name=payload.display_name,
            password=payload.password,
            acting_user=actor(request),
            request=request,
        )
        return 201, UserOut.from_orm(_user_or_404(org, user.pk)).model_dump(mode="json")

    return idempotent(request, org, create)


@router.get("/users/{user_id}", response=UserOut, summary="利用者の詳細")
def get_user(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)):
    org = require(request, "users:read")
    return _user_or_404(org, user_id)


@router.patch("/users/{user_id}", response=UserOut, summary="利用者の変更 (役割・利用停止など)")
def update_user(request: HttpRequest, payload: UserPatchIn, user_id: int = Path(..., ge=1, le=MAX_ID)):
    org = require(request, "users:write")
    membership = _membership_or_404(org, user_id)
    who = actor(request)
    if payload.email is not None or payload.display_name is not None:
        actions.do_update_user(
            membership.user, org=org, acting_user=who, email=payload.email, display_name=payload.display_name,
            request=request,
        )
    if payload.role is not None:
        actions.do_change_role(membership, payload.role, acting_user=who, request=request)
    if payload.is_active is False:
        actions.do_deactivate_user(membership.user, org=org, acting_user=who, request=request)
    elif payload.is_active is True:
        actions.do_reactivate_user(membership.user, org=org, acting_user=who, request=request)
    return _user_or_404(org, user_id)


@router.delete("/users/{user_id}", response={204: None}, summary="団体からの所属解除")
def remove_user(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)):
    org = require(request, "users:write")
    membership = _membership_or_404(org, user_id)
    actions.do_remove_membership(membership, acting_user=actor(request), request=request)
    return Status(204, None)


# ---- tokens -----------------------------------------------------------------------------------------------------


def _token_or_404(request: HttpRequest, org, token_id: int) -> ApiToken:
    return tenancy.get_scoped_or_404(
        ApiToken.objects.for_org(org).select_related("user", "org"), actor(request), pk=token_id
    )


@router.get("/tokens", response=list[TokenOut], summary="APIトークンの一覧")
@paginated(ordering=("-created_at",))
def list_tokens(request: HttpRequest):
    org = require(request, "tokens:read")
    return ApiToken.objects.for_org(org).select_related("user")


@router.post("/tokens", response={201: TokenCreatedOut}, summary="APIトークンの発行", openapi_extra=IDEMPOTENCY_HEADER)
def create_token(request: HttpRequest, payload: TokenCreateIn, response: HttpResponse):
    """The secret is in this response only; it is stored hashed and cannot be shown again. A retry with the
    same Idempotency-Key answers the same token with `secret: null` instead of creating a second one."""
    org = require(request, "tokens:write")
    response["Cache-Control"] = "no-store"  # no proxy or browser cache may keep the secret

    def create() -> tuple[int, dict]:
        token, raw = actions.do_create_api_token(
            org=org,
            name=payload.name,
            scopes=payload.scopes,
            expires_in_days=payload.expires_in_days,
            acting_user=actor(request),
            request=request,
        )
        token = ApiToken.objects.select_related("user").get(pk=token.pk)
        return 201, {**TokenOut.from_orm(token).model_dump(mode="json"), "secret": raw}

    return idempotent(request, org, create, secret_fields=["secret"])


@router.get("/tokens/{token_id}", response=TokenOut, summary="APIトークンの詳細")
def get_token(request: HttpRequest, token_id: int = Path(..., ge=1, le=MAX_ID)):
    org = require(request, "tokens:read")
    return _token_or_404(request, org, token_id)


@router.delete("/tokens/{token_id}", response=TokenOut, summary="APIトークンの失効")
def revoke_token(request: HttpRequest, token_id: int = Path(..., ge=1, le=MAX_ID)):
    """Revoke a token; revoking it again returns the same result and changes nothing."""
    org = require(request, "tokens:write")
    token = _token_or_404(request, org, token_id)
    token = actions.do_revoke_api_token(token, acting_user=actor(request), request=request)
    return ApiToken.objects.select_related("user").get(pk=token.pk)

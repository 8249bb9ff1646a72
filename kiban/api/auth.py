"""Who is calling the API, and for which body (認証と操作中の団体).

Every route requires one of two ways in, unless it says `auth=None` (public, e.g. the registry of bodies):

* `Authorization: Bearer kbn_…` — an API token. It acts for its own body only, with its scopes. Each use is
  audited ("token.use"); each refusal too ("token.refused"), and every refusal — unknown, malformed,
  expired, revoked, of a removed member — gets the same 401, so that callers cannot probe for tokens.
* the session cookie of a signed-in user, with Django's CSRF check on unsafe methods (send X-CSRFToken).
  It acts for the session's acting body (chosen in the UI), with the scopes of the user's role there.

In a handler::

    from kiban.api.auth import require

    @router.get("/things", response=list[ThingOut])
    @paginated(ordering=("-created_at",))
    def list_things(request):
        org = require(request, "things:read")          # 403 problem unless the actor holds the scope
        return Thing.objects.for_org(org)

    thing = get_scoped_or_404(Thing, request.auth, pk=thing_id)   # 404 for other bodies' things
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from kiban.accounts import tokens
from kiban.accounts.scopes import scopes_for_role
from kiban.core import tenancy
from kiban.core.errors import KibanError


class ApiAuthError(KibanError):
    default_code = "unauthenticated"
    status = 401


class ApiForbidden(KibanError):
    default_code = "forbidden"
    status = 403


def _invalid_token() -> ApiAuthError:
    return ApiAuthError(
        "APIトークンが無効です (期限切れ・失効・不明のいずれか)。新しいトークンを発行してください。",
        "The API token is not valid (expired, revoked or unknown). Create a new token.",
        code="invalid_token",
        field="Authorization",
        rule="valid_token",
    )


class TokenAuth(HttpBearer):
    """Bearer token. A presented but unusable token is a 401 at once, never a fall-back to the session.
    With `scope`, every route behind it also needs that scope (see `scoped_auth`)."""

    openapi_scheme = "bearer"

    def __init__(self, scope: str | None = None) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from kiban.accounts.actions import do_record_token_refusal, do_record_token_use

        api_token, reason, prefix = tokens.check(token.strip())
        if reason != "ok":
            do_record_token_refusal(api_token, prefix=prefix, reason=reason, request=request)
            raise _invalid_token()
        do_record_token_use(api_token, request=request)
        request.api_token = api_token
        _check_scope(request, api_token, self.scope)
        return api_token


class SessionAuth(APIKeyCookie):
    """The signed-in user's session; CSRF is checked only once we know there is a session to protect.
    With `scope`, every route behind it also needs that scope (see `scoped_auth`)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self, scope: str | None = None) -> None:
        super().__init__(csrf=True)
        self.scope = scope

    def _get_key(self, request: HttpRequest) -> str | None:
        if not getattr(request, "user", None) or not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is not None and request.user.is_authenticated and request.user.is_active:
            _check_scope(request, request.user, self.scope)
            return request.user
        return None


def _check_scope(request: HttpRequest, who: Any, scope: str | None) -> None:
    if scope is not None:
        request.auth = who  # ninja sets it only after auth returns; require() reads it
        require(request, scope)


def scoped_auth(scope: str) -> list:
    """Auth for a whole router whose routes all need `scope` (an engine: "address:use"), so that an engine
    cannot forget the check: `api.add_router("/address/", router, auth=scoped_auth("address:use"))`.
    Routes that say `auth=None` stay public."""
    return [TokenAuth(scope), SessionAuth(scope)]


def actor(request: HttpRequest) -> Any:
    """The authenticated actor: a User (session) or an ApiToken."""
    return getattr(request, "auth", None)


def require(request: HttpRequest, scope: str | None = None):
    """The acting body (Org) of this request, after checking that the actor may use `scope` there.

    Token: its body; the scope must be among the token's scopes and still allowed to its user's role.
    Session: the acting body chosen in the UI (or the user's first); the role there must allow the scope.
    """
    who = actor(request)
    if tenancy.is_token(who):
        org = who.org
        role = tenancy.role_in(who, org)
        granted = set(who.scopes) & scopes_for_role(role)
    else:
        membership = tenancy.resolve_acting_membership(request) if who is not None else None
        if membership is None:
            raise ApiForbidden(
                "所属している団体がありません。", "You do not belong to any body.", code="no_membership"
            )
        org = membership.org
        role = membership.role
        granted = scopes_for_role(role)
    request.org = org
    if scope is not None and scope not in granted:
        raise ApiForbidden(
            f"この操作には権限「{scope}」が必要です。",
            f"This operation needs the scope {scope!r}.",
            code="insufficient_scope",
            field="scope",
            rule=scope,
        )
    return org

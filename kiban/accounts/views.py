"""Accounts pages: sign in/out, my password, and — for a body's 管理者 — its users and API tokens.

Every page works on the acting body (`request.org`, set by `org_required`). A user or token of another
body is a 404, as if it did not exist; a 職員 opening a 管理者 page gets a 403 (the body is their own, so
nothing is leaked). Writes call kiban.accounts.actions, which check the role again and audit.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from kiban.accounts import actions, ratelimit
from kiban.accounts.forms import LoginForm, PasswordChangeForm, RoleForm, TokenCreateForm, UserCreateForm
from kiban.accounts.models import ApiToken, Membership, Role
from kiban.accounts.scopes import all_scopes, scopes_for_role
from kiban.audit.log import client_ip
from kiban.core.errors import KibanError
from kiban.core.tenancy import get_scoped_or_404, org_required, resolve_acting_membership

admin_required = org_required(roles=[Role.ADMIN])


def _lang() -> str:
    return translation.get_language() or "ja"


def _safe_next(request: HttpRequest, target: str) -> str:
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


# ---- sign in / out ----------------------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    """ログイン. Attempts are limited per username and per client IP (in the database, so every app node
    counts together); the error never says whether the username exists."""
    next_url = request.POST.get("next") or request.GET.get("next", "")
    if request.user.is_authenticated:
        return redirect(_safe_next(request, next_url))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        if not ratelimit.allow_login(username, client_ip(request) or "unknown"):
            actions.do_record_login_failure(username, reason="rate_limited", request=request)
            form.add_error(None, _("ログインの試行回数が多すぎます。しばらく待ってから、もう一度お試しください。"))
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None:
                actions.do_record_login_failure(username, reason="invalid_credentials", request=request)
                form.add_error(None, _("ユーザー名またはパスワードが正しくありません。"))
            else:
                auth_login(request, user)  # rotates the session key: no session fixation
                resolve_acting_membership(request)
                actions.do_record_login(user, request=request)
                return redirect(_safe_next(request, next_url))
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """ログアウト (POST only, so a link or image on another site cannot sign anyone out)."""
    if request.user.is_authenticated:
        actions.do_record_logout(request.user, request=request)
    auth_logout(request)
    messages.success(request, _("ログアウトしました。"))
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@sensitive_post_parameters("old_password", "new_password", "new_password_confirm")
def password_change(request: HttpRequest) -> HttpResponse:
    """パスワードの変更 (own)."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.do_change_password(
                request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                request=request,
            )
        except KibanError as exc:
            form.add_kiban_error(exc, _lang())
        else:
            update_session_auth_hash(request, request.user)  # stay signed in here, sign out other sessions
            messages.success(request, _("パスワードを変更しました。"))
            return redirect("ui:dashboard")
    return render(request, "accounts/password_change.html", {"form": form})


# ---- users of my body -------------------------------------------------------------------------------------------


def _membership_or_404(request: HttpRequest, user_id: int) -> Membership:
    # Scoped to the acting body: another body's user is "not found", never "forbidden".
    return get_scoped_or_404(
        Membership.objects.for_org(request.org).select_related("user", "org"), request.user, user_id=user_id
    )


@admin_required
def user_list(request: HttpRequest) -> HttpResponse:
    """利用者管理: the users of the acting body."""
    memberships = Membership.objects.for_org(request.org).select_related("user").order_by("user__username")
    return render(
        request,
        "accounts/user_list.html",
        {"memberships": memberships, "role_choices": Role.choices},
    )


@admin_required
@sensitive_post_parameters("password")
def user_create(request: HttpRequest) -> HttpResponse:
    """利用者の登録."""
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = actions.do_create_user(
                org=request.org,
                acting_user=request.user,
                request=request,
                **form.cleaned_data,
            )
        except KibanError as exc:
            form.add_kiban_error(exc, _lang())
        else:
            messages.success(request, _("利用者「%(name)s」を登録しました。") % {"name": user})
            return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form})


@admin_required
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    """利用者の詳細: role change, deactivation, removal from the body."""
    membership = _membership_or_404(request, user_id)
    return render(
        request,
        "accounts/user_detail.html",
        {"m": membership, "role_form": RoleForm(initial={"role": membership.role}, auto_id="id_role_%s")},
    )


def _run(request: HttpRequest, fn, success: str) -> bool:
    """Call an action; report its error as a message (these are one-button forms with no field to mark)."""
    try:
        fn()
    except KibanError as exc:
        messages.error(request, exc.message(_lang()))
        return False
    messages.success(request, success)
    return True


@admin_required
@require_POST
def user_role(request: HttpRequest, user_id: int) -> HttpResponse:
    membership = _membership_or_404(request, user_id)
    form = RoleForm(request.POST, auto_id="id_role_%s")
    if not form.is_valid():
        return render(request, "accounts/user_detail.html", {"m": membership, "role_form": form}, status=400)
    _run(
        request,
        lambda: actions.do_change_role(membership, form.cleaned_data["role"], acting_user=request.user, request=request),
        _("役割を変更しました。"),
    )
    return redirect("accounts:user_detail", user_id=user_id)


@admin_required
@require_POST
def user_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    membership = _membership_or_404(request, user_id)
    _run(
        request,
        lambda: actions.do_deactivate_user(membership.user, org=request.org, acting_user=request.user, request=request),
        _("利用を停止しました。"),
    )
    return redirect("accounts:user_detail", user_id=user_id)


@admin_required
@require_POST
def user_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    membership = _membership_or_404(request, user_id)
    _run(
        request,
        lambda: actions.do_reactivate_user(membership.user, org=request.org, acting_user=request.user, request=request),
        _("利用を再開しました。"),
    )
    return redirect("accounts:user_detail", user_id=user_id)


@admin_required
@require_POST
def user_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    membership = _membership_or_404(request, user_id)
    if _run(
        request,
        lambda: actions.do_remove_membership(membership, acting_user=request.user, request=request),
        _("この団体から所属を解除しました。"),
    ):
        return redirect("accounts:users")
    return redirect("accounts:user_detail", user_id=user_id)


# ---- API tokens -------------------------------------------------------------------------------------------------


def _scope_choices(role: str) -> list[tuple[str, str]]:
    allowed = scopes_for_role(role)
    en = _lang().startswith("en")
    return [(s.name, f"{s.name} — {s.label_en if en else s.label_ja}") for s in all_scopes() if s.name in allowed]


@admin_required
def token_list(request: HttpRequest) -> HttpResponse:
    """APIトークン: the acting body's tokens (never their secrets)."""
    tokens = ApiToken.objects.for_org(request.org).select_related("user").order_by("-created_at", "-id")
    return render(request, "accounts/token_list.html", {"tokens": tokens})


@admin_required
def token_create(request: HttpRequest) -> HttpResponse:
    """APIトークンの発行. The secret is rendered in this one response (not stored, not cached)."""
    form = TokenCreateForm(request.POST or None, scope_choices=_scope_choices(request.role))
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = actions.do_create_api_token(
                org=request.org,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.cleaned_data["expires_in_days"],
                acting_user=request.user,
                request=request,
            )
        except KibanError as exc:
            form.add_kiban_error(exc, _lang())
        else:
            response = render(request, "accounts/token_created.html", {"token": token, "secret": raw})
            add_never_cache_headers(response)
            return response
    return render(request, "accounts/token_form.html", {"form": form})


@admin_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """APIトークンの失効 (idempotent)."""
    token = get_scoped_or_404(ApiToken.objects.for_org(request.org), request.user, pk=token_id)
    _run(
        request,
        lambda: actions.do_revoke_api_token(token, acting_user=request.user, request=request),
        _("APIトークン「%(name)s」を失効させました。") % {"name": token.name},
    )
    return redirect("accounts:tokens")

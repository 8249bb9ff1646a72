"""Every write to accounts, memberships and API tokens (利用者・所属・APIトークンの変更).

Each `do_*` function takes the acting user (or token), checks that the actor may do it in that body,
validates its input (raising `AccountsError` naming the field and rule), makes the change and records the
audit entry in the same `transaction.atomic()`. Views and API handlers only parse, call one of these, and
render. Retries are safe: revoking a revoked token or deactivating an inactive user changes nothing and
writes no second entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from kiban.accounts import tokens
from kiban.accounts.models import ApiToken, Membership, Role, User
from kiban.accounts.scopes import get_scope, scopes_for_role
from kiban.audit.log import record
from kiban.core import tenancy
from kiban.core.errors import KibanError

TOKEN_MIN_DAYS = 1
TOKEN_MAX_DAYS = 365
TOKEN_DEFAULT_DAYS = 90


class AccountsError(KibanError):
    """利用者・APIトークンの操作の誤り."""

    default_code = "invalid"


def _forbidden() -> AccountsError:
    return AccountsError(
        "この操作を行う権限がありません。", "You are not allowed to do this.", code="forbidden", status=403
    )


def _require_admin(actor: Any, org) -> None:
    """The actor must be 管理者 of `org` (for a token: its creator, in the token's own body)."""
    if not tenancy.has_role(actor, org, [Role.ADMIN]):
        raise _forbidden()


def _user_state(user: User) -> dict[str, Any]:
    return {"username": user.username, "email": user.email, "display_name": user.display_name, "is_active": user.is_active}


def _clean_role(role: str) -> str:
    if role not in Role.values:
        raise AccountsError(
            f"役割は {'、'.join(str(label) for label in Role.labels)} のいずれかを指定してください。",
            f"role must be one of {', '.join(Role.values)}.",
            field="role",
            rule="choice",
        )
    return role


def clean_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise AccountsError("ユーザー名を入力してください。", "username is required.", field="username", rule="required")
    if len(username) > 150:
        raise AccountsError(
            "ユーザー名は150文字以内で入力してください。", "username must be at most 150 characters.",
            field="username", rule="max_length",
        )
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError:
        raise AccountsError(
            "ユーザー名には文字・数字と @ . + - _ のみ使えます。",
            "username may contain only letters, digits and @ . + - _.",
            field="username",
            rule="format",
        ) from None
    return username


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise AccountsError(
            "メールアドレスの形式が正しくありません。", "email is not a valid address.", field="email", rule="format"
        ) from None
    return email


def _clean_display_name(display_name: str) -> str:
    display_name = (display_name or "").strip()
    if len(display_name) > 100:
        raise AccountsError(
            "表示名は100文字以内で入力してください。", "display_name must be at most 100 characters.",
            field="display_name", rule="max_length",
        )
    return display_name


def _check_password(password: str, user: User, field: str = "password") -> None:
    try:
        validate_password(password, user)
    except ValidationError:
        # Django's validators speak the active language; the error carries both, like every KibanError.
        messages = {}
        for lang in ("ja", "en"):
            with translation.override(lang):
                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    messages[lang] = " ".join(exc.messages)
        raise AccountsError(messages["ja"], messages["en"], field=field, rule="password_policy") from None


def _is_last_admin(membership: Membership) -> bool:
    if membership.role != Role.ADMIN:
        return False
    others = Membership.objects.filter(org_id=membership.org_id, role=Role.ADMIN, user__is_active=True).exclude(
        pk=membership.pk
    )
    return not others.exists()


def _last_admin_error(field: str) -> AccountsError:
    # A body without any 管理者 could never manage its users again.
    return AccountsError(
        "団体の最後の管理者は変更・削除できません。先に別の管理者を追加してください。",
        "The last administrator of a body cannot be changed or removed. Add another administrator first.",
        code="last_admin",
        field=field,
        rule="last_admin",
        status=409,
    )


# ---- users and memberships -----------------------------------------------------------------------------------


def do_create_user(
    *,
    org,
    username: str,
    role: str,
    acting_user: Any,
    email: str = "",
    display_name: str = "",
    password: str | None = None,
    request=None,
) -> User:
    """利用者の登録: a new user, member of `org` with `role`. Without a password the user cannot sign in
    until one is set (an unusable password, not an empty one)."""
    _require_admin(acting_user, org)
    username = clean_username(username)
    email = _clean_email(email)
    display_name = _clean_display_name(display_name)
    role = _clean_role(role)
    user = User(username=username, email=email, display_name=display_name)
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        if User.objects.filter(username__iexact=username).exists():
            raise AccountsError(
                "このユーザー名は使用できません。別の名前を指定してください。",
                "This username is not available. Choose another.",
                code="username_taken",
                field="username",
                rule="unique",
                status=409,
            )
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            # Lost a race with an identical request: same answer as above.
            raise AccountsError(
                "このユーザー名は使用できません。別の名前を指定してください。",
                "This username is not available. Choose another.",
                code="username_taken", field="username", rule="unique", status=409,
            ) from None
        membership = Membership.objects.create(user=user, org=org, role=role)
        record(actor=acting_user, org=org, action="user.create", target=user, after=_user_state(user), request=request)
        record(actor=acting_user, org=org, action="membership.add", target=membership, after={"user": username, "role": role}, request=request)
    return user


def do_update_user(
    user: User, *, org, acting_user: Any, email: str | None = None, display_name: str | None = None, request=None
) -> User:
    """利用者情報の変更 (email, display name) by a 管理者 of a body the user belongs to."""
    _require_admin(acting_user, org)
    if not user.memberships.filter(org=org).exists():
        raise _forbidden()
    before = _user_state(user)
    if email is not None:
        user.email = _clean_email(email)
    if display_name is not None:
        user.display_name = _clean_display_name(display_name)
    after = _user_state(user)
    if after == before:
        return user
    with transaction.atomic():
        user.save(update_fields=["email", "display_name"])
        record(actor=acting_user, org=org, action="user.update", target=user, before=before, after=after, request=request)
    return user


def do_change_role(membership: Membership, role: str, *, acting_user: Any, request=None) -> Membership:
    """役割の変更 within one body."""
    _require_admin(acting_user, membership.org)
    role = _clean_role(role)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == role:
            return membership
        if _is_last_admin(membership):
            raise _last_admin_error("role")
        before = {"role": membership.role}
        membership.role = role
        membership.save(update_fields=["role"])
        _revoke_tokens_beyond_role(membership, acting_user, request)
        record(
            actor=acting_user, org=membership.org, action="membership.role_change", target=membership,
            before=before, after={"role": role}, request=request,
        )
    return membership


def do_remove_membership(membership: Membership, *, acting_user: Any, request=None) -> None:
    """所属の解除: the user stays (other bodies may still have them) but leaves this body; their tokens
    for this body are revoked."""
    _require_admin(acting_user, membership.org)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().select_related("user", "org").filter(pk=membership.pk).first()
        if membership is None:
            return  # already removed: a retry
        if _is_last_admin(membership):
            raise _last_admin_error("role")
        _revoke_all_tokens(membership.user, membership.org, acting_user, request)
        record(
            actor=acting_user, org=membership.org, action="membership.remove", target=membership,
            before={"user": membership.user.username, "role": membership.role}, request=request,
        )
        membership.delete()


def do_deactivate_user(user: User, *, org, acting_user: Any, request=None) -> User:
    """利用停止: the user can no longer sign in anywhere, and all their tokens are revoked.

    Only a 管理者 of every body the user belongs to may do it, since it affects all of them; otherwise
    remove the membership instead."""
    _require_admin(acting_user, org)
    user_orgs = set(user.memberships.values_list("org_id", flat=True))
    if org.pk not in user_orgs:
        raise _forbidden()
    admin_orgs = set(tenancy.acting_memberships(acting_user, [Role.ADMIN]).values_list("org_id", flat=True))
    if not user_orgs <= admin_orgs:
        raise AccountsError(
            "この利用者は他の団体にも所属しているため停止できません。この団体からの所属の解除を行ってください。",
            "This user also belongs to other bodies; remove them from this body instead.",
            code="other_bodies", field="is_active", rule="all_bodies_admin", status=409,
        )
    if tenancy.actor_user(acting_user) == user:
        raise AccountsError(
            "自分自身を停止することはできません。", "You cannot deactivate yourself.",
            code="self", field="is_active", rule="not_self", status=409,
        )
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            return user
        for membership in user.memberships.select_related("org"):
            if _is_last_admin(membership):
                raise _last_admin_error("is_active")
        user.is_active = False
        user.save(update_fields=["is_active"])
        for membership in user.memberships.select_related("org"):
            _revoke_all_tokens(user, membership.org, acting_user, request)
            record(
                actor=acting_user, org=membership.org, action="user.deactivate", target=user,
                before={"is_active": True}, after={"is_active": False}, request=request,
            )
    return user


def do_reactivate_user(user: User, *, org, acting_user: Any, request=None) -> User:
    """利用再開."""
    _require_admin(acting_user, org)
    if not user.memberships.filter(org=org).exists():
        raise _forbidden()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_active:
            return user
        user.is_active = True
        user.save(update_fields=["is_active"])
        record(
            actor=acting_user, org=org, action="user.reactivate", target=user,
            before={"is_active": False}, after={"is_active": True}, request=request,
        )
    return user


def do_change_password(user: User, *, old_password: str, new_password: str, request=None) -> None:
    """パスワードの変更 by the user themselves (the old password is required)."""
    if not user.check_password(old_password or ""):
        raise AccountsError(
            "現在のパスワードが正しくありません。", "The current password is wrong.",
            field="old_password", rule="matches",
        )
    _check_password(new_password, user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        for membership in user.memberships.select_related("org"):
            record(actor=user, org=membership.org, action="user.password_change", target=user,
                   before={"password": "old"}, after={"password": "new"}, request=request)
        if not user.memberships.exists():
            record(actor=user, org=None, action="user.password_change", target=user,
                   before={"password": "old"}, after={"password": "new"}, request=request)


# ---- the server operator (CLI) -----------------------------------------------------------------------------------


def do_grant_admin_by_operator(
    *, org, username: str, email: str = "", display_name: str = "", password: str | None = None, request=None
) -> User:
    """管理者の設定 by whoever runs the server (`kiban accounts create-admin`): how a body gets its first
    管理者, or a new one when none is left. Creates the user if needed; the actor is the system (None)."""
    username = clean_username(username)
    email = _clean_email(email)
    display_name = _clean_display_name(display_name)
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=email, display_name=display_name)
            if password:
                _check_password(password, user)
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            record(actor=None, org=org, action="user.create", target=user, after=_user_state(user), request=request)
        elif password:
            raise AccountsError(
                "既存の利用者のパスワードはここでは変更しません。kiban accounts set-password を使ってください。",
                "An existing user's password is not changed here; use kiban accounts set-password.",
                field="password", rule="existing_user",
            )
        membership = Membership.objects.select_for_update().filter(user=user, org=org).first()
        if membership is None:
            membership = Membership.objects.create(user=user, org=org, role=Role.ADMIN)
            record(actor=None, org=org, action="membership.add", target=membership,
                   after={"user": user.username, "role": Role.ADMIN}, request=request)
        elif membership.role != Role.ADMIN:
            before = {"role": membership.role}
            membership.role = Role.ADMIN
            membership.save(update_fields=["role"])
            record(actor=None, org=org, action="membership.role_change", target=membership,
                   before=before, after={"role": Role.ADMIN}, request=request)
    return user


def do_set_password_by_operator(user: User, password: str, *, request=None) -> None:
    """パスワードの再設定 by the server operator (`kiban accounts set-password`), e.g. for a locked-out 管理者."""
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        orgs = [m.org for m in user.memberships.select_related("org")] or [None]
        for org in orgs:
            record(actor=None, org=org, action="user.password_reset", target=user,
                   before={"password": "old"}, after={"password": "new"}, request=request)


# ---- sign-in events ----------------------------------------------------------------------------------------------


def do_record_login(user: User, *, request=None) -> None:
    """ログイン: recorded in every body the user belongs to, so each body's 管理者 sees it."""
    with transaction.atomic():
        orgs = [m.org for m in user.memberships.select_related("org")] or [None]
        for org in orgs:
            record(actor=user, org=org, action="auth.login", target=user, request=request)


def do_record_login_failure(username: str, *, reason: str, request=None) -> None:
    """ログイン失敗 (wrong password, unknown user, rate-limited): a system-wide entry, since the body is not
    known for an unknown user and must not be guessed for a known one."""
    with transaction.atomic():
        record(
            actor=None, org=None, action="auth.login_failed", target=("accounts.user", "", username[:150]),
            after={"reason": reason}, request=request,
        )


def do_record_logout(user: User, *, request=None) -> None:
    with transaction.atomic():
        orgs = [m.org for m in user.memberships.select_related("org")] or [None]
        for org in orgs:
            record(actor=user, org=org, action="auth.logout", target=user, request=request)


# ---- API tokens ----------------------------------------------------------------------------------------------


def _clean_scopes(scopes: Iterable[str], allowed: set[str]) -> list[str]:
    scopes = sorted(set(scopes or []))
    if not scopes:
        raise AccountsError(
            "権限を1つ以上選んでください。", "Choose at least one scope.", field="scopes", rule="required"
        )
    unknown = [s for s in scopes if get_scope(s) is None]
    if unknown:
        raise AccountsError(
            f"不明な権限です: {', '.join(unknown)}", f"Unknown scopes: {', '.join(unknown)}",
            field="scopes", rule="choice",
        )
    beyond = [s for s in scopes if s not in allowed]
    if beyond:
        raise AccountsError(
            f"あなたの役割では付与できない権限です: {', '.join(beyond)}",
            f"Your role cannot grant these scopes: {', '.join(beyond)}",
            code="forbidden_scope", field="scopes", rule="within_role", status=403,
        )
    return scopes


def do_create_api_token(
    *,
    org,
    name: str,
    scopes: Iterable[str],
    acting_user: Any,
    expires_in_days: int = TOKEN_DEFAULT_DAYS,
    request=None,
) -> tuple[ApiToken, str]:
    """APIトークンの発行. Returns (token, secret); the secret is never stored and never shown again.

    The token acts for `org` on behalf of the acting user, with at most the scopes that user's role allows
    there (and, when a token mints a token, at most its own scopes)."""
    _require_admin(acting_user, org)
    name = (name or "").strip()
    if not name:
        raise AccountsError("名前を入力してください。", "name is required.", field="name", rule="required")
    if len(name) > 100:
        raise AccountsError(
            "名前は100文字以内で入力してください。", "name must be at most 100 characters.", field="name", rule="max_length"
        )
    if not isinstance(expires_in_days, int) or not TOKEN_MIN_DAYS <= expires_in_days <= TOKEN_MAX_DAYS:
        raise AccountsError(
            f"有効日数は{TOKEN_MIN_DAYS}以上{TOKEN_MAX_DAYS}以下で指定してください。",
            f"expires_in_days must be between {TOKEN_MIN_DAYS} and {TOKEN_MAX_DAYS}.",
            field="expires_in_days", rule="range",
        )
    allowed = scopes_for_role(tenancy.role_in(acting_user, org))
    if tenancy.is_token(acting_user):
        allowed &= set(acting_user.scopes)
    scopes = _clean_scopes(scopes, allowed)
    user = tenancy.actor_user(acting_user)
    with transaction.atomic():
        token, raw = tokens.mint(
            org=org, user=user, name=name, scopes=scopes, expires_at=timezone.now() + timedelta(days=expires_in_days)
        )
        record(
            actor=acting_user, org=org, action="token.create", target=token,
            after={"name": name, "prefix": token.prefix, "scopes": scopes, "expires_at": token.expires_at},
            request=request,
        )
    return token, raw


def do_revoke_api_token(token: ApiToken, *, acting_user: Any, request=None, reason: str = "revoked") -> ApiToken:
    """APIトークンの失効. Revoking a revoked token is a no-op (a retry)."""
    _require_admin(acting_user, token.org)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().select_related("org").get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            actor=acting_user, org=token.org, action="token.revoke", target=token,
            before={"revoked_at": None}, after={"revoked_at": token.revoked_at, "reason": reason}, request=request,
        )
    return token


def _revoke_all_tokens(user: User, org, acting_user: Any, request) -> None:
    # Called inside the caller's transaction: a user who leaves a body takes no working token with them.
    now = timezone.now()
    for token in ApiToken.objects.filter(user=user, org=org, revoked_at__isnull=True):
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        record(actor=acting_user, org=org, action="token.revoke", target=token,
               before={"revoked_at": None}, after={"revoked_at": now, "reason": "membership_changed"}, request=request)


def _revoke_tokens_beyond_role(membership: Membership, acting_user: Any, request) -> None:
    # A demoted user's tokens must not keep powers the new role lacks.
    allowed = scopes_for_role(membership.role)
    now = timezone.now()
    for token in ApiToken.objects.filter(user_id=membership.user_id, org_id=membership.org_id, revoked_at__isnull=True):
        if not set(token.scopes) <= allowed:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            record(actor=acting_user, org=membership.org, action="token.revoke", target=token,
                   before={"revoked_at": None}, after={"revoked_at": now, "reason": "role_changed"}, request=request)


def do_record_token_use(token: ApiToken, *, request=None) -> None:
    """APIトークンの利用 (each authenticated API request)."""
    with transaction.atomic():
        now = timezone.now()
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        record(
            actor=token, org=token.org, action="token.use", target=token,
            after={"method": getattr(request, "method", ""), "path": getattr(request, "path", "")[:200]},
            request=request,
        )


def do_record_token_refusal(token: ApiToken | None, *, prefix: str, reason: str, request=None) -> None:
    """拒否されたトークン利用. Recorded in the token's body when the token is known (its 管理者 should see
    that an expired or revoked token is still in use somewhere), system-wide otherwise."""
    with transaction.atomic():
        record(
            actor=None,
            org=token.org if token is not None else None,
            action="token.refused",
            target=token if token is not None else ("accounts.apitoken", "", f"kbn_{prefix}_…" if prefix else ""),
            after={
                "reason": reason,
                "method": getattr(request, "method", ""),
                "path": getattr(request, "path", "")[:200],
            },
            request=request,
        )

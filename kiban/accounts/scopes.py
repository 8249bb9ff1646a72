"""API scopes (APIの権限): named permissions that a token carries and a role allows.

A scope is registered once under a stable name ("users:read"), with the roles whose holders may use it.
A session user has every scope their role in the acting body allows; a token has the scopes chosen when it
was created, and only while its creator's role still allows them (a 職員 cannot mint a "users:write" token,
and a token does not outlive its creator's demotion). Engines register their own scopes, e.g. in apps.py::

    register_scope("address:use", label_ja="住所の正規化", roles=ALL_ROLES)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from kiban.accounts.models import Role

ALL_ROLES = frozenset(r.value for r in Role)
ADMIN_ONLY = frozenset({Role.ADMIN.value})
STAFF_AND_ADMIN = frozenset({Role.ADMIN.value, Role.STAFF.value})  # who may submit engine jobs


@dataclass(frozen=True)
class Scope:
    name: str
    label_ja: str
    label_en: str
    roles: frozenset[str]


_SCOPES: dict[str, Scope] = {}


def register_scope(name: str, *, label_ja: str, label_en: str = "", roles: Iterable[str] = ALL_ROLES) -> Scope:
    """Register a scope; the same definition twice is harmless, a different one is a programming error."""
    scope = Scope(name=name, label_ja=label_ja, label_en=label_en or name, roles=frozenset(roles))
    existing = _SCOPES.get(name)
    if existing is not None and existing != scope:
        raise ImproperlyConfigured(f"scope {name!r} is already registered with another definition")
    _SCOPES[name] = scope
    return scope


def get_scope(name: str) -> Scope | None:
    return _SCOPES.get(name)


def all_scopes() -> list[Scope]:
    return sorted(_SCOPES.values(), key=lambda s: s.name)


def scopes_for_role(role: str | None) -> set[str]:
    """The scope names a member with `role` may hold."""
    if role is None:
        return set()
    return {s.name for s in _SCOPES.values() if role in s.roles}


# The platform's own scopes. Engines add theirs the same way.
register_scope("orgs:read", label_ja="団体情報の参照", label_en="Read bodies")
register_scope("me:read", label_ja="自分の情報の参照", label_en="Read own profile")
register_scope("users:read", label_ja="利用者の参照", label_en="Read users of the body")
register_scope("users:write", label_ja="利用者の管理", label_en="Manage users of the body", roles=ADMIN_ONLY)
register_scope("tokens:read", label_ja="APIトークンの参照", label_en="Read API tokens", roles=ADMIN_ONLY)
register_scope("tokens:write", label_ja="APIトークンの管理", label_en="Manage API tokens", roles=ADMIN_ONLY)
register_scope("audit:read", label_ja="監査ログの参照", label_en="Read the audit log", roles=ADMIN_ONLY)
register_scope("address:use", label_ja="住所の正規化", label_en="Use the address engine")
# the engines' job pages and API take uploads from staff and admins only: a viewer's token must not offer them
register_scope("tidy:use", label_ja="データの整形", label_en="Use the data tidying engine", roles=STAFF_AND_ADMIN)
register_scope("anon:use", label_ja="匿名加工", label_en="Use the anonymisation engine", roles=STAFF_AND_ADMIN)

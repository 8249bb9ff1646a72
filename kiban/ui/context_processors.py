"""What every page of the shell needs: the acting body, the user's role there and the registry's date."""

from __future__ import annotations

from django.db import DatabaseError

from kiban.accounts.models import Role
from kiban.core import tenancy


def registry_date() -> str:
    """The date of the loaded registry of bodies (shown in the footer), or "" before `kiban orgs load`."""
    from kiban.orgs.models import RegistryInfo

    try:
        info = RegistryInfo.objects.order_by("-loaded_at").first()
    except DatabaseError:  # an error page rendered while the database is down must still render
        return ""
    return info.data_date if info else ""


def acting_membership(request):
    """The membership the signed-in user acts through (kiban.core.tenancy decides), once per request."""
    if not hasattr(request, "_kiban_acting_membership"):
        user = getattr(request, "user", None)
        request._kiban_acting_membership = (
            tenancy.resolve_acting_membership(request) if user is not None and user.is_authenticated else None
        )
    return request._kiban_acting_membership


def kiban_shell(request) -> dict:
    acting = acting_membership(request)
    return {
        "acting_membership": acting,
        "acting_is_admin": acting is not None and acting.role == Role.ADMIN,
        "registry_data_date": registry_date,  # a callable: only queried when a template shows it
    }

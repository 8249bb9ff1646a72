"""Tenancy (団体による分離): the one place where "who may see which body's data" is decided.

Every object that belongs to a body (団体) is scoped by it, and that scoping is a security boundary: a user
of 千代田区 never sees, changes or even learns the existence of 川崎市's objects. Engines do not write their
own `filter(org=...)` checks; they use what is here, so that none can forget it.

Rules
-----
1. **An actor** is a `User` (signed in through a session), an `ApiToken` (acting for exactly one body, on
   behalf of the user who created it), or `None`/`AnonymousUser` (sees no body's data).
2. **An actor sees a body's data only through a membership (所属)** of an active user in that body, with a
   role there (管理者 admin, 職員 staff, 審査者 reviewer, 閲覧者 viewer). A token sees only its own body, and
   only while its user is still an active member there.
3. **Nothing crosses bodies by default.** A national or prefecture body may see the data of the bodies below
   it only where a feature registers a *grant* and the query names it
   (`Survey.objects.visible_to(actor, grant="survey_review")`). "Below" means: for a 都道府県, its
   municipalities and their wards; for a 政令指定都市, its 行政区; for a 府省庁, every local body — each
   only if the grant names that kind of upper body (`upper_kinds`, by default prefectures and ministries)
   and the actor holds one of the grant's roles there. Grants are for reading; writes always happen in the
   acting body (`request.org`).
4. **Another body's object is a 404, never a 403**, so that its existence is not leaked.
   `get_scoped_or_404` does this; a 403 is only for "this is your body, but your role may not do that".

How to use it
-------------
Models::

    class Survey(OrgScopedModel):            # adds `org` (FK to orgs.Org) and the scoped manager
        title = models.CharField(...)

    class Answer(models.Model):              # scoped through a relation instead of its own `org`
        survey = models.ForeignKey(Survey, ...)
        org_path = "survey__org"
        objects = OrgScopedManager()

Queries::

    Survey.objects.visible_to(request.user)                      # every body the user belongs to
    Survey.objects.visible_to(actor, roles=[Role.ADMIN])         # only where the actor is 管理者
    Survey.objects.visible_to(actor, grant="survey_review")      # + bodies below, if the grant allows
    Survey.objects.for_org(request.org)                          # the acting body only (typical for pages)
    survey = get_scoped_or_404(Survey, request.user, pk=pk)      # 404 for other bodies' objects
    survey = get_scoped_or_404(Survey.objects.for_org(request.org), request.user, pk=pk)
                                                                 # … and only in the acting body (pages, writes)

Grants (registered once, at import time of the feature, e.g. in its `apps.py` ready())::

    register_grant("survey_review", label_ja="調査回答の審査", roles={Role.ADMIN, Role.REVIEWER},
                   upper_kinds={"prefecture"})

Views (sets `request.org`, `request.membership`, `request.role`; the user picks the acting body among their
memberships, kept in the session under `SESSION_ORG_KEY`; see `set_acting_org`)::

    @org_required(roles=[Role.ADMIN])
    def user_list(request): ...

    class SurveyList(OrgRequiredMixin, ListView):
        org_roles = [Role.ADMIN, Role.STAFF]

API handlers use `kiban.api.auth.require(request, scope)`, which returns the acting body after the same
checks (for a token: its body and its scopes; for a session: the acting body and the role's scopes).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:  # pragma: no cover
    from kiban.accounts.models import Membership
    from kiban.orgs.models import Org

SESSION_ORG_KEY = "kiban_org_id"

# Kinds of body (kiban.orgs.source) that are "above" others.
PREFECTURE = "prefecture"
DESIGNATED_CITY = "designated_city"
MINISTRY = "ministry"


# --------------------------------------------------------------------------------------------------------------
# Grants: explicit, per-feature data-level access to the bodies below.


@dataclass(frozen=True)
class Grant:
    """A feature's permission for upper bodies (国・都道府県) to read the data of the bodies below them."""

    name: str
    label_ja: str
    roles: frozenset[str]
    upper_kinds: frozenset[str] = field(default_factory=lambda: frozenset({PREFECTURE, MINISTRY}))


_GRANTS: dict[str, Grant] = {}


def register_grant(
    name: str, *, label_ja: str, roles: Iterable[str], upper_kinds: Iterable[str] = (PREFECTURE, MINISTRY)
) -> Grant:
    """Register a grant under a stable name. Registering the same definition twice is harmless (reloads);
    a different definition under the same name is a programming error."""
    grant = Grant(name=name, label_ja=label_ja, roles=frozenset(roles), upper_kinds=frozenset(upper_kinds))
    existing = _GRANTS.get(name)
    if existing is not None and existing != grant:
        raise ImproperlyConfigured(f"grant {name!r} is already registered with another definition")
    _GRANTS[name] = grant
    return grant


def get_grant(name: str) -> Grant:
    try:
        return _GRANTS[name]
    except KeyError:
        # A typo must not silently widen or narrow access: fail loudly.
        raise ImproperlyConfigured(f"unknown grant {name!r}; register it with register_grant()") from None


def registered_grants() -> dict[str, Grant]:
    return dict(_GRANTS)


# --------------------------------------------------------------------------------------------------------------
# Actors and the bodies they may see.


def is_token(actor: Any) -> bool:
    return bool(getattr(actor, "is_api_token", False))


def actor_user(actor: Any):
    """The User behind an actor (a token's creator), or None for anonymous/system."""
    if actor is None:
        return None
    if is_token(actor):
        return actor.user
    if getattr(actor, "is_authenticated", False):
        return actor
    return None


def acting_memberships(actor: Any, roles: Iterable[str] | None = None) -> QuerySet[Membership]:
    """The memberships through which `actor` acts: all of an active user's, or the one of a token's body."""
    from kiban.accounts.models import Membership

    user = actor_user(actor)
    if user is None or not user.is_active:
        return Membership.objects.none()
    qs = Membership.objects.filter(user_id=user.pk, user__is_active=True)
    if is_token(actor):
        qs = qs.filter(org_id=actor.org_id)
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    return qs


def _below_q(upper: QuerySet) -> Q:
    """Bodies below any of `upper` (a queryset of Org): municipalities of a prefecture, wards of a city…"""
    upper_ids = upper.values("pk")
    q = Q(prefecture__in=upper_ids) | Q(parent__in=upper_ids) | Q(parent__parent__in=upper_ids)
    if upper.filter(kind=MINISTRY).exists():
        q |= ~Q(kind=MINISTRY)
    return q


def visible_orgs(actor: Any, *, roles: Iterable[str] | None = None, grant: str | None = None) -> QuerySet[Org]:
    """The bodies whose data `actor` may read: its own (optionally only where it has one of `roles`), plus,
    when a registered `grant` is named, the bodies below those where it holds one of the grant's roles."""
    from kiban.orgs.models import Org

    own_ids = acting_memberships(actor, roles).values("org_id")
    q = Q(pk__in=own_ids)
    if grant is not None:
        g = get_grant(grant)
        upper = Org.objects.filter(
            pk__in=acting_memberships(actor, g.roles).values("org_id"), kind__in=list(g.upper_kinds)
        )
        q |= _below_q(upper)
    return Org.objects.filter(q)


def role_in(actor: Any, org: Org | int | None) -> str | None:
    """The actor's role in `org` (for a token: its user's role in the token's body), or None."""
    if org is None:
        return None
    org_id = org if isinstance(org, int) else org.pk
    return acting_memberships(actor).filter(org_id=org_id).values_list("role", flat=True).first()


def has_role(actor: Any, org: Org | int | None, roles: Iterable[str]) -> bool:
    return role_in(actor, org) in set(roles)


# --------------------------------------------------------------------------------------------------------------
# Models.


class OrgScopedQuerySet(models.QuerySet):
    """A queryset that knows how its rows belong to a body (`model.org_path`, default "org")."""

    def _org_path(self) -> str:
        return getattr(self.model, "org_path", "org")

    def visible_to(self, actor: Any, *, roles: Iterable[str] | None = None, grant: str | None = None):
        return self.filter(**{f"{self._org_path()}__in": visible_orgs(actor, roles=roles, grant=grant)})

    def for_org(self, org: Org | int):
        org_id = org if isinstance(org, int) else org.pk
        return self.filter(**{self._org_path(): org_id})


class OrgScopedManager(models.Manager.from_queryset(OrgScopedQuerySet)):  # type: ignore[misc]
    pass


class OrgScopedModel(models.Model):
    """Base of every model owned by one body (団体). `org` is required and never changes owner silently."""

    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="+", verbose_name=_("団体"))

    objects = OrgScopedManager()
    org_path = "org"

    class Meta:
        abstract = True


def get_scoped_or_404(
    model_or_qs: type[models.Model] | QuerySet,
    actor: Any,
    *,
    roles: Iterable[str] | None = None,
    grant: str | None = None,
    **lookup: Any,
):
    """Fetch one object the actor may see, or raise Http404 — the same for "absent" and "another body's"."""
    qs = model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()
    org_path = getattr(qs.model, "org_path", None)
    if org_path is None:
        raise ImproperlyConfigured(f"{qs.model.__name__} is not scoped by body (no org_path)")
    qs = qs.filter(**{f"{org_path}__in": visible_orgs(actor, roles=roles, grant=grant)})
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        # ValueError/TypeError: a malformed id ("abc" for an integer pk) is "not found", not a crash.
        raise Http404 from None


# --------------------------------------------------------------------------------------------------------------
# Views: the acting body (request.org).


def set_acting_org(request: HttpRequest, org: Org) -> Membership:
    """Make `org` the acting body for this session; 404 unless the user is a member there."""
    membership = acting_memberships(request.user).select_related("org").filter(org_id=org.pk).first()
    if membership is None:
        raise Http404
    request.session[SESSION_ORG_KEY] = org.pk
    return membership


def resolve_acting_membership(request: HttpRequest) -> Membership | None:
    """The membership of the acting body: the one chosen in the session if still valid, else the first by
    body code (so that a user with one body never has to choose)."""
    memberships = acting_memberships(request.user).select_related("org").order_by("org__code")
    chosen = request.session.get(SESSION_ORG_KEY)
    if chosen is not None:
        membership = memberships.filter(org_id=chosen).first()
        if membership is not None:
            return membership
    membership = memberships.first()
    if membership is not None:
        request.session[SESSION_ORG_KEY] = membership.org_id
    elif SESSION_ORG_KEY in request.session:
        del request.session[SESSION_ORG_KEY]
    return membership


def redirect_to_login(next_url: str):
    # Imported late: django.contrib.auth.views needs the user model, and models import this module.
    from django.contrib.auth.views import redirect_to_login as _redirect

    return _redirect(next_url)


def _attach_org(request: HttpRequest, roles: Iterable[str] | None) -> None:
    membership = resolve_acting_membership(request)
    if membership is None:
        # Signed in but a member of no body: nothing to show, and nothing to leak.
        raise PermissionDenied("no membership")
    request.membership = membership
    request.org = membership.org
    request.role = membership.role
    if roles is not None and membership.role not in set(roles):
        # The body is the user's own, so its existence is no secret: 403 is the honest answer here.
        raise PermissionDenied("role")


def org_required(view: Callable | None = None, *, roles: Iterable[str] | None = None):
    """View decorator: signed-in user, a member of the acting body (with one of `roles` if given);
    sets request.org / request.membership / request.role."""
    roles = list(roles) if roles is not None else None

    def decorator(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            _attach_org(request, roles)
            return fn(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


class OrgRequiredMixin:
    """Class-based-view form of `org_required`; set `org_roles` to restrict by role."""

    org_roles: Iterable[str] | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        _attach_org(request, list(self.org_roles) if self.org_roles is not None else None)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

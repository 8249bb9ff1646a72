"""Users, their memberships of bodies with a role per body (管理者, 職員, 審査者, 閲覧者)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kiban.core.tenancy import OrgScopedManager


class User(AbstractUser):
    """A person who signs in. What they may see is decided by their memberships, never by the user alone."""

    display_name = models.CharField(_("表示名"), max_length=100, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class Role(models.TextChoices):
    ADMIN = "admin", _("管理者")
    STAFF = "staff", _("職員")
    REVIEWER = "reviewer", _("審査者")
    VIEWER = "viewer", _("閲覧者")


class Membership(models.Model):
    """所属: a user belongs to a body with one role there."""

    org_path = "org"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "org"], name="membership_user_org_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.org.code} ({self.role})"


class ApiToken(models.Model):
    """APIトークン: acts for one body (団体), on behalf of the user who created it, with named scopes.

    The secret is shown once at creation and stored only as a SHA-256 hash; it is found by its public
    `prefix` (`kbn_<prefix>_<secret>`). A token stops working when it expires, is revoked, or its user is no
    longer an active member of the body.
    """

    # Lets kiban.core.tenancy and kiban.audit tell a token from a user without importing this module.
    is_api_token = True
    org_path = "org"

    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("団体"))
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("作成者"))
    name = models.CharField(_("名前"), max_length=100)
    prefix = models.CharField(_("識別子"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("権限"), default=list)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    expires_at = models.DateTimeField(_("有効期限"))
    revoked_at = models.DateTimeField(_("失効日時"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)

    objects = OrgScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("APIトークン")
        verbose_name_plural = _("APIトークン")

    def __str__(self) -> str:
        return f"{self.name} (kbn_{self.prefix}_…)"

    @property
    def is_authenticated(self) -> bool:
        # Never true: a token is not a signed-in user (templates and auth checks must not treat it as one).
        return False

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def status(self, now=None) -> str:
        if self.is_revoked:
            return "revoked"
        if self.is_expired(now):
            return "expired"
        return "active"


class RateLimitBucket(models.Model):
    """A token bucket kept in the database, so that every app node shares one count (ログイン試行の制限).

    `key` is a SHA-256 of what is limited ("login-user:alice"), so no usernames or IPs are stored here.
    """

    key = models.CharField(max_length=64, unique=True)
    tokens = models.FloatField()
    updated_at = models.DateTimeField()

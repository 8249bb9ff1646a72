"""Users, their memberships of bodies with a role per body (管理者, 職員, 審査者, 閲覧者)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


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

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    org = models.ForeignKey("orgs.Org", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "org"], name="membership_user_org_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.org.code} ({self.role})"

"""監査ログ (audit log): one append-only, hash-chained table for the whole installation.

Every write in Kiban goes through an action function that calls `kiban.audit.log.record()` inside the same
`transaction.atomic()` as the change (zulip's RealmAuditLog pattern). Each entry carries `prev_hash` (the
previous entry's `hash`) and `hash = SHA-256(prev_hash + canonical JSON of the entry)`, so editing, deleting,
inserting or reordering entries is found by `kiban audit verify`.

What keeps the chain verifiable: the hash covers only values stored in this row (ids, labels, JSON), never
anything reached through a foreign key, and the foreign keys are PROTECT so that deleting a user or a body
can neither cascade-delete entries nor null out a hashed id. People and bodies that appear in the audit log
are deactivated, not deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kiban.audit.chain import CanonicalJSONEncoder


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit entry through the ORM (監査ログは追記のみ)."""


class AuditEntryQuerySet(models.QuerySet):
    """Refuses bulk update/delete: the log is append-only; tampering needs raw SQL and is then detected."""

    def update(self, **kwargs):  # type: ignore[override]
        raise AppendOnlyError("監査ログは変更できません（追記のみ）。")

    def delete(self):  # type: ignore[override]
        raise AppendOnlyError("監査ログは削除できません（追記のみ）。")

    def for_org(self, org) -> AuditEntryQuerySet:
        """Entries of one body (団体) — the only way the viewer and API read the log."""
        return self.filter(org=org)


class AuditEntry(models.Model):
    """監査記録: who did what to which object of which body, when, from where, with before/after values."""

    GENESIS_HASH = "0" * 64

    seq = models.PositiveBigIntegerField(_("通番"), unique=True)
    time = models.DateTimeField(_("日時"), db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作者"),
    )
    actor_token_prefix = models.CharField(_("APIトークン"), max_length=32, blank=True)
    # The actor's name as it was at the time: survives renames, and is what the hash covers.
    actor_label = models.CharField(_("操作者名"), max_length=200, blank=True)
    org = models.ForeignKey(
        "orgs.Org", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("団体")
    )
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    target_type = models.CharField(_("対象の種類"), max_length=100, blank=True)
    target_id = models.CharField(_("対象ID"), max_length=64, blank=True)
    target_repr = models.CharField(_("対象"), max_length=200, blank=True)
    changes = models.JSONField(_("変更内容"), default=dict, blank=True, encoder=CanonicalJSONEncoder)
    request_id = models.CharField(_("リクエストID"), max_length=64, blank=True)
    # A CharField, not GenericIPAddressField: PostgreSQL's inet would re-format addresses and break the hash.
    ip = models.CharField(_("IPアドレス"), max_length=45, blank=True)
    prev_hash = models.CharField(_("直前のハッシュ"), max_length=64)
    hash = models.CharField(_("ハッシュ"), max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("監査記録")
        verbose_name_plural = _("監査ログ")
        indexes = [
            # The viewer lists one body's entries newest first, optionally by action.
            models.Index(fields=["org", "-seq"], name="audit_org_seq_idx"),
            models.Index(fields=["org", "action", "-seq"], name="audit_org_action_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_repr}".strip()

    def save(self, *args, **kwargs) -> None:
        # Only record() creates entries, and nothing changes them afterwards.
        if not self._state.adding:
            raise AppendOnlyError("監査ログは変更できません（追記のみ）。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("監査ログは削除できません（追記のみ）。")

    @property
    def before(self) -> dict:
        return (self.changes or {}).get("before") or {}

    @property
    def after(self) -> dict:
        return (self.changes or {}).get("after") or {}

    @property
    def changed_fields(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for the viewer, in a stable order."""
        before, after = self.before, self.after
        return [(k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after))]


class AuditChainHead(models.Model):
    """連鎖の先頭 (chain head): the last entry's seq and hash, updated in the same transaction as each append.

    Without it, deleting the newest entries (truncation) would leave a shorter chain that still verifies.
    It is one row (pk=1). Someone who can rewrite the database can rewrite this row too; against that, copy
    `kiban audit head` somewhere else now and then and check it later with `kiban audit verify --anchor`.
    """

    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("監査ログの先頭")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"

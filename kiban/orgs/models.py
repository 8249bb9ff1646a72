"""団体 (public bodies): prefectures, municipalities, wards of designated cities, ministries."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kiban.orgs import source


class Org(models.Model):
    """A public body (団体). Loaded from the registry (`kiban orgs load`); the tenant of every scoped object.

    `code` is the 6-digit 全国地方公共団体コード with its check digit for local bodies, and the 13-digit
    法人番号 for national ministries and agencies, which have no local-government code.
    """

    KIND_CHOICES = [(k, source.KIND_LABELS_JA[k]) for k in source.KINDS]

    code = models.CharField(_("団体コード"), max_length=13, unique=True)
    name = models.CharField(_("名称"), max_length=100, db_index=True)
    kana = models.CharField(_("よみがな"), max_length=200, db_index=True)
    kind = models.CharField(_("種類"), max_length=20, choices=KIND_CHOICES, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上位団体")
    )
    prefecture = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("都道府県")
    )
    county = models.CharField(_("郡"), max_length=50, blank=True)
    corporate_number = models.CharField(_("法人番号"), max_length=13, blank=True)
    # Normalised search keys (NFKC, katakana, ヶ→ケ …) maintained by the loader: source.name_key / kana_key.
    search_name = models.CharField(max_length=200, db_index=True, blank=True)
    search_kana = models.CharField(max_length=200, db_index=True, blank=True)
    # 都道府県 + 郡 + 名称 (北海道上川郡東神楽町), so an address-like query finds the body too.
    search_full = models.CharField(max_length=300, blank=True)
    # False when the body is no longer in the source (merged or abolished): kept, never deleted.
    is_active = models.BooleanField(_("現存"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("団体")
        verbose_name_plural = _("団体")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def kind_label(self) -> str:
        return source.KIND_LABELS_JA.get(self.kind, self.kind)

    @property
    def code5(self) -> str:
        """The 5-digit form (without check digit) of a local body's code; '' for a ministry."""
        return self.code[:5] if len(self.code) == 6 else ""

    def as_dict(self) -> dict:
        """The public JSON shape of a body (CLI `orgs show` and the API use it)."""
        return {
            "code": self.code,
            "name": self.name,
            "kana": self.kana,
            "kind": self.kind,
            "parent_code": self.parent.code if self.parent_id else None,
        }


class RegistryInfo(models.Model):
    """When and from what the registry was loaded (登録情報の出典と日付; shown in the UI and `kiban orgs info`).

    One row, rewritten by every `kiban orgs load`.
    """

    data_date = models.CharField(_("データの時点"), max_length=100)
    loaded_at = models.DateTimeField(_("読込日時"), auto_now=True)
    body_count = models.PositiveIntegerField(_("団体数"), default=0)
    counts = models.JSONField(_("種類別の団体数"), default=dict, blank=True)

    @classmethod
    def current(cls) -> RegistryInfo | None:
        return cls.objects.order_by("-loaded_at", "-pk").first()

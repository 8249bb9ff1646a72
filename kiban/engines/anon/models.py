"""匿名加工ジョブ (an anonymisation job): a data file and its configuration, processed in the background for one
body (団体). Other bodies never see it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kiban.core.tenancy import OrgScopedModel


class AnonJob(OrgScopedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("待機中")
        RUNNING = "running", _("処理中")
        DONE = "done", _("完了")
        FAILED = "failed", _("失敗")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("登録者"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("登録日時"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("完了日時"))
    filename = models.CharField(max_length=255, verbose_name=_("ファイル名"))
    upload = models.FileField(upload_to="anon/uploads/%Y/%m/", verbose_name=_("元データ"))
    config = models.JSONField(verbose_name=_("加工の設定"))
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, verbose_name=_("状態"))
    report = models.JSONField(null=True, blank=True, verbose_name=_("報告"))
    report_html = models.TextField(blank=True, verbose_name=_("報告書（HTML）"))
    result = models.FileField(upload_to="anon/results/%Y/%m/", blank=True, verbose_name=_("匿名加工データ（ZIP）"))
    error_code = models.CharField(max_length=60, blank=True, verbose_name=_("エラーコード"))
    error_message = models.TextField(blank=True, verbose_name=_("エラー内容"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("匿名加工ジョブ")
        verbose_name_plural = _("匿名加工ジョブ")

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

"""匿名加工ジョブ (an anonymisation job): a data file and its configuration, processed in the background for one
body (団体). Other bodies never see it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kiban.core.jobs import EngineJob


class AnonJob(EngineJob):
    """An upload and its result (kiban.core.jobs), with the configuration and the self-contained HTML report."""

    action_prefix = "anon.job"

    upload = models.FileField(upload_to="anon/uploads/%Y/%m/", verbose_name=_("元データ"))
    config = models.JSONField(verbose_name=_("加工の設定"))
    report_html = models.TextField(blank=True, verbose_name=_("報告書（HTML）"))
    result = models.FileField(upload_to="anon/results/%Y/%m/", blank=True, verbose_name=_("匿名加工データ（ZIP）"))

    class Meta(EngineJob.Meta):
        verbose_name = _("匿名加工ジョブ")
        verbose_name_plural = _("匿名加工ジョブ")

    def finish_details(self) -> dict:
        """The applied generalisation, the loss and the suppressed records (None for a failed job)."""
        report = self.report
        if not report:
            return {"result": None}
        return {"result": {"transformation": {t["column"]: t["level"] for t in report["transformation"]},
                           "loss": report["metric"]["value"], "suppressed": report["suppression"]["records"]}}

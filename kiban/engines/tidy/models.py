"""整形ジョブ (a tidy job): one uploaded file, checked and converted in the background for one body."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kiban.core.jobs import EngineJob


class TidyJob(EngineJob):
    """An upload and its result (kiban.core.jobs), with the machine-readability score of its report."""

    action_prefix = "tidy.job"

    upload = models.FileField(upload_to="tidy/uploads/%Y/%m/", verbose_name=_("アップロードしたファイル"))
    score = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("機械可読性スコア"))
    result = models.FileField(upload_to="tidy/results/%Y/%m/", blank=True, verbose_name=_("変換結果（ZIP）"))

    class Meta(EngineJob.Meta):
        verbose_name = _("整形ジョブ")
        verbose_name_plural = _("整形ジョブ")

    def finish_details(self) -> dict:
        return {"score": self.score}

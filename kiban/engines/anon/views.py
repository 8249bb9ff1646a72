"""匿名加工の画面 (anon pages) for a body's staff: upload data with its configuration, follow the background
job, read the report and the checklist, download the anonymised data. Every page works on the acting body
only (`request.org`); another body's job is a 404."""

from __future__ import annotations

import yaml
from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from kiban.accounts.models import Role
from kiban.core.jobs import UploadFormMixin, detail_context, download_result, get_job_or_404, upload_page
from kiban.core.tenancy import org_required

from .actions import do_submit_job
from .config import load_config, require
from .errors import AnonError
from .io import FORMATS
from .models import AnonJob

staff_required = org_required(roles=[Role.ADMIN, Role.STAFF])

EXAMPLE = """# 列ごとの役割と階層、プライバシーモデル、情報損失の指標
columns:
  氏名: {role: identifier, kind: name}
  年齢: {role: quasi, hierarchy: {builder: intervals, widths: [5, 10, 20]}}
  住所: {role: quasi, hierarchy: {builder: address}}
  職業: {role: sensitive}
unlisted: keep
privacy:
  k: 5
  suppression_limit: 0.04
metric: {name: entropy, monotonic: true}
"""


class JobForm(UploadFormMixin, forms.Form):
    file = forms.FileField(label=_("元データ（CSV・Excel・Parquet）"), help_text=_("50MB まで。1 行目は列名。"))
    config = forms.CharField(label=_("加工の設定（YAML）"), widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false"}),
                             initial=EXAMPLE,
                             help_text=_("列の役割（identifier・quasi・sensitive・insensitive）、階層（ビルダーまたは rows）、"
                                         "k・ℓ・t と削除上限、指標を書きます。階層ファイルの参照はできません。"))
    formats = FORMATS
    unsupported_message = _("この形式は扱えません。CSV・Excel・Parquet を選んでください。")
    unsupported_code = "format"

    def clean_config(self):
        text = self.cleaned_data["config"]
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise forms.ValidationError(_("YAML の構文が正しくありません: %(e)s"), params={"e": exc}, code="syntax") from exc
        if not isinstance(raw, dict):
            raise forms.ValidationError(_("設定は項目名と値の対応で書いてください。"), code="type")
        raw.pop("input", None)
        raw.pop("output", None)
        try:
            cfg = load_config(raw)  # structure, ranges, roles — before any work
            require(cfg, "columns", "quasi", "privacy")
            for c in cfg.columns.values():
                if isinstance(c.hierarchy, str) or (isinstance(c.hierarchy, dict) and "file" in c.hierarchy):
                    raise AnonError(f"columns.{c.name}.hierarchy: 画面からは階層ファイルを参照できません。"
                                    "ビルダーか rows で指定してください。", field=f"columns.{c.name}.hierarchy",
                                    rule="files_not_allowed")
        except AnonError as exc:
            raise forms.ValidationError(exc.message("ja"), code=exc.rule or "invalid") from exc
        return raw


@never_cache
@staff_required
def upload(request: HttpRequest) -> HttpResponse:
    """元データと設定の登録、この団体の最近のジョブ一覧."""
    return upload_page(request, AnonJob, JobForm(request.POST or None, request.FILES or None), "anon/upload.html",
                       lambda data: do_submit_job(request.user, request.org, data["file"], data["config"],
                                                  request=request),
                       "anon:detail")


@never_cache
@staff_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """結果: 適用した加工、削除件数、リスク、チェックリスト、ダウンロード."""
    job = get_job_or_404(request, AnonJob, pk)
    return render(request, "anon/detail.html", detail_context(
        job, config_text=yaml.safe_dump(job.config, allow_unicode=True, sort_keys=False)))


@never_cache
@staff_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    """The self-contained HTML report (inline SVG, no external resources)."""
    job = get_job_or_404(request, AnonJob, pk)
    if not job.report_html:
        raise Http404
    resp = HttpResponse(job.report_html, content_type="text/html; charset=utf-8")
    resp["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return resp


@staff_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    return download_result(request, AnonJob, pk)

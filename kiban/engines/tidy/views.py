"""整形の画面 (tidy pages) for a body's staff: upload a file, see the machine-readability report, download
the tidy data. Every page works on the acting body only (`request.org`); another body's job is a 404."""

from __future__ import annotations

from django import forms
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from kiban.accounts.models import Role
from kiban.core.jobs import UploadFormMixin, detail_context, download_result, get_job_or_404, upload_page
from kiban.core.tenancy import org_required

from .actions import do_submit_job
from .models import TidyJob
from .reader import FORMATS

staff_required = org_required(roles=[Role.ADMIN, Role.STAFF])


class UploadForm(UploadFormMixin, forms.Form):
    file = forms.FileField(label=_("ファイル（Excel・CSV・ODS）"),
                           help_text=_("50MB まで。.xlsx .xlsm .xls .ods .csv .tsv"))
    formats = FORMATS
    unsupported_message = _("この形式は扱えません（L1-01）。Excel または CSV を選んでください。")
    unsupported_code = "unsupported_format"


@never_cache
@staff_required
def upload(request: HttpRequest) -> HttpResponse:
    """アップロードと、この団体の最近のジョブ一覧."""
    return upload_page(request, TidyJob, UploadForm(request.POST or None, request.FILES or None), "tidy/upload.html",
                       lambda data: do_submit_job(request.user, request.org, data["file"], request=request),
                       "tidy:detail")


@never_cache
@staff_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """報告: スコア、指摘（規則・重大度・範囲・説明・修正案）、要確認の推定、ダウンロード."""
    job = get_job_or_404(request, TidyJob, pk)
    report = job.report or {}
    return render(request, "tidy/detail.html",
                  detail_context(job, findings=report.get("findings", []), tables=report.get("tables", [])))


@staff_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    return download_result(request, TidyJob, pk)

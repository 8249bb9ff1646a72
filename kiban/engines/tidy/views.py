"""整形の画面 (tidy pages) for a body's staff: upload a file, see the machine-readability report, download
the tidy data. Every page works on the acting body only (`request.org`); another body's job is a 404."""

from __future__ import annotations

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from kiban.accounts.models import Role
from kiban.core.tenancy import get_scoped_or_404, org_required

from .actions import do_submit_job
from .models import TidyJob
from .reader import FORMATS
from .tasks import WEB_LIMITS

staff_required = org_required(roles=[Role.ADMIN, Role.STAFF])


class UploadForm(forms.Form):
    file = forms.FileField(label=_("ファイル（Excel・CSV・ODS）"),
                           help_text=_("50MB まで。.xlsx .xlsm .xls .ods .csv .tsv"))

    def clean_file(self):
        f = self.cleaned_data["file"]
        ext = "." + f.name.rsplit(".", 1)[-1].lower() if "." in f.name else ""
        if ext not in FORMATS:
            raise forms.ValidationError(_("この形式は扱えません（L1-01）。Excel または CSV を選んでください。"),
                                        code="unsupported_format")
        if f.size > WEB_LIMITS.max_file_bytes:
            raise forms.ValidationError(_("ファイルが大きすぎます（50MB まで）。"), code="too_large")
        return f


@never_cache
@staff_required
def upload(request: HttpRequest) -> HttpResponse:
    """アップロードと、この団体の最近のジョブ一覧."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = do_submit_job(request.user, request.org, form.cleaned_data["file"], request=request)
        return redirect("tidy:detail", pk=job.pk)
    jobs = TidyJob.objects.for_org(request.org).select_related("created_by")[:20]
    return render(request, "tidy/upload.html", {"form": form, "jobs": jobs},
                  status=400 if request.method == "POST" else 200)


@never_cache
@staff_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """報告: スコア、指摘（規則・重大度・範囲・説明・修正案）、要確認の推定、ダウンロード."""
    job = get_scoped_or_404(TidyJob.objects.for_org(request.org), request.user, pk=pk)
    report = job.report or {}
    return render(request, "tidy/detail.html", {
        "job": job,
        "report": report,
        "findings": report.get("findings", []),
        "tables": report.get("tables", []),
        "pending": job.status in (TidyJob.Status.QUEUED, TidyJob.Status.RUNNING),
    })


@staff_required
def download(request: HttpRequest, pk: int) -> FileResponse:
    job = get_scoped_or_404(TidyJob.objects.for_org(request.org), request.user, pk=pk)
    if not job.result:
        raise Http404
    return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result.name.rsplit("/", 1)[-1])

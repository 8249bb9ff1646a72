"""エンジンのジョブ API (an engine's jobs over the API): what an engine's staff page does, for other systems.

`job_router` makes the four routes of one engine (mounted by kiban.api.urls under /api/v1/<engine>/)::

    POST /jobs                 multipart upload → 202 and the queued job           (Idempotency-Key)
    GET  /jobs                 the acting body's jobs, newest first (cursor pages; ?status=)
    GET  /jobs/{id}            status, error code and message, the report when done
    GET  /jobs/{id}/result     the result ZIP; 409 problem while the job is not done

It is built on kiban.core.jobs and on the engine's own pieces, so that page and API cannot drift apart:
the engine's page form validates the upload (UploadFormMixin's format and size rules, anon's configuration),
and its submit action writes (with the audit entry in the same transaction; the work is queued after commit,
never run in the request). A form error is a 422 problem naming the field and the rule, in Japanese or, with
Accept-Language: en, English. The acting body is the token's (or the session's); another body's job is a 404,
and only the roles allowed on the page (管理者・職員) may use the routes.
"""

# No `from __future__ import annotations`: ninja reads the handlers' annotations at run time, and the list's
# paginated wrapper is evaluated in ninja's module, where StatusName would not resolve.
import hashlib
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import JSONField, TextField
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import translation
from ninja import Field, Path, Router, Schema
from pydantic import create_model

from kiban.accounts.models import Role
from kiban.api import problems
from kiban.api.auth import ApiForbidden, actor, require
from kiban.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from kiban.api.idempotency import idempotent
from kiban.api.pagination import paginated
from kiban.core import tenancy
from kiban.core.errors import KibanError
from kiban.core.jobs import EngineJob

MAX_ID = 2**63 - 1
# A configuration sent as a file part instead of a text field (curl -F config=@anon.yaml).
MAX_TEXT_FILE_BYTES = 1024 * 1024

StatusName = Literal["queued", "running", "done", "failed"]

# Engine name ("tidy") of each job model, for the links; filled by job_router.
_ENGINES: dict[type[EngineJob], str] = {}


class JobNotDone(KibanError):
    """The result of a job that is not (or not successfully) done."""

    default_code = "job_not_done"
    status = 409


class BadMultipart(KibanError):
    default_code = "malformed_multipart"


# ---- schemas ----------------------------------------------------------------------------------------------------


class JobError(Schema):
    code: str = Field(..., description="エラーコード (エンジンの規則、例: binary)")
    message: str = Field(..., description="エラー内容 (日本語)")


class JobLinks(Schema):
    job: str = Field(..., description="このジョブ (GET)")
    result: str | None = Field(None, description="結果の ZIP (完了したときのみ)")
    page: str = Field(..., description="職員向けの画面")


class JobOut(Schema):
    """A job of the acting body (ジョブ). Engines subclass it to add their own fields."""

    id: int
    status: StatusName = Field(..., description="queued=待機中, running=処理中, done=完了, failed=失敗")
    status_label: str = Field(..., description="状態の表示名")
    filename: str = Field(..., description="アップロードしたファイルの名前")
    created_by: str = Field(..., description="登録した利用者のユーザー名")
    created_at: datetime
    finished_at: datetime | None
    error: JobError | None = Field(None, description="失敗したときのエラー")
    links: JobLinks

    # Also validated from a stored dict (an Idempotency-Key replay), where the values are already plain.
    @staticmethod
    def resolve_status_label(job: EngineJob | dict) -> str:
        return job["status_label"] if isinstance(job, dict) else str(job.get_status_display())

    @staticmethod
    def resolve_created_by(job: EngineJob | dict) -> str:
        return job["created_by"] if isinstance(job, dict) else job.created_by.username

    @staticmethod
    def resolve_error(job: EngineJob | dict) -> dict | None:
        if isinstance(job, dict):
            return job.get("error")
        return {"code": job.error_code, "message": job.error_text} if job.error_code else None

    @staticmethod
    def resolve_links(job: EngineJob | dict) -> dict:
        return job["links"] if isinstance(job, dict) else job_links(job)


def job_links(job: EngineJob) -> dict[str, str | None]:
    engine = _ENGINES[type(job)]
    return {
        "job": reverse(f"api-v1:{engine}_job", kwargs={"job_id": job.pk}),
        "result": reverse(f"api-v1:{engine}_job_result", kwargs={"job_id": job.pk}) if job.result else None,
        "page": reverse(f"{engine}:detail", args=[job.pk]),
    }


# ---- the upload: the page form, fed from a multipart request --------------------------------------------------


def _location(form_class: type[forms.Form], name: str) -> str:
    return "file" if isinstance(form_class.base_fields.get(name), forms.FileField) else "form"


def _item(form_class: type[forms.Form], name: str, rule: str, ja: str, en: str) -> dict[str, dict[str, str]]:
    field = "body" if name == NON_FIELD_ERRORS else name
    base = {"field": field, "location": _location(form_class, name), "rule": rule}
    return {"ja": {**base, "message": _printable(ja)}, "en": {**base, "message": _printable(en)}}


def _printable(message: str) -> str:
    # A message or field path may quote the input (a YAML error, a column name), which may hold lone surrogates.
    return message.encode("utf-8", "replace").decode("utf-8")


def _form_items(form: forms.Form) -> list[dict[str, dict[str, str]]]:
    """Each error of a bound, invalid form, in Japanese and English. An engine error behind a form error
    (anon's configuration) gives its own field path ("config.privacy.k"), rule and English message."""
    items = []
    for name, errors in form.errors.as_data().items():
        for error in errors:
            cause = error.__cause__
            if isinstance(cause, KibanError):
                item = _item(type(form), name, cause.rule or error.code or "invalid", cause.message("ja"),
                             cause.message("en"))
                if cause.field:
                    for lang in item.values():
                        lang["field"] = _printable(f"{name}.{cause.field}")  # may name a column of the input
            else:
                texts = {}
                for lang in ("ja", "en"):
                    with translation.override(lang):
                        texts[lang] = " ".join(error.messages)
                item = _item(type(form), name, error.code or "invalid", texts["ja"], texts["en"])
            items.append(item)
    return items


def _invalid(request: HttpRequest, items: list[dict[str, dict[str, str]]]) -> HttpResponse:
    en = problems.wants_english(request)
    chosen = [i["en" if en else "ja"] for i in items]

    def summary(lang: str) -> str:
        return " ".join(f"{i[lang]['field']}: {i[lang]['message']}" for i in items[:5])

    return problems.problem(request, status=422, code="validation_error", detail_ja=summary("ja"),
                            detail_en=summary("en"), field=chosen[0]["field"], rule=chosen[0]["rule"], errors=chosen)


def _read_multipart(request: HttpRequest, form_class: type[forms.Form], text_files: Iterable[str]):
    """The request's fields and files; a text field may also come as a file part (a YAML file)."""
    try:
        data, files = request.POST.copy(), request.FILES
    except MultiPartParserError as exc:
        raise BadMultipart("multipart/form-data として読めません。", f"The multipart/form-data body cannot be read ({exc}).",
                           field="body", rule="multipart") from None
    errors = []
    for name in text_files:
        part = files.get(name)
        if part is None or name in data:
            continue
        if part.size > MAX_TEXT_FILE_BYTES:
            errors.append(_item(form_class, name, "max_size", f"{MAX_TEXT_FILE_BYTES // 1024} KB までにしてください。",
                                f"At most {MAX_TEXT_FILE_BYTES // 1024} KB."))
            continue
        try:
            data[name] = part.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            errors.append(_item(form_class, name, "encoding", "UTF-8 のテキストにしてください。", "Must be UTF-8 text."))
    return data, files, errors


def _fingerprint(form: forms.Form) -> str:
    """What makes two uploads "the same request" for Idempotency-Key: the fields and the files' contents."""
    digest = hashlib.sha256()
    for name in sorted(form.cleaned_data):
        digest.update(f"{name}\0".encode())
        upload = form.files.get(name)
        if upload is not None and isinstance(form.fields[name], forms.FileField):
            digest.update(f"{upload.name}\0{upload.size}\0".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
        else:
            digest.update(str(form.data.get(name, "")).encode())
        digest.update(b"\1")
    return digest.hexdigest()


def _request_body_schema(form_class: type[forms.Form], text_files: Iterable[str]) -> dict[str, Any]:
    """The OpenAPI multipart body of the page form (files as binary, other fields as text)."""
    properties, required = {}, []
    with translation.override("ja"):
        for name, field in form_class.base_fields.items():
            schema: dict[str, Any] = {"type": "string"}
            if isinstance(field, forms.FileField):
                schema["format"] = "binary"
            description = " ".join(str(t) for t in (field.label, field.help_text) if t)
            if name in text_files:
                description += " テキストとして、またはファイルとして送れます (UTF-8)。"
            schema["description"] = description
            properties[name] = schema
            if field.required:
                required.append(name)
    return {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


# ---- the router -------------------------------------------------------------------------------------------------


def job_router(
    model: type[EngineJob],
    *,
    engine: str,
    label: str,
    scope: str,
    roles: Iterable[str],
    form: type[forms.Form],
    submit: Callable[[HttpRequest, Any, dict[str, Any]], EngineJob],
    out: type[JobOut] = JobOut,
    text_files: Iterable[str] = (),
) -> Router:
    """The jobs routes of one engine.

    model:   the engine's EngineJob subclass.
    engine:  its name, as in its URLs ("tidy": the page namespace, /api/v1/tidy/).
    label:   its Japanese name for the route summaries ("整形").
    scope:   the API scope ("tidy:use"); roles: the roles its staff pages allow (管理者・職員).
    form:    the page's upload form (UploadFormMixin): the API validates exactly as the page does.
    submit:  `submit(request, org, cleaned_data)` → the job, through the engine's audited action.
    out:     the job's schema (JobOut plus the engine's fields); the detail adds `report`.
    text_files: text fields of the form that may also be sent as a file part (anon's "config").
    """
    router = Router(tags=[engine])
    roles = frozenset(roles)
    text_files = tuple(text_files)
    _ENGINES[model] = engine
    detail_out = create_model(f"{model.__name__}DetailOut", __base__=out,
                              report=(dict[str, Any] | None, Field(None, description="報告 (完了したとき)")))
    # Large columns the list does not show (the report, an HTML report …) stay in the database.
    list_defer = [f.name for f in model._meta.concrete_fields
                  if isinstance(f, TextField | JSONField) and f.name not in out.model_fields
                  and f.name not in {"error_message"}]

    def acting_org(request: HttpRequest):
        org = require(request, scope)
        if tenancy.role_in(actor(request), org) not in roles:
            allowed = ", ".join(sorted(roles))
            with translation.override("ja"):
                labels = "・".join(str(Role(r).label) for r in sorted(roles))
            raise ApiForbidden(f"この操作は{labels}のみが行えます (役割: {allowed})。",
                               f"Only these roles may do this: {allowed}.", code="insufficient_role",
                               field="role", rule=allowed)
        return org

    def job_or_404(request: HttpRequest, org, job_id: int) -> EngineJob:
        return tenancy.get_scoped_or_404(model.objects.for_org(org).select_related("created_by"), actor(request),
                                         pk=job_id)

    @router.post("/jobs", response={202: out}, url_name=f"{engine}_jobs", operation_id=f"{engine}_submit_job",
                 summary=f"{label}のジョブを登録する (ファイルのアップロード)",
                 openapi_extra={"requestBody": _request_body_schema(form, text_files), "parameters": [{
                     "in": "header", "name": IDEMPOTENCY_HEADER, "required": False,
                     "description": "再送を安全にするキー (1〜200文字の半角英数記号)。同じキーの再送には最初の応答を返します",
                     "schema": {"type": "string", "minLength": 1, "maxLength": 200}}]})
    def submit_job(request: HttpRequest, response: HttpResponse):
        """Upload a file (multipart/form-data) for the acting body; the work is queued and runs in the
        background. Answers 202 with the job; poll `links.job` until its status is done or failed."""
        org = acting_org(request)
        data, files, errors = _read_multipart(request, form, text_files)
        if errors:
            return _invalid(request, errors)
        bound = form(data, files)
        if not bound.is_valid():
            return _invalid(request, _form_items(bound))
        fingerprint = _fingerprint(bound) if request.headers.get(IDEMPOTENCY_HEADER) is not None else None

        def create() -> tuple[int, dict]:
            job = submit(request, org, bound.cleaned_data)
            job = model.objects.select_related("created_by").get(pk=job.pk)
            return 202, out.from_orm(job).model_dump(mode="json")

        answer = idempotent(request, org, create, fingerprint=fingerprint)
        response["Location"] = answer.value["links"]["job"]
        return answer

    @router.get("/jobs", response=list[out], operation_id=f"{engine}_list_jobs", summary=f"{label}のジョブの一覧")
    @paginated(ordering=("-created_at",))
    def list_jobs(request: HttpRequest, status: StatusName | None = None):
        """The acting body's jobs, newest first, without their reports."""
        org = acting_org(request)
        jobs = model.objects.for_org(org).select_related("created_by").defer(*list_defer)
        return jobs.filter(status=status) if status else jobs

    @router.get("/jobs/{job_id}", response=detail_out, url_name=f"{engine}_job", operation_id=f"{engine}_get_job",
                summary=f"{label}のジョブの状態と報告")
    def get_job(request: HttpRequest, job_id: int = Path(..., ge=1, le=MAX_ID)):
        """Status, error (code and message) and, once done, the report."""
        return job_or_404(request, acting_org(request), job_id)

    @router.get("/jobs/{job_id}/result", url_name=f"{engine}_job_result", operation_id=f"{engine}_get_job_result",
                summary=f"{label}のジョブの結果 (ZIP)",
                openapi_extra={"responses": {200: {"description": "結果の ZIP", "content": {
                    "application/zip": {"schema": {"type": "string", "format": "binary"}}}}}})
    def get_result(request: HttpRequest, job_id: int = Path(..., ge=1, le=MAX_ID)):
        """The result ZIP of a done job; a queued, running or failed job answers 409."""
        job = job_or_404(request, acting_org(request), job_id)
        if job.status != EngineJob.Status.DONE or not job.result:
            with translation.override("ja"):
                status_ja = str(job.get_status_display())
            raise JobNotDone(
                f"このジョブには結果がありません (状態: {status_ja})。"
                + ("完了してから取得してください。" if job.pending else ""),
                f"This job has no result (status: {job.status})." + (" Fetch it once done." if job.pending else ""),
                field="status", rule="done")
        return FileResponse(job.result.open("rb"), as_attachment=True, filename=job.result.name.rsplit("/", 1)[-1],
                            content_type="application/zip")

    return router

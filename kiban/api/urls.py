"""The JSON API: django-ninja under /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/docs.

* Auth on every route by default: an API token (Bearer) or the session with CSRF (kiban.api.auth);
  public routes say `auth=None` explicitly (the registry of bodies).
* Errors are RFC 9457 problem+json with a machine-readable `code` and a Japanese `detail`
  (kiban.api.problems) — including 404 for unknown URLs under /api/ and 405 for wrong methods, which
  ninja and Django would otherwise answer in plain text or HTML.
* Lists use cursor pagination (kiban.api.pagination).
"""

from __future__ import annotations

import functools

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, path, re_path
from ninja import NinjaAPI

from kiban.api import problems
from kiban.api.auth import SessionAuth, TokenAuth, scoped_auth
from kiban.ui.middleware import API_DOCS_CSP


def _problem_405(view):
    """Turn ninja's plain-text 405 into a problem+json one (ninja answers it before any exception handler)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            return problems.method_not_allowed(request, response.get("Allow", ""))
        return response

    wrapped.csrf_exempt = getattr(view, "csrf_exempt", False)  # ninja checks CSRF itself (SessionAuth)
    return wrapped


PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details. detail は日本語 (Accept-Language: en で英語)。",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "urn:kiban:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "何が誤りか (日本語)"},
        "code": {"type": "string", "description": "機械可読なエラーコード"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "field": {"type": "string", "description": "誤りのある項目"},
        "rule": {"type": "string", "description": "満たしていない規則"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "location": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_ERROR_RESPONSES = {
    "400": "リクエストが正しくありません (JSON の誤り、不正なカーソルなど)",
    "401": "認証が必要です / APIトークンが無効です",
    "403": "権限がありません (scope・役割・CSRF)",
    "404": "見つかりません (他の団体のものを含む)",
    "409": "現在の状態と競合しています",
    "413": "リクエストが大きすぎます",
    "422": "入力内容に誤りがあります (項目と規則を errors に示します)",
    "500": "サーバー内部のエラーです",
}


class KibanAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """ninja's schema, plus the problem+json answers every operation may give (documented once, here)."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in _ERROR_RESPONSES.items():
                    if status in {"401", "403"} and not operation.get("security"):
                        continue
                    responses.setdefault(status, {"description": description, "content": problem})
        return schema

    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _problem_405(pattern.callback)
        return urls


api = KibanAPI(
    title="Kiban API",
    version="1",
    description=(
        "国・地方デジタル共通基盤 Kiban の API。認証は APIトークン (Authorization: Bearer kbn_…) または"
        "ログイン中のセッション (更新系は X-CSRFToken が必要)。エラーは RFC 9457 (application/problem+json) で、"
        "機械可読な code と日本語の detail を返します (Accept-Language: en で英語)。一覧はカーソル方式のページ送りです。"
    ),
    urls_namespace="api-v1",
    docs_url=None,
    auth=[TokenAuth(), SessionAuth()],
    parser=problems.ProblemParser(),
)
problems.install(api)

api.add_router("/", "kiban.accounts.api.router")
api.add_router("/orgs/", "kiban.orgs.api.router")
api.add_router("/audit/", "kiban.audit.api.router")
# Engines: every route needs the engine's scope, checked here so that no engine can forget it.
api.add_router("/address/", "kiban.engines.address.api.router", auth=scoped_auth("address:use"))
api.add_router("/tidy/", "kiban.engines.tidy.api.router", auth=scoped_auth("tidy:use"))
api.add_router("/anon/", "kiban.engines.anon.api.router", auth=scoped_auth("anon:use"))


def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI from ninja's bundled files (no CDN). It needs inline script, so only this response gets the
    relaxed policy."""
    response = api.docs.render_page(request, api)
    response["Content-Security-Policy"] = API_DOCS_CSP
    return response


def api_not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return problems.not_found(request)


urlpatterns = [
    path("v1/", api.urls),
    path("docs", api_docs, name="api-docs"),
    re_path(r"^", api_not_found),
]

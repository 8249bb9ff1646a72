"""Errors as RFC 9457 problem details (application/problem+json), Japanese first.

Every error the API returns has the same shape::

    {
      "type": "urn:kiban:problem:validation_error",
      "title": "入力内容に誤りがあります",
      "status": 422,
      "detail": "username: 必須項目です。",
      "code": "validation_error",            # machine-readable, stable
      "instance": "/api/v1/users",
      "request_id": "4f0c…",
      "field": "username", "rule": "required",   # when one field is at fault
      "errors": [{"field": "username", "location": "body", "rule": "required", "message": "必須項目です。"}]
    }

`detail`, `title` and messages are Japanese unless the request asks for English (Accept-Language: en).
Engines raise their `KibanError` subclass; it becomes a problem with its own code, field and rule.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from kiban.core.errors import KibanError

logger = logging.getLogger("kiban.api")

CONTENT_TYPE = "application/problem+json"

TITLES: dict[int, tuple[str, str]] = {
    400: ("リクエストが正しくありません", "Bad request"),
    401: ("認証が必要です", "Authentication required"),
    403: ("この操作を行う権限がありません", "Forbidden"),
    404: ("見つかりません", "Not found"),
    405: ("このメソッドは使用できません", "Method not allowed"),
    409: ("現在の状態と競合しています", "Conflict"),
    413: ("リクエストが大きすぎます", "Request too large"),
    422: ("入力内容に誤りがあります", "Validation failed"),
    429: ("リクエストが多すぎます", "Too many requests"),
    500: ("サーバー内部のエラーです", "Internal server error"),
}

# pydantic error types → (rule, Japanese, English); {…} filled from the error's ctx.
VALIDATION_MESSAGES: dict[str, tuple[str, str, str]] = {
    "missing": ("required", "必須項目です。", "This field is required."),
    "string_too_long": ("max_length", "{max_length}文字以内で入力してください。", "At most {max_length} characters."),
    "string_too_short": ("min_length", "{min_length}文字以上で入力してください。", "At least {min_length} characters."),
    "too_long": ("max_items", "{max_length}件以内で指定してください。", "At most {max_length} items."),
    "too_short": ("min_items", "{min_length}件以上指定してください。", "At least {min_length} items."),
    "string_type": ("type", "文字列で指定してください。", "Must be a string."),
    "string_pattern_mismatch": ("pattern", "形式が正しくありません。", "Does not match the expected format."),
    "int_parsing": ("type", "整数で指定してください。", "Must be an integer."),
    "int_type": ("type", "整数で指定してください。", "Must be an integer."),
    "int_from_float": ("type", "整数で指定してください。", "Must be an integer."),
    "float_parsing": ("type", "数値で指定してください。", "Must be a number."),
    "float_type": ("type", "数値で指定してください。", "Must be a number."),
    "bool_parsing": ("type", "true か false で指定してください。", "Must be true or false."),
    "bool_type": ("type", "true か false で指定してください。", "Must be true or false."),
    "greater_than_equal": ("min", "{ge}以上の値を指定してください。", "Must be at least {ge}."),
    "greater_than": ("min", "{gt}より大きい値を指定してください。", "Must be greater than {gt}."),
    "less_than_equal": ("max", "{le}以下の値を指定してください。", "Must be at most {le}."),
    "less_than": ("max", "{lt}未満の値を指定してください。", "Must be less than {lt}."),
    "literal_error": ("choice", "次のいずれかを指定してください: {expected}", "Must be one of: {expected}"),
    "enum": ("choice", "次のいずれかを指定してください: {expected}", "Must be one of: {expected}"),
    "list_type": ("type", "配列で指定してください。", "Must be an array."),
    "dict_type": ("type", "オブジェクトで指定してください。", "Must be an object."),
    "model_attributes_type": ("type", "オブジェクトで指定してください。", "Must be an object."),
    "model_type": ("type", "オブジェクトで指定してください。", "Must be an object."),
    "datetime_parsing": ("format", "日時の形式が正しくありません (ISO 8601)。", "Invalid date-time (ISO 8601)."),
    "datetime_from_date_parsing": ("format", "日時の形式が正しくありません (ISO 8601)。", "Invalid date-time (ISO 8601)."),
    "date_parsing": ("format", "日付の形式が正しくありません (YYYY-MM-DD)。", "Invalid date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": ("format", "日付の形式が正しくありません (YYYY-MM-DD)。", "Invalid date (YYYY-MM-DD)."),
    "uuid_parsing": ("format", "UUIDの形式が正しくありません。", "Invalid UUID."),
    "value_error": ("invalid", "{error}", "{error}"),
    "assertion_error": ("invalid", "{error}", "{error}"),
    "extra_forbidden": ("unknown_field", "この項目は指定できません。", "This field is not allowed."),
}
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class MalformedJSON(KibanError):
    """JSONとして読めないリクエスト本文."""

    default_code = "malformed_json"

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "リクエスト本文がJSONとして正しくありません。" + (f" ({detail})" if detail else ""),
            "The request body is not valid JSON." + (f" ({detail})" if detail else ""),
            field="body",
            rule="json",
        )


class ProblemParser(Parser):
    """ninja's JSON parser, but a malformed body is a named error (ninja would say only 'Cannot parse')."""

    def parse_body(self, request: HttpRequest):
        try:
            return json.loads(request.body)
        except UnicodeDecodeError:
            raise MalformedJSON("UTF-8") from None
        except json.JSONDecodeError as exc:
            raise MalformedJSON(f"line {exc.lineno}, column {exc.colno}") from None


def wants_english(request: HttpRequest | None) -> bool:
    lang = getattr(request, "LANGUAGE_CODE", None) or translation.get_language() or "ja"
    return lang.startswith("en")


def problem(
    request: HttpRequest | None,
    *,
    status: int,
    code: str,
    detail_ja: str,
    detail_en: str | None = None,
    field: str | None = None,
    rule: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    """Build an application/problem+json response (the only way the API reports an error)."""
    en = wants_english(request)
    title_ja, title_en = TITLES.get(status, TITLES[400 if status < 500 else 500])
    body: dict[str, Any] = {
        "type": f"urn:kiban:problem:{code}",
        "title": title_en if en else title_ja,
        "status": status,
        "detail": (detail_en or detail_ja) if en else detail_ja,
        "code": code,
        "instance": getattr(request, "path", ""),
        "request_id": getattr(request, "request_id", ""),
    }
    if field:
        body["field"] = field
    if rule:
        body["rule"] = rule
    if errors:
        body["errors"] = errors
    # a detail may quote the input, which may hold a lone surrogate: UTF-8 cannot encode it, so it becomes
    # "?" rather than a 500 while reporting a 4xx
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False).encode("utf-8", "replace"), status=status,
        content_type=f"{CONTENT_TYPE}; charset=utf-8",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _format(template: str, ctx: dict[str, Any]) -> str:
    values = {k: (", ".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in (ctx or {}).items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def validation_errors(errors: list[dict[str, Any]], english: bool) -> list[dict[str, Any]]:
    """ninja/pydantic errors → [{field, location, rule, message}] with Japanese (or English) messages."""
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        location = loc[0] if loc and loc[0] in _SOURCES else ""
        parts = loc[1:] if location else loc
        # ninja puts the handler's parameter name ("payload") after "body"; the client never saw it.
        if location == "body" and len(parts) > 1 and parts[0] == "payload":
            parts = parts[1:]
        field = ".".join(parts) or location or "body"
        rule, ja, en = VALIDATION_MESSAGES.get(err.get("type", ""), ("invalid", "値が正しくありません。", "Invalid value."))
        ctx = dict(err.get("ctx") or {})
        if "error" in ctx:
            ctx["error"] = str(ctx["error"]).removeprefix("Value error, ")
        message = _format(en if english else ja, ctx)
        if message in {"", "{error}"}:
            message = err.get("msg", "")
        out.append({"field": field, "location": location, "rule": rule, "message": message})
    return out


def _validation_handler(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    en = wants_english(request)
    items_ja = validation_errors(exc.errors, english=False)
    items = validation_errors(exc.errors, english=en) if en else items_ja
    items_en = validation_errors(exc.errors, english=True)
    summary_ja = " ".join(f"{e['field']}: {e['message']}" for e in items_ja[:5])
    summary_en = " ".join(f"{e['field']}: {e['message']}" for e in items_en[:5])
    first = items[0] if items else {}
    return problem(
        request,
        status=422,
        code="validation_error",
        detail_ja=summary_ja or "入力内容に誤りがあります。",
        detail_en=summary_en or "Validation failed.",
        field=first.get("field"),
        rule=first.get("rule"),
        errors=items,
    )


def _kiban_handler(request: HttpRequest, exc: KibanError) -> HttpResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="kiban"'} if exc.status == 401 else None
    return problem(
        request,
        status=exc.status,
        code=exc.code,
        detail_ja=exc.message_ja,
        detail_en=exc.message_en,
        field=exc.field,
        rule=exc.rule,
        headers=headers,
    )


def _http_error_handler(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, KibanError):  # e.g. MalformedJSON raised by ProblemParser, wrapped by ninja
        return _kiban_handler(request, exc.__cause__)
    if isinstance(exc, AuthenticationError) or exc.status_code == 401:
        return problem(
            request, status=401, code="unauthenticated",
            detail_ja="認証が必要です。APIトークン (Authorization: Bearer …) またはログインが必要です。",
            detail_en="Authentication required: an API token (Authorization: Bearer …) or a signed-in session.",
            headers={"WWW-Authenticate": 'Bearer realm="kiban"'},
        )
    if exc.status_code == 403 and "CSRF" in str(exc):
        return problem(
            request, status=403, code="csrf_failed",
            detail_ja="CSRFトークンが確認できません。X-CSRFToken ヘッダーを付けてください。",
            detail_en="CSRF verification failed. Send the X-CSRFToken header.",
            field="X-CSRFToken", rule="csrf",
        )
    if exc.status_code == 429:
        return problem(request, status=429, code="throttled", detail_ja="リクエストが多すぎます。しばらく待ってから再試行してください。",
                       detail_en="Too many requests. Retry later.")
    title_ja, title_en = TITLES.get(exc.status_code, TITLES[400])
    return problem(request, status=exc.status_code, code=f"http_{exc.status_code}", detail_ja=title_ja + "。",
                   detail_en=title_en + ".")


def not_found(request: HttpRequest, exc: Exception | None = None) -> HttpResponse:
    return problem(
        request, status=404, code="not_found",
        detail_ja="指定されたものは見つかりません。", detail_en="The requested resource was not found.",
    )


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    return problem(
        request, status=405, code="method_not_allowed",
        detail_ja=f"{request.method} はこのURLでは使用できません (使用可能: {allowed})。",
        detail_en=f"{request.method} is not allowed here (allowed: {allowed}).",
        headers={"Allow": allowed},
    )


def _permission_denied(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(request, status=403, code="forbidden", detail_ja="この操作を行う権限がありません。",
                   detail_en="You are not allowed to do this.")


def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return problem(
        request, status=413, code="request_too_large",
        detail_ja=f"リクエスト本文が大きすぎます (上限 {limit:,} バイト)。", detail_en=f"The request body is too large (limit {limit:,} bytes).",
        field="body", rule="max_size",
    )


def _too_many_fields(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(request, status=400, code="too_many_fields", detail_ja="項目の数が多すぎます。",
                   detail_en="Too many fields.", field="body", rule="max_fields")


def _suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(request, status=400, code="bad_request", detail_ja="リクエストが正しくありません。", detail_en="Bad request.")


def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Log with the request id; tell the client no more than that something failed and how to refer to it.
    logger.exception("unhandled API error", exc_info=exc)
    return problem(
        request, status=500, code="internal_error",
        detail_ja="サーバー内部でエラーが発生しました。問い合わせの際は request_id をお伝えください。",
        detail_en="An internal error occurred. Quote the request_id when reporting it.",
    )


def install(api) -> None:
    """Register the problem+json handlers on a NinjaAPI (most specific first is not needed: MRO decides)."""
    api.add_exception_handler(Exception, _unexpected)
    api.add_exception_handler(ValidationError, _validation_handler)
    api.add_exception_handler(KibanError, _kiban_handler)
    api.add_exception_handler(HttpError, _http_error_handler)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(PermissionDenied, _permission_denied)
    api.add_exception_handler(RequestDataTooBig, _too_big)
    api.add_exception_handler(TooManyFieldsSent, _too_many_fields)
    api.add_exception_handler(SuspiciousOperation, _suspicious)

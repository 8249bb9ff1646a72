"""Public pages of the registry (団体検索・団体詳細). No login: the registry is public information.

The search page works as a plain GET form; with htmx, typing updates only the results (the view answers an
`HX-Request` with the results partial) and the address bar keeps the query, so every state has a URL.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from kiban.core.errors import KibanError
from kiban.orgs import registry, source
from kiban.orgs.models import Org, RegistryInfo

PAGE_SIZE = 50
# One row of the results table: plain values (no model instances) keep a 50-row page cheap to build and render.
ROW_FIELDS = (
    *("id", "code", "name", "kana", "kind", "county"),
    *("parent__code", "parent__name", "prefecture_id", "prefecture__name"),
)


def _kind_choices() -> list[tuple[str, str]]:
    return [(k, source.KIND_LABELS_JA[k]) for k in source.KINDS]


def _prefectures() -> list[dict[str, str]]:
    return list(Org.objects.filter(kind=source.PREFECTURE, is_active=True).order_by("code").values("code", "name"))


def _wants_partial(request: HttpRequest) -> bool:
    """An htmx update of the results; a history restore (back button after a cache miss) needs the full page."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


@require_GET
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def search(request: HttpRequest) -> HttpResponse:
    """団体検索: /orgs/?q=…&prefecture=…&kind=…&page=…"""
    q = request.GET.get("q", "")
    prefecture = request.GET.get("prefecture", "")
    kind = request.GET.get("kind", "")
    error: KibanError | None = None
    page = None
    rows: list[dict] = []
    try:
        qs = registry.search_orgs(q, prefecture=prefecture or None, kind=kind or None)
        page = Paginator(qs.values(*ROW_FIELDS), PAGE_SIZE).get_page(request.GET.get("page"))
        rows = [{**row, "kind_label": source.KIND_LABELS_JA.get(row["kind"], row["kind"])} for row in page.object_list]
    except KibanError as exc:
        error = exc
    params = {k: v for k, v in (("q", q), ("prefecture", prefecture), ("kind", kind)) if v}
    context = {
        "q": q,
        "prefecture": prefecture,
        "kind": kind,
        "page": page,
        "rows": rows,
        "error": error,
        "error_message": error.message(getattr(request, "LANGUAGE_CODE", "ja")) if error else "",
        "query_string": "&".join(f"{k}={_quote(v)}" for k, v in params.items()),
        "info": RegistryInfo.current(),
    }
    if _wants_partial(request):
        # htmx swaps only 2xx answers: the partial carries the error message (role=alert) with a 200.
        return render(request, "orgs/_results.html", {**context, "htmx": True})
    status = error.status if error else 200
    context.update(prefectures=_prefectures(), kinds=_kind_choices())
    return render(request, "orgs/search.html", context, status=status)


@require_GET
def detail(request: HttpRequest, code: str) -> HttpResponse:
    """団体詳細: /orgs/<code>/ (5-digit or 全角 codes redirect to the canonical 6-digit address)."""
    try:
        normalized = registry.validate_code(code)
        if normalized != code:
            return redirect("orgs:detail", code=normalized, permanent=True)
        org = registry.get_org(normalized)
    except KibanError as exc:
        context = {"error_message": exc.message(getattr(request, "LANGUAGE_CODE", "ja")), "code": code}
        return render(request, "orgs/not_found.html", context, status=exc.status)
    children = list(org.children.filter(is_active=True).order_by("code"))
    context = {"org": org, "children": children, "info": RegistryInfo.current()}
    return render(request, "orgs/detail.html", context)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")

"""監査ログの画面 (audit log pages) for a body's 管理者: list with filters and paging, detail, CSV export.

Every page works on the acting body only (`request.org`, set by `org_required`):
* another body's entry is a 404, as if it did not exist (Charlie, of 川崎市, asking for 千代田区's entry);
* a 職員 of the same body gets a 403: the body is their own, so nothing is leaked by saying "not allowed"
  (the rule in kiban.core.tenancy);
* system-wide entries (no body) are shown to nobody here; `kiban audit` reads them on the server.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from kiban.accounts.models import Role
from kiban.audit.actions import do_record_audit_export
from kiban.audit.export import iter_csv
from kiban.audit.forms import AuditFilterForm
from kiban.audit.models import AuditEntry
from kiban.audit.queries import action_label, actions_in, filter_entries, org_entries
from kiban.core.tenancy import org_required

PAGE_SIZE = 50
admin_required = org_required(roles=[Role.ADMIN])


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    # A malformed or absurd page position is just "the first page", not an error page.
    return int(value) if value.isdigit() and len(value) <= 18 else None


@never_cache
@admin_required
def entry_list(request: HttpRequest) -> HttpResponse:
    """監査ログ一覧: newest first, 50 a page; "older"/"newer" page by seq, so deep pages stay fast."""
    form = AuditFilterForm(request.GET or None, actions=actions_in(request.org))
    qs = filter_entries(org_entries(request.org), **form.filters())
    before, after = _int_param(request, "before"), _int_param(request, "after")
    if after is not None:
        rows = list(qs.filter(seq__gt=after).order_by("seq")[: PAGE_SIZE + 1])
        has_newer = len(rows) > PAGE_SIZE
        entries = list(reversed(rows[:PAGE_SIZE]))
        has_older = bool(entries) and qs.filter(seq__lt=entries[-1].seq).exists()
    else:
        rows = list((qs.filter(seq__lt=before) if before is not None else qs)[: PAGE_SIZE + 1])
        has_older = len(rows) > PAGE_SIZE
        entries = rows[:PAGE_SIZE]
        has_newer = before is not None and bool(entries) and qs.filter(seq__gt=entries[0].seq).exists()
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    for entry in entries:
        entry.action_label = action_label(entry.action)
    return render(
        request,
        "audit/entry_list.html",
        {
            "form": form,
            "entries": entries,
            "older_seq": entries[-1].seq if entries and has_older else None,
            "newer_seq": entries[0].seq if entries and has_newer else None,
            "filter_query": query.urlencode(),
        },
    )


@never_cache
@admin_required
def entry_detail(request: HttpRequest, seq: int) -> HttpResponse:
    """監査記録の詳細: who, what, before/after, request id, IP and the entry's place in the chain."""
    entry = AuditEntry.objects.for_org(request.org).filter(seq=seq).select_related("org").first()
    if entry is None:
        raise Http404
    entry.action_label = action_label(entry.action)
    return render(request, "audit/entry_detail.html", {"entry": entry})


@never_cache
@admin_required
def export_csv(request: HttpRequest) -> HttpResponse:
    """CSV of the acting body's entries (with the list's filters), oldest first, streamed."""
    form = AuditFilterForm(request.GET or None, actions=actions_in(request.org))
    if request.GET and not form.is_valid():
        return render(request, "audit/entry_list.html", {"form": form, "entries": [], "filter_query": ""}, status=400)
    filters = form.filters()
    do_record_audit_export(request.user, request.org, filters=filters, request=request)
    qs = filter_entries(org_entries(request.org), **filters).order_by("seq")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        iter_csv(qs.iterator(chunk_size=2000), request.org.code, bom=True), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{request.org.code}-{stamp}.csv"'
    return response

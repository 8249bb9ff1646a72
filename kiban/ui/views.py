"""The shell's own pages: the dashboard of my bodies (所属団体), switching the acting body, the body export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kiban.accounts.models import Membership, Role
from kiban.core import tenancy
from kiban.orgs.models import Org
from kiban.ui.context_processors import acting_membership


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """ダッシュボード: the bodies I belong to, my role in each, and which one I am acting for."""
    memberships = tenancy.acting_memberships(request.user).select_related("org").order_by("org__code")
    acting = acting_membership(request)
    context = {"memberships": list(memberships), "acting": acting}
    if acting is not None and acting.role == Role.ADMIN:
        # The acting body's 管理者 sees its latest activity (the same entries as its audit log page).
        from kiban.audit.queries import action_label, org_entries

        recent = list(org_entries(acting.org)[:5])
        for entry in recent:
            entry.label = action_label(entry.action)
        context.update(recent_entries=recent, member_count=Membership.objects.filter(org=acting.org).count())
    return render(request, "ui/dashboard.html", context)


@login_required
@require_POST
def switch_org(request: HttpRequest) -> HttpResponse:
    """操作中の団体の切替. A body the user does not belong to is 404, as if it did not exist."""
    org = Org.objects.filter(code=request.POST.get("org", "")).first()
    if org is None:
        raise Http404
    membership = tenancy.set_acting_org(request, org)  # 404 unless a member
    messages.success(request, _("操作中の団体を「%(name)s」に切り替えました。") % {"name": membership.org.name})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = "ui:dashboard"
    return redirect(target)


@tenancy.org_required(roles=[Role.ADMIN])
@require_POST
def export_org(request: HttpRequest) -> HttpResponse:
    """団体データの書き出し (管理者のみ): a zip of all of the acting body's data, audited."""
    from kiban.ops import transfer

    path = transfer.export_org(request.org, actor=request.user, request=request)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="application/zip")

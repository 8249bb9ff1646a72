"""監査ログの検索 (finding entries): the filters shared by the web viewer, the CSV export and the API.

Every function here starts from one body's entries (`AuditEntry.objects.for_org(org)`): there is no way to
ask for another body's entries, or for the system-wide ones, through the viewer or the API.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kiban.audit.models import AuditEntry

# Japanese names of the actions the platform records (unknown ones are shown as their code).
ACTION_LABELS = {
    "auth.login": _("ログイン"),
    "auth.login_failed": _("ログイン失敗"),
    "auth.logout": _("ログアウト"),
    "user.create": _("利用者の登録"),
    "user.update": _("利用者情報の変更"),
    "user.deactivate": _("利用者の停止"),
    "user.reactivate": _("利用者の再開"),
    "user.password_change": _("パスワードの変更"),
    "membership.add": _("所属の追加"),
    "membership.remove": _("所属の解除"),
    "membership.role_change": _("役割の変更"),
    # Context: the same words head the token form ("Create an API token"); here they name a past event.
    "token.create": pgettext_lazy("audit action", "APIトークンの発行"),
    "token.revoke": _("APIトークンの失効"),
    "token.use": _("APIトークンの使用"),
    "token.refused": _("APIトークンの拒否"),
    "org.export": _("団体データの書き出し"),
    "org.import": _("団体データの取り込み"),
    "orgs.load": _("団体データの読み込み"),
    "audit.export": _("監査ログのCSV出力"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the site's time zone (Asia/Tokyo)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def org_entries(org) -> QuerySet[AuditEntry]:
    """One body's entries, newest first."""
    return AuditEntry.objects.for_org(org).order_by("-seq")


def filter_entries(
    qs: QuerySet[AuditEntry],
    *,
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Narrow `qs`. `action` ending in "." is a prefix ("token." = every token action); `actor` matches the
    actor's name or token prefix; dates are whole days in Japan time, `until` inclusive.

    Never raises on odd input (the API hands client values straight in): NUL characters, which PostgreSQL
    refuses in a query, are dropped, and dates outside 1900–9998, which would overflow when converted to UTC,
    do not narrow anything."""
    action, actor, target_type, target_id = (_no_nul(v) for v in (action, actor, target_type, target_id))
    if isinstance(since, date) and not isinstance(since, datetime) and not _SANE_YEARS[0] <= since.year <= _SANE_YEARS[1]:
        since = None
    if isinstance(until, date) and not isinstance(until, datetime) and not _SANE_YEARS[0] <= until.year <= _SANE_YEARS[1]:
        until = None
    if action:
        qs = qs.filter(action__startswith=action) if action.endswith(".") else qs.filter(action=action)
    if actor:
        qs = qs.filter(Q(actor_label__icontains=actor) | Q(actor_token_prefix=actor))
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id:
        qs = qs.filter(target_id=target_id)
    if since is not None:
        qs = qs.filter(time__gte=since if isinstance(since, datetime) else day_start(since))
    if until is not None:
        qs = qs.filter(time__lt=until if isinstance(until, datetime) else day_start(until + timedelta(days=1)))
    return qs


_SANE_YEARS = (1900, 9998)


def _no_nul(value: str | None) -> str | None:
    return value.replace("\x00", "") if value else value


def actions_in(org) -> list[str]:
    """The distinct actions recorded for a body (for the filter's choices)."""
    return sorted(AuditEntry.objects.for_org(org).order_by().values_list("action", flat=True).distinct())

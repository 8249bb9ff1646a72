"""Template tags of the UI shell."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

register = template.Library()

# The registry's kinds (kiban.orgs.source.KIND_LABELS_JA) as translatable labels for the UI.
ORG_KIND_LABELS = {
    "prefecture": _("都道府県"),
    "designated_city": _("政令指定都市"),
    "city": _("市"),
    "special_ward": _("特別区"),
    "town": _("町"),
    "village": _("村"),
    "city_ward": _("行政区"),
    "ministry": _("府省庁"),
}


@register.filter
def org_kind(kind: str) -> str:
    """The kind of a body (団体の種類) in the current language."""
    return ORG_KIND_LABELS.get(kind, kind)


@register.inclusion_tag("ui/_nav_link.html", takes_context=True)
def nav_link(context, url_name: str, label: str, *args):
    """A navigation item linking to `url_name`, marked aria-current on its own page.

    Renders nothing when the URL name does not exist (yet), so the shell can name pages of apps that
    are optional or not installed without breaking every page.
    """
    try:
        href = reverse(url_name, args=args)
    except NoReverseMatch:
        return {"href": None}
    request = context.get("request")
    path = getattr(request, "path", "")
    current = path == href or (href != "/" and path.startswith(href))
    return {"href": href, "label": label, "current": current}


@register.simple_tag
def url_if_exists(url_name: str, *args) -> str:
    """The URL of `url_name`, or "" when it does not exist."""
    try:
        return reverse(url_name, args=args)
    except NoReverseMatch:
        return ""

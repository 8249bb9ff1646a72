"""Cursor pagination for every API list (カーソル方式のページ送り).

Why a cursor and not page numbers: lists such as the audit log grow while they are read, and OFFSET gets
slower the deeper one pages; a keyset cursor ("the rows after this one, in this order") is stable and costs
the same on page 1 and page 10,000.

Usage (the handler returns a queryset; the decorator orders, cuts and wraps it)::

    from kiban.api.pagination import paginated

    @router.get("/", response=list[OrgOut], auth=None)
    @paginated(ordering=("code",))
    def list_orgs(request, kind: str | None = None):
        return Org.objects.all()            # filtered, NOT sliced; tenancy-scoped where it must be

The response is ``{"items": [...], "next_cursor": "…" | null}``. Clients pass ``?cursor=…`` (and optionally
``&limit=1..200``, default 50) to get the next page, and stop when ``next_cursor`` is null.

Rules:

* `ordering` lists concrete, non-null model fields (``"-created_at"`` for descending). The primary key is
  appended when absent, so the order is total and no row is skipped or repeated.
* The cursor is opaque and signed (SECRET_KEY, salted with the list's path and ordering): a client cannot
  forge a position or reuse a cursor on another list. A tampered, foreign or stale cursor is a 400
  problem+json with ``code: "invalid_cursor"`` and ``field: "cursor"``.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from functools import reduce
from typing import Any

from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase, paginate

from kiban.core.errors import KibanError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_SALT = "kiban.api.cursor"


class InvalidCursor(KibanError):
    """ページ送りのカーソルが不正."""

    default_code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__(
            "cursor が不正です。前の応答の next_cursor をそのまま指定してください。",
            "The cursor is invalid. Pass next_cursor from the previous response unchanged.",
            field="cursor",
            rule="signed_cursor",
        )


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


def _value_of(obj: Any, path: str) -> Any:
    parts = path.split("__")
    for i, part in enumerate(parts):
        if obj is None:
            return None
        if part == "pk":
            obj = obj.pk
        elif i == len(parts) - 1 and hasattr(obj, f"{part}_id"):
            # Ordering by a foreign key orders by its id; reading the attribute would load the related row.
            obj = getattr(obj, f"{part}_id")
        else:
            obj = getattr(obj, part)
    return obj


def _check_orderable(model: Any, path: str) -> None:
    """A keyset needs values that compare: a nullable field would silently drop its NULL rows."""
    if path == "pk":
        return
    for part in path.split("__"):
        field = model._meta.get_field(part)  # FieldDoesNotExist for a typo: fail loudly
        # Every hop counts: through a nullable foreign key the value is NULL too.
        if getattr(field, "null", False) or not getattr(field, "concrete", True):
            raise ImproperlyConfigured(f"cursor pagination cannot order by nullable field {path!r}")
        model = field.related_model or model


class CursorPagination(PaginationBase):
    """Keyset pagination with an opaque signed cursor. See the module docstring."""

    class Input(Schema):
        cursor: str | None = Field(None, description="前の応答の next_cursor (最初のページでは省略)", max_length=2000)
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="1ページの件数")

    class Output(Schema):
        items: list[Any]
        next_cursor: str | None = Field(None, description="次のページのカーソル。最後のページでは null")

    items_attribute = "items"

    def __init__(self, *, ordering: tuple[str, ...] | list[str] | None = None, **kwargs: Any) -> None:
        self.ordering = tuple(ordering) if ordering else None
        super().__init__(**kwargs)

    def _ordering_for(self, queryset: QuerySet) -> tuple[str, ...]:
        ordering = self.ordering or tuple(queryset.query.order_by) or tuple(queryset.model._meta.ordering)
        ordering = tuple(o for o in ordering if isinstance(o, str))
        names = {o.lstrip("-") for o in ordering}
        if "pk" not in names and "id" not in names and queryset.model._meta.pk.name not in names:
            ordering += ("pk",)
        for term in ordering:
            _check_orderable(queryset.model, term.lstrip("-"))
        return ordering

    @staticmethod
    def _after(ordering: tuple[str, ...], values: list[Any]) -> Q:
        """Rows strictly after `values` in `ordering`: (a > x) or (a = x and b > y) or …"""
        clauses = []
        for i, term in enumerate(ordering):
            name = term.lstrip("-")
            op = "lt" if term.startswith("-") else "gt"
            equal = {ordering[j].lstrip("-"): values[j] for j in range(i)}
            clauses.append(Q(**equal, **{f"{name}__{op}": values[i]}))
        return reduce(lambda a, b: a | b, clauses)

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any) -> Any:
        ordering = self._ordering_for(queryset)
        salt = f"{_SALT}:{request.path}:{','.join(ordering)}"
        queryset = queryset.order_by(*ordering)
        if pagination.cursor:
            try:
                values = signing.loads(pagination.cursor, salt=salt)
            except signing.BadSignature:
                raise InvalidCursor() from None
            if not isinstance(values, list) or len(values) != len(ordering):
                raise InvalidCursor()
            try:
                queryset = queryset.filter(self._after(ordering, values))
            except (ValueError, TypeError, decimal.InvalidOperation):
                raise InvalidCursor() from None
        rows = list(queryset[: pagination.limit + 1])
        items = rows[: pagination.limit]
        next_cursor = None
        if len(rows) > pagination.limit:
            last = items[-1]
            values = [_encode_value(_value_of(last, term.lstrip("-"))) for term in ordering]
            next_cursor = signing.dumps(values, salt=salt, compress=True)
        return {"items": items, "next_cursor": next_cursor}


def paginated(*, ordering: tuple[str, ...] | list[str] | None = None):
    """`@paginated(ordering=(...))`: cursor pagination for a list route (see the module docstring)."""
    return paginate(CursorPagination, ordering=ordering)

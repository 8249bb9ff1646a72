"""Writes of the audit app: recording that a body's audit log was exported (監査ログの出力)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from kiban.audit.log import record


def do_record_audit_export(actor: Any, org, *, filters: dict[str, Any], request=None) -> None:
    """Who took a copy of the audit log, and with which filters: the log records reading itself."""
    with transaction.atomic():
        record(
            actor=actor,
            org=org,
            action="audit.export",
            target=org,
            after={"filters": {k: str(v) for k, v in filters.items()}},
            request=request,
        )

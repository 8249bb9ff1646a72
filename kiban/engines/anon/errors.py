"""The anon engine's one error type.

Every problem found while validating a configuration, a hierarchy or the data is raised as `AnonError`
*before* any anonymisation work starts, with the field and the rule it is about and a message in Japanese
(English available through `message("en")`).
"""

from __future__ import annotations

from typing import Any

from kiban.core.errors import KibanError


class AnonError(KibanError):
    """匿名加工・統計表エンジンの入力誤り・処理不能 (invalid configuration, hierarchy or data)."""

    default_code = "anon_invalid"


def fail(
    field: str,
    rule: str,
    ja: str,
    en: str,
    *,
    code: str | None = None,
    details: dict[str, Any] | None = None,
) -> AnonError:
    """Build an AnonError whose messages name the field and the rule (the caller raises it)."""
    return AnonError(
        f"{field}: {ja}（規則: {rule}）",
        f"{field}: {en} (rule: {rule})",
        code=code or f"anon_{rule}",
        field=field,
        rule=rule,
        details=details,
    )


def preview(values, limit: int = 5) -> str:
    """A short, readable list of offending values for messages."""
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f" … (+{len(values) - limit})" if len(values) > limit else "")

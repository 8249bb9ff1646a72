"""One error type for the whole platform, subclassed once per engine.

Each error has a machine-readable `code`, a Japanese message (the default) and an English one, and
optionally the `field` and `rule` it is about. The API turns it into RFC 9457 problem details; CLIs print
`message()` in the user's language. Pure Python: engines use it without Django.
"""

from __future__ import annotations

import os
from typing import Any


class KibanError(Exception):
    """Base of every expected, user-facing error (入力誤り・処理不能)."""

    status: int = 400
    default_code: str = "invalid"

    def __init__(
        self,
        message_ja: str,
        message_en: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        rule: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message_ja)
        self.message_ja = message_ja
        self.message_en = message_en or message_ja
        self.code = code or self.default_code
        self.field = field
        self.rule = rule
        if status is not None:
            self.status = status
        self.details = details or {}

    def message(self, lang: str | None = None) -> str:
        """The message in `lang` ("ja" or "en"); defaults to KIBAN_LANG / LANG, Japanese otherwise."""
        lang = lang or os.environ.get("KIBAN_LANG") or ("en" if os.environ.get("LANG", "").startswith("en") else "ja")
        return self.message_en if lang.startswith("en") else self.message_ja

    def as_dict(self, lang: str = "ja") -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message(lang)}
        if self.field:
            data["field"] = self.field
        if self.rule:
            data["rule"] = self.rule
        if self.details:
            data["details"] = self.details
        return data

    def __str__(self) -> str:
        return self.message()

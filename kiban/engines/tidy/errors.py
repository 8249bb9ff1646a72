"""The tidy engine's error type (整形エンジンのエラー).

Every expected failure (file too large, zip bomb, password, corrupt, no table, time limit) is a TidyError
with a stable `code`, a Japanese message and an English one, so the CLI, the API and the web page can say
clearly what went wrong with each file.
"""

from __future__ import annotations

from kiban.core.errors import KibanError


class TidyError(KibanError):
    """入力ファイルを読めない・整形できない (the file cannot be read or converted)."""

    default_code = "tidy_error"

    # codes used: too_large, zip_bomb, encrypted, corrupt, unsupported_format, binary, no_table,
    # too_many_rows, timeout, not_found, bad_recipe, encoding

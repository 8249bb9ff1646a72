"""The English catalogue: msgids are Japanese, kiban/locale/en gives English; the compiled .mo is committed
(so running Kiban needs no gettext) and must match the .po."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"


def _po_entries(path: Path) -> dict[str, list[str]]:
    """msgid -> msgstr(s) of a .po file (a small reader: enough for what makemessages writes).

    A msgid with a context (msgctxt) is keyed as gettext stores it: "context\x04msgid"."""
    entries: dict[str, list[str]] = {}
    context = ""
    msgid: list[str] = []
    msgstrs: list[list[str]] = []
    target = None
    fuzzy = False

    def flush():
        if msgid and "".join(msgid):
            entries[(context + "\x04" if context else "") + "".join(msgid)] = ["".join(s) for s in msgstrs] + (["#fuzzy"] if fuzzy else [])

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            flush()
            msgid, msgstrs, target, fuzzy, context = [], [], None, False, ""
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("msgctxt "):
            context = ast.literal_eval(line[8:])
        elif line.startswith("msgid "):
            msgid, target = [ast.literal_eval(line[6:])], "id"
        elif line.startswith("msgid_plural"):
            target = None
        elif line.startswith("msgstr"):
            msgstrs.append([ast.literal_eval(line.split(" ", 1)[1])])
            target = "str"
        elif line.startswith('"'):
            (msgid if target == "id" else msgstrs[-1] if target == "str" else []).append(ast.literal_eval(line))
    return entries


def test_catalogue_is_complete_and_compiled():
    entries = _po_entries(LOCALE / "django.po")
    assert len(entries) > 100
    untranslated = sorted(k for k, v in entries.items() if not all(v) or "#fuzzy" in v)
    assert not untranslated, f"untranslated or fuzzy: {untranslated[:10]}"
    with (LOCALE / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for msgid, msgstrs in entries.items():
        assert compiled.gettext(msgid) == msgstrs[0] or compiled.ngettext(msgid, msgid, 1) == msgstrs[0], (
            f"django.mo is older than django.po for {msgid!r}: run `make messages`"
        )


@pytest.mark.parametrize(("ja", "en"), [("ダッシュボード", "Dashboard"), ("本文へ移動", "Skip to main content"),
                                        ("団体検索", "Find a body")])
def test_english_is_served(ja, en):
    with translation.override("en"):
        assert translation.gettext(ja) == en
    with translation.override("ja"):
        assert translation.gettext(ja) == ja

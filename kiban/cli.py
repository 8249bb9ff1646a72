"""The `kiban` command.

Engine commands (`kiban tidy …`, `kiban anon …`, `kiban address …`) run the engine libraries directly and
need no database. Everything else is a Django management command (`kiban migrate`, `kiban orgs show CODE`,
`kiban audit verify`, `kiban worker`, `kiban export`, …); `kiban check` runs Django's deploy checks, which
include Kiban's own.
"""

from __future__ import annotations

import importlib
import os
import sys

ENGINE_COMMANDS = {
    "tidy": "kiban.engines.tidy.cli",
    "anon": "kiban.engines.anon.cli",
    "address": "kiban.engines.address.cli",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ENGINE_COMMANDS:
        module = importlib.import_module(ENGINE_COMMANDS[argv[0]])
        return int(module.main(argv[1:]) or 0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiban.settings")
    if argv[:1] == ["check"] and "--deploy" not in argv:
        argv.append("--deploy")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kiban", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())

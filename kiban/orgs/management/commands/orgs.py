"""`kiban orgs …`: the registry of public bodies (団体台帳) from the command line.

    kiban orgs load                       load or refresh every body from the packaged data (idempotent)
    kiban orgs show CODE                  one body as JSON: code, name, kana, kind, parent_code
    kiban orgs list [--prefecture CODE] [--kind KIND] [--format csv|json]
    kiban orgs search TEXT [--limit N]    bodies whose name or reading contains TEXT, as JSON
    kiban orgs check CODE                 exit 0 when CODE is a registered body's valid code, else 1
    kiban orgs info                       the data's date and the counts

CODE is a 5- or 6-digit 全国地方公共団体コード (全角 accepted; 5 digits get their check digit) or a ministry's
13-digit 法人番号. Errors are printed in Japanese (KIBAN_LANG=en for English) and exit with status 1.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kiban.core.errors import KibanError
from kiban.orgs import registry, source

CSV_COLUMNS = ["code", "name", "kana", "kind", "parent_code", "prefecture_code", "county", "corporate_number"]


class Command(BaseCommand):
    help = "団体台帳（都道府県・市区町村・行政区・府省庁）の読込・参照 / the registry of public bodies"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{load,show,list,search,check,info}")
        sub.add_parser("load", help="パッケージ同梱のデータから全団体を読み込む（冪等）")
        show = sub.add_parser("show", help="団体を JSON で表示する")
        show.add_argument("code")
        lst = sub.add_parser("list", help="団体の一覧（CSV または JSON）")
        lst.add_argument("--prefecture", help="都道府県の団体コード（例: 130001、13000、13）")
        lst.add_argument("--kind", help="種類: " + ", ".join(source.KINDS))
        lst.add_argument("--format", choices=["csv", "json"], default="csv")
        lst.add_argument("--include-inactive", action="store_true", help="廃止された団体も含める")
        search = sub.add_parser("search", help="名称・よみで団体を検索する（JSON）")
        search.add_argument("text")
        search.add_argument("--limit", type=int, default=20)
        check = sub.add_parser("check", help="団体コードを検査する（有効なら終了コード 0、無効なら 1）")
        check.add_argument("code")
        sub.add_parser("info", help="データの時点と件数")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["subcommand"])(options)
        except KibanError as exc:
            self.stderr.write(exc.message())
            raise SystemExit(1) from None

    # -- subcommands ---------------------------------------------------------------------------------------

    def _load(self, options: dict) -> None:
        result = registry.load_registry()
        counts = result.counts
        self.stdout.write(
            f"団体台帳を読み込みました（{result.data_date}）: {result.body_count} 団体"
            f"（都道府県 {counts.get(source.PREFECTURE, 0)}、市区町村 {counts.get('municipalities', 0)}、"
            f"行政区 {counts.get(source.CITY_WARD, 0)}、府省庁 {counts.get(source.MINISTRY, 0)}）"
            f" 新規 {result.created}・更新 {result.updated}・廃止扱い {result.deactivated}"
        )

    def _show(self, options: dict) -> None:
        org = registry.get_org(options["code"])
        self._json(org.as_dict())

    def _list(self, options: dict) -> None:
        qs = registry.search_orgs(
            prefecture=options.get("prefecture"),
            kind=options.get("kind"),
            include_inactive=options.get("include_inactive", False),
        ).order_by("code")
        rows = [_row(org) for org in qs]
        if options["format"] == "json":
            self._json(rows)
            return
        writer = csv.DictWriter(self.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)

    def _search(self, options: dict) -> None:
        limit = max(1, min(int(options["limit"]), 1000))
        self._json([_row(org) for org in registry.search_orgs(options["text"])[:limit]])

    def _check(self, options: dict) -> None:
        code = registry.validate_code(options["code"])
        org = registry.get_org(code)
        state = "" if org.is_active else "（廃止）"
        self.stdout.write(f"{code} は有効な団体コードです: {org.name}{state}")

    def _info(self, options: dict) -> None:
        info = registry.registry_info()
        if not info:
            raise KibanError(
                "団体台帳がまだ読み込まれていません。`kiban orgs load` を実行してください",
                "The registry has not been loaded yet; run `kiban orgs load`",
                code="registry_not_loaded",
            )
        self._json(info)

    def _json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))


def _row(org) -> dict[str, Any]:
    return {
        **org.as_dict(),
        "prefecture_code": org.prefecture.code if org.prefecture_id else None,
        "county": org.county,
        "corporate_number": org.corporate_number,
    }



"""`kiban export --org CODE out.zip`: all of one body's data as JSON + CSV in a zip (audited)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kiban.ops import transfer


class Command(BaseCommand):
    help = "団体のデータをすべて zip (JSON + CSV) に書き出します (Export all of one body's data)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="団体コード (6 桁、府省庁は法人番号 13 桁)")
        parser.add_argument("path", help="書き出し先の zip ファイル")

    def handle(self, *, org: str, path: str, **options) -> None:
        from kiban.orgs.models import Org

        body = Org.objects.filter(code=org.strip()).first()
        if body is None:
            raise CommandError(f"団体コード {org} の団体が見つかりません (no body with code {org}).")
        written = transfer.export_org(body, actor=None, path=path)
        self.stdout.write(f"{body.name} ({body.code}) のデータを書き出しました: {written}")

"""`kiban import out.zip`: restore a body's export into an install whose registry is loaded (audited)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from kiban.ops import transfer


class Command(BaseCommand):
    help = "書き出した団体データを取り込みます (Import a body's export into an empty install)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", help="kiban export で作った zip ファイル")

    def handle(self, *, path: str, **options) -> None:
        try:
            result = transfer.import_org(path, actor=None)
        except transfer.TransferError as exc:
            raise CommandError(exc.message()) from exc
        rows = sum(result.models.values())
        self.stdout.write(
            f"{result.org.name} ({result.org.code}) に取り込みました: 利用者 {result.users} 人、"
            f"所属 {result.memberships} 件、データ {rows} 行。利用者はパスワードを再設定してください。"
        )

"""`kiban audit verify | export | head` — 監査ログの検証・出力.

    kiban audit verify [--anchor SEQ:HASH]      exit 0 with a summary, or 1 naming the first bad entry
    kiban audit export --org CODE [--since 2026-04-01] [--until 2026-05-01] [--bom] > audit.csv
    kiban audit head                            the newest entry's seq and hash, to keep elsewhere as an anchor
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from kiban.audit.export import iter_csv
from kiban.audit.queries import filter_entries, org_entries
from kiban.audit.verify import verify_chain
from kiban.core.errors import KibanError

_ANCHOR_RE = re.compile(r"^(\d+):([0-9a-f]{64})$")


def parse_when(value: str, option: str) -> date | datetime:
    """A date (a whole day, Japan time) or an ISO datetime; CommandError in Japanese otherwise."""
    # Date first: parse_datetime would also read "2026-04-01", as midnight, and --until would lose the day.
    day = parse_date(value) if len(value.strip()) == 10 else None
    if day is not None:
        return day
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"{option} の日付 {value!r} を読めません。2026-04-01 の形で指定してください。")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class Command(BaseCommand):
    help = "監査ログの検証 (verify)・CSV出力 (export)・先頭の表示 (head)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="ハッシュ連鎖を検証する")
        verify.add_argument("--batch-size", type=int, default=10000)
        verify.add_argument(
            "--workers", type=int, default=None, help="並列に検証するプロセス数（既定: 20万件以上で CPU 数）"
        )
        verify.add_argument("--anchor", help="以前に `kiban audit head` で控えた 通番:ハッシュ")
        verify.add_argument("--database", default=DEFAULT_DB_ALIAS)
        verify.add_argument("--json", action="store_true", help="結果を JSON で出力する")
        verify.add_argument("--lang", choices=["ja", "en"], default="ja")

        export = sub.add_parser("export", help="団体の監査記録を CSV で標準出力に書く")
        export.add_argument("--org", required=True, help="団体コード（5桁・6桁）または法人番号")
        export.add_argument("--since", help="この日時以降（例 2026-04-01）")
        export.add_argument("--until", help="この日まで（当日を含む）、または日時（その時刻より前）")
        export.add_argument("--bom", action="store_true", help="Excel 用に BOM を付ける")

        head = sub.add_parser("head", help="最新の通番とハッシュを表示する（外部保管用アンカー）")
        head.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options) -> None:
        return getattr(self, f"handle_{options['subcommand']}")(**options)

    def handle_verify(
        self, *, batch_size: int, anchor: str | None, database: str, workers: int | None, **options
    ) -> None:
        parsed_anchor = None
        if anchor:
            match = _ANCHOR_RE.match(anchor.strip())
            if not match:
                raise CommandError("--anchor は 通番:ハッシュ（64桁の16進数）の形で指定してください。")
            parsed_anchor = (int(match.group(1)), match.group(2))
        if batch_size < 1:
            raise CommandError("--batch-size は 1 以上にしてください。")
        if workers is not None and not 1 <= workers <= 64:
            raise CommandError("--workers は 1 から 64 の間で指定してください。")
        result = verify_chain(batch_size=batch_size, using=database, anchor=parsed_anchor, workers=workers)
        lang = options.get("lang", "ja")
        if options.get("json"):
            payload = {
                "ok": result.ok,
                "checked": result.checked,
                "last_seq": result.last_seq,
                "head_hash": result.head_hash,
                "bad_seq": result.bad_seq,
                "bad_id": result.bad_id,
                "reason": result.reason,
                "message": result.message(lang),
                "seconds": round(result.seconds, 3),
                "workers": result.details.get("workers", 1),
            }
            (self.stdout if result.ok else self.stderr).write(json.dumps(payload, ensure_ascii=False))
        elif result.ok:
            self.stdout.write(f"{result.message(lang)}（{result.seconds:.2f} 秒、毎秒 {result.rate:,.0f} 件）")
        else:
            self.stderr.write(f"監査ログの改ざんを検出しました: {result.message(lang)}")
        if not result.ok:
            sys.exit(1)

    def handle_export(self, *, org: str, since: str | None, until: str | None, bom: bool, **options) -> None:
        from kiban.orgs.registry import get_org

        try:
            body = get_org(org, field_name="org")
        except KibanError as exc:
            raise CommandError(exc.message("ja")) from None
        # The same filters, with the same meaning, as the viewer's CSV button.
        entries = filter_entries(
            org_entries(body),
            since=parse_when(since, "--since") if since else None,
            until=parse_when(until, "--until") if until else None,
        ).order_by("seq")
        for chunk in iter_csv(entries.iterator(chunk_size=2000), body.code, bom=bom):
            self.stdout.write(chunk, ending="")

    def handle_head(self, *, database: str, **options) -> None:
        from kiban.audit.models import AuditChainHead

        head = AuditChainHead.objects.using(database).filter(pk=1).first()
        if head is None:
            self.stdout.write("0:" + "0" * 64)
            return
        self.stdout.write(f"{head.seq}:{head.hash}")

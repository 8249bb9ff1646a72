"""`kiban demo`: demo users for three bodies (idempotent); prints how to log in."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from kiban.accounts.models import Role
from kiban.core.errors import KibanError
from kiban.ops import demo


class Command(BaseCommand):
    help = "デモ用の利用者とデータを作成します (Create demo users and data; safe to run again)."

    def handle(self, **options) -> None:
        try:
            rows = demo.build_demo()
        except KibanError as exc:
            raise CommandError(exc.message()) from exc
        created = sum(1 for *_, new in rows if new)
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        out = self.stdout.write
        out("")
        out(f"Kiban デモ: 利用者 {len(rows)} 人 (今回作成 {created} 人) / demo users: {len(rows)} ({created} new)")
        out(f"  URL:        http://{host}:{port}/")
        out(f"  パスワード: {demo.DEMO_PASSWORD}   (全員共通 / same for everyone)")
        for org, spec, _new in rows:
            out(f"  {spec.username:<18} {Role(spec.role).label:<4} {org.name} ({org.code})")
        out("")

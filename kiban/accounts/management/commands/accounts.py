"""`kiban accounts …`: what the server operator does from the command line (利用者の運用).

    kiban accounts create-admin CODE USERNAME [--email E] [--display-name N] [--password-stdin]
        make USERNAME a 管理者 of the body CODE (creating the user if needed): a new body's first 管理者,
        or a new one when none is left. The password is asked twice on a terminal, or read from stdin.
    kiban accounts set-password USERNAME [--password-stdin]
        set a user's password (a locked-out 管理者).
    kiban accounts list CODE
        the body's users and roles, as JSON.

Every change is in the audit log with the system as actor. Errors are printed in Japanese (KIBAN_LANG=en
for English) and exit with status 1.
"""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kiban.accounts import actions
from kiban.accounts.models import Membership, User
from kiban.core.errors import KibanError
from kiban.orgs import registry


class Command(BaseCommand):
    help = "利用者の運用（最初の管理者の作成、パスワード再設定、一覧） / operate accounts"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{create-admin,set-password,list}")
        create = sub.add_parser("create-admin", help="団体の管理者を作成・設定する")
        create.add_argument("code", help="団体コード（6桁・5桁、府省庁は法人番号）")
        create.add_argument("username")
        create.add_argument("--email", default="")
        create.add_argument("--display-name", default="")
        create.add_argument("--password-stdin", action="store_true", help="パスワードを標準入力の1行目から読む")
        create.add_argument("--no-password", action="store_true", help="パスワードを設定しない（後で set-password）")
        setpw = sub.add_parser("set-password", help="利用者のパスワードを設定する")
        setpw.add_argument("username")
        setpw.add_argument("--password-stdin", action="store_true")
        lst = sub.add_parser("list", help="団体の利用者と役割（JSON）")
        lst.add_argument("code")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["subcommand"].replace("-", "_"))(options)
        except KibanError as exc:
            self.stderr.write(exc.message())
            raise SystemExit(1) from None

    def _password(self, options: dict) -> str:
        if options.get("password_stdin"):
            return sys.stdin.readline().rstrip("\n")
        if not sys.stdin.isatty():
            raise actions.AccountsError(
                "パスワードは端末で入力するか --password-stdin で渡してください。",
                "Type the password on a terminal or pass --password-stdin.",
                field="password", rule="required",
            )
        first = getpass.getpass("パスワード: ")
        if first != getpass.getpass("パスワード（確認）: "):
            raise actions.AccountsError(
                "確認用のパスワードが一致しません。", "The passwords do not match.", field="password", rule="confirm"
            )
        return first

    def _create_admin(self, options: dict) -> None:
        org = registry.get_org(options["code"])
        exists = User.objects.filter(username=options["username"]).exists()
        password = None if exists or options["no_password"] else self._password(options)
        user = actions.do_grant_admin_by_operator(
            org=org,
            username=options["username"],
            email=options["email"],
            display_name=options["display_name"],
            password=password,
        )
        self.stdout.write(f"{user.username} を {org.name}（{org.code}）の管理者にしました。")

    def _set_password(self, options: dict) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise actions.AccountsError(
                f"利用者 {options['username']} は存在しません。", f"No user {options['username']}.",
                code="not_found", field="username", rule="exists", status=404,
            )
        actions.do_set_password_by_operator(user, self._password(options))
        self.stdout.write(f"{user.username} のパスワードを設定しました。")

    def _list(self, options: dict) -> None:
        org = registry.get_org(options["code"])
        rows = [
            {"username": m.user.username, "display_name": m.user.display_name, "email": m.user.email,
             "role": m.role, "is_active": m.user.is_active}
            for m in Membership.objects.for_org(org).select_related("user").order_by("user__username")
        ]
        self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))

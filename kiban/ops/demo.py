"""デモ環境 (the demo): three bodies with a 管理者, a 職員 and a 審査者 each, all with one known password.

Idempotent: running it again changes nothing that is already there. Every write goes through audited
actions: each body's first 管理者 is made by the operator action (`kiban accounts create-admin` does the
same), who then registers the body's other users.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiban.accounts import actions
from kiban.accounts.models import Role, User
from kiban.core.errors import KibanError

DEMO_PASSWORD = "kiban-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str


@dataclass(frozen=True)
class DemoBody:
    code: str
    users: tuple[DemoUser, ...]


BODIES = (
    DemoBody("131016", (  # 千代田区 (特別区)
        DemoUser("chiyoda-admin", "千代田 管理 花子", Role.ADMIN),
        DemoUser("chiyoda-staff", "千代田 職員 太郎", Role.STAFF),
        DemoUser("chiyoda-reviewer", "千代田 審査 次郎", Role.REVIEWER),
    )),
    DemoBody("141305", (  # 川崎市 (政令指定都市)
        DemoUser("kawasaki-admin", "川崎 管理 一郎", Role.ADMIN),
        DemoUser("kawasaki-staff", "川崎 職員 桜", Role.STAFF),
        DemoUser("kawasaki-reviewer", "川崎 審査 学", Role.REVIEWER),
    )),
    DemoBody("2000012020001", (  # 総務省 (法人番号)
        DemoUser("soumu-admin", "総務 管理 明", Role.ADMIN),
        DemoUser("soumu-staff", "総務 職員 結衣", Role.STAFF),
        DemoUser("soumu-reviewer", "総務 審査 誠", Role.REVIEWER),
    )),
)


class DemoError(KibanError):
    default_code = "demo_invalid"


def build_demo() -> list[tuple[object, DemoUser, bool]]:
    """Create what is missing; returns (body, user, created?) for every demo user."""
    from kiban.orgs.models import Org

    done = []
    for body in BODIES:
        org = Org.objects.filter(code=body.code).first()
        if org is None:
            raise DemoError(
                f"団体コード {body.code} の団体がありません。先に `kiban orgs load` を実行してください。",
                f"No body with code {body.code}: run `kiban orgs load` first.", code="registry_missing")
        admin_spec, *others = body.users
        admin = User.objects.filter(username=admin_spec.username).first()
        created = admin is None
        if created:
            admin = actions.do_grant_admin_by_operator(
                org=org, username=admin_spec.username, email=f"{admin_spec.username}@example.jp",
                display_name=admin_spec.display_name, password=DEMO_PASSWORD)
        done.append((org, admin_spec, created))
        for spec in others:
            exists = User.objects.filter(username=spec.username).exists()
            if not exists:
                actions.do_create_user(org=org, username=spec.username, role=spec.role, acting_user=admin,
                                       email=f"{spec.username}@example.jp", display_name=spec.display_name,
                                       password=DEMO_PASSWORD)
            done.append((org, spec, not exists))
    return done

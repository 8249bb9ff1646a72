"""Kiban's own deploy checks (`kiban check`, which runs Django's `check --deploy`).

Each names what is wrong in Japanese and how to fix it. They are tagged `deploy`, so they run only with
--deploy: the demo (SQLite, demo secret) is meant to fail them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError, connections


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    if getattr(settings, "USING_DEMO_SECRET", False) and not settings.DEBUG:
        return [Error(
            "SECRET_KEY がデモ用の既定値のままです (SECRET_KEY is the demo default).",
            hint="環境変数 SECRET_KEY に 50 文字以上の推測できない値を設定してください。",
            id="kiban.E001",
        )]
    return []


@register(Tags.database, deploy=True)
def check_database_engine(app_configs, **kwargs):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return [Error(
            f"本番環境のデータベースは PostgreSQL にしてください (DATABASE is {engine}, not PostgreSQL).",
            hint="DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DBNAME を設定してください (docs/deploy.md)。",
            id="kiban.E002",
        )]
    return []


@register(Tags.database, deploy=True)
def check_migrations_applied(app_configs, **kwargs):
    from kiban.ops.health import unapplied_migrations

    try:
        pending = unapplied_migrations()
    except DatabaseError as exc:
        return [Error(
            f"データベースに接続できません (database unreachable: {type(exc).__name__}).",
            hint="DATABASE_URL と、データベースサーバーが起動していることを確かめてください。",
            id="kiban.E003",
        )]
    if pending:
        return [Error(
            f"未適用のマイグレーションが {len(pending)} 件あります (unapplied migrations: {', '.join(pending[:5])}).",
            hint="`kiban migrate` を実行してください。",
            id="kiban.E004",
        )]
    return []


@register(Tags.database, deploy=True)
def check_registry_loaded(app_configs, **kwargs):
    from kiban.orgs.models import Org

    try:
        loaded = Org.objects.exists()
    except DatabaseError:
        return []  # reported by check_migrations_applied
    if not loaded:
        return [Error(
            "団体の登録簿が読み込まれていません (the registry of bodies is empty).",
            hint="`kiban orgs load` を実行してください。",
            id="kiban.E005",
        )]
    return []


@register(Tags.security, deploy=True)
def check_email_backend(app_configs, **kwargs):
    if settings.EMAIL_BACKEND.endswith(("console.EmailBackend", "locmem.EmailBackend")):
        return [Warning(
            "メールが送信されず、画面出力のみになっています (EMAIL_URL is console://).",
            hint="EMAIL_URL=smtp://USER:PASSWORD@HOST:587?tls=1 を設定してください。",
            id="kiban.W006",
        )]
    return []


@register(Tags.database, deploy=True)
def check_replica(app_configs, **kwargs):
    if "replica" not in connections.databases:
        return []
    try:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return [Error(
            f"読み取りレプリカに接続できません (DATABASE_REPLICA_URL unreachable: {type(exc).__name__}).",
            id="kiban.E007",
        )]
    return []

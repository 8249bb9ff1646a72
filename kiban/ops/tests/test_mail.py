"""Mail goes through Django's email backends, chosen by EMAIL_URL."""

from __future__ import annotations

import pytest
from django.core import mail

from kiban.settings import _email_settings


def test_console_is_the_default():
    assert _email_settings("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")


def test_smtp_url():
    conf = _email_settings("smtp://user%40city:p%2Fw@mail.example.jp:587?tls=1")
    assert conf["EMAIL_HOST"] == "mail.example.jp" and conf["EMAIL_PORT"] == 587
    assert conf["EMAIL_HOST_USER"] == "user@city" and conf["EMAIL_HOST_PASSWORD"] == "p/w"
    assert conf["EMAIL_USE_TLS"] is True and conf["EMAIL_USE_SSL"] is False


def test_smtps_and_file():
    assert _email_settings("smtps://mail.example.jp")["EMAIL_PORT"] == 465
    assert _email_settings("file:///var/mail/kiban")["EMAIL_FILE_PATH"] == "/var/mail/kiban"


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError):
        _email_settings("carrier-pigeon://coop")


def test_japanese_mail_is_sent(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.send_mail("締切のお知らせ", "回答期限は明日です。", "kiban@example.jp", ["alice@example.jp"])
    assert mail.outbox[0].subject == "締切のお知らせ"

"""Structured JSON logs carry the request id of the request being served."""

from __future__ import annotations

import json
import logging

import pytest

from kiban.ops.logging import JsonFormatter, RequestIdFilter, current_request_id


def _format(record: logging.LogRecord) -> dict:
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_one_json_object_with_extras():
    record = logging.makeLogRecord({"name": "kiban.x", "levelname": "INFO", "msg": "団体 %s", "args": ("131016",),
                                    "org": "131016", "obj": object()})
    data = _format(record)
    assert data["message"] == "団体 131016"
    assert data["logger"] == "kiban.x" and data["level"] == "INFO"
    assert data["org"] == "131016"
    assert data["obj"].startswith("<object")  # not JSON-serialisable: repr, never a crash
    assert data["time"].endswith("+00:00")


def test_request_id_from_context():
    token = current_request_id.set("req-12345678")
    try:
        data = _format(logging.makeLogRecord({"msg": "x"}))
    finally:
        current_request_id.reset(token)
    assert data["request_id"] == "req-12345678"


def test_exception_is_included():
    try:
        raise ValueError("壊れた")
    except ValueError:
        import sys

        record = logging.makeLogRecord({"msg": "failed", "exc_info": sys.exc_info()})
    assert "ValueError: 壊れた" in _format(record)["exc"]


@pytest.mark.django_db
class TestRequestIdMiddleware:
    def test_generated_and_echoed(self, client):
        response = client.get("/healthz")
        assert len(response["X-Request-ID"]) == 32

    def test_well_formed_incoming_id_is_kept(self, client):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="proxy-req-0001")
        assert response["X-Request-ID"] == "proxy-req-0001"

    def test_malformed_incoming_id_is_replaced(self, client):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
        assert response["X-Request-ID"] != "bad id\nwith newline" and len(response["X-Request-ID"]) == 32

    def test_log_lines_of_a_request_carry_its_id(self, client, caplog):
        caplog.set_level(logging.WARNING, logger="django.request")
        client.get("/no-such-page/", HTTP_X_REQUEST_ID="trace-abcdef01")
        records = [r for r in caplog.records if r.name == "django.request"]
        assert records and all(_format(r)["request_id"] == "trace-abcdef01" for r in records)

"""kiban.core.jobs' own logic: the upload checks and the task body's control flow (engine-free: the engines'
page tests cover the models, the audit entries and the pages)."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from kiban.core import jobs


class _Form(jobs.UploadFormMixin, forms.Form):
    file = forms.FileField()
    formats: ClassVar[set[str]] = {".csv"}
    unsupported_message = "no"
    unsupported_code = "fmt"


def _errors(name: str, size: int | None = None):
    f = SimpleUploadedFile(name, b"a,b\n")
    if size is not None:
        f.size = size
    form = _Form({}, {"file": f})
    form.is_valid()
    return [e.code for e in form.errors.as_data().get("file", [])]


def test_upload_checks_format_and_size():
    assert _errors("a.CSV") == []
    assert _errors("a.pdf") == ["fmt"] and _errors("noext") == ["fmt"]
    assert _errors("a.csv", size=jobs.UPLOAD_MAX_BYTES) == []
    assert _errors("a.csv", size=jobs.UPLOAD_MAX_BYTES + 1) == ["too_large"]


class _EngineError(Exception):
    code = "bad"

    def message(self, lang):
        return f"message in {lang}"


def _fake_model(job):
    return SimpleNamespace(action_prefix="fake.job",
                           objects=SimpleNamespace(select_related=lambda *a: SimpleNamespace(get=lambda pk: job)))


@pytest.fixture
def calls(monkeypatch):
    seen = []
    monkeypatch.setattr(jobs, "start_job", lambda job: seen.append(("start",)))
    monkeypatch.setattr(jobs, "finish_job", lambda job, **kw: seen.append(("finish", kw)))
    return seen


def _job():
    return SimpleNamespace(filename="../dir/data.csv", upload=SimpleNamespace(open=lambda mode: io.BytesIO(b"x" * 3_000_000)))


def test_run_job_gives_the_work_a_copy_and_records_its_outcome(calls):
    def work(job, src: Path, tmp: Path):
        assert src == tmp / "data.csv" and src.stat().st_size == 3_000_000  # no folder from the name
        return jobs.Outcome(report={"ok": 1}, result_name="r.zip", result_bytes=b"zip", fields={"score": 9})

    jobs.run_job(_fake_model(_job()), 1, work, errors=_EngineError)
    assert calls == [("start",), ("finish", {"report": {"ok": 1}, "result_name": "r.zip", "result_bytes": b"zip",
                                             "fields": {"score": 9}})]


def test_run_job_turns_the_engine_error_into_a_failure(calls):
    def work(job, src, tmp):
        raise _EngineError

    jobs.run_job(_fake_model(_job()), 1, work, errors=_EngineError)
    assert calls == [("start",), ("finish", {"report": None, "error_code": "bad", "error_message": "message in ja",
                                          "error_message_en": "message in en"})]


def test_run_job_lets_other_errors_through(calls):
    def work(job, src, tmp):
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        jobs.run_job(_fake_model(_job()), 1, work, errors=_EngineError)

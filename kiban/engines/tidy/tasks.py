"""Background processing of uploads (django-tasks): check and convert, never inside the web request."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from django_tasks import task

from kiban.core.jobs import UPLOAD_MAX_BYTES, Outcome, run_job

from .errors import TidyError
from .reader import Limits

# The web page accepts smaller files than the CLI (the worker shares the server).
WEB_LIMITS = Limits(max_file_bytes=UPLOAD_MAX_BYTES, max_rows=1_100_000, timeout=300.0)


@task()
def run_tidy_job(job_id: int) -> None:
    from .models import TidyJob

    run_job(TidyJob, job_id, _convert, errors=TidyError)


def _convert(job, src: Path, tmp: Path) -> Outcome:
    from .engine import convert

    res = convert(src, tmp / "out", limits=WEB_LIMITS, timeout=WEB_LIMITS.timeout, bom=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted((tmp / "out").iterdir()):
            zf.write(p, p.name)
    report = res.report.as_dict()
    return Outcome(report=report, result_name=f"{src.stem}_tidy.zip", result_bytes=buf.getvalue(),
                   fields={"score": report.get("score")})

"""Background processing of uploads (django-tasks): check and convert, never inside the web request."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from django_tasks import task

from .errors import TidyError
from .reader import Limits

# The web page accepts smaller files than the CLI (the worker shares the server).
WEB_LIMITS = Limits(max_file_bytes=50 * 1024 * 1024, max_rows=1_100_000, timeout=300.0)


@task()
def run_tidy_job(job_id: int) -> None:
    from .actions import do_finish_job, do_start_job
    from .engine import convert
    from .models import TidyJob

    job = TidyJob.objects.select_related("org").get(pk=job_id)
    do_start_job(job)
    with tempfile.TemporaryDirectory(prefix="kiban-tidy-") as tmp:
        src = Path(tmp) / Path(job.filename).name
        with job.upload.open("rb") as fh, src.open("wb") as out:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                out.write(chunk)
        try:
            res = convert(src, Path(tmp) / "out", limits=WEB_LIMITS, timeout=WEB_LIMITS.timeout, bom=True)
        except TidyError as exc:
            do_finish_job(job, report=None, result_name=None, result_bytes=None, error_code=exc.code,
                          error_message=exc.message("ja"))
            return
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted((Path(tmp) / "out").iterdir()):
                zf.write(p, p.name)
        do_finish_job(job, report=res.report.as_dict(), result_name=f"{src.stem}_tidy.zip",
                      result_bytes=buf.getvalue())

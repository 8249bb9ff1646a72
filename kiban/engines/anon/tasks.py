"""Background anonymisation (django-tasks): search, apply, report — never inside the web request."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

from django_tasks import task

from .errors import AnonError


@task()
def run_anon_job(job_id: int) -> None:
    from .actions import do_finish_job, do_start_job
    from .config import load_config
    from .engine import _json_default, anonymize, prepare
    from .io import write_table_atomic
    from .models import AnonJob
    from .report import render_html

    job = AnonJob.objects.select_related("org").get(pk=job_id)
    do_start_job(job)
    with tempfile.TemporaryDirectory(prefix="kiban-anon-") as tmp:
        src = Path(tmp) / Path(job.filename).name
        with job.upload.open("rb") as fh, src.open("wb") as out:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                out.write(chunk)
        raw = dict(job.config)
        raw["input"] = {**(raw.get("input") or {}), "path": str(src)}
        raw.pop("output", None)
        raw.pop("tables", None)
        try:
            cfg = load_config(raw, base_dir=Path(tmp))
            out = anonymize(prepare(cfg, allow_files=False))
        except AnonError as exc:
            do_finish_job(job, report=None, error_code=exc.code, error_message=exc.message("ja"))
            return
        html = render_html(out.report)
        data = Path(tmp) / f"{src.stem}_anon.csv"
        write_table_atomic(out.released, data, encoding="utf-8-sig")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(data, data.name)
            zf.writestr("report.json", json.dumps(out.report, ensure_ascii=False, indent=2, default=_json_default))
            zf.writestr("report.html", html)
        report = json.loads(json.dumps(out.report, ensure_ascii=False, default=_json_default))
        do_finish_job(job, report=report, report_html=html, result_name=f"{src.stem}_anon.zip",
                      result_bytes=buf.getvalue())

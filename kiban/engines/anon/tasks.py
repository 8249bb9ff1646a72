"""Background anonymisation (django-tasks): search, apply, report — never inside the web request."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from django_tasks import task

from kiban.core.jobs import Outcome, run_job

from .errors import AnonError


@task()
def run_anon_job(job_id: int) -> None:
    from .models import AnonJob

    run_job(AnonJob, job_id, _anonymize, errors=AnonError)


def _anonymize(job, src: Path, tmp: Path) -> Outcome:
    from .config import load_config
    from .engine import _json_default, anonymize, prepare
    from .io import write_table_atomic
    from .report import render_html

    raw = dict(job.config)
    raw["input"] = {**(raw.get("input") or {}), "path": str(src)}
    raw.pop("output", None)
    raw.pop("tables", None)
    cfg = load_config(raw, base_dir=tmp)
    out = anonymize(prepare(cfg, allow_files=False))
    html = render_html(out.report)
    data = tmp / f"{src.stem}_anon.csv"
    write_table_atomic(out.released, data, encoding="utf-8-sig")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(data, data.name)
        zf.writestr("report.json", json.dumps(out.report, ensure_ascii=False, indent=2, default=_json_default))
        zf.writestr("report.html", html)
    report = json.loads(json.dumps(out.report, ensure_ascii=False, default=_json_default))
    return Outcome(report=report, result_name=f"{src.stem}_anon.zip", result_bytes=buf.getvalue(),
                   fields={"report_html": html})

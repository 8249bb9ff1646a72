"""API routes of the anon engine, mounted by kiban.api.urls under /api/v1/anon/ (scope anon:use).

    POST /jobs  GET /jobs  GET /jobs/{id}  GET /jobs/{id}/result

What the staff page (/anon/) does, for other systems: kiban.core.jobs_api with the page's form (the data file
and its YAML configuration, as a text field or a file part) and the engine's audited submit action.
"""

from __future__ import annotations

from typing import Any

from ninja import Field

from kiban.accounts.models import Role
from kiban.api.auth import actor
from kiban.core.jobs_api import JobOut, job_router

from .actions import do_submit_job
from .models import AnonJob
from .views import JobForm


class AnonJobOut(JobOut):
    """匿名加工ジョブ: the job and the configuration it runs with."""

    config: dict[str, Any] = Field(..., description="加工の設定 (検証済み)")


router = job_router(
    AnonJob,
    engine="anon",
    label="匿名加工",
    scope="anon:use",
    roles=[Role.ADMIN, Role.STAFF],  # the same as the staff page
    form=JobForm,
    submit=lambda request, org, data: do_submit_job(actor(request), org, data["file"], data["config"],
                                                    request=request),
    out=AnonJobOut,
    text_files=["config"],
)

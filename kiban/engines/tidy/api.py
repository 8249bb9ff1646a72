"""API routes of the tidy engine, mounted by kiban.api.urls under /api/v1/tidy/ (scope tidy:use).

    POST /jobs  GET /jobs  GET /jobs/{id}  GET /jobs/{id}/result

What the staff page (/tidy/) does, for other systems: kiban.core.jobs_api with the page's upload form and
the engine's audited submit action.
"""

from __future__ import annotations

from ninja import Field

from kiban.accounts.models import Role
from kiban.api.auth import actor
from kiban.core.jobs_api import JobOut, job_router

from .actions import do_submit_job
from .models import TidyJob
from .views import UploadForm


class TidyJobOut(JobOut):
    """整形ジョブ: the job and, once done, its machine-readability score."""

    score: int | None = Field(None, description="機械可読性スコア (0〜100、完了したとき)")


router = job_router(
    TidyJob,
    engine="tidy",
    label="整形",
    scope="tidy:use",
    roles=[Role.ADMIN, Role.STAFF],  # the same as the staff page
    form=UploadForm,
    submit=lambda request, org, data: do_submit_job(actor(request), org, data["file"], request=request),
    out=TidyJobOut,
)

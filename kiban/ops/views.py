"""Operations endpoints for load balancers and monitoring."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from kiban.ops import health


@never_cache
@require_GET
def healthz(request):
    """/healthz: 200 when this node can serve (DB up, migrations applied, queue keeping up), else 503."""
    result = health.check()
    return JsonResponse(result.as_dict(), status=200 if result.ok else 503, json_dumps_params={"ensure_ascii": False})

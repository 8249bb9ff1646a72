"""The JSON API: django-ninja under /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/docs."""

from django.urls import path
from ninja import NinjaAPI

api = NinjaAPI(title="Kiban API", version="1", urls_namespace="api-v1", docs_url="/docs")
api.add_router("/orgs/", "kiban.orgs.api.router")
api.add_router("/address/", "kiban.engines.address.api.router")
api.add_router("/tidy/", "kiban.engines.tidy.api.router")
api.add_router("/anon/", "kiban.engines.anon.api.router")

urlpatterns = [path("v1/", api.urls)]

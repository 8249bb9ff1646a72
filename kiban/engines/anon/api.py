"""API routes of the anon engine, mounted by kiban.api.urls under /api/v1/anon/."""

from ninja import Router

router = Router(tags=["anon"])

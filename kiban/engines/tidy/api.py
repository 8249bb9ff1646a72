"""API routes of the tidy engine, mounted by kiban.api.urls under /api/v1/tidy/."""

from ninja import Router

router = Router(tags=["tidy"])

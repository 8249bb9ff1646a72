"""API routes of the address engine, mounted by kiban.api.urls under /api/v1/address/."""

from ninja import Router

router = Router(tags=["address"])

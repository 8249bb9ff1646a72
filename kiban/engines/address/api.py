"""API routes of the address engine, mounted by kiban.api.urls under /api/v1/address/.

Authentication is the API's global one (token or session); these routes hold no tenant data: the
dictionary is public reference data, so any signed-in actor may use them.
"""

from __future__ import annotations

from ninja import Field, Router, Schema

from kiban.engines.address import lookup
from kiban.engines.address.normalizer import Normalizer

router = Router(tags=["address"])

MAX_BATCH = 1000


class CorrectionOut(Schema):
    kind: str = Field(description="補正の種類 (width, spelling, pref_added, …)")
    label: str = Field(description="補正の説明（日本語）")
    before: str
    after: str


class AddressOut(Schema):
    input: str
    pref: str | None = Field(None, description="都道府県")
    city: str | None = Field(None, description="市区町村（郡・政令市の区を含む）")
    town: str | None = Field(None, description="町字（丁目は漢数字）")
    rest: str = Field("", description="番地・号（1-2-3 形式）")
    building: str = Field("", description="建物名・部屋番号")
    street: str = Field("", description="京都の通り名")
    lg_code: str | None = Field(None, description="全国地方公共団体コード（6桁・検査数字付き）")
    pref_code: str | None = None
    postal_code: list[str] = Field(default_factory=list, description="郵便番号の候補")
    level: int = Field(description="0 不明, 1 都道府県, 2 市区町村, 3 町字, 4 町字＋番地")
    address: str = Field(description="正規化した住所全体")
    corrections: list[CorrectionOut]
    reason: str | None = Field(None, description="レベルが低い・曖昧な理由")
    ambiguity: list[str] = Field(default_factory=list, description="曖昧なときの候補")


class NormalizeIn(Schema):
    addresses: list[str] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"住所の配列（1回に{MAX_BATCH:,}件まで）"
    )
    default_body: str | None = Field(
        None, description="都道府県・市区町村が書かれていない住所の既定の団体コード（6桁）"
    )


class NormalizeOut(Schema):
    count: int
    data_date: str
    results: list[AddressOut]


class PostalOut(Schema):
    postal_code: str
    pref: str
    city: str
    town: str
    building: str
    lg_code: str


@router.post("/normalize", response=NormalizeOut, summary="住所を正規化する（1回に1,000件まで）")
def normalize_addresses(request, payload: NormalizeIn):
    """住所正規化: each address → pref, city, town, rest (1-2-3), building, lg_code, postal codes, level."""
    normalizer = Normalizer(payload.default_body)  # a bad default_body raises AddressError → 400 problem
    results = [normalizer(text).as_dict() for text in payload.addresses]
    return {"count": len(results), "data_date": normalizer.worker.idx.data_date, "results": results}


@router.get("/postal/{code}", response=list[PostalOut], summary="郵便番号から住所の候補")
def postal(request, code: str):
    return lookup.by_postal(code)


@router.get("/bodies/{code}", summary="団体コードから名称")
def body(request, code: str):
    return lookup.body(code)


@router.get("/bodies/{code}/towns", summary="市区町村の町字一覧")
def towns(request, code: str):
    return lookup.towns(code)

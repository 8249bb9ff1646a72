"""Bodies API (団体 API), mounted at /api/v1/orgs/: public read-only access to the registry.
    GET /api/v1/orgs/?q=&prefecture=&kind=&parent=&cursor=&limit=   list, cursor-paginated, ordered by code
    GET /api/v1/orgs/{code}                                         one body, with the bodies directly below it
An invalid code (format or check digit) is a 422 problem+json naming the field and the rule; a well-formed code
that no body has is a 404. Codes may be 5 or 6 digits (全角 too) or a ministry's 13-digit 法人番号.
"""


from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from kiban.api.pagination import paginated
from kiban.orgs import registry, source
from kiban.orgs.models import Org, RegistryInfo

router = Router(tags=["orgs"])


class OrgRef(Schema):
    """A body in short: code, name and kind."""

    code: str = Field(..., description="団体コード（6桁、府省庁は13桁の法人番号）", examples=["011002"])
    name: str = Field(..., description="名称", examples=["札幌市"])
    kind: str = Field(..., description="種類: " + ", ".join(source.KINDS), examples=["designated_city"])


class OrgOut(OrgRef):
    """A body (団体) of the registry."""

    kana: str = Field(..., description="よみがな（全角カタカナ）", examples=["サッポロシ"])
    kind_label: str = Field(..., description="種類（日本語）", examples=["政令指定都市"])
    parent_code: str | None = Field(None, description="上位団体の団体コード（都道府県・政令指定都市・府省）")
    prefecture_code: str | None = Field(None, description="都道府県の団体コード（府省庁は null）")
    county: str = Field("", description="郡（町村のみ）")
    corporate_number: str = Field("", description="法人番号（府省庁）")
    is_active: bool = Field(True, description="現在の団体データにあるか（合併・廃止なら false）")

    @staticmethod
    def resolve_parent_code(obj: Org) -> str | None:
        return obj.parent.code if obj.parent_id else None

    @staticmethod
    def resolve_prefecture_code(obj: Org) -> str | None:
        return obj.prefecture.code if obj.prefecture_id else None


class OrgDetailOut(OrgOut):
    """A body with the bodies directly below it (行政区, 市区町村, 外局)."""

    children: list[OrgRef] = Field(default_factory=list, description="直下の団体（現存するもの）")
    data_date: str = Field("", description="団体データの時点")

    @staticmethod
    def resolve_children(obj: Org) -> list[Org]:
        return list(obj.children.filter(is_active=True).order_by("code"))

    @staticmethod
    def resolve_data_date(obj: Org) -> str:
        info = RegistryInfo.current()
        return info.data_date if info else ""


class OrgFilters(Schema):
    q: str | None = Field(None, description="名称・よみ（ひらがな・カタカナ、全角・半角）または団体コードの先頭")
    prefecture: str | None = Field(None, description="都道府県の団体コード（130001、13000 または 13）")
    kind: str | None = Field(None, description="種類: " + ", ".join(source.KINDS))
    parent: str | None = Field(None, description="上位団体の団体コード（政令指定都市の区などを得る）")
    include_inactive: bool = Field(False, description="廃止された団体も含める")


@router.get("/", response=list[OrgOut], auth=None, summary="団体の一覧・検索")
@paginated(ordering=("code",))
def list_orgs(request: HttpRequest, filters: Query[OrgFilters]):
    """Bodies matching the filters, ordered by code (public)."""
    return registry.search_orgs(
        filters.q or "",
        prefecture=filters.prefecture,
        kind=filters.kind,
        parent=filters.parent,
        include_inactive=filters.include_inactive,
    )


@router.get("/{code}", response=OrgDetailOut, auth=None, summary="団体の詳細")
def get_org(request: HttpRequest, code: str):
    """One body by its code (5/6-digit 団体コード or 13-digit 法人番号), with its direct children (public)."""
    return registry.get_org(code)

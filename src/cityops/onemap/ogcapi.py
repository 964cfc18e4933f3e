"""`/ogcapi`: OGC API – Features (Part 1: core, GeoJSON, HTML, OpenAPI 3.0; Part 2: CRS)
over the one map's layers and the grids for everyone, and cases, devices, cameras and the
latest comparison's conflict patches for logged-in staff (a bearer token or an X-API-Key,
each seeing what it may elsewhere); and OGC API – Tiles (Part 1: core, tileset,
tilesets-list, geodata-tilesets, MVT) with vector tiles of the layers, the grids and the
conflict patches on WebMercatorQuad (`cityops.onemap.tiles`).

JSON by default (OWSLib asks without a format), HTML for `f=html` or a browser's Accept.
Errors come as the standard's exception, `{"code", "description"}` with the HTTP status
(`error_response`, installed for this prefix in app.py).

Caching of tiles: a layer's tile URL names the layer's version (`?v=`, as the tileset's
link template gives it), and a version never changes, so such a tile may be kept a year
(`immutable`). Without `v` it is the current version's, to be revalidated each time. Every
tile has a strong ETag and `If-None-Match` is answered 304; a layer tile's ETag is known
without encoding it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from cityops import __version__
from cityops.auth.service import Principal
from cityops.cases.workflow import Actor
from cityops.deps import ContextDep, NowDep, UowDep, api_key_scheme, get_principal, oauth2_scheme
from cityops.errors import BadRequest, DomainError
from cityops.onemap import features, tiles
from cityops.onemap.features import (
    CRS84,
    STORAGE_CRS,
    SUPPORTED_CRS,
    Collection,
    ItemQuery,
    Page,
)
from cityops.onemap.tiles import MVT, TMS_ID, TMS_URI, TileAddress, TileCache

ROOT = "/ogcapi"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
]
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
# The standard's exception codes, by status (OGC API – Common's exception schema).
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
# A layer version never changes: its tiles, addressed with `v`, may be kept a year.
IMMUTABLE = "public, max-age=31536000, immutable"
EXCEPTION_CODES = {400: "InvalidParameterValue", 401: "NotAuthenticated", 403: "Forbidden",
                   404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable",
                   500: "ServerError", 503: "ServiceUnavailable"}  # fmt: skip

router = APIRouter(prefix=ROOT, tags=["ogcapi"])
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def error_response(_request: Request, exc: DomainError) -> Response:
    """An error as OGC API gives it: `code` and `description`, with the HTTP status (a
    422 of ours is a 400 here: every invalid parameter is a bad request)."""
    status = 400 if exc.status == 422 else exc.status
    body = {"code": EXCEPTION_CODES.get(status, "Error"), "description": exc.detail}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


# -- request helpers ----------------------------------------------------------------------


async def optional_principal(
    context: ContextDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal | None:
    """The caller if it sent credentials (which must then be valid), else None."""
    if not token and not api_key:
        return None
    return await get_principal(context, token, api_key)


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]


def _actor(principal: Principal | None) -> Actor | None:
    return principal.actor if principal is not None else None


def _format(request: Request) -> str:
    """`f` if given (json or html), else HTML when the Accept header prefers it."""
    asked = request.query_params.get("f")
    if asked is not None:
        if asked not in ("json", "html"):
            raise BadRequest.at("f", f"json or html, not {asked!r}")
        return asked
    accept = request.headers.get("accept", "")
    html_at, json_at = accept.find(HTML), accept.find("json")
    return "html" if html_at >= 0 and (json_at < 0 or html_at < json_at) else "json"


def _only(request: Request, *allowed: str) -> None:
    """Part 1 (/req/core/query-param-unknown): an undeclared query parameter is a 400."""
    unknown = sorted(set(request.query_params) - {"f", *allowed})
    if unknown:
        raise BadRequest.at(unknown[0], f"unknown query parameter(s): {', '.join(unknown)}")


def _base(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}{ROOT}"


def _link(href: str, rel: str, type_: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def _json(body: Any, media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=media_type, headers=headers)


def _map_data(body: Any) -> Markup:
    """JSON for a <script type="application/json"> element: nothing in it can close it."""
    text = orjson.dumps(body).decode()
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _html(request: Request, template: str, headers: dict[str, str] | None = None,
          **context: Any) -> HTMLResponse:  # fmt: skip
    settings = request.app.state.context.settings
    response = templates.TemplateResponse(
        request, template, {"root": _base(request), "tiles": settings.map_tile_url, **context}
    )
    if headers:
        response.headers.update(headers)
    return response


def _collection_href(base: str, coll: Collection) -> str:
    return f"{base}/collections/{quote(coll.id, safe='')}"


# -- documents ----------------------------------------------------------------------------


def _landing(base: str) -> dict[str, Any]:
    return {
        "title": "城市运行一张图 要素服务 (cityops OGC API – Features and Tiles)",
        "description": "一张图图层和网格（含矢量瓦片），以及工作人员可见的案件、设备、视频点位"
        "和冲突图斑",
        "links": [
            _link(f"{base}?f=json", "self", JSON, "本页 (this document)"),
            _link(f"{base}?f=html", "alternate", HTML, "本页网页版 (as HTML)"),
            _link(f"{base}/api", "service-desc", OPENAPI_JSON, "接口定义 (OpenAPI 3.0)"),
            _link(f"{base}/conformance", "conformance", JSON, "符合的标准类 (conformance)"),
            _link(f"{base}/collections", "data", JSON, "数据集合 (collections)"),
            _link(
                f"{base}/tileMatrixSets", REL_TILING_SCHEMES, JSON, "瓦片矩阵集 (tile matrix sets)"
            ),
        ],
    }


def _collection_doc(base: str, coll: Collection, extent: dict[str, Any]) -> dict[str, Any]:
    href = _collection_href(base, coll)
    doc: dict[str, Any] = {
        "id": coll.id,
        "title": coll.title,
        "description": coll.description,
        "keywords": list(coll.keywords),
        "itemType": "feature",
        "extent": extent,
        "crs": list(SUPPORTED_CRS),
        "storageCrs": STORAGE_CRS,
        "links": [
            _link(href, "self", JSON, "本集合 (this collection)"),
            _link(f"{href}?f=html", "alternate", HTML, "网页版 (as HTML)"),
            _link(f"{href}/items", "items", GEOJSON, "要素 (items, GeoJSON)"),
            _link(f"{href}/items?f=html", "items", HTML, "要素网页版 (items, HTML)"),
            _link(
                f"{href}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "可查询属性 (queryables)",
            ),
        ],
    }
    if tiles.tileable(coll):
        doc["links"].append(_link(f"{href}/tiles", REL_TILESETS_VECTOR, JSON,
                                  "矢量瓦片 (vector tilesets)"))  # fmt: skip
    if coll.time_name:
        doc["timeProperty"] = coll.time_name
    return doc


def _page_links(request: Request, href: str, q: ItemQuery, page: Page) -> list[dict[str, str]]:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "f")]
    kept = [(k, v) for k, v in kept if k != "limit"] + [("limit", str(q.limit))]

    def url(offset: int, fmt: str) -> str:
        return f"{href}/items?{urlencode([*kept, ('offset', str(offset)), ('f', fmt)])}"

    links = [
        _link(url(q.offset, "json"), "self", GEOJSON, "本页 (this page)"),
        _link(url(q.offset, "html"), "alternate", HTML, "本页网页版 (as HTML)"),
        _link(href, "collection", JSON, "所属集合 (the collection)"),
    ]
    if q.offset + len(page.features) < page.matched:
        links.append(_link(url(q.offset + q.limit, "json"), "next", GEOJSON, "下一页 (next)"))
    if q.offset > 0:
        links.append(_link(url(max(0, q.offset - q.limit), "json"), "prev", GEOJSON,
                           "上一页 (previous)"))  # fmt: skip
    return links


def _crs_header(crs: str) -> dict[str, str]:
    return {"Content-Crs": f"<{crs}>"}


# -- routes -------------------------------------------------------------------------------


@router.get("", summary="OGC API landing page")
@router.get("/", include_in_schema=False)
async def landing(request: Request) -> Response:
    """The landing page: links to the API definition, conformance and collections."""
    _only(request)
    body = _landing(_base(request))
    if _format(request) == "html":
        return _html(request, "landing.html", doc=body)
    return _json(body)


@router.get("/conformance", summary="OGC API conformance classes")
async def conformance(request: Request) -> Response:
    """The conformance classes this API implements."""
    _only(request)
    body = {"conformsTo": CONFORMANCE}
    if _format(request) == "html":
        return _html(request, "landing.html", doc=_landing(_base(request)), conformance=body)
    return _json(body)


@router.get("/api", summary="OpenAPI 3.0 definition of the OGC API")
def api(request: Request, uow: UowDep, principal: MaybePrincipal) -> Response:
    """The OpenAPI document of the OGC API, with the collections the caller may read."""
    _only(request)
    colls = features.collections(uow.session, _actor(principal))
    return _json(_openapi(_base(request), colls), OPENAPI_JSON)


@router.get("/collections", summary="Feature collections")
def list_collections(request: Request, uow: UowDep, principal: MaybePrincipal) -> Response:
    """The collections the caller may read, with their extents."""
    _only(request)
    base, actor = _base(request), _actor(principal)
    docs = [
        _collection_doc(base, c, features.extent(uow.session, c, actor))
        for c in features.collections(uow.session, actor)
    ]
    body = {
        "links": [
            _link(f"{base}/collections?f=json", "self", JSON, "本页 (this document)"),
            _link(f"{base}/collections?f=html", "alternate", HTML, "网页版 (as HTML)"),
        ],
        "collections": docs,
    }
    if _format(request) == "html":
        return _html(request, "collections.html", doc=body)
    return _json(body)


@router.get("/collections/{collection_id}", summary="A feature collection")
def get_collection(
    request: Request, collection_id: str, uow: UowDep, principal: MaybePrincipal
) -> Response:
    """One collection: extent, CRS, links to its items."""
    _only(request)
    actor = _actor(principal)
    coll = features.collection(uow.session, collection_id, actor)
    doc = _collection_doc(_base(request), coll, features.extent(uow.session, coll, actor))
    if _format(request) == "html":
        return _html(request, "collection.html", doc=doc, queryables=_queryables(coll))
    return _json(doc)


@router.get("/collections/{collection_id}/queryables", summary="A collection's queryables")
def get_queryables(
    request: Request, collection_id: str, uow: UowDep, principal: MaybePrincipal
) -> Response:
    """The properties that may be filtered on, as a JSON Schema."""
    _only(request)
    coll = features.collection(uow.session, collection_id, _actor(principal))
    href = _collection_href(_base(request), coll)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{href}/queryables",
        "type": "object",
        "title": coll.title,
        "properties": _queryables(coll),
    }
    return _json(body, "application/schema+json")


def _queryables(coll: Collection) -> dict[str, Any]:
    props = {n: {"title": q.title or n, "type": q.kind} for n, q in coll.queryables.items()}
    if coll.time_name:
        props[coll.time_name] = {"title": "datetime", "type": "string", "format": "date-time"}
    return props


@router.get("/collections/{collection_id}/items", summary="A collection's features")
def get_items(
    request: Request, collection_id: str, uow: UowDep, principal: MaybePrincipal, now: NowDep
) -> Response:
    """Features by bbox, datetime and properties, a page at a time (GeoJSON or HTML)."""
    actor = _actor(principal)
    coll = features.collection(uow.session, collection_id, actor)
    fmt = _format(request)
    q = features.item_query(request.query_params.multi_items(), coll)
    page = features.items(uow.session, coll, actor, q)
    href = _collection_href(_base(request), coll)
    body = {
        "type": "FeatureCollection",
        "features": page.features,
        "numberMatched": page.matched,
        "numberReturned": len(page.features),
        "timeStamp": features.iso(now),
        "links": _page_links(request, href, q, page),
    }
    if fmt == "html":
        shown = page if q.crs == CRS84 else features.items(uow.session, coll, actor,
                                                           _lon_lat(q))  # fmt: skip
        return _html(request, "items.html", _crs_header(q.crs), doc=body, coll=coll, query=q,
                     map_data=_map_data({"type": "FeatureCollection",
                                         "features": shown.features}))  # fmt: skip
    return _json(body, GEOJSON, _crs_header(q.crs))


def _lon_lat(q: ItemQuery) -> ItemQuery:
    return ItemQuery(q.limit, q.offset, q.bbox, q.interval, q.properties, CRS84)


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
def get_item(
    request: Request, collection_id: str, feature_id: str, uow: UowDep,
    principal: MaybePrincipal,
) -> Response:  # fmt: skip
    """One feature by its id, with links to itself and its collection."""
    _only(request, "crs")
    actor = _actor(principal)
    coll = features.collection(uow.session, collection_id, actor)
    fmt = _format(request)
    crs = features.parse_crs(request.query_params.get("crs"))
    feature = features.item(uow.session, coll, actor, feature_id, crs)
    href = _collection_href(_base(request), coll)
    own = f"{href}/items/{quote(feature_id, safe='')}"
    feature["links"] = [
        _link(f"{own}?f=json", "self", GEOJSON, "本要素 (this feature)"),
        _link(f"{own}?f=html", "alternate", HTML, "网页版 (as HTML)"),
        _link(href, "collection", JSON, "所属集合 (the collection)"),
    ]
    if fmt == "html":
        shown = feature if crs == CRS84 else features.item(uow.session, coll, actor, feature_id)
        return _html(request, "item.html", _crs_header(crs), doc=feature, coll=coll,
                     map_data=_map_data({"type": "FeatureCollection",
                                         "features": [shown]}))  # fmt: skip
    return _json(feature, GEOJSON, _crs_header(crs))


# -- tiles --------------------------------------------------------------------------------


def _json_only(request: Request) -> None:
    asked = request.query_params.get("f")
    if asked not in (None, "json"):
        raise BadRequest.at("f", f"json only, not {asked!r}")


def _tms_href(base: str) -> str:
    return f"{base}/tileMatrixSets/{TMS_ID}"


def _tileset_summary(base: str, coll: Collection) -> dict[str, Any]:
    return {
        "title": f"{coll.title} ({TMS_ID})",
        "dataType": "vector",
        "crs": tiles.EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            _link(f"{_collection_href(base, coll)}/tiles/{TMS_ID}", "self", JSON,
                  "瓦片集 (the tileset)"),
            _link(_tms_href(base), REL_TILING_SCHEME, JSON, "瓦片矩阵集 (tile matrix set)"),
        ],
    }  # fmt: skip


def _tileset_doc(base: str, coll: Collection, extent: dict[str, Any]) -> dict[str, Any]:
    """The tileset's metadata (2D Tile Matrix Set and Tileset Metadata 2.0): its MVT layer
    with the properties each feature carries, and the tiles' URL template, which names a
    layer's version so that its tiles may be cached for good."""
    href = _collection_href(base, coll)
    own = f"{href}/tiles/{TMS_ID}"
    pinned = f"?v={coll.version.version}" if coll.version is not None else ""
    doc = _tileset_summary(base, coll)
    doc["description"] = coll.description
    doc["links"] += [
        _link(href, "http://www.opengis.net/def/rel/ogc/1.0/geodata", JSON,
              "所属集合 (the collection)"),
        {"href": f"{own}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{pinned}", "rel": "item",
         "type": MVT, "title": "矢量瓦片 (Mapbox Vector Tile)", "templated": True},
    ]  # fmt: skip
    doc["layers"] = [tiles.layer_description(coll)]
    spatial = extent.get("spatial")
    if spatial:
        minx, miny, maxx, maxy = spatial["bbox"][0]
        doc["boundingBox"] = {"lowerLeft": [minx, miny], "upperRight": [maxx, maxy],
                              "crs": CRS84}  # fmt: skip
    return doc


def _tile_cache(request: Request) -> TileCache:
    """The application's cache of encoded layer tiles (made on first use)."""
    state = request.app.state
    cache: TileCache | None = getattr(state, "ogcapi_tile_cache", None)
    if cache is None:
        cache = state.ogcapi_tile_cache = TileCache()
    return cache


def _not_modified(request: Request, tag: str) -> bool:
    """If-None-Match names `tag` (weakly compared, as RFC 9110 asks for GET) or is `*`."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    asked = {part.strip().removeprefix("W/") for part in header.split(",")}
    return "*" in asked or tag in asked


def _version(request: Request) -> int | None:
    raw = request.query_params.get("v")
    if raw is None:
        return None
    if not raw.isdigit():
        raise BadRequest.at("v", f"a layer's version number, not {raw!r}")
    return int(raw)


@router.get("/tileMatrixSets", summary="Tile matrix sets")
async def list_tile_matrix_sets(request: Request) -> Response:
    """The tile matrix sets the tiles are served in: WebMercatorQuad."""
    _only(request)
    _json_only(request)
    base = _base(request)
    summary = {"id": TMS_ID, "title": "Google Maps Compatible for the World", "uri": TMS_URI,
               "links": [_link(_tms_href(base), "self", JSON, TMS_ID)]}  # fmt: skip
    return _json({
        "links": [_link(f"{base}/tileMatrixSets", "self", JSON, "本页 (this document)")],
        "tileMatrixSets": [summary],
    })  # fmt: skip


@router.get("/tileMatrixSets/{tms_id}", summary="A tile matrix set")
async def get_tile_matrix_set(request: Request, tms_id: str) -> Response:
    """A tile matrix set's definition (2D Tile Matrix Set 2.0)."""
    _only(request)
    _json_only(request)
    tiles.check_tms(tms_id)
    body = tiles.tile_matrix_set()
    body["links"] = [_link(_tms_href(_base(request)), "self", JSON, "本页 (this document)")]
    return _json(body)


@router.get("/collections/{collection_id}/tiles", summary="A collection's vector tilesets")
def list_tilesets(
    request: Request, collection_id: str, uow: UowDep, principal: MaybePrincipal
) -> Response:
    """The tilesets of a collection's features: one, on WebMercatorQuad."""
    _only(request)
    _json_only(request)
    coll = features.collection(uow.session, collection_id, _actor(principal))
    tiles.check_tileable(coll)
    base = _base(request)
    href = _collection_href(base, coll)
    return _json({
        "links": [_link(f"{href}/tiles", "self", JSON, "本页 (this document)"),
                  _link(href, "http://www.opengis.net/def/rel/ogc/1.0/geodata", JSON,
                        "所属集合 (the collection)")],
        "tilesets": [_tileset_summary(base, coll)],
    })  # fmt: skip


@router.get("/collections/{collection_id}/tiles/{tms_id}", summary="A vector tileset")
def get_tileset(
    request: Request, collection_id: str, tms_id: str, uow: UowDep, principal: MaybePrincipal
) -> Response:
    """A tileset's metadata, with the URL template of its tiles."""
    _only(request)
    _json_only(request)
    actor = _actor(principal)
    coll = features.collection(uow.session, collection_id, actor)
    tiles.check_tileable(coll)
    tiles.check_tms(tms_id)
    extent = features.extent(uow.session, coll, actor)
    return _json(_tileset_doc(_base(request), coll, extent))


@router.get(
    "/collections/{collection_id}/tiles/{tms_id}/{tile_matrix}/{tile_row}/{tile_col}",
    summary="A vector tile (MVT)",
    response_class=Response,
)
def get_tile(
    request: Request, collection_id: str, tms_id: str, tile_matrix: str, tile_row: str,
    tile_col: str, uow: UowDep, principal: MaybePrincipal,
) -> Response:  # fmt: skip
    """One tile of a collection's features as MVT; 204 where it has none."""
    _only(request, "v")
    if request.query_params.get("f") not in (None, "mvt"):
        raise BadRequest.at("f", "tiles are served as mvt only")
    actor = _actor(principal)
    coll = features.collection(uow.session, collection_id, actor)
    tiles.check_tileable(coll)
    tiles.check_tms(tms_id)
    address = TileAddress.parse(tile_matrix, tile_row, tile_col)
    version = _version(request)
    if version is not None:
        coll = features.layer_at_version(uow.session, coll, version)
    caching = "private, no-cache" if coll.staff_only else "public, no-cache"
    headers = {"Cache-Control": IMMUTABLE if version is not None else caching}
    known = tiles.known_tag(coll, address)
    if known is not None and _not_modified(request, known):
        return Response(status_code=304, headers={**headers, "ETag": known})
    found = tiles.tile(uow.session, coll, actor, address, _tile_cache(request))
    headers["ETag"] = found.tag
    if _not_modified(request, found.tag):
        return Response(status_code=304, headers=headers)
    if not found.data:
        return Response(status_code=204, headers=headers)
    return Response(found.data, media_type=MVT, headers=headers)


# -- OpenAPI ------------------------------------------------------------------------------


def _param(name: str, description: str, schema: dict[str, Any], *, style: str | None = None,
           explode: bool | None = None) -> dict[str, Any]:  # fmt: skip
    param: dict[str, Any] = {"name": name, "in": "query", "required": False,
                             "description": description, "schema": schema}  # fmt: skip
    if style is not None:
        param["style"] = style
    if explode is not None:
        param["explode"] = explode
    return param


_CRS_SCHEMA = {"type": "string", "format": "uri", "enum": list(SUPPORTED_CRS), "default": CRS84}
_F = _param("f", "json 或 html (the format)", {"type": "string", "enum": ["json", "html"]})
_ERRORS = {
    "400": {"description": "参数无效 (invalid parameter)"},
    "404": {"description": "不存在 (not found)"},
}


def _items_params(coll: Collection) -> list[dict[str, Any]]:
    params = [
        _F,
        _param("bbox", "minx,miny,maxx,maxy (bbox-crs axis order)",
               {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
               style="form", explode=False),
        _param("bbox-crs", "the CRS of bbox", _CRS_SCHEMA),
        _param("limit", "1–10000 (larger values are served as 10000)",
               {"type": "integer", "minimum": 1, "maximum": features.MAX_LIMIT,
                "default": features.DEFAULT_LIMIT}),
        _param("offset", "features to skip", {"type": "integer", "minimum": 0, "default": 0}),
        _param("crs", "the CRS of the response", _CRS_SCHEMA),
    ]  # fmt: skip
    if coll.time is not None:
        params.append(_param("datetime", f"instant or interval on {coll.time_name}",
                             {"type": "string"}))  # fmt: skip
    for name, q in coll.queryables.items():
        params.append(_param(name, q.title or name, {"type": q.kind}))
    return params


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


def _tile_paths(colls: list[Collection]) -> dict[str, Any]:
    def json_doc(summary: str, *params: dict[str, Any]) -> dict[str, Any]:
        return {"get": {"summary": summary, "parameters": list(params),
                        "responses": {"200": {"description": "OK", "content": {JSON: {}}},
                                      **_ERRORS}}}  # fmt: skip

    tms = _path_param("tileMatrixSetId", TMS_ID)
    paths: dict[str, Any] = {
        "/tileMatrixSets": json_doc("tile matrix sets"),
        "/tileMatrixSets/{tileMatrixSetId}": json_doc("a tile matrix set", tms),
    }
    version = _param("v", "图层版本 (a layer's version, as the tileset's link gives it)",
                     {"type": "integer", "minimum": 1})  # fmt: skip
    for c in colls:
        if not tiles.tileable(c):
            continue
        path = f"/collections/{c.id}/tiles"
        paths[path] = json_doc(f"{c.title}: tilesets")
        paths[f"{path}/{{tileMatrixSetId}}"] = json_doc(f"{c.title}: tileset", tms)
        tile_params = [tms, _path_param("tileMatrix", "0–24"), _path_param("tileRow", "y"),
                       _path_param("tileCol", "x")]  # fmt: skip
        if c.version is not None:
            tile_params.append(version)
        paths[f"{path}/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"] = {"get": {
            "summary": f"{c.title}: a vector tile",
            "parameters": tile_params,
            "responses": {"200": {"description": "MVT", "content": {MVT: {}}},
                          "204": {"description": "空瓦片 (no feature in the tile)"},
                          "304": {"description": "未修改 (not modified)"}, **_ERRORS},
        }}  # fmt: skip
    return paths


def _openapi(base: str, colls: list[Collection]) -> dict[str, Any]:
    def doc(summary: str, media: str, params: list[dict[str, Any]] | None = None,
            path_params: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
        return {"get": {
            "summary": summary,
            "parameters": [*(params or [_F]),
                           *({"name": p, "in": "path", "required": True,
                              "schema": {"type": "string"}} for p in path_params)],
            "responses": {"200": {"description": "OK", "content": {media: {}, HTML: {}}},
                          **_ERRORS},
        }}  # fmt: skip

    paths: dict[str, Any] = {
        "/": doc("landing page", JSON),
        "/conformance": doc("conformance classes", JSON),
        "/collections": doc("feature collections", JSON),
    }
    for c in colls:
        path = f"/collections/{c.id}"
        paths[path] = doc(c.title, JSON)
        paths[f"{path}/items"] = doc(f"{c.title}: features", GEOJSON, _items_params(c))
        paths[f"{path}/items/{{featureId}}"] = doc(
            f"{c.title}: one feature", GEOJSON,
            [_F, _param("crs", "the CRS of the response", _CRS_SCHEMA)], ("featureId",),
        )  # fmt: skip
    paths.update(_tile_paths(colls))
    return {
        "openapi": "3.0.3",
        "info": {"title": "cityops OGC API – Features and Tiles", "version": __version__,
                 "description": "一张图要素服务和矢量瓦片 (OGC API – Features Part 1 and 2, "
                                "OGC API – Tiles Part 1)"},
        "servers": [{"url": base}],
        "paths": paths,
    }  # fmt: skip

"""A peninsula city centre cut into 11 streets, 80 communities and 640 grids.

The outline is a smooth convex peninsula about 7 km west–east and 2.8 km north–south
around 106.56 E, 29.56 N (where the Yangtze and Jialing meet). Streets are west–east
slices, communities slices of a street north–south, and grids a 2 × 4 cut of each
community; every cut is an intersection with the parent, so children cover their parent
exactly and never overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from pyproj import Geod
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

DISTRICT_CODE = "500103"
DISTRICT_NAME = "渝中区"
CENTRE = (106.556, 29.557)

STREETS = ["化龙桥街道", "大坪街道", "石油路街道", "上清寺街道", "两路口街道", "大溪沟街道",
           "菜园坝街道", "七星岗街道", "南纪门街道", "解放碑街道", "朝天门街道"]  # fmt: skip
# 80 communities: 3 streets with 8, 8 with 7.
COMMUNITIES_PER_STREET = [7, 7, 8, 7, 8, 7, 7, 8, 7, 7, 7]
COMMUNITY_WORDS = [
    "嘉陵", "桂花园", "枇杷山", "中山", "人和街", "学田湾", "华一", "健康路", "鹅岭", "佛图关",
    "虎头岩", "李子坝", "肖家湾", "红岩村", "平街", "黄花园", "金汤街", "大井巷", "民权路", "较场口",
    "白象街", "望龙门", "储奇门", "凯旋路", "燕喜洞", "解放西路", "新华路", "洪崖洞", "千厮门", "小什字",
    "菜园", "燕子岩", "石板坡", "南区路", "后伺坡", "兴隆街", "七星岗", "通远门", "領事巷", "上清寺",
    "美专校", "牛角沱", "春森路", "大田湾", "体育路", "文化街", "马鞍山", "两路口", "王家坡", "大坪正街",
    "袁家岗", "石油路", "渝州路", "化龙桥", "虎踞路", "团结路", "经纬大道", "长江二路", "黄家垭口", "菜袁路",
    "观音岩", "枣子岚垭", "张家花园", "国际村", "曾家岩", "上大田湾", "人民路", "罗家湾", "重医", "华新街",
    "中兴路", "朝天门", "陕西路", "林森路", "道门口", "三元庙", "打铜街", "五一路", "邹容路", "八一路",
]  # fmt: skip

_geod = Geod(ellps="GRS80")  # CGCS2000's ellipsoid


def peninsula() -> Polygon:
    """A smooth convex outline: a superellipse stretched west–east, slightly tilted."""
    cx, cy = CENTRE
    a, b, tilt, n = 0.036, 0.0125, math.radians(8), 3.0
    points = []
    for i in range(180):
        t = 2 * math.pi * i / 180
        c, s = math.cos(t), math.sin(t)
        x = a * math.copysign(abs(c) ** (2 / n), c)
        y = b * math.copysign(abs(s) ** (2 / n), s)
        points.append((cx + x * math.cos(tilt) - y * math.sin(tilt),
                       cy + x * math.sin(tilt) + y * math.cos(tilt)))  # fmt: skip
    return Polygon(points)


def area_m2(geom: BaseGeometry) -> float:
    """Geodesic area on the CGCS2000 ellipsoid."""
    return abs(_geod.geometry_area_perimeter(geom)[0])


def _slices(geom: BaseGeometry, count: int, axis: str) -> list[BaseGeometry]:
    """Cut `geom` into `count` slices of equal width along x (west→east) or y (north→south)."""
    minx, miny, maxx, maxy = geom.bounds
    pieces = []
    for i in range(count):
        if axis == "x":
            lo, hi = minx + (maxx - minx) * i / count, minx + (maxx - minx) * (i + 1) / count
            cutter = box(lo, miny - 1, hi, maxy + 1)
        else:  # north first
            hi, lo = maxy - (maxy - miny) * i / count, maxy - (maxy - miny) * (i + 1) / count
            cutter = box(minx - 1, lo, maxx + 1, hi)
        piece = shapely.intersection(geom, cutter)
        pieces.append(piece)
    return pieces


@dataclass(frozen=True)
class Area:
    code: str
    level: str
    name: str
    parent: str | None
    geometry: BaseGeometry
    grade: int | None = None


def build_areas() -> list[Area]:
    """Every region of the demo district, parents before children."""
    district = peninsula()
    areas = [Area(DISTRICT_CODE, "district", DISTRICT_NAME, None, district)]
    words = iter(COMMUNITY_WORDS)
    for s, (street_geom, street_name) in enumerate(
        zip(_slices(district, len(STREETS), "x"), STREETS, strict=True), start=1
    ):
        street_code = f"{DISTRICT_CODE}{s:03d}"
        areas.append(Area(street_code, "street", street_name, DISTRICT_CODE, street_geom))
        communities = _slices(street_geom, COMMUNITIES_PER_STREET[s - 1], "y")
        for c, community_geom in enumerate(communities, start=1):
            community_code = f"{street_code}{c:03d}"
            community_name = f"{next(words)}社区"
            areas.append(Area(community_code, "community", community_name, street_code,
                              community_geom))  # fmt: skip
            cells = [
                (row, col, cell)
                for col, half in enumerate(_slices(community_geom, 2, "x"))
                for row, cell in enumerate(_slices(half, 4, "y"))
            ]
            # Numbered west→east along each row, rows north→south.
            cells.sort(key=lambda item: (item[0], item[1]))
            for g, (row, _col, cell) in enumerate(cells, start=1):
                # The old town in the east is patrolled most intensively.
                grade = 1 if s >= 9 else 2 if row < 2 else 3
                areas.append(Area(f"{community_code}{g:03d}", "grid", f"{community_name}第{g}网格",
                                  community_code, cell, grade))  # fmt: skip
    return areas

"""The merged checklist of a joint inspection: the union of the checklist entries of every
taking-part agency's items, each point checked once. Two entries are one point when they
have the same checklist code (two agencies holding the same item), or cite the same
article with the same text (two items asking the same question). Each point is labelled
with the agencies that need it. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """A checklist entry of an item, as an agency brings it."""

    checklist_item_id: int
    item_id: int
    item_code: str
    code: str
    text: str
    article_id: int | None
    citation: str | None


@dataclass(frozen=True)
class AgencyRows:
    agency_id: int
    agency_name: str
    rows: tuple[Row, ...]


@dataclass
class Point:
    """One point to check: the first entry that asked it, every entry merged into it, and
    for each agency that needs it the entry of its own item it answers under."""

    first: Row
    rows: list[Row] = field(default_factory=list)
    agencies: dict[int, Row] = field(default_factory=dict)  # agency id → its own entry
    agency_names: dict[int, str] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.first.checklist_item_id

    @property
    def ids(self) -> set[int]:
        return {r.checklist_item_id for r in self.rows}


def _same_text(text: str) -> str:
    return "".join(text.split())


def merge(agencies: Sequence[AgencyRows]) -> list[Point]:
    """The points, in the order first asked (agencies in the order given, each agency's
    entries in their items' order)."""
    points: list[Point] = []
    by_code: dict[str, Point] = {}
    by_article: dict[tuple[int, str], Point] = {}
    for agency in agencies:
        for row in agency.rows:
            text_key = (row.article_id, _same_text(row.text)) if row.article_id else None
            point = by_code.get(row.code) or (by_article.get(text_key) if text_key else None)
            if point is None:
                point = Point(first=row)
                points.append(point)
            if row.checklist_item_id not in point.ids:
                point.rows.append(row)
            point.agencies.setdefault(agency.agency_id, row)
            point.agency_names[agency.agency_id] = agency.agency_name
            by_code.setdefault(row.code, point)
            if text_key is not None:
                by_article.setdefault(text_key, point)
    return points


def point_of(points: Sequence[Point], checklist_item_id: int) -> Point | None:
    """The point an entry (any of those merged into it) belongs to."""
    return next((p for p in points if checklist_item_id in p.ids), None)

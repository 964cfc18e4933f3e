"""Every read of the SensorThings service: collections, entities, properties, expansions.

A collection is read in one query (plus one for `@iot.count`); each `$expand` level is one
more query for all the entities of the level above, its `$top` and `$skip` applied per
parent through ROW_NUMBER() over the parent's key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from sqlalchemy import ColumnElement, func, literal, select, tuple_
from sqlalchemy.orm import Session

from cityops.errors import NotFound
from cityops.ingest.sensorthings.entities import (
    TYPES,
    Alias,
    Base,
    EntityType,
    Row,
    serialize,
    unscoped,
)
from cityops.ingest.sensorthings.paths import Resource, Step
from cityops.ingest.sensorthings.query import Compiler, Expand, Options, check_options

Where = Callable[[Alias], list[ColumnElement[bool]]]

# What a nextLink leaves unescaped, for links people can read.
_LINK_SAFE = "$(),'/:;@*="


@dataclass(frozen=True)
class Result:
    """A JSON body, a raw `$value` (text), or nothing (a null property: 204)."""

    body: dict[str, Any] | None = None
    text: str | None = None


def conditions(
    steps: Sequence[Step], alias: Alias, scope: Base = unscoped
) -> list[ColumnElement[bool]]:
    """What puts a row of the last step's table in the resource the steps name:
    `Things(1)/Datastreams` → the datastream's device is Thing 1 (and the caller may see
    each row on the way, by `scope`)."""
    last = steps[-1]
    found = list(scope(last.etype, alias))
    if last.key is not None:
        found.append(last.etype.match_id(alias, last.key))
    if len(steps) > 1:
        assert last.nav is not None
        before = steps[-2].etype.alias()
        found.append(
            select(literal(1))
            .select_from(before)
            .where(last.nav.join(before, alias), *conditions(steps[:-1], before, scope))
            .exists()
        )
    return found


def link_query(options: Options, top: int, skip: int) -> str:
    params = {**options.raw, "$top": str(top), "$skip": str(skip)}
    return urlencode(params, quote_via=quote, safe=_LINK_SAFE)


class Reader:
    """Reads for one request: `base` is the service root URL the links start with, `scope`
    what the caller may see."""

    def __init__(
        self, session: Session, base: str, dialect: str, now: datetime, scope: Base = unscoped
    ) -> None:
        self.session = session
        self.base = base
        self.scope = scope
        self.compiler = Compiler(dialect, now, scope)

    def read(self, resource: Resource, options: Options) -> Result:
        etype = resource.etype
        steps = resource.steps

        def where(alias: Alias) -> list[ColumnElement[bool]]:
            return conditions(steps, alias, self.scope)

        if resource.prop is not None:
            return self._property(resource, where)
        if resource.ref:
            options.select, options.expand = frozenset(), []
        check_options(options, etype)
        if resource.single:
            entity = self.entity(etype, where, options)
            if entity is None:
                raise NotFound(f"no {resource.path}")
            if resource.ref:
                return Result({"@iot.selfLink": entity["@iot.selfLink"]})
            return Result(entity)
        if len(steps) > 1 and not self._exists(steps[:-1]):
            raise NotFound(f"no {Resource(steps[:-1], True).path}")
        body = self.collection(etype, where, options, resource.path)
        if resource.ref:
            body["value"] = [{"@iot.selfLink": e["@iot.selfLink"]} for e in body["value"]]
        return Result(body)

    def _exists(self, steps: Sequence[Step]) -> bool:
        alias = steps[-1].etype.alias()
        query = (
            select(literal(1))
            .select_from(alias)
            .where(*conditions(steps, alias, self.scope))
            .limit(1)
        )
        return self.session.scalar(query) is not None

    def _property(self, resource: Resource, where: Where) -> Result:
        assert resource.prop is not None
        entity = self.entity(resource.etype, where, Options())
        if entity is None:
            raise NotFound(f"no {resource.path}")
        name = resource.prop
        value = entity["@iot.id"] if name == "id" else entity.get(name)
        if resource.value:
            if value is None:
                return Result()
            if isinstance(value, dict | list):
                return Result(text=orjson.dumps(value).decode())
            return Result(text=str(value))
        if value is None:
            return Result()
        return Result({name: value})

    # -- entities and collections

    def entity(self, etype: EntityType, where: Where, options: Options) -> dict[str, Any] | None:
        alias = etype.alias()
        query = select(*etype.columns(alias)).where(*where(alias)).limit(1)
        row = self.session.execute(query).mappings().first()
        if row is None:
            return None
        entity = serialize(etype, row, self.base, options.select)
        self._expand(etype, [row], [entity], options.expand)
        return entity

    def collection(
        self, etype: EntityType, where: Where, options: Options, path: str
    ) -> dict[str, Any]:
        alias = etype.alias()
        query = select(*etype.columns(alias)).where(*where(alias))
        if options.filter is not None:
            option = f"{options.where}$filter"
            query = query.where(self.compiler.filter(options.filter, etype, alias, option))
        body: dict[str, Any] = {}
        order = self.compiler.order(options.orderby, etype, alias, f"{options.where}$orderby")
        if options.count:
            count = select(func.count()).select_from(query.subquery())
            body["@iot.count"] = self.session.scalar(count) or 0
        query = query.order_by(*order, *etype.key(alias))
        rows = self.session.execute(query.offset(options.skip).limit(options.top + 1)).mappings()
        page = list(rows)
        # $top=0 asks for the count alone: no next page to follow.
        more = 0 < options.top < len(page)
        page = page[: options.top]
        if more:
            body["@iot.nextLink"] = (
                f"{self.base}/{path}?{link_query(options, options.top, options.skip + options.top)}"
            )
        values = [serialize(etype, row, self.base, options.select) for row in page]
        self._expand(etype, page, values, options.expand)
        body["value"] = values
        return body

    # -- $expand

    def _expand(
        self,
        etype: EntityType,
        rows: Sequence[Row],
        entities: list[dict[str, Any]],
        items: list[Expand],
    ) -> None:
        if not rows:
            return
        for item in items:
            self._expand_one(etype, rows, entities, item)

    def _expand_one(
        self, etype: EntityType, rows: Sequence[Row], entities: list[dict[str, Any]], item: Expand
    ) -> None:
        nav = etype.navs[item.nav]
        target = TYPES[nav.target]
        opts = item.options
        source, alias = etype.alias(), target.alias()
        parent_key = etype.key(source)
        keys = list(dict.fromkeys(etype.key_of(r) for r in rows))
        if len(parent_key) == 1:
            in_parents = parent_key[0].in_([k[0] for k in keys])
        else:
            in_parents = tuple_(*parent_key).in_(keys)
        filters = [*self.scope(target, alias), in_parents]
        if opts.filter is not None:
            option = f"{opts.where}$filter"
            filters.append(self.compiler.filter(opts.filter, target, alias, option))
        labels = [k.label(f"_p{i}") for i, k in enumerate(parent_key)]
        columns = target.columns(alias)
        joined = select(*columns, *labels).select_from(alias).join(source, nav.join(source, alias))
        if nav.many:
            order = self.compiler.order(opts.orderby, target, alias, f"{opts.where}$orderby")
            number = func.row_number().over(
                partition_by=parent_key, order_by=[*order, *target.key(alias)]
            )
            sub = joined.add_columns(number.label("_rn")).where(*filters).subquery()
            query = select(sub).where(sub.c._rn > opts.skip, sub.c._rn <= opts.skip + opts.top + 1)
            query = query.order_by(*(sub.c[f"_p{i}"] for i in range(len(labels))), sub.c._rn)
        else:
            query = joined.where(*filters)
        children: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
        for row in self.session.execute(query).mappings():
            children[tuple(row[f"_p{i}"] for i in range(len(labels)))].append(row)
        counts = (
            self._expand_counts(nav.join, source, alias, parent_key, filters)
            if (nav.many and opts.count)
            else {}
        )
        child_rows: list[Row] = []
        child_entities: list[dict[str, Any]] = []
        for row, entity in zip(rows, entities, strict=True):
            key = etype.key_of(row)
            found = children.get(key, [])
            if not nav.many:
                if found:
                    entity[item.nav] = serialize(target, found[0], self.base, opts.select)
                    child_rows.append(found[0])
                    child_entities.append(entity[item.nav])
                continue
            more = 0 < opts.top < len(found)
            found = found[: opts.top]
            values = [serialize(target, r, self.base, opts.select) for r in found]
            entity[item.nav] = values
            if opts.count:
                entity[f"{item.nav}@iot.count"] = counts.get(key, 0)
            if more:
                path = f"{etype.plural}({entity['@iot.id']})/{item.nav}"
                query_text = link_query(opts, opts.top, opts.skip + opts.top)
                entity[f"{item.nav}@iot.nextLink"] = f"{self.base}/{path}?{query_text}"
            child_rows.extend(found)
            child_entities.extend(values)
        self._expand(target, child_rows, child_entities, opts.expand)

    def _expand_counts(
        self,
        join: Callable[[Alias, Alias], ColumnElement[bool]],
        source: Alias,
        alias: Alias,
        parent_key: list[ColumnElement[Any]],
        filters: list[ColumnElement[bool]],
    ) -> dict[tuple[Any, ...], int]:
        query = (
            select(*parent_key, func.count())
            .select_from(alias)
            .join(source, join(source, alias))
            .where(*filters)
            .group_by(*parent_key)
        )
        return {tuple(row[:-1]): int(row[-1]) for row in self.session.execute(query)}

"""Resource paths: `Things(1)/Datastreams(5)/Observations`, `Things(1)/name/$value`..."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cityops.errors import NotFound
from cityops.ingest.sensorthings.entities import BY_PLURAL, TYPES, EntityType, Nav

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<key>[^)]*)\))?$")


@dataclass(frozen=True)
class Step:
    etype: EntityType
    nav: Nav | None  # how it is reached from the step before (None for the first)
    key: int | None  # the entity's id, where the path names one
    name: str  # the entity set's or the navigation property's name


@dataclass(frozen=True)
class Resource:
    """What a path addresses: a collection, an entity, or one property of an entity."""

    steps: tuple[Step, ...]
    single: bool
    prop: str | None = None
    value: bool = False  # `.../$value`: the property's raw value
    ref: bool = False  # `.../$ref`: links instead of entities

    @property
    def etype(self) -> EntityType:
        return self.steps[-1].etype

    @property
    def path(self) -> str:
        """The path of the collection or entity, as a link repeats it."""
        parts = []
        for step in self.steps:
            parts.append(step.name if step.key is None else f"{step.name}({step.key})")
        return "/".join(parts)


def _key(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    raw = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text
    if not raw.isdigit():
        raise NotFound(f"no {name}({text}): ids are whole numbers")
    return int(raw)


def parse_path(path: str) -> Resource:
    """The resource a path names; NotFound for an entity set, navigation or property that
    does not exist (whether the entity itself exists is for the database to say)."""
    segments = [s for s in path.strip("/").split("/") if s]
    if not segments:
        raise NotFound("no resource path")
    first = _SEGMENT.match(segments[0])
    etype = BY_PLURAL.get(first.group("name")) if first else None
    if first is None or etype is None:
        raise NotFound(f"no entity set {segments[0]!r} (there are {', '.join(BY_PLURAL)})")
    key = _key(first.group("key"), etype.plural)
    steps = [Step(etype, None, key, etype.plural)]
    single = key is not None
    rest = segments[1:]
    while rest:
        segment, rest = rest[0], rest[1:]
        if segment == "$ref":
            if rest:
                raise NotFound("nothing follows $ref")
            return Resource(tuple(steps), single, ref=True)
        if not single:
            raise NotFound(f"{segment!r}: name one entity of the collection first, with its id")
        current = steps[-1].etype
        match = _SEGMENT.match(segment)
        name = match.group("name") if match else segment
        nav = current.navs.get(name)
        if match is not None and nav is not None:
            key = _key(match.group("key"), name)
            if key is not None and not nav.many:
                raise NotFound(f"{name} is one entity: no id follows it")
            steps.append(Step(TYPES[nav.target], nav, key, name))
            single = not nav.many or key is not None
            continue
        if name in current.props and match is not None and match.group("key") is None:
            if rest and rest != ["$value"]:
                raise NotFound(f"only $value follows the property {name}")
            return Resource(tuple(steps), True, prop=name, value=bool(rest))
        raise NotFound(f"{current.name} has no property or navigation {segment!r}")
    return Resource(tuple(steps), single)

"""The OData query options of STA: parsed into plain data, then compiled into SQLAlchemy.

`$filter` is parsed into a small tree (literals, paths, calls, unary and binary
operators) that knows nothing of tables; `Compiler` turns it into SQL for one entity
type on one alias. A path through a navigation property (`Datastream/Thing/name`)
becomes an EXISTS over the joined aliases around the comparison it is part of, so that
a to-many step means "any of them", as OData's `any` would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Numeric,
    String,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
)

from cityops.db import UTCDateTime
from cityops.errors import BadRequest
from cityops.ingest.sensorthings.entities import (
    TYPES,
    Alias,
    Base,
    EntityType,
    Kind,
    split_observation_id,
    unscoped,
)

DEFAULT_TOP = 100
MAX_TOP = 10_000
KNOWN_OPTIONS = frozenset(
    {"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$format"}
)


# -- the filter tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Lit:
    value: Any
    kind: Kind


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str  # "not" or "-"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Lit | Path | Call | Unary | Binary

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
ADDITIVE = frozenset({"add", "sub"})
MULTIPLICATIVE = frozenset({"mul", "div", "mod"})
KEYWORDS = COMPARISONS | ADDITIVE | MULTIPLICATIVE | {"and", "or", "not", "asc", "desc"}

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
    | (?P<date>\d{4}-\d{2}-\d{2})(?![\d:T])
    | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z_@][A-Za-z0-9_.@]*)
    | (?P<punct>[(),/-])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string, datetime, date, number, name, punct, end
    text: str
    at: int


def tokenize(text: str, option: str) -> list[Token]:
    tokens: list[Token] = []
    at = 0
    while at < len(text):
        if text[at:].strip() == "":
            break
        match = _TOKEN.match(text, at)
        if match is None or match.lastgroup is None:
            start = len(text) - len(text[at:].lstrip())
            raise BadRequest.at(
                option, f"cannot read {text[start : start + 20]!r} at position {start}"
            )
        kind = match.lastgroup
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        at = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class Parser:
    """Recursive descent over the tokens, loosest binding first: or, and, not, comparison,
    add/sub, mul/div/mod, unary minus, primary. `not` takes a whole comparison, as people
    write it (`not name eq 'x'`)."""

    def __init__(self, text: str, option: str) -> None:
        self.option = option
        self.tokens = tokenize(text, option)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, message: str) -> BadRequest:
        tok = self.tok
        where = "at the end" if tok.kind == "end" else f"at {tok.text!r} (position {tok.at})"
        return BadRequest.at(self.option, f"{message} {where}")

    def keyword(self, *words: str) -> str | None:
        tok = self.tok
        if tok.kind == "name" and tok.text.lower() in words:
            self.i += 1
            return tok.text.lower()
        return None

    def punct(self, char: str) -> bool:
        if self.tok.kind == "punct" and self.tok.text == char:
            self.i += 1
            return True
        return False

    def expect(self, char: str) -> None:
        if not self.punct(char):
            raise self.fail(f"expected {char!r}")

    def done(self) -> None:
        if self.tok.kind != "end":
            raise self.fail("unexpected")

    def expression(self) -> Node:
        node = self.conjunction()
        while self.keyword("or"):
            node = Binary("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.keyword("and"):
            node = Binary("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.keyword("not"):
            return Unary("not", self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        op = self.keyword(*COMPARISONS)
        if op is not None:
            node = Binary(op, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while (op := self.keyword(*ADDITIVE)) is not None:
            node = _fold(Binary(op, node, self.multiplicative()))
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while (op := self.keyword(*MULTIPLICATIVE)) is not None:
            node = _fold(Binary(op, node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.punct("-"):
            operand = self.unary()
            if isinstance(operand, Lit) and operand.kind is Kind.NUMBER:
                return Lit(-operand.value, Kind.NUMBER)
            return Unary("-", operand)
        return self.primary()

    def primary(self) -> Node:
        tok = self.tok
        if self.punct("("):
            node = self.expression()
            self.expect(")")
            return node
        if tok.kind == "string":
            self.i += 1
            return Lit(tok.text[1:-1].replace("''", "'"), Kind.STRING)
        if tok.kind == "number":
            self.i += 1
            number = float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
            return Lit(number, Kind.NUMBER)
        if tok.kind in ("datetime", "date"):
            self.i += 1
            return Lit(self._datetime(tok), Kind.DATETIME)
        if tok.kind == "name" and tok.text.lower() not in KEYWORDS:
            self.i += 1
            word = tok.text
            if word in ("true", "false"):
                return Lit(word == "true", Kind.BOOL)
            if word == "null":
                return Lit(None, Kind.NULL)
            if self.punct("("):
                return Call(word.lower(), self._arguments())
            segments = [word]
            while self.punct("/"):
                if self.tok.kind != "name":
                    raise self.fail("expected a property name")
                segments.append(self.tok.text)
                self.i += 1
            return Path(tuple(segments))
        raise self.fail("expected a value, a property or a function")

    def _arguments(self) -> tuple[Node, ...]:
        if self.punct(")"):
            return ()
        args = [self.expression()]
        while self.punct(","):
            args.append(self.expression())
        self.expect(")")
        return tuple(args)

    def _datetime(self, tok: Token) -> datetime:
        try:
            value = datetime.fromisoformat(tok.text)
        except ValueError:
            raise self.fail("not a valid date or time") from None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _fold(node: Binary) -> Node:
    """Arithmetic on two whole numbers done here (an Observation's id may be written as a
    sum); anything else is left to the database."""
    left, right = node.left, node.right
    if not (isinstance(left, Lit) and isinstance(right, Lit)):
        return node
    a, b = left.value, right.value
    if not (isinstance(a, int) and isinstance(b, int) and left.kind is right.kind is Kind.NUMBER):
        return node
    if node.op == "add":
        return Lit(a + b, Kind.NUMBER)
    if node.op == "sub":
        return Lit(a - b, Kind.NUMBER)
    if node.op == "mul":
        return Lit(a * b, Kind.NUMBER)
    return node


def parse_filter(text: str, option: str = "$filter") -> Node:
    parser = Parser(text, option)
    node = parser.expression()
    parser.done()
    return node


def parse_orderby(text: str, option: str = "$orderby") -> list[tuple[Node, bool]]:
    """`name desc, Datastream/id` → [(expression, descending)]."""
    parser = Parser(text, option)
    items: list[tuple[Node, bool]] = []
    while True:
        node = parser.additive()
        direction = parser.keyword("asc", "desc")
        items.append((node, direction == "desc"))
        if not parser.punct(","):
            break
    parser.done()
    return items


# -- the options ------------------------------------------------------------------------------


@dataclass
class Expand:
    nav: str
    options: Options


@dataclass
class Options:
    """The query options of one collection (the request's, or an `$expand`'s own)."""

    filter: Node | None = None
    select: frozenset[str] | None = None
    expand: list[Expand] = field(default_factory=list)
    orderby: list[tuple[Node, bool]] = field(default_factory=list)
    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    # The options as sent, but for $top and $skip: what a nextLink repeats.
    raw: dict[str, str] = field(default_factory=dict)
    where: str = ""  # the error path prefix: "" or "$expand/Datastreams/"


def split_top_level(text: str, sep: str) -> list[str]:
    """Split at `sep` outside parentheses and quoted strings."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted  # '' inside a string toggles twice: still quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _whole(value: str, option: str) -> int:
    text = value.strip()
    if not text.isdigit():
        raise BadRequest.at(option, "a whole number, 0 or more")
    return int(text)


def parse_options(params: Mapping[str, str], where: str = "") -> Options:
    """The options from query parameters (or from an `$expand` item's parentheses)."""
    opts = Options(where=where)
    for name, value in params.items():
        if not name.startswith("$"):
            continue  # not ours: ignored, as OData says of custom parameters
        option = f"{where}{name}"
        if name not in KNOWN_OPTIONS:
            raise BadRequest.at(option, "not a query option this service knows")
        if name == "$top":
            opts.top = min(_whole(value, option), MAX_TOP)
        elif name == "$skip":
            opts.skip = _whole(value, option)
        elif name == "$count":
            if value.strip().lower() not in ("true", "false"):
                raise BadRequest.at(option, "true or false")
            opts.count = value.strip().lower() == "true"
            opts.raw[name] = value
        elif name == "$filter":
            opts.filter = parse_filter(value, option)
            opts.raw[name] = value
        elif name == "$orderby":
            opts.orderby = parse_orderby(value, option)
            opts.raw[name] = value
        elif name == "$select":
            opts.select = _parse_select(value, option)
            opts.raw[name] = value
        elif name == "$expand":
            opts.expand = _parse_expand(value, option, where)
            opts.raw[name] = value
        elif name == "$format" and value.strip().lower() not in ("json", "application/json"):
            raise BadRequest.at(option, "only json")
    return opts


def _parse_select(value: str, option: str) -> frozenset[str]:
    names = [n.strip() for n in value.split(",")]
    if not all(names):
        raise BadRequest.at(option, "a comma-separated list of property names")
    return frozenset("id" if n == "@iot.id" else n for n in names)


def _parse_expand(value: str, option: str, where: str) -> list[Expand]:
    items: list[Expand] = []
    for part in split_top_level(value, ","):
        text = part.strip()
        if not text:
            raise BadRequest.at(option, "an empty item")
        inner: dict[str, str] = {}
        path = text
        if "(" in text:
            path, _, rest = text.partition("(")
            if not rest.endswith(")"):
                raise BadRequest.at(option, f"unbalanced parentheses in {text!r}")
            for assignment in split_top_level(rest[:-1], ";"):
                if not assignment.strip():
                    continue
                key, eq, val = assignment.partition("=")
                if not eq:
                    raise BadRequest.at(option, f"expected $option=value in {assignment!r}")
                inner[key.strip()] = val
        navs = [n.strip() for n in path.split("/")]
        if not all(navs):
            raise BadRequest.at(
                option, f"a navigation path such as Datastreams/Observations, not {path!r}"
            )
        _add_expand(items, navs, inner, where)
    return items


def _add_expand(items: list[Expand], navs: list[str], inner: dict[str, str], where: str) -> None:
    # `Datastreams,Datastreams/Observations($top=1)` expands Datastreams once, with the
    # Observations inside; the options in parentheses belong to the last step.
    prefix = f"{where}$expand/{navs[0]}/"
    found = next((e for e in items if e.nav == navs[0]), None)
    if len(navs) == 1:
        options = parse_options(inner, prefix)
        if found is None:
            items.append(Expand(navs[0], options))
        else:
            options.expand = found.options.expand + options.expand
            found.options = options
        return
    if found is None:
        found = Expand(navs[0], Options(where=prefix))
        items.append(found)
    _add_expand(found.options.expand, navs[1:], inner, prefix)


def check_options(opts: Options, etype: EntityType) -> None:
    """What can be checked before touching the database: selected names and expanded
    navigation properties exist (filters and orderings are checked as they compile)."""
    if opts.select is not None:
        unknown = sorted(n for n in opts.select if n not in etype.props and n not in etype.navs)
        if unknown:
            raise BadRequest.at(
                f"{opts.where}$select",
                f"{etype.name} has no property {unknown[0]!r}",
            )
    for item in opts.expand:
        nav = etype.navs.get(item.nav)
        if nav is None:
            raise BadRequest.at(
                f"{opts.where}$expand",
                f"{etype.name} has no navigation property {item.nav!r} "
                f"(it has {', '.join(etype.navs)})",
            )
        check_options(item.options, TYPES[nav.target])


# -- compiling to SQL ------------------------------------------------------------------------


@dataclass
class Operand:
    """A compiled value: its kind, and its SQL (or its Python value, for a literal)."""

    kind: Kind
    expr: ColumnElement[Any] | None = None
    value: Any = None
    literal: bool = False
    alias: Alias = None  # an Observation's alias, for its packed id


Scope = tuple[Alias, list[ColumnElement[bool]]]


class Compiler:
    """Compiles `$filter` and `$orderby` for one entity type on one alias.

    `dialect` picks the few functions SQLite and PostgreSQL spell differently; `now` is
    what `now()` returns.
    """

    def __init__(self, dialect: str, now: datetime, scope: Base = unscoped) -> None:
        self.dialect = dialect
        self.now = now
        # A condition through a navigation property reaches only rows the caller may see.
        self.scope = scope
        self.option = "$filter"
        # The joins a boolean atom needs, innermost last; None while compiling an ordering.
        self._scopes: list[list[Scope]] | None = None

    # -- entry points

    def filter(
        self, node: Node, etype: EntityType, alias: Alias, option: str
    ) -> ColumnElement[bool]:
        self.option, self._scopes = option, []
        return self._bool(node, etype, alias)

    def order(
        self, items: list[tuple[Node, bool]], etype: EntityType, alias: Alias, option: str
    ) -> list[ColumnElement[Any]]:
        self.option, self._scopes = option, None
        out: list[ColumnElement[Any]] = []
        for node, descending in items:
            operand = self._value(node, etype, alias)
            if operand.kind is Kind.OBSERVATION_ID:
                columns = etype.key(operand.alias)
            elif operand.kind in (Kind.GEOMETRY, Kind.NULL) or operand.expr is None:
                raise self._bad("cannot order by this")
            else:
                columns = [self._sql(operand)]
            out.extend(c.desc() if descending else c.asc() for c in columns)
        return out

    # -- booleans

    def _bad(self, message: str) -> BadRequest:
        return BadRequest.at(self.option, message)

    def _bool(self, node: Node, etype: EntityType, alias: Alias) -> ColumnElement[bool]:
        if isinstance(node, Binary) and node.op in ("and", "or"):
            left = self._bool(node.left, etype, alias)
            right = self._bool(node.right, etype, alias)
            return and_(left, right) if node.op == "and" else or_(left, right)
        if isinstance(node, Unary) and node.op == "not":
            return not_(self._bool(node.operand, etype, alias))
        assert self._scopes is not None
        self._scopes.append([])
        operand = self._value(node, etype, alias)
        scopes = self._scopes.pop()
        if operand.kind is not Kind.BOOL:
            raise self._bad("expected a condition (a comparison or a function such as startswith)")
        condition = self._sql(operand)
        if not scopes:
            return condition
        # The first step joins the outer row (correlated, in WHERE); each next one joins
        # the step before it, as an explicit JOIN.
        (first, outer), rest = scopes[0], scopes[1:]
        query = select(literal(1)).select_from(first)
        for alias_, conds in rest:
            query = query.join(alias_, and_(*conds))
        return query.where(*outer, condition).exists()

    # -- values

    def _value(self, node: Node, etype: EntityType, alias: Alias) -> Operand:
        if isinstance(node, Lit):
            return Operand(node.kind, value=node.value, literal=True)
        if isinstance(node, Path):
            return self._path(node.segments, etype, alias)
        if isinstance(node, Call):
            return self._call(node, etype, alias)
        if isinstance(node, Unary):
            if node.op == "not":
                if self._scopes is None:
                    raise self._bad("cannot order by a condition")
                return Operand(Kind.BOOL, not_(self._bool(node.operand, etype, alias)))
            operand = self._number(self._value(node.operand, etype, alias))
            return Operand(Kind.NUMBER, -self._sql(operand))
        if node.op in ("and", "or"):
            if self._scopes is None:
                raise self._bad("cannot order by a condition")
            return Operand(Kind.BOOL, self._bool(node, etype, alias))
        left = self._value(node.left, etype, alias)
        right = self._value(node.right, etype, alias)
        if node.op in COMPARISONS:
            return Operand(Kind.BOOL, self._compare(node.op, left, right))
        return Operand(Kind.NUMBER, self._arithmetic(node.op, left, right))

    def _path(self, segments: tuple[str, ...], etype: EntityType, alias: Alias) -> Operand:
        name = segments[0]
        nav = etype.navs.get(name)
        if nav is not None:
            target = TYPES[nav.target]
            if len(segments) == 1:
                raise self._bad(
                    f"{name} is a navigation property: name one of its properties "
                    f"({name}/{next(iter(target.props))})"
                )
            t = target.alias()
            conditions = [nav.join(alias, t), *self.scope(target, t)]
            if self._scopes is not None:
                self._scopes[-1].append((t, conditions))
                return self._path(segments[1:], target, t)
            # Ordering: only through to-one steps, each a correlated scalar subquery.
            if nav.many:
                raise self._bad(f"cannot order by {name}: there may be many")
            inner = self._path(segments[1:], target, t)
            if inner.kind is Kind.OBSERVATION_ID or inner.expr is None:
                raise self._bad(f"cannot order by {'/'.join(segments)}")
            subquery = select(inner.expr).where(*conditions).limit(1).scalar_subquery()
            return Operand(inner.kind, subquery)
        prop = etype.props.get(name)
        if prop is None:
            raise self._bad(f"{etype.name} has no property {name!r}")
        if len(segments) > 1:
            return self._member(etype, alias, name, segments[1:])
        if prop.kind is Kind.OBSERVATION_ID:
            return Operand(Kind.OBSERVATION_ID, alias=alias)
        if prop.kind is Kind.JSON:
            raise self._bad(f"{name} is an object: name one of its members ({name}/...)")
        if prop.column is None:
            raise self._bad(f"{name} cannot be used in a query")
        return Operand(prop.kind, prop.column(alias))

    def _member(
        self, etype: EntityType, alias: Alias, name: str, members: tuple[str, ...]
    ) -> Operand:
        prop = etype.props[name]
        if prop.kind is not Kind.JSON:
            raise self._bad(f"{name} has no members")
        if len(members) == 1 and members[0] in etype.json_members:
            member = etype.json_members[members[0]]
            assert member.column is not None
            return Operand(member.kind, member.column(alias))
        if etype.json_column is None:
            raise self._bad(f"{name}/{'/'.join(members)} is not a member this service keeps")
        column = etype.json_column(alias)
        element = column[members[0]] if len(members) == 1 else column[members]
        if self._scopes is None:  # ordering: members as text
            return Operand(Kind.STRING, element.as_string())
        return Operand(Kind.JSON, element, value=(column, members))

    # -- SQL of operands

    def _sql(self, operand: Operand, as_kind: Kind | None = None) -> ColumnElement[Any]:
        kind = as_kind or operand.kind
        if operand.literal:
            if kind is Kind.DATETIME:
                return literal(operand.value, UTCDateTime())
            if kind is Kind.STRING:
                return literal(operand.value, String())
            if kind is Kind.BOOL:
                return true() if operand.value else false()
            if kind is Kind.NUMBER:
                return literal(
                    operand.value, Integer() if isinstance(operand.value, int) else Float()
                )
            raise self._bad(f"a {operand.kind.value} cannot be used here")
        assert operand.expr is not None
        if operand.kind is Kind.JSON:
            return self._json_as(operand, kind)
        return operand.expr

    def _json_as(self, operand: Operand, kind: Kind) -> ColumnElement[Any]:
        # A member of a JSON object read as the kind it is compared with; a member of
        # another JSON type is NULL (matches nothing) rather than an error from the cast.
        element: Any = operand.expr
        column, members = operand.value
        if kind in (Kind.STRING, Kind.JSON):
            return element.as_string()  # type: ignore[no-any-return]
        if kind not in (Kind.NUMBER, Kind.BOOL):
            raise self._bad("compare a member with a string, a number, true or false")
        if self.dialect == "postgresql":
            json_type = func.jsonb_typeof(element)
            wanted = ["number"] if kind is Kind.NUMBER else ["boolean"]
        else:
            path = "$" + "".join(f'."{m}"' for m in members)
            json_type = func.json_type(column, path)
            wanted = ["integer", "real"] if kind is Kind.NUMBER else ["true", "false"]
        if kind is Kind.NUMBER:
            return case((json_type.in_(wanted), element.as_float()))
        if kind is Kind.BOOL:
            return case((json_type.in_(wanted), element.as_boolean()))
        raise self._bad(f"a member cannot be compared with a {kind.value}")

    def _number(self, operand: Operand) -> Operand:
        if operand.kind is Kind.JSON:
            return Operand(Kind.NUMBER, self._json_as(operand, Kind.NUMBER))
        if operand.kind is not Kind.NUMBER:
            raise self._bad(f"expected a number, not a {operand.kind.value}")
        return operand

    def _string(self, operand: Operand) -> ColumnElement[Any]:
        if operand.kind not in (Kind.STRING, Kind.JSON):
            raise self._bad(f"expected a string, not a {operand.kind.value}")
        return self._sql(operand, Kind.STRING)

    # -- comparisons and arithmetic

    def _compare(self, op: str, left: Operand, right: Operand) -> ColumnElement[bool]:
        if Kind.NULL in (left.kind, right.kind):
            other = right if left.kind is Kind.NULL else left
            if op not in ("eq", "ne"):
                raise self._bad("null can only be compared with eq or ne")
            if other.kind is Kind.NULL:
                return true() if op == "eq" else false()
            expr = self._sql(other, Kind.STRING if other.kind is Kind.JSON else None)
            return expr.is_(None) if op == "eq" else expr.is_not(None)
        if Kind.OBSERVATION_ID in (left.kind, right.kind):
            return self._compare_observation_id(op, left, right)
        kind = self._common_kind(left, right)
        if kind is Kind.BOOL and (left.literal or right.literal) and op in ("eq", "ne"):
            # `startswith(name,'a') eq true`: the condition itself (or its negation).
            lit, other = (left, right) if left.literal else (right, left)
            condition = self._sql(other, kind)
            return condition if (lit.value is True) == (op == "eq") else not_(condition)
        a, b = self._sql(left, kind), self._sql(right, kind)
        return {
            "eq": lambda: a == b,
            "ne": lambda: a != b,
            "gt": lambda: a > b,
            "ge": lambda: a >= b,
            "lt": lambda: a < b,
            "le": lambda: a <= b,
        }[op]()

    def _common_kind(self, left: Operand, right: Operand) -> Kind:
        kinds = {left.kind, right.kind}
        for bad_kind in (Kind.GEOMETRY, Kind.INTERVAL):
            if bad_kind in kinds:
                raise self._bad(
                    "an interval cannot be compared here (filter the Observations' times)"
                    if bad_kind is Kind.INTERVAL
                    else "spatial comparisons are not supported"
                )
        if Kind.JSON in kinds:
            other = (kinds - {Kind.JSON}) or {Kind.STRING}
            return other.pop()
        if kinds == {Kind.DATETIME, Kind.STRING}:
            # A time written as a string ('2026-11-24T01:00:00Z'): taken as the time.
            for operand in (left, right):
                if operand.kind is Kind.STRING and operand.literal:
                    operand.value = self._parse_time(operand.value)
                    operand.kind = Kind.DATETIME
            kinds = {left.kind, right.kind}
        if len(kinds) != 1:
            names = " and ".join(sorted(k.value for k in kinds))
            raise self._bad(f"cannot compare a {names}")
        return kinds.pop()

    def _parse_time(self, text: str) -> datetime:
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise self._bad(f"{text!r} is not a time") from None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def _compare_observation_id(
        self, op: str, left: Operand, right: Operand
    ) -> ColumnElement[bool]:
        # An Observation's id is (datastream id, epoch ms) packed into one number, so
        # comparing ids is comparing those pairs in order.
        if left.kind is Kind.OBSERVATION_ID and right.kind is Kind.OBSERVATION_ID:
            raise self._bad("compare an Observation's id with a number")
        if left.kind is not Kind.OBSERVATION_ID:
            left, right = right, left
            op = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}.get(op, op)
        if not (right.literal and right.kind is Kind.NUMBER and isinstance(right.value, int)):
            raise self._bad("compare an Observation's id with a whole number")
        parts = split_observation_id(right.value)
        a = left.alias
        if parts is None:
            return false() if op in ("eq", "lt", "le") else true()
        pair = tuple_(a.datastream_id, a.observed_at)
        value = tuple_(literal(parts[0], Integer()), literal(parts[1], UTCDateTime()))
        if op == "eq":
            return and_(a.datastream_id == parts[0], a.observed_at == parts[1])
        if op == "ne":
            return not_(and_(a.datastream_id == parts[0], a.observed_at == parts[1]))
        return {
            "gt": lambda: pair > value,
            "ge": lambda: pair >= value,
            "lt": lambda: pair < value,
            "le": lambda: pair <= value,
        }[op]()

    def _arithmetic(self, op: str, left: Operand, right: Operand) -> ColumnElement[Any]:
        a = self._sql(self._number(left), Kind.NUMBER)
        b = self._sql(self._number(right), Kind.NUMBER)
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        if op == "div":
            return cast(a, Float) / cast(b, Float)
        if self.dialect == "postgresql":
            return func.mod(cast(a, Numeric), cast(b, Numeric))
        return func.mod(a, b)

    # -- functions

    def _call(self, node: Call, etype: EntityType, alias: Alias) -> Operand:
        spec = _FUNCTIONS.get(node.name)
        if spec is None:
            if node.name.startswith(("geo.", "st_")):
                raise self._bad(f"spatial functions ({node.name}) are not supported")
            raise self._bad(f"no function {node.name!r}")
        arity, build = spec
        if len(node.args) not in arity:
            counts = " or ".join(str(n) for n in arity)
            raise self._bad(f"{node.name} takes {counts} argument(s)")
        args = [self._value(arg, etype, alias) for arg in node.args]
        return build(self, args)

    def _find(self, haystack: ColumnElement[Any], needle: ColumnElement[Any]) -> Any:
        # The 1-based position of needle in haystack, 0 when absent; case-sensitive on
        # both databases (LIKE is not, on SQLite).
        if self.dialect == "postgresql":
            return func.strpos(haystack, needle)
        return func.instr(haystack, needle)

    def _time_part(self, part: str, operand: Operand) -> Operand:
        if operand.kind is not Kind.DATETIME:
            raise self._bad(f"{part}() takes a time")
        expr = self._sql(operand)
        if self.dialect == "postgresql":
            # Parts of the UTC time, whatever the session's time zone.
            value: Any = func.floor(extract(part, func.timezone("UTC", expr)))
            return Operand(Kind.NUMBER, cast(value, Integer))
        return Operand(Kind.NUMBER, extract(part, expr))


def _contains(c: Compiler, haystack: Operand, needle: Operand) -> Operand:
    return Operand(Kind.BOOL, c._find(c._string(haystack), c._string(needle)) > 0)


def _startswith(c: Compiler, args: list[Operand]) -> Operand:
    text, prefix = c._string(args[0]), c._string(args[1])
    return Operand(Kind.BOOL, func.substr(text, 1, func.length(prefix)) == prefix)


def _endswith(c: Compiler, args: list[Operand]) -> Operand:
    text, suffix = c._string(args[0]), c._string(args[1])
    start = func.length(text) - func.length(suffix) + 1
    return Operand(Kind.BOOL, func.substr(text, start) == suffix)


def _substring(c: Compiler, args: list[Operand]) -> Operand:
    text = c._string(args[0])
    start = c._sql(c._number(args[1]), Kind.NUMBER) + 1  # OData counts from 0, SQL from 1
    if len(args) == 3:
        return Operand(Kind.STRING, func.substr(text, start, c._sql(c._number(args[2]))))
    return Operand(Kind.STRING, func.substr(text, start))


def _numeric(name: str) -> Callable[[Compiler, list[Operand]], Operand]:
    def build(c: Compiler, args: list[Operand]) -> Operand:
        value = c._sql(c._number(args[0]), Kind.NUMBER)
        return Operand(Kind.NUMBER, getattr(func, name)(value))

    return build


def _time_part(part: str) -> Callable[[Compiler, list[Operand]], Operand]:
    return lambda c, args: c._time_part(part, args[0])


_FUNCTIONS: dict[str, tuple[tuple[int, ...], Callable[[Compiler, list[Operand]], Operand]]] = {
    "substringof": ((2,), lambda c, a: _contains(c, a[1], a[0])),
    "contains": ((2,), lambda c, a: _contains(c, a[0], a[1])),
    "startswith": ((2,), _startswith),
    "endswith": ((2,), _endswith),
    "length": ((1,), lambda c, a: Operand(Kind.NUMBER, func.length(c._string(a[0])))),
    "indexof": (
        (2,),
        lambda c, a: Operand(Kind.NUMBER, c._find(c._string(a[0]), c._string(a[1])) - 1),
    ),
    "substring": ((2, 3), _substring),
    "tolower": ((1,), lambda c, a: Operand(Kind.STRING, func.lower(c._string(a[0])))),
    "toupper": ((1,), lambda c, a: Operand(Kind.STRING, func.upper(c._string(a[0])))),
    "trim": ((1,), lambda c, a: Operand(Kind.STRING, func.trim(c._string(a[0])))),
    "concat": ((2,), lambda c, a: Operand(Kind.STRING, c._string(a[0]).concat(c._string(a[1])))),
    "year": ((1,), _time_part("year")),
    "month": ((1,), _time_part("month")),
    "day": ((1,), _time_part("day")),
    "hour": ((1,), _time_part("hour")),
    "minute": ((1,), _time_part("minute")),
    "second": ((1,), _time_part("second")),
    "round": ((1,), _numeric("round")),
    "floor": ((1,), _numeric("floor")),
    "ceiling": ((1,), _numeric("ceil")),
    "now": ((0,), lambda c, _a: Operand(Kind.DATETIME, value=c.now, literal=True)),
}

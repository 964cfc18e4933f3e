"""The four registries of law enforcement (执法依据 · 执法事项 · 执法主体 · 执法人员): laws with
their articles, enforcement items with their legal basis, discretion benchmark and on-site
checklist, the agencies that enforce them and where, and the officers who may act.

Every legal number here (a fine's range, an article's text) is a row with its source, so a
change in law is a change of data. Inspections, penalty cases and supervision refer to these
rows by their ids, which stay stable across re-imports (imports update rows in place)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityops.db import Base, JSONType


class LawLevel(StrEnum):
    """The rank of a legal source (法律位阶)."""

    LAW = "law"  # 法律 (NPC and its Standing Committee)
    ADMINISTRATIVE_REGULATION = "administrative_regulation"  # 行政法规 (State Council)
    LOCAL_REGULATION = "local_regulation"  # 地方性法规
    DEPARTMENT_RULE = "department_rule"  # 部门规章
    LOCAL_RULE = "local_rule"  # 地方政府规章


LAW_LEVEL_NAMES_ZH: dict[str, str] = {
    LawLevel.LAW: "法律",
    LawLevel.ADMINISTRATIVE_REGULATION: "行政法规",
    LawLevel.LOCAL_REGULATION: "地方性法规",
    LawLevel.DEPARTMENT_RULE: "部门规章",
    LawLevel.LOCAL_RULE: "地方政府规章",
}


class Law(Base):
    """One version of a law, regulation or rule (执法依据).

    `code` names the work across its revisions (e.g. `administrative-penalty-law`) and
    `version` one text of it (e.g. `2021`); a revision is a new row, so articles cited by
    a past decision keep the wording they had. `superseded_on` is the day a later version
    took effect, `repealed_on` the day the work itself was repealed (废止).
    """

    __tablename__ = "enforcement_laws"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_enforcement_laws_code_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32), index=True)
    issuer: Mapped[str] = mapped_column(String(200), default="")  # 制定机关
    document_number: Mapped[str] = mapped_column(String(100), default="")  # 文号
    promulgated_on: Mapped[date | None]  # 公布日期
    effective_on: Mapped[date | None]  # 施行日期
    superseded_on: Mapped[date | None]  # a later version took effect
    repealed_on: Mapped[date | None]  # 废止日期
    # [{"on": "2021-01-22", "note": "第十三届全国人民代表大会常务委员会第二十五次会议修订"}]
    amendments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    source: Mapped[str] = mapped_column(String(500), default="")  # where the text comes from
    note: Mapped[str] = mapped_column(Text, default="")

    articles: Mapped[list[Article]] = relationship(
        back_populates="law", order_by=lambda: [Article.number, Article.paragraph, Article.item]
    )

    @property
    def level_name(self) -> str:
        return LAW_LEVEL_NAMES_ZH.get(self.level, self.level)


class Article(Base):
    """An article (条) of a law version with its full text; or, where a paragraph (款) or
    item (项) is recorded on its own, that part (`paragraph`/`item` 0 = the whole)."""

    __tablename__ = "enforcement_articles"
    __table_args__ = (
        UniqueConstraint(
            "law_id", "number", "paragraph", "item", name="uq_enforcement_articles_place"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    law_id: Mapped[int] = mapped_column(ForeignKey("enforcement_laws.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 42 for 第四十二条
    paragraph: Mapped[int] = mapped_column(Integer, default=0)
    item: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(40))  # as printed: 第四十二条
    text: Mapped[str] = mapped_column(Text)

    law: Mapped[Law] = relationship(back_populates="articles")


class ItemKind(StrEnum):
    """What an enforcement item empowers (the categories of a powers list, 权责清单)."""

    PENALTY = "penalty"  # 行政处罚
    COMPULSORY = "compulsory"  # 行政强制
    INSPECTION = "inspection"  # 行政检查
    LICENSE = "license"  # 行政许可
    OTHER = "other"


ITEM_KIND_NAMES_ZH: dict[str, str] = {
    ItemKind.PENALTY: "行政处罚",
    ItemKind.COMPULSORY: "行政强制",
    ItemKind.INSPECTION: "行政检查",
    ItemKind.LICENSE: "行政许可",
    ItemKind.OTHER: "其他",
}


class AgencyKind(StrEnum):
    """The kinds of enforcement agency (执法主体类别)."""

    FIRE_RESCUE = "fire_rescue"  # 消防救援机构
    MARKET_REGULATION = "market_regulation"  # 市场监督管理局
    CULTURE_MARKET = "culture_market"  # 文化市场综合执法
    URBAN_MANAGEMENT = "urban_management"  # 城市管理综合执法
    TOWN_STREET = "town_street"  # 街道/乡镇综合行政执法
    PUBLIC_SECURITY = "public_security"  # 公安机关
    OTHER = "other"


AGENCY_KIND_NAMES_ZH: dict[str, str] = {
    AgencyKind.FIRE_RESCUE: "消防救援机构",
    AgencyKind.MARKET_REGULATION: "市场监督管理局",
    AgencyKind.CULTURE_MARKET: "文化市场综合执法",
    AgencyKind.URBAN_MANAGEMENT: "城市管理综合执法",
    AgencyKind.TOWN_STREET: "街道/乡镇综合行政执法",
    AgencyKind.PUBLIC_SECURITY: "公安机关",
    AgencyKind.OTHER: "其他",
}


class Item(Base):
    """An enforcement item (执法事项): one power with its legal basis, discretion benchmark
    and on-site checklist. `agency_kinds` are the kinds of agency that hold it by law; an
    agency may also be given it explicitly (a comprehensive body's transferred powers)."""

    __tablename__ = "enforcement_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), index=True)
    field: Mapped[str] = mapped_column(String(40), default="")  # 领域: 消防, 食品安全…
    agency_kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # On the published first-violation list (首违不罚清单, Administrative Penalty Law
    # Art. 33 para. 1), with the conditions the list states.
    first_violation_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    exemption_conditions: Mapped[str] = mapped_column(Text, default="")
    effective_on: Mapped[date | None]
    expires_on: Mapped[date | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")

    basis: Mapped[list[ItemArticle]] = relationship(
        cascade="all, delete-orphan", order_by=lambda: [ItemArticle.role, ItemArticle.id]
    )
    benchmarks: Mapped[list[Benchmark]] = relationship(
        cascade="all, delete-orphan", order_by="Benchmark.position"
    )
    checklist: Mapped[list[ChecklistItem]] = relationship(
        cascade="all, delete-orphan", order_by=lambda: [ChecklistItem.position, ChecklistItem.code]
    )

    @property
    def kind_name(self) -> str:
        return ITEM_KIND_NAMES_ZH.get(self.kind, self.kind)


class BasisRole(StrEnum):
    DUTY = "duty"  # the article that sets the duty broken (违法依据)
    PENALTY = "penalty"  # the article that sets the penalty (处罚依据)
    POWER = "power"  # any other basis of the power (e.g. an inspection's 检查依据)


class ItemArticle(Base):
    """An article an item rests on, in a role, down to the paragraph and item it cites
    (0 = the whole article or paragraph) when the article is stored whole."""

    __tablename__ = "enforcement_item_articles"
    __table_args__ = (
        UniqueConstraint(
            "item_id",
            "article_id",
            "role",
            "paragraph",
            "item_no",
            name="uq_enforcement_item_articles_cite",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("enforcement_items.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("enforcement_articles.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    paragraph: Mapped[int] = mapped_column(Integer, default=0)
    item_no: Mapped[int] = mapped_column(Integer, default=0)

    article: Mapped[Article] = relationship(lazy="joined")


class Grade(StrEnum):
    """The discretion grades of a benchmark (裁量阶次)."""

    NONE = "none"  # 不予处罚
    MITIGATED = "mitigated"  # 减轻处罚 (below the statutory minimum)
    LIGHTER = "lighter"  # 从轻处罚
    ORDINARY = "ordinary"  # 一般处罚
    HEAVIER = "heavier"  # 从重处罚


GRADE_NAMES_ZH: dict[str, str] = {
    Grade.NONE: "不予处罚",
    Grade.MITIGATED: "减轻处罚",
    Grade.LIGHTER: "从轻处罚",
    Grade.ORDINARY: "一般处罚",
    Grade.HEAVIER: "从重处罚",
}


class Party(StrEnum):
    """Whom a benchmark row applies to where the law sets different ranges."""

    ANY = "any"
    CITIZEN = "citizen"  # 公民 (个人)
    ORGANISATION = "organisation"  # 法人或者其他组织 (单位)


class Benchmark(Base):
    """A row of an item's discretion benchmark (裁量基准): a circumstance, its grade, and
    the fine it allows — a range in whole CNY, or multiples of an amount such as the goods
    value (货值金额) — and/or a measure (警告, 责令停业整顿 …). A row with neither range
    allows no fine. A row may hold only for an amount in a span (货值金额不足一万元)."""

    __tablename__ = "enforcement_benchmarks"
    __table_args__ = (
        UniqueConstraint("item_id", "position", name="uq_enforcement_benchmarks_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("enforcement_items.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(12))
    party: Mapped[str] = mapped_column(String(12), default=Party.ANY)
    circumstance: Mapped[str] = mapped_column(Text, default="")
    fine_min: Mapped[int | None] = mapped_column(BigInteger)
    fine_max: Mapped[int | None] = mapped_column(BigInteger)
    times_min: Mapped[float | None] = mapped_column(Float)
    times_max: Mapped[float | None] = mapped_column(Float)
    # The amount a multiple is of and the row's condition on it refers to (货值金额,
    # 违法所得, 违法经营额…): the row applies when base_from <= amount < base_below.
    base_name: Mapped[str] = mapped_column(String(40), default="")
    base_from: Mapped[int | None] = mapped_column(BigInteger)
    base_below: Mapped[int | None] = mapped_column(BigInteger)
    measure: Mapped[str] = mapped_column(Text, default="")
    article_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_articles.id"))

    @property
    def grade_name(self) -> str:
        return GRADE_NAMES_ZH.get(self.grade, self.grade)


class ChecklistItem(Base):
    """A point an officer checks on site for an item (检查要点), with the article behind it."""

    __tablename__ = "enforcement_checklist_items"
    __table_args__ = (UniqueConstraint("item_id", "code", name="uq_enforcement_checklist_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("enforcement_items.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("enforcement_articles.id"))


class Agency(Base):
    """An enforcement agency (执法主体): its kind, its jurisdiction (region codes; a code
    covers every region below it) and the items it was given beyond those of its kind."""

    __tablename__ = "enforcement_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")  # the office's, public
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")

    regions: Mapped[list[AgencyRegion]] = relationship(
        cascade="all, delete-orphan", order_by="AgencyRegion.region_code"
    )
    powers: Mapped[list[AgencyItem]] = relationship(cascade="all, delete-orphan")

    @property
    def kind_name(self) -> str:
        return AGENCY_KIND_NAMES_ZH.get(self.kind, self.kind)


class AgencyRegion(Base):
    """A region of an agency's jurisdiction (管辖区域)."""

    __tablename__ = "enforcement_agency_regions"

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_agencies.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)


class AgencyItem(Base):
    """An item an agency may enforce beyond those its kind holds (e.g. powers transferred
    to a street's comprehensive enforcement team, 赋权清单)."""

    __tablename__ = "enforcement_agency_items"

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_agencies.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_items.id", ondelete="CASCADE"), primary_key=True
    )


class Officer(Base):
    """An enforcement officer (执法人员) with their certificate (执法证): its number,
    validity and the regions it covers (none: their agency's jurisdiction). `person_id`
    links them to staff when they also use the platform. The phone is personal data."""

    __tablename__ = "enforcement_officers"
    __table_args__ = (Index("ix_enforcement_officers_agency", "agency_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_number: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("enforcement_agencies.id"))
    valid_from: Mapped[date]
    valid_until: Mapped[date]  # the last day the certificate is valid
    phone: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")

    agency: Mapped[Agency] = relationship(lazy="joined")
    regions: Mapped[list[OfficerRegion]] = relationship(
        cascade="all, delete-orphan", order_by="OfficerRegion.region_code"
    )


class OfficerRegion(Base):
    """A region an officer's certificate covers (执法区域)."""

    __tablename__ = "enforcement_officer_regions"

    officer_id: Mapped[int] = mapped_column(
        ForeignKey("enforcement_officers.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), primary_key=True)

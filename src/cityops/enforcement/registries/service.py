"""Enforcement registry use cases: reading laws, items, agencies and officers for the API,
the benchmark check of a fine, the check of a team of officers, and the shipped sample."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.enforcement.registries import io, repository
from cityops.enforcement.registries.citation import citation, split_list
from cityops.enforcement.registries.credentials import (
    EXPIRY_WARNING_DAYS,
    MIN_OFFICERS,
    OfficerCheck,
    OfficerFacts,
    covers,
    judge_officers,
)
from cityops.enforcement.registries.discretion import BenchmarkRange, FineCheck, judge_fine
from cityops.enforcement.registries.models import (
    Agency,
    AgencyItem,
    Article,
    Grade,
    Item,
    Law,
    Officer,
    Party,
)
from cityops.enforcement.registries.schemas import (
    AgencyRead,
    AllowedRangeRead,
    ArticleHit,
    ArticleRead,
    BasisRead,
    BenchmarkRead,
    ChecklistRead,
    FineCheckRead,
    ItemDetail,
    ItemRead,
    LawBrief,
    LawDetail,
    LawRead,
    OfficerRead,
)
from cityops.errors import FieldProblem, Invalid, NotFound
from cityops.org.models import Region

SEED_DIR = Path(__file__).parent / "seed"
# The day the shipped sample's officer certificates were written for: `load_seed(today=…)`
# moves them by the difference, so that on any demo day two expire soon and one has expired.
SEED_REFERENCE_DAY = date(2026, 12, 1)


# -- laws and articles ---------------------------------------------------------------------


def get_law(session: Session, law_id: int) -> Law:
    law = session.get(Law, law_id)
    if law is None:
        raise NotFound(f"no law {law_id}")
    return law


def law_read(law: Law) -> LawRead:
    return LawRead.model_validate(law)


def article_read(article: Article, law: Law) -> ArticleRead:
    return ArticleRead(
        id=article.id,
        law_id=law.id,
        number=article.number,
        paragraph=article.paragraph or None,
        item=article.item or None,
        label=article.label,
        citation=citation(law.title, article.number, article.paragraph, article.item),
        text=article.text,
    )


def law_detail(law: Law) -> LawDetail:
    """The law version with all its articles in order."""
    articles = [article_read(a, law) for a in law.articles]
    return LawDetail(**law_read(law).model_dump(), articles=articles)


def article_hit(article: Article) -> ArticleHit:
    law = article.law
    brief = LawBrief(
        id=law.id, code=law.code, version=law.version, title=law.title, level=law.level
    )
    return ArticleHit(**article_read(article, law).model_dump(), law=brief)


# -- items ----------------------------------------------------------------------------------


def get_item(session: Session, code: str) -> Item:
    item = repository.item_by_code(session, code)
    if item is None:
        raise NotFound(f"no enforcement item {code!r}")
    return item


def item_read(item: Item) -> ItemRead:
    return ItemRead.model_validate(item)


def item_detail(session: Session, item: Item) -> ItemDetail:
    """The item with its legal basis (cited down to paragraph and item), its benchmark and
    its checklist."""
    ids = [b.article_id for b in item.benchmarks] + [c.article_id for c in item.checklist]
    articles = repository.articles_by_id(session, [i for i in ids if i is not None])

    def cite(article_id: int | None) -> str | None:
        article = articles.get(article_id) if article_id is not None else None
        return citation(article.law.title, article.number) if article else None

    basis = [
        BasisRead(
            role=link.role,
            article_id=link.article_id,
            law_code=link.article.law.code,
            law_version=link.article.law.version,
            text=link.article.text,
            citation=citation(
                link.article.law.title,
                link.article.number,
                link.paragraph or link.article.paragraph,
                link.item_no or link.article.item,
            ),
        )
        for link in item.basis
    ]
    benchmarks = [
        BenchmarkRead.model_validate(b).model_copy(update={"citation": cite(b.article_id)})
        for b in item.benchmarks
    ]
    checklist = [
        ChecklistRead.model_validate(c).model_copy(update={"citation": cite(c.article_id)})
        for c in item.checklist
    ]
    return ItemDetail(
        **item_read(item).model_dump(), basis=basis, benchmarks=benchmarks, checklist=checklist
    )


def check_fine(
    session: Session,
    item_id: int,
    grade: Grade | str,
    fine: Decimal | int,
    *,
    party: Party | str | None = None,
    base_amount: Decimal | int | None = None,
    benchmark_id: int | None = None,
) -> FineCheck:
    """Whether a proposed fine (CNY) keeps to the item's discretion benchmark for the grade
    (and party, and the row of the circumstance when known). A fine outside it may still
    be imposed, with a written reason: `FineCheck.needs_reason`."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"no enforcement item {item_id}")
    try:
        grade_, party_ = Grade(grade), Party(party) if party is not None else None
    except ValueError as exc:
        raise Invalid(str(exc), errors=[FieldProblem("grade/party", str(exc))]) from None
    amount = Decimal(fine)
    if amount < 0:
        raise Invalid("a fine cannot be negative", errors=[FieldProblem("fine", "negative")])
    if benchmark_id is not None and benchmark_id not in {b.id for b in item.benchmarks}:
        raise Invalid(
            "no such benchmark row for this item",
            errors=[FieldProblem("benchmark_id", "not a row of this item")],
        )
    rows = [
        BenchmarkRange(
            id=b.id,
            grade=b.grade,
            party=b.party,
            circumstance=b.circumstance,
            fine_min=b.fine_min,
            fine_max=b.fine_max,
            times_min=b.times_min,
            times_max=b.times_max,
            base_name=b.base_name,
            base_from=b.base_from,
            base_below=b.base_below,
            measure=b.measure,
        )
        for b in item.benchmarks
    ]
    base = Decimal(base_amount) if base_amount is not None else None
    return judge_fine(
        rows, grade_, amount, party=party_, base_amount=base, benchmark_id=benchmark_id
    )


def fine_check_read(check: FineCheck) -> FineCheckRead:
    allowed = [
        AllowedRangeRead(
            benchmark_id=a.benchmark_id,
            circumstance=a.circumstance,
            party=a.party,
            minimum=float(a.minimum),
            maximum=float(a.maximum),
            measure=a.measure,
        )
        for a in check.allowed
    ]
    return FineCheckRead(
        within=check.within,
        needs_reason=check.needs_reason,
        grade=check.grade,
        fine=float(check.fine),
        allowed=allowed,
        reason=check.reason,
    )


# -- agencies ---------------------------------------------------------------------------------


def get_agency(session: Session, code: str) -> Agency:
    agency = repository.agency_by_code(session, code)
    if agency is None:
        raise NotFound(f"no enforcement agency {code!r}")
    return agency


def agency_reads(session: Session, agencies: Sequence[Agency]) -> list[AgencyRead]:
    codes = repository.item_codes(session, [p.item_id for a in agencies for p in a.powers])
    return [
        AgencyRead(
            id=a.id,
            code=a.code,
            name=a.name,
            kind=a.kind,
            kind_name=a.kind_name,
            department_id=a.department_id,
            address=a.address,
            phone=a.phone,
            active=a.active,
            note=a.note,
            regions=[r.region_code for r in a.regions],
            items=sorted(codes[p.item_id] for p in a.powers),
        )
        for a in agencies
    ]


def may_enforce(session: Session, agency_id: int, item_id: int) -> bool:
    """Whether the agency holds the item: its kind holds it by law, or it was given it."""
    agency, item = session.get(Agency, agency_id), session.get(Item, item_id)
    if agency is None or item is None:
        return False
    if agency.kind in item.agency_kinds:
        return True
    return session.get(AgencyItem, (agency_id, item_id)) is not None


def agencies_for(session: Session, item_id: int, region_code: str) -> list[Agency]:
    """The active agencies that may enforce the item in the region (their jurisdiction
    covers it)."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"no enforcement item {item_id}")
    found = []
    for agency in session.scalars(repository.agencies_query(active=True)):
        holds = agency.kind in item.agency_kinds or any(p.item_id == item_id for p in agency.powers)
        if holds and covers([r.region_code for r in agency.regions], region_code):
            found.append(agency)
    return found


# -- officers -------------------------------------------------------------------------------


def get_officer(session: Session, officer_id: int) -> Officer:
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(f"no officer {officer_id}")
    return officer


def officer_regions(session: Session, officers: Sequence[Officer]) -> dict[int, list[str]]:
    """Each officer's regions: their certificate's, or else their agency's jurisdiction."""
    agencies = repository.agency_regions(session, [o.agency_id for o in officers])
    return {
        o.id: [r.region_code for r in o.regions] or agencies.get(o.agency_id, []) for o in officers
    }


def masked(phone: str) -> str:
    """A phone with all but its first three and last two characters hidden, whatever its
    format (a pattern would let an unusual format through whole)."""
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]


def officer_reads(officers: Sequence[Officer], *, privileged: bool) -> list[OfficerRead]:
    """Officers for the API; their phones in full only for `privileged` callers."""
    return [
        OfficerRead(
            id=o.id,
            certificate_number=o.certificate_number,
            name=o.name,
            agency_id=o.agency_id,
            agency_code=o.agency.code,
            agency_name=o.agency.name,
            valid_from=o.valid_from,
            valid_until=o.valid_until,
            regions=[r.region_code for r in o.regions],
            active=o.active,
            person_id=o.person_id,
            phone=o.phone if privileged else masked(o.phone),
        )
        for o in officers
    ]


def check_officers(
    session: Session,
    officer_ids: Sequence[int],
    region_code: str,
    on: date,
    *,
    minimum: int = MIN_OFFICERS,
    warn_within_days: int = EXPIRY_WARNING_DAYS,
) -> OfficerCheck:
    """Whether these officers may act together in the region on the day. Each problem names
    its officer: an unknown or inactive officer (or agency), a certificate not yet valid or
    expired, a region outside theirs (a region inside one of theirs is fine), and fewer than
    `minimum` qualified officers (Administrative Penalty Law Art. 42). A certificate that
    expires within `warn_within_days` is a warning that does not block.
    `OfficerCheck.raise_if_blocked()` turns the blocking problems into a 422."""
    if session.get(Region, region_code) is None:
        problem = FieldProblem("region_code", "no such region")
        raise Invalid(f"no region {region_code}", errors=[problem])
    officers = repository.officers_by_id(session, officer_ids)
    regions = officer_regions(session, officers)
    facts = [
        OfficerFacts(
            id=o.id,
            name=o.name,
            certificate_number=o.certificate_number,
            active=o.active,
            agency_name=o.agency.name,
            agency_active=o.agency.active,
            valid_from=o.valid_from,
            valid_until=o.valid_until,
            regions=tuple(regions[o.id]),
        )
        for o in officers
    ]
    return judge_officers(
        officer_ids, facts, region_code, on, minimum=minimum, warn_within_days=warn_within_days
    )


def eligible_officers(
    session: Session, *, region_code: str, on: date, agency_id: int | None = None
) -> list[Officer]:
    """The roster that may act in the region on the day: active officers of active agencies
    with a valid certificate whose regions cover it (e.g. to draw inspectors at random)."""
    query = repository.officers_query(
        agency_id=agency_id, region=region_code, valid_on=on, active=True
    )
    officers = [o for o in session.scalars(query) if o.agency.active]
    regions = officer_regions(session, officers)
    return [o for o in officers if covers(regions[o.id], region_code)]


# -- the shipped sample ---------------------------------------------------------------------


def load_seed(
    session: Session, *, today: date | None = None, progress: io.Progress | None = None
) -> io.ImportSummary:
    """Insert what is missing of the shipped sample: the articles the procedure relies on
    and those behind the internet-café example, its items with benchmarks and checklists,
    and, where the demo district's regions exist, sample agencies and officers. Rows that
    exist are left as they are. With `today`, the officers' certificate dates are moved so
    that they stand to `today` as they stand to SEED_REFERENCE_DAY in the files."""
    tables = io.read_tables(SEED_DIR)
    regions = set(session.scalars(select(Region.code)))

    def in_district(row: dict[str, str]) -> bool:
        return all(code in regions for code in split_list(row.get("regions", "")))

    # The sample agencies and officers belong to the demo district: elsewhere they are left
    # out rather than failing the laws and items, which hold anywhere.
    agencies = io.filter_rows(tables["agencies"], in_district)
    known = {row["code"] for _, row in agencies.rows} | set(session.scalars(select(Agency.code)))
    tables["agencies"] = agencies
    tables["officers"] = io.filter_rows(
        tables["officers"], lambda row: in_district(row) and row.get("agency_code") in known
    )
    if today is not None:
        tables["officers"] = io.shift_dates(
            tables["officers"], ("valid_from", "valid_until"), today - SEED_REFERENCE_DAY
        )
    return io.import_tables(session, tables, keep_existing=True, progress=progress)

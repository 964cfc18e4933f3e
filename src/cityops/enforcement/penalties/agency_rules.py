"""An agency's numbers for the penalty procedure: its settings row over the defaults of
`rules`, and the prefix of its document numbers (渝中消 in 渝中消罚决字〔2026〕第12号)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cityops.auth.service import Principal, record_audit
from cityops.cases.workflow import Actor
from cityops.enforcement.penalties import rules
from cityops.enforcement.penalties.models import PenaltySettings
from cityops.enforcement.penalties.workflow import ADMIN, LEAD, Acting
from cityops.enforcement.registries import repository as registry
from cityops.enforcement.registries.models import Agency
from cityops.errors import Forbidden, NotFound
from cityops.org.models import Region

# The district (区/县) in an agency's name: 重庆市渝中区消防救援支队 → 渝中; a city's 市 and a
# bureau's 局 are not part of it (重庆市公安局渝中区分局 → 渝中).
_DISTRICT = re.compile(r"([^市省局]{2,3}?)[区县](?!域)")
_STREET = re.compile(r"[区县]([^区县]{2,4}?)(?:街道|镇|乡)")


def derive_prefix(name: str, kind: str) -> str:
    """The prefix of an agency's document numbers: its district, its street (for a street
    team) and the short word of its kind. 重庆市渝中区消防救援支队 → 渝中消; 渝中区解放碑街道
    综合行政执法大队 → 渝中解放碑综执."""
    district = _DISTRICT.search(name)
    street = _STREET.search(name)
    parts = [district.group(1) if district else "", street.group(1) if street else ""]
    return "".join(parts) + rules.AGENCY_KIND_WORDS.get(kind, "")


@dataclass(frozen=True)
class AgencyRules:
    """The numbers in force for one agency (its row, or the defaults)."""

    agency_id: int
    agency_name: str
    agency_address: str
    agency_phone: str
    number_prefix: str
    review_fine_citizen: int
    review_fine_organisation: int
    hearing_fine_citizen: int
    hearing_fine_organisation: int
    statement_days: int
    filing_working_days: int
    publication_working_days: int
    record_working_days: int
    extension_days: int
    payment_method: str
    reconsideration_body: str
    court: str

    def review_fine(self, party_kind: str) -> int:
        return (
            self.review_fine_citizen if party_kind == "citizen" else self.review_fine_organisation
        )

    def hearing_fine(self, party_kind: str) -> int:
        if party_kind == "citizen":
            return self.hearing_fine_citizen
        return self.hearing_fine_organisation


DEFAULT_PAYMENT = "请持本决定书到指定银行或者通过电子支付系统缴纳罚款"


def agency_rules(session: Session, agency_id: int) -> AgencyRules:
    """The agency's settings over the defaults; the appeal bodies default to the people's
    government and the court of the agency's first region (渝中区人民政府, 渝中区人民法院)."""
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise NotFound(f"no enforcement agency {agency_id}")
    row = session.get(PenaltySettings, agency_id) or PenaltySettings(agency_id=agency_id)
    place = ""
    if agency.regions:
        region = session.get(Region, agency.regions[0].region_code)
        place = region.name if region else ""

    def pick(value: int | None, default: rules.Rule) -> int:
        return default.value if value is None else value

    return AgencyRules(
        agency_id=agency.id,
        agency_name=agency.name,
        agency_address=agency.address,
        agency_phone=agency.phone,
        number_prefix=row.number_prefix or derive_prefix(agency.name, agency.kind),
        review_fine_citizen=pick(row.review_fine_citizen, rules.REVIEW_FINE_CITIZEN),
        review_fine_organisation=pick(row.review_fine_organisation, rules.REVIEW_FINE_ORGANISATION),
        hearing_fine_citizen=pick(row.hearing_fine_citizen, rules.HEARING_FINE_CITIZEN),
        hearing_fine_organisation=pick(
            row.hearing_fine_organisation, rules.HEARING_FINE_ORGANISATION
        ),
        statement_days=pick(row.statement_days, rules.STATEMENT),
        filing_working_days=pick(row.filing_working_days, rules.FILING),
        publication_working_days=pick(row.publication_working_days, rules.PUBLICATION),
        record_working_days=pick(row.record_working_days, rules.SIMPLIFIED_RECORD),
        extension_days=pick(row.extension_days, rules.EXTENSION),
        payment_method=row.payment_method or DEFAULT_PAYMENT,
        reconsideration_body=row.reconsideration_body or (f"{place}人民政府" if place else ""),
        court=row.court or (f"{place}人民法院" if place else ""),
    )


SETTING_FIELDS = (
    "number_prefix", "review_fine_citizen", "review_fine_organisation", "hearing_fine_citizen",
    "hearing_fine_organisation", "statement_days", "filing_working_days",
    "publication_working_days", "record_working_days", "extension_days", "payment_method",
    "reconsideration_body", "court",
)  # fmt: skip


def update_agency_rules(
    session: Session, who: Acting, agency_code: str, values: dict[str, object], *, now: datetime
) -> AgencyRules:
    """Change an agency's numbers (the fields given; None puts one back to its default): by
    an admin or the agency's own lead. Audited with the values before and after."""
    agency = registry.agency_by_code(session, agency_code)
    if agency is None:
        raise NotFound(f"no enforcement agency {agency_code!r}")
    if not (ADMIN in who.roles or (LEAD in who.roles and agency.id in who.agency_ids)):
        raise Forbidden(f"only an admin or the lead of {agency.name} changes its numbers")
    before = asdict(agency_rules(session, agency.id))
    row = session.get(PenaltySettings, agency.id)
    if row is None:
        row = PenaltySettings(agency_id=agency.id)
        session.add(row)
    for name in SETTING_FIELDS:
        if name in values:
            setattr(row, name, values[name])
    row.updated_at, row.updated_by = now, who.id
    session.flush()
    after = agency_rules(session, agency.id)
    actor = Actor(id=who.id, name=who.name, roles=who.roles, scope_code=who.scope_code)
    record_audit(session, Principal(actor=actor), "penalty_settings.update",
                 "enforcement_agency", agency.id, now=now, before=before,
                 after=asdict(after))  # fmt: skip
    return after

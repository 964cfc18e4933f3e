"""Who may see and do what with inspections: a person acts for an agency through their
officer row (`Officer.person_id`); officers and leads see their agencies' plans and the
visits their agencies take part in; supervisors and admins see everything. Kept apart from
the use cases so every one of them asks the same questions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cityops.cases.workflow import Actor
from cityops.enforcement.inspections import repository
from cityops.enforcement.inspections.models import Inspection, InspectionPlan, InvitationState
from cityops.errors import FieldProblem, Forbidden, Invalid, NotFound

# Act for an agency (plan, invite, respond, inspect): their officers and leads.
ACTING_ROLES = frozenset({"officer", "enforcement_lead"})
# Read within their agencies: the above and the agency's legal reviewers.
AGENCY_READ_ROLES = ACTING_ROLES | {"legal_reviewer"}
# Read everything: who supervises enforcement.
READ_ALL_ROLES = frozenset({"enforcement_supervisor", "supervisor", "admin"})
READ_ROLES = AGENCY_READ_ROLES | READ_ALL_ROLES


@dataclass(frozen=True)
class Acting:
    """A person with the agencies they act for and the officer rows they act through."""

    actor: Actor
    officer_ids: frozenset[int]
    agency_ids: frozenset[int]
    officer_by_agency: dict[int, int]

    @property
    def reads_all(self) -> bool:
        return bool(self.actor.roles & READ_ALL_ROLES)

    def has(self, *roles: str) -> bool:
        return bool(self.actor.roles & set(roles)) or "admin" in self.actor.roles

    @property
    def scope(self) -> frozenset[int] | None:
        """The agencies whose work they see; None: all."""
        return None if self.reads_all else self.agency_ids


def acting(session: Session, actor: Actor) -> Acting:
    """The agencies `actor` acts for. 403 for a person with none of the roles that read
    inspections."""
    if not actor.roles & READ_ROLES:
        raise Forbidden(f"this needs one of the roles: {', '.join(sorted(READ_ROLES))}")
    rows = repository.officers_of_person(session, actor.id) if actor.id is not None else []
    return Acting(
        actor=actor,
        officer_ids=frozenset(o.id for o in rows),
        agency_ids=frozenset(o.agency_id for o in rows),
        officer_by_agency={o.agency_id: o.id for o in rows},
    )


def for_agency(who: Acting, agency_id: int | None, *, lead: bool = False) -> int:
    """The agency `who` acts for here: the one named, or their only one. 403 when they do
    not act for it (or, with `lead`, are not its enforcement lead)."""
    roles = ("enforcement_lead",) if lead else tuple(ACTING_ROLES)
    if not who.has(*roles):
        raise Forbidden(f"this needs the role {' or '.join(roles)} of the agency")
    if agency_id is None:
        if len(who.agency_ids) == 1:
            return next(iter(who.agency_ids))
        if not who.agency_ids:
            raise Forbidden("you are not recorded as an officer of any enforcement agency")
        raise Invalid(
            "you act for several agencies: name one",
            errors=[FieldProblem("agency_id", "required: you act for several")],
        )
    if agency_id not in who.agency_ids:
        raise Forbidden("you do not act for that agency")
    return agency_id


def see_plan(who: Acting, plan: InspectionPlan, inspections: list[Inspection]) -> None:
    """404 for a plan they may not see (as if it did not exist: its existence is not theirs
    to know)."""
    if who.reads_all or plan.initiator_agency_id in who.agency_ids:
        return
    if any(a.agency_id in who.agency_ids for i in inspections for a in i.agencies):
        return
    raise NotFound(f"no plan {plan.id}")


def see_inspection(who: Acting, inspection: Inspection) -> None:
    if who.reads_all or any(a.agency_id in who.agency_ids for a in inspection.agencies):
        return
    raise NotFound(f"no inspection {inspection.id}")


def on_site_officer(who: Acting, inspection: Inspection) -> tuple[int, int]:
    """The (officer id, agency id) through which `who` is on this visit: named on it for an
    agency that takes part. 403 otherwise."""
    if not who.has(*ACTING_ROLES):
        raise Forbidden("this needs the role officer or enforcement_lead")
    taking_part = {a.agency_id for a in inspection.agencies if a.state == InvitationState.ACCEPTED}
    for row in inspection.officers:
        if row.officer_id in who.officer_ids and row.agency_id in taking_part:
            return row.officer_id, row.agency_id
    raise Forbidden("you are not an officer on this inspection")


def of_lead_agency(who: Acting, inspection: Inspection) -> int:
    """The officer id through which `who` acts for the visit's lead agency; 403 otherwise."""
    if not who.has(*ACTING_ROLES) or inspection.lead_agency_id not in who.agency_ids:
        raise Forbidden("only the lead agency's officers may do this")
    return who.officer_by_agency[inspection.lead_agency_id]

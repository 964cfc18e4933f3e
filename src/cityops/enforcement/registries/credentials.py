"""Whether a team of officers may act in a region on a day: valid certificates, active,
within their regions, and enough of them. Pure: the facts come in, the problems go out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from cityops.errors import FieldProblem, Invalid

# Administrative Penalty Law (2021) Art. 42 para. 1: penalties are imposed by officers with
# enforcement credentials, no fewer than two unless a law provides otherwise; Art. 55:
# officers show their certificates when they investigate or inspect.
MIN_OFFICERS = 2
MIN_OFFICERS_BASIS = "《中华人民共和国行政处罚法》第四十二条第一款"
CERTIFICATE_BASIS = "《中华人民共和国行政处罚法》第四十二条第一款、第五十五条第一款"
# Our own notice period, not a legal one: long enough to renew a certificate in time.
EXPIRY_WARNING_DAYS = 30


class ProblemKind(StrEnum):
    UNKNOWN = "unknown"  # no such officer
    INACTIVE = "inactive"  # the officer, or their agency, is not active
    NOT_YET_VALID = "not_yet_valid"  # the certificate starts later
    EXPIRED = "expired"  # the certificate ended
    OUTSIDE_REGION = "outside_region"  # the region is not one of theirs
    TOO_FEW = "too_few"  # fewer qualified officers than the law requires
    EXPIRING_SOON = "expiring_soon"  # a warning: the certificate ends within the notice period


@dataclass(frozen=True)
class OfficerFacts:
    """What the check needs to know of an officer."""

    id: int
    name: str
    certificate_number: str
    active: bool
    agency_name: str
    agency_active: bool
    valid_from: date
    valid_until: date
    regions: tuple[str, ...]  # the certificate's, or else the agency's jurisdiction


@dataclass(frozen=True)
class OfficerProblem:
    kind: ProblemKind
    officer_id: int | None
    name: str | None
    certificate_number: str | None
    message: str
    blocking: bool = True
    basis: str = ""


@dataclass(frozen=True)
class OfficerCheck:
    """The problems found for the officers `requested` (in the order asked); `ok` when none
    of them blocks."""

    requested: tuple[int, ...] = ()
    problems: list[OfficerProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.blocking for p in self.problems)

    @property
    def blocking(self) -> list[OfficerProblem]:
        return [p for p in self.problems if p.blocking]

    def raise_if_blocked(self, path: str = "officer_ids") -> None:
        """Raise Invalid naming each officer's blocking problem (`officer_ids.<i>`)."""
        if self.ok:
            return
        where = {officer_id: i for i, officer_id in reversed(list(enumerate(self.requested)))}
        errors = [
            FieldProblem(
                f"{path}.{where[p.officer_id]}" if p.officer_id in where else path, p.message
            )
            for p in self.blocking
        ]
        raise Invalid(
            "these officers may not act here on that day",
            errors=errors,
            problems=[
                {"kind": p.kind.value, "officer_id": p.officer_id, "message": p.message}
                for p in self.blocking
            ],
        )


def covers(regions: Sequence[str], region_code: str) -> bool:
    """A region code covers itself and every region below it (its code is a prefix)."""
    return any(region_code.startswith(code) for code in regions)


def judge_officers(
    requested: Sequence[int],
    officers: Sequence[OfficerFacts],
    region_code: str,
    on: date,
    *,
    minimum: int = MIN_OFFICERS,
    warn_within_days: int = EXPIRY_WARNING_DAYS,
) -> OfficerCheck:
    """Every problem of each requested officer (asked for twice counts once), then whether
    enough remain qualified. An expired or not-yet-valid certificate blocks."""
    known = {o.id: o for o in officers}
    problems: list[OfficerProblem] = []
    qualified = 0
    for officer_id in dict.fromkeys(requested):
        officer = known.get(officer_id)
        if officer is None:
            problems.append(
                OfficerProblem(
                    ProblemKind.UNKNOWN,
                    officer_id,
                    None,
                    None,
                    f"officer {officer_id}: no such officer",
                )
            )
            continue
        found = _problems_of(officer, region_code, on, warn_within_days)
        problems.extend(found)
        if not any(p.blocking for p in found):
            qualified += 1
    if qualified < minimum:
        message = (
            f"{qualified} qualified officer(s) of {len(dict.fromkeys(requested))}: "
            f"at least {minimum} must act together"
        )
        problems.append(
            OfficerProblem(ProblemKind.TOO_FEW, None, None, None, message, basis=MIN_OFFICERS_BASIS)
        )
    return OfficerCheck(tuple(requested), problems)


def _problems_of(
    o: OfficerFacts, region_code: str, on: date, warn_days: int
) -> list[OfficerProblem]:
    who = f"{o.name} ({o.certificate_number})"
    found: list[tuple[ProblemKind, str, bool]] = []
    if not o.active:
        found.append((ProblemKind.INACTIVE, f"{who} is not an active officer", True))
    if not o.agency_active:
        found.append((ProblemKind.INACTIVE, f"{who}: {o.agency_name} is not active", True))
    if on < o.valid_from:
        message = f"{who}: the certificate is valid from {o.valid_from.isoformat()}"
        found.append((ProblemKind.NOT_YET_VALID, message, True))
    elif on > o.valid_until:
        message = f"{who}: the certificate expired on {o.valid_until.isoformat()}"
        found.append((ProblemKind.EXPIRED, message, True))
    elif o.valid_until - on < timedelta(days=warn_days):
        message = f"{who}: the certificate expires on {o.valid_until.isoformat()}"
        found.append((ProblemKind.EXPIRING_SOON, message, False))
    if not covers(o.regions, region_code):
        where = ", ".join(o.regions) or "none"
        message = f"{who} may not act in {region_code} (their regions: {where})"
        found.append((ProblemKind.OUTSIDE_REGION, message, True))
    return [
        OfficerProblem(
            kind,
            o.id,
            o.name,
            o.certificate_number,
            message,
            blocking,
            CERTIFICATE_BASIS if blocking else "",
        )
        for kind, message, blocking in found
    ]

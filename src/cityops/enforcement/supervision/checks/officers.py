"""Checks of the officers on each act (officer_certificate): a certificate not valid that
day, a region outside theirs, an agency not their own. Over every inspection's officers and
every penalty step's officer list, in one query per table; with what `staffing` shares."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from cityops.enforcement.businesses.models import Business
from cityops.enforcement.inspections.models import Inspection, InspectionOfficer
from cityops.enforcement.penalties.models import PenaltyCase, PenaltyStep
from cityops.enforcement.registries.models import Officer
from cityops.enforcement.supervision.checks.common import (
    Env,
    Hit,
    Reach,
    among,
    ensure_date,
    json_ints,
    json_value_int,
    local_day,
    pairs,
    typed,
    ymd,
)
from cityops.enforcement.supervision.models import SubjectType
from cityops.enforcement.supervision.rules import OfficerCertificateParams

I, IO, O = Inspection, InspectionOfficer, Officer  # noqa: E741 (the queries' table aliases)
CANCELLED = "cancelled"
PROBLEM_NAMES_ZH = {
    "unknown": "不在执法人员名录中",
    "not_yet_valid": "执法证尚未生效",
    "expired": "执法证已过期",
    "outside_region": "超出其执法区域",
    "other_agency": "代表非所属机构执法",
}


def _problems(row: Any) -> list[str]:
    if row.officer_known is None:
        return ["unknown"]
    found = []
    if row.not_yet_valid:
        found.append("not_yet_valid")
    if row.expired:
        found.append("expired")
    if row.outside_region:
        found.append("outside_region")
    if row.other_agency:
        found.append("other_agency")
    return found


def _officer_entry(row: Any, problems: list[str]) -> dict[str, Any]:
    return {
        "officer_id": row.officer_id,
        "name": row.officer_name,
        "certificate_number": row.certificate_number,
        "valid_from": ymd(ensure_date(row.valid_from)),
        "valid_until": ymd(ensure_date(row.valid_until)),
        "officer_agency_id": row.officer_agency_id,
        "problems": problems,
    }


def _describe(entry: dict[str, Any], region: str | None) -> str:
    who = f"{entry['name'] or '编号' + str(entry['officer_id'])}"
    if entry["certificate_number"]:
        who += f"（证号{entry['certificate_number']}）"
    reasons = []
    for problem in entry["problems"]:
        text = PROBLEM_NAMES_ZH[problem]
        if problem == "expired":
            text += f"（有效期至{entry['valid_until']}）"
        elif problem == "not_yet_valid":
            text += f"（自{entry['valid_from']}起有效）"
        elif problem == "outside_region" and region:
            text += f"（{region}）"
        reasons.append(text)
    return who + "、".join(reasons)


def span(session: Session, env: Env, instant: Any) -> tuple[date, date]:
    """The first and last local day of the acts checked: a certificate valid across the
    whole of it needs no day-by-day test (most are). Read once an evaluation."""
    key = f"span:{instant}"
    if key not in env.memo:
        first = session.scalar(select(func.min(instant)))
        if isinstance(first, str):  # an aggregate of a timestamp comes back as SQLite's text
            first = datetime.fromisoformat(first).replace(tzinfo=UTC)
        start = first.astimezone(env.calendar.zone).date() if first is not None else env.today
        env.memo[key] = (min(start, env.today), env.today)
    found: tuple[date, date] = env.memo[key]
    return found


def certified(day: Any, whole: tuple[date, date]) -> Any:
    """The officer's certificate is valid on the day."""
    throughout = and_(O.valid_from <= whole[0], O.valid_until >= whole[1])
    return case((throughout, true()), else_=and_(day >= O.valid_from, day <= O.valid_until))


def _flags(
    p: OfficerCertificateParams, day: Any, whole: tuple[date, date], agency: Any, reach: Reach
) -> dict[str, Any]:
    """The problem columns of an (officer, act) row, cheapest first: the condition that
    one is true tests them in this order and stops at the first."""
    throughout = and_(O.valid_from <= whole[0], O.valid_until >= whole[1])
    return {
        "officer_known": O.id,
        "other_agency": O.agency_id != agency if p.check_agency else false(),
        "not_yet_valid": case((throughout, false()), else_=day < O.valid_from),
        "expired": case((throughout, false()), else_=day > O.valid_until),
        "outside_region": reach.outside if p.check_region else false(),
    }


def _by_subject(rows: Any, *keys: str) -> dict[int, list[Any]]:
    """Rows by their subject's id, each (subject, keys…) once: an officer whose regions
    cover an act's region twice (a district and a street of it) comes back twice."""
    grouped: dict[int, list[Any]] = defaultdict(list)
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        key = (row.id, *(getattr(row, k) for k in keys))
        if key not in seen:
            seen.add(key)
            grouped[row.id].append(row)
    return grouped


def business_names(session: Session, env: Env, ids: list[int]) -> dict[int, str]:
    """The names of the businesses of the hits (read for the hits only)."""
    found: dict[int, str] = {}
    for among_them in among(env, Business.id, ids):
        found |= pairs(session.execute(select(Business.id, Business.name).where(among_them)))
    return found


def officer_certificate(session: Session, params: Any, env: Env) -> list[Hit]:
    """Officers on a visit or a penalty step whose certificate was not valid that day, who
    acted outside their regions (the certificate's, or their agency's jurisdiction), or for
    an agency not their own. One flag per inspection or case, naming every officer."""
    p: OfficerCertificateParams = typed(params, OfficerCertificateParams)
    return _certificate_on_inspections(session, p, env) + _certificate_on_steps(session, p, env)


def _certificate_on_inspections(
    session: Session, p: OfficerCertificateParams, env: Env
) -> list[Hit]:
    day = local_day(env, func.coalesce(I.started_at, I.scheduled_at))
    reach = Reach.make()
    cols = _flags(p, day, span(session, env, I.started_at), IO.agency_id, reach)
    query = (
        select(
            I.id,
            I.business_id,
            I.lead_agency_id,
            I.region_code,
            day.label("day"),
            IO.officer_id,
            IO.agency_id.label("acting_agency_id"),
            O.name.label("officer_name"),
            O.certificate_number,
            O.valid_from,
            O.valid_until,
            O.agency_id.label("officer_agency_id"),
            *(c.label(k) for k, c in cols.items()),
        )
        .select_from(IO)
        .join(I, I.id == IO.inspection_id)
        .outerjoin(O, O.id == IO.officer_id)
    )
    query = reach.join(query, O.id, O.agency_id, I.region_code).where(
        I.started_at.is_not(None),
        I.state != CANCELLED,
        or_(O.id.is_(None), *(c for k, c in cols.items() if k != "officer_known")),
    )
    grouped = _by_subject(session.execute(query), "officer_id")
    names = business_names(session, env, [rows[0].business_id for rows in grouped.values()])
    hits = []
    for inspection_id, rows in grouped.items():
        first = rows[0]
        on = ensure_date(first.day)
        entries = [
            _officer_entry(r, _problems(r)) | {"acting_agency_id": r.acting_agency_id} for r in rows
        ]
        # The agency answerable: the one the first named officer acted for.
        agency = first.acting_agency_id
        name = names.get(first.business_id)
        place = f"对“{name}”的检查" if name else "检查"
        message = (
            f"{place}（编号{inspection_id}，{ymd(on)}）中，"
            + "；".join(_describe(e, first.region_code) for e in entries)
            + "。"
        )
        evidence = {
            "inspection_id": inspection_id,
            "day": ymd(on),
            "region_code": first.region_code,
            "business_id": first.business_id,
            "officers": entries,
        }
        hits.append(
            Hit(
                SubjectType.INSPECTION,
                inspection_id,
                agency,
                first.region_code,
                first.business_id,
                on,
                evidence,
                message,
            )
        )
    return hits


def _certificate_on_steps(session: Session, p: OfficerCertificateParams, env: Env) -> list[Hit]:
    s, c = PenaltyStep, PenaltyCase
    day = local_day(env, s.at)
    named = json_ints(env, s.officer_ids, "named")
    officer_id = json_value_int(named)
    reach = Reach.make()
    cols = _flags(p, day, span(session, env, s.at), c.agency_id, reach)
    query = (
        select(
            c.id,
            c.number,
            c.agency_id,
            c.region_code,
            c.business_id,
            s.id.label("step_id"),
            s.kind,
            day.label("day"),
            officer_id.label("officer_id"),
            O.name.label("officer_name"),
            O.certificate_number,
            O.valid_from,
            O.valid_until,
            O.agency_id.label("officer_agency_id"),
            *(col.label(k) for k, col in cols.items()),
        )
        .select_from(s)
        .join(c, c.id == s.case_id)
        .join(named, true())
        .outerjoin(O, O.id == officer_id)
    )
    query = reach.join(query, O.id, O.agency_id, c.region_code).where(
        or_(O.id.is_(None), *(col for k, col in cols.items() if k != "officer_known"))
    )
    if p.step_kinds:
        query = query.where(s.kind.in_(p.step_kinds))
    grouped = _by_subject(session.execute(query), "step_id", "officer_id")
    hits = []
    for case_id, rows in grouped.items():
        first = rows[0]
        steps: dict[int, dict[str, Any]] = {}
        for r in rows:
            step = steps.setdefault(
                r.step_id,
                {
                    "step_id": r.step_id,
                    "kind": r.kind,
                    "day": ymd(ensure_date(r.day)),
                    "officers": [],
                },
            )
            step["officers"].append(_officer_entry(r, _problems(r)))
        case_label = f"案件{first.number}" if first.number else f"案件（编号{case_id}）"
        parts = [
            f"{st['day']}的{st['kind']}环节："
            + "；".join(_describe(e, first.region_code) for e in st["officers"])
            for st in steps.values()
        ]
        message = f"{case_label}" + "；".join(parts) + "。"
        on = min(ensure_date(r.day) for r in rows)  # type: ignore[type-var]
        evidence = {
            "case_id": case_id,
            "case_number": first.number,
            "region_code": first.region_code,
            "steps": list(steps.values()),
        }
        hits.append(
            Hit(
                SubjectType.PENALTY_CASE,
                case_id,
                first.agency_id,
                first.region_code,
                first.business_id,
                on,
                evidence,
                message,
            )
        )
    return hits

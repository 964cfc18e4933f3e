"""Residents' requests to CSV or XLSX, for the centre's reports: personal data masked
unless the export is asked for with contacts (which the audit trail records)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityops.auth.service import record_audit
from cityops.cases.models import Case
from cityops.citizens import repository
from cityops.citizens.models import CitizenRequest, CitizenService
from cityops.citizens.service import mask_email, mask_name, mask_phone
from cityops.kit.privacy import mask_personal
from cityops.kit.tabular import write_table

COLUMNS = [
    "ticket", "channel", "requested_at", "service_code", "service_name", "case_id",
    "case_state", "routing", "joined", "description", "address", "lon", "lat", "first_name",
    "last_name", "phone", "email", "phone_verified", "rating", "rating_comment", "callbacks",
    "last_callback_rating",
]  # fmt: skip


def export_requests(
    session: Session,
    path: Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    with_contacts: bool = False,
    now: datetime,
) -> int:
    """Requests made in [since, until), oldest first. Returns how many were written."""
    query = select(CitizenRequest, Case.state).outerjoin(Case, Case.id == CitizenRequest.case_id)
    if since is not None:
        query = query.where(CitizenRequest.requested_at >= since)
    if until is not None:
        query = query.where(CitizenRequest.requested_at < until)
    rows = list(session.execute(query.order_by(CitizenRequest.requested_at, CitizenRequest.id)))
    names = {s.code: s.name for s in session.scalars(select(CitizenService))}
    callbacks = repository.callbacks_of(session, [r.id for r, _ in rows])

    def line(r: CitizenRequest, state: str | None) -> dict[str, Any]:
        made = callbacks.get(r.id, [])
        return {
            "ticket": r.token, "channel": r.channel, "requested_at": r.requested_at.isoformat(),
            "service_code": r.service_code, "service_name": names.get(r.service_code or ""),
            "case_id": r.case_id, "case_state": state, "routing": r.routing,
            "joined": r.joined,
            "description": r.description if with_contacts else mask_personal(r.description),
            "address": r.address_string, "lon": r.lon, "lat": r.lat,
            "first_name": r.first_name if with_contacts else mask_name(r.first_name),
            "last_name": r.last_name if with_contacts else mask_name(r.last_name),
            "phone": r.phone if with_contacts else mask_phone(r.phone),
            "email": r.email if with_contacts else mask_email(r.email),
            "phone_verified": r.phone_verified, "rating": r.rating,
            "rating_comment": r.rating_comment, "callbacks": len(made),
            "last_callback_rating": made[-1].rating if made else None,
        }  # fmt: skip

    count = write_table(path, COLUMNS, (line(r, state) for r, state in rows))
    if with_contacts:
        record_audit(session, None, "citizens.export_with_contacts", "citizen_request", "*",
                     now=now, after={"file": path.name, "rows": count})  # fmt: skip
    return count

"""Signatures for the on-site record (现场检查笔录), drawn on an officer's phone: the party's
(当事人或现场负责人) and each officer's on the visit, a PNG kept in blob storage like the
findings' photos, printed in the record's signature area when the record is issued.

An officer on the visit takes them while it is in progress or after it finished, until the
record is issued (what is signed afterwards would be on no record)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cityops.cases.workflow import Actor
from cityops.enforcement.inspections import access, repository
from cityops.enforcement.inspections.models import (
    Inspection,
    InspectionState,
    InvitationState,
    Signature,
    SignerRole,
)
from cityops.enforcement.inspections.service import audit, visible_inspection
from cityops.errors import Conflict, FieldProblem, Invalid, NotFound, PayloadTooLarge
from cityops.kit.storage import BlobStorage, new_key

PNG = "image/png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_NAME = 60
# The page sends 600 × 240 (the box's 5 : 2); a signature is a wide strip, never a photo.
MAX_BYTES = 512 * 1024
MIN_SIZE, MAX_SIZE = (100, 40), (2400, 1200)
# The states in which the visit has been on site: in progress, or finished since.
SIGNABLE = frozenset(InspectionState) - {InspectionState.SCHEDULED, InspectionState.CANCELLED}


@dataclass(frozen=True)
class SignatureIn:
    """A signature as the form sends it."""

    role: str
    name: str
    officer_id: int | None
    png: bytes


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height of a PNG, read from its header (IHDR, checked by its CRC), and
    the whole image decodable. Invalid naming `file` otherwise."""

    def bad(why: str) -> Invalid:
        return Invalid(f"file: {why}", errors=[FieldProblem("file", why)])

    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(
            f"file: {len(data)} bytes; at most {MAX_BYTES}",
            errors=[FieldProblem("file", f"larger than {MAX_BYTES // 1024} KiB")],
        )
    if not data.startswith(PNG_MAGIC) or len(data) < 33 or data[12:16] != b"IHDR":
        raise bad("not a PNG")
    (length,) = struct.unpack(">I", data[8:12])
    (crc,) = struct.unpack(">I", data[29:33])
    if length != 13 or zlib.crc32(data[12:29]) != crc:
        raise bad("a damaged PNG header")
    width, height = struct.unpack(">II", data[16:24])
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise bad(
            f"{width} × {height} pixels; a signature is {MIN_SIZE[0]}–{MAX_SIZE[0]} wide and "
            f"{MIN_SIZE[1]}–{MAX_SIZE[1]} high"
        )
    if width < height:
        raise bad(f"{width} × {height} pixels: a signature is wider than high")
    import cv2  # decoding proves the image data whole, not only its header
    import numpy as np

    if cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) is None:
        raise bad("the PNG's image data cannot be read")
    return width, height


def _check(inspection: Inspection, body: SignatureIn) -> tuple[str, int | None]:
    """The signer's name (the registry's, for an officer) and officer id."""
    name = body.name.strip()
    problems = []
    if not name:
        problems.append(FieldProblem("name", "required"))
    elif len(name) > MAX_NAME:
        problems.append(FieldProblem("name", f"at most {MAX_NAME} characters"))
    if body.role == SignerRole.PARTY:
        if body.officer_id is not None:
            problems.append(FieldProblem("officer_id", "only for an officer's signature"))
    elif body.role == SignerRole.OFFICER:
        taking_part = {
            a.agency_id for a in inspection.agencies if a.state == InvitationState.ACCEPTED
        }
        on_visit = {o.officer_id for o in inspection.officers if o.agency_id in taking_part}
        if body.officer_id is None:
            problems.append(FieldProblem("officer_id", "required for an officer's signature"))
        elif body.officer_id not in on_visit:
            problems.append(FieldProblem("officer_id", "not an officer on this inspection"))
    else:
        problems.append(FieldProblem("role", "party or officer"))
    if problems:
        raise Invalid("; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems)
    return name, body.officer_id


def sign(
    session: Session,
    storage: BlobStorage,
    actor: Actor,
    inspection_id: int,
    body: SignatureIn,
    *,
    now: datetime,
    request_key: str | None = None,
) -> tuple[Signature, bool]:
    """Keep a signature taken on the caller's phone (an officer on the visit). Returns it and
    whether it was kept now; a resend under the same idempotency key returns the first."""
    who = access.acting(session, actor)
    inspection = visible_inspection(session, who, inspection_id, lock=True)
    taken_by, _ = access.on_site_officer(who, inspection)
    if request_key is not None:
        earlier = repository.signature_by_request_key(session, taken_by, request_key)
        if earlier is not None:
            if earlier.inspection_id != inspection.id:
                raise Conflict(
                    f"the idempotency key {request_key!r} was used for another inspection"
                )
            return earlier, False
    if inspection.state not in SIGNABLE:
        raise Conflict(
            f"signatures are taken on site: the inspection is {inspection.state}",
            current=inspection.state,
            allowed=sorted(SIGNABLE),
        )
    if repository.record_documents(session, inspection.id):
        raise Conflict("the on-site record was issued already: it cannot take new signatures")
    name, officer_id = _check(inspection, body)
    if officer_id is not None:
        registered = repository.officers(session, [officer_id])[officer_id].name
        if name != registered:
            raise Invalid(
                f"name: the officer is {registered}",
                errors=[FieldProblem("name", f"the officer's name is {registered}")],
            )
    png_size(body.png)
    key = storage.put(new_key(f"inspections/{inspection.id}/signatures", "sign.png"), body.png, PNG)
    row = Signature(
        inspection_id=inspection.id, role=body.role, name=name, officer_id=officer_id,
        storage_key=key.key, signed_at=now, taken_by=taken_by, request_key=request_key,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit(
        session, actor, "inspection.signature", "inspection", inspection.id, now,
        signature_id=row.id, role=row.role, name=name, officer_id=officer_id,
    )  # fmt: skip
    return row, True


def current(rows: list[Signature]) -> list[Signature]:
    """Each signer's latest signature (the party's, each officer's), in the order signed."""
    latest: dict[tuple[str, int | None], Signature] = {}
    for row in sorted(rows, key=lambda s: (s.signed_at, s.id)):
        latest[(row.role, row.officer_id)] = row
    return sorted(latest.values(), key=lambda s: (s.signed_at, s.id))


def listed(session: Session, actor: Actor, inspection_id: int) -> list[Signature]:
    """The visit's signatures, each signer's latest, for those who may see the visit."""
    who = access.acting(session, actor)
    visible_inspection(session, who, inspection_id)
    return current(repository.signatures(session, inspection_id))


def image(
    session: Session, storage: BlobStorage, actor: Actor, inspection_id: int, signature_id: int
) -> bytes:
    """One signature's PNG, for those who may see the visit."""
    who = access.acting(session, actor)
    visible_inspection(session, who, inspection_id)
    row = session.get(Signature, signature_id)
    if row is None or row.inspection_id != inspection_id:
        raise NotFound(f"no signature {signature_id} on inspection {inspection_id}")
    return b"".join(storage.open(row.storage_key))

"""Residents' reports taken in from the public page and the hotline (热线受理): the phone
proven by a code, the class decided (the resident's or call-taker's choice, the classifier
when it is sure enough, else a person later), the report joined to an open case it is about
(close in place, time and meaning), photos stored, and the ticket to follow it by.

Everything runs in the caller's transaction; the caller commits and, after the commit,
sends what must leave the system (the verification text).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cityops.cases.intake import IntakeEnv, Signal, intake
from cityops.cases.models import Case, CaseAttachment
from cityops.cases.service import Picture
from cityops.cases.workflow import Actor
from cityops.citizens import repository
from cityops.citizens.classify import Classifier, Suggestion
from cityops.citizens.models import CitizenRequest, CitizenService, PhoneCode
from cityops.citizens.schemas import HotlineIn, PublicReportIn
from cityops.errors import FieldProblem, Forbidden, Invalid, PayloadTooLarge, TooManyRequests
from cityops.geo.nearest import metres_per_deg_lon
from cityops.ingest.schemas import EventIn
from cityops.kit.storage import BlobStorage, new_key

# Tickets: 12 characters of Crockford's alphabet (no I, L, O, U to misread), 60 bits:
# unguessable, yet short enough to read out on the phone. Grouped by four.
TICKET_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_MISREAD = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_ticket(rng: random.Random | None = None) -> str:
    """A new ticket; from `rng` where it must be reproducible (the demo)."""
    choice = rng.choice if rng is not None else secrets.choice
    chars = "".join(choice(TICKET_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def normalise_ticket(text: str) -> str:
    """A ticket as typed (any case, spaces or dashes anywhere, O for 0) as it is stored;
    an older token (Open311's) as it is."""
    raw = re.sub(r"[\s\-]", "", text).upper().translate(_MISREAD)
    if len(raw) == 12 and all(c in TICKET_ALPHABET for c in raw):
        return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    return text.strip()


# -- phone codes ---------------------------------------------------------------------------

CODE_TTL = timedelta(minutes=5)
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_PHONE_HOUR = 5
CODES_PER_CLIENT_HOUR = 20  # one address asking for many phones is someone's script
MAX_ATTEMPTS = 5


def _code_hash(secret: str, phone: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def issue_phone_code(session: Session, secret: str, phone: str, client: str, now: datetime) -> str:
    """A new code for `phone`, recorded (as a keyed hash); the caller sends it after the
    commit. Refused while the last one is fresh, and beyond a few an hour per phone and per
    client address."""
    recent = repository.phone_codes_since(session, phone, now - timedelta(hours=1))
    if recent and now - recent[0].created_at < RESEND_AFTER:
        wait = math.ceil((RESEND_AFTER - (now - recent[0].created_at)).total_seconds())
        raise TooManyRequests(f"phone: a code was just sent; ask again in {wait} s",
                              errors=[FieldProblem("phone", f"wait {wait} s")],
                              retry_after=wait)  # fmt: skip
    if len(recent) >= CODES_PER_PHONE_HOUR:
        raise TooManyRequests(
            "phone: too many codes for this phone; try again in an hour",
            errors=[FieldProblem("phone", "too many codes this hour")],
        )
    if (
        client
        and repository.codes_from_client_since(session, client, now - timedelta(hours=1))
        >= CODES_PER_CLIENT_HOUR
    ):
        raise TooManyRequests("too many codes asked for from this address; try again later")
    code = f"{secrets.randbelow(1_000_000):06d}"
    hashed = _code_hash(secret, phone, code)
    session.add(PhoneCode(phone=phone, code_hash=hashed, client=client[:64], created_at=now,
                          expires_at=now + CODE_TTL))  # fmt: skip
    return code


def code_message(code: str) -> str:
    minutes = int(CODE_TTL.total_seconds() // 60)
    return f"【城市运行和治理中心】您的验证码是{code}，{minutes}分钟内有效，请勿告诉他人。"


def check_phone_code(session: Session, secret: str, phone: str, code: str, now: datetime) -> bool:
    """Whether `code` is the phone's live code; every try counts, so run this in a
    transaction of its own that is committed whatever the answer."""
    live = next((c for c in repository.phone_codes_since(session, phone, now - CODE_TTL)
                 if c.used_at is None and c.expires_at > now), None)  # fmt: skip
    if live is None or live.attempts >= MAX_ATTEMPTS:
        return False
    live.attempts += 1
    return hmac.compare_digest(live.code_hash, _code_hash(secret, phone, code))


def use_phone_code(session: Session, secret: str, phone: str, code: str, now: datetime) -> None:
    """Spend the phone's live code on the report being taken in."""
    for c in repository.phone_codes_since(session, phone, now - CODE_TTL):
        matches = hmac.compare_digest(c.code_hash, _code_hash(secret, phone, code))
        if c.used_at is None and c.expires_at > now and matches:
            c.used_at = now
            return
    raise Invalid("code: wrong or expired; ask for a new one",
                  errors=[FieldProblem("code", "wrong or expired")])  # fmt: skip


# -- routing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routed:
    """The class a report goes under and how it was decided: `chosen` (by the resident or
    call-taker), `automatic` (the classifier was sure enough), `call_taker` (left for a
    person); the classifier's top three either way, and its confidence in the class."""

    class_code: str | None
    routing: str
    suggestions: list[Suggestion]
    confidence: float | None


def route(classifier: Classifier, threshold: float, text: str, chosen: str | None,
          *, trusted: bool) -> Routed:  # fmt: skip
    """Decide the class of a report. A `trusted` choice (a call-taker's) is taken as sure;
    a resident's choice is taken, and counts as sure only when the classifier agrees with
    it at the threshold."""
    suggestions = classifier.suggest(text, k=3)
    top = suggestions[0] if suggestions else None
    sure = top is not None and top.confidence >= threshold
    if chosen is not None:
        if trusted:
            return Routed(chosen, "chosen", suggestions, 1.0)
        agrees = sure and top is not None and top.class_code == chosen
        return Routed(chosen, "automatic" if agrees else "chosen", suggestions,
                      top.confidence if agrees and top is not None else None)  # fmt: skip
    if sure and top is not None:
        return Routed(top.class_code, "automatic", suggestions, top.confidence)
    return Routed(None, "call_taker", suggestions, None)


# -- duplicates by meaning ---------------------------------------------------------------

DUPLICATE_RADIUS_M = 150.0
DUPLICATE_WINDOW = timedelta(days=3)
# Above this (see `similarity`) two reports tell of the same problem.
DUPLICATE_SIMILARITY = 0.5
SIMILARITY_CLASSES = 10
METRES_PER_DEG_LAT = 111_320.0


def similarity(classifier: Classifier, a: str, b: str) -> float:
    """How alike two texts are in what they are about (0–1): the cosine of the chances the
    classifier gives each class for them. Words that tell nothing of a problem (a street's
    name, "for days") do not count; two ways of saying one thing ("路灯不亮", "这条路的路灯
    坏了") do, whatever class each is finally filed under."""
    pa = {s.class_code: s.confidence for s in classifier.suggest(a, k=SIMILARITY_CLASSES)}
    pb = {s.class_code: s.confidence for s in classifier.suggest(b, k=SIMILARITY_CLASSES)}
    dot = sum(v * pb[k] for k, v in pa.items() if k in pb)
    na = math.sqrt(sum(v * v for v in pa.values()))
    nb = math.sqrt(sum(v * v for v in pb.values()))
    return dot / (na * nb) if na and nb else 0.0


def same_problem(session: Session, classifier: Classifier, text: str, lon: float, lat: float,
                 now: datetime) -> Case | None:  # fmt: skip
    """The open case nearby, recently reported, whose description says what `text` says
    (the most alike), if any."""
    margin = DUPLICATE_RADIUS_M / min(metres_per_deg_lon(lat), METRES_PER_DEG_LAT)
    best: tuple[float, Case] | None = None
    for case in repository.open_cases_around(session, lon, lat, margin_deg=margin,
                                             since=now - DUPLICATE_WINDOW, limit=50):  # fmt: skip
        dx = (case.lon - lon) * metres_per_deg_lon(lat)
        dy = (case.lat - lat) * METRES_PER_DEG_LAT
        if math.hypot(dx, dy) > DUPLICATE_RADIUS_M:
            continue
        score = similarity(classifier, text, case.description)
        if score >= DUPLICATE_SIMILARITY and (best is None or score > best[0]):
            best = (score, case)
    return best[1] if best else None


# -- taking a report in ----------------------------------------------------------------

MAX_PHOTOS = 3
PHOTO_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def photo_type(data: bytes) -> str | None:
    """The picture's type by its first bytes (what a browser says is not evidence)."""
    for magic, kind in PHOTO_TYPES.items():
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_photos(photos: list[Picture], max_bytes: int) -> None:
    """Refuse the whole report for one bad photo, naming it: nothing is half-written."""
    if len(photos) > MAX_PHOTOS:
        raise Invalid(f"photos: at most {MAX_PHOTOS}",
                      errors=[FieldProblem("photos", f"at most {MAX_PHOTOS}")])  # fmt: skip
    for n, p in enumerate(photos):
        assert isinstance(p.data, bytes)
        if len(p.data) > max_bytes:
            raise PayloadTooLarge(
                f"photos.{n}: {len(p.data)} bytes; at most {max_bytes}",
                errors=[FieldProblem(f"photos.{n}", f"larger than {max_bytes // 2**20} MiB")],
            )
        if photo_type(p.data) is None:
            what = "not a JPEG, PNG or WebP picture"
            raise Invalid(f"photos.{n}: {what}", errors=[FieldProblem(f"photos.{n}", what)])


@dataclass(frozen=True)
class Report:
    """A report ready to take in, whatever the channel."""

    channel: str  # web, hotline
    source: str
    external_id: str
    ticket: str
    kind: str  # the event's source kind: citizen, hotline
    description: str
    lon: float
    lat: float
    address: str | None
    service: CitizenService | None
    routed: Routed
    reporter_id: int | None
    reporter_name: str
    reporter_role: str
    name: str | None = None
    phone: str | None = None
    phone_verified: bool = False
    taken_by: int | None = None
    photos: list[Picture] = field(default_factory=list)


@dataclass(frozen=True)
class Taken:
    request: CitizenRequest
    repeat: bool
    routed: Routed | None = None


def take(session: Session, env: IntakeEnv, storage: BlobStorage, classifier: Classifier,
         report: Report) -> Taken:  # fmt: skip
    """Record the report as an event for intake (a new case, or the open case it is about)
    and as the resident's request, with its photos on the case."""
    earlier = repository.request_by_external_id(session, report.source, report.external_id)
    if earlier is not None:
        return Taken(earlier, repeat=True)
    routed = report.routed
    about = same_problem(session, classifier, report.description, report.lon, report.lat,
                         env.now)  # fmt: skip
    prefix = f"【{report.service.name}】" if report.service is not None else ""
    event = EventIn.model_validate({
        "source": report.source, "external_id": report.external_id, "kind": report.kind,
        "location": {"lon": report.lon, "lat": report.lat},
        "occurred_at": env.now.isoformat(), "description": (prefix + report.description)[:2000],
        "address": report.address, "class_code": routed.class_code,
        "confidence": routed.confidence,
    })  # fmt: skip
    signal = Signal(index=0, event=event, source=report.source, reporter_id=report.reporter_id,
                    reporter_name=report.reporter_name, reporter_role=report.reporter_role,
                    join_case_id=about.id if about is not None else None)  # fmt: skip
    (result,) = intake(session, env, [signal])
    if result.status == "rejected":
        problems = [FieldProblem(e["path"], e["message"]) for e in result.errors]
        raise Invalid("; ".join(f"{p.path}: {p.message}" for p in problems), errors=problems)
    assert result.event_id is not None and result.case_id is not None
    photo_ids = []
    for n, picture in enumerate(report.photos):
        assert isinstance(picture.data, bytes)
        blob = storage.put(new_key(f"cases/{result.case_id}", picture.filename or f"{n}.jpg"),
                           picture.data, picture.content_type)  # fmt: skip
        row = CaseAttachment(
            case_id=result.case_id, key=blob.key, filename=(picture.filename or "photo")[:200],
            content_type=picture.content_type, size=blob.size, sha256=blob.sha256,
            uploaded_by=report.reporter_id, uploaded_at=env.now,
        )  # fmt: skip
        session.add(row)
        session.flush()
        photo_ids.append(row.id)
    request = CitizenRequest(
        token=report.ticket, channel=report.channel,
        service_code=report.service.code if report.service is not None else None,
        event_id=result.event_id, case_id=result.case_id, description=report.description,
        lon=report.lon, lat=report.lat, address_string=report.address, attributes={},
        first_name=report.name, phone=report.phone, phone_verified=report.phone_verified,
        requested_at=env.now, routing=routed.routing, joined=result.status == "merged",
        taken_by=report.taken_by, photo_ids=photo_ids,
    )  # fmt: skip
    session.add(request)
    session.flush()
    return Taken(request, repeat=False, routed=routed)


def service_of_class(session: Session, class_code: str | None) -> CitizenService | None:
    """The first service residents report a class under, to name it to them."""
    if class_code is None:
        return None
    return next((s for s in repository.active_services(session) if s.class_code == class_code),
                None)  # fmt: skip


def public_report(
    session: Session,
    env: IntakeEnv,
    storage: BlobStorage,
    classifier: Classifier,
    threshold: float,
    sent: PublicReportIn,
    photos: list[Picture],
    *,
    phone_verified: bool,
    idempotency_key: str | None,
) -> Taken:
    """A resident's report from the public page (no account)."""
    service = None
    if sent.service_code:
        service = session.get(CitizenService, sent.service_code)
        if service is None or not service.active:
            raise Invalid(f"service_code: no service {sent.service_code!r}",
                          errors=[FieldProblem("service_code", "unknown service")])  # fmt: skip
    routed = route(classifier, threshold, sent.description,
                   service.class_code if service else None, trusted=False)  # fmt: skip
    if service is None:
        service = service_of_class(session, routed.class_code)
    ticket = new_ticket()
    external_id = f"key-{idempotency_key}"[:120] if idempotency_key else f"ticket-{ticket}"
    return take(session, env, storage, classifier, Report(
        channel="web", source="web", external_id=external_id, ticket=ticket, kind="citizen",
        description=sent.description, lon=sent.lon, lat=sent.lat, address=sent.address,
        service=service, routed=routed, reporter_id=None, reporter_name="市民",
        reporter_role="citizen", name=sent.name, phone=sent.phone,
        phone_verified=phone_verified, photos=photos,
    ))  # fmt: skip


HOTLINE_ROLES = frozenset({"call_taker", "shift_leader", "admin"})


def hotline_report(
    session: Session,
    env: IntakeEnv,
    storage: BlobStorage,
    classifier: Classifier,
    threshold: float,
    actor: Actor,
    sent: HotlineIn,
    *,
    idempotency_key: str | None,
) -> Taken:
    """What a caller tells the call-taker, taken in as the caller's request."""
    if not actor.roles & HOTLINE_ROLES:
        raise Forbidden(f"this needs one of the roles: {', '.join(sorted(HOTLINE_ROLES))}")
    chosen = sent.class_code.strip().upper() if sent.class_code else None
    if chosen is not None and chosen not in env.snapshot.classes:
        raise Invalid(f"class_code: unknown or inactive class {chosen}",
                      errors=[FieldProblem("class_code", "unknown or inactive class")])  # fmt: skip
    routed = route(classifier, threshold, sent.description, chosen, trusted=True)
    ticket = new_ticket()
    key = f"key-{idempotency_key}" if idempotency_key else f"ticket-{ticket}"
    return take(session, env, storage, classifier, Report(
        channel="hotline", source="hotline", external_id=f"{actor.id}-{key}"[:120],
        ticket=ticket, kind="hotline", description=sent.description, lon=sent.lon,
        lat=sent.lat, address=sent.address,
        service=service_of_class(session, routed.class_code), routed=routed,
        reporter_id=actor.id, reporter_name=actor.name, reporter_role="call_taker",
        name=sent.caller_name, phone=sent.caller_phone, taken_by=actor.id,
    ))  # fmt: skip

"""Document numbers per agency, kind and year, safe when two transactions number at once;
issuing a document stores its PDF and records it; who may read it."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.enforcement.documents import samples
from tests.enforcement.documents.conftest import Staff
from tests.enforcement.documents.pdftext import flat

from cityops.auth.models import AuditEntry
from cityops.auth.service import actor_of
from cityops.cases.workflow import Actor
from cityops.db import Base, import_all_models, make_engine
from cityops.enforcement.documents import service
from cityops.enforcement.documents.models import IssuedDocument
from cityops.enforcement.registries.models import Agency
from cityops.errors import Forbidden, Invalid
from cityops.kit.storage import LocalStorage
from cityops.org.models import Person

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
DECISION = "渝中消罚决字"


def test_numbers_are_consecutive_per_agency_kind_and_year(session: Session, staff: Staff) -> None:
    def number(agency: int, kind: str = "penalty_decision", year: int = 2026) -> str:
        return service.next_number(session, agency_id=agency, kind=kind, year=year,
                                   prefix=DECISION)  # fmt: skip

    assert [number(staff.fire) for _ in range(3)] == [
        "渝中消罚决字〔2026〕第1号", "渝中消罚决字〔2026〕第2号", "渝中消罚决字〔2026〕第3号",
    ]  # fmt: skip
    assert number(staff.culture) == "渝中消罚决字〔2026〕第1号"
    assert number(staff.fire, kind="order_to_correct") == "渝中消罚决字〔2026〕第1号"
    assert number(staff.fire, year=2027) == "渝中消罚决字〔2027〕第1号"
    assert number(staff.fire) == "渝中消罚决字〔2026〕第4号"


def test_a_rolled_back_number_is_given_again(session: Session, staff: Staff) -> None:
    first = service.next_number(session, agency_id=staff.fire, kind="k", year=2026, prefix="甲")
    session.commit()
    with session.begin_nested() as savepoint:
        service.next_number(session, agency_id=staff.fire, kind="k", year=2026, prefix="甲")
        savepoint.rollback()
    again = service.next_number(session, agency_id=staff.fire, kind="k", year=2026, prefix="甲")
    assert (first, again) == ("甲〔2026〕第1号", "甲〔2026〕第2号")


def test_a_number_needs_a_prefix_and_a_sensible_year(session: Session, staff: Staff) -> None:
    with pytest.raises(Invalid) as error:
        service.next_number(session, agency_id=staff.fire, kind="k", year=2026, prefix=" ")
    assert error.value.errors[0].path == "prefix"
    with pytest.raises(Invalid):
        service.next_number(session, agency_id=staff.fire, kind="k", year=26, prefix="甲")


def test_two_sessions_numbering_at_once_never_share_a_number(fresh_database_url: str) -> None:
    engine = make_engine(fresh_database_url)
    import_all_models()
    Base.metadata.create_all(engine)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as setup:
        agency = Agency(code="YZ-XFJY", name="重庆市渝中区消防救援支队", kind="fire_rescue")
        setup.add(agency)
        setup.commit()
        agency_id = agency.id
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work() -> None:
        try:
            start.wait(timeout=10)
            for _ in range(15):
                with factory() as session:
                    number = service.next_number(session, agency_id=agency_id,
                                                 kind="penalty_decision", year=2026,
                                                 prefix=DECISION)  # fmt: skip
                    session.commit()
                numbers.append(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    engine.dispose()
    assert errors == []
    assert sorted(numbers) == sorted(f"{DECISION}〔2026〕第{n}号" for n in range(1, 31))


def test_issue_stores_the_pdf_and_records_it(
    session: Session, staff: Staff, storage: LocalStorage
) -> None:
    actor = staff.people["fire_officer"]
    number = service.next_number(session, agency_id=staff.fire, kind="penalty_decision",
                                 year=2026, prefix=DECISION)  # fmt: skip
    document = replace(samples.penalty_decision(), number=number)
    issued = service.issue(session, storage, document, agency_id=staff.fire,
                           subject_kind="penalty_case", subject_id=41, actor_id=actor,
                           now=NOW)  # fmt: skip
    session.commit()
    assert (issued.kind, issued.number, issued.title) == (
        "penalty_decision", "渝中消罚决字〔2026〕第1号", "行政处罚决定书",
    )  # fmt: skip
    assert issued.pages == 2 and issued.issued_by == actor and issued.issued_at == NOW
    pdf = service.open_pdf(storage, issued)
    assert len(pdf) == issued.size and "渝中消罚决字〔2026〕第1号" in flat(pdf)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity == "enforcement_document"))
    entry = audit.one()
    assert entry.action == "issue" and entry.actor_id == actor
    assert entry.entity_id == str(issued.id) and entry.after["number"] == issued.number

    with pytest.raises(Invalid, match="already issued"):
        service.issue(session, storage, document, agency_id=staff.fire,
                      subject_kind="penalty_case", subject_id=41, actor_id=actor,
                      now=NOW)  # fmt: skip

    listed = service.list_for_subject(session, "penalty_case", 41, agency_ids=None)
    assert [d.id for d in listed] == [issued.id]
    assert service.list_for_subject(session, "penalty_case", 41,
                                    agency_ids=frozenset({staff.culture})) == []  # fmt: skip
    assert service.list_for_subject(session, "inspection", 41, agency_ids=None) == []


def test_a_damaged_stored_pdf_is_not_served(
    session: Session, staff: Staff, storage: LocalStorage
) -> None:
    issued = service.issue(session, storage, samples.service_proof(), agency_id=staff.fire,
                           subject_kind="penalty_case", subject_id=7, actor_id=None,
                           now=NOW)  # fmt: skip
    path = storage.root / issued.storage_key
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(service.DocumentDamaged):
        service.open_pdf(storage, issued)


def test_who_reads_which_agencys_documents(session: Session, staff: Staff) -> None:
    def actor(username: str) -> Actor:
        person = session.scalar(select(Person).where(Person.code == username))
        assert person is not None
        return actor_of(person)

    def agencies(username: str) -> frozenset[int] | None:
        return service.readable_agencies(session, actor(username))

    assert agencies("fire_officer") == {staff.fire}
    assert agencies("culture_officer") == {staff.culture}
    assert agencies("fire_reviewer") == {staff.fire}
    assert agencies("enforcement_supervisor") is None
    dispatcher = session.scalar(select(Person).where(Person.code == "dispatcher"))
    assert dispatcher is not None
    with pytest.raises(Forbidden):
        service.readable_agencies(session, actor_of(dispatcher))
    row = IssuedDocument(agency_id=staff.fire)
    service.check_readable(
        session, actor_of(session.get(Person, staff.people["fire_officer"])), row
    )  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        service.check_readable(
            session, actor_of(session.get(Person, staff.people["culture_officer"])), row
        )  # type: ignore[arg-type]

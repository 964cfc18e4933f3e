"""`/api/v1/enforcement/documents` through HTTP: the list by subject and the PDF download,
for the issuing agency's officers and enforcement supervisors only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.enforcement.documents import samples
from tests.enforcement.documents.conftest import Staff
from tests.enforcement.documents.pdftext import flat

from cityops.enforcement.documents import service
from cityops.enforcement.documents.models import IssuedDocument

API = "/api/v1/enforcement/documents"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def decision(session: Session, staff: Staff, context: Any) -> IssuedDocument:
    """The fire brigade's penalty decision in case 41, issued and committed."""
    issued = service.issue(
        session, context.storage, samples.penalty_decision(), agency_id=staff.fire,
        subject_kind="penalty_case", subject_id=41, actor_id=staff.people["fire_officer"],
        now=NOW,
    )  # fmt: skip
    session.commit()
    return issued


def test_the_issuing_agencys_officer_downloads_the_pdf(
    client: TestClient, login: Any, decision: IssuedDocument
) -> None:
    r = client.get(f"{API}/{decision.id}.pdf", headers=login("fire_officer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-") and len(r.content) == decision.size
    assert "渝中消罚决字〔2026〕第12号" in flat(r.content)
    name = quote("行政处罚决定书（渝中消罚决字〔2026〕第12号）.pdf")
    assert f"filename*=UTF-8''{name}" in r.headers["content-disposition"]
    assert 'filename="penalty_decision-' in r.headers["content-disposition"]


def test_another_agencys_officer_is_refused_and_anonymous_must_log_in(
    client: TestClient, login: Any, decision: IssuedDocument
) -> None:
    url = f"{API}/{decision.id}.pdf"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login("culture_officer")).status_code == 403
    assert client.get(url, headers=login("dispatcher")).status_code == 403
    assert client.get(url, headers=login("fire_reviewer")).status_code == 200
    assert client.get(url, headers=login("enforcement_supervisor")).status_code == 200
    assert client.get(f"{API}/99999.pdf", headers=login("admin")).status_code == 404


def test_the_list_of_a_subjects_documents_is_scoped_to_the_callers_agencies(
    client: TestClient, login: Any, decision: IssuedDocument
) -> None:
    query = {"subject_kind": "penalty_case", "subject_id": 41}
    r = client.get(API, params=query, headers=login("fire_officer"))
    assert r.status_code == 200, r.text
    [row] = r.json()
    assert row["number"] == "渝中消罚决字〔2026〕第12号" and row["kind"] == "penalty_decision"
    assert row["pages"] == decision.pages and row["pdf_url"] == f"{API}/{decision.id}.pdf"
    assert client.get(API, params=query, headers=login("culture_officer")).json() == []
    assert len(client.get(API, params=query, headers=login("admin")).json()) == 1
    assert client.get(API, params=query).status_code == 401
    bad = client.get(API, params={"subject_kind": "penalty_case"}, headers=login("admin"))
    assert bad.status_code == 422

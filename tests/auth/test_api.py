"""Logging in, bearer tokens and API keys, as a client of the API sees them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, PASSWORD, inside

from cityops.auth.models import Account, AuditEntry
from cityops.auth.service import create_api_key


def _token(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def _event(source: str, external_id: str) -> dict[str, Any]:
    lon, lat = inside(GRID_A)
    return {"source": source, "external_id": external_id, "kind": "camera",
            "location": {"lon": lon, "lat": lat}, "occurred_at": "2026-11-24T00:50:00Z",
            "class_code": "E0102", "description": "garbage"}  # fmt: skip


def test_a_wrong_password_gets_401_and_a_right_one_a_token(
    client: TestClient, session: Session
) -> None:
    refused = _token(client, "dispatcher", "not-the-password")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"

    r = _token(client, "dispatcher")
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 12 * 3600
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["roles"] == ["dispatcher"]
    logins = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")).all()
    assert [e.after for e in logins] == [{"username": "dispatcher"}]


def test_a_token_expires_by_the_applications_clock(client: TestClient, clock: Any) -> None:
    headers = {"Authorization": f"Bearer {_token(client, 'dispatcher').json()['access_token']}"}
    clock.advance(hours=11, minutes=59)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    clock.advance(minutes=1)
    expired = client.get("/api/v1/auth/me", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["detail"] == "invalid or expired token"


def test_a_tampered_or_foreign_token_is_refused(client: TestClient) -> None:
    token = _token(client, "dispatcher").json()["access_token"]
    head, claims, signature = token.split(".")
    forged = f"{head}.{claims}.{signature[::-1]}"
    for bad in (forged, "not-a-token", ""):
        r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad


def test_a_password_change_or_lock_out_ends_every_token_at_once(
    client: TestClient, session: Session
) -> None:
    headers = {"Authorization": f"Bearer {_token(client, 'dispatcher').json()['access_token']}"}
    account = session.scalars(select(Account).where(Account.username == "dispatcher")).one()
    account.token_version += 1
    session.commit()
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_an_api_key_posts_only_as_its_own_sources_and_not_after_revocation(
    client: TestClient, login: Any, session: Session
) -> None:
    _, key = create_api_key(session, name="cams", sources=["cam-gw"], trusted=True, now=EPOCH)
    session.commit()
    headers = {"X-API-Key": key}

    assert (
        client.post("/api/v1/events", headers=headers, json=_event("cam-gw", "a")).status_code
        == 201
    )
    foreign = client.post("/api/v1/events", headers=headers, json=_event("hotline", "b"))
    assert foreign.status_code == 422
    assert [e["path"] for e in foreign.json()["errors"]] == ["source"]
    bad_key = client.post("/api/v1/events", headers={"X-API-Key": key + "x"},
                          json=_event("cam-gw", "c"))  # fmt: skip
    assert bad_key.status_code == 401

    keys = client.get("/api/v1/auth/api-keys", headers=login("admin")).json()
    key_id = next(k["id"] for k in keys if k["name"] == "cams")
    assert (
        client.delete(f"/api/v1/auth/api-keys/{key_id}", headers=login("admin")).status_code == 200
    )
    revoked = client.post("/api/v1/events", headers=headers, json=_event("cam-gw", "d"))
    assert revoked.status_code == 401


def test_only_an_admin_manages_api_keys(client: TestClient, login: Any) -> None:
    r = client.post("/api/v1/auth/api-keys", headers=login("dispatcher"),
                    json={"name": "x", "sources": ["x"]})  # fmt: skip
    assert r.status_code == 403
    created = client.post("/api/v1/auth/api-keys", headers=login("admin"),
                          json={"name": "gw", "sources": [" ", ""]})  # fmt: skip
    assert created.status_code == 422
    assert [e["path"] for e in created.json()["errors"]] == ["sources"]

"""What the page tests do through the API beside the browser: log in, look things up, act."""

from __future__ import annotations

from typing import Any

import httpx
from tests.factories import PASSWORD
from tests.serverproc import ServerProcess


def login(server: ServerProcess, username: str) -> dict[str, str]:
    r = httpx.post(f"{server.url}/api/v1/auth/token",
                   data={"username": username, "password": PASSWORD})  # fmt: skip
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def sign_in(page: Any, server: ServerProcess, path: str, username: str) -> None:
    """Open a page and log in on its form, as a person would."""
    page.goto(f"{server.url}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def department(server: ServerProcess, code: str) -> int:
    r = httpx.get(f"{server.url}/api/v1/departments", headers=login(server, "dispatcher"))
    return next(int(d["id"]) for d in r.json()["items"] if d["code"] == code)


def act(server: ServerProcess, username: str, case_id: int, action: str, **body: Any) -> Any:
    r = httpx.post(f"{server.url}/api/v1/cases/{case_id}/actions",
                   headers=login(server, username), json={"action": action, **body})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


def case(server: ServerProcess, case_id: int) -> Any:
    r = httpx.get(f"{server.url}/api/v1/cases/{case_id}", headers=login(server, "dispatcher"))
    assert r.status_code == 200, r.text
    return r.json()

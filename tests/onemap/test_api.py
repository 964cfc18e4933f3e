"""`/api/v1/onemap`: layers and classes for the page, conflict runs with their summaries and
exports, and a conflict patch handed to the planning department and resolved."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.onemap.conftest import store_layers

from cityops.auth.models import AuditEntry
from cityops.cases.models import CaseStep

API = "/api/v1/onemap"


@pytest.fixture
def layers(session: Session, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("planning")  # the district and its planning department first
    store_layers(session, tmp_path)
    session.commit()


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.mark.usefixtures("layers")
def test_the_layers_and_classes_for_the_page(client: TestClient, login: Any) -> None:
    assert client.get(f"{API}/layers").status_code == 401
    found = {x["name"]: x for x in ok(client.get(f"{API}/layers", headers=login("dispatcher")))}
    assert set(found) == {"land", "urban", "red"}
    land = found["land"]
    assert (land["kind"], land["version"], land["feature_count"]) == ("plan", 1, 1)
    assert land["classes"] == {"0501": 1} and land["collection"] == "land"
    assert land["bbox"] == pytest.approx([106.571, 29.5605, 106.573, 29.5615])
    assert found["red"]["line"] == "ecological_red_line"
    classes = {c["code"]: c for c in ok(client.get(f"{API}/classes", headers=login("admin")))}
    assert len(classes) == 175
    # a second-level class takes its first level's colour
    assert classes["0501"]["colour"] == classes["05"]["colour"]
    assert classes["05"]["colour"].startswith("#") and classes["0501"]["name"] == "森林沼泽"


@pytest.mark.usefixtures("layers")
def test_a_planner_runs_a_comparison_and_reads_its_report(
    client: TestClient, login: Any, session: Session
) -> None:
    body = {"layers": ["land", "urban", "red"], "note": "年度比对"}
    assert client.post(f"{API}/conflicts/runs", json=body,
                       headers=login("dispatcher")).status_code == 403  # fmt: skip
    bad = client.post(f"{API}/conflicts/runs", json={"layers": ["land", "nowhere"]},
                      headers=login("planner"))  # fmt: skip
    assert bad.status_code == 422 and "nowhere" in bad.text
    short = client.post(f"{API}/conflicts/runs", json={"layers": ["land"]},
                        headers=login("planner"))  # fmt: skip
    assert short.status_code == 422 and "layers" in short.text
    run = ok(client.post(f"{API}/conflicts/runs", json=body, headers=login("planner")), 201)
    assert (run["state"], run["patch_count"], run["note"]) == ("finished", 2, "年度比对")
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "onemap.run")).all()
    assert [a.entity_id for a in audit] == [str(run["id"])]

    headers = login("supervisor")
    assert [r["id"] for r in ok(client.get(f"{API}/conflicts/runs", headers=headers))] == [
        run["id"]]  # fmt: skip
    summary = ok(client.get(f"{API}/conflicts/runs/latest", headers=headers))
    assert summary["run"]["id"] == run["id"] and len(summary["by_pair"]) == 2
    assert [s["street"] for s in summary["by_street"]] == ["解放碑街道"]
    page = ok(client.get(f"{API}/conflicts/runs/{run['id']}/patches",
                         params={"limit": 1}, headers=headers))  # fmt: skip
    assert page["total"] == 2 and len(page["items"]) == 1
    red = ok(client.get(f"{API}/conflicts/runs/latest/patches",
                        params={"rule": page["items"][0]["rule"]}, headers=headers))  # fmt: skip
    assert red["total"] == 1
    none = ok(client.get(f"{API}/conflicts/runs/latest/patches",
                         params={"street": "500103002"}, headers=headers))  # fmt: skip
    assert none["total"] == 0

    patch = ok(client.get(f"{API}/conflicts/{page['items'][0]['id']}", headers=headers))
    assert patch["geometry"]["type"] == "Polygon" and patch["street"] == "解放碑街道"
    sides = {patch["side_a"]["class_code"], (patch["side_b"] or {}).get("class_code")}
    assert sides & {"0501", "100101"}
    assert client.get(f"{API}/conflicts/999999", headers=headers).status_code == 404
    assert client.get(f"{API}/conflicts/runs/x", headers=headers).status_code == 422


@pytest.mark.usefixtures("layers")
def test_a_runs_report_downloads_as_geopackage_and_spreadsheet(
    client: TestClient, login: Any, tmp_path: Path
) -> None:
    ok(client.post(f"{API}/conflicts/runs", json={"layers": ["land", "urban", "red"]},
                   headers=login("planner")), 201)  # fmt: skip
    headers = login("supervisor")
    gpkg = client.get(f"{API}/conflicts/runs/latest/export", headers=headers)
    assert gpkg.status_code == 200 and "conflicts-" in gpkg.headers["content-disposition"]
    (tmp_path / "c.gpkg").write_bytes(gpkg.content)
    assert pyogrio.read_info(tmp_path / "c.gpkg")["features"] == 2
    sheet = client.get(f"{API}/conflicts/runs/latest/export",
                       params={"f": "xlsx", "table": "streets"}, headers=headers)  # fmt: skip
    book = load_workbook(io.BytesIO(sheet.content)).active
    assert book is not None and book["B2"].value == "解放碑街道"
    bad = client.get(f"{API}/conflicts/runs/latest/export", params={"f": "shp"}, headers=headers)
    assert bad.status_code == 422


@pytest.mark.usefixtures("layers")
def test_a_patch_becomes_a_case_for_planning_and_its_resolution_is_recorded(
    client: TestClient, login: Any, session: Session
) -> None:
    ok(client.post(f"{API}/conflicts/runs", json={"layers": ["land", "urban"]},
                   headers=login("planner")), 201)  # fmt: skip
    (patch,) = ok(client.get(f"{API}/conflicts/runs/latest/patches",
                             headers=login("planner")))["items"]  # fmt: skip
    url = f"{API}/conflicts/{patch['id']}"
    assert client.post(f"{url}/case", headers=login("handler")).status_code == 403
    opened = ok(client.post(f"{url}/case", headers=login("planner")))
    assert opened["case_state"] == "handling"
    again = ok(client.post(f"{url}/case", headers=login("shift_leader")))
    assert again["case_id"] == opened["case_id"]
    # the planning department's handler sees the case in their queue
    case = ok(client.get(f"/api/v1/cases/{opened['case_id']}", headers=login("handler_gh")))
    assert case["class_code"] == "E0606"

    body = {"resolution": "revise_b", "note": "城市规划修改为湿地公园"}
    # a handler of another department may not; the case's department may
    assert client.post(f"{url}/resolution", json=body,
                       headers=login("handler")).status_code == 403  # fmt: skip
    missing = client.post(f"{url}/resolution", json={"resolution": "revise_b"},
                          headers=login("handler_gh"))  # fmt: skip
    assert missing.status_code == 422 and "note" in missing.text
    wrong = client.post(f"{url}/resolution", json={"resolution": "maybe", "note": "x"},
                        headers=login("handler_gh"))  # fmt: skip
    assert wrong.status_code == 422 and "resolution" in wrong.text
    done = ok(client.post(f"{url}/resolution", json=body, headers=login("handler_gh")))
    assert (done["state"], done["resolution_name"], done["case_state"]) == (
        "resolved", "调整乙方规划", "handling")  # fmt: skip
    notes = session.scalars(select(CaseStep.note).where(
        CaseStep.case_id == opened["case_id"], CaseStep.action == "note")).all()  # fmt: skip
    assert any("调整乙方规划" in (n or "") for n in notes)
    other = client.post(f"{url}/resolution", json={"resolution": "exception", "note": "保留"},
                        headers=login("planner"))  # fmt: skip
    assert other.status_code == 409
    actions = set(session.scalars(select(AuditEntry.action).where(
        AuditEntry.entity == "conflict", AuditEntry.entity_id == str(patch["id"]))))  # fmt: skip
    assert actions == {"onemap.open_case", "onemap.resolve"}

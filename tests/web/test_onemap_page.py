"""The one map in a real browser: the layer tree, a layer's vector tiles drawn in its
classes' colours, the latest comparison's report with a patch's detail, the patch handed to
the planning department as a case and its resolution recorded, the cockpit view by street;
the case button hidden from who may not press it; the page in English."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from tests.factories import PASSWORD
from tests.onemap.conftest import store_layers
from tests.serverproc import ServerProcess
from tests.web.helpers import login, sign_in

from cityops.auth.models import Account
from cityops.auth.service import hash_password
from cityops.catalog.models import AutomationRule, CaseClass, MajorClass
from cityops.org.models import Department, Person

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1440, "height": 900}
API = "/api/v1/onemap"


def plan_the_district(url: str, folder: Path) -> None:
    """The planning department (GH) with the class and rule that route a conflict case to
    it, a planner, and three layers in 解放碑街道 (tests/onemap/conftest.py), committed."""
    engine = create_engine(url)
    with Session(engine) as session:
        gh = Department(code="GH", name="规划和自然资源分局", kind="department", active=True)
        session.add_all([gh, MajorClass(family="event", code="06", name="扩展事项")])
        session.flush()
        session.add(CaseClass(
            code="E0606", family="event", major_code="06", sub_code="06", name="规划冲突图斑",
            filing_condition="多规合一比对发现的规划冲突图斑", closing_condition="冲突图斑处理完毕",
            limit_value=20, limit_unit="working_days", urgency="normal", department_code="GH",
            merge_radius_m=0, merge_window_minutes=0,
        ))  # fmt: skip
        session.flush()
        session.add(AutomationRule(
            name="onemap-conflict-route", class_code="E0606", source_kind="planning",
            min_confidence=0.0, auto_accept=True, auto_file=True, auto_dispatch=True,
            dispatch_to="department", active=True,
        ))  # fmt: skip
        planner = Person(code="planner", name="规划员", roles=["planner"], scope_code="500103",
                         active=True)  # fmt: skip
        session.add(planner)
        session.flush()
        session.add(Account(person_id=planner.id, username="planner", active=True,
                            password_hash=hash_password(PASSWORD), token_version=0))  # fmt: skip
        store_layers(session, folder)
        session.commit()
    engine.dispose()


def compare(server: ServerProcess) -> Any:
    """The planner's comparison of the three layers: two patches."""
    body = {"layers": ["land", "urban", "red"], "note": "年度比对"}
    r = httpx.post(f"{server.url}{API}/conflicts/runs", headers=login(server, "planner"),
                   json=body)  # fmt: skip
    assert r.status_code == 201 and r.json()["patch_count"] == 2, r.text
    return r.json()


def patch(server: ServerProcess, conflict_id: int) -> Any:
    r = httpx.get(f"{server.url}{API}/conflicts/{conflict_id}", headers=login(server, "dispatcher"))
    assert r.status_code == 200, r.text
    return r.json()


def colour(server: ServerProcess, code: str) -> str:
    r = httpx.get(f"{server.url}{API}/classes", headers=login(server, "dispatcher"))
    return str(next(c["colour"] for c in r.json() if c["code"] == code))


def street_chart(page: Any) -> Any:
    """The by-street chart's option as ECharts holds it, once it has a street."""
    script = "() => echarts.getInstanceByDom(document.getElementById('street-chart'))"
    page.wait_for_function(f"() => ({script})()?.getOption().yAxis[0].data.length > 0")
    return page.evaluate(f"() => ({script})().getOption()")


def test_a_planner_hands_a_conflict_to_planning_and_records_its_resolution(
    server: tuple[ServerProcess, str], browser: Any, artifacts: Path, request: pytest.FixtureRequest
) -> None:
    srv, _ = server
    plan_the_district(srv.database_url, srv.workdir)
    compare(srv)
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    tiles: list[tuple[str, int]] = []
    page.on("response", lambda r: tiles.append((r.url, r.status)) if "/tiles/" in r.url else None)
    sign_in(page, srv, "/onemap/", "planner")

    # The tree: the two plans, the red line, the grids and the conflicts, by group.
    page.wait_for_selector("#tree .group[data-group=conflicts] .tree-row[data-key=conflicts]")
    groups = {g: page.inner_text(f"#tree .group[data-group={g}]")
              for g in ("plan", "control_line", "grids", "conflicts")}  # fmt: skip
    assert "土地利用规划" in groups["plan"] and "城市规划" in groups["plan"]
    assert "生态保护红线" in groups["control_line"]
    assert "第 1 版 · 1 个要素" in groups["control_line"]
    assert "共 2 处" in groups["conflicts"]
    # The land-use plan's wetland drawn from its vector tiles in the wetland's colour, the
    # red line as an outline, the conflicts over them; the legend names the classes in view.
    page.wait_for_selector(f"#map path.layer-land[fill='{colour(srv, '05')}']")
    page.wait_for_selector("#map path.layer-red[stroke='#e02424'][fill=none]")
    page.wait_for_selector("#map path.conflict.state-open")
    assert any(status == 200 and "/collections/land/tiles/" in url for url, status in tiles)
    assert "0501 森林沼泽" in page.inner_text(".legend")

    # The report: the run, its pairs, its patches; a patch's detail with both sides.
    assert "土地利用规划" in page.inner_text("#run-facts")
    assert page.locator("#pair-rows tr").count() == 2
    with page.expect_download() as download:
        page.click("button[data-export=xlsx-streets]")
    assert download.value.suggested_filename.endswith(".xlsx")
    page.click("#patch-rows tr:has-text('森林沼泽')")
    detail = page.wait_for_selector("#view-patch:not([hidden]) [data-side=side_b]")
    conflict_id = int(page.get_attribute("#view-patch", "data-patch-id"))
    assert "一类工业用地" in detail.inner_text() and "M1" in detail.inner_text()
    assert "森林沼泽" in page.inner_text("#view-patch [data-side=side_a]")
    assert "1.07 公顷" in page.inner_text("#patch-body dd[data-fact=area]")

    # 立案交办: a case for the planning department, shown on the patch.
    page.click("#open-case")
    link = page.wait_for_selector("#patch-body dd[data-fact=case] a.case-link")
    case_id = patch(srv, conflict_id)["case_id"]
    assert case_id is not None and link.inner_text() == f"#{case_id}"
    assert page.inner_text("#patch-body .detail-head .state-badge") == "已立案"
    assert page.locator("#open-case").is_hidden()

    # 记录处理结果: the resolution, on the patch and in the report.
    page.click("#resolve-open")
    page.select_option("#resolution", "revise_b")
    page.fill("#resolve-note", "城市规划调整为湿地公园")
    page.click("#resolve button[type=submit]")
    page.wait_for_selector("#patch-body .detail-head .state-badge[data-state=resolved]")
    assert page.inner_text("#patch-body .detail-head .state-badge") == "已处理"
    assert "调整乙方规划" in page.inner_text("#patch-body dd[data-fact=resolution]")
    resolved = patch(srv, conflict_id)
    assert (resolved["state"], resolved["resolution"]) == ("resolved", "revise_b")
    row = f"#patch-rows tr[data-patch-id='{conflict_id}'][data-state=resolved]"
    page.wait_for_selector(row, state="attached")  # in the report, behind its tab

    # The cockpit: conflict area by street, stacked by state; the street on the map.
    page.click(".tabs button[data-view=streets]")
    option = street_chart(page)
    assert option["yAxis"][0]["data"] == ["解放碑街道"]
    stacked = {s["id"]: s["data"][0] for s in option["series"]}
    assert stacked["resolved"] == pytest.approx(1.0742, abs=1e-3)
    assert stacked["open"] == pytest.approx(1.0742, abs=1e-3) and stacked["case_opened"] == 0
    page.wait_for_selector("#map path.street-500103001")
    page.screenshot(path=str(artifacts / f"onemap-{request.node.callspec.id}.png"))
    page.click("#street-rows tr[data-street='500103001']")  # filters the patch list
    page.wait_for_selector("#view-report:not([hidden])")
    assert page.input_value("#filter-street") == "500103001"

    # English: the labels and the states.
    page.click("#lang")
    assert page.inner_text(".tabs button[data-view=report]") == "Report"
    assert page.inner_text("h1") == "One map"
    badge = f"#patch-rows tr[data-patch-id='{conflict_id}'] .state-badge"
    page.wait_for_selector(f"{badge}:text-is('Resolved')")
    assert "Forested swamp" in page.inner_text(".legend")
    assert errors == []
    page.close()


def test_a_comparison_from_the_page_and_who_may_not_open_a_case(
    server: tuple[ServerProcess, str], browser: Any
) -> None:
    srv, _ = server
    plan_the_district(srv.database_url, srv.workdir)
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, srv, "/onemap/", "dispatcher")
    page.wait_for_selector("#no-run:not([hidden])")
    assert "cityops conflicts" in page.inner_text("#no-run")
    assert page.locator("#compare-open").is_hidden()  # a dispatcher does not compare
    page.close()

    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, srv, "/onemap/", "planner")
    page.click("#compare-open")
    page.check("#compare-layers input[value=land]")
    page.click("#compare button[type=submit]")
    assert page.inner_text("#compare-error") == "请至少选择两个图层"
    page.check("#compare-layers input[value=urban]")
    page.click("#compare button[type=submit]")
    page.wait_for_selector("#run:not([hidden])")
    assert "共 1 处" in page.inner_text("#run-facts")
    page.close()

    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    sign_in(page, srv, "/onemap/", "dispatcher")
    page.click("#patch-rows tr[data-patch-id]")
    page.wait_for_selector("#view-patch:not([hidden]) [data-side=side_b]")
    assert page.locator("#open-case").is_hidden()
    assert page.locator("#resolve-open").is_hidden()
    page.close()

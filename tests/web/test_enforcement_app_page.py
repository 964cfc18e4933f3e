"""The officer's phone page (移动执法) in a real browser: the internet-café joint inspection
(综合查一次) end to end. The street team creates it; fire rescue and market regulation
accept on their phones (market regulation's first team is refused by the API over an
expired certificate), the culture market's lead declines with a reason; on site each
agency records its findings with a photo (market regulation without a signal: the outbox
sends it once the phone is back online, once), the party and an officer sign, the visit is
finished, the one combined rectification notice is issued and opens as a PDF with every
agency's lines; after the deadline the re-inspection closes it."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pypdf import PdfReader
from shapely import to_wkb
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session
from tests.factories import PASSWORD
from tests.serverproc import ServerProcess
from tests.web.helpers import login, sign_in

from cityops.auth.models import Account
from cityops.auth.passwords import hash_password
from cityops.demo.geography import area_m2, build_areas
from cityops.enforcement.businesses.models import Business
from cityops.enforcement.businesses.service import load_seed as load_businesses
from cityops.enforcement.inspections.models import Finding, Inspection
from cityops.enforcement.inspections.models import RectificationNotice as NoticeRow
from cityops.enforcement.registries.models import Agency, Officer
from cityops.enforcement.registries.service import load_seed as load_registries
from cityops.org.models import Person, Region

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}
API = "/api/v1/enforcement"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CAFE = "91500103232332119Y"  # 渝中区极速网咖, in 解放碑街道
# The sample's streets, and the café's community and grid, drawn from the demo geography.
REGIONS = ("500103008", "500103010", "500103010005", "500103010005005")
# Who logs in: (username, the officer's certificate, roles). The street team's lead has a
# certificate of their own (the sample has only two officers in the team).
STAFF = [
    ("jfb_sun", "500103-JFB-0001", ["officer"]),
    ("jfb_ma", "500103-JFB-0002", ["officer"]),
    ("jfb_lead", "500103-JFB-0009", ["officer", "enforcement_lead"]),
    ("xf_zhang", "500103-XF-0001", ["officer"]),
    ("sj_liu", "500103-SJ-0001", ["officer"]),
    ("wh_lead", "500103-WH-0003", ["officer", "enforcement_lead"]),
]


PASSWORD_HASH = hash_password(PASSWORD)


def today() -> date:
    return datetime.now(SHANGHAI).date()


def enforce_the_district(url: str) -> None:
    """The enforcement sample in the test district: the sample's streets with their
    shapes, the registries with certificates dated for today, the businesses, and a login
    for each officer of the story, linked through `Officer.person_id`."""
    engine = create_engine(url)
    areas = {a.code: a for a in build_areas()}
    with Session(engine) as session:
        for code in REGIONS:
            a = areas[code]
            minx, miny, maxx, maxy = a.geometry.bounds
            session.add(Region(
                code=a.code, level=a.level, name=a.name, parent_code=a.parent, grade=a.grade,
                geometry=to_wkb(a.geometry), min_lon=minx, min_lat=miny, max_lon=maxx,
                max_lat=maxy, area_m2=area_m2(a.geometry),
            ))  # fmt: skip
            session.flush()
        load_registries(session, today=today())
        load_businesses(session)
        team = session.scalar(select(Agency).where(Agency.code == "YZ-JFB-ZF"))
        assert team is not None
        session.add(Officer(
            certificate_number="500103-JFB-0009", name="何军", agency_id=team.id,
            valid_from=today() - timedelta(days=400), valid_until=today() + timedelta(days=1400),
            phone="13800000509", active=True,
        ))  # fmt: skip
        session.flush()
        for username, certificate, roles in STAFF:
            officer = session.scalar(
                select(Officer).where(Officer.certificate_number == certificate)
            )
            assert officer is not None
            person = Person(code=username, name=officer.name, roles=roles, scope_code="500103",
                            active=True)  # fmt: skip
            session.add(person)
            session.flush()
            officer.person_id = person.id
            session.add(Account(person_id=person.id, username=username, active=True,
                                password_hash=PASSWORD_HASH, token_version=0))  # fmt: skip
        session.commit()
    engine.dispose()


def ids(url: str) -> dict[str, int]:
    """Agencies by code, officers by certificate and the café, by id."""
    engine = create_engine(url)
    with Session(engine) as session:
        found = {a.code: a.id for a in session.scalars(select(Agency))}
        found |= {o.certificate_number: o.id for o in session.scalars(select(Officer))}
        cafe = session.scalar(select(Business).where(Business.credit_code == CAFE))
        assert cafe is not None
        found["cafe"] = cafe.id
    engine.dispose()
    return found


def create_joint_inspection(server: ServerProcess, known: dict[str, int]) -> tuple[int, int]:
    """The street team's joint inspection of the café, in a few minutes, inviting fire
    rescue, market regulation and the culture market; submitted and approved by the team's
    lead. Returns (plan id, inspection id)."""
    sun = login(server, "jfb_sun")
    proposed = httpx.get(f"{server.url}{API}/businesses/{known['cafe']}", headers=sun).json()
    kinds = {a["kind"] for a in proposed["agencies"]}
    assert {"fire_rescue", "market_regulation", "culture_market"} <= kinds
    body = {
        "business_id": known["cafe"],
        "scheduled_at": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        "officer_ids": [known["500103-JFB-0001"], known["500103-JFB-0002"]],
        "agency_ids": [known["YZ-XFJY"], known["YZ-SCJG"], known["YZ-WHZF"]],
    }
    r = httpx.post(f"{server.url}{API}/plans/joint", headers=sun, json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    (inspection,) = plan["inspections"]
    r = httpx.post(f"{server.url}{API}/plans/{plan['id']}/submit", headers=sun, json={})
    assert r.status_code == 200, r.text
    r = httpx.post(f"{server.url}{API}/plans/{plan['id']}/approve",
                   headers=login(server, "jfb_lead"), json={})  # fmt: skip
    assert r.status_code == 200, r.text
    return int(plan["id"]), int(inspection["id"])


def detail(server: ServerProcess, inspection_id: int, username: str = "jfb_sun") -> Any:
    r = httpx.get(f"{server.url}{API}/inspections/{inspection_id}", headers=login(server, username))
    assert r.status_code == 200, r.text
    return r.json()


def _png(width: int, height: int) -> bytes:
    """A plain PNG of the given size, standing in for a phone camera's photo."""
    row = b"\x00" + bytes([90, 140, 200]) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _image_size(data: bytes) -> tuple[str, int, int]:
    """The format, width and height of a PNG or a JPEG."""
    if data.startswith(b"\x89PNG"):
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return "jpeg", width, height
        i += 2 + length
    raise AssertionError("neither a PNG nor a JPEG")


class Phones:
    """The officers' phones: one browser context each, at 390 × 844, and their screenshots."""

    def __init__(self, browser: Any, server: ServerProcess, artifacts: Path, run: str) -> None:
        self.browser, self.server, self.artifacts, self.run = browser, server, artifacts, run
        self.pages: dict[str, Any] = {}
        self.errors: list[Any] = []
        self.step = 0

    def open(self, username: str) -> Any:
        context = self.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                           locale="zh-CN", timezone_id="Asia/Shanghai")  # fmt: skip
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(error))
        sign_in(page, self.server, "/enforcement/app/", username)
        page.wait_for_selector("#who-name:not(:empty)")
        self.pages[username] = page
        return page

    def shot(self, page: Any, name: str) -> None:
        self.step += 1
        name = f"enforcement-app-{self.run}-{self.step:02d}-{name}.png"
        page.screenshot(path=str(self.artifacts / name))

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


def record(page: Any, point_id: int, outcome: str, *, requirement: str = "",
           deadline: date | None = None, photo: Path | None = None,
           note: str = "") -> None:  # fmt: skip
    """Record a result on a point's card as an officer does: the outcome, what to correct
    and by when for a failure, a photo, save."""
    card = f"#point-{point_id}"
    page.click(f"{card} label.choice.{outcome}")
    if outcome == "fail":
        page.fill(f"#requirement-{point_id}", requirement)
        page.fill(f"#deadline-{point_id}", (deadline or today()).isoformat())
    if note:
        page.fill(f"#note-{point_id}", note)
    if photo is not None:
        page.set_input_files(f"#photo-{point_id}", str(photo))
        page.wait_for_selector(f"{card} form.record .thumbs img")
    page.click(f"{card} button.save")


def centre(page: Any, selector: str) -> None:
    """Scroll an element to the middle of the screen, clear of the sticky bars."""
    page.locator(selector).evaluate("el => el.scrollIntoView({ block: 'center' })")


def failed_of(server: ServerProcess, inspection_id: int, agency_id: int) -> list[Any]:
    found = detail(server, inspection_id)["findings"]
    return [f for f in found if f["agency_id"] == agency_id and f["outcome"] == "fail"]


def result_shown(page: Any, point_id: int, agency_id: int) -> None:
    page.wait_for_selector(f"#point-{point_id} .result[data-agency-id='{agency_id}']:not(.pending)")


def points_of(inspection: Any, agency_id: int) -> list[Any]:
    return [p for p in inspection["checklist"] if agency_id in [a["id"] for a in p["agencies"]]]


def sign(page: Any, signer: str) -> None:
    """A signature drawn with the mouse on the signer's pad, then confirmed."""
    centre(page, f"[data-signer='{signer}'] canvas.pad")
    box = page.locator(f"[data-signer='{signer}'] canvas.pad").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + w * 0.15, y + h * 0.6)
    page.mouse.down()
    for i in range(1, 25):
        page.mouse.move(x + w * (0.15 + 0.7 * i / 24), y + h * (0.6 - 0.25 * ((i % 6) / 6)))
    page.mouse.up()
    page.click(f"[data-signer='{signer}'] button.save")


class SignatureEndpoint:
    """Watches the signatures the page sends to the server (`POST …/signatures`, multipart:
    role, name, officer_id, file) and what the server answered to each."""

    def __init__(self, page: Any, inspection_id: int) -> None:
        self.sent: list[Any] = []
        self.answers: list[int] = []
        page.route(f"**/api/v1/enforcement/inspections/{inspection_id}/signatures**", self.handle)

    def handle(self, route: Any) -> None:
        request = route.request
        if request.method == "POST":
            self.sent.append(request)
        response = route.fetch()
        if request.method == "POST":
            self.answers.append(response.status)
        route.fulfill(response=response)

    def wait_for_answers(self, page: Any, count: int) -> None:
        """The page keeps what was signed and sends it from its outbox: wait until the
        server has answered `count` of them."""
        for _ in range(300):
            if len(self.answers) >= count:
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"{len(self.answers)} of {count} signatures answered")


def _field(body: bytes, name: str) -> str | None:
    """A text field of a multipart body."""
    marker = f'name="{name}"\r\n\r\n'.encode()
    if marker not in body:
        return None
    start = body.index(marker) + len(marker)
    return body[start : body.index(b"\r\n", start)].decode()


def pdf_opened(page: Any, click: str) -> bytes:
    """The bytes of the PDF the page opens in a new tab when `click` is pressed."""
    with page.expect_popup() as popup:
        page.click(click)
    tab = popup.value
    tab.wait_for_url("blob:**")
    data = page.evaluate(
        """async (url) => {
          const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
          let text = "";
          for (let i = 0; i < bytes.length; i += 8192) {
            text += String.fromCharCode(...bytes.subarray(i, i + 8192));
          }
          return btoa(text);
        }""",
        tab.url,
    )
    tab.close()
    return base64.b64decode(data)


def pdf_text(data: bytes) -> str:
    """The PDF's text with line breaks and spaces taken out (lines wrap mid-phrase)."""
    reader = PdfReader(io.BytesIO(data))
    return "".join("".join(p.extract_text().split()) for p in reader.pages)


@dataclass
class Story:
    """What the steps share: the server, the ids, the visit, the phones and a photo."""

    server: ServerProcess
    known: dict[str, int]
    inspection_id: int
    phones: Phones
    photo: Path
    listed: str  # where the visit shows: today's list, or the coming ones near midnight

    @property
    def card(self) -> str:
        return f"#invitations li[data-id='{self.inspection_id}']"

    def agency(self, code: str) -> int:
        return self.known[code]

    def officer(self, certificate: str) -> int:
        return self.known[certificate]

    def answer(self, code: str) -> Any:
        agencies = detail(self.server, self.inspection_id)["agencies"]
        return next(a for a in agencies if a["agency_id"] == self.known[code])

    def taking_part(self, page: Any, code: str) -> None:
        card = f"{self.listed} li[data-id='{self.inspection_id}']"
        page.wait_for_selector(
            f"{card} li[data-agency-id='{self.known[code]}'][data-state=accepted]"
        )

    def open_inspection(self, page: Any) -> None:
        page.goto(f"{self.server.url}/enforcement/app/#/inspection/{self.inspection_id}")
        page.wait_for_selector("#inspection-state.in_progress")


def fire_rescue_accepts(s: Story) -> None:
    """消防救援: the invitation, a second officer checked against the certificates, accepted."""
    fire = s.phones.open("xf_zhang")
    second = s.officer("500103-XF-0002")
    fire.wait_for_selector(f"{s.card} label.officer[data-officer-id='{second}']")
    count = fire.locator("#invitations > li").count()
    assert fire.inner_text("#invitation-count") == str(count)
    assert "消防救援支队" in fire.inner_text(f"{s.card} .agencies")
    assert fire.is_checked(f"{s.card} input[value='{s.officer('500103-XF-0001')}']")  # me
    assert "至少需要两名" in fire.inner_text(f"{s.card} .check-result")
    fire.check(f"{s.card} input[value='{second}']")
    fire.wait_for_selector(f"{s.card} .check-result.ok")
    s.phones.shot(fire, "fire-invitation")
    fire.click(f"{s.card} .accept button[type=submit]")
    s.taking_part(fire, "YZ-XFJY")
    assert fire.locator(s.card).count() == 0
    assert s.answer("YZ-XFJY")["state"] == "accepted"


def market_regulation_is_refused_then_accepts(s: Story) -> None:
    """市场监管: a team with an expired certificate is refused by the API, and the page says
    so on the officer's line; with another officer the invitation is accepted."""
    market = s.phones.open("sj_liu")
    expired = f"{s.card} label.officer[data-officer-id='{s.officer('500103-SJ-0003')}']"
    market.wait_for_selector(expired)
    market.check(f"{expired} input")
    market.wait_for_selector(f"{s.card} .check-result.bad")
    market.click(f"{s.card} .accept button[type=submit]")
    refusal = market.wait_for_selector(f"{s.card} [data-error-for=officer_ids]:not([hidden])")
    assert refusal.inner_text().startswith("未被接受")
    assert "expired" in refusal.inner_text()
    assert market.get_attribute(expired, "class") == "officer blocking"
    assert "expired" in market.inner_text(f"{expired} .problem")
    s.phones.shot(market, "market-refused")
    assert s.answer("YZ-SCJG")["state"] == "invited"
    market.uncheck(f"{expired} input")
    market.check(f"{s.card} input[value='{s.officer('500103-SJ-0002')}']")
    market.wait_for_selector(f"{s.card} .check-result.ok")
    market.click(f"{s.card} .accept button[type=submit]")
    s.taking_part(market, "YZ-SCJG")
    assert [o["name"] for o in s.answer("YZ-SCJG")["officers"]] == ["刘洋", "陈静"]


def culture_market_declines(s: Story) -> None:
    """文化市场: the lead declines, and must say why."""
    culture = s.phones.open("wh_lead")
    culture.wait_for_selector(s.card)
    culture.click(f"{s.card} details.decline summary")
    culture.click(f"{s.card} .decline-form button[type=submit]")
    assert culture.inner_text(f"{s.card} [data-error-for=reason]") == "请填写拒绝理由"
    reason = "本支队当日另有专项执法任务，已另行安排对该场所的检查"
    culture.fill(f"{s.card} textarea[name=reason]", reason)
    s.phones.shot(culture, "culture-declines")
    culture.click(f"{s.card} .decline-form button[type=submit]")
    culture.wait_for_selector(s.card, state="detached")
    answer = s.answer("YZ-WHZF")
    assert (answer["state"], answer["reason"]) == ("declined", reason)


def street_team_starts_and_records(s: Story) -> Any:
    """The street team opens the visit from today's list and starts it; the merged checklist
    asks each point once, labelled with its agencies; the team records its points (one with
    a photo), and finishing before the others have answered names what is missing."""
    team = s.phones.open("jfb_sun")
    team.wait_for_selector(f"{s.listed} li[data-id='{s.inspection_id}'] a.open")
    s.phones.shot(team, "team-today")
    team.click(f"{s.listed} li[data-id='{s.inspection_id}'] a.open")
    team.wait_for_selector("#start:not([hidden])")
    assert "极速网咖" in team.inner_text("#inspection-name")
    team.wait_for_selector("#inspection-map path.business-marker")
    team.click("#start")
    team.wait_for_selector("#inspection-state.in_progress")
    assert team.inner_text("#inspection-state") == "检查中"
    inspection = detail(s.server, s.inspection_id)
    names = {a["agency_id"]: a["name"] for a in inspection["agencies"]}
    labels = {a["name"] for p in inspection["checklist"] for a in p["agencies"]}
    assert labels == {names[s.agency(c)] for c in ("YZ-JFB-ZF", "YZ-XFJY", "YZ-SCJG")}
    codes = [p["code"] for p in inspection["checklist"]]
    assert len(codes) == len(set(codes))
    escape = next(p for p in inspection["checklist"] if p["code"] == "XF-CF-001-01")
    assert {a["id"] for a in escape["agencies"]} == {s.agency("YZ-JFB-ZF"), s.agency("YZ-XFJY")}
    team.wait_for_selector(f"#point-{escape['id']} .labels .label.mine")
    team_id = s.agency("YZ-JFB-ZF")
    for n, point in enumerate(points_of(inspection, team_id)):
        first = n == 0
        record(team, point["id"], "pass", photo=s.photo if first else None,
               note="现场查看疏散通道畅通" if first else "")  # fmt: skip
        result_shown(team, point["id"], team_id)
    team.click("#finish")
    team.wait_for_selector("#inspection-error:not([hidden])")
    assert team.inner_text("#inspection-error").startswith("还有")
    assert "消防救援支队" in team.inner_text("#inspection-error")
    s.phones.shot(team, "team-on-site")
    return inspection


FIRE_FAIL = "清理疏散通道内堆放的桌椅杂物，保持疏散通道畅通"
MARKET_FAIL = "立即停止现制饮品销售，依法办理食品经营许可证"


def fire_rescue_records(s: Story, inspection: Any) -> None:
    """消防: the street team's result is on the shared point, read-only; a blocked escape
    route fails with a photo, the rest pass."""
    fire = s.phones.pages["xf_zhang"]
    s.open_inspection(fire)
    escape = next(p for p in inspection["checklist"] if p["code"] == "XF-CF-001-01")
    team_id = s.agency("YZ-JFB-ZF")
    fire.wait_for_selector(f"#point-{escape['id']} .result[data-agency-id='{team_id}']")
    fire_id = s.agency("YZ-XFJY")
    for point in points_of(inspection, fire_id):
        if point["id"] == escape["id"]:
            record(fire, point["id"], "fail", requirement=FIRE_FAIL, photo=s.photo,
                   deadline=today() + timedelta(days=10), note="二楼疏散通道堆放桌椅")  # fmt: skip
        else:
            record(fire, point["id"], "pass")
        result_shown(fire, point["id"], fire_id)
    centre(fire, f"#point-{escape['id']}")
    s.phones.shot(fire, "fire-findings")


def market_regulation_records_offline(s: Story, inspection: Any) -> None:
    """市场监管: the rest pass; then, without a signal, the missing food licence with a photo
    waits on the phone. Back online it reaches the server but the answer is lost on the way
    back; sent again under the same key, it is recorded once."""
    market = s.phones.pages["sj_liu"]
    s.open_inspection(market)
    market_id = s.agency("YZ-SCJG")
    licence = next(p for p in points_of(inspection, market_id) if p["code"] == "SP-CF-001-01")
    for point in points_of(inspection, market_id):
        if point["id"] != licence["id"]:
            record(market, point["id"], "pass")
            result_shown(market, point["id"], market_id)
    market.context.set_offline(True)
    note = "现场销售现制奶茶，未取得食品经营许可"
    record(market, licence["id"], "fail", requirement=MARKET_FAIL, photo=s.photo,
           deadline=today() + timedelta(days=15), note=note)  # fmt: skip
    market.wait_for_selector(f"#point-{licence['id']} .waiting:not([hidden])")
    assert market.inner_text("#outbox") == "待发送 1 项"
    assert market.inner_text("#status") == "离线"
    centre(market, f"#point-{licence['id']}")
    s.phones.shot(market, "market-offline")
    assert not failed_of(s.server, s.inspection_id, market_id)

    lost: list[Any] = []

    def lose_the_answer(route: Any) -> None:
        lost.append(route.fetch())  # the server records it ...
        route.abort("connectionreset")  # ... and the phone never hears back

    findings = f"**/api/v1/enforcement/inspections/{s.inspection_id}/findings"
    market.route(findings, lose_the_answer)
    with market.expect_event("requestfailed", lambda r: r.url.endswith("/findings")):
        market.context.set_offline(False)
    assert len(lost) == 1 and lost[0].status == 201
    assert market.inner_text("#outbox") == "待发送 1 项"
    market.unroute(findings)
    resent: list[Any] = []
    market.on("response", lambda r: resent.append(r) if r.url.endswith("/findings") else None)
    market.context.set_offline(True)
    market.context.set_offline(False)  # the phone notices the network again
    market.wait_for_selector("#outbox", state="hidden", timeout=30_000)
    result_shown(market, licence["id"], market_id)
    assert [r.status for r in resent] == [200]  # the first one's finding, not a second
    (sent,) = failed_of(s.server, s.inspection_id, market_id)
    assert sent["photos"] == 1 and sent["requirement"] == MARKET_FAIL
    assert sent["checklist_item_id"] in licence["checklist_item_ids"]
    # Shrunk on the phone: the 2400 × 1800 picture arrived as a 1600 × 1200 JPEG.
    url = f"{s.server.url}{API}/inspections/{s.inspection_id}/findings/{sent['id']}/photos/0"
    photo = httpx.get(url, headers=login(s.server, "sj_liu"))
    assert _image_size(photo.content) == ("jpeg", 1600, 1200)
    # The others' results come in on the fire officer's phone by themselves.
    fire = s.phones.pages["xf_zhang"]
    fire.wait_for_selector(f"#point-{licence['id']}.readonly .result[data-agency-id='{market_id}']"
                           ".fail", timeout=30_000)  # fmt: skip


def street_team_finishes_and_they_sign(s: Story) -> None:
    """The street team finishes; the party and an officer sign on the screen, each
    signature sent as a 600 × 240 PNG with its role, name and an idempotency key."""
    team = s.phones.pages["jfb_sun"]
    team.click("#finish")
    team.wait_for_selector("#inspection-state.findings_recorded")
    team.click("#tab-signatures")
    endpoint = SignatureEndpoint(team, s.inspection_id)
    team.wait_for_selector("[data-signer=party]")
    assert team.input_value("#signer-party") == "陈建国"
    sign(team, "party")
    officer = f"officer-{s.officer('500103-JFB-0001')}"
    sign(team, officer)
    team.wait_for_selector(f"[data-signer='{officer}'].signed img.signed")
    team.wait_for_selector("[data-signer=party].signed .signed-at:not([hidden])")
    s.phones.shot(team, "signatures")
    endpoint.wait_for_answers(team, 2)
    assert endpoint.answers[:2] == [201, 201]
    stored = httpx.get(f"{s.server.url}{API}/inspections/{s.inspection_id}/signatures",
                       headers=login(s.server, "jfb_sun"))  # fmt: skip
    assert stored.status_code == 200, stored.text
    assert sorted(x["role"] for x in stored.json()) == ["officer", "party"]
    party, mine = endpoint.sent[:2]
    assert party.headers["idempotency-key"] != mine.headers["idempotency-key"]
    body = party.post_data_buffer
    assert (_field(body, "role"), _field(body, "name")) == ("party", "陈建国")
    png = body[body.index(b"\x89PNG") : body.rindex(b"IEND") + 8]
    assert _image_size(png) == ("png", 600, 240)
    assert _field(mine.post_data_buffer, "officer_id") == str(s.officer("500103-JFB-0001"))


def the_combined_notice(s: Story) -> str:
    """The one notice: issued, listed, opened as a PDF with every agency's lines; served on
    the spot. Returns its number."""
    team = s.phones.pages["jfb_sun"]
    team.click("#tab-checklist")
    team.click("#issue")
    row = team.wait_for_selector("#documents li[data-document-id]")
    number = str(detail(s.server, s.inspection_id)["notice"]["number"])
    assert number in row.inner_text() and "综合检查整改通知书" in row.inner_text()
    s.phones.shot(team, "documents")
    pdf = pdf_opened(team, "#documents li[data-document-id] button")
    text = pdf_text(pdf)
    for words in (number, "渝中区极速网咖", "重庆市渝中区消防救援支队", FIRE_FAIL,
                  "二楼疏散通道堆放桌椅", "重庆市渝中区市场监督管理局", MARKET_FAIL):  # fmt: skip
        assert words in text, words
    assert "文化市场综合行政执法支队" not in text  # declined: not an issuer
    deadline = today() + timedelta(days=15)
    assert chinese(deadline) in text
    issued = httpx.get(f"{s.server.url}{API}/documents?subject_kind=inspection&subject_id="
                       f"{s.inspection_id}", headers=login(s.server, "jfb_sun")).json()  # fmt: skip
    assert hashlib.sha256(pdf).hexdigest() == issued[0]["sha256"]  # the very document

    team.click("#tab-checklist")
    team.select_option("#serve-method", "直接送达")
    team.click("#serve button[type=submit]")
    team.wait_for_selector("#inspection-state.notice_served")
    assert team.inner_text("#inspection-facts dd[data-fact=deadline]") == chinese(deadline)
    return number


def reinspection_closes_it(s: Story, number: str) -> None:
    """After the deadline (time moved on: the deadlines set back to yesterday) the fire
    officer re-inspects: both points rectified, the visit is closed; the notice is among
    the visit's documents on the fire officer's phone too; the page in English."""
    set_back_deadlines(s.server.database_url, s.inspection_id)
    fire = s.phones.pages["xf_zhang"]
    fire.reload()
    fire.wait_for_selector("#reinspection:not([hidden])")
    failed = [f for f in detail(s.server, s.inspection_id)["findings"] if f["outcome"] == "fail"]
    assert len(failed) == 2
    for f in failed:
        fire.click(f"#reinspection li[data-finding-id='{f['id']}'] label.choice.pass")
    fire.fill("#reinspection-note", "复查时疏散通道已清理，现制饮品已下架并已申请许可")
    centre(fire, "#reinspect")
    s.phones.shot(fire, "reinspection")
    fire.click("#reinspect")
    fire.wait_for_selector("#inspection-state.closed")
    closed = detail(s.server, s.inspection_id)
    assert (closed["state"], closed["outcome"]) == ("closed", "rectification")
    assert all(f["rectified"] for f in closed["findings"] if f["outcome"] == "fail")
    assert fire.inner_text("#inspection-facts dd[data-fact=outcome]") == "整改完毕"
    s.phones.shot(fire, "closed")
    fire.click("#tab-documents")
    assert number in fire.wait_for_selector("#documents li[data-document-id]").inner_text()
    fire.click("#lang")
    fire.wait_for_selector("#inspection-state:text-is('Closed')")
    assert fire.inner_text("#tab-documents") == "Documents"


def story(server: ServerProcess, browser: Any, artifacts: Path, tmp_path: Path, run: str) -> None:
    """The internet-café joint inspection, phone by phone."""
    known = ids(server.database_url)
    _, inspection_id = create_joint_inspection(server, known)
    scheduled = datetime.fromisoformat(detail(server, inspection_id)["scheduled_at"])
    listed = "#today-list" if scheduled.astimezone(SHANGHAI).date() == today() else "#upcoming-list"
    photo = tmp_path / "IMG_2041.png"
    photo.write_bytes(_png(2400, 1800))
    phones = Phones(browser, server, artifacts, run)
    s = Story(server, known, inspection_id, phones, photo, listed)
    try:
        fire_rescue_accepts(s)
        market_regulation_is_refused_then_accepts(s)
        culture_market_declines(s)
        inspection = street_team_starts_and_records(s)
        fire_rescue_records(s, inspection)
        market_regulation_records_offline(s, inspection)
        street_team_finishes_and_they_sign(s)
        number = the_combined_notice(s)
        reinspection_closes_it(s, number)
        assert phones.errors == []
    finally:
        phones.close()


def chinese(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def set_back_deadlines(url: str, inspection_id: int) -> None:
    """Time passes: the visit's, the notice's and the findings' deadlines become yesterday."""
    yesterday = today() - timedelta(days=1)
    engine = create_engine(url)
    with Session(engine) as session:
        session.execute(update(Inspection).where(Inspection.id == inspection_id)
                        .values(rectification_deadline=yesterday))  # fmt: skip
        session.execute(update(NoticeRow).where(NoticeRow.inspection_id == inspection_id)
                        .values(deadline=yesterday))  # fmt: skip
        session.execute(update(Finding).where(Finding.inspection_id == inspection_id,
                                              Finding.outcome == "fail")
                        .values(deadline=yesterday))  # fmt: skip
        session.commit()
    engine.dispose()


def test_the_internet_cafe_joint_inspection_on_the_officers_phones(
    server: tuple[ServerProcess, str],
    browser: Any,
    artifacts: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    srv, _ = server
    enforce_the_district(srv.database_url)
    story(srv, browser, artifacts, tmp_path, request.node.callspec.id)

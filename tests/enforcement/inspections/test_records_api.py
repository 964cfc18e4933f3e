"""The on-site record (现场检查笔录) of the café's joint inspection: the party and the
officers sign on a phone (each PNG kept once however often the phone resends it), and
after the visit each agency that took part issues its own record with its officers, its
results and the signatures, readable by every agency on the visit."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.enforcement.inspections.conftest import API, VISIT, Café, ok
from tests.enforcement.inspections.test_joint_api import act, plan_and_answer, record_all
from tests.fakes import JPEG

from cityops.auth.models import AuditEntry
from cityops.enforcement.inspections.signatures import png_size


def png(width: int = 600, height: int = 240, colour: tuple[int, int, int] = (20, 20, 20)) -> bytes:
    """A plain PNG of the given size, as the page's signature pad sends (600 × 240)."""
    row = b"\x00" + bytes(colour) * width
    raw = zlib.compress(row * height, 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(BytesIO(pdf)).pages))


def sign(api: TestClient, h: dict[str, str], inspection_id: int, key: str, **fields: Any) -> Any:
    files = {"file": ("signature.png", fields.pop("file", png()), "image/png")}
    data = {k: str(v) for k, v in fields.items()}
    return api.post(
        f"{API}/inspections/{inspection_id}/signatures",
        headers=h | {"Idempotency-Key": key},
        data=data,
        files=files,
    )


@pytest.fixture
def on_site(api: TestClient, login: Any, cafe: Café, clock: Any) -> dict[str, Any]:
    """The café's visit started, every point answered (three fail), fire and culture on it,
    market regulation declined."""
    detail = plan_and_answer(api, login, cafe)
    clock.current = VISIT + timedelta(minutes=5)
    act(api, login("jfb_officer"), f"/{cafe.inspection_id}/start")
    record_all(api, login, cafe, detail["checklist"])
    return detail


@pytest.mark.usefixtures("on_site")
def test_the_party_and_the_officers_sign_and_each_agency_issues_its_record(
    api: TestClient, login: Any, cafe: Café, clock: Any, session: Session
) -> None:
    i, o = cafe.inspection_id, cafe.officers
    h, fire = login("jfb_officer"), login("fire_officer")
    # Signed on the street team's phone while on site; a resend is answered with the first.
    first = sign(api, h, i, "k-party", role="party", name="陈建国")
    assert first.status_code == 201, first.text
    party = first.json()
    assert (party["role"], party["name"], party["officer_id"]) == ("party", "陈建国", None)
    again = sign(api, h, i, "k-party", role="party", name="陈建国")
    assert again.status_code == 200 and again.json()["id"] == party["id"]
    sun = ok(sign(api, h, i, "k-sun", role="officer", name="孙浩",
                  officer_id=o["500103-JFB-0001"]), 201)  # fmt: skip
    # The fire officer signs on their own phone.
    ok(sign(api, fire, i, "k-zw", role="officer", name="张伟", officer_id=o["500103-XF-0001"]), 201)

    # Refused, naming the field: an officer not on the visit, no officer id, a wrong name,
    # a photo, a tall picture; someone not on the visit may not take signatures.
    signer, jfb = {"role": "party", "name": "陈建国"}, o["500103-JFB-0001"]
    cases = [
        ({"role": "officer", "name": "刘洋", "officer_id": o["500103-SJ-0001"]}, "officer_id", 422),
        ({"role": "officer", "name": "孙浩"}, "officer_id", 422),
        ({"role": "officer", "name": "马超", "officer_id": jfb}, "name", 422),
        (signer | {"officer_id": jfb}, "officer_id", 422),
        (signer | {"file": JPEG}, "file", 422),
        (signer | {"file": png(240, 600)}, "file", 422),
        (signer | {"file": png(20000, 40)}, "file", 422),
        (signer | {"name": "x" * 61}, "name", 422),
    ]
    for n, (fields, path, status) in enumerate(cases):
        r = sign(api, h, i, f"bad-{n}", **fields)
        assert r.status_code == status, (fields, r.text)
        assert path in r.text, (fields, r.text)
    assert (
        sign(api, login("market_officer"), i, "m", role="party", name="陈建国").status_code == 403
    )

    listed = ok(api.get(f"{API}/inspections/{i}/signatures", headers=login("culture_officer")))
    assert [(s["role"], s["name"]) for s in listed] == [
        ("party", "陈建国"), ("officer", "孙浩"), ("officer", "张伟"),
    ]  # fmt: skip
    image = api.get(sun["url"], headers=fire)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert png_size(image.content) == (600, 240)
    assert api.get(f"{API}/inspections/{i}/signatures/99999.png", headers=h).status_code == 404

    # Not before the visit is finished.
    r = api.post(f"{API}/inspections/{i}/record", headers=h, json={})
    assert r.status_code == 409 and "finish" in r.json()["detail"]
    clock.current = VISIT + timedelta(hours=1, minutes=10)
    act(api, h, f"/{i}/finish")
    # Signing again replaces the signer's earlier signature (the latest counts).
    ok(sign(api, h, i, "k-party-2", role="party", name="陈建国", file=png(600, 240, (0, 0, 90))),
       201)  # fmt: skip
    assert len(ok(api.get(f"{API}/inspections/{i}/signatures", headers=h))) == 3

    records = act(api, h, f"/{i}/record", 201, json={"present": "陈建国（店长）"})
    names = {cafe.ids[c]: c for c in cafe.ids}
    assert sorted(names[r["agency_id"]] for r in records) == ["YZ-JFB-ZF", "YZ-WHZF", "YZ-XFJY"]
    fire_record = next(r for r in records if r["agency_id"] == cafe.ids["YZ-XFJY"])
    assert fire_record["number"] == "渝中消检字〔2026〕第1号"
    assert fire_record["title"] == "现场检查笔录"
    # Every agency on the visit reads every record; the documents list the inspection's.
    pdf = api.get(fire_record["url"],
                  headers=login("culture_officer"))  # fmt: skip
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = text_of(pdf.content)
    for phrase in (
        "重庆市渝中区消防救援支队", "现场检查笔录", "渝中消检字〔2026〕第1号",
        "张伟（执法证号：500103-XF-0001）", "李娜（执法证号：500103-XF-0002）",
        "渝中区极速网咖", "陈建国（店长）", "综合查一次", "二楼东侧安全出口堆放纸箱",
        "大厅2具灭火器压力不足", "发现问题", "执法人员签名",
    ):  # fmt: skip
        assert phrase in text, phrase
    assert "孙浩（执法证号" not in text  # the street team's officer is on its own record
    assert "检查时间：2026年11月26日10时05分至11时10分" in text
    reader = PdfReader(BytesIO(pdf.content))
    drawn = [x for page in reader.pages for x in page.images]
    assert len(drawn) == 2  # the party's latest and 张伟's; 李娜 signs in ink
    detail = ok(api.get(f"{API}/inspections/{i}", headers=fire))
    assert [r["document_id"] for r in detail["records"]] == [r["document_id"] for r in records]
    mine = ok(api.get(f"{API}/documents", headers=fire,
                      params={"subject_kind": "inspection", "subject_id": i}))  # fmt: skip
    assert fire_record["document_id"] in [d["id"] for d in mine]

    # Once: neither a second issue nor a signature after it.
    assert api.post(f"{API}/inspections/{i}/record", headers=h, json={}).status_code == 409
    late = sign(api, h, i, "late", role="party", name="陈建国")
    assert late.status_code == 409 and "issued" in late.json()["detail"]
    session.expire_all()
    actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(i))))
    assert {"inspection.signature", "inspection.record"} <= actions


def test_signatures_wait_for_the_visit_to_start(api: TestClient, login: Any, cafe: Café) -> None:
    plan_and_answer(api, login, cafe)
    r = sign(api, login("jfb_officer"), cafe.inspection_id, "early", role="party", name="陈建国")
    assert r.status_code == 409 and "scheduled" in r.json()["detail"]

"""Residents' free text to case classes: how the classifier behaves, what the centre's
staff get from the API, and its accuracy on the held-out set of reports."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import EPOCH, GRID_A, inside

from cityops.cases.models import Case
from cityops.citizens.classify import Classifier, KnownClass, build, catalog_classes, vocabulary
from cityops.citizens.service import load_classifier

DATA = Path(__file__).parent / "data" / "reports.csv"
SERVICES = Path(__file__).parents[2] / "src" / "cityops" / "citizens" / "seed" / "services.csv"
# Measured by bench/classify.py: 294 and 352 of 360 reports when the set was made; 317 and
# 355 after the classifier was tuned on the development set (data/dev.csv) alone. The
# classifier is deterministic, so a change that loses any of them fails.
TOP1_FLOOR = 317 / 360
TOP3_FLOOR = 355 / 360

CLASSES = [
    KnownClass("E0102", "暴露垃圾", "市容环境", "暴露垃圾面积大于0.5平方米"),
    KnownClass("P0118", "路灯", "公用设施", "路灯不亮、损坏"),
    KnownClass("E0502", "占道经营", "街面秩序", "商贩占道摆摊经营"),
]
TERMS = {
    "E0102": ["垃圾堆", "乱扔垃圾", "garbage", "trash"],
    "P0118": ["路灯不亮", "黑灯瞎火", "street light", "lamp"],
    "E0502": ["摆摊", "小贩", "street vendor"],
}


def small() -> Classifier:
    return build(CLASSES, TERMS)


def test_the_likeliest_class_comes_first_with_a_confidence() -> None:
    suggestions = small().suggest("楼下路灯不亮好几天了，晚上黑灯瞎火的")
    assert suggestions[0].class_code == "P0118"
    confidences = [s.confidence for s in suggestions]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.5 < confidences[0] <= 1 and sum(confidences) <= 1.0001
    assert suggestions[0].name == "路灯"


def test_english_words_and_their_plurals_are_understood() -> None:
    assert small().suggest("Street lights are out on our road")[0].class_code == "P0118"
    assert small().suggest("piles of trash next to the bins")[0].class_code == "E0102"


def test_a_miswritten_word_still_matches_through_its_characters() -> None:
    # 垃级 for 垃圾: the pair 垃 + the rest of the phrase still leads to the class
    assert small().suggest("门口一大堆垃级没人管")[0].class_code == "E0102"


def test_a_text_with_nothing_known_gets_no_suggestion() -> None:
    assert small().suggest("你好") == []
    assert small().suggest("!!!") == []


def test_closed_cases_teach_the_residents_own_words() -> None:
    text = "好多卖水果的三轮车"
    assert "E0502" not in [s.class_code for s in small().suggest(text)][:1]
    taught = build(CLASSES, TERMS, cases=[("E0502", "人行道上卖水果的三轮车占道")] * 3)
    assert taught.suggest(text)[0].class_code == "E0502"
    assert taught.suggest(text)[0].confidence > (
        next((s.confidence for s in small().suggest(text) if s.class_code == "E0502"), 0.0)
    )


def test_the_centre_s_staff_get_the_top_three_and_whether_to_route_automatically(
    client: TestClient, login: Any
) -> None:
    r = client.post("/api/v1/citizens/classify", headers=login("call_taker"),
                    json={"text": "小区门口的垃圾堆了三天没人清运，臭得很"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["suggestions"][0]["class_code"] == "E0102"
    assert len(body["suggestions"]) == 3  # the test catalog has three classes
    assert body["automatic"] is (body["suggestions"][0]["confidence"] >= body["threshold"])
    r = client.post("/api/v1/citizens/classify", headers=login("inspector"), json={"text": "x"})
    assert r.status_code == 403
    r = client.post("/api/v1/citizens/classify", headers=login("call_taker"), json={"text": ""})
    assert r.status_code == 422


def _reports() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _shipped() -> Classifier:
    with SERVICES.open(encoding="utf-8") as f:
        services = [(r["class_code"], f"{r['name']} {r['description']} {r['keywords']}")
                    for r in csv.DictReader(f)]  # fmt: skip
    return build(catalog_classes(), vocabulary(), services)


def test_the_held_out_reports_are_classified_at_least_as_well_as_when_measured() -> None:
    reports = _reports()
    assert len(reports) >= 300
    classifier = _shipped()
    top1 = top3 = 0
    for r in reports:
        codes = [s.class_code for s in classifier.suggest(r["text"], k=3)]
        top1 += codes[:1] == [r["class_code"]]
        top3 += r["class_code"] in codes
    assert top1 / len(reports) >= TOP1_FLOOR, f"top-1 {top1 / len(reports):.3f}"
    assert top3 / len(reports) >= TOP3_FLOOR, f"top-3 {top3 / len(reports):.3f}"


@pytest.mark.usefixtures("district")
def test_the_centre_s_closed_cases_teach_it_but_not_a_camera_s(session: Session) -> None:
    text = "好多卖水果的三轮车"

    def confidence_of(code: str) -> float:
        found = load_classifier(session).suggest(text, k=3)
        return next((s.confidence for s in found if s.class_code == code), 0.0)

    before = confidence_of("E0502")

    def closed(code: str, kind: str, description: str) -> Case:
        lon, lat = inside(GRID_A)
        return Case(class_code=code, family="event", urgency="normal", state="closed",
                    description=description, lon=lon, lat=lat, region_code=GRID_A,
                    source_kind=kind, source=kind, created_at=EPOCH, reported_at=EPOCH,
                    stage_started_at=EPOCH, updated_at=EPOCH, closed_at=EPOCH)  # fmt: skip

    # a camera's words teach nothing of how residents write
    session.add_all([closed("E0102", "camera", "卖水果的三轮车") for _ in range(3)])
    session.flush()
    assert confidence_of("E0102") < 0.5
    session.add_all([closed("E0502", "hotline", "人行道上卖水果的三轮车占道") for _ in range(3)])
    session.flush()
    assert confidence_of("E0502") > max(before, 0.5)

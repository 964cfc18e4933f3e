"""What a penalty implies from its content alone: the simplified procedure's limits at
their exact boundaries (Art. 51), legal review (Art. 58) and the hearing right (Art. 63)
by the agency's thresholds, a citizen's name as published, and document prefixes."""

from __future__ import annotations

import pytest

from cityops.enforcement.penalties import checks
from cityops.enforcement.penalties.agency_rules import derive_prefix
from cityops.errors import Invalid

THRESHOLDS = checks.Thresholds(review_fine=50_000, hearing_fine=50_000)


@pytest.mark.parametrize(
    ("party", "fine", "allowed"),
    [
        ("citizen", 200, True),
        ("citizen", 201, False),
        ("organisation", 3000, True),
        ("organisation", 3001, False),
        ("citizen", None, True),  # a warning alone
    ],
)
def test_the_simplified_procedure_at_its_boundaries(
    party: str, fine: int | None, allowed: bool
) -> None:
    measures = ["fine"] if fine else ["warning"]
    if allowed:
        checks.check_simplified(party, fine, measures)
        return
    with pytest.raises(Invalid) as caught:
        checks.check_simplified(party, fine, measures)
    assert caught.value.status == 422
    assert caught.value.errors[0].path == "fine"
    assert "第五十一条" in caught.value.detail


def test_the_simplified_procedure_imposes_nothing_but_a_warning_or_a_fine() -> None:
    with pytest.raises(Invalid) as caught:
        checks.check_simplified("organisation", 1000, ["fine", "stop_business"])
    assert caught.value.errors[0].path == "measures" and "责令停产停业" in caught.value.detail
    with pytest.raises(Invalid):
        checks.check_simplified("citizen", None, [])


def test_measures_and_their_fine_go_together() -> None:
    checks.check_measures(["warning", "fine"], 100)
    for measures, fine, path in ((["fine"], None, "fine"), (["warning"], 100, "measures"),
                                 (["flogging"], None, "measures.0")):  # fmt: skip
        with pytest.raises(Invalid) as caught:
            checks.check_measures(measures, fine)
        assert caught.value.errors[0].path == path


def test_legal_review_and_the_hearing_right_by_content() -> None:
    small = checks.Penalty("organisation", 20_000, ("fine",))
    assert checks.review_reasons(small, THRESHOLDS) == []
    assert checks.hearing_reasons(small, THRESHOLDS) == []
    at = checks.Penalty("organisation", 50_000, ("fine",))  # 以上 includes the figure
    assert checks.review_reasons(at, THRESHOLDS) == ["罚款50,000元，达到重大执法决定标准50,000元"]
    assert checks.hearing_reasons(at, THRESHOLDS) == ["较大数额罚款（50,000元，标准50,000元）"]
    revoke = checks.Penalty("organisation", None, ("warning", "revoke_licence"))
    assert checks.hearing_reasons(revoke, THRESHOLDS) == ["吊销许可证件"]
    assert checks.review_reasons(revoke, THRESHOLDS) == ["吊销许可证件属重大执法决定"]
    outside = checks.Penalty("organisation", 1000, ("fine",), departs_from_benchmark=True,
                             complex=True)  # fmt: skip
    assert len(checks.review_reasons(outside, THRESHOLDS)) == 2
    after_hearing = checks.review_reasons(small, THRESHOLDS, hearing_held=True)
    assert after_hearing == ["直接关系当事人重大权益，经过听证程序（第五十八条第一款第二项）"]
    confiscation = checks.Penalty("organisation", None, ("confiscate_income",),
                                  confiscated_value=80_000)  # fmt: skip
    assert checks.hearing_reasons(confiscation, THRESHOLDS)


def test_what_the_public_sees_and_what_the_decision_says() -> None:
    assert checks.mask_name("张三") == "张*"
    assert checks.mask_name("欧阳修文") == "欧***"
    assert checks.penalty_text(20_000, ["fine", "warning"]) == "警告，罚款人民币20,000元"
    assert checks.penalty_text(None, []) == "不予行政处罚"


@pytest.mark.parametrize(
    ("name", "kind", "prefix"),
    [
        ("重庆市渝中区消防救援支队", "fire_rescue", "渝中消"),
        ("重庆市渝中区市场监督管理局", "market_regulation", "渝中市监"),
        ("重庆市公安局渝中区分局", "public_security", "渝中公"),
        ("渝中区解放碑街道综合行政执法大队", "town_street", "渝中解放碑综执"),
    ],
)
def test_document_prefixes_derive_from_the_agency(name: str, kind: str, prefix: str) -> None:
    assert derive_prefix(name, kind) == prefix

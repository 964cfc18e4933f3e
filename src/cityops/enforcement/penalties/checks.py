"""What a penalty implies, judged from its content alone: whether it needs legal review
(Art. 58), whether it carries the hearing right (Art. 63), whether the simplified procedure
may impose it (Art. 51), and how the public sees a party's name. Pure."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from cityops.enforcement.penalties import rules
from cityops.enforcement.penalties.rules import Measure
from cityops.errors import FieldProblem, Invalid


@dataclass(frozen=True)
class Penalty:
    """The content of an intended or decided penalty."""

    party_kind: str
    fine: int | None
    measures: tuple[str, ...]
    confiscated_value: int | None = None
    departs_from_benchmark: bool = False
    major_public_interest: bool = False
    complex: bool = False


@dataclass(frozen=True)
class Thresholds:
    """The agency's figures (see `agency_rules`)."""

    review_fine: int
    hearing_fine: int


def review_reasons(p: Penalty, t: Thresholds, *, hearing_held: bool = False) -> list[str]:
    """Why legal review must precede the decision (Art. 58 para. 1 and the agency's list of
    major decisions); empty when it need not."""
    reasons = []
    if p.major_public_interest:
        reasons.append("涉及重大公共利益（第五十八条第一款第一项）")
    if hearing_held:
        reasons.append("直接关系当事人重大权益，经过听证程序（第五十八条第一款第二项）")
    if p.complex:
        reasons.append("案件情况疑难复杂、涉及多个法律关系（第五十八条第一款第三项）")
    if p.fine is not None and p.fine >= t.review_fine:
        reasons.append(f"罚款{p.fine:,}元，达到重大执法决定标准{t.review_fine:,}元")
    heavy = sorted(set(p.measures) & rules.HEARING_MEASURES)
    if heavy:
        names = "、".join(rules.MEASURE_NAMES_ZH[m] for m in heavy)
        reasons.append(f"{names}属重大执法决定")
    if p.departs_from_benchmark:
        reasons.append("罚款超出裁量基准，须说明理由并审核")
    return reasons


def hearing_reasons(p: Penalty, t: Thresholds) -> list[str]:
    """Why the party may ask for a hearing (Art. 63 para. 1); empty when they may not."""
    reasons = []
    if p.fine is not None and p.fine >= t.hearing_fine:
        reasons.append(f"较大数额罚款（{p.fine:,}元，标准{t.hearing_fine:,}元）")
    confiscating = set(p.measures) & rules.CONFISCATIONS
    if confiscating and (p.confiscated_value or 0) >= t.hearing_fine:
        reasons.append(f"没收较大数额违法所得或者较大价值非法财物（{p.confiscated_value:,}元）")
    for measure in sorted(set(p.measures) & rules.HEARING_MEASURES):
        reasons.append(rules.MEASURE_NAMES_ZH[measure])
    return reasons


def check_measures(measures: Collection[str], fine: int | None, *, path: str = "") -> None:
    """Known measure codes, and a fine given exactly when `fine` is among them."""
    known = {m.value for m in Measure}
    for i, m in enumerate(measures):
        if m not in known:
            problem = FieldProblem(f"{path}measures.{i}", "unknown measure")
            raise Invalid(f"unknown measure {m!r}", errors=[problem])
    if Measure.FINE in measures and not fine:
        raise Invalid("a fine needs its amount",
                      errors=[FieldProblem(f"{path}fine", "give the fine in CNY")])  # fmt: skip
    if fine and Measure.FINE not in measures:
        problem = FieldProblem(f"{path}measures", "add 'fine' for a fine")
        raise Invalid("a fine is one of the measures", errors=[problem])


def simplified_limit(party_kind: str) -> rules.Rule:
    if party_kind == "citizen":
        return rules.SIMPLIFIED_CITIZEN_MAX
    return rules.SIMPLIFIED_ORGANISATION_MAX


def check_simplified(party_kind: str, fine: int | None, measures: Collection[str]) -> None:
    """Art. 51: on the spot, only a warning or a fine of at most 200 CNY (citizen) or 3,000
    CNY (organisation); a 422 naming the field otherwise."""
    other = sorted(set(measures) - rules.SIMPLIFIED_MEASURES)
    if other:
        names = "、".join(rules.MEASURE_NAMES_ZH.get(m, m) for m in other)
        raise Invalid(
            f"the simplified procedure imposes only a warning or a small fine, not {names} "
            f"({rules.SIMPLIFIED_CITIZEN_MAX.basis})",
            errors=[FieldProblem("measures", "only 'warning' and 'fine' on the spot")],
        )
    if not measures:
        raise Invalid("a decision on the spot imposes a warning or a fine",
                      errors=[FieldProblem("measures", "'warning' and/or 'fine'")])  # fmt: skip
    limit = simplified_limit(party_kind)
    if fine is not None and fine > limit.value:
        who = "a citizen" if party_kind == "citizen" else "an organisation"
        raise Invalid(
            f"a fine of {fine:,} CNY on {who} exceeds the simplified procedure's "
            f"{limit.value:,} CNY ({limit.basis}): use the general procedure",
            errors=[FieldProblem("fine", f"at most {limit.value} CNY for {who} on the spot")],
        )


def mask_name(name: str) -> str:
    """A citizen's name as published: the surname and a star for each other character."""
    name = name.strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def penalty_text(fine: int | None, measures: Collection[str], other: str = "") -> str:
    """处罚内容 in words: 警告，罚款人民币20,000元 …"""
    parts = []
    for m in Measure:
        if m not in measures:
            continue
        if m is Measure.FINE and fine:
            parts.append(f"罚款人民币{fine:,}元")
        else:
            parts.append(rules.MEASURE_NAMES_ZH[m])
    if other.strip():
        parts.append(other.strip())
    return "，".join(parts) or "不予行政处罚"

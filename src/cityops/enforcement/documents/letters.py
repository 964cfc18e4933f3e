"""The documents written as letters: the combined rectification notice, the order to
correct, the advance notice and the penalty decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from reportlab.platypus import Flowable

from cityops.enforcement.documents import content as c
from cityops.enforcement.documents.formats import chinese_date, days, money, percent
from cityops.enforcement.documents.layout import (
    BODY,
    FIELD,
    HEADING,
    close_with_signature,
    header,
    labelled,
    labelled_lines,
    para,
)
from cityops.enforcement.documents.typeset import Span, Typesetter
from cityops.enforcement.registries.citation import chinese_number

# Remedies the decision states: 行政复议法 (2023) Art. 20 para. 1 and 行政诉讼法 Art. 46.
RECONSIDERATION_DAYS = 60
LAWSUIT_MONTHS = 6
PENALTY_LAW = "《中华人民共和国行政处罚法》"


@dataclass(frozen=True)
class Setting:
    """What every layout function gets: the typesetter and the local time zone."""

    ts: Typesetter
    zone: ZoneInfo


def joined(items: Sequence[str]) -> str:
    """Citations in a sentence: 《甲》第一条、《乙》第二条."""
    return "、".join(i.strip() for i in items if i.strip())


def sentence(text: str) -> str:
    """`text` ending with a full stop (or the mark it already ends with)."""
    text = text.strip()
    return text if not text or text[-1] in "。！？；：" else text + "。"


def you(party: c.PartyInfo) -> str:
    return "你" if party.kind == "citizen" else "你单位"


def party_block(s: Setting, party: c.PartyInfo) -> list[Flowable]:
    """当事人 and how to reach them, one labelled line each."""
    citizen = party.kind == "citizen"
    rows = [
        ("当事人", party.name),
        ("身份证件号码" if citizen else "统一社会信用代码", party.identifier),
        ("法定代表人（负责人）", "" if citizen else party.representative),
        ("住址" if citizen else "地址", party.address),
        ("联系电话", party.phone),
    ]
    return [labelled(s.ts, label, value) for label, value in rows if value]


def numbered(s: Setting, items: Sequence[str]) -> list[Flowable]:
    """（1）…；（2）…。 one paragraph each."""
    out: list[Flowable] = []
    for k, item in enumerate(items, 1):
        end = "。" if k == len(items) else "；"
        out.append(para(s.ts, f"（{k}）{item.strip().rstrip('。；;')}{end}"))
    return out


def contact(s: Setting, issuer: c.Issuer) -> list[Flowable]:
    rows = [("联系地址", issuer.address), ("联系电话", issuer.phone)]
    return [labelled(s.ts, label, value, BODY) for label, value in rows if value]


def rectification_notice(s: Setting, d: c.RectificationNotice) -> list[Flowable]:
    """综合检查整改通知书: the findings of every agency, grouped by agency, each with what to
    do, by when (in bold) and on what legal basis."""
    ts = s.ts
    names = [i.name for i in d.issuers]
    story: list[Flowable] = header(ts, names, c.TITLES[type(d)], d.number)
    story.append(para(ts, f"{d.party.name}：", FIELD))
    story.append(
        para(ts, f"{chinese_date(d.inspected_on)}，{joined(names)}依照“综合查一次”联合检查"
                 f"机制，对{you(d.party)}位于{d.place}的经营场所进行了联合检查，发现存在下列"
                 f"问题。现将检查发现的问题及整改要求通知如下："),
    )  # fmt: skip
    agencies: list[str] = []
    for line in d.lines:
        if line.agency not in agencies:
            agencies.append(line.agency)
    for k, agency in enumerate(agencies, 1):
        story.append(para(ts, f"{chinese_number(k)}、{agency}", HEADING))
        findings = [line for line in d.lines if line.agency == agency]
        for m, line in enumerate(findings, 1):
            story.append(para(ts, f"（{chinese_number(m)}）存在问题：{sentence(line.finding)}"))
            story.append(para(ts, f"整改要求：{sentence(line.requirement)}"))
            story.append(
                para(ts, [Span("整改期限："), Span(f"{chinese_date(line.deadline)}前", bold=True),
                          Span("。")]),
            )  # fmt: skip
            if line.basis:
                story.append(para(ts, f"法律依据：{joined(line.basis)}。"))
    close = (
        f"请{you(d.party)}在上述期限内完成整改，整改完成后及时告知相关执法部门"
        + (f"（{d.contact.strip().rstrip('。')}）" if d.contact.strip() else "")
        + "。逾期未整改或者整改不符合要求的，相关执法部门将依法处理。"
    )
    story.append(para(ts, close))
    officers = [f"{o.name}（执法证号：{o.certificate_number}）" for o in d.officers]
    story += labelled_lines(ts, "检查人员", officers, BODY.but(indent=0))
    return close_with_signature(story, ts, names, chinese_date(d.issued_on))


def order_to_correct(s: Setting, d: c.OrderToCorrect) -> list[Flowable]:
    """责令限期改正通知书: the facts, the rule broken, what to do and the deadline in bold."""
    ts = s.ts
    story: list[Flowable] = header(ts, [d.issuer.name], c.TITLES[type(d)], d.number)
    story += party_block(s, d.party)
    story.append(para(ts, f"经查，{sentence(d.facts)}"))
    story.append(
        para(ts, [
            Span(f"上述行为违反了{joined(d.basis)}的规定。依据{joined(d.basis)}的规定，"
                 f"现责令{you(d.party)}于"),
            Span(f"{chinese_date(d.deadline)}前", bold=True),
            Span(f"改正。改正要求：{sentence(d.requirement)}"),
        ]),
    )  # fmt: skip
    story.append(
        para(ts, f"{you(d.party)}应当在期限届满前将改正情况书面告知本机关。逾期不改正的，本机关"
                 "将依法予以处理。"),
    )  # fmt: skip
    if d.reconsideration or d.court:
        story.append(para(ts, remedies(d.reconsideration, d.court, d.party, "通知")))
    story += contact(s, d.issuer)
    return close_with_signature(story, ts, [d.issuer.name], chinese_date(d.issued_on))


def advance_notice(s: Setting, d: c.AdvanceNotice) -> list[Flowable]:
    """行政处罚事先告知书 (行政处罚法 Art. 44, 45; a hearing under Art. 63, 64)."""
    ts = s.ts
    story: list[Flowable] = header(ts, [d.issuer.name], c.TITLES[type(d)], d.number)
    story += party_block(s, d.party)
    story.append(
        para(ts, f"本机关在调查中查明{you(d.party)}涉嫌违法，拟作出行政处罚。根据{PENALTY_LAW}"
                 "第四十四条的规定，现将拟作出行政处罚的事实、理由、依据及处罚内容告知如下："),
    )  # fmt: skip
    story.append(para(ts, "一、违法事实", HEADING))
    story.append(para(ts, sentence(d.facts)))
    if d.evidence:
        story.append(para(ts, "二、证据", HEADING))
        story += numbered(s, d.evidence)
    story.append(para(ts, f"{'三' if d.evidence else '二'}、理由和依据", HEADING))
    story.append(para(ts, f"{you(d.party)}的上述行为违反了{joined(d.basis)}的规定。"))
    story.append(para(ts, f"{'四' if d.evidence else '三'}、拟作出的行政处罚", HEADING))
    story.append(para(ts, sentence(d.intended_penalty)))
    story.append(
        para(ts, f"根据{PENALTY_LAW}第四十五条的规定，{you(d.party)}有权进行陈述和申辩。如有"
                 f"异议，请于收到本告知书之日起{days(d.statement_days)}内向本机关提出陈述、申辩；"
                 "逾期未提出的，视为放弃陈述和申辩的权利。"),
    )  # fmt: skip
    if d.hearing_days is not None:
        story.append(
            para(ts, f"根据{PENALTY_LAW}第六十三条、第六十四条的规定，{you(d.party)}有权要求举行"
                     f"听证。要求听证的，应当在收到本告知书之日起{days(d.hearing_days)}内向本机关"
                     "提出；逾期未提出的，视为放弃听证的权利。"),
        )  # fmt: skip
    story += contact(s, d.issuer)
    return close_with_signature(story, ts, [d.issuer.name], chinese_date(d.issued_on))


def remedies(reconsideration: str, court: str, party: c.PartyInfo, what: str = "决定") -> str:
    """The rights of appeal a decision states (复议 within 60 days, lawsuit within 6 months)."""
    parts = []
    if reconsideration:
        parts.append(
            f"可以在收到本{what}书之日起{days(RECONSIDERATION_DAYS)}内向{reconsideration}"
            "申请行政复议"
        )
    if court:
        parts.append(
            f"{'也' if parts else ''}可以在收到本{what}书之日起{chinese_number(LAWSUIT_MONTHS)}"
            f"个月内依法向{court}提起行政诉讼"
        )
    return f"{you(party)}如不服本{what}，" + "，".join(parts) + "。"


def penalty_decision(s: Setting, d: c.PenaltyDecision) -> list[Flowable]:
    """行政处罚决定书 (行政处罚法 Art. 59): party, facts and evidence, basis, discretion,
    penalty, payment (Art. 67, 72) and remedies."""
    ts = s.ts
    story: list[Flowable] = header(ts, [d.issuer.name], c.TITLES[type(d)], d.number)
    story += party_block(s, d.party)
    story.append(para(ts, f"违法事实：{sentence(d.facts)}"))
    if d.evidence:
        story.append(para(ts, "以上事实有下列证据证明："))
        story += numbered(s, d.evidence)
    if d.statements:
        story.append(para(ts, f"陈述、申辩情况：{sentence(d.statements)}"))
    story.append(
        para(ts, f"本机关认为，当事人的上述行为违反了{joined(d.duty_basis)}的规定。依据"
                 f"{joined(d.penalty_basis)}的规定，{d.discretion.strip().rstrip('。，')}，本机关"
                 "决定对当事人作出如下行政处罚："),
    )  # fmt: skip
    story.append(para(ts, [Span(sentence(d.penalty), bold=True)]))
    if d.fine:
        story.append(para(ts, f"罚款金额：{money(d.fine)}。"))
        story.append(
            para(ts, f"当事人应当自收到本决定书之日起{days(d.payment_days)}内，将罚款缴至"
                     f"{d.payment.strip().rstrip('。')}。到期不缴纳罚款的，本机关可以依据"
                     f"{PENALTY_LAW}第七十二条第一款第一项的规定，每日按罚款数额的"
                     f"{percent(d.late_fee_rate)}加处罚款，加处罚款的数额不超出罚款的数额。"),
        )  # fmt: skip
    story.append(para(ts, remedies(d.reconsideration, d.court, d.party)))
    story.append(
        para(ts, "申请行政复议或者提起行政诉讼的，行政处罚不停止执行，法律另有规定的除外。逾期"
                 "不申请行政复议、不提起行政诉讼又不履行本决定的，本机关将依法申请人民法院强制执行。"),
    )  # fmt: skip
    return close_with_signature(story, ts, [d.issuer.name], chinese_date(d.decided_on))

"""The documents laid out as forms: the filing approval and the proof of service as ruled
tables (label cells and value cells, rows as tall as their text), and the on-site record
with its labelled lines and signatures."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable, KeepTogether, Spacer

from cityops.enforcement.documents import content as c
from cityops.enforcement.documents.formats import chinese_date, chinese_time, local
from cityops.enforcement.documents.layout import (
    BLANK_DATE,
    BODY,
    FIELD,
    HEADING,
    LEADING,
    WIDTH,
    Form,
    SignLine,
    header,
    labelled,
    labelled_lines,
    para,
)
from cityops.enforcement.documents.letters import Setting, numbered, party_block, sentence
from cityops.enforcement.documents.typeset import Typesetter

# Civil Procedure Law Art. 89 (留置送达), which service under Administrative Penalty Law
# Art. 61 follows.
NOTE_ON_REFUSAL = (
    "说明：受送达人拒绝签收的，送达人应当在备注栏注明情况，邀请见证人到场并签名，"
    "把文书留在受送达人的住所，即视为送达。"
)


def officers_text(officers: Sequence[c.Officer]) -> str:
    """One officer a line, with the enforcement certificate number (执法证号)."""
    return "\n".join(f"{o.name}（执法证号：{o.certificate_number}）" for o in officers)


def signed(opinion: str, who: str, name: str, day: str) -> str:
    """An opinion cell: the opinion, then who signs and when."""
    return f"{opinion.strip()}\n\n{who}：{name or '　' * 6}　　{day or '　　' + BLANK_DATE}"


def filing_approval(s: Setting, d: c.FilingApproval) -> list[Flowable]:
    """立案审批表: case, party, facts, basis, officers, the proposer's and the approver's
    opinions. The 案由 row heads every page the form continues on."""
    ts = s.ts
    citizen = d.party.kind == "citizen"
    form = Form(ts, [84.0, WIDTH / 2 - 84.0, 84.0, WIDTH / 2 - 84.0])
    heading = form.wide("案由", d.case_title)
    form.row("案件来源", d.source, "提请日期", chinese_date(d.proposed_on))
    form.wide("当事人", d.party.name)
    form.row(
        "身份证件号码" if citizen else "统一社会信用代码", d.party.identifier,
        "法定代表人（负责人）", "" if citizen else d.party.representative,
    )  # fmt: skip
    form.row("住址" if citizen else "地址", d.party.address, "联系电话", d.party.phone)
    form.wide("简要案情", d.facts.strip())
    form.wide("立案依据", "\n".join(d.basis))
    form.wide("承办人员", officers_text(d.officers))
    form.wide("承办人意见", signed(d.proposer_opinion, "承办人", "", chinese_date(d.proposed_on)))
    approved = chinese_date(d.approved_on) if d.approved_on else ""
    form.wide("审批意见", signed(d.approver_opinion, "审批人", d.approver, approved))
    return [
        *header(ts, [d.issuer.name], c.TITLES[type(d)], d.number),
        Spacer(1, 6),
        form.table(repeat=heading),
    ]


def service_proof(s: Setting, d: c.ServiceProof) -> list[Flowable]:
    """送达回证: what was served, to whom, where, when and how, by whom, and room for the
    recipient's signature. The recipient row heads every page the form continues on."""
    ts = s.ts
    form = Form(ts, [120.0, WIDTH - 120.0])
    heading = form.wide("受送达人", d.recipient)
    form.wide("送达文书名称及文号", "\n".join(d.documents))
    form.wide("送达地点", d.place)
    form.wide("送达时间", chinese_time(d.served_at, s.zone))
    form.wide("送达方式", d.method)
    form.wide("送达人", f"{officers_text(d.servers)}\n签名：", blank_lines=1)
    form.wide("受送达人签名或者盖章", "", blank_lines=2)
    form.row("", f"{'　' * 14}{BLANK_DATE}")
    form.inner.append(len(form.rows) - 2)
    form.wide("备注", d.note.strip())
    return [
        *header(ts, [d.issuer.name], c.TITLES[type(d)], d.number),
        Spacer(1, 6),
        form.table(repeat=heading),
        Spacer(1, 6),
        para(ts, NOTE_ON_REFUSAL, BODY.but(size=14, leading=21, tracking=0)),
    ]


# The lines of an on-site record's signature area: (role of the signature, label).
SIGNERS = (
    ("party", "当事人（现场负责人）签名"),
    ("witness", "见证人签名"),
    ("officer", "执法人员签名"),
)


def _sign_line(ts: Typesetter, label: str, signed: Sequence[c.SignatureImage]) -> SignLine:
    """A line to sign on, with the signatures drawn on a screen for it and the latest day
    they were signed."""
    days = [x.signed_on for x in signed if x.signed_on is not None]
    return SignLine(
        ts, label, images=[x.png for x in signed], day=chinese_date(max(days)) if days else ""
    )


def on_site_record(s: Setting, d: c.OnSiteRecord) -> list[Flowable]:
    """现场检查笔录: when, where and by whom, the party, the rights told, what was seen and
    found, and the lines to sign."""
    ts = s.ts
    start, end = local(d.started_at, s.zone), local(d.ended_at, s.zone)
    until = f"{end.hour}时{end.minute:02d}分" if end.date() == start.date() else ""
    period = f"{chinese_time(d.started_at, s.zone)}至{until or chinese_time(d.ended_at, s.zone)}"
    officers = [f"{o.name}（执法证号：{o.certificate_number}）" for o in d.officers]
    story: list[Flowable] = header(ts, [d.issuer.name], c.TITLES[type(d)], d.number)
    story += [
        labelled(ts, "检查时间", period),
        labelled(ts, "检查地点", d.place),
        labelled(ts, "检查机关", d.issuer.name),
        *labelled_lines(ts, "执法人员", officers),
        *party_block(s, d.party),
        labelled(ts, "现场负责人（见证人）", d.present),
        para(ts, f"执法人员出示执法证件，表明身份，告知：我们是{d.issuer.name}的执法人员，现依法"
                 "进行检查，请予配合。你有权进行陈述和申辩；认为执法人员与本案有直接利害关系的，"
                 "有权申请回避。"),
        para(ts, "检查情况：", HEADING.but(indent=0)),
    ]  # fmt: skip
    story += [para(ts, text.strip()) for text in d.record.split("\n") if text.strip()]
    if d.findings:
        story.append(para(ts, "发现问题：", HEADING.but(indent=0)))
        story += numbered(s, [sentence(f) for f in d.findings])
    signatures = [
        Spacer(1, LEADING / 2),
        para(ts, "以上笔录已阅读（已向我宣读），与事实相符。", FIELD),
        *(
            _sign_line(ts, label, [x for x in d.signatures if x.role == role])
            for role, label in SIGNERS
        ),
    ]
    story.append(KeepTogether(signatures))
    return story

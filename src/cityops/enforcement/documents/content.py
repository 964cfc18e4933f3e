"""What each enforcement document (执法文书) says, as plain frozen dataclasses.

Inspections and penalty cases fill these from their rows; `render` lays them out as PDF.
Keeping the content apart from the layout means a document is tested for what it says
without reading a PDF, and the layout is tested once for every kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Issuer:
    """The agency that issues the document (its name is also the seal's text)."""

    name: str
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Officer:
    """An officer named in a document, with the enforcement certificate shown."""

    name: str
    certificate_number: str


@dataclass(frozen=True)
class PartyInfo:
    """The party (当事人): a citizen or an organisation."""

    name: str
    kind: str = "organisation"  # "citizen" | "organisation"
    identifier: str = ""  # 统一社会信用代码, or the citizen's ID number
    representative: str = ""  # 法定代表人（负责人）
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class RectificationLine:
    """One finding of a joint inspection, as one agency requires it corrected."""

    agency: str
    finding: str  # 存在问题
    requirement: str  # 整改要求
    deadline: date
    basis: tuple[str, ...] = ()  # citations, e.g. 《中华人民共和国消防法》第二十八条


@dataclass(frozen=True)
class RectificationNotice:
    """综合查一次 整改通知书: one combined notice for every agency's findings."""

    number: str
    party: PartyInfo
    place: str
    inspected_on: date
    issuers: tuple[Issuer, ...]  # the initiator first, then each agency that took part
    lines: tuple[RectificationLine, ...]
    issued_on: date
    contact: str = ""  # who to tell when corrected, and how to upload proof
    officers: tuple[Officer, ...] = ()


@dataclass(frozen=True)
class FilingApproval:
    """立案审批表."""

    number: str
    issuer: Issuer
    party: PartyInfo
    case_title: str  # 案由
    source: str  # 案件来源: 监督检查 / 投诉举报 / 移送 …
    facts: str  # 简要案情
    basis: tuple[str, ...]
    officers: tuple[Officer, ...]
    proposed_on: date
    proposer_opinion: str = ""
    approver: str = ""
    approver_opinion: str = ""
    approved_on: date | None = None


@dataclass(frozen=True)
class SignatureImage:
    """A signature drawn on a screen (a PNG), printed on its line of a record: `role` is
    party (当事人或现场负责人), witness (见证人) or officer (执法人员)."""

    role: str
    name: str
    png: bytes
    signed_on: date | None = None


@dataclass(frozen=True)
class OnSiteRecord:
    """现场检查笔录."""

    number: str
    issuer: Issuer
    party: PartyInfo
    place: str
    started_at: datetime
    ended_at: datetime
    officers: tuple[Officer, ...]
    present: str  # 现场负责人 / 见证人
    record: str  # 检查情况
    findings: tuple[str, ...] = ()
    signatures: tuple[SignatureImage, ...] = ()  # drawn on the phone; else signed in ink


@dataclass(frozen=True)
class OrderToCorrect:
    """责令限期改正通知书."""

    number: str
    issuer: Issuer
    party: PartyInfo
    facts: str
    basis: tuple[str, ...]
    requirement: str
    deadline: date
    issued_on: date
    reconsideration: str = ""  # 复议机关, stated with the remedies when given
    court: str = ""  # 管辖法院


@dataclass(frozen=True)
class AdvanceNotice:
    """行政处罚事先告知书 (Art. 44, 45; a hearing where Art. 63 applies)."""

    number: str
    issuer: Issuer
    party: PartyInfo
    facts: str
    evidence: tuple[str, ...]
    basis: tuple[str, ...]
    intended_penalty: str
    statement_days: int  # days to state and defend
    hearing_days: int | None  # days to ask for a hearing (Art. 64: 5), None if none
    issued_on: date


@dataclass(frozen=True)
class PenaltyDecision:
    """行政处罚决定书 (Art. 59)."""

    number: str
    issuer: Issuer
    party: PartyInfo
    facts: str
    evidence: tuple[str, ...]
    duty_basis: tuple[str, ...]
    penalty_basis: tuple[str, ...]
    discretion: str  # the circumstance and, for a departure from the benchmark, the reason
    penalty: str  # 处罚内容, in words
    fine: int | None  # CNY
    payment: str  # where and how to pay
    payment_days: int  # Art. 67: 15
    reconsideration: str  # 复议机关
    court: str  # 管辖法院
    decided_on: date
    statements: str = ""  # 陈述、申辩（听证）情况 and how they were taken
    late_fee_rate: float = 0.03  # Art. 72: per day, capped at the fine


@dataclass(frozen=True)
class ServiceProof:
    """送达回证."""

    number: str
    issuer: Issuer
    documents: tuple[str, ...]  # titles and numbers of what was served
    recipient: str
    place: str
    served_at: datetime
    method: str  # 直接送达 / 留置送达 / 邮寄送达 / 电子送达 / 公告送达
    servers: tuple[Officer, ...]
    note: str = ""  # e.g. the witness of a 留置送达


Document = (
    RectificationNotice
    | FilingApproval
    | OnSiteRecord
    | OrderToCorrect
    | AdvanceNotice
    | PenaltyDecision
    | ServiceProof
)

TITLES: dict[type, str] = {
    RectificationNotice: "综合检查整改通知书",
    FilingApproval: "立案审批表",
    OnSiteRecord: "现场检查笔录",
    OrderToCorrect: "责令限期改正通知书",
    AdvanceNotice: "行政处罚事先告知书",
    PenaltyDecision: "行政处罚决定书",
    ServiceProof: "送达回证",
}

__all__ = [
    "TITLES",
    "AdvanceNotice",
    "Document",
    "FilingApproval",
    "Issuer",
    "Officer",
    "OnSiteRecord",
    "OrderToCorrect",
    "PartyInfo",
    "PenaltyDecision",
    "RectificationLine",
    "RectificationNotice",
    "ServiceProof",
    "SignatureImage",
]

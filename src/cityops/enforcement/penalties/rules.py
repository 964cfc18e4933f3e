"""The legal numbers of the penalty procedure, each with its source: a change in law (or in
an agency's own rule) is a change here or in an agency's settings row, never in the logic.

Articles are those of the Administrative Penalty Law as revised in 2021 (行政处罚法, in force
2021-07-15). Where the law leaves a number to the agency (thresholds of 较大数额, the days
to state a defence), the value here is only the default an agency's settings row overrides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LAW = "《中华人民共和国行政处罚法》"
THREE_SYSTEMS = "《国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度重大执法决定法制审核制度的指导意见》（国办发〔2018〕118号）"  # noqa: E501


@dataclass(frozen=True)
class Rule:
    """A number with the provision it comes from, and its unit (calendar or working days)."""

    value: int
    unit: str  # "days" | "working_days" | "years" | "cny" | "percent_per_day"
    basis: str


# -- statutory numbers ---------------------------------------------------------------------

# Art. 36 para. 1: no penalty for a violation not discovered within two years; five years
# where it concerns citizens' life and health, or financial security, with harmful
# consequences. Para. 2: counted from the day of the violation, or from its end if it
# continues.
LIMITATION = Rule(2, "years", f"{LAW}第三十六条第一款")
LIMITATION_SERIOUS = Rule(5, "years", f"{LAW}第三十六条第一款")
# Art. 60: a decision within ninety days of filing, unless a law, regulation or rule says
# otherwise.
DECISION = Rule(90, "days", f"{LAW}第六十条")
# Art. 85: the law's "two, three, five and seven days" are working days (工作日), holidays
# not counted; its other periods (15, 90 days) are calendar days.
WORKING_DAYS_BASIS = f"{LAW}第八十五条"
# Art. 61 para. 1: handed over when announced; if the party is absent, served within seven
# (working, Art. 85) days under the Civil Procedure Law.
SERVICE = Rule(7, "working_days", f"{LAW}第六十一条第一款、第八十五条")
# Art. 64 item 1: the party asks for a hearing within five (working) days of being told.
HEARING_REQUEST = Rule(5, "working_days", f"{LAW}第六十四条第一项、第八十五条")
# Art. 64 item 2: the agency gives notice of the time and place seven (working) days before.
HEARING_NOTICE = Rule(7, "working_days", f"{LAW}第六十四条第二项、第八十五条")
# Art. 67 para. 3: payment within fifteen days of receiving the decision.
PAYMENT = Rule(15, "days", f"{LAW}第六十七条第三款")
# Art. 72 para. 1 item 1: 3 % of the fine a day for late payment, never more than the fine.
LATE_FEE = Rule(3, "percent_per_day", f"{LAW}第七十二条第一款第一项")
# Art. 51: on the spot, a warning or a fine of at most CNY 200 (citizen) or CNY 3,000
# (organisation), the facts certain and with a legal basis.
SIMPLIFIED_CITIZEN_MAX = Rule(200, "cny", f"{LAW}第五十一条")
SIMPLIFIED_ORGANISATION_MAX = Rule(3000, "cny", f"{LAW}第五十一条")
# Art. 42: at least two officers (kept for the simplified procedure too, although Art. 52
# lets a law allow one).
OFFICERS_BASIS = f"{LAW}第四十二条第一款"
# Art. 44/45: before deciding, tell the party and hear their statement and defence; a
# penalty may not be made heavier because of the defence.
NOTICE_BASIS = f"{LAW}第四十四条、第四十五条"
NO_HEAVIER_BASIS = f"{LAW}第四十五条第二款"
# Art. 58: legal review before the decision.
REVIEW_BASIS = f"{LAW}第五十八条第一款"
# Art. 63: the hearing right.
HEARING_BASIS = f"{LAW}第六十三条第一款"
# Art. 33 para. 1: no penalty for a minor violation corrected in time without harm; a first
# violation with slight harm corrected in time may go unpunished.
MINOR_BASIS = f"{LAW}第三十三条第一款"
# Art. 48: decisions with social impact are made public.
PUBLICATION_BASIS = f"{LAW}第四十八条第一款"
# The three systems (2018 No. 118): decisions published within seven working days.
PUBLICATION = Rule(7, "working_days", THREE_SYSTEMS)

# -- defaults of the agency's own rules (an agency's settings row overrides each) ----------

# Legal review of "major" decisions (重大执法决定) by the size of the fine: agencies publish
# their own lists; these are the defaults. A fine at or above (以上) the figure needs review.
REVIEW_FINE_CITIZEN = Rule(10_000, "cny", "本机关重大执法决定法制审核目录（默认值）")
REVIEW_FINE_ORGANISATION = Rule(50_000, "cny", "本机关重大执法决定法制审核目录（默认值）")
# 较大数额 for the hearing right (Art. 63 item 1) is set by provinces and ministries; these
# are common figures (5,000 / 50,000), kept as defaults.
HEARING_FINE_CITIZEN = Rule(5_000, "cny", f"{HEARING_BASIS}第一项；省级标准（默认值）")
HEARING_FINE_ORGANISATION = Rule(50_000, "cny", f"{HEARING_BASIS}第一项；省级标准（默认值）")
# Days to state and defend after the advance notice: the law sets none (Art. 45); agencies
# commonly give as many as for asking a hearing, counted the same way (working days).
STATEMENT = Rule(5, "working_days", "本机关执法程序规定（默认值）")
# Filing decided within fifteen working days of discovering the matter (as the market
# regulators' procedure rule has it, Art. 18); a default for every agency.
FILING = Rule(15, "working_days", "《市场监督管理行政处罚程序规定》第十八条（默认值）")
# A decision made on the spot is filed with the agency (备案) within this many working days.
SIMPLIFIED_RECORD = Rule(2, "working_days", "本机关简易程序备案规定（默认值）")
# Each extension of the ninety days approved by the lead; a second one needs a collective
# decision (集体讨论).
EXTENSION = Rule(30, "days", "本机关案件办理期限延长规定（默认值）")


class Measure(StrEnum):
    """The kinds of administrative penalty (Art. 9) a case may impose."""

    WARNING = "warning"  # 警告
    CRITICISM = "criticism"  # 通报批评
    FINE = "fine"  # 罚款
    CONFISCATE_INCOME = "confiscate_income"  # 没收违法所得
    CONFISCATE_PROPERTY = "confiscate_property"  # 没收非法财物
    SUSPEND_LICENCE = "suspend_licence"  # 暂扣许可证件
    LOWER_QUALIFICATION = "lower_qualification"  # 降低资质等级
    REVOKE_LICENCE = "revoke_licence"  # 吊销许可证件
    RESTRICT_BUSINESS = "restrict_business"  # 限制开展生产经营活动
    STOP_BUSINESS = "stop_business"  # 责令停产停业
    CLOSE = "close"  # 责令关闭
    RESTRICT_PRACTICE = "restrict_practice"  # 限制从业


MEASURE_NAMES_ZH: dict[str, str] = {
    Measure.WARNING: "警告",
    Measure.CRITICISM: "通报批评",
    Measure.FINE: "罚款",
    Measure.CONFISCATE_INCOME: "没收违法所得",
    Measure.CONFISCATE_PROPERTY: "没收非法财物",
    Measure.SUSPEND_LICENCE: "暂扣许可证件",
    Measure.LOWER_QUALIFICATION: "降低资质等级",
    Measure.REVOKE_LICENCE: "吊销许可证件",
    Measure.RESTRICT_BUSINESS: "限制开展生产经营活动",
    Measure.STOP_BUSINESS: "责令停产停业",
    Measure.CLOSE: "责令关闭",
    Measure.RESTRICT_PRACTICE: "限制从业",
}

# Art. 63 para. 1 items 3 and 4: penalties that always carry the hearing right.
HEARING_MEASURES = frozenset(
    {
        Measure.LOWER_QUALIFICATION,
        Measure.REVOKE_LICENCE,
        Measure.STOP_BUSINESS,
        Measure.CLOSE,
        Measure.RESTRICT_PRACTICE,
    }
)
# Art. 63 para. 1 item 2: confiscation carries it when the amount is large (较大数额, the
# same figure as for fines here).
CONFISCATIONS = frozenset({Measure.CONFISCATE_INCOME, Measure.CONFISCATE_PROPERTY})
# Art. 51: all the simplified procedure may impose.
SIMPLIFIED_MEASURES = frozenset({Measure.WARNING, Measure.FINE})


class ServiceMethod(StrEnum):
    """How a document reached the party (送达方式, Civil Procedure Law ch. 7)."""

    IN_PERSON = "in_person"  # 直接送达 (handed over)
    LEFT = "left"  # 留置送达
    POST = "post"  # 邮寄送达
    ELECTRONIC = "electronic"  # 电子送达 (with the party's consent, Art. 61 para. 2)
    ANNOUNCEMENT = "announcement"  # 公告送达


SERVICE_METHOD_NAMES_ZH: dict[str, str] = {
    ServiceMethod.IN_PERSON: "直接送达",
    ServiceMethod.LEFT: "留置送达",
    ServiceMethod.POST: "邮寄送达",
    ServiceMethod.ELECTRONIC: "电子送达",
    ServiceMethod.ANNOUNCEMENT: "公告送达",
}
# Methods by which officers hand the document over themselves (the proof names them).
SERVED_BY_OFFICERS = frozenset({ServiceMethod.IN_PERSON, ServiceMethod.LEFT})

# The word of each document's number (文书字号): 渝中消罚决字〔2026〕第12号. Data: an agency
# that numbers differently changes this map or its prefix.
DOCUMENT_WORDS: dict[str, str] = {
    "filing_approval": "立字",
    "on_site_record": "检字",
    "order_to_correct": "责改字",
    "advance_notice": "罚告字",
    "penalty_decision": "罚决字",
    "simplified_decision": "简罚字",
    "service_proof": "送字",
}
# The short word of each kind of agency in its prefix (渝中 + 消 + 罚决字).
AGENCY_KIND_WORDS: dict[str, str] = {
    "fire_rescue": "消",
    "market_regulation": "市监",
    "culture_market": "文执",
    "urban_management": "城管",
    "town_street": "综执",
    "public_security": "公",
    "other": "",
}

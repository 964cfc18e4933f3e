"""The shipped supervision rules: one row per kind with the numbers of the law (or, where
the law sets none, a local default that a district may change), and the parameters each
kind accepts, validated before a rule row is changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cityops.enforcement.registries.credentials import CERTIFICATE_BASIS, MIN_OFFICERS_BASIS
from cityops.enforcement.supervision.models import RuleKind, Severity
from cityops.errors import FieldProblem, Invalid

# Investigative acts of a penalty case (调查取证): at least two officers (Art. 42, 55).
INVESTIGATIVE_STEPS = [
    "evidence_collected",
    "inquiry_recorded",
    "site_inspected",
    "correction_ordered",
    "decided_on_spot",
]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OverdueStageParams(Params):
    # Art. 60: calendar days from filing, for a case that carries no decision_due of its own.
    decision_days: int = Field(90, ge=1, le=3650)
    # Art. 61 with Art. 85: the law's "seven days" are working days.
    service_working_days: int = Field(7, ge=0, le=60)
    # From service to closing: local practice (payment in 15 days, Art. 67, then execution).
    close_days: int = Field(180, ge=1, le=3650)
    # From the rectification deadline to the re-inspection: local practice.
    reinspection_working_days: int = Field(3, ge=0, le=60)
    include_late_completed: bool = True  # a stage done, but after its due date
    procedures: list[str] = Field(default_factory=lambda: ["general", "simplified"])


class FineParams(Params):
    # CNY a fine may stray beyond a range before it counts (0: none).
    tolerance: int = Field(0, ge=0)


class OfficerCertificateParams(Params):
    check_region: bool = True
    check_agency: bool = True
    # Penalty steps whose officers are checked; empty: every step that names officers.
    step_kinds: list[str] = Field(default_factory=list)


class TooFewOfficersParams(Params):
    minimum: int = Field(2, ge=1, le=10)
    step_kinds: list[str] = Field(default_factory=lambda: list(INVESTIGATIVE_STEPS))


class RepeatedInspectionParams(Params):
    max_inspections: int = Field(2, ge=1, le=100)
    window_days: int = Field(30, ge=1, le=366)


class PublicationParams(Params):
    working_days: int = Field(7, ge=0, le=60)
    procedures: list[str] = Field(default_factory=lambda: ["general"])
    # Decisions not to punish (不予处罚) are published only where a district says so.
    include_unpunished: bool = False


class WithoutPlanParams(Params):
    # The sources of an inspection (enforcement_inspections.source) that need no plan:
    # 投诉举报 and 转办交办.
    exempt_sources: list[str] = Field(default_factory=lambda: ["complaint", "referral"])


class NoParams(Params):
    pass


PARAMS: dict[RuleKind, type[Params]] = {
    RuleKind.OVERDUE_STAGE: OverdueStageParams,
    RuleKind.FINE_OUTSIDE_BENCHMARK: FineParams,
    RuleKind.OFFICER_CERTIFICATE: OfficerCertificateParams,
    RuleKind.TOO_FEW_OFFICERS: TooFewOfficersParams,
    RuleKind.REPEATED_INSPECTION: RepeatedInspectionParams,
    RuleKind.DECISION_NOT_PUBLISHED: PublicationParams,
    RuleKind.INSPECTION_WITHOUT_PLAN: WithoutPlanParams,
    RuleKind.MISSING_LEGAL_REVIEW: NoParams,
    RuleKind.CLOSED_WITHOUT_SERVICE: NoParams,
    RuleKind.PENALTY_ON_EXEMPT_ITEM: NoParams,
}


def parse_params(kind: RuleKind | str, values: dict[str, Any]) -> Params:
    """The parameters of a rule of `kind`, defaults filled in; Invalid naming each bad
    field (`parameters.window_days`) otherwise."""
    model = PARAMS[RuleKind(kind)]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = [
            FieldProblem(".".join(["parameters", *(str(p) for p in e["loc"])]), e["msg"])
            for e in exc.errors()
        ]
        raise Invalid(f"bad parameters for a rule of kind {kind}", errors=errors) from None


@dataclass(frozen=True)
class DefaultRule:
    code: str
    title: str
    kind: RuleKind
    severity: Severity
    legal_source: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def full_parameters(self) -> dict[str, Any]:
        return parse_params(self.kind, self.parameters).model_dump()


DEFAULT_RULES: tuple[DefaultRule, ...] = (
    DefaultRule(
        "overdue-stage",
        "办案环节超期",
        RuleKind.OVERDUE_STAGE,
        Severity.MEDIUM,
        "《中华人民共和国行政处罚法》第六十条（自立案之日起九十日内作出决定，另有规定或经批准延长的"
        "除外）、第六十一条、第八十五条（当事人不在场的，七个工作日内送达）；整改复查期限（整改期限届满后三个工作日）"
        "与结案期限为本地管理要求，可调整",
        "一般程序案件超过决定期限（含批准延长）未作出或逾期作出决定、决定后超过送达期限、送达后"
        "超过结案期限；检查超过整改期限未复查。",
    ),
    DefaultRule(
        "fine-outside-benchmark",
        "罚款超出裁量基准未说明理由",
        RuleKind.FINE_OUTSIDE_BENCHMARK,
        Severity.HIGH,
        "《中华人民共和国行政处罚法》第三十四条；《国务院办公厅关于进一步规范行政裁量权基准制定和"
        "管理工作的意见》（国办发〔2022〕27号）",
        "处罚决定的罚款不在所适用裁量阶次的基准范围内，且未书面说明理由。",
    ),
    DefaultRule(
        "officer-certificate",
        "执法证件无效或超越执法区域",
        RuleKind.OFFICER_CERTIFICATE,
        Severity.HIGH,
        CERTIFICATE_BASIS,
        "检查或办案环节的执法人员当日执法证件不在有效期内，或在其执法区域、所属机构管辖之外执法。",
    ),
    DefaultRule(
        "too-few-officers",
        "执法人员不足两人",
        RuleKind.TOO_FEW_OFFICERS,
        Severity.HIGH,
        MIN_OFFICERS_BASIS + "；第五十五条第一款",
        "现场检查或调查取证环节持有效执法证件的执法人员少于两人（联合检查按各参与机构分别计算）。",
    ),
    DefaultRule(
        "repeated-inspection",
        "同一市场主体短期内重复检查（扰企）",
        RuleKind.REPEATED_INSPECTION,
        Severity.MEDIUM,
        "《优化营商环境条例》（国务院令第722号）关于减少检查频次、推行跨部门联合检查的规定；"
        "次数与时间窗为本地规定，可调整",
        "同一市场主体在时间窗内被各机构检查超过规定次数（联合检查只计一次）。",
    ),
    DefaultRule(
        "decision-not-published",
        "处罚决定未按时公示",
        RuleKind.DECISION_NOT_PUBLISHED,
        Severity.LOW,
        "《国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度重大执法决定法制审核制度的"
        "指导意见》（国办发〔2018〕118号）：执法决定自作出之日起七个工作日内公开；"
        "《中华人民共和国行政处罚法》第四十八条",
        "处罚决定作出后超过规定工作日未公示（按工作日历计算，节假日不计）。",
    ),
    DefaultRule(
        "inspection-without-plan",
        "无计划检查",
        RuleKind.INSPECTION_WITHOUT_PLAN,
        Severity.MEDIUM,
        "《优化营商环境条例》（国务院令第722号）关于制定年度检查计划、推行“双随机、一公开”监管的"
        "规定；投诉举报、转办交办等情形除外",
        "未列入检查计划、也非因投诉举报或转办交办而实施的检查。",
    ),
    DefaultRule(
        "missing-legal-review",
        "应审未审（法制审核）",
        RuleKind.MISSING_LEGAL_REVIEW,
        Severity.HIGH,
        "《中华人民共和国行政处罚法》第五十八条",
        "依法应当进行法制审核的案件，未经审核通过即作出处罚决定。",
    ),
    DefaultRule(
        "closed-without-service",
        "未送达即结案",
        RuleKind.CLOSED_WITHOUT_SERVICE,
        Severity.HIGH,
        "《中华人民共和国行政处罚法》第六十一条",
        "案件已结案，但无处罚决定书送达记录（送达回证）。",
    ),
    DefaultRule(
        "penalty-on-exempt-item",
        "首违不罚事项仍予处罚",
        RuleKind.PENALTY_ON_EXEMPT_ITEM,
        Severity.HIGH,
        "《中华人民共和国行政处罚法》第三十三条第一款；本地公布的首违不罚清单",
        "列入首违不罚清单的事项、案件已认定为初次违法，仍作出罚款等处罚。",
    ),
)

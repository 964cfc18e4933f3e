"""The internet-café case of 解放碑街道 (渝中区) as the content of each enforcement document:
a joint inspection of “极速网咖” by the fire brigade, market regulation and the culture
market team, then the fire brigade's penalty case for a blocked exit."""

from __future__ import annotations

from datetime import UTC, date, datetime

from cityops.enforcement.documents import content as c

FIRE = c.Issuer(
    "重庆市渝中区消防救援支队", address="重庆市渝中区中山一路128号", phone="023-63850119"
)
MARKET = c.Issuer("重庆市渝中区市场监督管理局")
CULTURE = c.Issuer("重庆市渝中区文化市场综合行政执法支队")
CAFE = c.PartyInfo(
    name="重庆极速网咖网络科技有限公司（极速网咖）",
    identifier="91500103MA5U7X8K2Q",
    representative="王晓明",
    address="重庆市渝中区解放碑街道民族路188号3楼",
    phone="13800001234",
)
ZHANG = c.Officer("张伟", "500103-XF-0001")
LI = c.Officer("李娜", "500103-XF-0002")
FIRE_LAW_28 = "《中华人民共和国消防法》第二十八条"
FIRE_LAW_60 = "《中华人民共和国消防法》第六十条第一款第三项"
CAFE_REG_23 = "《互联网上网服务营业场所管理条例》第二十三条"
CAFE_REG_33 = "《互联网上网服务营业场所管理条例》第三十三条第一款第三项"
FACTS = (
    "2026年11月20日21时许，本机关执法人员对位于重庆市渝中区解放碑街道民族路188号3楼的"
    "“极速网咖”进行消防监督检查时发现，该场所西侧安全出口被木质货架和纸箱堵塞，疏散"
    "通道宽度不足0.6米，营业期间场所内有上网消费者约40人。"
)


def rectification_notice(lines: int = 3) -> c.RectificationNotice:
    base = [
        c.RectificationLine(
            agency=FIRE.name,
            finding="西侧安全出口被货架和纸箱堵塞，疏散通道宽度不足0.6米",
            requirement="立即清除堵塞安全出口的货架和纸箱，保持疏散通道、安全出口畅通",
            deadline=date(2026, 11, 27),
            basis=(FIRE_LAW_28,),
        ),
        c.RectificationLine(
            agency=CULTURE.name,
            finding="未按规定核对、登记上网消费者的有效身份证件，抽查的12台计算机中有3台无登记记录",
            requirement="严格落实实名登记制度，对上网消费者的身份证等有效证件进行核对、登记，"
            "并记录有关上网信息",
            deadline=date(2026, 12, 5),
            basis=(CAFE_REG_23, CAFE_REG_33),
        ),
        c.RectificationLine(
            agency=MARKET.name,
            finding="吧台销售的自制饮品未取得食品经营许可",
            requirement="停止销售自制饮品，依法申请办理食品经营许可后方可经营",
            deadline=date(2026, 12, 10),
            basis=("《中华人民共和国食品安全法》第三十五条第一款",),
        ),
    ]
    return c.RectificationNotice(
        number="渝中综查字〔2026〕第7号",
        party=CAFE,
        place="重庆市渝中区解放碑街道民族路188号3楼",
        inspected_on=date(2026, 11, 20),
        issuers=(FIRE, CULTURE, MARKET),
        lines=tuple(base[i % len(base)] for i in range(lines)),
        issued_on=date(2026, 11, 21),
        contact="联系人：张伟，电话023-63850119；整改照片可通过“渝快办”上传",
        officers=(ZHANG, LI, c.Officer("赵磊", "500103-WH-0001")),
    )


def filing_approval(facts: str = FACTS) -> c.FilingApproval:
    return c.FilingApproval(
        number="渝中消立字〔2026〕第3号",
        issuer=FIRE,
        party=CAFE,
        case_title="重庆极速网咖网络科技有限公司占用、堵塞、封闭疏散通道、安全出口案",
        source="监督检查",
        facts=facts,
        basis=(FIRE_LAW_28, FIRE_LAW_60, "《中华人民共和国行政处罚法》第五十四条"),
        officers=(ZHANG, LI),
        proposed_on=date(2026, 11, 21),
        proposer_opinion="当事人涉嫌占用、堵塞疏散通道和安全出口，符合立案条件，建议立案调查。",
        approver="陈建国",
        approver_opinion="同意立案，由张伟、李娜承办。",
        approved_on=date(2026, 11, 21),
    )


def on_site_record() -> c.OnSiteRecord:
    return c.OnSiteRecord(
        number="渝中消检字〔2026〕第45号",
        issuer=FIRE,
        party=CAFE,
        place="重庆市渝中区解放碑街道民族路188号3楼“极速网咖”",
        started_at=datetime(2026, 11, 20, 13, 5, tzinfo=UTC),
        ended_at=datetime(2026, 11, 20, 14, 10, tzinfo=UTC),
        officers=(ZHANG, LI),
        present="王晓明（法定代表人）",
        record="执法人员在当事人的现场负责人王晓明陪同下对营业场所进行了检查。场所面积约"
        "300平方米，设有上网计算机86台，检查时有上网消费者约40人。\n西侧安全出口内侧堆放"
        "木质货架2个、纸箱若干，安全出口无法正常开启；疏散通道宽度不足0.6米。",
        findings=("西侧安全出口被货架和纸箱堵塞", "疏散通道宽度不足0.6米"),
    )


def order_to_correct() -> c.OrderToCorrect:
    return c.OrderToCorrect(
        number="渝中消责改字〔2026〕第21号",
        issuer=FIRE,
        party=CAFE,
        facts="你单位位于重庆市渝中区解放碑街道民族路188号3楼的“极速网咖”西侧安全出口被"
        "货架和纸箱堵塞，疏散通道宽度不足0.6米",
        basis=(FIRE_LAW_28,),
        requirement="清除堵塞安全出口和疏散通道的物品，保持疏散通道、安全出口畅通",
        deadline=date(2026, 11, 23),
        issued_on=date(2026, 11, 20),
        reconsideration="重庆市渝中区人民政府",
        court="重庆市渝中区人民法院",
    )


def advance_notice() -> c.AdvanceNotice:
    return c.AdvanceNotice(
        number="渝中消罚告字〔2026〕第12号",
        issuer=FIRE,
        party=CAFE,
        facts=FACTS,
        evidence=("现场检查笔录一份", "现场照片6张", "营业执照复印件一份", "询问笔录一份"),
        basis=(FIRE_LAW_28, FIRE_LAW_60),
        intended_penalty="罚款人民币15,000元",
        statement_days=3,
        hearing_days=5,
        issued_on=date(2026, 11, 24),
    )


def penalty_decision(fine: int | None = 15000) -> c.PenaltyDecision:
    return c.PenaltyDecision(
        number="渝中消罚决字〔2026〕第12号",
        issuer=FIRE,
        party=CAFE,
        facts=FACTS,
        evidence=("现场检查笔录一份", "现场照片6张", "营业执照复印件一份", "询问笔录一份"),
        duty_basis=(FIRE_LAW_28,),
        penalty_basis=(FIRE_LAW_60,),
        discretion="当事人系初次违法，检查时营业场所内人员较多，属一般情形",
        penalty="罚款人民币15,000元",
        fine=fine,
        payment="中国工商银行重庆解放碑支行（户名：重庆市渝中区财政局非税收入专户，账号"
        "3100021209024937650）或者通过“渝快缴”电子缴款",
        payment_days=15,
        reconsideration="重庆市渝中区人民政府",
        court="重庆市渝中区人民法院",
        decided_on=date(2026, 11, 25),
        statements="当事人在法定期限内未提出陈述、申辩，亦未要求听证",
    )


def service_proof(documents: int = 1) -> c.ServiceProof:
    served = ["行政处罚决定书（渝中消罚决字〔2026〕第12号）"]
    served += [f"行政处罚事先告知书（渝中消罚告字〔2026〕第{k}号）" for k in range(documents - 1)]
    return c.ServiceProof(
        number="渝中消送字〔2026〕第30号",
        issuer=FIRE,
        documents=tuple(served),
        recipient="重庆极速网咖网络科技有限公司（法定代表人王晓明）",
        place="重庆市渝中区解放碑街道民族路188号3楼",
        served_at=datetime(2026, 11, 25, 2, 30, tzinfo=UTC),
        method="直接送达",
        servers=(ZHANG, LI),
    )


ALL = {
    "rectification_notice": rectification_notice,
    "filing_approval": filing_approval,
    "on_site_record": on_site_record,
    "order_to_correct": order_to_correct,
    "advance_notice": advance_notice,
    "penalty_decision": penalty_decision,
    "service_proof": service_proof,
}

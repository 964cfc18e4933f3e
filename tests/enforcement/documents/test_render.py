"""Each kind of document rendered from the internet-café case and read back: its text in
order, its faces embedded as subsets, page numbers, 禁则 kept, long content flowing on."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from tests.enforcement.documents import samples
from tests.enforcement.documents.pdftext import content, flat, fonts, in_order, lines, page_lines

from cityops.enforcement.documents import content as c
from cityops.enforcement.documents.fonts import FontsUnavailable, default_fonts, find_fonts
from cityops.enforcement.documents.linebreak import CANNOT_START
from cityops.enforcement.documents.render import kind_of, render, render_document

FIRE = samples.FIRE.name
EXPECTED = {
    "rectification_notice": [
        FIRE,
        "综合检查整改通知书",
        "渝中综查字〔2026〕第7号",
        "重庆极速网咖网络科技有限公司",
        "2026年11月20日",
        "一、重庆市渝中区消防救援支队",
        "存在问题：西侧安全出口被货架和纸箱堵塞",
        "整改期限：2026年11月27日前",
        "法律依据：《中华人民共和国消防法》第二十八条",
        "二、重庆市渝中区文化市场综合行政执法支队",
        "《互联网上网服务营业场所管理条例》第二十三条",
        "第三十三条第一款第三项",
        "三、重庆市渝中区市场监督管理局",
        "整改期限：2026年12月10日前",
        "检查人员：张伟（执法证号：500103-XF-0001）",
        "（印章）",
        "2026年11月21日",
    ],
    "filing_approval": [
        FIRE,
        "立案审批表",
        "渝中消立字〔2026〕第3号",
        "案由",
        "安全出口案",
        "案件来源",
        "监督检查",
        "统一社会信用代码",
        "91500103MA5U7X8K2Q",
        "简要案情",
        "“极速网咖”",
        "立案依据",
        "第五十四条",
        "承办人员",
        "李娜（执法证号：500103-XF-0002）",
        "审批意见",
        "审批人：陈建国",
    ],
    "on_site_record": [
        FIRE,
        "现场检查笔录",
        "渝中消检字〔2026〕第45号",
        "检查时间：2026年11月20日21时05分至22时10分",
        "执法人员：张伟（执法证号：500103-XF-0001）",
        "当事人：重庆极速网咖网络科技有限公司",
        "有权申请回避",
        "检查情况：",
        "设有上网计算机86台",
        "发现问题：",
        "（2）疏散通道宽度不足0.6米。",
        "当事人（现场负责人）签名：",
        "执法人员签名：",
    ],
    "order_to_correct": [
        FIRE,
        "责令限期改正通知书",
        "渝中消责改字〔2026〕第21号",
        "经查，你单位",
        "违反了《中华人民共和国消防法》第二十八条的规定",
        "于2026年11月23日前改正",
        "六十日内",
        "重庆市渝中区人民政府",
        "六个月内",
        "联系电话：023-63850119",
        "2026年11月20日",
    ],
    "advance_notice": [
        FIRE,
        "行政处罚事先告知书",
        "渝中消罚告字〔2026〕第12号",
        "第四十四条",
        "一、违法事实",
        "二、证据",
        "（4）询问笔录一份。",
        "三、理由和依据",
        "四、拟作出的行政处罚",
        "罚款人民币15,000元",
        "第四十五条",
        "三日内",
        "第六十三条、第六十四条",
        "五日内",
        "2026年11月24日",
    ],
    "penalty_decision": [
        FIRE,
        "行政处罚决定书",
        "渝中消罚决字〔2026〕第12号",
        "当事人：重庆极速网咖网络科技有限公司",
        "法定代表人（负责人）：王晓明",
        "违法事实：2026年11月20日21时许",
        "（1）现场检查笔录一份；",
        "陈述、申辩情况",
        "违反了《中华人民共和国消防法》第二十八条的规定",
        "依据《中华人民共和国消防法》第六十条第一款第三项的规定",
        "罚款人民币15,000元。",
        "罚款金额：15,000元（大写：壹万伍仟元整）",
        "十五日内",
        "每日按罚款数额的百分之三加处罚款",
        "加处罚款的数额不超出罚款的数额",
        "六十日内向重庆市渝中区人民政府申请行政复议",
        "六个月内依法向重庆市渝中区人民法院提起行政诉讼",
        "（印章）",
        "2026年11月25日",
    ],
    "service_proof": [
        FIRE,
        "送达回证",
        "渝中消送字〔2026〕第30号",
        "受送达人",
        "送达文书名称及文号",
        "行政处罚决定书（渝中消罚决字〔2026〕第12号）",
        "送达时间",
        "2026年11月25日10时30分",
        "直接送达",
        "张伟（执法证号：500103-XF-0001）",
        "受送达人签名或者盖章",
        "备注",
    ],
}


def no_line_starts_with_closing_punctuation(pdf: bytes) -> list[str]:
    return [line for line in lines(pdf) if line[0] in CANNOT_START]


@pytest.mark.parametrize("kind", list(samples.ALL))
def test_each_kind_says_what_its_content_says_in_order(kind: str) -> None:
    document = samples.ALL[kind]()
    assert kind_of(document) == kind
    pdf = render(document)
    assert pdf.startswith(b"%PDF-")
    assert in_order(flat(pdf), EXPECTED[kind]) == []
    assert no_line_starts_with_closing_punctuation(pdf) == []
    # Every face is embedded as a subset (AAAAAA+Name) with TrueType outlines: the document
    # prints the same whatever fonts the viewer has.
    used = fonts(pdf)
    assert used
    for name, descriptor in used.items():
        assert re.fullmatch(r"/[A-Z]{6}\+.+", name), name
        assert "/FontFile2" in descriptor, name


@pytest.mark.parametrize("kind", list(samples.ALL))
def test_the_same_content_gives_the_same_bytes(kind: str) -> None:
    document = samples.ALL[kind]()
    assert render(document) == render(document)


def test_a_full_stop_at_a_line_start_is_avoided_by_taking_a_character_along() -> None:
    # The facts paragraph holds 26 characters on its first line (28 less the indent):
    # 违法事实： and 21 characters fill it, so the 。 would begin the second line.
    facts = "甲" * 21 + "。" + "乙" * 30
    pdf = render(replace(samples.penalty_decision(), facts=facts))
    text = lines(pdf)
    assert "违法事实：" + "甲" * 20 in text
    assert any(line.startswith("甲。乙") for line in text)
    assert no_line_starts_with_closing_punctuation(pdf) == []


def test_body_lines_hold_28_characters() -> None:
    facts = "安全出口" * 30
    pdf = render(replace(samples.penalty_decision(), facts=facts))
    body = [line for line in lines(pdf) if set(line) <= set("安全出口")]
    assert body and all(len(line) == 28 for line in body[:-1])


def test_a_long_notice_flows_over_pages_numbered_at_the_foot() -> None:
    rendered = render_document(samples.rectification_notice(lines=24))
    pages = page_lines(rendered.pdf)
    assert rendered.pages == len(pages) >= 5
    for number, page in enumerate(pages, 1):
        assert f"— {number} —" in page
    assert no_line_starts_with_closing_punctuation(rendered.pdf) == []
    # The signature never stands alone on the last page: text of the body goes with it.
    assert "（印章）" in pages[-1] and len(pages[-1]) > 5


def test_a_long_form_repeats_its_head_row_on_the_next_page() -> None:
    facts = samples.FACTS * 12
    rendered = render_document(samples.filing_approval(facts=facts))
    pages = page_lines(rendered.pdf)
    assert rendered.pages >= 2
    for page in pages:
        assert any(line.startswith("案由") for line in page[:6]), page[:6]
    assert any(line.startswith("审批意见") for line in pages[-1])
    head = "案由" + samples.filing_approval().case_title
    body = flat(rendered.pdf).replace(head, "")
    assert in_order(body, [*[samples.FACTS] * 12, "审批人：陈建国"]) == []


def test_a_long_list_of_served_documents_continues_the_proof_of_service() -> None:
    rendered = render_document(samples.service_proof(documents=40))
    pages = page_lines(rendered.pdf)
    assert rendered.pages >= 2
    assert all(any("受送达人" in line for line in page[:6]) for page in pages)
    assert "渝中消罚告字〔2026〕第38号" in flat(rendered.pdf)


def test_deadlines_and_the_penalty_are_set_in_bold() -> None:
    # Bold is drawn as filled and stroked glyphs (text render mode 2).
    assert " 2 Tr" in content(render(samples.rectification_notice()))
    assert " 2 Tr" in content(render(samples.order_to_correct()))
    assert " 2 Tr" not in content(render(samples.service_proof()))


def test_a_name_outside_gb2312_still_prints() -> None:
    party = replace(samples.CAFE, name="王喆", kind="citizen", identifier="500103199001011234")
    pdf = render(replace(samples.penalty_decision(fine=None), party=party))
    text = flat(pdf)
    assert "当事人：王喆" in text and "身份证件号码：500103199001011234" in text
    assert "罚款金额" not in text and "你如不服本决定" in text


def test_a_configured_face_is_used_and_a_bad_one_named(tmp_path: Path) -> None:
    system = default_fonts()
    chosen = find_fonts(system.title.file.path, search=False)
    assert chosen.body.file == system.title.file
    pdf = render(samples.order_to_correct(), fonts=chosen)
    # (a face of a collection is named with its index: WenQuanYiMicroHei-0)
    assert all(name.split("+")[1].startswith(chosen.body.postscript) for name in fonts(pdf))

    with pytest.raises(FontsUnavailable, match=r"CITYOPS_PDF_FONT=/no/such\.ttf") as missing:
        find_fonts(Path("/no/such.ttf"))
    assert missing.value.status == 503
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"not a font at all")
    with pytest.raises(FontsUnavailable, match="CITYOPS_PDF_TITLE_FONT"):
        find_fonts(None, junk)
    # An OpenType face with PostScript outlines (sfnt version OTTO, as Noto CJK's .otf/.ttc)
    # cannot be embedded: refused with the reason, not half-rendered.
    cff = tmp_path / "NotoSansCJKsc-Regular.otf"
    cff.write_bytes(b"OTTO" + bytes(8))
    with pytest.raises(FontsUnavailable, match=r"PostScript \(CFF\) outlines"):
        find_fonts(cff)


def test_without_any_face_the_message_says_what_to_set_and_install() -> None:
    with pytest.raises(FontsUnavailable) as error:
        find_fonts(search=False)
    assert "CITYOPS_PDF_FONT" in error.value.detail
    assert "fonts-arphic-gbsn00lp" in error.value.detail
    assert "\n" not in error.value.detail


def test_render_refuses_what_is_not_a_document() -> None:
    with pytest.raises(TypeError):
        render(c.Issuer("x"))  # type: ignore[arg-type]

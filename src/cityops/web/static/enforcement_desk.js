// The enforcement desk (执法工作台): inspection plans with their random draws (双随机) and
// joint inspections (综合查一次) with their invitations; the inspections with their merged
// checklist, photos, rectification notice and re-inspection; the penalty cases with their
// deadlines, the steps' timeline and the actions the API allows now. Everything goes through
// /api/v1: the role and scope checks are the API's, the page only offers what it is told.

import { api, blobUrl, logIn, newKey, store, token, whenUnauthorized, words } from "./common.js";

// `?lang=en` (or zh) wins over the language remembered from another page.
const asked = new URLSearchParams(location.search).get("lang");
if (asked) store.setItem("cityops.lang", asked.toLowerCase().startsWith("en") ? "en" : "zh");

const TEXT = {
  zh: {
    title: "执法工作台", login: "登录", username: "用户名", password: "密码", sign_in: "登录", logout: "退出",
    lang: "English", bad_login: "用户名或密码错误", nav_console: "调度台", nav_onemap: "一张图",
    nav_supervision: "执法监督", s_plans: "检查计划", s_invitations: "联合检查邀请", s_inspections: "检查记录",
    s_cases: "处罚案件", s_map: "检查地图", new_random: "＋ 双随机抽查计划", new_joint: "＋ 综合查一次",
    new_case: "＋ 立案申请", new_simplified: "＋ 简易程序（当场处罚）", reads_all: "可查看全部执法机构的工作", reviews_region: "法制审核：审核本辖区提请审核的案件",
    no_agency: "你的账号未关联执法人员，不能以执法机构名义办理。请联系管理员在执法人员库中关联。",
    loading: "加载中…", failed: "操作失败", more: "加载更多", count: "共 {n} 条", count_of: "显示 {n} 条（共 {m} 条）",
    prev: "上一张", next: "下一张", close: "关闭", cancel: "取消", confirm: "确定", choose: "请选择", yes: "是",
    number: "编号", state: "状态", kind: "类型", agency: "执法机构", period: "计划时间", street: "街道",
    all_states: "全部状态", all_kinds: "全部类型", all_streets: "全部街道", all_agencies: "全部机构",
    all_stages: "全部阶段", all_procedures: "全部程序", date_from: "自", date_to: "至",
    pick_plans: "从左侧列表选择一个计划，或新建双随机抽查计划、综合查一次。",
    pick_invitations: "邀请在左侧列出：勾选本机构参加的执法人员后接受，或说明理由后拒绝。",
    pick_inspections: "从列表中选择一次检查，查看各单位的答复、检查清单、照片和整改通知书。",
    pick_cases: "从列表中选择一个案件，查看时间轴、期限和当前可办理的事项。",
    pick_map: "点击地图上的点查看该次检查。",
    no_plans: "没有符合条件的检查计划。用左侧按钮新建双随机抽查计划或综合查一次。",
    no_invitations: "本机构暂无待答复的联合检查邀请。",
    invitations_hint: "其他单位发起的综合查一次，邀请本机构参加",
    invitations_not_for_you: "联合检查邀请由受邀机构的执法人员答复；你可在“检查记录”中查看各单位的答复。",
    invitations_waiting: "{n} 个邀请待答复",
    no_inspections: "没有符合条件的检查。可调整筛选条件，或新建计划。",
    no_cases: "没有符合条件的案件。可调整筛选条件，或提出立案申请。",
    map_hint: "按检查状态着色；街道筛选与检查记录相同", lead_agency: "牵头单位",
    plan_title: "计划名称", business: "检查对象", scheduled: "检查时间", case_number: "案号", party: "当事人", party_item: "当事人 / 执法事项",
    item: "执法事项", stage: "阶段", due: "期限", light: "预警", procedure: "程序", overdue_only: "仅超期",
    case_search: "搜索案号、当事人或案由", overdue_count: "{n} 个案件已超期",
    days_left: "剩 {n} 天", days_over: "超期 {n} 天", due_today: "今日到期", no_deadline: "无期限",
    light_green: "期限充足", light_amber: "临近期限", light_red: "已超期", no_number: "（未编号）",
    proc_general: "普通程序", proc_simplified: "简易程序",
    stage_filing: "待立案审批", stage_investigating: "调查取证", stage_reviewing: "法制审核", stage_notifying: "待告知",
    stage_notified: "告知期", stage_hearing: "听证", stage_deciding: "待决定", stage_decided: "待送达",
    stage_executing: "执行中", stage_executed: "待结案", stage_closed: "已结案", stage_not_filed: "不予立案",
    stage_terminated: "已终止",
    plan_draft: "草稿", plan_submitted: "待审批", plan_approved: "已批准", plan_in_progress: "实施中",
    plan_completed: "已完成", plan_cancelled: "已取消",
    kind_random: "双随机抽查", kind_joint: "综合查一次", kind_special: "专项检查", kind_null: "",
    insp_scheduled: "待检查", insp_in_progress: "检查中", insp_findings_recorded: "待发整改通知",
    insp_notice_served: "整改期", insp_reinspection_due: "待复查", insp_closed: "已办结",
    insp_escalated: "转立案", insp_cancelled: "已取消",
    inv_invited: "待答复", inv_accepted: "已接受", inv_declined: "已拒绝",
    role_initiator: "发起单位", role_invited: "受邀单位",
    fo_pass: "符合", fo_fail: "不符合", fo_not_applicable: "不适用",
    outcome_compliant: "检查合格", outcome_rectification: "已整改", outcome_penalty: "转处罚",
    party_organisation: "单位", party_citizen: "个人", identifier: "统一社会信用代码/身份证号",
    representative: "法定代表人（负责人）", address: "地址", source: "案件来源",
    src_inspection: "监督检查", src_complaint: "投诉举报", src_referral: "移送", src_patrol: "巡查发现", src_other: "其他",
    place: "地点", violation_on: "违法行为发生日", violation_ended_on: "持续至", discovered_on: "发现日",
    filed_on: "立案日", facts_label: "违法事实", officers: "执法人员",
    legal_basis: "法律依据", basis_duty: "违法依据", basis_penalty: "处罚依据", basis_power: "职权依据",
    article_text: "条文", penalty_decided: "处罚决定", penalty_proposed: "拟处罚意见", grade: "裁量阶次",
    measures: "处罚种类", fine: "罚款", other_measures: "其他处理", departure_reason: "偏离裁量基准的理由",
    exempt: "不予处罚情形", legal_review: "法制审核", required_yes: "需要", hearing_right: "听证权利",
    hearing_requested: "已申请听证", paid: "已缴纳", late_fee: "加处罚款", amount_due: "应缴金额",
    grade_none: "不予处罚", grade_mitigated: "减轻处罚", grade_lighter: "从轻处罚", grade_ordinary: "一般处罚",
    grade_heavier: "从重处罚",
    m_warning: "警告", m_criticism: "通报批评", m_fine: "罚款", m_confiscate_income: "没收违法所得",
    m_confiscate_property: "没收非法财物", m_suspend_licence: "暂扣许可证件", m_lower_qualification: "降低资质等级",
    m_revoke_licence: "吊销许可证件", m_restrict_business: "限制开展生产经营活动", m_stop_business: "责令停产停业",
    m_close: "责令关闭", m_restrict_practice: "限制从业",
    exempt_first_violation: "首违不罚", exempt_minor: "轻微不罚", exempt_none: "无",
    deadlines: "期限", deadline: "期限", counted: "计算方式", working_days: "工作日", calendar_days: "自然日",
    no_deadlines: "暂无期限", done_on: "{date} 完成", late: "逾期", extended_until: "已延长至 {date}",
    dl_limitation: "追责时效（发现期限）", dl_filing: "立案期限", dl_decision: "办案期限（作出决定）",
    dl_statement: "陈述申辩期限", dl_hearing_request: "听证申请期限", dl_service: "送达期限",
    dl_payment: "缴款期限", dl_publication: "公示期限", dl_record: "简易程序备案期限",
    timeline: "办案过程", no_steps: "暂无办理记录", actions_now: "当前可办理", no_actions: "当前没有你可以办理的事项",
    case_ended: "案件已办结", photo: "照片", photo_missing: "照片无法加载", open_pdf: "打开 PDF",
    step_opened: "提出立案申请", step_decided_on_spot: "当场作出处罚决定", step_filed: "批准立案",
    step_filing_refused: "不予立案", step_evidence_collected: "调取证据", step_inquiry_recorded: "询问笔录",
    step_site_inspected: "现场检查", step_correction_ordered: "责令改正", step_penalty_proposed: "拟定处罚意见",
    step_legal_review_requested: "提请法制审核", step_legal_review_passed: "法制审核通过",
    step_legal_review_returned: "法制审核退回", step_notice_served: "送达事先告知书", step_statement_received: "陈述申辩",
    step_hearing_requested: "申请听证", step_hearing_notified: "听证通知", step_hearing_held: "举行听证",
    step_statement_period_lapsed: "告知期满", step_investigation_reopened: "补充调查",
    step_extension_approved: "延长办案期限", step_decided: "作出决定", step_served: "送达决定书", step_paid: "缴纳罚款",
    step_executed: "执行完毕", step_recorded_with_agency: "简易程序备案", step_published: "公示", step_closed: "结案",
    step_terminated: "终止案件",
    act_approve_filing: "批准立案", act_refuse_filing: "不予立案", act_collect_evidence: "调取证据",
    act_record_inquiry: "询问笔录", act_inspect_site: "现场检查", act_order_correction: "责令改正",
    act_propose: "拟定处罚意见", act_request_review: "提请法制审核", act_pass_review: "法制审核通过",
    act_return_review: "法制审核退回", act_serve_notice: "送达事先告知书", act_record_statement: "记录陈述申辩",
    act_request_hearing: "申请听证", act_notify_hearing: "听证通知", act_hold_hearing: "举行听证", act_lapse: "告知期满",
    act_reopen_investigation: "补充调查", act_extend: "延长办案期限", act_decide: "作出决定", act_serve: "送达决定书",
    act_record_payment: "登记缴款", act_record_execution: "执行完毕", act_record_filing: "简易程序备案",
    act_publish: "公示", act_close: "结案", act_terminate: "终止案件",
    note: "备注", approval_opinion: "审批意见", refusal_reason: "不予立案理由", case_officers: "承办人员（至少两名）",
    evidence_items: "证据清单", one_a_line: "每行一项", inquired_person: "被询问人", inquiry_record: "询问内容",
    started_at: "开始时间", ended_at: "结束时间", present: "现场负责人/见证人", site_record: "检查情况",
    site_findings: "发现的问题", requirement: "整改要求", correction_deadline: "改正期限",
    major_public_interest: "涉及重大公共利益", complex_case: "案情疑难复杂", return_reason: "退回理由",
    service_method: "送达方式", statement: "陈述申辩内容", waive_hearing: "当事人放弃听证", hearing_on: "听证日期",
    hearing_place: "听证地点", hearing_host: "听证主持人", hearing_held: "听证已举行（未举行：当事人未到场）",
    hearing_record: "听证笔录摘要", reopen_reason: "补充调查理由", extend_reason: "延期理由",
    extend_hint: "办案期限自立案之日起九十日（《行政处罚法》第六十条）；每次延长三十日，再次延长须经集体讨论。",
    collective_decision: "经集体讨论决定", decision_outcome: "决定", out_penalty: "给予行政处罚",
    out_no_penalty: "不予行政处罚", publish_decision: "具有一定社会影响，依法公开（第四十八条）", served_at: "送达时间",
    recipient: "受送达人", servers: "送达人（可选）", amount_paid: "缴款金额（元）", paid_on: "缴款日期",
    execution_note: "执行情况", terminate_reason: "终止理由",
    sm_in_person: "直接送达", sm_left: "留置送达", sm_post: "邮寄送达", sm_electronic: "电子送达", sm_announcement: "公告送达",
    exempt_reason: "理由", first_violation: "初次违法", harm_slight: "危害后果轻微", no_harm: "没有造成危害后果",
    corrected: "及时改正",
    hint_approve_filing: "符合立案标准的，由执法机构负责人批准立案（《行政处罚法》第五十四条）。",
    hint_two_officers: "调查、检查时执法人员不得少于两人，并出示执法证件（第四十二条、第五十五条）。",
    hint_propose: "罚款金额按事项的裁量基准实时核对；超出基准须书面说明理由。",
    hint_serve_notice: "告知当事人拟作出的处罚内容及事实、理由、依据，以及陈述、申辩、要求听证的权利（第四十四条、第四十五条）。",
    hint_decide: "由执法机构负责人作出决定；罚款按裁量基准实时核对。", decision_due_on: "办案期限至 {date}。",
    hint_serve: "当场交付；当事人不在场的，七日内送达（第六十一条）。", hint_close: "结案须有送达回证。",
    fine_cny: "罚款金额（元）", base_amount: "计算基数（元）", benchmark_row: "适用情形", any_row: "（按阶次核对）",
    fine_none: "未填写罚款金额", checking: "核对中…", fine_within: "在裁量基准范围内：{ranges}",
    fine_outside: "超出裁量基准（{ranges}），须填写理由。", no_range: "该阶次不设罚款", reason_needed: "罚款超出裁量基准：请填写理由",
    departure_hint: "罚款超出裁量基准时必填，并记入决定书", times: "{base}的 {min}–{max} 倍",
    pick_officers: "执法人员（至少 {n} 名）", officers_chosen: "已选 {n} 名", officers_ok: "已选 {n} 名，证件与执法区域核验通过",
    officers_not_ok: "所选执法人员未通过核验，请看标红说明", no_officers: "本机构没有在岗执法人员", valid_until: "证件有效期至 {date}",
    pr_unknown: "执法人员库中无此人", pr_inactive: "不在岗，或所属机构已停用", pr_not_yet_valid: "执法证件自{from}起有效",
    pr_expired: "执法证件已于{until}过期，不能执法", pr_expiring_soon: "执法证件将于{until}到期，请及时换证",
    pr_outside_region: "证件载明的执法区域不含该地", pr_too_few: "符合条件的执法人员不足两名（《行政处罚法》第四十二条）",
    business_search_hint: "输入名称、统一社会信用代码或地址", searching: "查找中…", found: "找到 {n} 个",
    no_business_found: "监管对象库中没有找到", party_not_listed: "当事人不在监管对象库中？手动填写",
    party_manual: "当事人信息", party_kind: "当事人类型", party_name: "名称/姓名",
    open_case_title: "立案申请（普通程序）", open_case_hint: "提交后由执法机构负责人审批立案。",
    submit_filing: "提交立案申请", serious_harm: "涉及生命健康、金融安全且有危害后果（追责时效五年）",
    simplified_title: "简易程序（当场作出行政处罚决定）",
    simplified_limits: "适用条件：违法事实确凿并有法定依据，对公民处二百元以下、对法人或者其他组织处三千元以下罚款或者警告（《行政处罚法》第五十一条）。",
    simplified_duties: "执法人员不少于两人，出示执法证件，填写预定格式、编有号码的决定书当场交付当事人，并报所属行政机关备案。",
    simplified_over: "超出简易程序的罚款上限（{limit}）：请按普通程序立案", pick_item_first: "先选择执法事项，再填写处罚",
    decide_on_spot: "当场作出决定", recipient_hint: "不填则为当事人",
    draw: "抽取", draw_hint: "抽取一次：检查对象和执法人员均随机抽取，随机种子与候选名录摘要一并记录，任何人可复核。",
    seed: "随机种子", seed_optional: "随机种子（可不填）", the_draw: "抽取结果", candidates: "候选对象",
    candidates_of: "从 {n} 户中抽取 {m} 户", candidates_digest: "候选名录摘要（SHA-256）", roster: "执法人员名录",
    roster_of: "{n} 名", roster_digest: "执法人员名录摘要", drawn_at: "抽取时间", drawn_business: "抽中对象",
    drawn_officers: "抽中执法人员", shortfalls: "{n} 户可派执法人员不足：", available_n: "可派 {n} 名",
    draw_check: "复核抽取", draw_same: "复核一致：同一种子、同一名录得到同一结果。",
    draw_differs: "复核结果不同（对象名录{directory}，人员名录{roster}）。", unchanged: "未变", changed: "已变化",
    visits: "检查", not_drawn_yet: "尚未抽取", no_visits: "暂无检查", submit_plan: "提交审批", approve_plan: "批准",
    return_plan: "退回", publish_plan: "公开", cancel_plan: "取消计划", reason: "理由", not_your_plan: "非本机构发起的计划",
    items_checked: "检查事项", business_types: "对象业态", target_count: "抽取户数", officers_per_target: "每户执法人员",
    submitted_at: "提交审批", approved_at: "批准时间", published: "公开时间", returned_reason: "退回/取消理由",
    published_on: "{date} 已公开",
    random_title: "双随机抽查计划", joint_title: "综合查一次（联合检查）",
    random_hint: "从监管对象名录中按业态和街道随机抽取检查对象，并从本机构执法人员名录中随机匹配执法人员。",
    random_default_title: "{year}年度双随机抽查", planned_from: "开始日期", planned_until: "结束日期",
    types_hint: "不选业态：抽取所列检查事项适用的全部业态", create_plan: "创建计划",
    joint_hint: "一次进门、综合查一次：按对象业态提出需参加的单位及理由，可调整后发送邀请。",
    pick_business_first: "先选择检查对象，系统按其业态提出需要参加的单位",
    scheduled_at: "检查时间", place_hint: "不填则为对象的登记地址", note_to_agencies: "给受邀单位的说明",
    send_invitations: "创建并发送邀请", my_officers: "本机构（{agency}）执法人员，至少两名",
    agencies_to_invite: "邀请单位（按业态提出，可取消勾选）", because_items: "理由：负责 ",
    business_type_is: "业态：{type}；所在街道：{street}", initiator: "发起单位", no_other_agencies: "该业态无需邀请其他单位",
    joint_default_title: "{name} 综合查一次",
    my_items: "本机构检查事项", other_agencies: "其他单位", answered: "已答复", accept: "接受并派员",
    change_officers: "调整派员", decline_reason: "拒绝理由", decline: "拒绝邀请", decline_instead: "不能参加？说明理由后拒绝",
    in_plan: "计划内", no_plan: "无计划", rectify_by: "整改期限 {date}", plan: "计划", credit_code: "统一社会信用代码",
    not_scheduled: "未排期", adjust_invitations: "调整邀请单位", save_invitations: "保存并发送邀请", empty_now: "不填则为现在", schedule: "安排检查时间", reschedule: "调整检查时间", save_schedule: "保存",
    business_type: "业态", finished_at: "结束时间", rectification_deadline: "整改期限", reinspected_at: "复查时间",
    closed_at: "办结时间", agencies_and_officers: "参加单位与执法人员", none_yet: "尚未派员", my_answer: "本机构答复",
    merged_checklist: "合并检查清单", points_n: "{n} 项", no_result_yet: "尚未记录结果", other_findings: "清单外发现",
    no_checklist: "暂无检查清单（接受邀请的单位的事项合并后显示）", rectified_yes: "已整改", rectified_no: "未整改",
    penalty_case_link: "处罚案件 #{id}", rectification_notice: "整改通知书", issue_notice: "签发综合整改通知书",
    issue_notice_hint: "把各单位的 {n} 项不符合合并为一份整改通知书（PDF）。", notice_contact: "联系方式",
    notice_contact_hint: "整改完成后告知谁、如何上传整改材料", notice_after_finish: "检查结束后签发",
    no_notice: "未发现问题，无需整改通知书", notice_number: "文书编号", issued_at: "签发时间", served: "送达",
    not_served: "尚未送达", serve_notice: "登记送达", record_service: "登记送达", proof: "企业整改材料",
    proof_at: "提交时间", proof_note: "整改说明", proof_photos: "照片", photos_n: "{n} 张",
    no_proof_yet: "企业尚未提交整改材料", proof_after_service: "送达后企业可提交整改材料",
    reinspection: "复查", reinspection_hint: "逐项确认是否整改：全部整改则办结，有未整改的转立案。",
    record_reinspection: "提交复查结果", say_rectified: "请选择是否已整改", to_penalty: "转立案",
    all_cases_opened: "未整改的问题均已立案", open_penalty_case: "转立案", other_agency_opens: "由该单位立案",
    documents: "执法文书", no_documents: "暂无文书",
  },
  en: {
    title: "Enforcement desk", login: "Log in", username: "Username", password: "Password", sign_in: "Log in",
    logout: "Log out", lang: "中文", bad_login: "Wrong username or password", nav_console: "Console",
    nav_onemap: "One map", nav_supervision: "Supervision", s_plans: "Plans", s_invitations: "Invitations",
    s_inspections: "Inspections", s_cases: "Penalty cases", s_map: "Map", new_random: "+ Random plan",
    new_joint: "+ Joint inspection", new_case: "+ Propose a case", new_simplified: "+ On-the-spot decision",
    reads_all: "You read every agency's work", reviews_region: "Legal review of the cases of your region",
    no_agency: "Your account is not linked to an enforcement officer, so you cannot act for an agency. Ask an admin to link it in the officers' registry.",
    loading: "Loading…", failed: "Action failed", more: "Load more", count: "{n} in all", count_of: "{n} shown of {m}",
    prev: "Previous", next: "Next", close: "Close", cancel: "Cancel", confirm: "Confirm", choose: "Choose…", yes: "Yes",
    number: "Number", state: "State", kind: "Kind", agency: "Agency", period: "Period", street: "Street",
    all_states: "All states", all_kinds: "All kinds", all_streets: "All streets", all_agencies: "All agencies",
    all_stages: "All stages", all_procedures: "All procedures", date_from: "From", date_to: "To",
    pick_plans: "Pick a plan on the left, or start a random plan or a joint inspection.",
    pick_invitations: "The invitations are on the left: tick your officers and accept, or decline with a reason.",
    pick_inspections: "Pick an inspection to see the agencies' answers, the checklist, photos and the notice.",
    pick_cases: "Pick a case to see its timeline, deadlines and what you may do now.",
    pick_map: "Click a point to open its inspection.",
    no_plans: "No plan matches. Start a random plan or a joint inspection with the buttons on the left.",
    no_invitations: "No invitation is waiting for your agency.",
    pr_unknown: "not in the officers' registry", pr_inactive: "not active, or their agency is not",
    pr_not_yet_valid: "certificate valid from {from}", pr_expired: "certificate expired on {until}: may not act",
    pr_expiring_soon: "certificate expires on {until}: renew it", pr_outside_region: "their certificate's regions do not include this place",
    pr_too_few: "fewer than two qualified officers (Art. 42)",
    invitations_hint: "Joint inspections other agencies invite yours to",
    invitations_not_for_you: "Invitations are answered by the invited agency's officers; see every answer under Inspections.",
    invitations_waiting: "{n} invitations waiting",
    no_inspections: "No inspection matches. Change the filters or start a plan.",
    no_cases: "No case matches. Change the filters or propose a case.",
    map_hint: "Coloured by state; the street filter is the inspections'", lead_agency: "Lead agency",
    plan_title: "Title", business: "Business", scheduled: "Scheduled", case_number: "Case no.", party: "Party", party_item: "Party / item",
    item: "Item", stage: "Stage", due: "Due", light: "Light", procedure: "Procedure", overdue_only: "Overdue only",
    case_search: "Search number, party or title", overdue_count: "{n} cases overdue",
    days_left: "{n} days left", days_over: "{n} days overdue", due_today: "due today", no_deadline: "No deadline",
    light_green: "In time", light_amber: "Due soon", light_red: "Overdue", no_number: "(no number)",
    proc_general: "General procedure", proc_simplified: "Simplified procedure",
    stage_filing: "Awaiting filing", stage_investigating: "Investigating", stage_reviewing: "Legal review",
    stage_notifying: "To notify", stage_notified: "Notified", stage_hearing: "Hearing", stage_deciding: "To decide",
    stage_decided: "To serve", stage_executing: "Executing", stage_executed: "To close", stage_closed: "Closed",
    stage_not_filed: "Not filed", stage_terminated: "Terminated",
    plan_draft: "Draft", plan_submitted: "Submitted", plan_approved: "Approved", plan_in_progress: "In progress",
    plan_completed: "Completed", plan_cancelled: "Cancelled",
    kind_random: "Random", kind_joint: "Joint", kind_special: "Special", kind_null: "",
    insp_scheduled: "Scheduled", insp_in_progress: "On site", insp_findings_recorded: "Notice due",
    insp_notice_served: "Rectifying", insp_reinspection_due: "Re-inspection due", insp_closed: "Closed",
    insp_escalated: "Escalated", insp_cancelled: "Cancelled",
    inv_invited: "Awaiting answer", inv_accepted: "Accepted", inv_declined: "Declined",
    role_initiator: "initiator", role_invited: "invited",
    fo_pass: "Pass", fo_fail: "Fail", fo_not_applicable: "N/A",
    outcome_compliant: "Compliant", outcome_rectification: "Rectified", outcome_penalty: "Penalty",
    party_organisation: "organisation", party_citizen: "citizen", identifier: "Credit code / ID number",
    representative: "Representative", address: "Address", source: "Source",
    src_inspection: "Inspection", src_complaint: "Complaint", src_referral: "Referral", src_patrol: "Patrol", src_other: "Other",
    place: "Place", violation_on: "Violation on", violation_ended_on: "Continued until", discovered_on: "Discovered on",
    filed_on: "Filed on", facts_label: "Facts", officers: "Officers",
    legal_basis: "Legal basis", basis_duty: "Duty", basis_penalty: "Penalty", basis_power: "Power",
    article_text: "Text", penalty_decided: "Penalty decided", penalty_proposed: "Penalty proposed", grade: "Grade",
    measures: "Measures", fine: "Fine", other_measures: "Other measures", departure_reason: "Reason for departing from the benchmark",
    exempt: "Exemption", legal_review: "Legal review", required_yes: "required", hearing_right: "Hearing right",
    hearing_requested: "hearing requested", paid: "Paid", late_fee: "Late fee", amount_due: "Amount due",
    grade_none: "No penalty", grade_mitigated: "Mitigated", grade_lighter: "Lighter", grade_ordinary: "Ordinary",
    grade_heavier: "Heavier",
    m_warning: "Warning", m_criticism: "Criticism", m_fine: "Fine", m_confiscate_income: "Confiscate income",
    m_confiscate_property: "Confiscate property", m_suspend_licence: "Suspend licence",
    m_lower_qualification: "Lower qualification", m_revoke_licence: "Revoke licence",
    m_restrict_business: "Restrict business", m_stop_business: "Stop business", m_close: "Close down",
    m_restrict_practice: "Restrict practice",
    exempt_first_violation: "First violation", exempt_minor: "Minor", exempt_none: "None",
    deadlines: "Deadlines", deadline: "Deadline", counted: "Counted in", working_days: "working days",
    calendar_days: "days", no_deadlines: "No deadline yet", done_on: "done {date}", late: "late",
    extended_until: "Extended to {date}",
    dl_limitation: "Limitation", dl_filing: "Filing", dl_decision: "Decision (Art. 60)", dl_statement: "Statement",
    dl_hearing_request: "Hearing request", dl_service: "Service", dl_payment: "Payment", dl_publication: "Publication",
    dl_record: "Filing of the on-the-spot decision",
    timeline: "Steps", no_steps: "No step yet", actions_now: "What you may do now", no_actions: "Nothing for you to do now",
    case_ended: "The case has ended", photo: "Photo", photo_missing: "Photo not available", open_pdf: "Open PDF",
    step_opened: "Proposed for filing", step_decided_on_spot: "Decided on the spot", step_filed: "Filed",
    step_filing_refused: "Filing refused", step_evidence_collected: "Evidence collected",
    step_inquiry_recorded: "Inquiry recorded", step_site_inspected: "Site inspected",
    step_correction_ordered: "Correction ordered", step_penalty_proposed: "Penalty proposed",
    step_legal_review_requested: "Legal review requested", step_legal_review_passed: "Legal review passed",
    step_legal_review_returned: "Legal review returned", step_notice_served: "Advance notice served",
    step_statement_received: "Statement received", step_hearing_requested: "Hearing requested",
    step_hearing_notified: "Hearing notified", step_hearing_held: "Hearing held",
    step_statement_period_lapsed: "Notice period lapsed", step_investigation_reopened: "Investigation reopened",
    step_extension_approved: "Extension approved", step_decided: "Decided", step_served: "Decision served",
    step_paid: "Paid", step_executed: "Executed", step_recorded_with_agency: "Filed with the agency",
    step_published: "Published", step_closed: "Closed", step_terminated: "Terminated",
    act_approve_filing: "Approve filing", act_refuse_filing: "Refuse filing", act_collect_evidence: "Collect evidence",
    act_record_inquiry: "Record inquiry", act_inspect_site: "Inspect site", act_order_correction: "Order correction",
    act_propose: "Propose penalty", act_request_review: "Request legal review", act_pass_review: "Pass legal review",
    act_return_review: "Return from review", act_serve_notice: "Serve advance notice", act_record_statement: "Record statement",
    act_request_hearing: "Hearing requested", act_notify_hearing: "Notify hearing", act_hold_hearing: "Hold hearing",
    act_lapse: "Notice period over", act_reopen_investigation: "Reopen investigation", act_extend: "Extend",
    act_decide: "Decide", act_serve: "Serve decision", act_record_payment: "Record payment",
    act_record_execution: "Executed", act_record_filing: "File with the agency", act_publish: "Publish",
    act_close: "Close", act_terminate: "Terminate",
    note: "Note", approval_opinion: "Opinion", refusal_reason: "Reason for refusing", case_officers: "Officers in charge (two or more)",
    evidence_items: "Evidence", one_a_line: "one a line", inquired_person: "Person inquired", inquiry_record: "Record",
    started_at: "Started", ended_at: "Ended", present: "Present on site", site_record: "What was found",
    site_findings: "Problems found", requirement: "Requirement", correction_deadline: "Correct by",
    major_public_interest: "Major public interest", complex_case: "Complex case", return_reason: "Reason for returning",
    service_method: "Method of service", statement: "Statement and defence", waive_hearing: "The party waives a hearing",
    hearing_on: "Hearing on", hearing_place: "Hearing place", hearing_host: "Presiding officer",
    hearing_held: "Hearing held (untick: the party did not come)", hearing_record: "Hearing record",
    reopen_reason: "Why investigate further", extend_reason: "Why extend",
    extend_hint: "A decision is due within 90 days of filing (Art. 60); each extension adds 30 days, a second one needs a collective decision.",
    collective_decision: "Decided collectively", decision_outcome: "Decision", out_penalty: "Impose a penalty",
    out_no_penalty: "No penalty", publish_decision: "Social impact: publish (Art. 48)", served_at: "Served at",
    recipient: "Recipient", servers: "Served by (optional)", amount_paid: "Amount (CNY)", paid_on: "Paid on",
    execution_note: "How it was executed", terminate_reason: "Reason for terminating",
    sm_in_person: "In person", sm_left: "Left at the address", sm_post: "By post", sm_electronic: "Electronic",
    sm_announcement: "By announcement",
    exempt_reason: "Reason", first_violation: "First violation", harm_slight: "Slight harm", no_harm: "No harm",
    corrected: "Corrected in time",
    hint_approve_filing: "The agency's lead approves filing when the filing standard is met (Art. 54).",
    hint_two_officers: "At least two officers investigate, showing their certificates (Art. 42, 55).",
    hint_propose: "The fine is checked against the item's benchmark as you type; outside it, give the reason.",
    hint_serve_notice: "Tell the party the intended penalty with facts, reasons and basis, and their rights to state, defend and ask for a hearing (Art. 44, 45).",
    hint_decide: "The agency's lead decides; the fine is checked against the benchmark as you type.",
    decision_due_on: "Decision due {date}.", hint_serve: "Handed over at once; to an absent party within 7 days (Art. 61).",
    hint_close: "Closing needs the proof of service.",
    fine_cny: "Fine (CNY)", base_amount: "Base amount (CNY)", benchmark_row: "Circumstance", any_row: "(by grade)",
    fine_none: "No fine entered", checking: "Checking…", fine_within: "Within the benchmark: {ranges}",
    fine_outside: "Outside the benchmark ({ranges}): give the reason.", no_range: "no fine at this grade",
    reason_needed: "The fine is outside the benchmark: give the reason", departure_hint: "Needed when the fine is outside the benchmark; it goes into the decision",
    times: "{min}–{max} × {base}",
    pick_officers: "Officers (at least {n})", officers_chosen: "{n} chosen", officers_ok: "{n} chosen; certificates and regions check out",
    officers_not_ok: "The officers chosen do not pass the check: see the notes in red", no_officers: "Your agency has no active officer",
    valid_until: "certificate valid until {date}",
    business_search_hint: "Name, credit code or address", searching: "Searching…", found: "{n} found",
    no_business_found: "Not in the business directory", party_not_listed: "Party not in the directory? Enter it",
    party_manual: "Party", party_kind: "Kind of party", party_name: "Name",
    open_case_title: "Propose a case (general procedure)", open_case_hint: "Your agency's lead approves the filing.",
    submit_filing: "Propose for filing", serious_harm: "Life, health or financial security harmed (five-year limitation)",
    simplified_title: "Simplified procedure (decided on the spot)",
    simplified_limits: "When: the facts are certain and have a legal basis, and the penalty is a warning or a fine of at most CNY 200 for a citizen or CNY 3,000 for an organisation (Art. 51).",
    simplified_duties: "Two officers show their certificates, hand over a numbered decision form on the spot and file it with their agency.",
    simplified_over: "Above the simplified procedure's limit ({limit}): propose a general case instead",
    pick_item_first: "Choose the item first, then the penalty", decide_on_spot: "Decide on the spot",
    recipient_hint: "Empty: the party",
    draw: "Draw", draw_hint: "Drawn once: businesses and officers at random; the seed and the directory's digest are recorded so anyone can check it.",
    seed: "Seed", seed_optional: "Seed (optional)", the_draw: "The draw", candidates: "Candidates",
    candidates_of: "{m} drawn from {n}", candidates_digest: "Directory digest (SHA-256)", roster: "Officer roster",
    roster_of: "{n} officers", roster_digest: "Roster digest", drawn_at: "Drawn at", drawn_business: "Business drawn",
    drawn_officers: "Officers drawn", shortfalls: "{n} businesses lack officers:", available_n: "{n} available",
    draw_check: "Check the draw", draw_same: "Same result: the same seed over the same directory draws the same.",
    draw_differs: "Different result (directory {directory}, roster {roster}).", unchanged: "unchanged", changed: "changed",
    visits: "Inspections", not_drawn_yet: "Not drawn yet", no_visits: "No inspection yet", submit_plan: "Submit",
    approve_plan: "Approve", return_plan: "Return", publish_plan: "Publish", cancel_plan: "Cancel plan", reason: "Reason",
    not_your_plan: "Another agency's plan",
    items_checked: "Items checked", business_types: "Business types", target_count: "Businesses to draw",
    officers_per_target: "Officers per business", submitted_at: "Submitted", approved_at: "Approved",
    published: "Published", returned_reason: "Returned / cancelled because", published_on: "published {date}",
    random_title: "Random inspection plan", joint_title: "Joint inspection (one visit for all)",
    random_hint: "Businesses are drawn at random from the directory by type and street, and officers from your agency's roster.",
    random_default_title: "Random inspections {year}", planned_from: "From", planned_until: "Until",
    types_hint: "No type ticked: every type the items apply to", create_plan: "Create plan",
    joint_hint: "One visit for all: the agencies the business's type calls for are proposed with their reasons; adjust and send.",
    pick_business_first: "Choose the business first: the agencies its type calls for are proposed",
    scheduled_at: "When", place_hint: "Empty: the business's address", note_to_agencies: "Note to the agencies",
    send_invitations: "Create and send invitations", my_officers: "Officers of {agency} (two or more)",
    agencies_to_invite: "Agencies to invite (proposed by the type; untick to leave out)", because_items: "Because they enforce: ",
    business_type_is: "Type: {type}; street: {street}", initiator: "Initiator", no_other_agencies: "No other agency needed for this type",
    joint_default_title: "Joint inspection of {name}",
    my_items: "Your agency's items", other_agencies: "Other agencies", answered: "Answered", accept: "Accept with these officers",
    change_officers: "Change officers", decline_reason: "Reason for declining", decline: "Decline",
    decline_instead: "Cannot take part? Decline with the reason",
    in_plan: "planned", no_plan: "no plan", rectify_by: "rectify by {date}", plan: "Plan", credit_code: "Credit code",
    not_scheduled: "not scheduled", adjust_invitations: "Change the agencies invited", save_invitations: "Save and send", empty_now: "Empty: now", schedule: "Schedule the visit", reschedule: "Move the visit", save_schedule: "Save",
    business_type: "Business type", finished_at: "Finished", rectification_deadline: "Rectify by", reinspected_at: "Re-inspected",
    closed_at: "Closed", agencies_and_officers: "Agencies and officers", none_yet: "none yet", my_answer: "Your agency's answer",
    merged_checklist: "Merged checklist", points_n: "{n} points", no_result_yet: "No result yet", other_findings: "Other findings",
    no_checklist: "No checklist yet (the accepting agencies' items are merged)", rectified_yes: "Rectified",
    rectified_no: "Not rectified", penalty_case_link: "Penalty case #{id}", rectification_notice: "Rectification notice",
    issue_notice: "Issue the combined notice", issue_notice_hint: "The {n} failed points of every agency in one notice (PDF).",
    notice_contact: "Contact", notice_contact_hint: "Whom to tell when rectified, and how to send proof",
    notice_after_finish: "Issued once the inspection has finished", no_notice: "Nothing failed: no notice needed",
    notice_number: "Number", issued_at: "Issued", served: "Served", not_served: "not served yet", serve_notice: "Record service",
    record_service: "Record service", proof: "Proof from the business", proof_at: "Sent", proof_note: "Note",
    proof_photos: "Photos", photos_n: "{n}", no_proof_yet: "No proof sent yet", proof_after_service: "The business sends proof once served",
    reinspection: "Re-inspection", reinspection_hint: "Say for each point whether it was rectified: all rectified closes it, any not escalates it.",
    record_reinspection: "Record the re-inspection", say_rectified: "Say whether it was rectified", to_penalty: "Penalty cases",
    all_cases_opened: "Every point not rectified has its case", open_penalty_case: "Open a penalty case",
    other_agency_opens: "Opened by that agency", documents: "Documents", no_documents: "No document yet",
  },
};

const ui = words(TEXT);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const $ = (selector, root = document) => root.querySelector(selector);
const zh = () => ui.lang === "zh";
const E = "/enforcement";
const PAGE = 50;

// -- building the page's elements ---------------------------------------------------------

// h("button.secondary.small", { type: "button", onclick }, "text", child…): an element with
// its classes, attributes (data-*, aria-*, on… handlers, hidden/disabled/checked as booleans)
// and children (strings become text; null and false are left out).
function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "text") el.textContent = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const muted = (text) => h("span.muted", {}, text);
// A remark in brackets, full-width in Chinese.
const aside = (text) => (zh() ? `（${text}）` : ` (${text})`);
// A label's colon: full-width in Chinese.
const colon = () => (zh() ? "：" : ": ");

function facts(pairs) {
  const dl = h("dl.facts");
  for (const [key, value, name] of pairs) {
    if (value == null || value === "") continue;
    dl.append(h("dt", {}, t(key)), h("dd", { "data-fact": name || key }, value));
  }
  return dl;
}

// -- dates, times and money, as a Chinese desk writes them ----------------------------------

const ZONE = document.documentElement.dataset.timezone || "Asia/Shanghai";
const locale = () => (zh() ? "zh-CN" : "en-GB");

function dateText(value) {
  if (!value) return "";
  const day = String(value).length === 10 ? new Date(`${value}T12:00:00Z`) : new Date(value);
  return day.toLocaleDateString(locale(), { timeZone: ZONE, year: "numeric", month: "long", day: "numeric" });
}

function timeText(value) {
  if (!value) return "";
  const at = new Date(value);
  const day = dateText(value);
  const clock = at.toLocaleTimeString(locale(), { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hour12: false });
  return `${day} ${clock}`;
}

// Today in the centre's zone, as yyyy-mm-dd.
function today() {
  return new Date().toLocaleDateString("en-CA", { timeZone: ZONE });
}

// A datetime-local input's value (the centre's wall clock) as an ISO instant. The centre's
// zone is China's (no daylight saving): +08:00 unless the server says another zone.
function instant(local) {
  if (!local) return null;
  const offset = ZONE === "Asia/Shanghai" || ZONE === "Asia/Chongqing" ? "+08:00" : "";
  return offset ? `${local}:00${offset}` : new Date(local).toISOString();
}

function localInput(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", {
    timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  }).formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour === "24" ? "00" : parts.hour}:${parts.minute}`;
}

const number = (value) => Number(value).toLocaleString(locale(), { maximumFractionDigits: 2 });
const money = (value) => (value == null ? "" : zh() ? `${number(value)} 元` : `CNY ${number(value)}`);

// Whole days from today to a due date (negative once past).
function daysLeft(due) {
  if (!due) return null;
  const a = Date.parse(`${today()}T00:00:00Z`);
  const b = Date.parse(`${String(due).slice(0, 10)}T00:00:00Z`);
  return Math.round((b - a) / 86400000);
}

function daysText(days) {
  if (days == null) return "";
  if (days < 0) return t("days_over", { n: -days });
  if (days === 0) return t("due_today");
  return t("days_left", { n: days });
}

// -- errors: the API's problem, next to the field it names --------------------------------

function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error, .form-error")) el.remove();
  for (const el of form.querySelectorAll(".invalid")) el.classList.remove("invalid");
}

// The control a problem's path names: `officer_ids`, `body.fine`, `lines.2.deadline`… by its
// whole path, then by its last word, then by its first.
function controlFor(form, path) {
  const parts = String(path || "").split(".").filter((p) => p !== "body");
  const candidates = [parts.join("."), parts.at(-1), parts.find((p) => !/^\d+$/.test(p))];
  for (const name of candidates) {
    if (!name) continue;
    const found = form.querySelector(`[data-field="${CSS.escape(name)}"]`)
      || form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (found) return found;
  }
  return null;
}

function showErrors(form, exc) {
  clearErrors(form);
  const problems = exc?.problem?.errors || [];
  const loose = [];
  for (const p of problems) {
    const control = controlFor(form, p.path);
    if (!control) {
      loose.push(`${p.path}: ${p.message}`);
      continue;
    }
    control.classList.add("invalid");
    const holder = control.closest("label, fieldset, [data-field]") || control;
    holder.after(h("p.field-error", { role: "alert", "data-error-for": p.path }, p.message));
  }
  if (!problems.length || loose.length) {
    const detail = exc?.problem?.detail || exc?.message || t("failed");
    const text = loose.length ? `${detail} (${loose.join("; ")})` : detail;
    const where = form.querySelector(".form-buttons") || form.lastElementChild;
    where.before(h("p.form-error.error", { role: "alert" }, text));
  }
}

function showListError(exc) {
  if (exc?.status === 401) return;
  const box = $("#list-error");
  box.textContent = `${t("failed")}: ${exc?.message || exc}`;
  box.hidden = false;
}

function showDetailError(exc) {
  if (exc?.status === 401) return;
  const box = $("#detail-error");
  box.textContent = `${t("failed")}: ${exc?.message || exc}`;
  box.hidden = false;
}

// Runs a form's submission: the button disabled meanwhile, the problem shown on the form.
async function submitting(form, work) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  clearErrors(form);
  try {
    return await work();
  } catch (exc) {
    if (exc?.status !== 401) showErrors(form, exc);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// -- documents and photos: fetched with the token, shown from object URLs ------------------

// A PDF opens in a new tab: the tab is opened at once (a browser allows a pop-up only
// straight from the click), then pointed at the document once it has arrived.
async function openPdf(path) {
  const tab = window.open("", "_blank");
  try {
    const url = await blobUrl(`/api/v1${path}`);
    if (tab) tab.location.href = url;
    else location.assign(url);
  } catch (exc) {
    tab?.close();
    showDetailError(exc);
  }
}

function documentButton(doc) {
  const title = doc.title || t(`doc_${doc.kind}`) || doc.kind;
  return h("button.link.doc", {
    type: "button", "data-document-id": doc.id, title: doc.number || "",
    onclick: () => openPdf(`${E}/documents/${doc.id}.pdf`),
  }, h("span.pdf-tag", { "aria-hidden": "true" }, "PDF"), ` ${title}${doc.number ? ` ${doc.number}` : ""}`);
}

const lightbox = { photos: [], index: 0 };

function thumbnails(photos, caption) {
  const box = h("div.thumbs");
  photos.forEach((url, index) => {
    const img = h("img", { alt: `${caption} ${index + 1}`, loading: "lazy" });
    blobUrl(url).then((src) => { img.src = src; }).catch(() => { img.alt = t("photo_missing"); });
    box.append(h("button", {
      type: "button", "aria-label": `${t("photo")} ${index + 1}: ${caption}`,
      onclick: () => openLightbox(photos.map((p) => ({ url: p, caption })), index),
    }, img));
  });
  return box;
}

function openLightbox(photos, index) {
  Object.assign(lightbox, { photos, index });
  showPhoto();
  const dialog = $("#lightbox");
  if (!dialog.open) dialog.showModal();
}

function showPhoto() {
  const { photos, index } = lightbox;
  const photo = photos[index];
  if (!photo) return;
  const img = $("#lightbox-img");
  img.removeAttribute("src");
  img.alt = photo.caption;
  blobUrl(photo.url).then((src) => { img.src = src; }).catch(() => {});
  $("#lightbox-caption").textContent = photo.caption;
  $("#lightbox-index").textContent = `${index + 1} / ${photos.length}`;
  $("#lightbox-prev").disabled = index === 0;
  $("#lightbox-next").disabled = index === photos.length - 1;
}

function stepPhoto(delta) {
  const next = lightbox.index + delta;
  if (next < 0 || next >= lightbox.photos.length) return;
  lightbox.index = next;
  showPhoto();
}

// -- who is at the desk -------------------------------------------------------------------

let me = null; // /auth/me
let myOfficer = null; // my officer row, through which I act for my agency
const agencies = new Map(); // id → agency
const streets = new Map(); // region code → name
const types = new Map(); // business type code → type

const has = (...roles) => Boolean(me?.roles.some((r) => roles.includes(r)));
const readsAll = () => has("admin", "supervisor", "enforcement_supervisor", "shift_leader");
const isLead = () => has("enforcement_lead");
const isOfficer = () => has("officer", "enforcement_lead");
const agencyName = (id) => agencies.get(id)?.name || (id != null ? `#${id}` : "");
const streetName = (code) => streets.get(code) || code || "";

function showLogin() {
  me = null;
  myOfficer = null;
  token.clear();
  $("#login").hidden = false;
  $("#desk").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
}
whenUnauthorized(showLogin);

async function start() {
  try {
    me = await api("/auth/me");
  } catch {
    showLogin();
    return;
  }
  $("#login").hidden = true;
  $("#desk").hidden = false;
  $("#logout").hidden = false;
  await Promise.all([loadAgencies(), loadStreets(), loadTypes()].map((p) => p.catch(showListError)));
  await findMyOfficer().catch(() => {});
  renderFilters();
  renderWho();
  await route();
  refreshCounts();
}

async function loadAgencies() {
  const page = await api(`${E}/agencies?limit=500`);
  agencies.clear();
  for (const a of page.items) agencies.set(a.id, a);
}

async function loadStreets() {
  const page = await api("/regions?level=street&limit=500");
  streets.clear();
  for (const r of page.items) streets.set(r.code, r.name);
}

async function loadTypes() {
  types.clear();
  for (const type of await api(`${E}/businesses/types`)) types.set(type.code, type);
}

// The officer row tied to my person: the agency I act for (none for supervisors).
async function findMyOfficer() {
  if (!isOfficer() && !has("legal_reviewer")) return;
  const page = await api(`${E}/officers?limit=500&active=true`);
  myOfficer = page.items.find((o) => o.person_id === me.id) || null;
}

function renderWho() {
  $("#who").textContent = me ? me.name : "";
  const box = $("#my-agency");
  box.replaceChildren();
  if (myOfficer) {
    box.append(h("strong", {}, myOfficer.agency_name), muted(`${myOfficer.name} · ${myOfficer.certificate_number}`));
  } else if (me) {
    box.append(muted(readsAll() ? t("reads_all") : has("legal_reviewer") ? t("reviews_region") : t("no_agency")));
  }
  $("#new-random").hidden = !myOfficer;
  $("#new-joint").hidden = !myOfficer;
  $("#new-simplified").hidden = !myOfficer;
  $("#new-case").hidden = !myOfficer;
}

// -- sections and the chosen thing: the address says which (#cases, #case/12 …) -----------

const SECTIONS = ["plans", "invitations", "inspections", "cases", "map"];
// The detail each section opens, and the section each detail belongs to.
const DETAILS = { plan: "plans", inspection: "inspections", case: "cases", invitation: "invitations" };
let section = null;
let chosen = null; // { kind, id }
const loaded = new Set(); // sections whose list is loaded

function parseHash() {
  const [head, id] = location.hash.replace(/^#/, "").split("/");
  if (DETAILS[head] && id) return { section: DETAILS[head], chosen: { kind: head, id } };
  return { section: SECTIONS.includes(head) ? head : homeSection(), chosen: null };
}

// Where the desk opens: a legal reviewer's work is the cases; everyone else's starts with plans.
function homeSection() {
  return has("legal_reviewer") && !isOfficer() ? "cases" : "plans";
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// The latest request of each list: an answer to an earlier one is dropped.
const latest = { plans: 0, inspections: 0, cases: 0 };
let routing = 0; // the latest route(): an earlier one still loading leaves the page to it
let showing = 0; // the latest showDetail(), likewise

async function route() {
  if (!me) return;
  const asked = ++routing;
  const want = parseHash();
  $("#list-error").hidden = true;
  if (want.section !== section) {
    section = want.section;
    for (const link of document.querySelectorAll("#sections a.queue")) {
      const here = link.dataset.section === section;
      link.classList.toggle("current", here);
      if (here) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    for (const pane of document.querySelectorAll("#list .pane")) pane.hidden = pane.id !== `list-${section}`;
  }
  if (!loaded.has(section)) {
    loaded.add(section);
    await LOADERS[section]().catch(showListError);
  }
  if (asked !== routing) return;
  chosen = want.chosen;
  markChosen();
  await showDetail().catch(showDetailError);
}

function markChosen() {
  for (const row of document.querySelectorAll("#list [data-kind][data-id]")) {
    const open = chosen && row.dataset.kind === chosen.kind && row.dataset.id === String(chosen.id);
    row.classList.toggle("open", Boolean(open));
  }
}

// The detail pane: a plan, an inspection, a case, or a form to make one.
async function showDetail() {
  const asked = ++showing;
  $("#detail-error").hidden = true;
  const body = $("#detail-body");
  if (!chosen) {
    body.hidden = true;
    body.replaceChildren();
    $("#detail-empty").hidden = false;
    $("#detail-empty-text").textContent = t(`pick_${section}`);
    return;
  }
  $("#detail-empty").hidden = true;
  body.hidden = false;
  const key = `${chosen.kind}/${chosen.id}`;
  const fresh = body.dataset.showing !== key;
  body.dataset.showing = key;
  // Loading keeps the previous content's height: no jump while the next one arrives.
  body.setAttribute("aria-busy", "true");
  if (!body.children.length) body.replaceChildren(h("p.loading", {}, t("loading")));
  try {
    const view = await DETAIL_VIEWS[chosen.kind](chosen.id);
    if (!view || asked !== showing) return;
    body.replaceChildren(view);
    // Another plan, inspection or case opens at its top; the same one keeps its place.
    if (fresh) $("#detail").scrollTop = 0;
  } finally {
    if (asked === showing) body.removeAttribute("aria-busy");
  }
}

// Reload the open list and detail after an action: what the API now says.
async function refresh({ lists = [section] } = {}) {
  for (const name of lists) loaded.delete(name);
  if (lists.includes(section)) {
    loaded.add(section);
    await LOADERS[section]().catch(showListError);
  }
  markChosen();
  await showDetail().catch(showDetailError);
  refreshCounts();
}

// The counts beside the sections: invitations waiting for my agency, overdue cases.
async function refreshCounts() {
  if (!me) return;
  if (myOfficer) {
    myInvitations().then((found) => setInvitationCount(found.filter((d) => myRow(d).state === "invited").length))
      .catch(() => setInvitationCount(0));
  }
  api(`${CASES}?overdue=true&limit=1`).then((page) => {
    const count = $("#overdue-count");
    count.textContent = page.total ? String(page.total) : "";
    count.classList.toggle("alert", page.total > 0);
    count.title = page.total ? t("overdue_count", { n: page.total }) : "";
  }).catch(() => { $("#overdue-count").textContent = ""; });
}

function selectOptions(select, options, value = select.value) {
  select.replaceChildren(...options.map(([v, label]) => h("option", { value: v }, label)));
  if (options.some(([v]) => v === value)) select.value = value;
}

function rowFor(kind, id, cells, label) {
  const row = h("tr", { "data-kind": kind, "data-id": id, tabindex: "0", "aria-label": label }, cells);
  const open = () => go(`#${kind}/${id}`);
  row.addEventListener("click", open);
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      open();
    } else if (event.key === "ArrowDown") {
      event.preventDefault();
      row.nextElementSibling?.focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      row.previousElementSibling?.focus();
    }
  });
  return row;
}

function badge(kind, state, name) {
  const tone = TONES[state] || "";
  return h(`span.badge${tone ? `.${tone}` : ""}`, { "data-state": state }, name || t(`${kind}_${state}`));
}

// How each state looks: settled well, waiting on someone, gone wrong, in hand.
const TONES = {
  approved: "good", completed: "good", closed: "good", accepted: "good", pass: "good", executed: "good",
  submitted: "warn", invited: "warn", reinspection_due: "warn", findings_recorded: "warn", filing: "warn",
  reviewing: "warn", deciding: "warn", notifying: "warn", decided: "warn",
  cancelled: "", declined: "bad", escalated: "bad", fail: "bad", not_filed: "", terminated: "",
  in_progress: "info", scheduled: "info", notice_served: "info", investigating: "info", notified: "info",
  hearing: "info", executing: "info", draft: "",
};

// -- penalty cases (处罚案件) -----------------------------------------------------------------

const STAGES = ["filing", "investigating", "reviewing", "notifying", "notified", "hearing", "deciding",
  "decided", "executing", "executed", "closed", "not_filed", "terminated"];
const CASES = "/enforcement/penalty-cases";
const cases = { items: [], total: 0, offset: 0 };
const items = new Map(); // item code → item detail (benchmark, basis), fetched once

async function itemDetail(code) {
  if (!items.has(code)) items.set(code, await api(`${E}/items/${encodeURIComponent(code)}`));
  return items.get(code);
}

function renderCaseFilters() {
  selectOptions($("#case-stage"), [["", t("all_stages")], ...STAGES.map((s) => [s, t(`stage_${s}`)])]);
  selectOptions($("#case-procedure"), [["", t("all_procedures")], ["general", t("proc_general")],
    ["simplified", t("proc_simplified")]]);
  selectOptions($("#case-agency"), [["", t("all_agencies")],
    ...[...agencies.values()].map((a) => [a.code, a.name])]);
}

async function loadCases({ more = false } = {}) {
  const form = $("#case-filters");
  const query = new URLSearchParams({ limit: String(PAGE * 2), offset: String(more ? cases.offset : 0) });
  const text = form.elements.text.value.trim();
  if (text) query.set("text", text);
  if (form.elements.stage.value) query.set("stage", form.elements.stage.value);
  if (form.elements.procedure.value) query.set("procedure", form.elements.procedure.value);
  if (form.elements.agency.value) query.set("agency", form.elements.agency.value);
  if (form.elements.overdue.checked) query.set("overdue", "true");
  if (!more) $("#case-count").textContent = t("loading");
  const asked = ++latest.cases;
  const page = await api(`${CASES}?${query}`);
  if (asked !== latest.cases) return; // the filters changed meanwhile
  cases.items = more ? [...cases.items, ...page.items] : page.items;
  cases.total = page.total;
  cases.offset = cases.items.length;
  renderCases();
}

// Overdue first, then by the days left to the stage's due date, then the newest.
function caseOrder(a, b) {
  const da = daysLeft(a.stage_due) ?? Infinity;
  const db = daysLeft(b.stage_due) ?? Infinity;
  return Number(b.overdue) - Number(a.overdue) || da - db || b.id - a.id;
}

// The light of a stage's deadline: the API's, or from the days left where it gave none.
function lightOf(c) {
  if (c.overdue) return "red";
  if (c.light) return c.light === "yellow" ? "amber" : c.light;
  const days = daysLeft(c.stage_due);
  if (days == null) return "none";
  return days < 0 ? "red" : days <= 3 ? "amber" : "green";
}

function lightDot(c) {
  const light = lightOf(c);
  const label = light === "none" ? t("no_deadline") : `${t(`light_${light}`)} · ${daysText(daysLeft(c.stage_due))}`;
  return h(`span.light.${light}`, { role: "img", "aria-label": label, title: label, "data-light": light });
}

function renderCases() {
  const rows = [...cases.items].sort(caseOrder).map((c) => {
    const days = daysLeft(c.stage_due);
    const due = c.stage_due
      ? [dateText(c.stage_due), h(`span.days-left.sub.${lightOf(c)}`, {}, daysText(days))]
      : muted("—");
    return rowFor("case", c.id, [
      h("td", {}, lightDot(c)),
      h("td.case-no", {}, c.number || t("no_number"), h("span.sub", {}, t(`proc_${c.procedure}`))),
      h("td", {}, c.party_name, h("span.sub.clamp", { title: c.title }, `${c.item_code} ${c.title}`),
        myOfficer?.agency_id === c.agency_id ? null : h("span.sub", {}, c.agency_name || agencyName(c.agency_id))),
      h("td", {}, badge("stage", c.stage, c.stage_name && zh() ? c.stage_name : t(`stage_${c.stage}`))),
      h("td.nowrap", {}, due),
    ], `${c.number || ""} ${c.party_name}`);
  });
  $("#case-rows").replaceChildren(...rows);
  $("#cases-empty").hidden = cases.items.length > 0;
  $("#case-count").textContent = t("count", { n: number(cases.total) });
  $("#cases-more").hidden = cases.items.length >= cases.total;
  markChosen();
}

// The case: party, item and basis, deadlines, the steps, the documents and what I may do now.
async function caseView(id) {
  if (id === "new") return openCaseForm();
  if (id === "simplified") return simplifiedForm();
  const c = await api(`${CASES}/${id}`);
  const item = await itemDetail(c.item_code).catch(() => null);
  const view = h("article.case-detail", { "data-case-id": c.id, "data-stage": c.stage });
  view.append(h("header.detail-head", {},
    h("h2", {}, c.number || t("no_number")),
    badge("stage", c.stage, zh() && c.stage_name ? c.stage_name : t(`stage_${c.stage}`)),
    h("span.number.muted", {}, t(`proc_${c.procedure}`))));
  view.append(h("p", {}, h("strong", {}, c.title)));
  view.append(facts([
    ["party", `${c.party_name}${aside(t(`party_${c.party_kind}`))}`, "party"],
    ["identifier", c.party_identifier],
    ["representative", c.party_representative],
    ["address", c.party_address],
    ["agency", c.agency_name || agencyName(c.agency_id)],
    ["item", item ? `${item.code} ${item.name}` : c.item_code, "item"],
    ["source", t(`src_${c.source}`)],
    ["place", c.place],
    ["violation_on", dateText(c.violation_on)],
    ["discovered_on", dateText(c.discovered_on)],
    ["filed_on", dateText(c.filed_on)],
    ["facts_label", c.facts],
    ["officers", await officerNames(c.officer_ids)],
  ]));
  if (item) view.append(basisBlock(item));
  view.append(penaltyBlock(c));
  view.append(deadlinesBlock(c));
  view.append(actionsBlock(c, item));
  view.append(await timelineBlock(c));
  return view;
}

function basisBlock(item) {
  const box = h("section.basis", {}, h("h3", {}, t("legal_basis")));
  const roles = { duty: t("basis_duty"), penalty: t("basis_penalty"), power: t("basis_power") };
  const list = h("ul.basis-list");
  for (const b of item.basis) {
    list.append(h("li", {}, h("strong", {}, `${roles[b.role] || b.role}${colon()}`), b.citation,
      h("details", {}, h("summary", {}, t("article_text")), h("p.muted", {}, b.text))));
  }
  box.append(list);
  return box;
}

function penaltyBlock(c) {
  if (!c.grade && c.fine == null && !c.measures?.length && !c.exempt) return h("span");
  const box = h("section.penalty", {}, h("h3", {}, c.decided_on ? t("penalty_decided") : t("penalty_proposed")));
  box.append(facts([
    ["grade", c.grade ? t(`grade_${c.grade}`) : ""],
    ["measures", (c.measures || []).map((m) => t(`m_${m}`)).join(zh() ? "、" : ", ")],
    ["fine", c.fine != null ? money(c.fine) : "", "fine"],
    ["other_measures", c.other_measures],
    ["departure_reason", c.departure_reason],
    ["exempt", c.exempt ? `${t(`exempt_${c.exempt}`)} ${c.exempt_reason || ""}` : ""],
    ["legal_review", c.legal_review_required ? `${t("required_yes")}${c.legal_review_why ? `${colon()}${c.legal_review_why}` : ""}` : ""],
    ["hearing_right", c.hearing_right ? (c.hearing_requested ? t("hearing_requested") : t("yes")) : ""],
    ["paid", Number(c.paid) ? money(c.paid) : ""],
    ["late_fee", c.late_fee != null && Number(c.late_fee) ? money(c.late_fee) : ""],
    ["amount_due", c.amount_due != null ? money(c.amount_due) : ""],
  ]));
  return box;
}

function deadlinesBlock(c) {
  const box = h("section.deadlines", {}, h("h3", {}, t("deadlines")));
  const rows = (c.deadlines || []).map((d) => {
    const light = d.done_on ? (d.on_time === false ? "red" : "none") : d.light === "yellow" ? "amber" : d.light || "none";
    // A period neither done nor running ended otherwise (the statement came in): no count.
    const state = d.done_on
      ? `${t("done_on", { date: dateText(d.done_on) })}${d.on_time === false ? ` · ${t("late")}` : ""}`
      : d.light ? daysText(daysLeft(d.due)) : "—";
    return h("tr", { "data-deadline": d.name },
      h("td", {}, h(`span.light.${light}`, { "aria-hidden": "true" }), " ", zh() ? d.label : t(`dl_${d.name}`) || d.label),
      h("td.due", {}, dateText(d.due)),
      h("td", {}, h(`span.days-left.${light}`, {}, state)),
      h("td.muted", { title: d.basis }, d.unit === "working_days" ? t("working_days") : d.unit === "days" ? t("calendar_days") : ""));
  });
  if (!rows.length) {
    box.append(muted(t("no_deadlines")));
    return box;
  }
  box.append(h("table.small.deadlines", {},
    h("thead", {}, h("tr", {}, h("th", {}, t("deadline")), h("th", {}, t("due")), h("th", {}, t("state")), h("th", {}, t("counted")))),
    h("tbody", {}, rows)));
  if (c.extended_until) box.append(h("p.hint", {}, t("extended_until", { date: dateText(c.extended_until) })));
  return box;
}

async function timelineBlock(c) {
  const box = h("section.steps", {}, h("h3", {}, t("timeline")));
  const docs = new Map((c.documents || []).map((d) => [d.id, d]));
  const list = h("ol.timeline");
  for (const step of c.steps || []) {
    const doc = step.document_id != null ? docs.get(step.document_id) : null;
    const names = await officerNames(step.officer_ids);
    list.append(h("li", { "data-step": step.kind },
      h("strong", {}, t(`step_${step.kind}`)),
      h("div.when", {}, timeText(step.at)),
      h("div.who", {}, step.actor_name, names ? ` · ${t("officers")}${colon()}${names}` : ""),
      step.note ? h("p", {}, step.note) : null,
      doc ? h("div.docs", {}, documentButton(doc)) : null));
  }
  box.append(list);
  const loose = (c.documents || []).filter((d) => !(c.steps || []).some((s) => s.document_id === d.id));
  if (loose.length) box.append(h("div.docs", {}, loose.map(documentButton)));
  if (!(c.steps || []).length) box.append(muted(t("no_steps")));
  return box;
}

// -- officers: names by id, and the picker that checks certificates as it goes ------------

const officerCache = new Map(); // id → officer

async function officer(id) {
  if (!officerCache.has(id)) officerCache.set(id, api(`${E}/officers/${id}`).catch(() => null));
  return officerCache.get(id);
}

async function officerNames(ids) {
  if (!ids?.length) return "";
  const found = await Promise.all(ids.map(officer));
  return found.map((o, i) => (o ? `${o.name}${aside(o.certificate_number)}` : `#${ids[i]}`)).join(zh() ? "、" : ", ");
}

async function agencyOfficers(agencyCode) {
  const page = await api(`${E}/officers?agency=${encodeURIComponent(agencyCode)}&limit=500`);
  for (const o of page.items) officerCache.set(o.id, Promise.resolve(o));
  return page.items;
}

// A fieldset of the agency's officers to tick; each ticked one is checked with the API for
// the region and day (certificate valid, inside their regions), and what it says about an
// officer is shown beside them. `minimum` officers at least (Art. 42: two).
function officerPicker({ agencyCode, region, day, name = "officer_ids", minimum = 2, chosen = [], legend }) {
  const box = h("fieldset.officer-pick", { "data-field": name },
    h("legend", {}, legend || t("pick_officers", { n: minimum })));
  const status = h("p.hint", { "aria-live": "polite" });
  const state = { asked: 0, ok: null };
  box.picker = state;
  const check = async () => {
    const ids = [...box.querySelectorAll("input:checked")].map((i) => Number(i.value));
    for (const el of box.querySelectorAll(".problem")) el.remove();
    for (const el of box.querySelectorAll("label.blocked")) el.classList.remove("blocked");
    const whenDay = typeof day === "function" ? day() : day;
    if (!ids.length || !region || !whenDay) {
      state.ok = null;
      status.textContent = t("officers_chosen", { n: ids.length });
      return;
    }
    const asking = ++state.asked;
    try {
      const result = await api(`${E}/officers/check`, { method: "POST", json: { officer_ids: ids, region_code: region, on: whenDay } });
      if (asking !== state.asked) return;
      state.ok = result.ok;
      for (const p of result.problems) {
        const label = p.officer_id != null ? box.querySelector(`label[data-officer-id="${p.officer_id}"]`) : null;
        const note = h(`span.problem${p.blocking ? "" : ".warning"}`, { "data-problem": p.kind, title: p.message },
          problemText(p, box.roster?.get(p.officer_id)));
        if (label) {
          label.querySelector(".who").append(note);
          if (p.blocking) label.classList.add("blocked");
        } else {
          status.after(note);
        }
      }
      status.textContent = result.ok ? t("officers_ok", { n: ids.length }) : t("officers_not_ok");
    } catch (exc) {
      if (asking === state.asked) status.textContent = exc.message;
    }
  };
  box.recheck = check;
  const list = h("div");
  box.append(list, status);
  agencyOfficers(agencyCode).then((rows) => {
    box.roster = new Map(rows.map((o) => [o.id, o]));
    const active = rows.filter((o) => o.active);
    if (!active.length) list.append(muted(t("no_officers")));
    for (const o of active) {
      const input = h("input", { type: "checkbox", name, value: o.id, checked: chosen.includes(o.id), onchange: check });
      list.append(h("label.check", { "data-officer-id": o.id }, input,
        h("span.who", {}, `${o.name} `, h("span.cert", {}, `${o.certificate_number} · ${t("valid_until", { date: dateText(o.valid_until) })}`))));
    }
    check();
  }).catch((exc) => list.append(h("p.error", {}, exc.message)));
  return box;
}

// What the check says about an officer, in the desk's words (the API's own words stay in
// the tooltip).
function problemText(problem, o) {
  const dates = { from: dateText(o?.valid_from), until: dateText(o?.valid_until) };
  const text = {
    unknown: t("pr_unknown"), inactive: t("pr_inactive"), not_yet_valid: t("pr_not_yet_valid", dates),
    expired: t("pr_expired", dates), expiring_soon: t("pr_expiring_soon", dates),
    outside_region: t("pr_outside_region"), too_few: t("pr_too_few"),
  }[problem.kind];
  return text && (o || !problem.officer_id) ? text : problem.message;
}

function pickedOfficers(form, name = "officer_ids") {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => Number(i.value));
}

// -- form fields ------------------------------------------------------------------------------

let fieldSeq = 0;

// A labelled control. kind: text, textarea, date, datetime, number, select, checkbox, lines
// (one entry a line, sent as a list). The control carries data-kind for `formBody`.
function field(kind, name, label, { required = false, value = "", options = [], hint = "", min, max, rows = 3, placeholder } = {}) {
  const id = `f-${++fieldSeq}`;
  let control;
  if (kind === "textarea" || kind === "lines") {
    control = h("textarea", { id, name, rows, required, maxlength: 4000, placeholder });
    control.value = Array.isArray(value) ? value.join("\n") : value ?? "";
  } else if (kind === "select") {
    control = h("select", { id, name, required }, options.map(([v, text]) => h("option", { value: v }, text)));
    if (value !== "" && value != null) control.value = String(value);
  } else if (kind === "checkbox") {
    control = h("input", { id, name, type: "checkbox", checked: Boolean(value) });
    control.dataset.kind = kind;
    return h("label.check", { for: id }, control, h("span", {}, label));
  } else {
    const type = { datetime: "datetime-local", number: "number", date: "date" }[kind] || "text";
    control = h("input", { id, name, type, required, min, max, placeholder,
      step: kind === "number" ? "1" : null, inputmode: kind === "number" ? "numeric" : null,
      maxlength: type === "text" ? 200 : null });
    control.value = value ?? "";
  }
  control.dataset.kind = kind;
  return h("label", { for: id }, h("span", {}, label, required ? h("span.req", { "aria-hidden": "true" }, " *") : null),
    control, hint ? h("span.hint", {}, hint) : null);
}

// The body a form sends: every named control by its kind; empty optional values left out,
// so that the API's defaults apply.
function formBody(form) {
  const body = {};
  const lists = new Map();
  for (const control of form.querySelectorAll("[name][data-kind]")) {
    const { name } = control;
    const kind = control.dataset.kind;
    const raw = control.value;
    if (kind === "checkbox") body[name] = control.checked;
    else if (kind === "multi") {
      if (!lists.has(name)) lists.set(name, []);
      if (control.checked) lists.get(name).push(control.dataset.number ? Number(raw) : raw);
    } else if (kind === "lines") {
      const lines = raw.split("\n").map((s) => s.trim()).filter(Boolean);
      if (lines.length || control.required) body[name] = lines;
    } else if (raw === "" || raw == null) {
      continue;
    } else if (kind === "number" || kind === "id") body[name] = Number(raw);
    else if (kind === "datetime") body[name] = instant(raw);
    else body[name] = typeof raw === "string" ? raw.trim() : raw;
  }
  for (const [name, values] of lists) body[name] = values;
  for (const picker of form.querySelectorAll("fieldset.officer-pick")) {
    body[picker.dataset.field] = pickedOfficers(form, picker.dataset.field);
  }
  return body;
}

function multiChoice(name, legend, options, chosen = [], { numbers = false } = {}) {
  return h("fieldset", { "data-field": name }, h("legend", {}, legend),
    options.map(([value, label, extra]) => {
      const input = h("input", { type: "checkbox", name, value, checked: chosen.includes(value) });
      input.dataset.kind = "multi";
      if (numbers) input.dataset.number = "1";
      return h("label.check", {}, input, h("span", {}, label, extra ? h("span.hint", {}, ` ${extra}`) : null));
    }));
}

function buttons(submitLabel, onCancel) {
  return h("div.form-buttons", {},
    h("button.primary", { type: "submit" }, submitLabel),
    onCancel ? h("button.link.dark", { type: "button", onclick: onCancel }, t("cancel")) : null);
}

// -- the penalty: grade, benchmark row, measures, fine checked live against the benchmark --

const MEASURES = ["warning", "criticism", "fine", "confiscate_income", "confiscate_property", "suspend_licence",
  "lower_qualification", "revoke_licence", "restrict_business", "stop_business", "close", "restrict_practice"];
const GRADES = ["none", "mitigated", "lighter", "ordinary", "heavier"];

function penaltyFields(item, party, current = {}, { measures = MEASURES } = {}) {
  const box = h("div.penalty-fields");
  const rows = item?.benchmarks || [];
  const grades = GRADES.filter((g) => !rows.length || rows.some((b) => b.grade === g));
  const grade = field("select", "grade", t("grade"), {
    required: true, value: current.grade || (grades.includes("ordinary") ? "ordinary" : grades[0]),
    options: grades.map((g) => [g, t(`grade_${g}`)]),
  });
  const benchmark = field("select", "benchmark_id", t("benchmark_row"), { options: [] });
  benchmark.querySelector("select").dataset.kind = "id";
  const fine = field("number", "fine", t("fine_cny"), { value: current.fine ?? "", min: 0 });
  const base = field("number", "base_amount", t("base_amount"), { value: current.base_amount ?? "", min: 0 });
  const result = h("p.fine-check", { role: "status", "aria-live": "polite", "data-fine-check": "" });
  const reason = field("textarea", "departure_reason", t("departure_reason"), {
    value: current.departure_reason || "", hint: t("departure_hint"),
  });
  reason.hidden = !current.departure_reason;
  const measureBox = multiChoice("measures", t("measures"), measures.map((m) => [m, t(`m_${m}`)]),
    current.measures?.length ? current.measures : ["fine"]);
  box.append(h("div.row2", {}, grade, benchmark), measureBox, h("div.row2", {}, fine, base), result, reason);
  const state = { asked: 0, check: null };
  box.fineCheck = state;

  const gradeSelect = grade.querySelector("select");
  const benchSelect = benchmark.querySelector("select");
  const fineInput = fine.querySelector("input");
  const baseInput = base.querySelector("input");
  const fillRows = () => {
    const fitting = rows.filter((b) => b.grade === gradeSelect.value && (b.party === "any" || b.party === party));
    selectOptions(benchSelect, [["", t("any_row")], ...fitting.map((b) => [String(b.id), benchLabel(b)])],
      current.benchmark_id ? String(current.benchmark_id) : "");
    const needsBase = fitting.some((b) => b.times_min != null || b.base_from != null || b.base_below != null);
    base.hidden = !needsBase;
    if (needsBase) base.querySelector("span").firstChild.textContent = fitting.find((b) => b.base_name)?.base_name || t("base_amount");
  };
  let timer = null;
  const check = async () => {
    const asking = ++state.asked;
    if (fineInput.value === "" || !item) {
      state.check = null;
      result.className = "fine-check";
      result.textContent = fineInput.value === "" ? t("fine_none") : "";
      reason.hidden = !reason.querySelector("textarea").value;
      return;
    }
    const body = { grade: gradeSelect.value, fine: Number(fineInput.value), party };
    if (benchSelect.value) body.benchmark_id = Number(benchSelect.value);
    if (!base.hidden && baseInput.value !== "") body.base_amount = Number(baseInput.value);
    result.textContent = t("checking");
    try {
      const verdict = await api(`${E}/items/${encodeURIComponent(item.code)}/fine-check`, { method: "POST", json: body });
      if (asking !== state.asked) return;
      state.check = verdict;
      const ranges = verdict.allowed.map((a) => `${money(a.minimum)}–${money(a.maximum)}`).join(zh() ? "；" : "; ");
      result.className = `fine-check ${verdict.within ? "within" : "outside"}`;
      result.dataset.within = String(verdict.within);
      result.textContent = verdict.within ? t("fine_within", { ranges }) : t("fine_outside", { ranges: ranges || t("no_range") });
      result.title = verdict.reason || "";
      reason.hidden = !verdict.needs_reason && !reason.querySelector("textarea").value;
      reason.querySelector("textarea").required = verdict.needs_reason;
    } catch (exc) {
      if (asking !== state.asked) return;
      state.check = null;
      result.className = "fine-check outside";
      result.textContent = exc.message;
    }
  };
  box.recheck = () => { clearTimeout(timer); return check(); };
  const soon = () => { clearTimeout(timer); timer = setTimeout(check, 200); };
  gradeSelect.addEventListener("change", () => { fillRows(); soon(); });
  benchSelect.addEventListener("change", soon);
  fineInput.addEventListener("input", soon);
  baseInput.addEventListener("input", soon);
  fillRows();
  if (fineInput.value !== "") check();
  else result.textContent = t("fine_none");
  return box;
}

function benchLabel(b) {
  const range = b.fine_min != null || b.fine_max != null
    ? `${money(b.fine_min ?? 0)}–${money(b.fine_max ?? b.fine_min ?? 0)}`
    : b.times_min != null ? t("times", { min: b.times_min, max: b.times_max, base: b.base_name }) : b.measure;
  return `${b.circumstance}${aside(range)}`;
}

// Before sending: a fine outside the benchmark needs the written reason (the API says so
// too; saying it here spares the round trip and keeps the officer's typing).
async function penaltyReady(form) {
  const box = form.querySelector(".penalty-fields");
  if (!box) return true;
  await box.recheck();
  const verdict = box.fineCheck.check;
  const reason = form.querySelector("textarea[name=departure_reason]");
  if (verdict && verdict.needs_reason && !reason.value.trim()) {
    reason.closest("label").hidden = false;
    reason.classList.add("invalid");
    reason.closest("label").after(h("p.field-error", { role: "alert", "data-error-for": "departure_reason" }, t("reason_needed")));
    box.querySelector(".fine-check").scrollIntoView({ block: "center" });
    reason.focus({ preventScroll: true });
    return false;
  }
  return true;
}

// -- a case's actions: the ones the API allows me now, each with its form ------------------

const SERVICE_METHODS = ["in_person", "left", "post", "electronic", "announcement"];

function actionFields(action, c, item) {
  const teamDay = () => today();
  const picker = (opts = {}) => officerPicker({ agencyCode: agencies.get(c.agency_id)?.code, region: c.region_code,
    day: teamDay, chosen: c.officer_ids || [], ...opts });
  const note = (label = t("note"), required = false) => field("textarea", "note", label, { required });
  const methods = SERVICE_METHODS.map((m) => [m, t(`sm_${m}`)]);
  switch (action) {
    case "approve_filing":
      return [c.officer_ids?.length ? null : picker({ legend: t("case_officers") }), note(t("approval_opinion"))];
    case "refuse_filing": return [note(t("refusal_reason"), true)];
    case "collect_evidence":
      return [picker(), field("lines", "items", t("evidence_items"), { required: true, hint: t("one_a_line") }), note()];
    case "record_inquiry":
      return [picker(), field("text", "person", t("inquired_person"), { required: true }),
        field("textarea", "record", t("inquiry_record"), { required: true, rows: 5 }), note()];
    case "inspect_site":
      return [picker(), field("text", "place", t("place"), { value: c.place }),
        h("div.row2", {}, field("datetime", "started_at", t("started_at")), field("datetime", "ended_at", t("ended_at"))),
        field("text", "present", t("present")), field("textarea", "record", t("site_record"), { required: true, rows: 5 }),
        field("lines", "findings", t("site_findings"), { hint: t("one_a_line") })];
    case "order_correction":
      return [picker(), field("textarea", "requirement", t("requirement"), { required: true }),
        field("date", "deadline", t("correction_deadline"), { required: true, min: today() }), note()];
    case "propose":
      return [penaltyFields(item, c.party_kind, c),
        field("textarea", "facts", t("facts_label"), { value: c.facts, rows: 4 }),
        field("checkbox", "major_public_interest", t("major_public_interest")),
        field("checkbox", "complex", t("complex_case")), note()];
    case "return_review": return [note(t("return_reason"), true)];
    case "serve_notice": return [field("select", "method", t("service_method"), { options: methods, value: "in_person" }), note()];
    case "record_statement":
      return [field("textarea", "statement", t("statement"), { required: true, rows: 4 }),
        c.hearing_right ? field("checkbox", "waive_hearing", t("waive_hearing")) : null, note()];
    case "notify_hearing":
      return [h("div.row2", {}, field("date", "hearing_on", t("hearing_on"), { required: true, min: today() }),
        field("text", "place", t("hearing_place"), { required: true })), hostPicker(c), note()];
    case "hold_hearing":
      return [field("checkbox", "held", t("hearing_held"), { value: true }), field("textarea", "record", t("hearing_record"), { rows: 4 }), note()];
    case "reopen_investigation": return [note(t("reopen_reason"), true)];
    case "extend":
      return [h("p.hint", {}, t("extend_hint")), note(t("extend_reason"), true),
        field("checkbox", "collective", t("collective_decision"), { value: c.extended_until != null })];
    case "decide":
      return [field("select", "outcome", t("decision_outcome"), { options: [["penalty", t("out_penalty")], ["no_penalty", t("out_no_penalty")]] }),
        penaltyFields(item, c.party_kind, c), exemptFields(item),
        field("checkbox", "collective", t("collective_decision")),
        field("checkbox", "publish", t("publish_decision"), { value: true }), note()];
    case "serve":
      return [h("div.row2", {}, field("select", "method", t("service_method"), { options: methods, value: "in_person" }),
        field("datetime", "served_at", t("served_at"), { hint: t("empty_now") })),
        h("div.row2", {}, field("text", "recipient", t("recipient"), { value: c.party_representative || c.party_name }),
          field("text", "place", t("place"), { value: c.place })),
        picker({ minimum: 0, chosen: [], legend: t("servers") }), note()];
    case "record_payment":
      return [h("div.row2", {}, field("number", "amount", t("amount_paid"), { required: true, min: 0, value: c.amount_due ?? c.fine ?? "" }),
        field("date", "paid_on", t("paid_on"), { value: today() })), note()];
    case "record_execution": return [note(t("execution_note"), true)];
    case "terminate": return [note(t("terminate_reason"), true)];
    default: return [note()];
  }
}

function hostPicker(c) {
  const wrap = field("select", "host_officer_id", t("hearing_host"), { required: true, options: [["", t("loading")]] });
  const select = wrap.querySelector("select");
  select.dataset.kind = "id";
  agencyOfficers(agencies.get(c.agency_id)?.code).then((rows) => {
    selectOptions(select, [["", t("choose")], ...rows.filter((o) => o.active).map((o) => [String(o.id), o.name])]);
  }).catch(() => {});
  return wrap;
}

function exemptFields(item) {
  const options = [["", t("exempt_none")], ["minor", t("exempt_minor")]];
  if (item?.first_violation_exempt) options.push(["first_violation", t("exempt_first_violation")]);
  const box = h("div.exempt", {}, field("select", "exempt", t("exempt"), { options }));
  const details = h("div", { hidden: true },
    field("textarea", "exempt_reason", t("exempt_reason")),
    h("div.row2", {}, field("checkbox", "first_violation", t("first_violation")), field("checkbox", "harm_slight", t("harm_slight"))),
    h("div.row2", {}, field("checkbox", "no_harm", t("no_harm")), field("checkbox", "corrected", t("corrected"))));
  box.append(details);
  box.querySelector("select").addEventListener("change", (event) => { details.hidden = !event.target.value; });
  return box;
}

function actionsBlock(c, item) {
  const box = h("section.case-actions-block", {}, h("h3", {}, t("actions_now")));
  const allowed = c.allowed_actions || [];
  if (!allowed.length) {
    box.append(muted(["closed", "not_filed", "terminated"].includes(c.stage) ? t("case_ended") : t("no_actions")));
    return box;
  }
  const bar = h("div.actions-bar", { role: "group", "aria-label": t("actions_now") });
  const holder = h("div.action-holder");
  for (const action of allowed) {
    bar.append(h("button.secondary", {
      type: "button", "data-action": action,
      onclick: (event) => {
        for (const b of bar.querySelectorAll("button")) b.classList.toggle("current", b === event.currentTarget);
        holder.replaceChildren(actionForm(action, c, item, () => {
          holder.replaceChildren();
          for (const b of bar.querySelectorAll("button")) b.classList.remove("current");
        }));
        holder.querySelector("input, select, textarea, button")?.focus();
      },
    }, t(`act_${action}`)));
  }
  box.append(bar, holder);
  return box;
}

function actionForm(action, c, item, close) {
  const form = h("form.card.action-form", { "data-action-form": action, novalidate: true },
    h("h4", {}, t(`act_${action}`)), actionHint(action, c), actionFields(action, c, item), buttons(t("confirm"), close));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!(await penaltyReady(form))) return;
    const body = { action, ...formBody(form) };
    if (action === "decide" && body.outcome === "no_penalty") {
      delete body.fine;
      body.measures = [];
    }
    const done = await submitting(form, () => api(`${CASES}/${c.id}/actions`, { method: "POST", json: body }));
    if (done !== undefined) await refresh({ lists: ["cases"] });
  });
  return form;
}

function actionHint(action, c) {
  const hints = {
    approve_filing: t("hint_approve_filing"),
    collect_evidence: t("hint_two_officers"), record_inquiry: t("hint_two_officers"),
    inspect_site: t("hint_two_officers"), order_correction: t("hint_two_officers"),
    propose: t("hint_propose"), serve_notice: t("hint_serve_notice"), decide: t("hint_decide"),
    serve: t("hint_serve"), close: t("hint_close"),
  };
  const text = hints[action];
  return text ? h("p.hint", {}, text, action === "decide" && c.decision_due ? ` ${t("decision_due_on", { date: dateText(c.extended_until || c.decision_due) })}` : "") : null;
}

// -- a business from the directory: search as you type -------------------------------------

function businessSearch({ onPick, label = t("business"), required = true } = {}) {
  const id = `f-${++fieldSeq}`;
  const input = h("input", { id, type: "search", autocomplete: "off", placeholder: t("business_search_hint"),
    "aria-controls": `${id}-results`, required });
  const hidden = h("input", { type: "hidden", name: "business_id" });
  hidden.dataset.kind = "id";
  const results = h("ul.search-results", { id: `${id}-results`, hidden: true });
  const status = h("span.hint", { "aria-live": "polite" });
  const box = h("div.business-search", { "data-field": "business_id" },
    h("label", { for: id }, h("span", {}, label, required ? " *" : ""), input), status, results, hidden);
  let timer = null;
  let asked = 0;
  const search = async () => {
    const text = input.value.trim();
    const asking = ++asked;
    if (text.length < 1) {
      results.hidden = true;
      status.textContent = "";
      return;
    }
    status.textContent = t("searching");
    try {
      const page = await api(`${E}/businesses?text=${encodeURIComponent(text)}&active=true&limit=8`);
      if (asking !== asked) return;
      status.textContent = page.total ? t("found", { n: number(page.total) }) : t("no_business_found");
      results.replaceChildren(...page.items.map((b) => h("li", {}, h("button", {
        type: "button", "data-business-id": b.id,
        onclick: () => {
          hidden.value = String(b.id);
          input.value = b.name;
          results.hidden = true;
          status.textContent = `${b.credit_code} · ${types.get(b.type_code)?.name || b.type_name} · ${streetName(b.region_code)}`;
          onPick?.(b);
        },
      }, b.name, h("span.sub", {}, `${b.credit_code} · ${b.type_name} · ${b.address}`)))));
      results.hidden = !page.items.length;
    } catch (exc) {
      if (asking === asked) status.textContent = exc.message;
    }
  };
  input.addEventListener("input", () => {
    hidden.value = "";
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && !results.hidden) {
      event.preventDefault();
      results.querySelector("button")?.focus();
    }
  });
  results.addEventListener("keydown", (event) => {
    const items = [...results.querySelectorAll("button")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown") items[Math.min(at + 1, items.length - 1)]?.focus();
    else if (event.key === "ArrowUp") (at <= 0 ? input : items[at - 1]).focus();
    else if (event.key === "Escape") { results.hidden = true; input.focus(); }
    else return;
    event.preventDefault();
  });
  return box;
}

// The items my agency may enforce (its kind's, and those it was given).
async function myItems(kind = "penalty") {
  const agency = agencies.get(myOfficer?.agency_id);
  if (!agency) return [];
  const page = await api(`${E}/items?agency_kind=${agency.kind}&kind=${kind}&active=true&limit=500`);
  const found = new Map(page.items.map((i) => [i.code, i]));
  for (const code of agency.items || []) {
    if (found.has(code)) continue;
    const item = await itemDetail(code).catch(() => null);
    if (item && item.kind === kind) found.set(code, item);
  }
  return [...found.values()];
}

// -- opening a case: general procedure (立案申请) and on the spot (简易程序) ------------------

function partyFields() {
  return h("fieldset.party", { "data-field": "party", hidden: true }, h("legend", {}, t("party_manual")),
    h("div.row2", {}, field("select", "party.kind", t("party_kind"), { options: [["organisation", t("party_organisation")], ["citizen", t("party_citizen")]] }),
      field("text", "party.name", t("party_name"))),
    h("div.row2", {}, field("text", "party.identifier", t("identifier")), field("text", "party.representative", t("representative"))),
    field("text", "party.address", t("address")));
}

// Moves "party.x" fields into body.party, and only when no business was chosen.
function withParty(body) {
  const party = {};
  for (const key of Object.keys(body)) {
    if (!key.startsWith("party.")) continue;
    party[key.slice(6)] = body[key];
    delete body[key];
  }
  if (!body.business_id && party.name) body.party = party;
  return body;
}

async function openCaseForm() {
  if (!myOfficer) return h("p.empty", {}, t("no_agency"));
  const list = await myItems();
  const agency = agencies.get(myOfficer.agency_id);
  const partyBox = partyFields();
  const officersHolder = h("div.officers-holder");
  const form = h("form.card.open-case", { novalidate: true },
    h("h2", {}, t("open_case_title")), h("p.hint", {}, t("open_case_hint")),
    field("select", "item_code", t("item"), { required: true, options: [["", t("choose")], ...list.map((i) => [i.code, `${i.code} ${i.name}`])] }),
    businessSearch({ onPick: (b) => { setRegion(b.region_code); partyBox.hidden = true; } }),
    h("p", {}, h("button.link", { type: "button", onclick: () => { partyBox.hidden = !partyBox.hidden; } }, t("party_not_listed"))),
    partyBox,
    h("div.row2", {}, field("select", "source", t("source"), { options: ["inspection", "complaint", "referral", "patrol", "other"].map((s) => [s, t(`src_${s}`)]) }),
      streetSelect("region_code", t("street"))),
    h("div.row3", {}, field("date", "violation_on", t("violation_on"), { required: true, max: today() }),
      field("date", "violation_ended_on", t("violation_ended_on"), { max: today() }),
      field("date", "discovered_on", t("discovered_on"), { value: today(), max: today() })),
    field("checkbox", "serious_harm", t("serious_harm")),
    field("text", "place", t("place")),
    field("textarea", "facts", t("facts_label"), { rows: 4 }),
    officersHolder,
    buttons(t("submit_filing"), () => go("#cases")));
  const select = form.querySelector("[name=region_code]");
  // The officers are checked for the case's street: picked again when it changes.
  const renderOfficers = () => officersHolder.replaceChildren(officerPicker({ agencyCode: agency.code,
    region: select.value, day: today, chosen: pickedOfficers(form), legend: t("case_officers") }));
  function setRegion(code) {
    if ([...select.options].some((o) => o.value === code)) select.value = code;
    renderOfficers();
  }
  select.addEventListener("change", renderOfficers);
  renderOfficers();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = withParty(formBody(form));
    const made = await submitting(form, () => api(CASES, { method: "POST", json: body }));
    if (made) {
      loaded.delete("cases");
      go(`#case/${made.id}`);
    }
  });
  return form;
}

// My agency's street, when its jurisdiction is one (a street team's).
function myStreet() {
  const agency = agencies.get(myOfficer?.agency_id);
  const found = [...(myOfficer?.regions || []), ...(agency?.regions || [])].find((code) => streets.has(code));
  return found || "";
}

function streetSelect(name, label, value = myStreet()) {
  const wrap = field("select", name, label, { value,
    options: [["", t("choose")], ...[...streets.entries()].map(([code, n]) => [code, n])] });
  return wrap;
}

async function simplifiedForm() {
  if (!myOfficer) return h("p.empty", {}, t("no_agency"));
  const list = await myItems();
  const agency = agencies.get(myOfficer.agency_id);
  let item = null;
  let party = "organisation";
  const partyBox = partyFields();
  const penaltyHolder = h("div.penalty-holder", {}, muted(t("pick_item_first")));
  const limitNote = h("p.field-error", { hidden: true, role: "alert", "data-error-for": "fine" });
  const form = h("form.card.simplified", { novalidate: true },
    h("h2", {}, t("simplified_title")),
    h("div.limits", {}, h("p", {}, t("simplified_limits")), h("p", {}, t("simplified_duties"))),
    field("select", "item_code", t("item"), { required: true, options: [["", t("choose")], ...list.map((i) => [i.code, `${i.code} ${i.name}`])] }),
    businessSearch({ onPick: (b) => { party = b.party_kind; partyBox.hidden = true; setRegion(b.region_code); renderPenalty(); } }),
    h("p", {}, h("button.link", { type: "button", onclick: () => { partyBox.hidden = !partyBox.hidden; } }, t("party_not_listed"))),
    partyBox,
    h("div.row2", {}, streetSelect("region_code", t("street")), field("date", "violation_on", t("violation_on"), { required: true, value: today(), max: today() })),
    field("text", "place", t("place")),
    field("textarea", "facts", t("facts_label"), { required: true, rows: 3 }),
    penaltyHolder, limitNote,
    h("div.officers-holder"),
    field("text", "recipient", t("recipient"), { hint: t("recipient_hint") }),
    buttons(t("decide_on_spot"), () => go("#cases")));
  const region = () => form.querySelector("[name=region_code]").value;
  function setRegion(code) {
    const select = form.querySelector("[name=region_code]");
    if ([...select.options].some((o) => o.value === code)) select.value = code;
    renderOfficers();
  }
  function renderOfficers() {
    const chosen = pickedOfficers(form);
    form.querySelector(".officers-holder").replaceChildren(officerPicker({ agencyCode: agency.code, region: region(),
      day: () => form.querySelector("[name=violation_on]").value || today(), chosen }));
  }
  function renderPenalty() {
    if (!item) return;
    penaltyHolder.replaceChildren(penaltyFields(item, party, { grade: "lighter", measures: ["warning"] }, { measures: ["warning", "fine"] }));
    penaltyHolder.querySelector("[name=fine]").addEventListener("input", checkLimit);
  }
  // Art. 51: CNY 200 for a citizen, 3,000 for an organisation — shown as it is typed.
  function checkLimit() {
    const fine = Number(form.querySelector("[name=fine]")?.value || 0);
    const limit = party === "citizen" ? 200 : 3000;
    limitNote.hidden = fine <= limit;
    limitNote.textContent = t("simplified_over", { limit: money(limit) });
  }
  form.querySelector("[name=item_code]").addEventListener("change", async (event) => {
    item = event.target.value ? await itemDetail(event.target.value).catch(() => null) : null;
    if (item) renderPenalty();
    else penaltyHolder.replaceChildren(muted(t("pick_item_first")));
  });
  form.querySelector("[name=region_code]").addEventListener("change", renderOfficers);
  partyBox.querySelector("[name='party.kind']").addEventListener("change", (event) => { party = event.target.value; renderPenalty(); });
  renderOfficers();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!(await penaltyReady(form))) return;
    const body = withParty(formBody(form));
    const made = await submitting(form, () => api(`${CASES}/on-the-spot`, { method: "POST", json: body }));
    if (made) {
      loaded.delete("cases");
      go(`#case/${made.id}`);
    }
  });
  return form;
}

// -- inspection plans (检查计划): random draws and joint inspections ------------------------

const PLAN_STATES = ["draft", "submitted", "approved", "in_progress", "completed", "cancelled"];
const PLAN_KINDS = ["random", "joint", "special"];
const PLANS = "/enforcement/plans";
const plans = { items: [], total: 0 };

function renderPlanFilters() {
  selectOptions($("#plan-state"), [["", t("all_states")], ...PLAN_STATES.map((s) => [s, t(`plan_${s}`)])]);
  selectOptions($("#plan-kind"), [["", t("all_kinds")], ...PLAN_KINDS.map((k) => [k, t(`kind_${k}`)])]);
}

async function loadPlans({ more = false } = {}) {
  const form = $("#plan-filters");
  const query = new URLSearchParams({ limit: String(PAGE), offset: String(more ? plans.items.length : 0) });
  if (form.elements.state.value) query.set("state", form.elements.state.value);
  if (form.elements.kind.value) query.set("kind", form.elements.kind.value);
  if (!more) $("#plan-count").textContent = t("loading");
  const asked = ++latest.plans;
  const page = await api(`${PLANS}?${query}`);
  if (asked !== latest.plans) return;
  plans.items = more ? [...plans.items, ...page.items] : page.items;
  plans.total = page.total;
  $("#plan-rows").replaceChildren(...plans.items.map((p) => rowFor("plan", p.id, [
    h("td", {}, p.title, h("span.sub.mono", {}, p.number || t("no_number")),
      p.published_at ? h("span.sub", {}, t("published_on", { date: dateText(p.published_at) })) : null),
    h("td", {}, t(`kind_${p.kind}`)),
    h("td", {}, p.initiator_agency_name),
    h("td.nowrap", {}, dateText(p.planned_from), p.planned_until !== p.planned_from ? h("span.sub", {}, `— ${dateText(p.planned_until)}`) : null),
    h("td", {}, badge("plan", p.state)),
  ], `${p.number || ""} ${p.title}`)));
  $("#plans-empty").hidden = plans.items.length > 0;
  $("#plan-count").textContent = t("count", { n: number(plans.total) });
  $("#plans-more").hidden = plans.items.length >= plans.total;
  markChosen();
}

async function planView(id) {
  if (id === "new-random") return randomPlanForm();
  if (id === "new-joint") return jointPlanForm();
  const plan = await api(`${PLANS}/${id}`);
  const view = h("article.plan-detail", { "data-plan-id": plan.id, "data-state": plan.state });
  view.append(h("header.detail-head", {}, h("h2", {}, plan.title), badge("plan", plan.state),
    h("span.number.muted", {}, plan.number || "")));
  view.append(facts([
    ["kind", t(`kind_${plan.kind}`)],
    ["agency", plan.initiator_agency_name],
    ["street", streetName(plan.region_code)],
    ["period", `${dateText(plan.planned_from)} — ${dateText(plan.planned_until)}`],
    ["items_checked", plan.item_codes.join(zh() ? "、" : ", ")],
    ["business_types", plan.type_codes.map((c) => types.get(c)?.name || c).join(zh() ? "、" : ", ")],
    ["target_count", plan.target_count != null ? number(plan.target_count) : ""],
    ["officers_per_target", plan.kind === "joint" ? "" : String(plan.officers_per_target)],
    ["submitted_at", timeText(plan.submitted_at)],
    ["approved_at", timeText(plan.approved_at)],
    ["published", plan.published_at ? timeText(plan.published_at) : "", "published"],
    ["returned_reason", plan.reason],
    ["note", plan.note],
  ]));
  if (plan.draw) view.append(await drawBlock(plan));
  view.append(planActions(plan));
  if (plan.kind !== "random" || !plan.draw) view.append(visitsBlock(plan));
  return view;
}

// What a random draw recorded: the seed, from how many, the digests anyone can check a re-run
// against, and what was drawn — the businesses and, for each, the officers.
async function drawBlock(plan) {
  const draw = plan.draw;
  const names = new Map(plan.inspections.map((i) => [i.business_id, i]));
  const box = h("section.draw", { "data-draw": "" }, h("h3", {}, t("the_draw")));
  box.append(h("dl.facts.draw-facts", {},
    h("dt", {}, t("seed")), h("dd.mono", { "data-fact": "seed" }, String(plan.seed ?? draw.seed)),
    h("dt", {}, t("candidates")), h("dd", { "data-fact": "candidates" }, t("candidates_of", { n: number(draw.candidates), m: number(draw.targets.length) })),
    h("dt", {}, t("candidates_digest")), h("dd.mono", { "data-fact": "digest" }, draw.candidates_digest),
    h("dt", {}, t("roster")), h("dd", { "data-fact": "roster" }, t("roster_of", { n: number(draw.roster) })),
    h("dt", {}, t("roster_digest")), h("dd.mono", {}, draw.roster_digest),
    draw.drawn_at ? [h("dt", {}, t("drawn_at")), h("dd", {}, timeText(draw.drawn_at))] : null));
  const rows = [];
  for (const target of draw.targets) {
    const visit = names.get(target.business_id);
    rows.push(h("tr", { "data-business-id": target.business_id },
      h("td", {}, visit ? h("a", { href: `#inspection/${visit.id}` }, visit.business_name) : target.key,
        h("span.sub.mono", {}, target.key)),
      h("td", {}, await officerNames(target.officer_ids)),
      h("td", {}, visit ? badge("insp", visit.state) : "")));
  }
  box.append(h("table.small.drawn", {},
    h("thead", {}, h("tr", {}, h("th", {}, t("drawn_business")), h("th", {}, t("drawn_officers")), h("th", {}, t("state")))),
    h("tbody", {}, rows)));
  if (draw.shortfalls?.length) {
    box.append(h("p.error", {}, t("shortfalls", { n: draw.shortfalls.length }),
      draw.shortfalls.map((s) => ` ${names.get(s.business_id)?.business_name || s.key}${aside(t("available_n", { n: s.available }))}`).join(zh() ? "；" : "; ")));
  }
  const verdict = h("p.hint", { "aria-live": "polite" });
  box.append(h("div.form-buttons", {}, h("button.secondary.small", { type: "button", onclick: async () => {
    verdict.textContent = t("checking");
    try {
      const check = await api(`${PLANS}/${plan.id}/draw/check`);
      verdict.textContent = check.same ? t("draw_same") : t("draw_differs", {
        directory: check.same_directory ? t("unchanged") : t("changed"), roster: check.same_roster ? t("unchanged") : t("changed"),
      });
    } catch (exc) {
      verdict.textContent = exc.message;
    }
  } }, t("draw_check")), verdict));
  return box;
}

function visitsBlock(plan) {
  const box = h("section.visits", {}, h("h3", {}, t("visits")));
  if (!plan.inspections.length) {
    box.append(muted(plan.kind === "random" ? t("not_drawn_yet") : t("no_visits")));
    return box;
  }
  box.append(h("ul.agency-list", {}, plan.inspections.map((i) => h("li", {},
    h("a", { href: `#inspection/${i.id}` }, i.business_name), muted(timeText(i.scheduled_at)), badge("insp", i.state)))));
  return box;
}

// The plan's next steps: draw (random, in draft), submit, approve or return (the lead),
// publish (公开) once approved, cancel. The API decides; the buttons follow the state.
function planActions(plan) {
  const box = h("section.plan-actions", {}, h("h3", {}, t("actions_now")));
  const bar = h("div.actions-bar");
  const holder = h("div.action-holder");
  const mine = myOfficer && myOfficer.agency_id === plan.initiator_agency_id;
  const act = async (action, json = {}) => {
    await api(`${PLANS}/${plan.id}/${action}`, { method: "POST", json });
    await refresh({ lists: ["plans", "inspections"] });
  };
  const simple = (action, label) => h("button.secondary", { type: "button", "data-plan-action": action,
    onclick: (event) => withButton(event.currentTarget, () => act(action)) }, label);
  const withReason = (action, label) => h("button.secondary", { type: "button", "data-plan-action": action, onclick: () => {
    const form = h("form.card.action-form", { novalidate: true }, h("h4", {}, label),
      field("textarea", "reason", t("reason"), { required: true }), buttons(t("confirm"), () => holder.replaceChildren()));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const done = await submitting(form, () => act(action, formBody(form)));
      if (done !== undefined) holder.replaceChildren();
    });
    holder.replaceChildren(form);
    form.querySelector("textarea").focus();
  } }, label);
  if (plan.kind !== "joint" && plan.state === "draft" && !plan.draw && mine) {
    const seed = h("input", { type: "number", name: "seed", min: 0, placeholder: t("seed_optional"), "aria-label": t("seed") });
    seed.dataset.kind = "number";
    const form = h("form.draw-form.row", { novalidate: true }, seed, h("button.primary", { type: "submit", "data-plan-action": "draw" }, t("draw")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await submitting(form, () => act("draw", formBody(form)));
    });
    box.append(h("p.hint", {}, t("draw_hint")), form);
  }
  if (plan.state === "draft" && (plan.draw || plan.kind === "joint") && mine) bar.append(simple("submit", t("submit_plan")));
  if (plan.state === "submitted" && isLead() && mine) {
    bar.append(simple("approve", t("approve_plan")), withReason("return", t("return_plan")));
  }
  if (["approved", "in_progress", "completed"].includes(plan.state) && !plan.published_at && plan.kind !== "joint" && mine) {
    bar.append(simple("publish", t("publish_plan")));
  }
  if (["draft", "submitted", "approved"].includes(plan.state) && mine) bar.append(withReason("cancel", t("cancel_plan")));
  if (!bar.children.length && !box.querySelector("form")) box.append(muted(mine ? t("no_actions") : t("not_your_plan")));
  box.append(bar, holder);
  return box;
}

async function withButton(button, work) {
  button.disabled = true;
  $("#detail-error").hidden = true;
  try {
    await work();
  } catch (exc) {
    showDetailError(exc);
  } finally {
    button.disabled = false;
  }
}

// A random plan (双随机): where and whom to draw from, how many, with how many officers each.
async function randomPlanForm() {
  if (!myOfficer) return h("p.empty", {}, t("no_agency"));
  const [checks, penalties] = await Promise.all([myItems("inspection"), myItems("penalty")]);
  const start = today();
  const form = h("form.card.random-plan", { novalidate: true },
    h("h2", {}, t("random_title")), h("p.hint", {}, t("random_hint")),
    field("text", "title", t("plan_title"), { required: true, value: t("random_default_title", { year: start.slice(0, 4) }) }),
    h("div.row3", {}, streetSelect("region_code", t("street")),
      field("date", "planned_from", t("planned_from"), { required: true, value: start }),
      field("date", "planned_until", t("planned_until"), { required: true, value: dayAfter(start, 30) })),
    // The inspection items are what a plan checks; an agency holding none checks its others.
    multiChoice("item_codes", t("items_checked"), [...checks, ...penalties].map((i) => [i.code, `${i.code} ${i.name}`]),
      (checks.length ? checks : penalties).map((i) => i.code)),
    multiChoice("type_codes", t("business_types"), [...types.values()].map((ty) => [ty.code, ty.name]), []),
    h("p.hint", {}, t("types_hint")),
    h("div.row2", {}, field("number", "target_count", t("target_count"), { required: true, value: 5, min: 1 }),
      field("number", "officers_per_target", t("officers_per_target"), { required: true, value: 2, min: 2, max: 10 })),
    field("textarea", "note", t("note")),
    buttons(t("create_plan"), () => go("#plans")));
  form.dataset.key = newKey();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { kind: "random", ...formBody(form) };
    const made = await submitting(form, () => api(PLANS, { method: "POST", json: body, headers: { "Idempotency-Key": form.dataset.key } }));
    if (made) {
      loaded.delete("plans");
      go(`#plan/${made.id}`);
    }
  });
  return form;
}

// A joint inspection (综合查一次) of one business: the agencies its type calls for are
// proposed with the items that bring them (untick one to leave it out), a time and place,
// my agency's officers; saving sends the invitations.
async function jointPlanForm() {
  if (!myOfficer) return h("p.empty", {}, t("no_agency"));
  const agency = agencies.get(myOfficer.agency_id);
  const proposals = h("div.proposals", {}, muted(t("pick_business_first")));
  const officersHolder = h("div.officers-holder");
  let business = null;
  const tomorrow = dayAfter(today());
  const form = h("form.card.joint-plan", { novalidate: true },
    h("h2", {}, t("joint_title")), h("p.hint", {}, t("joint_hint")),
    businessSearch({ onPick: (b) => pick(b).catch(showDetailError) }),
    proposals,
    h("div.row2", {}, field("datetime", "scheduled_at", t("scheduled_at"), { required: true, value: `${tomorrow}T09:30` }),
      field("text", "place", t("place"), { hint: t("place_hint") })),
    field("text", "title", t("plan_title")),
    officersHolder,
    field("textarea", "note", t("note_to_agencies")),
    buttons(t("send_invitations"), () => go("#plans")));
  form.dataset.key = newKey();
  const day = () => (form.querySelector("[name=scheduled_at]").value || "").slice(0, 10) || today();
  const renderOfficers = () => officersHolder.replaceChildren(officerPicker({
    agencyCode: agency.code, region: business?.region_code, day, chosen: pickedOfficers(form),
    legend: t("my_officers", { agency: agency.name }) }));
  form.querySelector("[name=scheduled_at]").addEventListener("change", () => officersHolder.querySelector("fieldset")?.recheck());
  async function pick(b) {
    proposals.replaceChildren(muted(t("loading")));
    business = await api(`${E}/businesses/${b.id}`);
    form.querySelector("[name=place]").placeholder = business.address;
    if (!form.querySelector("[name=title]").value) form.querySelector("[name=title]").value = t("joint_default_title", { name: business.name });
    const others = business.agencies.filter((a) => a.id !== agency.id);
    const reasons = await Promise.all(others.map(async (a) => {
      const named = await Promise.all(a.items.map((code) => itemDetail(code).then((i) => i.name).catch(() => code)));
      return named.join(zh() ? "；" : "; ");
    }));
    const box = multiChoice("agency_ids", t("agencies_to_invite"), others.map((a, i) => [String(a.id), a.name, ""]),
      others.map((a) => String(a.id)), { numbers: true });
    box.querySelectorAll("label.check").forEach((label, i) => {
      label.dataset.agencyId = String(others[i].id);
      label.after(h("p.reason.hint", { "data-reason-for": others[i].id }, `${t("because_items")}${reasons[i] || others[i].items.join(zh() ? "、" : ", ")}`));
    });
    proposals.replaceChildren(
      h("p.hint", {}, t("business_type_is", { type: business.type_name, street: streetName(business.region_code) })),
      h("p", {}, h("strong", {}, t("initiator")), `${colon()}${agency.name}`),
      others.length ? box : muted(t("no_other_agencies")));
    renderOfficers();
  }
  renderOfficers();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = formBody(form);
    const made = await submitting(form, () => api(`${PLANS}/joint`, { method: "POST", json: body, headers: { "Idempotency-Key": form.dataset.key } }));
    if (made) {
      loaded.delete("plans");
      loaded.delete("inspections");
      go(`#plan/${made.id}`);
    }
  });
  return form;
}

// -- invitations (联合检查邀请) for my agency --------------------------------------------------

const INSPECTIONS = "/enforcement/inspections";
// Invitations are answered before the visit starts: they are among my agency's scheduled
// visits, where my agency's row still says "invited".
async function myInvitations() {
  if (!myOfficer) return [];
  const query = new URLSearchParams({ agency_id: String(myOfficer.agency_id), state: "scheduled", limit: "200" });
  const page = await api(`${INSPECTIONS}?${query}`);
  const details = await Promise.all(page.items.map((i) => api(`${INSPECTIONS}/${i.id}`).catch(() => null)));
  return details.filter(Boolean).filter((d) => d.agencies.some((a) => a.agency_id === myOfficer.agency_id && a.role === "invited"));
}

async function loadInvitations() {
  const holder = $("#invitation-cards");
  holder.replaceChildren(h("p.loading", {}, t("loading")));
  if (!myOfficer) {
    holder.replaceChildren();
    $("#invitations-empty").hidden = false;
    $("#invitations-empty p").textContent = readsAll() ? t("invitations_not_for_you") : t("no_agency");
    return;
  }
  const found = await myInvitations();
  const pending = found.filter((d) => myRow(d).state === "invited");
  const answered = found.filter((d) => myRow(d).state !== "invited");
  holder.replaceChildren(...pending.map((d) => invitationCard(d)),
    ...(answered.length ? [h("h3.answered", {}, t("answered"))] : []), ...answered.map((d) => invitationCard(d)));
  $("#invitations-empty").hidden = found.length > 0;
  $("#invitations-empty p").textContent = t("no_invitations");
  setInvitationCount(pending.length);
}

function setInvitationCount(n) {
  const count = $("#invitation-count");
  count.textContent = n ? String(n) : "";
  count.title = n ? t("invitations_waiting", { n }) : "";
}

const myRow = (inspection) => inspection.agencies.find((a) => a.agency_id === myOfficer?.agency_id);

function invitationCard(d) {
  const row = myRow(d);
  const initiator = d.agencies.find((a) => a.role === "initiator");
  const card = h("article.card.invitation", { "data-kind": "inspection", "data-id": d.id, "data-invitation": row.state });
  card.append(h("header.detail-head", {}, h("h3", {}, h("a", { href: `#inspection/${d.id}` }, d.business.name)),
    badge("inv", row.state)));
  card.append(facts([
    ["initiator", initiator?.name],
    ["scheduled", timeText(d.scheduled_at)],
    ["place", d.place || d.business.address],
    ["my_items", row.item_codes.join(zh() ? "、" : ", ")],
    ["other_agencies", d.agencies.filter((a) => a.role === "invited" && a.agency_id !== row.agency_id)
      .map((a) => `${a.name}${aside(t(`inv_${a.state}`))}`).join(zh() ? "；" : "; ")],
    ["reason", row.reason],
    ["my_officers", row.officers.map((o) => `${o.name}${aside(o.certificate_number)}`).join(zh() ? "、" : ", ")],
  ]));
  card.append(answerForms(d, row));
  return card;
}

// Accept naming my officers (two at least, checked against certificates for the street and
// the day as they are ticked), or decline with the reason.
function answerForms(d, row) {
  const box = h("div.answer");
  if (d.state !== "scheduled" || row.role !== "invited") return box;
  const day = localInput(d.scheduled_at).slice(0, 10);
  const accept = h("form.accept-form", { novalidate: true, "data-inspection-id": d.id },
    officerPicker({ agencyCode: row.code, region: d.region_code, day, chosen: row.officers.map((o) => o.officer_id) }),
    buttons(row.state === "accepted" ? t("change_officers") : t("accept"), null));
  accept.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { officer_ids: pickedOfficers(accept) };
    const done = await submitting(accept, () => api(`${INSPECTIONS}/${d.id}/agencies/${row.agency_id}/accept`, { method: "POST", json: body }));
    if (done) await refresh({ lists: ["invitations", "inspections", "plans"] });
  });
  const decline = h("form.decline-form", { novalidate: true, hidden: row.state === "declined" },
    field("textarea", "reason", t("decline_reason"), { required: true, rows: 2 }),
    h("div.form-buttons", {}, h("button.secondary", { type: "submit" }, t("decline"))));
  decline.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitting(decline, () => api(`${INSPECTIONS}/${d.id}/agencies/${row.agency_id}/decline`, { method: "POST", json: formBody(decline) }));
    if (done) await refresh({ lists: ["invitations", "inspections", "plans"] });
  });
  box.append(accept, row.state === "declined" ? null : h("details.decline", {}, h("summary", {}, t("decline_instead")), decline));
  return box;
}

// -- inspections (监督检查) ---------------------------------------------------------------------

const INSPECTION_STATES = ["scheduled", "in_progress", "findings_recorded", "notice_served", "reinspection_due",
  "closed", "escalated", "cancelled"];
const inspections = { items: [], total: 0 };

function renderInspectionFilters() {
  selectOptions($("#inspection-state"), [["", t("all_states")], ...INSPECTION_STATES.map((s) => [s, t(`insp_${s}`)])]);
  selectOptions($("#inspection-street"), [["", t("all_streets")], ...[...streets.entries()]]);
  selectOptions($("#inspection-agency"), [["", t("all_agencies")], ...[...agencies.values()].map((a) => [String(a.id), a.name])]);
}

async function loadInspections({ more = false } = {}) {
  const form = $("#inspection-filters");
  const query = new URLSearchParams({ limit: String(PAGE * 4), offset: String(more ? inspections.offset : 0) });
  const { state, agency, date_from: from, date_to: to } = Object.fromEntries(new FormData(form));
  if (state) query.set("state", state);
  if (agency) query.set("agency_id", agency);
  if (from) query.set("scheduled_from", instant(`${from}T00:00`));
  if (to) query.set("scheduled_until", instant(`${dayAfter(to)}T00:00`));
  if (!more) $("#inspection-count").textContent = t("loading");
  const asked = ++latest.inspections;
  const page = await api(`${INSPECTIONS}?${query}`);
  if (asked !== latest.inspections) return;
  inspections.items = more ? [...inspections.items, ...page.items] : page.items;
  inspections.offset = inspections.items.length;
  inspections.total = page.total;
  renderInspections();
}

function dayAfter(day, days = 1) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// The street is filtered here, on the visits loaded (the API filters by the others).
function renderInspections() {
  const street = $("#inspection-street").value;
  const shown = inspections.items.filter((i) => !street || i.region_code === street || i.region_code.startsWith(street));
  $("#inspection-rows").replaceChildren(...shown.map((i) => rowFor("inspection", i.id, [
    h("td.nowrap", {}, `#${i.id}`, h("span.sub", {}, i.plan_id ? t("in_plan") : t("no_plan"))),
    h("td", {}, i.business_name, h("span.sub", {}, `${streetName(i.region_code)} · ${i.place}`)),
    h("td.nowrap", {}, i.scheduled_at ? timeText(i.scheduled_at) : muted(t("not_scheduled"))),
    h("td", {}, agencyName(i.lead_agency_id)),
    h("td", {}, badge("insp", i.state), i.outcome ? h("span.sub", {}, t(`outcome_${i.outcome}`)) : null,
      i.rectification_deadline && !["closed", "escalated", "cancelled"].includes(i.state)
        ? h("span.sub", {}, t("rectify_by", { date: dateText(i.rectification_deadline) })) : null),
  ], `${i.business_name} ${timeText(i.scheduled_at)}`)));
  $("#inspections-empty").hidden = shown.length > 0;
  $("#inspection-count").textContent = street
    ? t("count_of", { n: number(shown.length), m: number(inspections.total) })
    : t("count", { n: number(inspections.total) });
  $("#inspections-more").hidden = inspections.items.length >= inspections.total;
  markChosen();
  if (section === "map") drawMap();
}

// An inspection: the agencies and their answers, the officers, the merged checklist with the
// results and photos, the rectification notice, the business's proof, the re-inspection,
// and the findings not rectified that become penalty cases.
async function inspectionView(id) {
  const d = await api(`${INSPECTIONS}/${id}`);
  const view = h("article.inspection-detail", { "data-inspection-id": d.id, "data-state": d.state });
  view.append(h("header.detail-head", {}, h("h2", {}, d.business.name), badge("insp", d.state),
    d.outcome ? badge("outcome", d.outcome === "compliant" ? "closed" : d.outcome === "penalty" ? "escalated" : "pass", t(`outcome_${d.outcome}`)) : null,
    h("span.number.muted", {}, `#${d.id}`)));
  view.append(facts([
    ["plan", d.plan_number ? h("a", { href: `#plan/${d.plan_id}` }, `${d.plan_number}${aside(t(`kind_${d.plan_kind}`))}`) : t("no_plan")],
    ["credit_code", d.business.credit_code],
    ["business_type", types.get(d.business.type_code)?.name || d.business.type_code],
    ["street", streetName(d.region_code)],
    ["scheduled", d.scheduled_at ? timeText(d.scheduled_at) : t("not_scheduled"), "scheduled"],
    ["place", d.place || d.business.address],
    ["started_at", timeText(d.started_at)],
    ["finished_at", timeText(d.finished_at)],
    ["rectification_deadline", dateText(d.rectification_deadline)],
    ["reinspected_at", timeText(d.reinspected_at)],
    ["closed_at", timeText(d.closed_at)],
  ]));
  const scheduling = scheduleBlock(d);
  if (scheduling) view.append(scheduling);
  const inviting = invitationsBlock(d);
  if (inviting) view.append(inviting);
  view.append(agenciesBlock(d));
  view.append(checklistBlock(d));
  view.append(noticeBlock(d));
  const reinspection = reinspectionBlock(d);
  if (reinspection) view.append(reinspection);
  const escalation = escalationBlock(d);
  if (escalation) view.append(escalation);
  view.append(await inspectionDocuments(d));
  return view;
}

// The lead agency sets (or moves) the time and place of a visit not yet started: a drawn
// visit has none until then.
function scheduleBlock(d) {
  if (d.state !== "scheduled" || !myOfficer || myOfficer.agency_id !== d.lead_agency_id) return null;
  const form = h("form.card.action-form.schedule", { novalidate: true }, h("h4", {}, d.scheduled_at ? t("reschedule") : t("schedule")),
    h("div.row2", {}, field("datetime", "scheduled_at", t("scheduled_at"), { required: true, value: localInput(d.scheduled_at) }),
      field("text", "place", t("place"), { value: d.place, placeholder: d.business.address })),
    buttons(t("save_schedule"), null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitting(form, () => api(`${INSPECTIONS}/${d.id}/schedule`, { method: "PUT", json: formBody(form) }));
    if (done) await refresh({ lists: ["inspections", "plans"] });
  });
  return d.scheduled_at ? h("details.schedule-box", {}, h("summary", {}, t("reschedule")), form) : form;
}

// The lead agency adjusts whom a joint visit invites, before it starts: the agencies its
// type proposes, with the items that bring them.
function invitationsBlock(d) {
  if (d.plan_kind !== "joint" || d.state !== "scheduled" || myOfficer?.agency_id !== d.lead_agency_id) return null;
  const holder = h("div", {}, muted(t("loading")));
  const box = h("details.invite-box", {}, h("summary", {}, t("adjust_invitations")), holder);
  box.addEventListener("toggle", async () => {
    if (!box.open || holder.dataset.loaded) return;
    holder.dataset.loaded = "1";
    try {
      const proposed = (await api(`${INSPECTIONS}/${d.id}/proposed-agencies`)).filter((a) => a.id !== d.lead_agency_id);
      const form = h("form.card.action-form.invite-form", { novalidate: true },
        multiChoice("agency_ids", t("agencies_to_invite"), proposed.map((a) => [String(a.id), a.name, a.items.join(", ")]),
          proposed.filter((a) => a.invited).map((a) => String(a.id)), { numbers: true }),
        buttons(t("save_invitations"), null));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const done = await submitting(form, () => api(`${INSPECTIONS}/${d.id}/agencies`, { method: "PUT", json: formBody(form) }));
        if (done) await refresh({ lists: ["inspections", "plans"] });
      });
      holder.replaceChildren(form);
    } catch (exc) {
      holder.replaceChildren(h("p.error", {}, exc.message));
    }
  });
  return box;
}

function agenciesBlock(d) {
  const box = h("section.agencies", {}, h("h3", {}, t("agencies_and_officers")));
  const list = h("ul.agency-list");
  const initiatorFirst = [...d.agencies].sort((a, b) => Number(b.role === "initiator") - Number(a.role === "initiator"));
  for (const a of initiatorFirst) {
    list.append(h("li", { "data-agency-id": a.agency_id, "data-answer": a.state },
      h("strong", {}, a.name), muted(t(`role_${a.role}`)), badge("inv", a.state),
      a.responded_at ? muted(timeText(a.responded_at)) : null,
      a.reason ? h("span.reason", {}, `${t("reason")}${colon()}${a.reason}`) : null,
      h("span.reason", {}, `${t("items_checked")}${colon()}${a.item_codes.join(zh() ? "、" : ", ") || "—"}`),
      h("span.reason", {}, `${t("officers")}${colon()}${a.officers.map((o) => `${o.name}${aside(o.certificate_number)}`).join(zh() ? "、" : ", ") || t("none_yet")}`)));
  }
  box.append(list);
  const mine = myRow(d);
  if (mine && mine.role === "invited" && d.state === "scheduled") box.append(h("div.card", {}, h("h4", {}, t("my_answer")), answerForms(d, mine)));
  return box;
}

function findingPhotos(d, f) {
  const urls = Array.from({ length: f.photos }, (_, n) => `/api/v1${INSPECTIONS}/${d.id}/findings/${f.id}/photos/${n}`);
  return f.photos ? thumbnails(urls, `${f.agency_name} · ${f.officer_name}`) : null;
}

function findingLine(d, f) {
  return h("div.result", { "data-finding-id": f.id, "data-outcome": f.outcome },
    badge("fo", f.outcome), " ", h("strong", {}, f.agency_name), muted(` · ${f.officer_name} · ${timeText(f.recorded_at)}`),
    f.note ? h("p", {}, f.note) : null,
    f.outcome === "fail" ? h("p", {}, `${t("requirement")}${colon()}${f.requirement}`, f.deadline ? ` · ${t("rectify_by", { date: dateText(f.deadline) })}` : "") : null,
    f.rectified != null ? h("p", {}, badge("rect", f.rectified ? "pass" : "fail", f.rectified ? t("rectified_yes") : t("rectified_no")),
      f.reinspection_note ? ` ${f.reinspection_note}` : "") : null,
    f.penalty_case_id ? h("p", {}, h("a", { href: `#case/${f.penalty_case_id}` }, t("penalty_case_link", { id: f.penalty_case_id }))) : null,
    findingPhotos(d, f));
}

function checklistBlock(d) {
  const box = h("section.checklist", {}, h("h3", {}, t("merged_checklist"), muted(` ${t("points_n", { n: d.checklist.length })}`)));
  const used = new Set();
  for (const p of d.checklist) {
    const found = d.findings.filter((f) => f.checklist_item_id != null && p.checklist_item_ids.includes(f.checklist_item_id));
    for (const f of found) used.add(f.id);
    box.append(h("div.check-entry", { "data-point": p.code },
      h("div.entry-head", {}, h("span.mono", {}, p.code), h("span.text", {}, p.text)),
      h("div.labels", {}, p.citation ? `${p.citation} · ` : "", p.agencies.map((a) => a.name).join(zh() ? "、" : ", ")),
      found.length ? found.map((f) => findingLine(d, f)) : h("div.result.muted", {}, t("no_result_yet"))));
  }
  const loose = d.findings.filter((f) => !used.has(f.id));
  if (loose.length) box.append(h("h4", {}, t("other_findings")), loose.map((f) => findingLine(d, f)));
  if (!d.checklist.length) box.append(muted(t("no_checklist")));
  return box;
}

// 综合检查整改通知书: issued once from every agency's failed findings, served, then the
// business's proof of rectification.
function noticeBlock(d) {
  const box = h("section.notice-block", {}, h("h3", {}, t("rectification_notice")));
  const n = d.notice;
  const failed = d.findings.filter((f) => f.outcome === "fail");
  if (!n) {
    if (d.state === "findings_recorded") {
      const form = h("form.card.action-form.issue-notice", { novalidate: true }, h("h4", {}, t("issue_notice")),
        h("p.hint", {}, t("issue_notice_hint", { n: failed.length })),
        field("text", "contact", t("notice_contact"), { hint: t("notice_contact_hint") }), buttons(t("issue_notice"), null));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const done = await submitting(form, () => api(`${INSPECTIONS}/${d.id}/notice`, { method: "POST", json: formBody(form) }));
        if (done) await refresh({ lists: ["inspections"] });
      });
      box.append(form);
    } else {
      const finished = ["closed", "escalated"].includes(d.state);
      box.append(muted(finished && !failed.length ? t("no_notice") : d.state === "cancelled" ? "—" : t("notice_after_finish")));
    }
    return box;
  }
  box.append(facts([
    ["notice_number", n.number, "notice-number"],
    ["issued_at", timeText(n.issued_at)],
    ["rectification_deadline", ["notice_served", "reinspection_due"].includes(d.state)
      ? `${dateText(n.deadline)}${aside(daysText(daysLeft(n.deadline)))}` : dateText(n.deadline)],
    ["served", n.served_at ? `${timeText(n.served_at)} · ${n.served_method}` : t("not_served"), "served"],
  ]));
  box.append(h("div.form-buttons", {}, h("button.secondary.small", { type: "button", "data-open": "notice-pdf",
    onclick: () => openPdf(`${INSPECTIONS}/${d.id}/notice.pdf`) }, h("span.pdf-tag", { "aria-hidden": "true" }, "PDF"), ` ${t("open_pdf")}`)));
  if (!n.served_at && d.state === "findings_recorded") {
    const form = h("form.card.action-form.serve-notice", { novalidate: true }, h("h4", {}, t("serve_notice")),
      h("div.row2", {}, field("select", "method", t("service_method"), { options: INSPECTION_SERVICE.map((m) => [m, m]) }),
        field("datetime", "served_at", t("served_at"), { hint: t("empty_now") })),
      buttons(t("record_service"), null));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const done = await submitting(form, () => api(`${INSPECTIONS}/${d.id}/notice/serve`, { method: "POST", json: formBody(form) }));
      if (done) await refresh({ lists: ["inspections"] });
    });
    box.append(form);
  }
  box.append(h("h4", {}, t("proof")));
  if (n.proof_at) {
    box.append(facts([
      ["proof_at", timeText(n.proof_at)],
      ["proof_note", n.proof_note],
      ["proof_photos", t("photos_n", { n: n.proof_photos })],
    ]));
  } else {
    box.append(muted(n.served_at ? t("no_proof_yet") : t("proof_after_service")));
  }
  return box;
}

const INSPECTION_SERVICE = ["直接送达", "留置送达", "邮寄送达", "电子送达", "委托送达", "公告送达"];

// 复查: after the deadline, or once proof came in; each failed finding rectified or not.
function reinspectionBlock(d) {
  const due = d.state === "reinspection_due"
    || (d.state === "notice_served" && d.rectification_deadline && d.rectification_deadline < today());
  if (!due || !myOfficer || !d.agencies.some((a) => a.agency_id === myOfficer.agency_id && a.state === "accepted")) return null;
  const failed = d.findings.filter((f) => f.outcome === "fail");
  const form = h("form.card.action-form.reinspection", { novalidate: true }, h("h4", {}, t("reinspection")),
    h("p.hint", {}, t("reinspection_hint")));
  for (const f of failed) {
    const name = `rectified-${f.id}`;
    form.append(h("fieldset.reinspect-finding", { "data-finding-id": f.id },
      h("legend", {}, `${f.agency_name} · ${f.requirement || f.note}`),
      h("label.check", {}, h("input", { type: "radio", name, value: "yes", required: true }), h("span", {}, t("rectified_yes"))),
      h("label.check", {}, h("input", { type: "radio", name, value: "no" }), h("span", {}, t("rectified_no"))),
      h("label", {}, h("span", {}, t("note")), h("input", { type: "text", name: `note-${f.id}`, maxlength: 2000 }))));
  }
  form.append(officerPicker({ agencyCode: agencies.get(myOfficer.agency_id)?.code, region: d.region_code, day: today }),
    buttons(t("record_reinspection"), null));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const results = failed.map((f) => {
      const picked = form.querySelector(`input[name="rectified-${f.id}"]:checked`);
      return { finding_id: f.id, rectified: picked ? picked.value === "yes" : null, note: form.elements[`note-${f.id}`].value.trim() };
    });
    const missing = results.find((r) => r.rectified == null);
    if (missing) {
      clearErrors(form);
      form.querySelector(`[data-finding-id="${missing.finding_id}"]`).after(h("p.field-error", { role: "alert" }, t("say_rectified")));
      return;
    }
    const body = { officer_ids: pickedOfficers(form), results };
    const done = await submitting(form, () => api(`${INSPECTIONS}/${d.id}/reinspection`, { method: "POST", json: body }));
    if (done) await refresh({ lists: ["inspections"] });
  });
  return h("section.reinspect", {}, h("h3", {}, t("reinspection")), form);
}

// 转立案: the findings not rectified that the API offers for penalty cases.
function escalationBlock(d) {
  if (d.state !== "escalated") return null;
  const box = h("section.escalation", {}, h("h3", {}, t("to_penalty")));
  const list = h("div", {}, muted(t("loading")));
  box.append(list);
  api(`${INSPECTIONS}/${d.id}/penalty-findings`).then((rows) => {
    list.replaceChildren();
    if (!rows.length) {
      list.append(muted(t("all_cases_opened")));
      return;
    }
    for (const f of rows) {
      const mine = myOfficer && f.agency_id === myOfficer.agency_id;
      list.append(h("div.card", { "data-escalate": f.id }, h("strong", {}, f.agency_name), ` · ${f.item_code}`,
        h("p", {}, f.requirement || f.note),
        mine ? h("button.primary.small", { type: "button", "data-open-case": f.id, onclick: (event) => withButton(event.currentTarget, async () => {
          const made = await api(`${CASES}/from-finding`, { method: "POST", json: { finding_id: f.id } });
          loaded.delete("cases");
          go(`#case/${made.id}`);
        }) }, t("open_penalty_case")) : muted(t("other_agency_opens"))));
    }
  }).catch((exc) => list.replaceChildren(h("p.error", {}, exc.message)));
  return box;
}

async function inspectionDocuments(d) {
  const box = h("section.documents", {}, h("h3", {}, t("documents")));
  try {
    const docs = await api(`${E}/documents?subject_kind=inspection&subject_id=${d.id}`);
    box.append(docs.length ? h("div.docs", {}, docs.map(documentButton)) : muted(t("no_documents")));
  } catch {
    box.append(muted(t("no_documents")));
  }
  return box;
}

// -- the map of inspections: a point per visit at its business, coloured by state ----------

const STATE_COLOURS = {
  scheduled: "#3182ce", in_progress: "#805ad5", findings_recorded: "#dd6b20", notice_served: "#d69e2e",
  reinspection_due: "#c05621", closed: "#38a169", escalated: "#e02424", cancelled: "#a0aec0",
};
const FALLBACK_CENTRE = [29.557, 106.571];
let map = null;
let points = null;
const places = new Map(); // business id → [lat, lon] | null

async function loadMap() {
  if (!loaded.has("inspections")) {
    loaded.add("inspections");
    await loadInspections();
  }
  drawMap();
}

async function drawMap() {
  if (!map) {
    map = L.map("inspection-map", { attributionControl: false }).setView(FALLBACK_CENTRE, 14);
    const tiles = document.documentElement.dataset.tiles;
    if (tiles) L.tileLayer(tiles, { maxZoom: 20, maxNativeZoom: 19 }).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = () => {
      const box = L.DomUtil.create("div", "legend");
      box.id = "map-legend";
      return box;
    };
    legend.addTo(map);
    points = L.layerGroup().addTo(map);
  }
  map.invalidateSize();
  $("#map-legend").replaceChildren(...INSPECTION_STATES.map((s) => h("div", {},
    h("span.dot", { style: `background:${STATE_COLOURS[s]}` }), t(`insp_${s}`))));
  const street = $("#inspection-street").value;
  const shown = inspections.items.filter((i) => !street || i.region_code.startsWith(street));
  const missing = [...new Set(shown.map((i) => i.business_id))].filter((id) => !places.has(id));
  await Promise.all(missing.map(async (id) => {
    const b = await api(`${E}/businesses/${id}`).catch(() => null);
    places.set(id, b && b.lat != null && b.lon != null ? [b.lat, b.lon] : null);
  }));
  points.clearLayers();
  const bounds = [];
  for (const i of shown) {
    const at = places.get(i.business_id);
    if (!at) continue;
    bounds.push(at);
    const marker = L.circleMarker(at, {
      radius: 8, weight: 2, color: "#fff", fillColor: STATE_COLOURS[i.state] || "#718096", fillOpacity: 0.95,
      className: `inspection-point state-${i.state}`,
    });
    marker.bindTooltip(`${i.business_name} · ${t(`insp_${i.state}`)} · ${timeText(i.scheduled_at)}`);
    // The map stays: the inspection opens beside it.
    marker.on("click", () => {
      chosen = { kind: "inspection", id: String(i.id) };
      showDetail().catch(showDetailError);
    });
    points.addLayer(marker);
  }
  if (bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
}

// -- wiring -----------------------------------------------------------------------------------

const LOADERS = {
  plans: () => loadPlans(),
  invitations: () => loadInvitations(),
  inspections: () => loadInspections(),
  cases: () => loadCases(),
  map: () => loadMap(),
};
const DETAIL_VIEWS = {
  plan: planView,
  inspection: inspectionView,
  case: caseView,
  invitation: inspectionView,
};

function renderFilters() {
  renderPlanFilters();
  renderInspectionFilters();
  renderCaseFilters();
}

function applyText() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-placeholder]")) el.placeholder = t(el.dataset.placeholder);
  $("#lang").textContent = t("lang");
  document.title = `${t("title")} · cityops`;
  renderFilters();
  if (!me) return;
  renderWho();
  loaded.clear();
  section = null;
  route();
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const ok = await logIn(new FormData(event.target));
  $("#login-error").textContent = t("bad_login");
  $("#login-error").hidden = ok;
  if (ok) await start();
});
$("#logout").addEventListener("click", showLogin);
$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
window.addEventListener("hashchange", () => route());

for (const [form, load] of [["#plan-filters", loadPlans], ["#case-filters", loadCases]]) {
  $(form).addEventListener("submit", (event) => event.preventDefault());
  $(form).addEventListener("change", () => load().catch(showListError));
}
let textTimer = null;
$("#case-text").addEventListener("input", () => {
  clearTimeout(textTimer);
  textTimer = setTimeout(() => loadCases().catch(showListError), 300);
});
$("#inspection-filters").addEventListener("submit", (event) => event.preventDefault());
$("#inspection-filters").addEventListener("change", (event) => {
  // The street is filtered on the page; the others ask the API again.
  if (event.target.name === "region") renderInspections();
  else loadInspections().catch(showListError);
});
$("#plans-more").addEventListener("click", () => loadPlans({ more: true }).catch(showListError));
$("#inspections-more").addEventListener("click", () => loadInspections({ more: true }).catch(showListError));
$("#cases-more").addEventListener("click", () => loadCases({ more: true }).catch(showListError));
$("#new-random").addEventListener("click", () => go("#plan/new-random"));
$("#new-joint").addEventListener("click", () => go("#plan/new-joint"));
$("#new-simplified").addEventListener("click", () => go("#case/simplified"));
$("#new-case").addEventListener("click", () => go("#case/new"));
$("#lightbox-prev").addEventListener("click", () => stepPhoto(-1));
$("#lightbox-next").addEventListener("click", () => stepPhoto(1));
$("#lightbox-close").addEventListener("click", () => $("#lightbox").close());
$("#lightbox").addEventListener("keydown", (event) => {
  if (event.key === "ArrowLeft") stepPhoto(-1);
  else if (event.key === "ArrowRight") stepPhoto(1);
});
$("#lightbox").addEventListener("click", (event) => {
  if (event.target === event.currentTarget) event.currentTarget.close();
});
window.addEventListener("resize", () => map?.invalidateSize());

applyText();
if (token.get()) start();
else showLogin();

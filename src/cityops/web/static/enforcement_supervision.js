// The supervisor's page (执法监督): the flags the supervision rules raised, open ones first
// by severity and age, each with its evidence, the supervisor's case on it (督办) and the
// inspection or penalty case it concerns; the weekly trend per rule and the agencies ranked
// by open flags; the rules themselves, tuned and evaluated on demand; the public's complaints
// about enforcement conduct. Everything goes through /api/v1: the API decides who sees what.

import { ApiError, api, blobUrl, formatTime, logIn, token, whenUnauthorized, words } from "./common.js";

const TEXT = {
  zh: {
    title: "执法监督", login: "登录", username: "用户名", password: "密码", sign_in: "登录",
    logout: "退出", lang: "English", bad_login: "用户名或密码错误", nav_desk: "执法工作台",
    nav_console: "调度台", refused_title: "没有执法监督权限",
    refused_text: "此页面供执法监督人员和系统管理员使用。请用具有相应角色的账号登录，或联系管理员开通。",
    switch_user: "换个账号登录", tab_flags: "预警", tab_trends: "趋势", tab_rules: "监督规则",
    tab_complaints: "执法投诉", evaluate: "立即评估", evaluating: "评估中…",
    evaluated_at: "最近评估：{at}", evaluation_title: "评估结果", hide: "收起",
    evaluation_summary: "{rules} 条规则，用时 {seconds} 秒，命中 {hits} 项", rule: "规则", hits: "命中",
    raised: "新增", raised_again: "再次触发", cleared: "已合规", ms_value: "{ms} 毫秒",
    f_state: "状态", f_rule: "规则", f_agency: "执法机构", f_street: "街道", f_from: "触发日期自",
    f_to: "至", bad_range: "结束日期早于开始日期，没有符合的预警", f_mine: "只看分派给我的", reset: "清除筛选", all_states: "全部状态",
    all_rules: "全部规则", all_agencies: "全部机构", all_streets: "全部街道",
    st_active: "未办结（全部）", st_open: "待督办", st_assigned: "已分派",
    st_correction_requested: "待整改反馈", st_answered: "机构已反馈", st_closed: "已办结",
    st_dismissed: "已撤销", severity: "等级", sev_high: "严重", sev_medium: "预警", sev_low: "提示",
    subject: "对象", subject_agency: "对象与执法机构", agency: "执法机构", age: "已触发", state: "状态",
    order_hint: "未办结的在前，按等级、触发时间排序", count: "共 {n} 条", loading: "加载中…",
    page_of: "第 {from}–{to} 条，共 {n} 条", prev: "上一页", next: "下一页",
    too_many: "只显示了前 {shown} 条（共 {n} 条）：请用筛选缩小范围",
    no_flags_none: "还没有预警。点击右上角“立即评估”按当前规则检查全部检查和处罚案件；系统也会定时评估。",
    no_flags_filtered: "没有符合筛选条件的预警。可以换个状态，或点“清除筛选”。",
    no_flag: "在左侧列表中选择一条预警，查看证据、督办记录和所涉检查或案件。",
    penalty_case: "处罚案件", inspection: "检查", case_no: "案件 {n}", inspection_no: "检查 {n}",
    days: "{n} 天", today: "今天", times: "第 {n} 次触发", cleared_tag: "已合规",
    due_tag: "{date} 前反馈", overdue_tag: "反馈已逾期", assignee_me: "分派给我",
    evidence_facts: "证据（事实明细）", rule_basis: "依据", occurred_on: "发生日期",
    raised_at: "触发时间", cleared_at: "合规时间", correction_due: "整改反馈期限",
    answer: "机构反馈", answered_at: "反馈时间", resolution: "办结说明",
    closed_at: "办结时间", region: "区域", business: "市场主体", assignee: "督办人",
    history: "督办记录", no_steps: "暂无记录", open_in_desk: "在执法工作台打开 →",
    a_assign: "分派给我", a_request_correction: "发出整改督办", a_answer: "整改反馈",
    a_close: "办结", a_dismiss: "撤销预警", note: "说明", what_to_correct: "整改要求",
    dismiss_reason: "撤销理由（必填）", answer_text: "整改情况（必填）", close_note: "办结说明",
    confirm: "确定", cancel: "取消", failed: "操作失败", need_reason: "请填写撤销理由",
    need_answer: "请填写整改情况", need_due: "请选择反馈期限",
    done_assign: "已分派给你督办", done_request_correction: "已向{agency}发出整改督办，{date}前反馈",
    done_answer: "已提交整改反馈", done_close: "已办结", done_dismiss: "已撤销",
    ev_raised: "触发预警", ev_cleared: "已合规", ev_raised_again: "再次触发", ev_reopened: "重新督办",
    system: "系统",
    // the subject
    subject_case: "所涉处罚案件", subject_inspection: "所涉检查", subject_missing: "无法读取：{why}",
    party: "当事人", case_title: "案由", item: "执法事项", procedure: "程序", stage: "环节",
    proc_general: "一般程序", proc_simplified: "简易程序", filed_on: "立案日期",
    decided_on: "决定日期", served_on: "送达日期", published_on: "公示日期", closed_on: "结案日期",
    fine_title: "罚款与裁量基准", fine: "罚款", grade: "裁量阶次", within: "在基准范围内",
    outside: "超出裁量基准", departure_reason: "偏离理由", no_reason: "未说明理由",
    benchmark_rows: "适用的基准", range: "{min}–{max} 元", yuan: "{n} 元", no_fine: "未处罚款",
    deadlines: "期限", done_on: "{date} 完成", due_on: "{date} 到期", late: "逾期",
    steps: "办理过程", officers: "执法人员", scheduled_at: "计划时间", started_at: "开始",
    finished_at: "结束", rectification_deadline: "整改期限", plan: "检查计划", no_plan: "无计划",
    lead_agency: "牵头机构", agencies: "参与机构", inv_invited: "已邀请", inv_accepted: "已接受",
    inv_declined: "已拒绝", findings: "检查结果", source: "来源",
    stage_decision: "作出处罚决定", stage_service: "送达处罚决定书", stage_closing: "结案",
    stage_reinspection: "整改复查",
    g_none: "不予处罚", g_mitigated: "减轻", g_lighter: "从轻", g_ordinary: "一般", g_heavier: "从重",
    // trends
    trends_title: "各规则预警趋势（按周）", weeks: "周数",
    trends_hint: "柱为每周新增预警（按规则堆叠），带斜纹的柱为每周办结或撤销的预警。",
    no_trends: "这段时间没有预警。", agencies_title: "各执法机构预警排名",
    agencies_hint: "按每百件检查和案件的未办结预警数排序；点击一行查看该机构的预警。",
    open_flags: "未办结", cases: "检查+案件", per_100: "每百件", raised_total: "期间新增",
    closed_total: "期间办结", no_agencies: "没有执法机构的预警。", m_raised: "新增",
    m_closed: "办结", week_of: "{date} 当周", chart_caption: "{weeks} 周，{series} 个序列",
    unknown_agency: "（未关联机构）",
    // rules
    rules_title: "监督规则", kind: "类型", parameters: "参数", active: "启用", last_run: "最近评估",
    rules_hint: "规则以数据保存：可调整参数（如重复检查的时间窗和次数）和启用状态，保存后在下次评估时生效。",
    save: "保存", saved: "已保存", no_params: "无参数", list_hint: "多个值用逗号分隔",
    no_rules: "还没有监督规则。点击“立即评估”会载入系统内置的规则。", read_only: "只读",
    run_figures: "{hits} 项 · {ms} 毫秒", never_run: "尚未评估",
    k_overdue_stage: "超期办理", k_fine_outside_benchmark: "罚款超出裁量基准",
    k_officer_certificate: "执法证件与区域", k_too_few_officers: "执法人员不足",
    k_repeated_inspection: "重复检查（扰企）", k_decision_not_published: "决定未按时公示",
    k_inspection_without_plan: "无计划检查", k_missing_legal_review: "未经法制审核",
    k_closed_without_service: "未送达即结案", k_penalty_on_exempt_item: "首违不罚仍处罚",
    // complaints
    complaints_title: "执法投诉", ticket: "受理编号", received: "收到时间", what: "投诉内容",
    no_complaints: "没有投诉。", no_complaint: "选择一条投诉查看详情并办理。",
    cs_received: "待办理", cs_handling: "办理中", cs_answered: "已答复", officer: "被投诉人员",
    certificate: "执法证号", certificate_found: "证号与执法人员库一致",
    certificate_missing: "执法人员库中无此证号", happened_at: "发生时间", place: "地点",
    complainant: "投诉人", anonymous: "未留姓名", phone: "电话", phone_verified: "已验证",
    photos: "照片", handler: "办理人", take: "受理办理", answer_complaint: "答复投诉", complaint_answer: "答复",
    answer_hint: "答复将显示在投诉人的受理编号下，已验证手机的会收到短信。", flag: "关联预警",
  },
  en: {
    title: "Enforcement supervision", login: "Log in", username: "Username", password: "Password",
    sign_in: "Log in", logout: "Log out", lang: "中文", bad_login: "Wrong username or password",
    nav_desk: "Enforcement desk", nav_console: "Console", refused_title: "Not allowed here",
    refused_text: "This page is for enforcement supervisors and administrators. Log in with an account "
      + "that has one of these roles, or ask an administrator for it.",
    switch_user: "Log in as someone else", tab_flags: "Flags", tab_trends: "Trends", tab_rules: "Rules",
    tab_complaints: "Complaints", evaluate: "Evaluate now", evaluating: "Evaluating…",
    evaluated_at: "Last evaluated {at}", evaluation_title: "Evaluation", hide: "Hide",
    evaluation_summary: "{rules} rules in {seconds} s, {hits} hits", rule: "Rule", hits: "Hits",
    raised: "new", raised_again: "raised again", cleared: "cleared", ms_value: "{ms} ms",
    f_state: "State", f_rule: "Rule", f_agency: "Agency", f_street: "Street", f_from: "Raised from",
    f_to: "to", bad_range: "The end date is before the start date: nothing can match", f_mine: "Assigned to me only", reset: "Clear filters", all_states: "All states",
    all_rules: "All rules", all_agencies: "All agencies", all_streets: "All streets",
    st_active: "Not ended (all)", st_open: "Open", st_assigned: "Assigned",
    st_correction_requested: "Correction requested", st_answered: "Agency answered", st_closed: "Closed",
    st_dismissed: "Dismissed", severity: "Severity", sev_high: "Serious", sev_medium: "Warning",
    sev_low: "Notice", subject: "Subject", subject_agency: "Subject and agency", agency: "Agency", age: "Age", state: "State",
    order_hint: "Not ended first, by severity and age", count: "{n} in all", loading: "Loading…",
    page_of: "{from}–{to} of {n}", prev: "Previous", next: "Next",
    too_many: "Showing the first {shown} of {n}: narrow the filters",
    no_flags_none: "No flags yet. Press “Evaluate now” (top right) to check every inspection and penalty "
      + "case against the rules; they are also evaluated on a schedule.",
    no_flags_filtered: "No flags match. Pick another state or clear the filters.",
    no_flag: "Pick a flag in the list to see its evidence, its supervision steps and the inspection or "
      + "case it concerns.",
    penalty_case: "Penalty case", inspection: "Inspection", case_no: "Case {n}",
    inspection_no: "Inspection {n}", days: "{n} d", today: "today", times: "raised {n} times",
    cleared_tag: "complies now", due_tag: "answer by {date}", overdue_tag: "answer overdue",
    assignee_me: "assigned to me", evidence_facts: "Evidence (the facts)", rule_basis: "Legal source",
    occurred_on: "Occurred", raised_at: "Raised", cleared_at: "Complies since",
    correction_due: "Answer due", answer: "Agency's answer", answered_at: "Answered",
    resolution: "Resolution", closed_at: "Ended", region: "Region", business: "Business",
    assignee: "Supervisor", history: "Supervision steps", no_steps: "No steps yet",
    open_in_desk: "Open on the enforcement desk →", a_assign: "Assign to me",
    a_request_correction: "Request correction", a_answer: "Answer", a_close: "Close",
    a_dismiss: "Dismiss", note: "Note", what_to_correct: "What to correct",
    dismiss_reason: "Why it is no irregularity (required)", answer_text: "What was done (required)",
    close_note: "Closing note", confirm: "Confirm", cancel: "Cancel", failed: "Action failed",
    need_reason: "Give the reason", need_answer: "Say what was done", need_due: "Pick the deadline",
    done_assign: "Assigned to you", done_request_correction: "Correction requested from {agency}, due {date}",
    done_answer: "Answer sent", done_close: "Closed", done_dismiss: "Dismissed",
    ev_raised: "Raised", ev_cleared: "Complies", ev_raised_again: "Raised again",
    ev_reopened: "Reopened", system: "System",
    subject_case: "The penalty case", subject_inspection: "The inspection",
    subject_missing: "Cannot be read: {why}", party: "Party", case_title: "Cause", item: "Item",
    procedure: "Procedure", stage: "Stage", proc_general: "General", proc_simplified: "Simplified",
    filed_on: "Filed", decided_on: "Decided", served_on: "Served", published_on: "Published",
    closed_on: "Closed", fine_title: "Fine and benchmark", fine: "Fine", grade: "Grade",
    within: "Within the benchmark", outside: "Outside the benchmark", departure_reason: "Reason given",
    no_reason: "No reason given", benchmark_rows: "Benchmark rows", range: "CNY {min}–{max}",
    yuan: "CNY {n}", no_fine: "No fine", deadlines: "Deadlines", done_on: "done {date}",
    due_on: "due {date}", late: "late", steps: "Steps", officers: "Officers", scheduled_at: "Scheduled",
    started_at: "Started", finished_at: "Finished", rectification_deadline: "Rectify by", plan: "Plan",
    no_plan: "No plan", lead_agency: "Lead agency", agencies: "Agencies", inv_invited: "invited",
    inv_accepted: "accepted", inv_declined: "declined", findings: "Findings",
    source: "Source", stage_decision: "Decision", stage_service: "Service of the decision",
    stage_closing: "Closing", stage_reinspection: "Re-inspection", g_none: "No penalty", g_mitigated: "Mitigated", g_lighter: "Lighter",
    g_ordinary: "Ordinary", g_heavier: "Heavier",
    trends_title: "Flags per week by rule", weeks: "Weeks",
    trends_hint: "Bars: flags raised each week, stacked by rule; hatched bars: flags closed or dismissed.",
    no_trends: "No flags in this period.", agencies_title: "Agencies by open flags",
    agencies_hint: "Ranked by open flags per 100 inspections and cases; click a row to list its flags.",
    open_flags: "Open", cases: "Inspections + cases", per_100: "Per 100", raised_total: "Raised",
    closed_total: "Closed", no_agencies: "No agency has flags.", m_raised: "raised", m_closed: "closed",
    week_of: "week of {date}", chart_caption: "{weeks} weeks, {series} series",
    unknown_agency: "(no agency)",
    rules_title: "Supervision rules", kind: "Kind", parameters: "Parameters", active: "Active",
    last_run: "Last evaluated",
    rules_hint: "Rules are data: change their numbers (e.g. the window and count of repeated "
      + "inspections) and switch them on or off; the next evaluation uses them.",
    save: "Save", saved: "Saved", no_params: "No parameters", list_hint: "Separate values with commas",
    no_rules: "No rules yet. “Evaluate now” loads the shipped rules.", read_only: "read only",
    run_figures: "{hits} hits · {ms} ms", never_run: "Not evaluated yet",
    k_overdue_stage: "Overdue stage", k_fine_outside_benchmark: "Fine outside the benchmark",
    k_officer_certificate: "Certificate and region", k_too_few_officers: "Too few officers",
    k_repeated_inspection: "Repeated inspection", k_decision_not_published: "Decision not published",
    k_inspection_without_plan: "Inspection without a plan", k_missing_legal_review: "Legal review missing",
    k_closed_without_service: "Closed without service", k_penalty_on_exempt_item: "Penalty on an exempt item",
    complaints_title: "Complaints about enforcement", ticket: "Ticket", received: "Received",
    what: "What happened", no_complaints: "No complaints.",
    no_complaint: "Pick a complaint to see it and handle it.", cs_received: "Waiting",
    cs_handling: "Handling", cs_answered: "Answered", officer: "Officer", certificate: "Certificate",
    certificate_found: "Matches an officer in the registry",
    certificate_missing: "No officer holds this certificate", happened_at: "When", place: "Where",
    complainant: "Complainant", anonymous: "Anonymous", phone: "Phone", phone_verified: "verified",
    photos: "Photos", handler: "Handled by", take: "Take it up", answer_complaint: "Answer", complaint_answer: "Answer",
    answer_hint: "The answer shows under the complainant's ticket; a verified phone gets an SMS.",
    flag: "Flag",
  },
};

// Parameter names of the rules, as people read them; an unknown one shows as its name.
const PARAMS = {
  zh: {
    decision_days: "决定期限（日）", service_days: "送达期限（日）", service_working_days: "送达期限（工作日）",
    close_days: "结案期限（日）", reinspection_working_days: "复查期限（工作日）",
    include_late_completed: "逾期完成也预警", procedures: "适用程序", tolerance: "容差（元）",
    check_region: "检查执法区域", check_agency: "检查所属机构", step_kinds: "检查的环节",
    minimum: "最少人数", max_inspections: "最多检查次数", window_days: "时间窗（日）",
    working_days: "公示期限（工作日）", exempt_sources: "无需计划的来源",
    include_unpunished: "不予处罚的决定也须公示",
  },
  en: {
    decision_days: "Decision within (days)", service_days: "Service within (days)",
    service_working_days: "Service within (working days)", close_days: "Closing within (days)",
    reinspection_working_days: "Re-inspection within (working days)",
    include_late_completed: "Flag late completion too", procedures: "Procedures", tolerance: "Tolerance (CNY)",
    check_region: "Check the region", check_agency: "Check the agency", step_kinds: "Steps checked",
    minimum: "Minimum officers", max_inspections: "Inspections at most", window_days: "Window (days)",
    working_days: "Publish within (working days)", exempt_sources: "Sources needing no plan",
    include_unpunished: "Decisions of no penalty too",
  },
};

// Names of evidence facts; others show as they are named.
const FACTS = {
  zh: {
    case_id: "案件编号（内部）", case_number: "案号", inspection_id: "检查编号（内部）", stages: "超期环节",
    stage: "环节", name: "名称", from: "起算日", due: "到期日", done: "完成日", days_late: "逾期天数",
    today: "评估日", day: "日期", fine: "罚款（元）", grade: "裁量阶次", allowed: "基准范围",
    minimum: "最少人数", maximum: "上限", benchmark_id: "基准编号", circumstance: "情形",
    fine_min: "罚款下限（元）", fine_max: "罚款上限（元）", times_min: "倍数下限", times_max: "倍数上限",
    base_amount: "货值金额（元）", party: "当事人类型", officers: "执法人员", officer_id: "执法人员编号",
    officer_known: "人员在册", officer_agency_id: "人员所属机构编号", acting_agency_id: "执法机构编号",
    certificate_number: "执法证号", valid_from: "证件起始", valid_until: "证件截止", region_code: "区域",
    outside_region: "超出执法区域", other_agency: "非本机构人员", not_yet_valid: "证件尚未生效",
    expired: "证件已过期", unknown: "不在执法人员库", certified: "持有效证件人数", named: "所列人员",
    count: "次数", visits: "检查记录", window: "时间窗", window_days: "时间窗（日）",
    max_inspections: "最多次数", business_id: "市场主体编号", business_name: "市场主体",
    decided_on: "决定日期", published_on: "公示日期", working_days: "工作日", item_id: "事项编号（内部）",
    item_code: "事项编码", item_name: "事项", served_on: "送达日期", closed_on: "结案日期",
    source: "来源", plan_id: "检查计划", plan: "检查计划", agency_id: "机构编号", agency_ids: "机构编号",
    agencies: "机构", agency_name: "机构", problems: "问题", steps: "环节", step_id: "环节编号",
    kind: "类型", review_required_because: "应当审核的理由", measures: "处罚种类", exempt: "不罚情形",
    conditions: "条件", complaint: "投诉举报", referral: "转办交办", other: "其他",
  },
  en: {},
};

// Values of evidence facts that are codes: grades, parties, stages.
function codeValue(key, value) {
  if (key === "grade" && TEXT.zh[`g_${value}`]) return t(`g_${value}`);
  if (key === "stage") return t(`stage_${value}`) !== `stage_${value}` ? t(`stage_${value}`) : value;
  if (key === "party") return { any: zh() ? "不限" : "any", organisation: zh() ? "单位" : "organisation", citizen: zh() ? "个人" : "citizen" }[value] ?? value;
  return value;
}

// The steps of a penalty case (enforcement_penalty_steps.kind) and of an inspection.
const STEP_KINDS = {
  zh: {
    opened: "立案申请", decided_on_spot: "当场作出处罚决定", filed: "批准立案", filing_refused: "不予立案",
    evidence_collected: "调取证据", inquiry_recorded: "询问笔录", site_inspected: "现场检查",
    correction_ordered: "责令改正", penalty_proposed: "拟处罚意见", legal_review_requested: "提请法制审核",
    legal_review_passed: "法制审核通过", legal_review_returned: "法制审核退回",
    notice_served: "送达事先告知书", statement_received: "陈述申辩", hearing_requested: "申请听证",
    hearing_notified: "听证通知", hearing_held: "举行听证", statement_period_lapsed: "告知期满",
    investigation_reopened: "补充调查", extension_approved: "批准延长办案期限", decided: "作出处罚决定",
    served: "送达处罚决定书", paid: "缴纳罚款", executed: "执行完毕", recorded_with_agency: "备案",
    published: "公示", closed: "结案", terminated: "终止",
    i_invited: "邀请{agency}", i_accepted: "{agency}接受邀请", i_declined: "{agency}拒绝邀请",
    i_scheduled: "计划检查", i_started: "开始现场检查", i_finished: "结束现场检查",
    i_finding: "{agency}记录检查结果：{outcome}", i_notice: "出具整改通知书 {number}",
    i_served: "送达整改通知书", i_proof: "提交整改材料", i_reinspected: "复查", i_closed: "检查办结",
  },
  en: {
    i_invited: "{agency} invited", i_accepted: "{agency} accepted", i_declined: "{agency} declined",
    i_scheduled: "Scheduled", i_started: "Started on site", i_finished: "Finished on site",
    i_finding: "{agency} recorded: {outcome}", i_notice: "Rectification notice {number} issued",
    i_served: "Notice served", i_proof: "Proof of rectification", i_reinspected: "Re-inspected",
    i_closed: "Closed",
  },
};
const INSPECTION_STATES = {
  zh: {
    scheduled: "待检查", in_progress: "检查中", findings_recorded: "已记录问题", notice_served: "整改中",
    reinspection_due: "待复查", closed: "已办结", escalated: "已转立案", cancelled: "已取消",
    pass: "符合", fail: "不符合", not_applicable: "不适用", compliant: "合格", rectification: "整改合格",
    penalty: "转处罚", plan: "检查计划", complaint: "投诉举报", referral: "转办交办", patrol: "日常巡查",
    assigned: "上级交办", incident: "突发事件", random: "双随机", joint: "综合查一次", special: "专项检查",
  },
  en: {},
};

const ACTIVE_STATES = ["open", "assigned", "correction_requested", "answered"];
const TERMINAL = new Set(["closed", "dismissed"]);
const SEVERITY_RANK = { high: 0, medium: 1, low: 2 };
const SUPERVISORS = new Set(["enforcement_supervisor", "admin"]);
const PAGE = 50;
// How many flags one view gathers to sort them by severity and age (the API pages by time).
const GATHER_LIMIT = 500;
const GATHER_PAGES = 4;
const CORRECTION_DAYS = 10;
const RULE_COLOURS = ["#c53030", "#dd6b20", "#d69e2e", "#38a169", "#319795", "#3182ce", "#5a67d8",
  "#805ad5", "#d53f8c", "#718096", "#2c7a7b", "#9c4221"];
// The enforcement desk opens an inspection or a case from its address's fragment.
const DESK_FRAGMENT = { penalty_case: "case", inspection: "inspection" };

const ui = words(TEXT);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const $ = (selector, root = document) => root.querySelector(selector);
const zh = () => ui.lang === "zh";

let me = null;
let view = "flags";
let rules = [];
let agencies = [];
let streets = [];
let flags = []; // the gathered flags of the filter, sorted
let flagTotal = 0;
let offset = 0;
let chosen = null; // the flag shown, in detail
let subject = null; // what it concerns, as the API reads it
let notice = "";
let acting = null; // the action whose form is open
let trend = null;
let agencyRows = [];
let chart = null;
let complaints = null; // null: the API offers none to this person
let chosenComplaint = null;
let flagsAsked = 0;
let chosenAsked = 0;
const businesses = new Map();
const officers = new Map();
const caseCounts = new Map();

// -- formatting ---------------------------------------------------------------------------

const locale = () => (zh() ? "zh-CN" : "en-GB");
const number = (n, digits = 0) => Number(n).toLocaleString(locale(), {
  minimumFractionDigits: digits, maximumFractionDigits: digits,
});

// A day (YYYY-MM-DD, as the API gives dates) written as people read it: 2026年11月25日.
function formatDay(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.slice(0, 10).split("-").map(Number);
  if (zh()) return `${y}年${m}月${d}日`;
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString("en-GB", {
    timeZone: "UTC", day: "numeric", month: "short", year: "numeric",
  });
}

const formatAt = (iso) => (iso ? formatTime(iso, ui.lang) : "—");

// Today in the centre's zone, as YYYY-MM-DD.
function localToday(plusDays = 0) {
  const zone = document.documentElement.dataset.timezone || "Asia/Shanghai";
  const day = new Date(Date.now() + plusDays * 86400000);
  return day.toLocaleDateString("en-CA", { timeZone: zone });
}

function ageText(iso) {
  const days = Math.floor((Date.now() - new Date(iso).getTime()) / 86400000);
  return days < 1 ? t("today") : t("days", { n: number(days) });
}

const yuan = (n) => t("yuan", { n: number(n) });
const ruleByCode = (code) => rules.find((r) => r.code === code);
const ruleTitle = (code, fallback = "") => ruleByCode(code)?.title || fallback || code;
const agencyName = (id) => agencies.find((a) => a.id === id)?.name;
const mayEvaluate = () => Boolean(me?.roles.some((role) => SUPERVISORS.has(role)));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "data") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

function addFact(list, key, value, label = t(key)) {
  if (value === null || value === undefined || value === "") return;
  list.append(el("dt", { text: label }), el("dd", { data: { fact: key } }, value));
}

function severityBadge(severity) {
  return el("span", { class: `severity ${severity}`, data: { severity }, text: t(`sev_${severity}`) });
}

function stateBadge(state) {
  return el("span", { class: `state-badge ${state}`, data: { state }, text: t(`st_${state}`) });
}

function showError(box, exc) {
  box.textContent = `${t("failed")}: ${exc.message}`;
  box.hidden = false;
}

let errorTimer = null;
function boardError(exc) {
  if (exc?.status === 401) return;
  showError($("#board-error"), exc);
  clearTimeout(errorTimer);
  errorTimer = setTimeout(() => { $("#board-error").hidden = true; }, 10000);
}

// -- session ------------------------------------------------------------------------------

function showLogin() {
  me = null;
  token.clear();
  chart?.dispose();
  chart = null;
  chosen = null;
  subject = null;
  acting = null;
  chosenComplaint = null;
  renderEvaluation(null);
  $("#login").hidden = false;
  $("#board").hidden = true;
  $("#refused").hidden = true;
  $("#logout").hidden = true;
  $("#who").textContent = "";
}
whenUnauthorized(showLogin);

function showRefused() {
  $("#board").hidden = true;
  $("#refused").hidden = false;
  $("#refused-who").textContent = me ? `${me.name} · ${me.roles.join(", ")}` : "";
}

async function start() {
  try {
    me = await api("/auth/me");
  } catch {
    showLogin();
    return;
  }
  $("#login").hidden = true;
  $("#logout").hidden = false;
  $("#who").textContent = me.name;
  // The API decides who reads flags: a refusal here is the page's refusal.
  try {
    await api("/enforcement/supervision/flags?limit=1");
  } catch (exc) {
    if (exc.status === 403) showRefused();
    else if (exc.status !== 401) {
      $("#board").hidden = false;
      boardError(exc);
    }
    return;
  }
  $("#refused").hidden = true;
  $("#board").hidden = false;
  $("#evaluate").hidden = !mayEvaluate();
  // Each list on its own: one that fails leaves its filter empty, not the page.
  await Promise.all([loadRules(), loadAgencies(), loadStreets(), probeComplaints()].map((p) => p.catch(boardError)));
  renderFilters();
  showView(view);
  const asked = askedFlag;
  askedFlag = null;
  await Promise.all([loadFlags(), countOpen(), asked ? chooseFlag(asked) : null]).catch(boardError);
}

// -- reference data -----------------------------------------------------------------------

async function loadRules() {
  rules = await api("/enforcement/supervision/rules");
  const last = rules.map((r) => r.evaluated_at).filter(Boolean).sort().pop();
  $("#evaluated").textContent = last ? t("evaluated_at", { at: formatAt(last) }) : "";
}

async function loadAgencies() {
  agencies = (await api("/enforcement/agencies?limit=500")).items;
}

async function loadStreets() {
  streets = (await api("/regions?level=street&geometry=false&limit=500")).items;
}

async function countOpen() {
  const page = await api("/enforcement/supervision/flags?state=open&limit=1");
  $("#open-count").textContent = page.total ? number(page.total) : "";
  $("#open-count").title = t("st_open");
}

function option(value, label) {
  return el("option", { value, text: label });
}

function fillSelect(select, allLabel, entries) {
  const keep = select.value;
  select.replaceChildren(option("", allLabel), ...entries.map(([v, l]) => option(String(v), l)));
  select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
}

function renderFilters() {
  fillSelect($("#filter-rule"), t("all_rules"), rules.map((r) => [r.code, r.title]));
  fillSelect($("#filter-agency"), t("all_agencies"), agencies.map((a) => [a.id, a.name]));
  fillSelect($("#filter-street"), t("all_streets"), streets.map((s) => [s.code, s.name]));
  fillSelect($("#trend-agency"), t("all_agencies"), agencies.map((a) => [a.id, a.name]));
}

// -- the flags ----------------------------------------------------------------------------

function filterValues() {
  const form = $("#flag-filters");
  return {
    state: form.elements.state.value, rule: form.elements.rule.value, agency: form.elements.agency.value,
    street: form.elements.street.value, since: form.elements.since.value, until: form.elements.until.value,
    mine: form.elements.mine.checked,
  };
}

function flagQuery(f, state, pageOffset) {
  const q = new URLSearchParams({ limit: String(GATHER_LIMIT), offset: String(pageOffset) });
  if (state) q.set("state", state);
  if (f.rule) q.set("rule", f.rule);
  if (f.agency) q.set("agency_id", f.agency);
  if (f.since) q.set("raised_from", f.since);
  if (f.until) q.set("raised_until", f.until);
  return `/enforcement/supervision/flags?${q}`;
}

const FILTER_OF = { raised_from: "since", raised_until: "until", rule: "rule", agency_id: "agency", state: "state" };

// The flags of one state (or all), gathered page by page up to a bound.
async function gather(f, state) {
  const items = [];
  let total = 0;
  for (let n = 0; n < GATHER_PAGES; n += 1) {
    const page = await api(flagQuery(f, state, n * GATHER_LIMIT));
    items.push(...page.items);
    total = page.total;
    if (items.length >= total || !page.items.length) break;
  }
  return { items, total };
}

function compareFlags(a, b) {
  const ended = Number(TERMINAL.has(a.state)) - Number(TERMINAL.has(b.state));
  if (ended) return ended;
  const severity = (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9);
  if (severity) return severity;
  // The oldest first: it has waited longest.
  return a.raised_at < b.raised_at ? -1 : a.raised_at > b.raised_at ? 1 : a.id - b.id;
}

async function loadFlags({ keepOffset = false } = {}) {
  const asked = ++flagsAsked;
  const f = filterValues();
  $("#flags-loading").hidden = false;
  $("#filter-error").hidden = true;
  for (const input of $("#flag-filters").querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  if (f.since && f.until && f.until < f.since) {
    $("#filter-until").setAttribute("aria-invalid", "true");
    $("#filter-error").textContent = t("bad_range");
    $("#filter-error").hidden = false;
  }
  let found;
  try {
    const states = f.state === "active" ? ACTIVE_STATES : [f.state || null];
    found = await Promise.all(states.map((state) => gather(f, state)));
  } catch (exc) {
    if (asked !== flagsAsked) return;
    $("#flags-loading").hidden = true;
    // The API names the query parameter at fault: mark the filter that sets it.
    const problem = exc.problem?.errors?.[0];
    const field = problem && FILTER_OF[problem.path];
    if (field) $(`#filter-${field}`).setAttribute("aria-invalid", "true");
    $("#filter-error").textContent = problem
      ? `${t(field ? `f_${field === "since" ? "from" : field === "until" ? "to" : field}` : "failed")}: ${problem.message}`
      : `${t("failed")}: ${exc.message}`;
    $("#filter-error").hidden = false;
    return;
  }
  if (asked !== flagsAsked) return;
  let items = found.flatMap((g) => g.items);
  const serverTotal = found.reduce((sum, g) => sum + g.total, 0);
  const truncated = serverTotal > items.length;
  if (f.street) items = items.filter((x) => (x.region_code || "").startsWith(f.street));
  if (f.mine) items = items.filter((x) => x.assignee_id === me.id);
  flags = items.sort(compareFlags);
  flagTotal = truncated ? serverTotal : flags.length;
  if (!keepOffset || offset >= flags.length) offset = 0;
  $("#flags-loading").hidden = true;
  $("#flag-count").dataset.truncated = String(truncated);
  renderFlags();
  await loadBusinesses(flags.slice(offset, offset + PAGE));
  if (asked === flagsAsked) renderFlags();
}

// The businesses the visible flags concern, each read once.
async function loadBusinesses(shown) {
  const wanted = [...new Set(shown.map((x) => x.business_id).filter((id) => id != null && !businesses.has(id)))];
  await Promise.all(wanted.map(async (id) => {
    try {
      businesses.set(id, await api(`/enforcement/businesses/${id}`));
    } catch {
      businesses.set(id, null);
    }
  }));
}

function subjectText(x) {
  const number = x.evidence?.case_number || x.evidence?.inspection_number;
  if (x.subject_type === "penalty_case") return t("case_no", { n: number || `#${x.subject_id}` });
  return t("inspection_no", { n: number || `#${x.subject_id}` });
}

function renderFlags() {
  const rows = $("#flag-rows");
  const shown = flags.slice(offset, offset + PAGE);
  rows.replaceChildren(...shown.map(flagRow));
  const truncated = $("#flag-count").dataset.truncated === "true";
  $("#flag-count").textContent = truncated
    ? t("too_many", { shown: number(flags.length), n: number(flagTotal) })
    : t("count", { n: number(flags.length) });
  const empty = !flags.length;
  $("#flags-empty").hidden = !empty;
  if (empty) {
    const filtered = JSON.stringify(filterValues()) !== JSON.stringify(DEFAULT_FILTERS);
    $("#flags-empty-text").textContent = filtered ? t("no_flags_filtered") : t("no_flags_none");
  }
  $("#prev-page").disabled = offset === 0;
  $("#next-page").disabled = offset + PAGE >= flags.length;
  $("#page-of").textContent = flags.length > PAGE
    ? t("page_of", { from: number(offset + 1), to: number(Math.min(offset + PAGE, flags.length)), n: number(flags.length) })
    : "";
}

function flagRow(x) {
  const business = businesses.get(x.business_id);
  const subjectCell = el("td", { class: "subject" },
    el("span", { class: "number", text: subjectText(x) }),
    business ? el("span", { class: "business", text: business.name }) : null,
    el("span", { class: "agency", text: x.agency_name || agencyName(x.agency_id) || t("unknown_agency") }));
  const stateCell = el("td", {}, stateBadge(x.state));
  if (x.cleared) stateCell.append(el("span", { class: "tag", text: t("cleared_tag") }));
  if (x.times_raised > 1) stateCell.append(el("span", { class: "tag", text: t("times", { n: x.times_raised }) }));
  if (x.correction_due && !TERMINAL.has(x.state) && x.state !== "answered") {
    const late = x.correction_due < localToday();
    stateCell.append(el("span", {
      class: `tag${late ? " late" : ""}`,
      text: late ? t("overdue_tag") : t("due_tag", { date: formatDay(x.correction_due) }),
    }));
  }
  if (x.assignee_id === me?.id) stateCell.append(el("span", { class: "tag", text: t("assignee_me") }));
  const tr = el("tr", {
    tabindex: "0", class: [chosen?.id === x.id ? "open" : "", x.cleared ? "cleared" : ""].join(" ").trim() || null,
    data: { flagId: String(x.id), state: x.state, rule: x.rule_code, severity: x.severity },
    "aria-selected": String(chosen?.id === x.id),
  },
  el("td", {}, severityBadge(x.severity)),
  el("td", {}, el("div", { class: "rule-title", text: ruleTitle(x.rule_code, x.rule_title) }),
    el("div", { class: "muted clamp", text: x.message })),
  subjectCell,
  el("td", { class: "num", title: formatAt(x.raised_at), text: ageText(x.raised_at) }),
  stateCell);
  tr.addEventListener("click", () => chooseFlag(x.id));
  tr.addEventListener("keydown", (event) => rowKeys(event, tr, () => chooseFlag(x.id)));
  return tr;
}

// Up and down move along the rows; Enter or Space opens one.
function rowKeys(event, tr, open) {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    open();
  } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = event.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
    next?.focus();
  }
}

// -- one flag -----------------------------------------------------------------------------

async function chooseFlag(id, { keepNotice = false } = {}) {
  const asked = ++chosenAsked;
  if (!keepNotice) notice = "";
  if (chosen?.id !== id) acting = null;
  let detail;
  try {
    detail = await api(`/enforcement/supervision/flags/${id}`);
  } catch (exc) {
    boardError(exc);
    return;
  }
  if (asked !== chosenAsked) return;
  const sameSubject = subject && chosen && chosen.link.href === detail.link.href;
  chosen = detail;
  history.replaceState(null, "", `#flag/${id}`);
  for (const tr of document.querySelectorAll("#flag-rows tr")) {
    const open = tr.dataset.flagId === String(id);
    tr.classList.toggle("open", open);
    tr.setAttribute("aria-selected", String(open));
  }
  renderFlag();
  if (!sameSubject) await loadSubject(asked);
  else renderSubject();
}

function renderFlag() {
  const x = chosen;
  $("#no-flag").hidden = Boolean(x);
  $("#flag").hidden = !x;
  if (!x) return;
  $("#flag").dataset.flagId = String(x.id);
  $("#flag").dataset.state = x.state;
  $("#flag-severity").replaceWith(Object.assign(severityBadge(x.severity), { id: "flag-severity" }));
  $("#flag-title").textContent = ruleTitle(x.rule_code, x.rule_title);
  $("#flag-state").replaceWith(Object.assign(stateBadge(x.state), { id: "flag-state" }));
  $("#flag-message").textContent = x.message;
  const facts = $("#flag-facts");
  facts.replaceChildren();
  addFact(facts, "subject", subjectText(x));
  const business = businesses.get(x.business_id);
  addFact(facts, "business", business ? `${business.name}（${business.credit_code}）` : x.business_id != null ? `#${x.business_id}` : "");
  addFact(facts, "agency", x.agency_name || agencyName(x.agency_id) || t("unknown_agency"));
  addFact(facts, "region", streets.find((s) => x.region_code?.startsWith(s.code))?.name || x.region_code);
  addFact(facts, "occurred_on", x.occurred_on ? formatDay(x.occurred_on) : "");
  addFact(facts, "raised_at", `${formatAt(x.raised_at)}${x.times_raised > 1 ? ` · ${t("times", { n: x.times_raised })}` : ""}`);
  if (x.cleared) addFact(facts, "cleared_at", formatAt(x.cleared_at));
  if (x.assignee_id != null) {
    const assigned = [...x.steps].reverse().find((step) => step.kind === "assign");
    addFact(facts, "assignee", assigned?.data?.assignee_name || `#${x.assignee_id}`);
  }
  if (x.correction_due) addFact(facts, "correction_due", formatDay(x.correction_due));
  if (x.answer) addFact(facts, "answer", x.answer);
  if (x.answered_at) addFact(facts, "answered_at", formatAt(x.answered_at));
  if (x.resolution) addFact(facts, "resolution", x.resolution);
  if (x.closed_at) addFact(facts, "closed_at", formatAt(x.closed_at));
  addFact(facts, "rule_basis", x.legal_source);
  const evidence = $("#flag-evidence");
  evidence.replaceChildren(...evidenceFacts(x.evidence));
  $("#flag-notice").textContent = notice;
  $("#flag-notice").hidden = !notice;
  renderActions();
  renderSteps();
  const kind = x.subject_type === "penalty_case" ? "subject_case" : "subject_inspection";
  $("#subject-title").textContent = `${t(kind)} · ${subjectText(x)}`;
  $("#subject-link").href = `/enforcement/#${DESK_FRAGMENT[x.subject_type] || x.subject_type}/${x.subject_id}`;
}

function factLabel(key) {
  return FACTS[ui.lang][key] ?? (zh() ? key : key.replaceAll("_", " "));
}

function factValue(key, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "✓" : "✗";
  // Identifiers are names, not amounts: no thousands separators.
  if (typeof value === "number" && /(^|_)ids?$/.test(key)) return String(value);
  if (typeof value === "number") return number(value, Number.isInteger(value) ? 0 : 2);
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) return formatDay(value);
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) return formatAt(value);
  if (typeof value === "string") return String(codeValue(key, value));
  if (Array.isArray(value)) {
    if (!value.length) return "—";
    return el("ul", {}, value.map((v) => el("li", {}, typeof v === "object" && v !== null ? inlineFacts(v) : factValue(key, v))));
  }
  if (typeof value === "object") return inlineFacts(value);
  return String(value);
}

function inlineFacts(object) {
  const span = el("span");
  // A stage's code is named in both languages here: its Chinese name beside it adds nothing.
  const entries = Object.entries(object).filter(([k]) => !(k === "name" && "stage" in object));
  entries.forEach(([k, v], i) => {
    if (i) span.append(zh() ? "；" : "; ");
    span.append(`${factLabel(k)}${zh() ? "：" : ": "}`, factValue(k, v));
  });
  return span;
}

// The evidence's facts as a definition list: dates, numbers and lists written out.
function evidenceFacts(evidence) {
  const parts = [];
  for (const [key, value] of Object.entries(evidence || {})) {
    parts.push(el("dt", { text: factLabel(key) }), el("dd", { data: { fact: key } }, factValue(key, value)));
  }
  return parts;
}

const ACTION_ORDER = ["assign", "request_correction", "answer", "close", "dismiss"];

function renderActions() {
  const box = $("#flag-actions");
  const allowed = ACTION_ORDER.filter((a) => chosen.allowed_actions.includes(a));
  box.replaceChildren(...allowed.map((action) => {
    const already = action === "assign" && chosen.assignee_id === me.id;
    return el("button", {
      type: "button", class: action === "request_correction" ? "primary" : "secondary",
      data: { action }, text: t(`a_${action}`), disabled: already || acting === action,
      onclick: () => openAction(action),
    });
  }));
  const form = $("#action-form");
  form.hidden = !acting;
  if (!acting) return;
  $("#action-title").textContent = t(`a_${acting}`);
  $("#field-due").hidden = acting !== "request_correction";
  const noteLabel = { request_correction: "what_to_correct", dismiss: "dismiss_reason", answer: "answer_text", close: "close_note" };
  $("#note-label").textContent = t(noteLabel[acting] || "note");
  $("#action-note").required = acting === "dismiss" || acting === "answer";
}

function clearFieldErrors(form) {
  for (const box of form.querySelectorAll(".field-error")) box.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const general = form.querySelector(".error[role=alert]:not(.field-error)");
  if (general) general.hidden = true;
}

function fieldError(input, box, message) {
  input.setAttribute("aria-invalid", "true");
  box.textContent = message;
}

async function openAction(action) {
  if (action === "assign") {
    await act("assign", { assignee_id: me.id, note: "" });
    return;
  }
  acting = action;
  const form = $("#action-form");
  form.reset();
  clearFieldErrors(form);
  $("#action-due").value = localToday(CORRECTION_DAYS);
  $("#action-due").min = localToday();
  renderActions();
  (action === "request_correction" ? $("#action-due") : $("#action-note")).focus();
}

const ACTION_PATHS = {
  assign: "assign", request_correction: "request-correction", answer: "answer", close: "close", dismiss: "dismiss",
};
// The API names a field of each action's body; the form shows it next to its own field.
const FIELD_OF = { due: "due", note: "note", reason: "note", answer: "note" };

function actionBody(action, form) {
  const note = form.elements.note.value.trim();
  if (action === "request_correction") return { due: form.elements.correction_due.value, note };
  if (action === "dismiss") return { reason: note };
  if (action === "answer") return { answer: note };
  return { note };
}

async function submitAction(event) {
  event.preventDefault();
  const form = event.target;
  clearFieldErrors(form);
  const body = actionBody(acting, form);
  if (acting === "request_correction" && !body.due) return fieldError($("#action-due"), $("#action-due-error"), t("need_due"));
  if (acting === "dismiss" && !body.reason) return fieldError($("#action-note"), $("#action-note-error"), t("need_reason"));
  if (acting === "answer" && !body.answer) return fieldError($("#action-note"), $("#action-note-error"), t("need_answer"));
  await act(acting, body, form);
}

async function act(action, body, form = null) {
  const submit = form ? $("button[type=submit]", form) : $(`#flag-actions [data-action=${action}]`);
  if (submit) submit.disabled = true;
  try {
    chosen = await api(`/enforcement/supervision/flags/${chosen.id}/${ACTION_PATHS[action]}`, { method: "POST", json: body });
    acting = null;
    const agency = chosen.agency_name || agencyName(chosen.agency_id) || t("unknown_agency");
    notice = t(`done_${action}`, { agency, date: formatDay(chosen.correction_due) });
    renderFlag();
    await Promise.all([loadFlags({ keepOffset: true }), countOpen()]);
  } catch (exc) {
    if (!form) {
      boardError(exc);
      return;
    }
    const problems = exc.problem?.errors || [];
    let placed = false;
    for (const problem of problems) {
      const field = FIELD_OF[problem.path];
      if (field === "due") fieldError($("#action-due"), $("#action-due-error"), problem.message);
      else if (field === "note") fieldError($("#action-note"), $("#action-note-error"), problem.message);
      else continue;
      placed = true;
    }
    if (!placed) showError($("#action-error"), exc);
  } finally {
    if (submit) submit.disabled = false;
  }
}

function renderSteps() {
  const list = $("#flag-steps");
  if (!chosen.steps.length) {
    list.replaceChildren(el("li", { class: "muted", text: t("no_steps") }));
    return;
  }
  list.replaceChildren(...chosen.steps.map((s) => {
    const name = zh() ? s.kind_name : t(`a_${s.kind}`) !== `a_${s.kind}` ? t(`a_${s.kind}`) : t(`ev_${s.kind}`);
    // The evaluation acts as no person: the API names it in Chinese, the page in either.
    const who = s.actor_id == null ? t("system") : s.actor_name;
    const extra = [];
    if (s.data?.due) extra.push(t("due_on", { date: formatDay(s.data.due) }));
    if (s.data?.assignee_name) extra.push(`→ ${s.data.assignee_name}`);
    return el("li", { class: `${s.kind}${s.actor_id == null ? " event" : ""}`, data: { kind: s.kind } },
      el("strong", { text: name }), " ", stateBadge(s.state_after),
      el("div", { class: "who", text: `${formatAt(s.at)} · ${who}${extra.length ? ` · ${extra.join(" ")}` : ""}` }),
      s.note ? el("p", { text: s.note }) : null);
  }));
}

// -- what the flag concerns ---------------------------------------------------------------

async function loadSubject(asked) {
  subject = null;
  $("#subject-body").replaceChildren();
  $("#subject-error").hidden = true;
  $("#subject-loading").hidden = false;
  try {
    const found = await api(chosen.link.href.replace(/^\/api\/v1/, ""));
    if (asked !== chosenAsked) return;
    subject = { kind: chosen.subject_type, data: found, check: null };
    if (found.business_id != null && !businesses.has(found.business_id)) await loadBusinesses([found]);
    await loadOfficers(subjectOfficerIds(found));
    if (chosen.subject_type === "penalty_case" && found.fine != null && found.grade) {
      subject.check = await fineCheck(found).catch(() => null);
    }
    if (asked !== chosenAsked) return;
    renderSubject();
    renderFlag();
  } catch (exc) {
    if (asked !== chosenAsked) return;
    $("#subject-error").textContent = t("subject_missing", { why: exc.message });
    $("#subject-error").hidden = false;
  } finally {
    if (asked === chosenAsked) $("#subject-loading").hidden = true;
  }
}

function subjectOfficerIds(found) {
  const ids = new Set(found.officer_ids || []);
  for (const step of found.steps || []) for (const id of step.officer_ids || []) ids.add(id);
  return [...ids];
}

async function loadOfficers(ids) {
  await Promise.all(ids.filter((id) => !officers.has(id)).map(async (id) => {
    try {
      officers.set(id, await api(`/enforcement/officers/${id}`));
    } catch {
      officers.set(id, null);
    }
  }));
}

function officerChips(ids) {
  if (!ids?.length) return null;
  return el("span", { class: "officers" }, ids.map((id) => {
    const o = officers.get(id);
    return el("span", { class: "officer", title: o?.certificate_number || "", text: o ? o.name : `#${id}` });
  }));
}

async function fineCheck(found) {
  const body = { grade: found.grade, fine: found.fine, party: found.party_kind };
  if (found.base_amount != null) body.base_amount = found.base_amount;
  if (found.benchmark_id != null) body.benchmark_id = found.benchmark_id;
  return api(`/enforcement/items/${encodeURIComponent(found.item_code)}/fine-check`, { method: "POST", json: body });
}

function renderSubject() {
  const body = $("#subject-body");
  if (!subject) {
    body.replaceChildren();
    return;
  }
  body.replaceChildren(...(subject.kind === "penalty_case" ? caseParts(subject.data) : inspectionParts(subject.data)));
}

function caseParts(c) {
  const facts = el("dl", { class: "facts" });
  addFact(facts, "party", c.party_name);
  addFact(facts, "case_title", c.title);
  addFact(facts, "item", c.item_code);
  addFact(facts, "agency", c.agency_name || agencyName(c.agency_id));
  addFact(facts, "procedure", t(`proc_${c.procedure}`) !== `proc_${c.procedure}` ? t(`proc_${c.procedure}`) : c.procedure);
  addFact(facts, "stage", zh() ? c.stage_name || c.stage : c.stage);
  addFact(facts, "officers", officerChips(c.officer_ids));
  for (const key of ["filed_on", "decided_on", "served_on", "published_on", "closed_on"]) {
    if (c[key]) addFact(facts, key, formatDay(c[key]));
  }
  // The fine against its benchmark, once there is a fine (proposed or decided).
  const parts = c.fine == null ? [facts] : [facts, benchmarkBox(c)];
  if (c.deadlines?.length) {
    parts.push(el("h4", { text: t("deadlines") }), el("div", { class: "deadlines" }, c.deadlines.map((d) => deadlineTile(d))));
  }
  parts.push(el("h4", { text: t("steps") }), stepsTimeline(c.steps || []));
  return parts;
}

function benchmarkBox(c) {
  const box = el("section", { class: "benchmark", data: { within: "" } });
  box.append(el("h4", { text: t("fine_title") }));
  if (c.fine == null) {
    box.append(el("p", { class: "muted", text: t("no_fine") }));
    return box;
  }
  const check = subject.check;
  const within = check ? check.within : null;
  box.dataset.within = within === null ? "" : String(within);
  box.classList.toggle("outside", within === false);
  const grade = c.grade ? t(`g_${c.grade}`) : "—";
  box.append(el("div", {},
    el("span", { class: "fine", text: yuan(c.fine) }), " · ", `${t("grade")}：${grade}`,
    within === null ? null : el("strong", { class: within ? "ok" : "error", text: ` · ${t(within ? "within" : "outside")}` })));
  if (check?.allowed?.length) {
    const rows = check.allowed.map((b) => el("tr", { class: b.benchmark_id === c.benchmark_id ? "applied" : null },
      el("td", { text: b.circumstance || "—" }),
      el("td", { class: "num", text: b.minimum == null && b.maximum == null ? "—"
        : t("range", { min: number(b.minimum ?? 0), max: b.maximum == null ? "…" : number(b.maximum) }) })));
    box.append(el("table", {}, el("caption", { class: "muted", text: t("benchmark_rows") }), el("tbody", {}, rows)));
  }
  if (within === false || c.departure_reason) {
    box.append(el("p", {}, `${t("departure_reason")}：`, c.departure_reason ? c.departure_reason : el("span", { class: "error", text: t("no_reason") })));
  }
  return box;
}

function deadlineTile(d, label = null) {
  const late = d.on_time === false || (!d.done_on && d.due < localToday());
  return el("div", { class: `deadline${late ? " late" : d.done_on ? " done" : ""}`, data: { name: d.name, late: String(late) }, title: d.basis || "" },
    el("span", { class: "label", text: label || (zh() ? d.label : d.name.replaceAll("_", " ")) }),
    el("span", { class: "value", text: d.done_on ? t("done_on", { date: formatDay(d.done_on) }) : t("due_on", { date: formatDay(d.due) }) }),
    late ? el("span", { class: "tag late", text: t("late") }) : null);
}

function stepName(kind, values = {}) {
  const name = STEP_KINDS[ui.lang][kind] ?? (zh() ? STEP_KINDS.zh[kind] ?? kind : kind.replace(/^i_/, "").replaceAll("_", " "));
  return name.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
}

const inspectionWord = (code) => (code ? INSPECTION_STATES[ui.lang][code] ?? (zh() ? INSPECTION_STATES.zh[code] ?? code : code.replaceAll("_", " ")) : "");

function timeline(entries) {
  if (!entries.length) return el("p", { class: "muted", text: t("no_steps") });
  return el("ol", { class: "timeline subject-steps" }, entries.map((s) => el("li", { data: { kind: s.kind } },
    el("strong", { text: s.name }),
    el("div", { class: "who" }, formatAt(s.at), s.actor ? ` · ${s.actor}` : "",
      s.officers?.length ? " · " : "", s.officers?.length ? officerChips(s.officers) : null,
      s.names?.length ? ` · ${s.names.join("、")}` : ""),
    s.note ? el("p", { text: s.note }) : null)));
}

function stepsTimeline(steps) {
  return timeline(steps.map((s) => ({
    kind: s.kind, name: stepName(s.kind), at: s.at, actor: s.actor_name, officers: s.officer_ids, note: s.note,
  })));
}

// An inspection keeps no step rows: its timeline is read from the dates it records.
function inspectionTimeline(i) {
  const entries = [];
  const add = (kind, at, extra = {}) => {
    if (at) entries.push({ kind, at, name: stepName(kind, extra), ...extra });
  };
  for (const a of i.agencies || []) {
    if (a.role !== "initiator") add("i_invited", a.invited_at, { agency: a.name });
    if (a.responded_at) add(`i_${a.state}`, a.responded_at, { agency: a.name, note: a.reason });
  }
  add("i_scheduled", i.scheduled_at, { note: i.place });
  const onSite = (i.agencies || []).flatMap((a) => a.officers.map((o) => `${o.name}（${o.certificate_number}）`));
  add("i_started", i.started_at, { names: onSite });
  add("i_finished", i.finished_at);
  for (const f of i.findings || []) {
    add("i_finding", f.recorded_at, {
      agency: f.agency_name, outcome: inspectionWord(f.outcome), actor: f.officer_name,
      note: [f.item_code, f.note, f.requirement].filter(Boolean).join(" · "),
    });
  }
  if (i.notice) {
    add("i_notice", i.notice.issued_at, { number: i.notice.number });
    add("i_served", i.notice.served_at, { note: i.notice.served_method });
    add("i_proof", i.notice.proof_at, { note: i.notice.proof_note });
  }
  add("i_reinspected", i.reinspected_at);
  add("i_closed", i.closed_at);
  return timeline(entries.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0)));
}

function inspectionParts(i) {
  const facts = el("dl", { class: "facts" });
  addFact(facts, "business", i.business ? `${i.business.name}（${i.business.credit_code}）` : i.business_name);
  const lead = (i.agencies || []).find((a) => a.agency_id === i.lead_agency_id);
  addFact(facts, "lead_agency", lead?.name || agencyName(i.lead_agency_id));
  addFact(facts, "plan", i.plan_id != null ? `${i.plan_number || `#${i.plan_id}`}${i.plan_kind ? ` · ${inspectionWord(i.plan_kind)}` : ""}` : t("no_plan"));
  addFact(facts, "source", inspectionWord(i.source));
  addFact(facts, "state", `${inspectionWord(i.state)}${i.outcome ? ` · ${inspectionWord(i.outcome)}` : ""}`);
  const officersOn = (i.agencies || []).filter((a) => a.officers.length);
  if (officersOn.length) {
    addFact(facts, "officers", el("span", { class: "officers" }, officersOn.flatMap((a) => a.officers.map((o) => el("span", {
      class: "officer", title: o.certificate_number, data: { officerId: String(o.officer_id) },
      text: `${o.name}${officersOn.length > 1 ? `（${a.name}）` : ""}`,
    })))));
  } else {
    addFact(facts, "officers", "—");
  }
  if (i.agencies?.length > 1) {
    addFact(facts, "agencies", i.agencies.map((a) => `${a.name}（${t(`inv_${a.state}`)}）`).join("、"));
  }
  const dates = [
    { name: "scheduled_at", label: t("scheduled_at"), done: i.scheduled_at },
    { name: "finished_at", label: t("finished_at"), done: i.finished_at },
  ];
  const tiles = dates.filter((d) => d.done).map((d) => el("div", { class: "deadline done", data: { name: d.name } },
    el("span", { class: "label", text: d.label }), el("span", { class: "value", text: formatAt(d.done) })));
  if (i.rectification_deadline) {
    tiles.push(deadlineTile({
      name: "rectification_deadline", label: t("rectification_deadline"), due: i.rectification_deadline,
      done_on: i.reinspected_at ? i.reinspected_at.slice(0, 10) : null, basis: "",
    }, t("rectification_deadline")));
  }
  return [facts, el("h4", { text: t("deadlines") }), el("div", { class: "deadlines" }, tiles),
    el("h4", { text: t("steps") }), inspectionTimeline(i)];
}

// -- trends -------------------------------------------------------------------------------

// The Monday `weeks - 1` weeks before this week's: the chart shows exactly `weeks` weeks.
function firstMonday(until, weeks) {
  const day = new Date(`${until}T00:00:00Z`);
  const back = (day.getUTCDay() + 6) % 7 + (weeks - 1) * 7;
  return new Date(day.getTime() - back * 86400000).toISOString().slice(0, 10);
}

function trendParams() {
  const weeks = Number($("#trend-weeks").value);
  const until = localToday();
  const since = firstMonday(until, weeks);
  const q = new URLSearchParams({ since, until });
  if ($("#trend-agency").value) q.set("agency_id", $("#trend-agency").value);
  return q;
}

async function loadTrends() {
  trend = await api(`/enforcement/supervision/trends?${trendParams()}`);
  drawTrend();
  await loadCaseCounts(trend.agencies);
  renderAgencies();
}

// Inspections and cases per agency, for the flags per 100 of them; a list the API does not
// offer to this person (or at all) leaves the ratio out.
async function loadCaseCounts(rows) {
  const total = async (path) => {
    try {
      return (await api(path)).total;
    } catch {
      return null;
    }
  };
  await Promise.all(rows.filter((r) => r.agency_id != null && !caseCounts.has(r.agency_id)).map(async (r) => {
    const code = agencies.find((a) => a.id === r.agency_id)?.code;
    const [cases, inspections] = await Promise.all([
      code ? total(`/enforcement/penalty-cases?agency=${encodeURIComponent(code)}&limit=1`) : null,
      total(`/enforcement/inspections?agency_id=${r.agency_id}&limit=1`),
    ]);
    caseCounts.set(r.agency_id, cases === null && inspections === null ? null : (cases || 0) + (inspections || 0));
  }));
}

function drawTrend() {
  const box = $("#trend-chart");
  const empty = !trend || !trend.series.some((s) => s.data.some((v) => v > 0));
  $("#trends-empty").hidden = !empty;
  chart ??= echarts.init(box);
  const codes = [...new Set(trend.series.map((s) => s.rule_code))];
  const colour = (code) => RULE_COLOURS[Math.max(0, rules.findIndex((r) => r.code === code)) % RULE_COLOURS.length];
  const series = trend.series.map((s) => ({
    id: `${s.measure}:${s.rule_code}`, name: ruleTitle(s.rule_code), type: "bar", stack: s.measure,
    barMaxWidth: 28, data: s.data, emphasis: { focus: "series" },
    itemStyle: s.measure === "closed"
      ? { color: colour(s.rule_code), opacity: 0.55, decal: { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [2, 3], rotation: -0.78, color: "rgba(255,255,255,.7)" } }
      : { color: colour(s.rule_code) },
  }));
  const weeks = trend.weeks.map((w) => formatDay(w).replace(/^\d{4}年/, "").replace(/ \d{4}$/, ""));
  // Every rule's name in full: the legend wraps, and the plot starts below its lines.
  const legend = codes.map((c) => ruleTitle(c));
  const width = Math.max(320, box.clientWidth - 16);
  let rows = 1;
  let used = 0;
  for (const name of legend) {
    const item = 38 + [...name].reduce((sum, ch) => sum + (ch.charCodeAt(0) > 255 ? 12 : 7), 0);
    if (used && used + item > width) {
      rows += 1;
      used = 0;
    }
    used += item;
  }
  chart.setOption({
    animation: false,
    aria: { enabled: true, decal: { show: false } },
    grid: { left: 8, right: 16, top: 24 + rows * 22, bottom: 8, containLabel: true },
    legend: { top: 0, left: 0, right: 0, type: "plain", data: legend, itemGap: 10, textStyle: { fontSize: 12 } },
    tooltip: {
      trigger: "axis", axisPointer: { type: "shadow" },
      formatter: (items) => {
        if (!items.length) return "";
        const head = t("week_of", { date: formatDay(trend.weeks[items[0].dataIndex]) });
        const lines = items.filter((p) => p.value).map((p) => {
          const measure = p.seriesId.split(":")[0];
          return `${p.marker}${p.seriesName} · ${t(`m_${measure}`)}：${number(p.value)}`;
        });
        return [head, ...lines].join("<br>");
      },
    },
    xAxis: { type: "category", data: weeks },
    yAxis: { type: "value", minInterval: 1 },
    series,
  }, { notMerge: true });
  box.dataset.series = String(series.length);
  box.dataset.weeks = String(trend.weeks.length);
  $("#trend-caption").textContent = t("chart_caption", { weeks: trend.weeks.length, series: series.length });
  chart.resize();
}

function renderAgencies() {
  agencyRows = (trend?.agencies || []).map((a) => {
    const cases = caseCounts.get(a.agency_id) ?? null;
    return { ...a, cases, per100: cases ? (a.open * 100) / cases : null };
  }).sort((a, b) => (b.per100 ?? -1) - (a.per100 ?? -1) || b.open - a.open);
  const most = Math.max(0, ...agencyRows.map((a) => a.per100 ?? 0));
  $("#agencies-empty").hidden = agencyRows.length > 0;
  $("#agency-rows").replaceChildren(...agencyRows.map((a, i) => {
    const ratio = a.per100 == null ? "—" : number(a.per100, 1);
    const bar = a.per100 && most ? el("span", { class: "ratio", style: `width:${Math.round((a.per100 / most) * 48)}px` }) : null;
    const tr = el("tr", { tabindex: "0", data: { agencyId: String(a.agency_id ?? "") } },
      el("td", { class: "num", text: String(i + 1) }),
      el("td", { text: a.name || agencyName(a.agency_id) || t("unknown_agency") }),
      el("td", { class: "num", text: number(a.open) }),
      el("td", { class: "num", text: a.cases == null ? "—" : number(a.cases) }),
      el("td", { class: "num bar-cell" }, bar, ratio),
      el("td", { class: "num", text: number(a.raised) }),
      el("td", { class: "num", text: number(a.closed) }));
    const open = () => filterByAgency(a.agency_id);
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (event) => rowKeys(event, tr, open));
    return tr;
  }));
}

function filterByAgency(id) {
  if (id == null) return;
  const select = $("#filter-agency");
  select.value = String(id);
  $("#filter-state").value = "active";
  showView("flags");
  loadFlags().catch(boardError);
  $("#flag-filters").scrollIntoView({ block: "start" });
}

// -- rules --------------------------------------------------------------------------------

function renderRules() {
  const editable = mayEvaluate();
  $("#rules-empty").hidden = rules.length > 0;
  $("#rule-rows").replaceChildren(...rules.map((r) => ruleRow(r, editable)));
}

function paramInput(rule, name, value, editable) {
  const id = `param-${rule.code}-${name}`;
  const label = PARAMS[ui.lang][name] ?? name;
  let input;
  if (typeof value === "boolean") {
    input = el("input", { type: "checkbox", id, name, checked: value });
  } else if (typeof value === "number") {
    input = el("input", { type: "number", id, name, value: String(value), step: "1", inputmode: "numeric" });
  } else if (Array.isArray(value)) {
    input = el("input", { type: "text", id, name, class: "list", value: value.join(", "), title: t("list_hint") });
    input.dataset.list = "true";
  } else {
    input = el("input", { type: "text", id, name, value: value == null ? "" : String(value) });
  }
  input.disabled = !editable;
  input.setAttribute("aria-describedby", `${id}-error`);
  return [el("label", { for: id }, el("span", { text: label }), input), el("span", { class: "field-error error", id: `${id}-error`, role: "alert" })];
}

function ruleRow(r, editable) {
  const params = Object.entries(r.parameters || {});
  const form = el("form", { class: "params", data: { rule: r.code }, novalidate: true },
    params.length ? params.map(([k, v]) => paramInput(r, k, v, editable)) : el("span", { class: "muted", text: t("no_params") }));
  const active = el("input", { type: "checkbox", name: "active", checked: r.active, disabled: !editable, id: `active-${r.code}` });
  const severity = el("select", { name: "severity", disabled: !editable, "aria-label": t("severity") },
    ["high", "medium", "low"].map((s) => el("option", { value: s, text: t(`sev_${s}`), selected: r.severity === s })));
  const save = el("button", { type: "button", class: "primary", text: t("save"), disabled: true, hidden: !editable });
  const status = el("span", { class: "saved", role: "status" });
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const changed = () => {
    save.disabled = false;
    status.textContent = "";
  };
  form.addEventListener("input", changed);
  active.addEventListener("change", changed);
  severity.addEventListener("change", changed);
  form.addEventListener("submit", (event) => event.preventDefault());
  save.addEventListener("click", () => saveRule(r, form, active, severity, save, status, error));
  const last = r.evaluated_at
    ? [el("div", { text: formatAt(r.evaluated_at) }), el("div", { class: "muted", text: t("run_figures", { hits: number(r.last_hits ?? 0), ms: number(r.last_ms ?? 0) }) })]
    : el("span", { class: "muted", text: t("never_run") });
  return el("tr", { data: { rule: r.code, active: String(r.active) } },
    el("td", {}, el("div", { class: "rule-title", text: r.title }), el("code", { text: r.code }),
      r.description ? el("p", { class: "description", text: r.description }) : null,
      el("details", { class: "legal" }, el("summary", { text: t("rule_basis") }), el("p", { text: r.legal_source }))),
    el("td", { text: t(`k_${r.kind}`) !== `k_${r.kind}` ? t(`k_${r.kind}`) : r.kind }),
    el("td", {}, severity),
    el("td", {}, form),
    el("td", {}, el("label", { class: "switch", for: `active-${r.code}` }, active, el("span", { text: t("active") }))),
    el("td", { class: "run" }, last),
    el("td", {}, save, status, error, editable ? null : el("span", { class: "muted", text: t("read_only") })));
}

function readParams(rule, form) {
  const values = {};
  for (const [name, old] of Object.entries(rule.parameters || {})) {
    const input = form.elements[name];
    if (!input) continue;
    if (typeof old === "boolean") values[name] = input.checked;
    else if (typeof old === "number") values[name] = input.value === "" ? null : Number(input.value);
    else if (Array.isArray(old)) values[name] = input.value.split(/[,，、\s]+/).map((v) => v.trim()).filter(Boolean);
    else values[name] = input.value;
  }
  return values;
}

async function saveRule(rule, form, active, severity, save, status, error) {
  for (const box of form.querySelectorAll(".field-error")) box.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  error.hidden = true;
  save.disabled = true;
  try {
    const updated = await api(`/enforcement/supervision/rules/${encodeURIComponent(rule.code)}`, {
      method: "PATCH", json: { parameters: readParams(rule, form), active: active.checked, severity: severity.value },
    });
    rules = rules.map((r) => (r.code === updated.code ? updated : r));
    renderRules();
    const row = $(`#rule-rows tr[data-rule="${CSS.escape(updated.code)}"]`);
    row.querySelector(".saved").textContent = t("saved");
    renderFilters();
  } catch (exc) {
    save.disabled = false;
    let placed = false;
    for (const problem of exc.problem?.errors || []) {
      const name = problem.path.replace(/^parameters\./, "").split(".")[0];
      const input = form.elements[name];
      if (!input || !problem.path.startsWith("parameters")) continue;
      input.setAttribute("aria-invalid", "true");
      form.querySelector(`#${CSS.escape(`param-${rule.code}-${name}-error`)}`).textContent = problem.message;
      placed = true;
    }
    if (!placed) showError(error, exc);
  }
}

// -- evaluation ---------------------------------------------------------------------------

async function evaluateNow() {
  const button = $("#evaluate");
  button.disabled = true;
  button.textContent = t("evaluating");
  $("#board-error").hidden = true;
  try {
    const result = await api("/enforcement/supervision/evaluate", { method: "POST" });
    // The first evaluation loads the shipped rules: read them before naming them.
    await loadRules();
    renderEvaluation(result);
    renderFilters();
    if (view === "rules") renderRules();
    await Promise.all([loadFlags({ keepOffset: true }), countOpen()]);
    if (view === "trends") await loadTrends();
    if (chosen) await chooseFlag(chosen.id, { keepNotice: true });
  } catch (exc) {
    boardError(exc);
  } finally {
    button.disabled = false;
    button.textContent = t("evaluate");
  }
}

let lastEvaluation = null;

function renderEvaluation(result = lastEvaluation) {
  lastEvaluation = result;
  const box = $("#evaluation");
  box.hidden = !result;
  if (!result) return;
  const hits = result.rules.reduce((sum, r) => sum + r.hits, 0);
  $("#evaluation-summary").textContent = t("evaluation_summary", {
    rules: number(result.rules.length), seconds: number(result.seconds, 3), hits: number(hits),
  });
  box.dataset.seconds = String(result.seconds);
  // Each rule as a chip: its hits, what changed and its time; the rules that hit first.
  const ordered = [...result.rules].sort((a, b) => Number(b.hits > 0) - Number(a.hits > 0));
  $("#evaluation-rules").replaceChildren(...ordered.map((r) => {
    const changes = [
      r.raised ? `${t("raised")} ${number(r.raised)}` : "",
      r.raised_again ? `${t("raised_again")} ${number(r.raised_again)}` : "",
      r.cleared ? `${t("cleared")} ${number(r.cleared)}` : "",
    ].filter(Boolean).join(" · ");
    return el("li", { class: `chip${r.hits ? " hit" : ""}`, data: { rule: r.code, hits: String(r.hits) } },
      el("strong", { class: "hits", text: number(r.hits) }), " ", ruleTitle(r.code),
      el("span", { class: "muted", text: ` · ${changes ? `${changes} · ` : ""}${t("ms_value", { ms: number(r.seconds * 1000, 0) })}` }));
  }));
}

// -- complaints ---------------------------------------------------------------------------

const COMPLAINT_STATES = ["received", "handling", "answered"];

async function probeComplaints() {
  try {
    const page = await api("/enforcement/complaints?state=received&limit=1");
    complaints = { items: [], total: 0 };
    $("#tab-complaints").hidden = false;
    $("#complaint-count").textContent = page.total ? number(page.total) : "";
  } catch {
    complaints = null;
    $("#tab-complaints").hidden = true;
  }
  const select = $("#complaint-state");
  const keep = select.value;
  select.replaceChildren(option("", t("all_states")), ...COMPLAINT_STATES.map((s) => option(s, t(`cs_${s}`))));
  select.value = keep;
}

async function loadComplaints() {
  const state = $("#complaint-state").value;
  const q = new URLSearchParams({ limit: "200" });
  if (state) q.set("state", state);
  complaints = await api(`/enforcement/complaints?${q}`);
  renderComplaints();
}

function renderComplaints() {
  const items = complaints?.items || [];
  $("#complaints-empty").hidden = items.length > 0;
  $("#complaint-rows").replaceChildren(...items.map((c) => {
    const tr = el("tr", { tabindex: "0", class: chosenComplaint?.id === c.id ? "open" : null, data: { complaintId: String(c.id), state: c.state } },
      el("td", { class: "number", text: c.ticket }),
      el("td", { text: formatAt(c.created_at) }),
      el("td", { text: c.agency?.name || "—" }),
      el("td", { class: "clamp", text: c.what }),
      el("td", {}, el("span", { class: `state-badge c-${c.state}`, text: t(`cs_${c.state}`) })));
    const open = () => chooseComplaint(c.id).catch(boardError);
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (event) => rowKeys(event, tr, open));
    return tr;
  }));
}

async function chooseComplaint(id) {
  chosenComplaint = await api(`/enforcement/complaints/${id}`);
  renderComplaint();
  renderComplaints();
}

function renderComplaint() {
  const c = chosenComplaint;
  $("#no-complaint").hidden = Boolean(c);
  const box = $("#complaint");
  box.hidden = !c;
  if (!c) return;
  const facts = el("dl", { class: "facts" });
  addFact(facts, "state", t(`cs_${c.state}`));
  addFact(facts, "received", formatAt(c.created_at));
  addFact(facts, "agency", c.agency?.name);
  addFact(facts, "officer", c.officer ? `${c.officer.name}（${c.officer.agency_name}）` : c.officer_name);
  if (c.certificate_number) {
    addFact(facts, "certificate", `${c.certificate_number} · ${t(c.certificate_found ? "certificate_found" : "certificate_missing")}`);
  }
  addFact(facts, "happened_at", formatAt(c.happened_at));
  addFact(facts, "place", c.place);
  addFact(facts, "complainant", c.name || t("anonymous"));
  if (c.phone) addFact(facts, "phone", `${c.phone}${c.phone_verified ? ` · ${t("phone_verified")}` : ""}`);
  if (c.handler_name) addFact(facts, "handler", `${c.handler_name} · ${formatAt(c.taken_at)}`);
  if (c.flag_id) addFact(facts, "flag", `#${c.flag_id}`);
  const photos = el("div", { class: "evidence" });
  for (const [n] of (c.photos || []).entries()) {
    blobUrl(`/api/v1/enforcement/complaints/${c.id}/photos/${n}`).then((url) => {
      photos.append(el("img", { src: url, alt: `${t("photos")} ${n + 1}` }));
    }).catch(() => {});
  }
  const parts = [
    el("header", { class: "detail-head" }, el("h2", { text: c.ticket }), el("span", { class: `state-badge c-${c.state}`, text: t(`cs_${c.state}`) })),
    el("p", { class: "what message", text: c.what }), facts, photos,
  ];
  if (c.answer) {
    parts.push(el("h3", { text: t("complaint_answer") }), el("p", { class: "what", text: c.answer }),
      el("p", { class: "muted answered-by", text: `${c.answered_by_name || ""} · ${formatAt(c.answered_at)}` }));
  }
  const error = el("p", { class: "error", role: "alert", hidden: true });
  if (c.state === "received") {
    parts.push(el("div", { class: "case-actions" }, el("button", {
      type: "button", class: "primary", text: t("take"),
      onclick: async (event) => {
        event.target.disabled = true;
        try {
          chosenComplaint = await api(`/enforcement/complaints/${c.id}/take`, { method: "POST" });
          renderComplaint();
          await loadComplaints();
          await probeComplaints();
        } catch (exc) {
          showError(error, exc);
          event.target.disabled = false;
        }
      },
    })));
  }
  if (c.state === "handling") {
    const area = el("textarea", { id: "complaint-answer", name: "answer", rows: "4", maxlength: "2000", required: true, "aria-describedby": "complaint-answer-error" });
    const fieldBox = el("span", { class: "field-error error", id: "complaint-answer-error", role: "alert" });
    const form = el("form", { class: "card answer-form", novalidate: true },
      el("h3", { text: t("answer_complaint") }), el("p", { class: "muted", text: t("answer_hint") }),
      el("label", { for: "complaint-answer" }, el("span", { text: t("answer_text") }), area, fieldBox),
      el("div", { class: "case-actions" }, el("button", { type: "submit", class: "primary", text: t("confirm") })));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      fieldBox.textContent = "";
      area.removeAttribute("aria-invalid");
      if (!area.value.trim()) return fieldError(area, fieldBox, t("need_answer"));
      try {
        chosenComplaint = await api(`/enforcement/complaints/${c.id}/answer`, { method: "POST", json: { answer: area.value.trim() } });
        renderComplaint();
        await loadComplaints();
      } catch (exc) {
        const problem = (exc.problem?.errors || []).find((p) => p.path === "answer");
        if (problem) fieldError(area, fieldBox, problem.message);
        else showError(error, exc);
      }
    });
    parts.push(form);
  }
  parts.push(error);
  box.replaceChildren(...parts);
}

// -- views and wiring ---------------------------------------------------------------------

const DEFAULT_FILTERS = { state: "active", rule: "", agency: "", street: "", since: "", until: "", mine: false };

function showView(name) {
  view = name;
  for (const tab of document.querySelectorAll(".tabs [role=tab]")) {
    const current = tab.dataset.view === name;
    tab.setAttribute("aria-selected", String(current));
    tab.tabIndex = current ? 0 : -1;
  }
  for (const pane of document.querySelectorAll("#board > .view")) pane.hidden = pane.id !== `view-${name}`;
  if (!me) return;
  if (name === "trends") loadTrends().catch(boardError);
  if (name === "rules") renderRules();
  if (name === "complaints") loadComplaints().catch(boardError);
  const hash = name === "flags" ? (chosen ? `#flag/${chosen.id}` : "") : `#${name}`;
  history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
}

// The address names a view (#trends, #rules, #complaints) or a flag (#flag/12), so that a
// flag can be linked to and a reload comes back to where one was.
let askedFlag = null;
function readHash() {
  const hash = location.hash.slice(1);
  const flag = /^flag\/(\d+)$/.exec(hash);
  if (flag) askedFlag = Number(flag[1]);
  else if (["trends", "rules", "complaints"].includes(hash)) view = hash;
}

function applyText() {
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  $("#lang").textContent = t("lang");
  document.title = `${t("title")} · cityops`;
  if (!me || $("#board").hidden) return;
  renderFilters();
  renderFlags();
  if (chosen) {
    renderFlag();
    renderSubject();
  }
  renderEvaluation();
  if (view === "trends" && trend) {
    drawTrend();
    renderAgencies();
  }
  if (view === "rules") renderRules();
  if (view === "complaints") {
    probeComplaints();
    renderComplaints();
    renderComplaint();
  }
  const last = rules.map((r) => r.evaluated_at).filter(Boolean).sort().pop();
  $("#evaluated").textContent = last ? t("evaluated_at", { at: formatAt(last) }) : "";
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const ok = await logIn(new FormData(event.target));
  $("#login-error").textContent = t("bad_login");
  $("#login-error").hidden = ok;
  if (ok) await start();
});
$("#logout").addEventListener("click", showLogin);
$("#refused-logout").addEventListener("click", showLogin);
$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
$("#flag-filters").addEventListener("submit", (event) => event.preventDefault());
$("#flag-filters").addEventListener("change", () => loadFlags().catch(boardError));
$("#flag-filters").addEventListener("reset", () => setTimeout(() => loadFlags().catch(boardError)));
$("#prev-page").addEventListener("click", async () => {
  offset = Math.max(0, offset - PAGE);
  await loadBusinesses(flags.slice(offset, offset + PAGE));
  renderFlags();
});
$("#next-page").addEventListener("click", async () => {
  offset += PAGE;
  await loadBusinesses(flags.slice(offset, offset + PAGE));
  renderFlags();
});
$("#action-form").addEventListener("submit", (event) => { submitAction(event).catch(boardError); });
$("#action-cancel").addEventListener("click", () => {
  acting = null;
  renderActions();
});
$("#evaluate").addEventListener("click", () => evaluateNow());
$("#evaluation-close").addEventListener("click", () => renderEvaluation(null));
$("#trend-filters").addEventListener("submit", (event) => event.preventDefault());
$("#trend-filters").addEventListener("change", () => loadTrends().catch(boardError));
$("#complaint-filters").addEventListener("change", () => loadComplaints().catch(boardError));
$("#complaint-filters").addEventListener("submit", (event) => event.preventDefault());
const tabs = [...document.querySelectorAll(".tabs [role=tab]")];
for (const tab of tabs) {
  tab.addEventListener("click", () => showView(tab.dataset.view));
  // Arrow keys move between the tabs, as a tab list does.
  tab.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const shown = tabs.filter((x) => !x.hidden);
    const next = shown[(shown.indexOf(tab) + (event.key === "ArrowRight" ? 1 : shown.length - 1)) % shown.length];
    next.focus();
    showView(next.dataset.view);
  });
}
window.addEventListener("resize", () => chart?.resize());
readHash();
showView(view);
applyText();
if (token.get()) start();
else showLogin();

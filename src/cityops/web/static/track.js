// The residents' tracking page: a ticket's status in plain words, its progress, the centre's
// answer, and the resident's rating once the case is closed. No account: the ticket is the key.

import { ApiError, api, formatTime, words } from "./common.js";
import { myTickets, remember, ticketItems } from "./tickets.js";

const TEXT = {
  zh: {
    title: "诉求进度", report: "我要反映", lang: "English", ticket: "诉求编号", look_up: "查询",
    not_found: "没有找到这个编号的诉求，请核对后重试", offline: "网络不通，请稍后再试",
    open: "办理中", closed: "已办结", category: "问题类别", unsure: "待中心分类",
    reported_at: "反映时间", place: "位置", description: "问题描述", answer: "中心答复",
    progress: "办理进度", no_notes: "暂无进展", joined: "同一问题已有他人反映，已合并办理。",
    rate: "您对办理结果满意吗？", satisfied: "满意", basically_satisfied: "基本满意",
    dissatisfied: "不满意", comment: "意见（可选）", send_rating: "提交评价", sending: "提交中…",
    need_rating: "请选择一项评价", your_rating: "您的评价",
    reopened: "您的不满意评价已收到，诉求已重新交办处理。", mine: "我的诉求", photo: "现场照片 {n}",
    cannot_rate: "此诉求现在不能评价（已评价或仍在办理中）",
  },
  en: {
    title: "Track a report", report: "Report a problem", lang: "中文", ticket: "Ticket",
    look_up: "Look up", not_found: "No report has this ticket; check it and try again",
    offline: "No connection; try again later", open: "In progress", closed: "Closed",
    category: "Category", unsure: "To be classified by the centre", reported_at: "Reported",
    place: "Where", description: "Description", answer: "The centre's answer",
    progress: "Progress", no_notes: "Nothing yet", joined: "Others reported the same problem; it is handled as one.",
    rate: "Are you satisfied with the result?", satisfied: "Satisfied",
    basically_satisfied: "Mostly satisfied", dissatisfied: "Not satisfied",
    comment: "Comment (optional)", send_rating: "Send rating", sending: "Sending…",
    need_rating: "Choose one", your_rating: "Your rating",
    reopened: "Thank you: as you are not satisfied, the case has been reopened.", mine: "My reports",
    photo: "Photo {n}", cannot_rate: "This report cannot be rated now (rated already, or in progress)",
  },
};

const ui = words(TEXT);
const $ = (selector, root = document) => root.querySelector(selector);
const t = (key, values = {}) => ui.t(key).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");

let current = null; // the ticket shown, as the API answered it

function applyText() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  $("#lang").textContent = t("lang");
  if (current) render(current);
  renderMine();
}

// A ticket as typed: the API ignores case, spaces and dashes, the page only trims it.
async function lookUp(ticket) {
  const error = $("#lookup-error");
  error.hidden = true;
  try {
    const answer = await api(`/public/tickets/${encodeURIComponent(ticket)}`);
    show(answer);
  } catch (exc) {
    current = null;
    $("#result").hidden = true;
    error.textContent = exc instanceof ApiError && exc.status === 404 ? t("not_found")
      : exc instanceof ApiError ? exc.message : t("offline");
    error.hidden = false;
  }
}

function show(answer) {
  current = answer;
  $("#ticket-input").value = answer.ticket;
  // The address bar holds the ticket, so that a reload or a shared link shows the same case.
  history.replaceState(null, "", `/report/track?ticket=${encodeURIComponent(answer.ticket)}`);
  remember(answer.ticket, answer.service_name, answer.requested_at);
  render(answer);
  renderMine();
}

function render(x) {
  $("#result").hidden = false;
  $("#r-ticket").textContent = x.ticket;
  const status = $("#r-status");
  status.textContent = t(x.status === "closed" ? "closed" : "open");
  status.className = `badge ${x.status === "closed" ? "closed" : "open"}`;
  $("#r-note").textContent = x.status_note || "";
  $("#r-joined").hidden = !x.joined;
  $("#r-category").textContent = x.service_name || t("unsure");
  $("#r-at").textContent = formatTime(x.requested_at, ui.lang);
  $("#r-place").textContent = x.address || `${Number(x.lon).toFixed(5)}, ${Number(x.lat).toFixed(5)}`;
  $("#r-description").textContent = x.description || "";

  $("#r-photos").replaceChildren(...(x.photos || []).map((p, i) => {
    const img = document.createElement("img");
    img.src = p.url;
    img.alt = t("photo", { n: i + 1 });
    img.loading = "lazy";
    return img;
  }));

  $("#r-answer-box").hidden = !x.answer;
  $("#r-answer").textContent = x.answer || "";

  const notes = x.notes || [];
  const items = notes.map((n) => {
    const li = document.createElement("li");
    const at = document.createElement("time");
    at.dateTime = n.at;
    at.textContent = formatTime(n.at, ui.lang);
    const text = document.createElement("p");
    text.textContent = n.text;
    li.append(at, text);
    return li;
  });
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = t("no_notes");
    items.push(li);
  }
  // Newest first: the latest news is what the resident came for.
  $("#r-notes").replaceChildren(...items.reverse());

  const rated = x.rating;
  $("#r-rating").hidden = !rated;
  if (rated) {
    $("#r-rating-value").textContent = t(rated.rating);
    $("#r-rating-at").textContent = formatTime(rated.at, ui.lang);
    $("#r-rating-comment").textContent = rated.comment || "";
  }
  // A dissatisfied rating sends the case back to the call-taker: say so while it is open again.
  $("#r-reopened").hidden = !(rated?.rating === "dissatisfied" && x.status !== "closed");
  $("#rate").hidden = !x.can_rate;
}

// -- rating -------------------------------------------------------------------------------

function fieldError(field, message) {
  const box = document.querySelector(`#rate [data-error-for="${field}"]`) || $("#rate-error");
  box.textContent = message;
  box.hidden = false;
}

async function rate(event) {
  event.preventDefault();
  for (const box of document.querySelectorAll("#rate .error, #rate-refused")) box.hidden = true;
  const form = new FormData(event.target);
  const rating = form.get("rating");
  if (!rating) return fieldError("rating", t("need_rating"));
  const button = event.target.querySelector("button[type=submit]");
  button.disabled = true;
  button.textContent = t("sending");
  try {
    const answer = await api(`/public/tickets/${encodeURIComponent(current.ticket)}/rating`, {
      method: "POST", json: { rating, comment: String(form.get("comment") || "").trim() },
    });
    event.target.reset();
    show(answer);
  } catch (exc) {
    if (!(exc instanceof ApiError)) {
      fieldError("form", t("offline"));
    } else if (exc.status === 409) {
      // Rated meanwhile (on another phone), or reopened: show the case as it now stands.
      await lookUp(current.ticket);
      const refused = $("#rate-refused");
      refused.textContent = t("cannot_rate");
      refused.hidden = false;
    } else if (exc.problem.errors?.length) {
      for (const e of exc.problem.errors) fieldError(String(e.path || "").split(".")[0], e.message);
    } else {
      fieldError("form", exc.message);
    }
  } finally {
    button.disabled = false;
    button.textContent = t("send_rating");
  }
}

// -- my reports (shared with the report page through localStorage) ---------------------------

function renderMine() {
  const list = myTickets().filter((x) => x.ticket !== current?.ticket);
  $("#mine").hidden = list.length === 0;
  $("#my-tickets").replaceChildren(...ticketItems(list, ui.lang, lookUp));
}

$("#lang").addEventListener("click", () => { ui.toggle(); applyText(); });
$("#lookup").addEventListener("submit", (event) => {
  event.preventDefault();
  const ticket = $("#ticket-input").value.trim();
  if (ticket) lookUp(ticket);
});
$("#rate").addEventListener("submit", rate);
applyText();
const asked = new URLSearchParams(location.search).get("ticket");
if (asked) {
  $("#ticket-input").value = asked;
  lookUp(asked.trim());
}

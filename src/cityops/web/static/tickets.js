// The tickets this phone has sent or looked up, kept in localStorage so that a resident
// need not write them down: shared by the report page and the tracking page.

import { formatTime, store } from "./common.js";

const TICKETS = "cityops.tickets";
const KEPT_TICKETS = 20;

export function myTickets() {
  try {
    return JSON.parse(store.getItem(TICKETS) || "[]");
  } catch {
    return [];
  }
}

// A known ticket keeps its place in the list (with what is new of it); a new one goes on top.
export function remember(ticket, serviceName, at) {
  const list = myTickets();
  const known = list.find((e) => e.ticket === ticket);
  const entry = { ticket, service_name: serviceName, at: at || known?.at || new Date().toISOString() };
  const kept = known ? list.map((e) => (e.ticket === ticket ? entry : e)) : [entry, ...list];
  store.setItem(TICKETS, JSON.stringify(kept.slice(0, KEPT_TICKETS)));
}

// The list items of `list`, each a link to its tracking page; `onOpen(ticket)`, when
// given, opens it in place instead.
export function ticketItems(list, lang, onOpen = null) {
  return list.map((x) => {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/report/track?ticket=${encodeURIComponent(x.ticket)}`;
    if (onOpen) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        onOpen(x.ticket);
      });
    }
    const ticket = document.createElement("strong");
    ticket.textContent = x.ticket;
    const what = document.createElement("span");
    what.className = "muted";
    what.textContent = [x.service_name, formatTime(x.at, lang)].filter(Boolean).join(" · ");
    link.append(ticket, what);
    li.append(link);
    return li;
  });
}

// Service Hub interim page: log in, a read-only inbox and ticket detail over /api/v1.
// No build step and no framework. User data is only ever written with textContent.
"use strict";

const API = "/api/v1";
const PAGE_SIZE = 25;
const state = { csrf: null, me: null, q: "", cursor: null, nextCursor: null };
const $ = (id) => document.getElementById(id);
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const WORDS = { vip: "VIP", on_hold: "On hold", back_office: "Back office" };

class ApiError extends Error {
  constructor(status, problem) {
    super(problemText(problem, status));
    this.status = status;
  }
}

// A problem+json body as one sentence: its detail, then any field errors.
function problemText(problem, status) {
  const parts = [problem && problem.detail ? problem.detail : `The server answered ${status}.`];
  const walk = (errors, path) => {
    if (Array.isArray(errors)) parts.push(`${path.join(".") || "request"}: ${errors.join(" ")}`);
    else if (errors && typeof errors === "object") {
      // webargs keys field errors by location ("json", "query"); that level is noise for a person.
      for (const [key, value] of Object.entries(errors)) walk(value, ["json", "query"].includes(key) && !path.length ? path : [...path, key]);
    }
  };
  if (problem && problem.errors) walk(problem.errors, []);
  return parts.join(" ");
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = state.csrf || "";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // 204 (logout) still says application/json, so parse only a body that is there.
  const text = await response.text();
  const type = response.headers.get("Content-Type") || "";
  const data = text && type.includes("json") ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// ---- views -------------------------------------------------------------------------------------

function show(view) {
  for (const id of ["login-view", "inbox-view", "detail-view"]) $(id).hidden = id !== view;
  $("session").hidden = view === "login-view";
}

function announce(text) {
  $("status").textContent = text;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function formatTime(iso, format = dateFormat) {
  return iso ? format.format(new Date(iso)) : "—";
}

// API enum values ("on_hold", "vip") as words for people.
function label(value) {
  if (!value) return "—";
  const text = WORDS[value] || String(value).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Any 401 means the session is gone (expired, logged out elsewhere): back to the login form.
function handleError(error, target) {
  if (error instanceof ApiError && error.status === 401 && state.me) {
    state.me = null;
    showLogin("Your session has ended; please log in again.");
    return;
  }
  $(target).textContent = errorText(error);
}

function announceError(error) {
  $($("detail-view").hidden ? "inbox-error" : "detail-error").textContent = errorText(error);
}

function errorText(error) {
  return error instanceof ApiError ? error.message : "Could not reach the server; check your connection and try again.";
}

// ---- login and logout --------------------------------------------------------------------------

function showLogin(message) {
  state.csrf = null;
  show("login-view");
  $("login-error").textContent = message || "";
  $("email").focus();
}

function startSession(me) {
  Object.assign(state, { me, csrf: me.csrf_token, q: "", cursor: null, nextCursor: null });
  $("search").value = "";
  $("whoami").textContent = `${me.name} (${label(me.role).toLowerCase()})`;
  route();
}

async function login(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const submit = form.querySelector("button[type=submit]");
  $("login-error").textContent = "";
  if (!form.reportValidity()) return;
  submit.disabled = true;
  try {
    state.csrf = (await api("GET", "/auth/csrf")).csrf_token;
    const me = await api("POST", "/auth/login", { email: $("email").value.trim(), password: $("password").value });
    $("password").value = "";
    startSession(me);
  } catch (error) {
    handleError(error, "login-error");
  } finally {
    submit.disabled = false;
  }
}

async function logout() {
  try {
    await api("POST", "/auth/logout");
  } catch (error) {
    // Already logged out (401) is fine; anything else is said where the user is looking.
    if (!(error instanceof ApiError && error.status === 401)) return announceError(error);
  }
  state.me = null;
  history.replaceState(null, "", location.pathname);
  showLogin("You are logged out.");
}

// ---- inbox -------------------------------------------------------------------------------------

async function loadInbox(cursor) {
  const params = new URLSearchParams({ status: "active", sort: "priority", limit: String(PAGE_SIZE) });
  if (state.q) params.set("q", state.q);
  if (cursor) params.set("cursor", cursor);
  const table = $("tickets");
  table.setAttribute("aria-busy", "true");
  $("inbox-error").textContent = "";
  try {
    const page = await api("GET", `/tickets?${params}`);
    state.cursor = cursor || null;
    state.nextCursor = page.next_cursor;
    renderRows(page.items);
    $("next-page").disabled = !page.next_cursor;
    $("first-page").disabled = !state.cursor;
    const what = page.items.length === 1 ? "1 ticket" : `${page.items.length} tickets`;
    const count = state.q ? `${what} matching “${state.q}” on this page` : `${what} on this page`;
    $("inbox-count").textContent = count + (page.next_cursor ? "; more on the next." : ".");
    announce($("inbox-count").textContent);
  } catch (error) {
    handleError(error, "inbox-error");
  } finally {
    table.removeAttribute("aria-busy");
  }
}

function renderRows(items) {
  const body = $("ticket-rows");
  body.replaceChildren();
  if (!items.length) {
    const cell = el("td", state.q ? "No open ticket matches this search." : "No open tickets. Enjoy the quiet.", "empty");
    cell.colSpan = 9;
    const row = el("tr");
    row.append(cell);
    body.append(row);
    return;
  }
  const now = Date.now();
  for (const ticket of items) {
    const row = el("tr");
    row.dataset.id = ticket.id;
    const link = el("a", ticket.subject);
    link.href = `#ticket/${ticket.id}`;
    const subject = el("td");
    subject.append(link);
    const due = el("td", formatTime(ticket.next_due_at, shortDateFormat), "due");
    if (ticket.next_due_at && Date.parse(ticket.next_due_at) < now) {
      due.classList.add("overdue");
      due.append(el("span", " (overdue)"));
    }
    row.append(
      el("td", ticket.number),
      subject,
      el("td", label(ticket.status), `badge status-${ticket.status}`),
      el("td", label(ticket.priority), `badge priority-${ticket.priority}`),
      el("td", label(ticket.tier), `tier-${ticket.tier}`),
      el("td", ticket.customer ? ticket.customer.name : "—"),
      el("td", ticket.department ? ticket.department.name : "—"),
      el("td", ticket.assignee ? ticket.assignee.name : "Unassigned"),
      due,
    );
    body.append(row);
  }
}

// A click anywhere on a row opens it; the subject link is the keyboard and screen-reader path.
function openRow(event) {
  const row = event.target.closest("tr[data-id]");
  if (row && !event.target.closest("a")) location.hash = `#ticket/${row.dataset.id}`;
}

// ---- ticket detail -----------------------------------------------------------------------------

const DIRECTION = { inbound: "From the customer", outbound: "Reply", note: "Internal note" };

async function loadTicket(id) {
  show("detail-view");
  $("detail-title").textContent = "Loading…";
  $("detail-error").textContent = "";
  $("detail-facts").replaceChildren();
  $("messages").replaceChildren();
  try {
    const ticket = await api("GET", `/tickets/${encodeURIComponent(id)}`);
    $("detail-title").textContent = `#${ticket.number} ${ticket.subject}`;
    const facts = [
      ["Status", label(ticket.status)],
      ["Priority", label(ticket.priority)],
      ["Channel", label(ticket.channel)],
      ["Customer", ticket.customer ? `${ticket.customer.name} (${label(ticket.tier)})` : "—"],
      ["Department", ticket.department ? ticket.department.name : "—"],
      ["Assignee", ticket.assignee ? ticket.assignee.name : "Unassigned"],
      ["Opened", formatTime(ticket.created_at)],
      ["First response due", formatTime(ticket.first_response_due_at)],
      ["Resolution due", formatTime(ticket.resolution_due_at)],
      ["Tags", ticket.tags && ticket.tags.length ? ticket.tags.join(", ") : "—"],
    ];
    for (const [term, value] of facts) $("detail-facts").append(el("dt", term), el("dd", value));
    renderMessages(ticket.messages || []);
    announce(`Ticket #${ticket.number} opened.`);
  } catch (error) {
    $("detail-title").textContent = "Ticket not available";
    handleError(error, "detail-error");
  }
  $("detail-title").focus();
}

function renderMessages(messages) {
  const list = $("messages");
  if (!messages.length) list.append(el("li", "No messages yet.", "empty"));
  for (const message of messages) {
    const item = el("li", null, `message ${message.direction}`);
    const who = message.author_agent ? ` · ${message.author_agent.name}` : "";
    const meta = el("p", `${DIRECTION[message.direction] || label(message.direction)}${who} · ${label(message.channel)} · `, "meta");
    const time = el("time", formatTime(message.created_at));
    time.dateTime = message.created_at;
    meta.append(time);
    if (message.delivery_status === "failed") meta.append(el("span", ` · not delivered: ${message.delivery_error || "unknown error"}`, "error"));
    const body = el("p", message.body_text || "(no text)", "body");
    item.append(meta, body);
    for (const file of message.attachments || []) {
      const link = el("a", `${file.filename} (${Math.ceil(file.size / 1024)} KB)`, "attachment");
      link.href = file.download_url;
      item.append(link);
    }
    list.append(item);
  }
}

// ---- routing: "#ticket/<id>" is a ticket, anything else the inbox; the browser's Back works ----

function route() {
  if (!state.me) return;
  const match = /^#ticket\/(\d+)$/.exec(location.hash);
  if (match) return loadTicket(match[1]);
  show("inbox-view");
  loadInbox(state.cursor);
}

async function start() {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.q = $("search").value.trim();
    loadInbox(null);
  });
  $("next-page").addEventListener("click", () => loadInbox(state.nextCursor));
  $("first-page").addEventListener("click", () => loadInbox(null));
  $("ticket-rows").addEventListener("click", openRow);
  $("back").addEventListener("click", () => {
    location.hash = "";
  });
  window.addEventListener("hashchange", route);
  try {
    startSession(await api("GET", "/me"));
  } catch (error) {
    showLogin(error instanceof ApiError && error.status === 401 ? "" : errorText(error));
  }
}

document.addEventListener("DOMContentLoaded", start);

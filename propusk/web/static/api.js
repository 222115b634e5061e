// Shared by Propusk's pages: fetch with the login cookie and, for every state change, the login
// session's CSRF token (the page's <meta name="csrf-token">; see idp/oidc/csrf.py); dates in
// Moscow time (152-FZ deadlines are counted in it, whatever the visitor's clock says); the
// Russian text of a failed answer, from the one catalogue of messages (propusk/messages).
"use strict";

const PROPUSK_CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";

// The catalogue (GET /api/v1/messages, cached by the browser) is asked for once, as the page
// starts. propuskFetch hands back a failed answer only once the catalogue is here (or could not
// be had), so propuskProblemText can look the answer up synchronously; other code may
// `await propuskLoadMessages()` before using propuskCheckText / propuskReasonText.
let PROPUSK_MESSAGES = null;
const PROPUSK_MESSAGES_READY = fetch("/api/v1/messages", { credentials: "same-origin" })
  .then((r) => (r.ok ? r.json() : null))
  .catch(() => null)
  .then((m) => { PROPUSK_MESSAGES = m; return m; });

function propuskLoadMessages() {
  return PROPUSK_MESSAGES_READY;
}

async function propuskFetch(path, options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const headers = { ...(options.headers || {}) };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = PROPUSK_CSRF;
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  if (!response.ok) await PROPUSK_MESSAGES_READY;
  return response;
}

const PROPUSK_ZONE = "Europe/Moscow";

// «05.12.2026, 14:30 МСК» — an instant, in Moscow time.
function propuskDateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("ru-RU", {
    timeZone: PROPUSK_ZONE, day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit",
  }) + " МСК";
}

// «05.12.2026» — the Moscow date of an instant, or a date ("2026-12-05") as it is.
function propuskDate(value) {
  if (!value) return "—";
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split("-");
    return `${d}.${m}.${y}`;
  }
  return new Date(value).toLocaleDateString("ru-RU", { timeZone: PROPUSK_ZONE });
}

// A deadline: the last day on which it is still met. A day-granular clock ends at the next
// Moscow midnight (21:00 UTC), so the instant itself names the day after: step back a second.
function propuskDeadline(dueDate, dueAt) {
  if (dueDate) return propuskDate(dueDate);
  if (!dueAt) return "—";
  return propuskDate(new Date(new Date(dueAt).getTime() - 1000).toISOString());
}

// --- messages (the catalogue's sections: problems, statuses, validation, reasons, oauth, checks,
// states, roles, signers)

// Without the catalogue (it could not be loaded) a failure still reads Russian.
const PROPUSK_FALLBACK = "Не удалось выполнить действие. Попробуйте ещё раз позже.";
const PROPUSK_PLACES = new Set(["body", "query", "path", "header", "cookie", "form"]);

// «согласие отозвано» → «Согласие отозвано.»
function propuskSentence(phrase) {
  if (!phrase) return "";
  const text = phrase[0].toUpperCase() + phrase.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function propuskPlural(n, one, few, many) {
  const a = Math.abs(n);
  if (a % 10 === 1 && a % 100 !== 11) return one;
  if (a % 10 >= 2 && a % 10 <= 4 && !(a % 100 >= 12 && a % 100 <= 14)) return few;
  return many;
}

// A template's {name} and {name|one|few|many} slots filled; null if a value is missing.
function propuskFill(template, values) {
  let missing = false;
  const text = template.replace(/\{(\w+)(?:\|([^|{}]*)\|([^|{}]*)\|([^|{}]*))?\}/g,
    (_, name, one, few, many) => {
      const value = values[name];
      if (value === undefined || value === null) { missing = true; return ""; }
      if (one === undefined) return String(value);
      return `${value} ${Number.isInteger(value) ? propuskPlural(value, one, few, many) : many}`;
    });
  return missing ? null : text;
}

// The Russian label of the field a validation error's loc points at, or null.
function propuskFieldLabel(loc) {
  const fields = PROPUSK_MESSAGES?.fields || {};
  const names = (loc || []).filter((p) => typeof p === "string" && !PROPUSK_PLACES.has(p));
  if (!names.length) return null;
  const nested = names.length >= 2 ? fields[names.slice(-2).join(".")] : undefined;
  return nested || fields[names[names.length - 1]] || null;
}

// One item of a 422's `errors` ({loc, type, ctx}) as a Russian sentence.
function propuskValidationText(error) {
  const m = PROPUSK_MESSAGES;
  if (!m) return PROPUSK_FALLBACK;
  const ctx = error?.ctx || {};
  let type = error?.type || "";
  if (m.validation_when_one[type] && ctx.min_length === 1) type = m.validation_when_one[type];
  const template = m.validation[type] || m.validation_default;
  const label = propuskFieldLabel(error?.loc);
  const values = { ...ctx, field: label };
  if (label) {
    return propuskFill(template.field, values) || propuskFill(m.validation_default.field, values)
      || m.validation_default.plain;
  }
  return propuskFill(template.plain, values) || m.validation_default.plain;
}

function propuskStatusText(status) {
  const statuses = PROPUSK_MESSAGES?.statuses;
  if (!statuses) return PROPUSK_FALLBACK;
  if (statuses[status]) return statuses[status];
  if (status >= 500 && status < 600) return statuses["503"];
  if (status >= 400 && status < 500) return statuses["400"];
  return PROPUSK_MESSAGES.generic;
}

// Phrases for codes: why the transfer gate refused; a biometric result, flag or reason.
function propuskReasonText(code) {
  return PROPUSK_MESSAGES?.reasons?.[code] || PROPUSK_MESSAGES?.unknown?.reason || "отказано";
}

function propuskCheckText(code) {
  return PROPUSK_MESSAGES?.checks?.[code] || PROPUSK_MESSAGES?.unknown?.check || "проверка не пройдена";
}

// Names of codes an answer carries: a consent's state («действует»), a person's status role
// («ученик»), who signed («законный представитель»). Await propuskLoadMessages() first.
function propuskStateText(code) {
  return PROPUSK_MESSAGES?.states?.[code] || PROPUSK_MESSAGES?.unknown?.state || "состояние неизвестно";
}

function propuskRoleText(code) {
  return PROPUSK_MESSAGES?.roles?.[code] || PROPUSK_MESSAGES?.unknown?.role || "статус";
}

function propuskSignerText(code) {
  return PROPUSK_MESSAGES?.signers?.[code] || PROPUSK_MESSAGES?.unknown?.signer || "подписант";
}

// The Russian text of a failed answer (problem+json or OAuth error body): the problem type's
// sentence (else the status's), one sentence per validation error, and the codes the answer
// carries (a biometric reason, rejected photos, refused categories). Never the English detail.
function propuskProblemText(body, status) {
  const m = PROPUSK_MESSAGES;
  const invalid = Array.isArray(body?.errors) ? body.errors.filter((e) => Array.isArray(e?.loc)) : [];
  if (invalid.length) return [...new Set(invalid.map(propuskValidationText))].join(" ");
  const slug = typeof body?.type === "string" ? body.type.replace(/^.*\/problems\//, "") : "";
  let text = m?.problems?.[slug];
  if (!text && typeof body?.error === "string" && m?.oauth?.[body.error]) {
    text = propuskSentence(m.oauth[body.error]);
  }
  const parts = [text || propuskStatusText(status)];
  if (m && typeof body?.reason === "string" && m.checks[body.reason]) {
    parts.push(propuskSentence(m.checks[body.reason]));
  }
  if (m && Array.isArray(body?.photos)) {
    for (const p of body.photos) {
      if (!Array.isArray(p?.reasons)) continue;
      parts.push(`Фото ${Number(p.photo) + 1}: ${p.reasons.map(propuskCheckText).join("; ")}.`);
    }
  }
  if (m && body?.refused && typeof body.refused === "object" && !Array.isArray(body.refused)) {
    const reasons = [...new Set(Object.values(body.refused))].map(propuskReasonText);
    if (reasons.length) parts.push(propuskSentence(reasons.join("; ")));
  }
  return parts.join(" ");
}

// One element: attributes (on… keys that hold a function become listeners; null/undefined/false
// leave the attribute out) and children (nested arrays flattened; strings become text, never
// HTML). Every page's script builds its DOM with it (CSP: no innerHTML, no inline handlers).
function propuskEl(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

// A JSON call of a page: a 401 sends the visitor to log in and come back to `next` (the page's
// own path by default); a failure throws an Error whose message is the Russian text
// (propuskProblemText) and whose `body` and `status` are the answer's.
async function propuskApi(path, options = {}, next = location.pathname + location.search) {
  const response = await propuskFetch(path, options);
  if (response.status === 401) {
    location.href = `/login?next=${encodeURIComponent(next)}`;
    throw new Error("login");
  }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(propuskProblemText(body, response.status));
    error.body = body;
    error.status = response.status;
    throw error;
  }
  return body;
}

// A JSON body for propuskApi: `propuskApi(url, propuskJson("POST", {...}))`.
function propuskJson(method, value) {
  return { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(value) };
}

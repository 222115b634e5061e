// Shared by Propusk's pages: fetch with the login cookie and, for every state change, the login
// session's CSRF token (the page's <meta name="csrf-token">; see idp/oidc/csrf.py); dates in
// Moscow time (152-FZ deadlines are counted in it, whatever the visitor's clock says); the
// Russian text of a problem answer.
"use strict";

const PROPUSK_CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";

function propuskFetch(path, options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const headers = { ...(options.headers || {}) };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = PROPUSK_CSRF;
  return fetch(path, { credentials: "same-origin", ...options, headers });
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

// The Russian text of a failed answer (problem+json or OAuth error body).
function propuskProblemText(body, status) {
  return body?.detail || body?.title || `Ошибка ${status}`;
}

// Shared by Propusk's pages: fetch with the login cookie and, for every state change, the login
// session's CSRF token (the page's <meta name="csrf-token">; see idp/oidc/csrf.py).
"use strict";

const PROPUSK_CSRF = document.querySelector('meta[name="csrf-token"]')?.content || "";

function propuskFetch(path, options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const headers = { ...(options.headers || {}) };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = PROPUSK_CSRF;
  return fetch(path, { credentials: "same-origin", ...options, headers });
}

// Личный кабинет: all data comes from the JSON API (same origin, login cookie).
"use strict";

const STATES = {
  requested: "ожидает ответа", partially_given: "подписано частично", given: "действует",
  refused: "отказано", withdrawn: "отозвано", revoked: "прекращено оператором",
  suspended: "приостановлено", expired: "истекло",
};
const ROLES = {
  student: "ученик", parent: "родитель", teacher: "учитель", school_admin: "администратор школы",
  proctor: "проктор", operator_staff: "сотрудник оператора", platform_admin: "администратор платформы",
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v); else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}

async function api(path, options = {}) {
  const response = await propuskFetch(path, options);  // static/api.js: cookie + CSRF token
  if (response.status === 401) { location.href = "/login?next=/cabinet"; throw new Error("login"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body?.detail || body?.title || `Ошибка ${response.status}`);
  return body;
}

function date(iso) { return iso ? new Date(iso).toLocaleString("ru-RU") : "—"; }

function table(headers, rows) {
  if (!rows.length) return el("p", { class: "muted" }, "Нет записей.");
  return el("table", {}, el("tr", {}, ...headers.map((h) => el("th", {}, h))),
    ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c)))));
}

let subject = null; // null = self

function query() { return subject ? `?subject=${encodeURIComponent(subject)}` : ""; }

async function act(id, action) {
  try {
    await api(`/api/v1/consents/${id}/${action}`, { method: "POST" });
    await refresh();
  } catch (e) { alert(e.message); }
}

const KINDS = {
  stop_processing: "прекращение обработки", rectification: "уточнение данных",
  access: "запрос сведений", unlawful: "неправомерная обработка",
  destruction_deferred: "уничтожение отложено",
};
const OBLIGATION_STATES = { open: "в работе", answered: "дан ответ", refused: "отказ", closed: "закрыто" };

async function post(path, body) {
  return api(path + query(), {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
}

async function stopProcessing(consentId) {
  const reason = prompt("Причина требования (необязательно):") ?? null;
  try { await post("/api/v1/me/obligations/stop-processing", { consent_id: consentId, reason }); await refresh(); }
  catch (e) { alert(e.message); }
}

async function receipt(id) {
  const r = await api(`/api/v1/consents/${id}/receipt`);
  const blob = new Blob([r.receipt], { type: "application/jose" });
  const a = el("a", { href: URL.createObjectURL(blob), download: `consent-${id}.jws` });
  document.body.append(a); a.click(); a.remove();
}

function consentRow(c, pending) {
  const actions = el("span");
  if (pending) {
    // signing and refusing happen on the document page: the person reads what they answer
    actions.append(el("a", { class: "button", href: `/sign/${c.id}` }, "Открыть и ответить"));
  } else {
    if (["given", "partially_given", "suspended"].includes(c.state)) {
      actions.append(el("button", { onclick: () => act(c.id, "withdraw") }, "Отозвать"), " ");
    }
    if (c.state === "given") {
      actions.append(el("button", { onclick: () => stopProcessing(c.id) }, "Прекратить обработку"), " ");
    }
    actions.append(el("button", { onclick: () => receipt(c.id) }, "Квитанция"));
    for (const s of c.signatures || []) {  // the signed documents (PDF), one per signature
      if (s.document_id) {
        actions.append(" ", el("a", { href: `/api/v1/consents/${c.id}/documents/${s.document_id}.pdf` },
          s.role === "guardian" ? "PDF (представитель)" : "PDF"));
      }
    }
  }
  return [c.purpose, c.categories.join(", "), STATES[c.state] || c.state,
    date(pending ? c.request_expires_at : c.valid_until), actions];
}

async function revokeApp(app) {
  if (!confirm(`Отозвать доступ приложения «${app.name}»? Оно больше не сможет получать ваши данные без нового разрешения.`)) return;
  try {
    await api(`/api/v1/me/applications/${encodeURIComponent(app.client_id)}`, { method: "DELETE" });
    await refreshApps(`Доступ приложения «${app.name}» отозван.`);
  } catch (e) { alert(e.message); }
}

// Moscow time, as every date on Propusk's pages (the deadlines of 152-FZ are counted in it).
function moscow(iso) {
  return iso ? new Date(iso).toLocaleString("ru-RU", {
    timeZone: "Europe/Moscow", day: "2-digit", month: "2-digit", year: "numeric",
    hour: "2-digit", minute: "2-digit",
  }) + " МСК" : "—";
}

// The applications as cards (readable on a phone): what each may do, when, revoke.
async function refreshApps(notice) {
  const apps = await api("/api/v1/me/applications");
  const box = document.getElementById("applications");
  const cards = apps.map((a) => el("div", { class: "card" },
    el("h3", {}, a.name),
    el("ul", {}, ...(a.scope_texts.length ? a.scope_texts : ["только вход"]).map((t) => el("li", {}, t))),
    el("p", { class: "muted" }, `Разрешено: ${moscow(a.updated_at)}`,
      a.last_token_at ? ` · последний доступ: ${moscow(a.last_token_at)}` : ""),
    el("button", { onclick: () => revokeApp(a) }, "Отозвать доступ")));
  box.replaceChildren(...(notice ? [el("p", { class: "notice", role: "status" }, notice)] : []),
    ...(cards.length ? cards : [el("p", { class: "muted" }, "Вы не давали приложениям доступ.")]));
}

async function refresh() {
  const q = query();
  const [requests, consents, transfers, data, obligations] = await Promise.all([
    api(`/api/v1/me/requests${q}`), api(`/api/v1/me/consents${q}`),
    api(`/api/v1/me/transfers${q}`), api(`/api/v1/me/data${q}`), api(`/api/v1/me/obligations${q}`),
  ]);
  document.getElementById("obligations").replaceChildren(table(
    ["Обращение", "Состояние", "Получено", "Срок"],
    obligations.obligations.map((o) => [KINDS[o.kind] || o.kind, OBLIGATION_STATES[o.status] || o.status, date(o.received_at),
      o.clocks.filter((c) => !c.met_at).map((c) => new Date(c.due_at).toLocaleDateString("ru-RU")).join(", ") || "—"])));
  document.getElementById("notices").replaceChildren(...obligations.notices.map((n) =>
    el("p", { class: "notice" }, `${date(n.at)}: ${n.text}`)));
  document.getElementById("requests").replaceChildren(table(
    ["Цель", "Данные", "Состояние", "Ответить до", ""],
    requests.requests.map((c) => consentRow(c, true))));
  document.getElementById("consents").replaceChildren(table(
    ["Цель", "Данные", "Состояние", "Действует до", ""],
    consents.consents.filter((c) => !["requested", "partially_given"].includes(c.state) || c.signatures?.length)
      .map((c) => consentRow(c, false))));
  document.getElementById("transfers").replaceChildren(table(
    ["Когда", "Цель", "Передано", "Отказано", "Основание"],
    transfers.transfers.map((t) => [date(t.at), t.purpose, (t.allowed || []).join(", "),
      Object.keys(t.refused || {}).join(", "), t.legal_basis || "согласие"])));  // category → reason
  document.getElementById("data").replaceChildren(table(
    ["Категория", "Обновлено"], data.data.map((d) => [d.category, date(d.updated_at)])));
}

async function main() {
  const me = await api("/api/v1/me");
  const statuses = me.statuses.map((s) => {
    const text = `${ROLES[s.role] || s.role}${s.school_name ? " — " + s.school_name : ""}${s.class ? ", " + s.class : ""}`;
    return s.role === "school_admin"
      ? el("li", {}, text, " ", el("a", { href: `/school/${s.school_id}` }, "консоль школы"))
      : el("li", {}, text);
  });
  document.getElementById("profile").replaceChildren(
    el("p", {}, el("strong", {}, [me.last_name, me.first_name, me.middle_name].filter(Boolean).join(" "))),
    statuses.length ? el("ul", { class: "statuses" }, ...statuses) : el("p", {}, "Статусов нет"),
  );
  const select = document.getElementById("subject");
  select.append(el("option", { value: "" }, "Мои данные"),
    ...me.children.map((c) => el("option", { value: c.id }, `Ребёнок: ${c.name}`)));
  const announce = () => document.dispatchEvent(new CustomEvent("propusk:subject", { detail: { subject, me } }));
  select.addEventListener("change", () => { subject = select.value || null; refresh(); announce(); });
  announce();
  document.getElementById("rectification-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (id) => document.getElementById(id).value.trim();
    try {
      await post("/api/v1/me/obligations/rectification", {
        categories: value("rect-categories").split(",").map((c) => c.trim()).filter(Boolean),
        correction: value("rect-correction"), proof: value("rect-proof"),
      });
      event.target.reset();
      await refresh();
    } catch (e) { alert(e.message); }
  });
  document.getElementById("access-request").addEventListener("click", async () => {
    try {
      const r = await api(`/api/v1/me/access-requests${query()}`, { method: "POST" });
      const out = document.getElementById("access-result");
      out.replaceChildren("Запрос принят, срок ответа: ", new Date(r.due_date).toLocaleDateString("ru-RU"), ". ",
        el("a", { href: `/api/v1/access-requests/${r.id}.html`, target: "_blank" }, "Открыть ответ для печати"));
    } catch (e) { alert(e.message); }
  });
  await Promise.all([refresh(), refreshApps()]);
}

main().catch((e) => {
  if (e.message !== "login") {
    document.getElementById("profile").replaceChildren(el("p", { class: "error" }, e.message));
  }
});

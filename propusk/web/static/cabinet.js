// Личный кабинет: every piece of data comes from the JSON API (same origin, login cookie) —
// the same answers a relying party or an auditor reads, with the names behind the keys. This
// file: the person, whose data is shown, consent requests and consents (withdraw, stop
// processing, receipts), applications, rectification and the art. 14 request. The history
// (transfers, held data, obligations) is cabinet_history.js.
"use strict";

// The names of states, roles and signers are the catalogue's (static/api.js: propuskStateText,
// propuskRoleText, propuskSignerText); the page keeps only each state's badge colour.
const STATE_BADGES = {
  requested: "warn", partially_given: "warn", given: "ok", refused: "muted", withdrawn: "stop",
  revoked: "stop", suspended: "stop", expired: "muted",
};
const ENDED = new Set(["withdrawn", "refused", "revoked", "expired"]);
const NEEDED = { under14: ["guardian"], "14to17": ["subject", "guardian"], adult: ["subject"] };

let me = null;
let subject = null; // null: the person's own data; else a child's person id
const titles = new Map(); // category key → title, from the answers shown (never show a key)

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "onclick") node.addEventListener("click", v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(c));
  }
  return node;
}

async function api(path, options = {}) {
  const response = await propuskFetch(path, options);  // static/api.js: cookie + CSRF token
  if (response.status === 401) { location.href = "/login?next=/cabinet"; throw new Error("login"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(propuskProblemText(body, response.status));
  return body;
}

function query() { return subject ? `?subject=${encodeURIComponent(subject)}` : ""; }

function status(text, isError = false) {
  const box = document.getElementById("cabinet-status");
  box.textContent = text;
  box.classList.toggle("hidden", !text);
  box.classList.toggle("error", isError);
}

function badge(state) {
  return el("span", { class: `badge ${STATE_BADGES[state] || "muted"}` }, propuskStateText(state));
}

function capital(text) { return text ? text[0].toUpperCase() + text.slice(1) : text; }

function rows(pairs) {
  return el("dl", {}, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

function empty(text) { return el("p", { class: "muted" }, text); }

function organization(org) {
  if (!org) return "не указан";
  return `${org.name} (ИНН ${org.inn})`;
}

function whoSigned(c) {
  const signed = (c.signatures || []).map((s) =>
    `${propuskSignerText(s.role)} — ${propuskDateTime(s.at)}`);
  const pending = ["requested", "partially_given"].includes(c.state);
  const waiting = pending ? (NEEDED[c.age_rule] || []).filter((r) => !(c.signatures || []).some((s) => s.role === r))
    .map(propuskSignerText) : [];
  return [signed.length ? signed.join("; ") : null, waiting.length ? `ждёт подписи: ${waiting.join(", ")}` : null]
    .filter(Boolean).join("; ");
}

function categoryList(c) {
  for (const t of c.category_titles) titles.set(t.key, t.title);
  return el("ul", {}, c.category_titles.map((t) => el("li", {}, t.title)));
}

// The dates that are true in the consent's state (no «Действует до» on an ended consent).
function consentDates(c) {
  const out = [];
  if (c.given_at) out.push(["Дано", propuskDateTime(c.given_at)]);
  if (["given", "partially_given"].includes(c.state) && c.valid_until) {
    out.push(["Действует до", propuskDate(c.valid_until)]);
  }
  if (c.state === "suspended") {
    out.push(["Передача", "приостановлена по требованию прекратить обработку: данные не передаются"]);
    if (c.valid_until) out.push(["Срок согласия", `до ${propuskDate(c.valid_until)}`]);
  }
  if (ENDED.has(c.state)) out.push([capital(propuskStateText(c.state)), propuskDateTime(c.ended_at || c.valid_until)]);
  if (c.destruction) {
    const d = c.destruction;
    out.push([d.reason === "dissemination_stop" ? "Прекратить распространение до" : "Уничтожить данные до",
      d.confirmed_at ? `${propuskDate(d.due_date)} — оператор подтвердил ${propuskDateTime(d.confirmed_at)}`
        : `${propuskDate(d.due_date)} — ждём подтверждения оператора`]);
  }
  return out;
}

// The viewer's own signature on a request waiting for the other signer (14–17).
function signedByMe(c) {
  return (c.signatures || []).some((s) => s.person_id === me.id);
}

function requestCard(c) {
  const mine = signedByMe(c);
  return el("article", { class: "card", id: `request-${c.id}` },
    el("div", { class: "head" }, el("h3", {}, c.purpose_title), badge(c.state)),
    rows([
      ["Оператор", organization(c.operator)],
      ["Данные", categoryList(c)],
      ["Форма", c.form === "written" ? "письменная: подпись после повторного входа через Госуслуги" : "простая"],
      ["Подписи", whoSigned(c) || null],
      ["Ответить до", propuskDateTime(c.request_expires_at)],
    ]),
    mine ? el("p", { class: "notice" }, "Вы подписали. Согласие начнёт действовать после второй подписи.") : null,
    el("div", { class: "actions" }, mine
      ? el("a", { class: "secondary", href: `/sign/${c.id}` }, "Открыть документ")
      : el("a", { class: "button", href: `/sign/${c.id}` }, "Открыть документ и ответить")));
}

function consentCard(c) {
  const actions = el("div", { class: "actions" });
  if (["given", "partially_given", "suspended"].includes(c.state)) {
    actions.append(el("button", { type: "button", onclick: () => confirmAndAct(c, "withdraw") }, "Отозвать согласие"));
  }
  if (c.state === "given") {
    actions.append(el("button", { type: "button", class: "secondary", onclick: () => confirmAndAct(c, "stop") },
      "Прекратить обработку"));
  }
  if (c.given_at) actions.append(el("a", { class: "secondary", href: `/consents/${c.id}/receipt` }, "Квитанция"));
  for (const s of c.signatures || []) {  // the signed documents (PDF), one per signature
    if (s.document_id) {
      actions.append(el("a", { class: "secondary", href: `/api/v1/consents/${c.id}/documents/${s.document_id}.pdf` },
        s.role === "guardian" ? "PDF (подпись представителя)" : "PDF (подпись участника)"));
    }
  }
  return el("article", { class: "card", id: `consent-${c.id}` },
    el("div", { class: "head" }, el("h3", {}, c.purpose_title), badge(c.state)),
    rows([
      ["Оператор", organization(c.operator)],
      ["Поставщик данных", c.supplier ? organization(c.supplier) : null],
      ["Данные", categoryList(c)],
      ["Действия", c.actions.join(", ")],
      ["Подписи", whoSigned(c) || null],
      ...consentDates(c),
    ]),
    actions);
}

// --- withdraw and stop processing: said, then confirmed -----------------------------------------

function consequencesText(c, q, kind) {
  const operator = c.operator ? `Оператор ${c.operator.name}` : "Оператор";
  const list = c.category_titles.map((t) => t.title).join(", ");
  if (kind === "withdraw") {
    return [
      `${operator} больше не получит данные по этому согласию: передачи прекращаются сразу после подтверждения.`,
      q.withdraw_kind === "dissemination_stop"
        ? `Оператор обязан прекратить распространение данных до ${propuskDate(q.withdraw_due)} (ст. 10.1 152-ФЗ).`
        : q.withdraw_due
          ? `Оператор обязан уничтожить полученные данные (${list}) до ${propuskDate(q.withdraw_due)} — 30 дней по ч. 5 ст. 21 152-ФЗ — и подтвердить уничтожение; подтверждение появится здесь.`
          : "Согласие ещё не вступило в силу: по нему данные не передавались.",
      q.ends_for_all ? "Согласие подписали и ученик, и законный представитель: отзыв любого из них прекращает его для всех." : null,
      "Отзыв нельзя отменить: чтобы снова разрешить обработку, оператору придётся запросить новое согласие. Обработка до отзыва остаётся законной.",
    ].filter(Boolean);
  }
  return [
    `Обработка по этому согласию приостанавливается сразу: ${operator.replace(/^О/, "о")} не получит данные (${list}), пока требование не исполнено.`,
    `Оператор обязан прекратить обработку и ответить до ${propuskDate(q.stop_due)} (10 рабочих дней, ч. 5.1 ст. 21 152-ФЗ). Ответ появится в разделе «Обращения и уведомления».`,
    "Согласие при этом не отзывается; отозвать его можно отдельно.",
  ];
}

function ask(title, paragraphs, yes) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").replaceChildren(...paragraphs.map((p) => el("p", {}, p)));
  document.getElementById("confirm-yes").textContent = yes;
  document.getElementById("confirm-reason").value = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"
      ? { reason: document.getElementById("confirm-reason").value.trim() || null } : null), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

async function confirmAndAct(c, kind) {
  status("");  // the last action's message is not this one's
  try {
    const q = await api(`/api/v1/consents/${c.id}/consequences`);
    if (!(kind === "withdraw" ? q.can_withdraw : q.can_stop)) {  // the server would refuse it
      status(kind === "withdraw" ? "Отозвать это согласие сейчас можете не вы или его уже нельзя отозвать."
        : "Потребовать прекратить обработку по этому согласию сейчас нельзя.", true);
      return;
    }
    const answer = await ask(
      kind === "withdraw" ? `Отозвать согласие «${c.purpose_title}»?` : "Потребовать прекратить обработку?",
      consequencesText(c, q, kind), kind === "withdraw" ? "Отозвать согласие" : "Потребовать прекратить");
    if (!answer) return;
    let done;
    if (kind === "withdraw") {
      await api(`/api/v1/consents/${c.id}/withdraw`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(answer),
      });
      done = q.withdraw_due ? `Согласие отозвано. Оператор должен уничтожить данные до ${propuskDate(q.withdraw_due)}.`
        : "Согласие отозвано.";
    } else {
      await post("/api/v1/me/obligations/stop-processing", { consent_id: c.id, reason: answer.reason });
      done = `Требование отправлено, обработка приостановлена. Ответ оператора — до ${propuskDate(q.stop_due)}.`;
    }
    await refresh();
    status(done);  // said once the page shows the new state
  } catch (e) { if (e.message !== "login") status(e.message, true); }
}

async function post(path, body) {
  return api(path + query(), {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
}

// --- applications --------------------------------------------------------------------------------

async function revokeApp(app) {
  status("");
  const answer = await ask(`Отозвать доступ приложения «${app.name}»?`,
    ["Приложение больше не сможет получать ваши сведения через Пропуск без нового разрешения.",
      "Согласия на обработку данных, подписанные вами, это не отзывает: они отзываются каждое отдельно."],
    "Отозвать доступ");
  if (!answer) return;
  try {
    await api(`/api/v1/me/applications/${encodeURIComponent(app.client_id)}`, { method: "DELETE" });
    await refreshApps();
    status(`Доступ приложения «${app.name}» отозван.`);
  } catch (e) { status(e.message, true); }
}

async function refreshApps() {
  const apps = await api("/api/v1/me/applications");
  document.getElementById("applications").replaceChildren(...(apps.length ? apps.map((a) =>
    el("article", { class: "card" },
      el("h3", {}, a.name),
      el("ul", {}, (a.scope_texts.length ? a.scope_texts : ["только вход"]).map((t) => el("li", {}, t))),
      rows([["Разрешено", propuskDateTime(a.updated_at)],
        ["Последний доступ", a.last_token_at ? propuskDateTime(a.last_token_at) : null]]),
      el("div", { class: "actions" }, el("button", { type: "button", onclick: () => revokeApp(a) }, "Отозвать доступ"))))
    : [empty("Вы не давали приложениям доступ.")]));
}

// --- the page ------------------------------------------------------------------------------------

// Each refresh's number. Choosing a child while the page still loads starts a second refresh:
// whichever answers last must not paint the other person's data, so an answer for an earlier
// choice is dropped.
let generation = 0;

async function refresh() {
  const mine = ++generation;
  const stale = () => mine !== generation;
  const q = query();
  const [requests, consents] = await Promise.all([api(`/api/v1/me/requests${q}`), api(`/api/v1/me/consents${q}`)]);
  if (stale()) return;
  titles.clear();
  const pending = new Set(requests.requests.map((c) => c.id));
  document.getElementById("requests").replaceChildren(...(requests.requests.length
    ? requests.requests.map(requestCard) : [empty("Новых запросов нет.")]));
  const shown = consents.consents.filter((c) => !pending.has(c.id));
  document.getElementById("consents").replaceChildren(...(shown.length
    ? shown.map(consentCard) : [empty("Согласий пока нет.")]));
  await refreshHistory(q, titles, stale);  // cabinet_history.js
}

// Where each status works: the console of the school, the proctor's exams, the operator's
// console. The link is a convenience: every console asks the API, which decides.
const CONSOLES = {
  school_admin: (s) => `/school/${s.school_id}`,
  proctor: () => "/proctor",
  operator_staff: (o) => `/operator/${o.organization_id}`,
  operator_head: (o) => `/operator/${o.organization_id}`,
};

function statusItem(text, role, holder) {
  const place = CONSOLES[role]?.(holder);
  return place ? el("li", {}, text, " ", el("a", { href: place }, "открыть консоль")) : el("li", {}, text);
}

function profile() {
  const statuses = me.statuses.map((s) => statusItem(
    `${propuskRoleText(s.role)}${s.school_name ? " — " + s.school_name : ""}${s.class ? ", " + s.class : ""}`,
    s.role, s));
  // operator staff (ESIA /roles of a registered operator) and the platform administrator
  for (const o of me.organization_statuses || []) {
    statuses.push(statusItem(`${propuskRoleText(o.role)} — ${o.organization_name}`, o.role, o));
  }
  if (me.platform_admin) {
    statuses.push(el("li", {}, propuskRoleText("platform_admin"), " ",
      el("a", { href: "/admin" }, "открыть консоль")));
  }
  document.getElementById("profile").replaceChildren(
    el("p", {}, el("strong", {}, [me.last_name, me.first_name, me.middle_name].filter(Boolean).join(" "))),
    statuses.length ? el("ul", { class: "statuses" }, statuses)
      : el("p", { class: "muted" }, "Статусов в образовательных организациях нет."));
}

function subjectPicker() {
  const select = document.getElementById("subject");
  select.replaceChildren(el("option", { value: "" }, "Мои данные"),
    ...me.children.map((c) => el("option", { value: c.id }, `Ребёнок: ${c.name}`)));
  const note = document.getElementById("subject-note");
  if (!me.children.length) select.closest("section").classList.add("hidden");  // only their own data
  const AGE_NOTES = {
    under14: "Ребёнку нет 14 лет: согласия за него подписываете вы как законный представитель.",
    "14to17": "Ребёнку от 14 до 18 лет: согласие действует, когда его подписали и он, и вы.",
  };
  const announce = () => {
    const child = me.children.find((c) => c.id === subject);
    note.textContent = child ? (AGE_NOTES[child.age_group] || "") : "";
    document.dispatchEvent(new CustomEvent("propusk:subject", { detail: { subject, me } }));
  };
  select.addEventListener("change", async () => {
    subject = select.value || null;
    status("");
    announce();
    try { await refresh(); } catch (e) { if (e.message !== "login") status(e.message, true); }
  });
  announce();
}

function accessRequests() {
  document.getElementById("access-request").addEventListener("click", async () => {
    try {
      const r = await api(`/api/v1/me/access-requests${query()}`, { method: "POST" });
      document.getElementById("access-result").replaceChildren(el("p", { class: "notice" },
        `Запрос принят ${propuskDateTime(r.received_at)}; срок ответа — до ${propuskDate(r.due_date)}. `,
        el("a", { href: `/api/v1/access-requests/${r.id}.html` }, "Открыть ответ")));
    } catch (e) { if (e.message !== "login") status(e.message, true); }
  });
}

async function main() {
  [me] = await Promise.all([api("/api/v1/me"), propuskLoadMessages()]);  // names from the catalogue
  profile();
  subjectPicker();
  accessRequests();
  rectificationForm();  // cabinet_history.js
  await Promise.all([refresh(), refreshApps()]);
}

document.addEventListener("DOMContentLoaded", () => main().catch((e) => {
  if (e.message !== "login") {
    document.getElementById("profile").replaceChildren(el("p", { class: "error" }, e.message));
  }
}));

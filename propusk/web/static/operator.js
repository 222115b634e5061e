// Консоль сотрудника оператора: отзывы, уничтожение, согласия, шаблоны, передачи, сотрудники —
// all through the JSON API (/api/v1/operators/{org}, /api/v1/organizations/{org}/staff).
"use strict";

const orgId = location.pathname.split("/").pop();
const BASE = `/api/v1/operators/${orgId}`;
const PAGE = 20;
const state = { withdrawalsOffset: 0, consentsOffset: 0, stats: null, templates: [], me: null };
const E = propuskEl;  // static/api.js

// What was done (or the refusal), under the heading of the section acted in (else the page's).
function say(text, error = false, section = "") {
  for (const other of document.querySelectorAll(".section-status, #status")) {
    other.textContent = "";  // the last action's message is not this one's
  }
  const node = document.getElementById(section ? `${section}-status` : "status");
  node.textContent = text || "";
  node.classList.toggle("error", Boolean(error));
}

function titles(items) {
  return (items || []).map((c) => c.title).join(", ") || "—";
}

function table(headers, rows, rowClass = () => null) {
  if (!rows.length) return E("p", { class: "muted" }, "Нет записей.");
  // on a phone each row reads as a card: every cell names its column (site.css, table.cards)
  return E("table", { class: "cards" }, E("tr", {}, headers.map((h) => E("th", {}, h))),
    rows.map((r, n) => E("tr", { class: rowClass(n) }, r.map((c, i) => E("td", { "data-label": headers[i] }, c)))));
}

function pager(id, offset, total, move) {
  const node = document.getElementById(id);
  if (total <= PAGE) { node.replaceChildren(); return; }
  const last = Math.min(offset + PAGE, total);
  node.replaceChildren(...[
    E("span", {}, `Показаны ${offset + 1}–${last} из ${total}`),
    offset > 0 ? E("button", { type: "button", class: "secondary", onclick: () => move(offset - PAGE) }, "Назад") : null,
    last < total ? E("button", { type: "button", class: "secondary", onclick: () => move(offset + PAGE) }, "Дальше") : null,
  ].filter(Boolean));
}

// The confirmation dialog names what is acted on; with `reason` it asks why (required).
function ask(title, paragraphs, yes, reason = false) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").replaceChildren(...paragraphs.map((p) => E("p", {}, p)));
  document.getElementById("confirm-yes").textContent = yes;
  const field = document.getElementById("confirm-reason");
  field.value = "";
  field.required = reason;
  document.getElementById("confirm-reason-row").hidden = !reason;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"
      ? { reason: field.value.trim() } : null), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

// One act, then its section reloaded, then what was done (or the Russian refusal).
async function act(path, body, done, reload, section) {
  say("");
  try {
    await propuskApi(path, propuskJson("POST", body || {}));
  } catch (e) {
    say(e.message, true, section);
    await reload();
    return;
  }
  await reload();
  say(done, false, section);
}

// --- withdrawals -------------------------------------------------------------------------------

async function acknowledge(w) {
  const what = w.type === "suspended" ? "требованию прекратить обработку" : "отзыву согласия";
  const ok = await ask("Подтвердить прекращение обработки",
    [`Участник: ${w.subject_name}.`, `Цель: ${w.purpose ? w.purpose.title : "—"}.`,
      `Данные: ${titles(w.categories)}.`,
      `Вы подтверждаете, что обработка этих данных по ${what} прекращена. Отметка сохранится с вашим именем и временем.`,
      w.type === "suspended" ? "Требование участника будет отмечено исполненным: участник увидит это в личном кабинете." : null,
    ].filter(Boolean),
    "Обработка прекращена");
  if (!ok) return;
  await act(`${BASE}/withdrawals/${w.id}/acknowledge`, null,
    `Прекращение обработки подтверждено: ${w.subject_name}.`, loadWithdrawals, "withdrawals");
}

async function loadWithdrawals() {
  const pending = document.getElementById("withdrawals-pending").checked;
  const page = await propuskApi(`${BASE}/withdrawals?pending=${pending}&offset=${state.withdrawalsOffset}&limit=${PAGE}`);
  document.getElementById("withdrawals-list").replaceChildren(table(
    ["Когда", "Участник", "Что произошло", "Цель", "Данные", "Обработка"],
    page.withdrawals.map((w) => [
      propuskDateTime(w.at), w.subject_name,
      w.type === "suspended" ? `требование прекратить обработку до ${propuskDate(w.stop_due)}` : `согласие ${propuskStateText(w.type)}`,
      w.purpose ? w.purpose.title : "—", titles(w.categories),
      w.acknowledged_at
        ? E("span", {}, E("span", { class: "badge done" }, "прекращена"), ` ${w.acknowledged_by}, ${propuskDateTime(w.acknowledged_at)}`)
        : (state.me.can_acknowledge
          ? E("button", { type: "button", onclick: () => acknowledge(w) }, "Обработка прекращена")
          : E("span", { class: "badge" }, "не подтверждено")),
    ])));
  pager("withdrawals-pager", state.withdrawalsOffset, page.total, (o) => { state.withdrawalsOffset = o; loadWithdrawals(); });
}

// --- destruction ---------------------------------------------------------------------------------

async function confirmDestruction(t) {
  const ok = await ask("Подтвердить уничтожение данных",
    [`Участник: ${t.subject_name}.`, `Данные: ${titles(t.categories)}.`, `Основание: ${t.reason_title}.`,
      "Вы подтверждаете, что эти данные уничтожены во всех системах оператора. Отменить подтверждение нельзя."],
    "Данные уничтожены");
  if (!ok) return;
  await act(`${BASE}/destruction/${t.id}/confirm`, null,
    `Уничтожение подтверждено: ${t.subject_name}.`, loadDestruction, "destruction");
}

async function deferDestruction(t) {
  const answer = await ask("Уничтожить в срок невозможно",
    [`Участник: ${t.subject_name}.`, `Данные: ${titles(t.categories)}.`,
      "Данные будут заблокированы и должны быть уничтожены в течение шести месяцев (ч. 6 ст. 21 152-ФЗ). Укажите причину."],
    "Заблокировать и отложить", true);
  if (!answer) return;
  await act(`${BASE}/destruction/${t.id}/impossible`, { reason: answer.reason },
    `Уничтожение отложено, данные заблокированы: ${t.subject_name}.`, loadDestruction, "destruction");
}

function taskState(t) {
  if (t.confirmed_at) {
    return E("span", {}, E("span", { class: "badge done" }, "уничтожено"),
      ` ${propuskDateTime(t.confirmed_at)}${t.confirmed_by ? ", " + t.confirmed_by : ""}`);
  }
  if (t.deferred) return E("span", { class: "badge deferred" }, `отложено до ${propuskDate(t.deferred_until)}`);
  if (t.overdue) return E("span", { class: "badge overdue" }, "просрочено");
  return E("span", { class: "badge" }, "ждёт уничтожения");
}

function taskActions(t) {
  if (t.confirmed_at || !state.me.can_destroy) return "—";
  return E("span", { class: "actions" },
    E("button", { type: "button", onclick: () => confirmDestruction(t) }, "Данные уничтожены"),
    t.deferred ? null : E("button", { type: "button", class: "secondary", onclick: () => deferDestruction(t) }, "Невозможно в срок"));
}

async function loadDestruction() {
  const all = document.getElementById("destruction-all").checked;
  const found = await propuskApi(`${BASE}/destruction?open=${!all}`);
  document.getElementById("destruction-list").replaceChildren(table(
    ["Участник", "Данные", "Основание", "Уничтожить до (МСК)", "Состояние", ""],
    found.tasks.map((t) => [t.subject_name, titles(t.categories), t.reason_title,
      propuskDate(t.due_date), taskState(t), taskActions(t)]),
    (n) => (found.tasks[n].overdue ? "overdue" : null)));
}

// --- consents ------------------------------------------------------------------------------------

async function loadConsents() {
  const chosen = document.getElementById("consents-state").value;
  const query = chosen ? `&state=${encodeURIComponent(chosen)}` : "";
  const page = await propuskApi(`${BASE}/consents?offset=${state.consentsOffset}&limit=${PAGE}${query}`);
  const select = document.getElementById("consents-state");
  const total = Object.values(page.counts).reduce((a, b) => a + b, 0);
  select.replaceChildren(E("option", { value: "" }, `все (${total})`),
    ...Object.entries(page.counts).map(([code, n]) => E("option", { value: code, selected: code === chosen }, `${propuskStateText(code)} (${n})`)));
  document.getElementById("consents-list").replaceChildren(table(
    ["Участник", "Цель", "Данные", "Состояние", "Запрошено", "Действует до / окончено"],
    page.consents.map((c) => [c.subject_name, `${c.purpose.title}${c.template_version ? ` (версия ${c.template_version})` : ""}`,
      titles(c.categories), propuskStateText(c.state), propuskDateTime(c.requested_at),
      c.ended_at ? `окончено ${propuskDate(c.ended_at)}` : (c.valid_until ? `до ${propuskDate(c.valid_until)}` : "—")])));
  pager("consents-pager", state.consentsOffset, page.total, (o) => { state.consentsOffset = o; loadConsents(); });
}

// --- templates -----------------------------------------------------------------------------------

let editing = null;

function templateCard(versions) {
  const t = versions[0];
  const facts = [
    ["Цель", t.purpose_title], ["Данные", titles(t.category_titles)], ["Действия", t.actions.join(", ")],
    ["Способ обработки", t.processing_method_titles.join(", ")],
    ["Срок действия", `${t.term_days} ${propuskPlural(t.term_days, "день", "дня", "дней")}`],
    ["Форма", t.form === "written" ? "письменная (подпись документа)" : "любая"],
    ["Как отозвать", t.withdrawal_method], ["Опубликована", propuskDateTime(t.published_at)],
  ];
  return E("details", { class: "template" },
    E("summary", {}, `${t.purpose_title} — версия ${t.version} от ${propuskDate(t.published_at)}`),
    E("dl", {}, facts.map(([k, v]) => [E("dt", {}, k), E("dd", {}, v)])),
    E("div", { class: "template-text", tabindex: "0", "aria-label": "Текст согласия" }, t.text),
    versions.length > 1 ? E("p", { class: "muted" }, `Прежние версии: ${versions.slice(1).map((v) => `${v.version} (${propuskDate(v.published_at)})`).join(", ")}`) : null,
    state.me.can_publish ? E("p", {}, E("button", { type: "button", onclick: () => editTemplate(t) }, "Новая версия")) : null);
}

function editTemplate(t) {
  editing = t;
  const form = document.getElementById("template-form");
  document.getElementById("template-form-title").textContent = `Новая версия шаблона «${t.purpose_title}» (сейчас — версия ${t.version})`;
  document.getElementById("template-form-fixed").textContent =
    `Цель и данные остаются прежними: ${titles(t.category_titles)}. Чтобы изменить их, нужен новый шаблон.`;
  document.getElementById("template-text").value = t.text;
  document.getElementById("template-term").value = t.term_days;
  document.getElementById("template-withdrawal").value = t.withdrawal_method;
  document.getElementById("template-ttl").value = t.request_ttl_days;
  document.getElementById("template-result").textContent = "";
  form.hidden = false;
  document.getElementById("template-text").focus();
}

async function publishTemplate(event) {
  event.preventDefault();
  const t = editing;
  const result = document.getElementById("template-result");
  const body = {
    key: t.key, language: t.language, purpose: t.purpose, categories: t.categories, actions: t.actions,
    processing_methods: t.processing_methods, processor: t.processor, conditions: t.conditions, form: t.form,
    valid_until: t.valid_until, text: document.getElementById("template-text").value,
    term_days: Number(document.getElementById("template-term").value),
    withdrawal_method: document.getElementById("template-withdrawal").value,
    request_ttl_days: Number(document.getElementById("template-ttl").value),
  };
  try {
    const made = await propuskApi(`${BASE}/templates`, propuskJson("POST", body));
    document.getElementById("template-form").hidden = true;
    say(`Опубликована версия ${made.version} шаблона «${made.purpose_title}».`, false, "templates");
    await loadTemplates();
  } catch (e) {
    result.className = "error";
    result.textContent = e.message;
  }
}

async function loadTemplates() {
  const found = await propuskApi(`${BASE}/templates`);
  const byKey = new Map();
  for (const t of found.templates) {
    if (!byKey.has(t.key)) byKey.set(t.key, []);
    byKey.get(t.key).push(t);
  }
  const list = document.getElementById("templates-list");
  if (!byKey.size) { list.replaceChildren(E("p", { class: "muted" }, "Шаблонов пока нет.")); return; }
  list.replaceChildren(...[...byKey.values()].map(templateCard));
}

// --- statistics ----------------------------------------------------------------------------------

function showStats() {
  const period = state.stats.periods.find((p) => p.period === document.getElementById("stats-period").value)
    || state.stats.periods[0];
  document.getElementById("stats-summary").textContent =
    `Решений о передаче: ${period.records} (с ${propuskDateTime(period.since)}).`;
  document.getElementById("stats-list").replaceChildren(table(["Категория данных", "Передано", "Отказано"],
    period.categories.map((c) => [c.category.title, String(c.allowed), String(c.refused)])));
}

async function loadStats() {
  state.stats = await propuskApi(`${BASE}/transfers/stats`);
  const select = document.getElementById("stats-period");
  if (!select.options.length) {
    select.replaceChildren(...state.stats.periods.map((p) => E("option", { value: p.period }, p.title)));
    select.value = "month";
  }
  showStats();
}

// --- staff (the operator's head) -----------------------------------------------------------------

const STAFF = `/api/v1/organizations/${orgId}/staff`;

async function endStaff(s) {
  const ok = await ask("Прекратить доступ сотрудника",
    [`Сотрудник: ${s.person_name}.`, "Он больше не увидит консоль организации. Действие записывается в журнал."],
    "Прекратить доступ");
  if (!ok) return;
  say("");
  try {
    await propuskApi(`${STAFF}/${s.id}`, { method: "DELETE" });
    await loadStaff();
    say(`Доступ прекращён: ${s.person_name}.`, false, "staff");
  } catch (e) { say(e.message, true, "staff"); }
}

async function loadStaff() {
  const rows = await propuskApi(STAFF);
  document.getElementById("staff-list").replaceChildren(table(["ФИО", "Роль", "Откуда", "С", ""],
    rows.map((s) => [s.person_name, propuskRoleText(s.role), s.source_title, propuskDate(s.valid_from),
      s.source === "appointment" ? E("button", { type: "button", class: "secondary", onclick: () => endStaff(s) }, "Прекратить") : "—"])));
}

async function appoint(event) {
  event.preventDefault();
  const field = document.getElementById("staff-snils");
  say("");
  try {
    const made = await propuskApi(STAFF, propuskJson("POST", { snils: field.value.trim() }));
    field.value = "";
    await loadStaff();
    say(`Назначен сотрудником: ${made.person_name}.`, false, "staff");
  } catch (e) { say(e.message, true, "staff"); }
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
  await propuskLoadMessages();  // states and roles read from the catalogue (static/api.js)
  try {
    state.me = await propuskApi(BASE);
  } catch (e) {
    document.getElementById("org-name").textContent = "Консоль оператора недоступна";
    say(e.message, true);
    document.querySelectorAll("main section, nav.sections").forEach((n) => { n.hidden = true; });
    if (e.status === 403) {
      document.getElementById("org-meta").textContent = "Консоль открыта сотрудникам этой организации-оператора. "
        + "Если вы в ней работаете, попросите руководителя назначить вас сотрудником в Пропуске.";
    }
    document.body.dataset.loaded = "yes";
    return;
  }
  const org = state.me.organization;
  document.getElementById("org-name").textContent = org.name;
  document.getElementById("org-meta").textContent = `ИНН ${org.inn}, ОГРН ${org.ogrn}, реестр операторов № ${state.me.registry_number}`;
  document.getElementById("withdrawals-pending").addEventListener("change", () => { state.withdrawalsOffset = 0; loadWithdrawals(); });
  document.getElementById("destruction-all").addEventListener("change", loadDestruction);
  document.getElementById("consents-state").addEventListener("change", () => { state.consentsOffset = 0; loadConsents(); });
  document.getElementById("stats-period").addEventListener("change", showStats);
  document.getElementById("template-form").addEventListener("submit", publishTemplate);
  document.getElementById("template-cancel").addEventListener("click", () => { document.getElementById("template-form").hidden = true; });
  const loads = [loadWithdrawals(), loadDestruction(), loadConsents(), loadTemplates(), loadStats()];
  if (state.me.can_appoint) {
    document.getElementById("staff").hidden = false;
    document.getElementById("staff-link").hidden = false;
    document.getElementById("staff-form").addEventListener("submit", appoint);
    loads.push(loadStaff());
  }
  const failed = (await Promise.allSettled(loads)).find((r) => r.status === "rejected");
  if (failed) say(failed.reason.message, true);
  document.body.dataset.loaded = "yes";
}

start();

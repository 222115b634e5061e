// Консоль администратора школы: roster import, statuses, proctors — all through the JSON API.
"use strict";

const schoolId = location.pathname.split("/").pop();
// where a status comes from (idp.models.STATUS_SOURCES)
const SOURCES = {
  esia: "Госуслуги", roster: "список школы", appointment: "назначение", derived: "по другому статусу",
  admin: "администратор Пропуска",
};
// the roster file's columns (the errors name them), in Russian
const COLUMNS = {
  role: "роль", last_name: "фамилия", first_name: "имя", middle_name: "отчество",
  birth_date: "дата рождения", snils: "СНИЛС", class: "класс", file: "файл", row: "строка",
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
  if (response.status === 401) { location.href = `/login?next=/school/${schoolId}`; throw new Error("login"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(propuskProblemText(body, response.status));  // static/api.js
    error.body = body;
    throw error;
  }
  return body;
}

function table(headers, rows) {
  if (!rows.length) return el("p", { class: "muted" }, "Нет записей.");
  // on a phone each row reads as a card: every cell names its column (site.css, table.cards)
  return el("table", { class: "cards" }, el("tr", {}, ...headers.map((h) => el("th", {}, h))),
    ...rows.map((r) => el("tr", {}, ...r.map((c, i) => el("td", { "data-label": headers[i] }, c)))));
}

async function appoint(personId) {
  try {
    await api(`/api/v1/schools/${schoolId}/proctors`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ person_id: personId }),
    });
    await load();
  } catch (e) { alert(e.message); }
}

async function end(statusId) {
  if (!confirm("Прекратить статус?")) return;
  try { await api(`/api/v1/schools/${schoolId}/statuses/${statusId}`, { method: "DELETE" }); await load(); }
  catch (e) { alert(e.message); }
}

async function load() {
  const [school, roster, statuses] = await Promise.all([
    api(`/api/v1/schools/${schoolId}`), api(`/api/v1/schools/${schoolId}/roster`),
    api(`/api/v1/schools/${schoolId}/statuses`),
    propuskLoadMessages(),  // the roles' names are the catalogue's (static/api.js: propuskRoleText)
  ]);
  document.getElementById("school-name").textContent = school.name;
  document.getElementById("school-meta").textContent = `ОГРН ${school.ogrn}${school.region ? ", " + school.region : ""}`;
  document.getElementById("roster").replaceChildren(table(
    ["Роль", "ФИО", "Дата рождения", "Класс", "Вошёл через Госуслуги"],
    roster.map((r) => [propuskRoleText(r.role), [r.last_name, r.first_name, r.middle_name].filter(Boolean).join(" "),
      propuskDate(r.birth_date), r.class || "—", r.person_id ? "да" : "ещё нет"])));
  const teachers = new Set(statuses.filter((s) => s.role === "proctor").map((s) => s.person_id));
  document.getElementById("statuses").replaceChildren(table(
    ["ФИО", "Роль", "Класс", "Источник", ""],
    statuses.map((s) => {
      const actions = el("span");
      if (s.role === "teacher" && !teachers.has(s.person_id)) {
        actions.append(el("button", { onclick: () => appoint(s.person_id) }, "Назначить проктором"), " ");
      }
      if (["proctor", "teacher", "student"].includes(s.role)) {
        actions.append(el("button", { onclick: () => end(s.id) }, "Прекратить"));
      }
      return [s.person_name, propuskRoleText(s.role), s.class || "—", SOURCES[s.source] || s.source, actions];
    })));
}

document.getElementById("roster-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = document.getElementById("roster-result");
  const file = document.getElementById("roster-file").files[0];
  try {
    const r = await api(`/api/v1/schools/${schoolId}/roster`, {
      method: "POST", headers: { "Content-Type": "text/csv" }, body: await file.text(),
    });
    out.replaceChildren(el("p", {}, `Загружено строк: ${r.rows}; добавлено ${r.added}, обновлено ${r.updated}, ` +
      `без изменений ${r.unchanged}, прекращено ${r.ended}, сопоставлено с Госуслугами ${r.matched}.`));
    if (r.review.length) {  // rows not matched to a person on name and birth date alone
      out.append(el("p", {}, "Требуют проверки:"),
        table(["Строка", "Причина"], r.review.map((x) => [String(x.line), x.message])));
    }
    await load();
  } catch (e) {
    const errors = e.body?.errors || [];
    out.replaceChildren(el("p", { class: "error" }, e.message),
      table(["Строка", "Столбец", "Ошибка"],
        errors.map((x) => [String(x.line), COLUMNS[x.field] || x.field || "", x.message])));
  }
});

load().catch((e) => {
  if (e.message !== "login") document.getElementById("school-name").replaceChildren(el("span", { class: "error" }, e.message));
});

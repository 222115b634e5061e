// Консоль администратора школы: the profile, the roster import (check a file, see what it
// would change, then apply it), the school's people (search, filters, export) and proctor
// appointments — all through the JSON API (idp/routes.py), with static/api.js.
"use strict";

const schoolId = location.pathname.split("/").pop();
const base = `/api/v1/schools/${schoolId}`;
const PAGE_ROWS = 200;  // rows drawn at once; the search narrows a big school down
const ROLE_FILTERS = ["student", "teacher", "school_admin", "proctor", "parent"];
let chosenFile = null;
let preview = null;  // the last preview's answer: its token applies exactly that file

// --- names in the cases a question needs ------------------------------------------------------
// «Иванова Мария Петровна» → «Иванову Марию Петровну» (acc) / «Ивановой Марии Петровны» (gen).
// Male names: the accusative of a person is the genitive. When a name does not decline by these
// rules it stays as written.
const MALE_A = /^(никита|илья|кузьма|фома|лука|савва|данила|гаврила|михайла)$/i;

function isFemale(first, middle) {
  if (middle) {
    if (/(вна|чна|кызы)$/i.test(middle)) return true;
    if (/(ич|оглы)$/i.test(middle)) return false;
  }
  return /[ая]$/i.test(first || "") && !MALE_A.test(first || "");
}

function femaleWord(word, kase, part) {
  if (kase === "acc") {
    if (/ая$/i.test(word)) return word.slice(0, -2) + "ую";
    if (/яя$/i.test(word)) return word.slice(0, -2) + "юю";
    if (/а$/i.test(word)) return word.slice(0, -1) + "у";
    if (/я$/i.test(word)) return word.slice(0, -1) + "ю";
    return word;
  }
  if (part === "last" && /(ова|ева|ёва|ина|ына)$/i.test(word)) return word.slice(0, -1) + "ой";
  if (/ая$/i.test(word)) return word.slice(0, -2) + "ой";
  if (/ия$/i.test(word)) return word.slice(0, -1) + "и";
  if (/я$/i.test(word)) return word.slice(0, -1) + "и";
  if (/[гкхжшщч]а$/i.test(word)) return word.slice(0, -1) + "и";
  if (/а$/i.test(word)) return word.slice(0, -1) + "ы";
  return word;
}

function maleWord(word, part) {
  const irregular = { павел: "Павла", лев: "Льва", пётр: "Петра", петр: "Петра" };
  if (part === "first" && irregular[word.toLowerCase()]) return irregular[word.toLowerCase()];
  if (part === "last" && /(ский|цкий)$/i.test(word)) return word.slice(0, -2) + "ого";
  if (part === "last" && /(ой|ый)$/i.test(word)) return word.slice(0, -2) + "ого";
  if (/[ийе]й$/i.test(word) || /[аеоуыэюя]й$/i.test(word)) return word.slice(0, -1) + "я";
  if (/ь$/i.test(word)) return word.slice(0, -1) + "я";
  if (/а$/i.test(word)) return word.slice(0, -1) + "у";
  if (/я$/i.test(word)) return word.slice(0, -1) + "ю";
  if (/(их|ых|[оеиуэю])$/i.test(word)) return word;
  return word + "а";
}

function declined(name, kase) {
  const [last, first, ...rest] = name.split(/\s+/);
  const middle = rest.join(" ");
  if (!first) return name;
  const female = isFemale(first, middle);
  const word = (w, part) => (female ? femaleWord(w, kase, part) : maleWord(w, part));
  return [word(last, "last"), word(first, "first"), middle ? word(middle, "middle") : ""]
    .filter(Boolean).join(" ");
}

// --- the confirmation dialog ------------------------------------------------------------------
function ask(title, text, yes) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").textContent = text;
  document.getElementById("confirm-yes").textContent = yes;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
  });
}

function say(id, text, isError = false) {
  const node = document.getElementById(id);
  node.textContent = text;
  node.className = isError ? "error" : "ok";
}

function table(headers, rows, empty = "Нет записей.") {
  if (!rows.length) return propuskEl("p", { class: "muted" }, empty);
  // on a phone each row reads as a card: every cell names its column (site.css, table.cards)
  return propuskEl("table", { class: "cards" },
    propuskEl("tr", {}, headers.map((h) => propuskEl("th", { scope: "col" }, h))),
    rows.map((r) => propuskEl("tr", {}, r.map((c, i) => propuskEl("td", { "data-label": headers[i] }, c)))));
}

// --- profile ----------------------------------------------------------------------------------
async function loadProfile() {
  const p = await propuskApi(`${base}/profile`);
  document.getElementById("school-name").textContent = p.short_name || p.name;
  const item = (term, value) => [propuskEl("dt", {}, term), propuskEl("dd", {}, value || "не указано")];
  document.getElementById("profile-details").replaceChildren(...[
    item("Полное наименование", p.name), item("Краткое наименование", p.short_name),
    item("ИНН", p.inn), item("ОГРН", p.ogrn), item("Адрес", p.address), item("Регион", p.region),
  ].flat());
  const counts = Object.entries(p.counts).filter(([, n]) => n > 0);
  const items = counts.map(([role, n]) => propuskEl("li", {}, propuskEl("strong", {}, String(n)), " — ", propuskRoleText(role)));
  if (p.not_logged_in) {
    items.push(propuskEl("li", {}, propuskEl("strong", {}, String(p.not_logged_in)), " — из списка ещё не входили в Пропуск"));
  }
  document.getElementById("profile-counts").replaceChildren(...items);
  const form = document.getElementById("profile-form");
  form.classList.toggle("hidden", !p.can_edit);
  document.getElementById("short-name").value = p.short_name || "";
  return p;
}

document.getElementById("profile-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await propuskApi(base, propuskJson("PATCH", { short_name: document.getElementById("short-name").value }));
    await loadProfile();
    say("profile-result", "Сохранено.");
  } catch (e) { if (e.message !== "login") say("profile-result", e.message, true); }
});

// --- roster import: upload with progress, preview, apply ------------------------------------
// fetch() tells nothing of an upload's progress: XMLHttpRequest does (with the CSRF token).
function upload(path, file, label) {
  const box = document.getElementById("roster-progress");
  const bar = document.getElementById("upload-progress");
  document.getElementById("upload-label").textContent = label;
  bar.value = 0;
  box.classList.remove("hidden");
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", PROPUSK_CSRF);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    });
    xhr.upload.addEventListener("load", () => {
      bar.value = 100;
      document.getElementById("upload-label").textContent = "Файл получен, идёт обработка…";
    });
    xhr.addEventListener("error", () => reject(new Error("Не удалось отправить файл: проверьте соединение.")));
    xhr.addEventListener("load", async () => {
      box.classList.add("hidden");
      if (xhr.status === 401) { location.href = `/login?next=${encodeURIComponent(location.pathname)}`; return; }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(xhr.response); return; }
      await propuskLoadMessages();
      const error = new Error(propuskProblemText(xhr.response, xhr.status));
      error.body = xhr.response;
      reject(error);
    });
    xhr.send(file);
  });
}

function formatText(f) {
  if (f.kind === "xlsx") return "таблица XLSX";
  const encoding = f.encoding === "cp1251" ? "кириллическая (1251)" : "UTF-8";
  const delimiter = f.delimiter === ";" ? "точка с запятой" : f.delimiter === "," ? "запятая" : "табуляция";
  return `CSV, кодировка ${encoding}, разделитель — ${delimiter}`;
}

function lineName(x) {
  return `${x.name}${x.class ? `, ${x.class}` : ""} (${propuskRoleText(x.role)})`;
}

function changeText(x) {
  const parts = [];
  if (x.changes.includes("class")) parts.push(`класс: ${x.previous_class || "не указан"} → ${x.class || "не указан"}`);
  if (x.changes.includes("name")) parts.push("исправлены ФИО или дата рождения");
  if (x.changes.includes("snils")) parts.push("изменён СНИЛС");
  return parts.join("; ");
}

function listing(title, items, text) {
  if (!items.length) return null;
  return propuskEl("details", {}, propuskEl("summary", {}, `${title}: ${items.length}`),
    propuskEl("ul", {}, items.slice(0, 500).map((x) => propuskEl("li", {}, text(x)))),
    items.length > 500 ? propuskEl("p", { class: "muted" }, `и ещё ${items.length - 500}`) : null);
}

function showPreview(p) {
  const out = document.getElementById("roster-result");
  const nothing = !p.added.length && !p.updated.length && !p.ended.length;
  out.replaceChildren(...[
    propuskEl("h3", {}, "Проверка пройдена: ошибок нет"),
    propuskEl("p", { class: "muted" }, `Файл: ${chosenFile.name} — ${formatText(p.format)}.`),
    propuskEl("p", { class: "summary" },
      `Строк в файле: ${p.rows}. Будет добавлено: ${p.added.length}, изменится: ${p.updated.length}, ` +
      `без изменений: ${p.unchanged}, завершится записей: ${p.ended.length}.`),
    listing("Будут добавлены", p.added, (x) => `строка ${x.line}: ${lineName(x)}`),
    listing("Изменятся", p.updated, (x) => `строка ${x.line}: ${x.name} — ${changeText(x)}`),
    listing("Завершатся (нет в новом файле)", p.ended, lineName),
    nothing ? propuskEl("p", {}, "Список школы уже такой же, как в файле.") : null,
    propuskEl("div", { class: "buttons" },
      propuskEl("button", { type: "button", id: "roster-apply", onclick: applyPreview }, "Загрузить список"),
      propuskEl("button", { type: "button", class: "secondary", onclick: resetImport }, "Отменить")),
  ].filter(Boolean));
}

function showErrors(e) {
  const errors = Array.isArray(e.body?.errors) ? e.body.errors : [];
  const items = errors.map((x) => (x.line > 0 ? `строка ${x.line}: ${x.message}` : x.message));
  document.getElementById("roster-result").replaceChildren(...[
    propuskEl("h3", { class: "error" }, e.message),
    items.length ? propuskEl("ol", { class: "errors", id: "roster-errors" }, items.slice(0, 500).map((t) => propuskEl("li", {}, t))) : null,
    items.length > 500 ? propuskEl("p", { class: "muted" }, `и ещё ошибок: ${items.length - 500}`) : null,
    items.length ? propuskEl("p", {}, "Исправьте файл и выберите его снова: в список не записано ничего.") : null,
  ].filter(Boolean));
}

function resetImport() {
  preview = null;
  document.getElementById("roster-result").replaceChildren();
}

document.getElementById("roster-file").addEventListener("change", (event) => {
  chosenFile = event.target.files[0] || null;
  document.getElementById("roster-file-name").textContent = chosenFile ? chosenFile.name : "Файл не выбран";
  resetImport();
});

document.getElementById("roster-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!chosenFile) {
    document.getElementById("roster-result").replaceChildren(propuskEl("p", { class: "error" }, "Сначала выберите файл."));
    return;
  }
  resetImport();
  const button = document.getElementById("roster-check");
  button.disabled = true;
  try {
    const checked = await upload(`${base}/roster/preview`, chosenFile, "Файл отправляется на проверку…");
    if (checked.valid) {
      preview = checked;
      showPreview(checked);
    } else {  // the check found mistakes: each line's, and nothing to apply
      showErrors({ message: "В файле есть ошибки — список не загружен.", body: checked });
    }
  } catch (e) { showErrors(e); } finally { button.disabled = false; }
});

async function applyPreview() {
  if (!preview || !chosenFile) return;
  const apply = document.getElementById("roster-apply");
  if (apply) apply.disabled = true;
  try {
    const r = await upload(`${base}/roster/apply?token=${encodeURIComponent(preview.token)}`, chosenFile,
      "Список загружается…");
    preview = null;
    const out = document.getElementById("roster-result");
    out.replaceChildren(
      propuskEl("h3", { class: "ok" }, "Список загружен"),
      propuskEl("p", { class: "summary", id: "roster-applied" },
        `Применено строк: ${r.rows}. Добавлено: ${r.added}, изменено: ${r.updated}, без изменений: ${r.unchanged}, ` +
        `завершено: ${r.ended}, узнано среди вошедших через Госуслуги: ${r.matched}.`));
    if (r.review.length) {  // rows not matched to a person on name and birth date alone
      out.append(propuskEl("p", {}, "Требуют проверки:"),
        table(["Строка", "Причина"], r.review.map((x) => [String(x.line), x.message])));
    }
    await Promise.all([loadProfile(), loadPeople()]);
  } catch (e) {
    if (apply) apply.disabled = false;
    showErrors(e);
  }
}

// --- people -----------------------------------------------------------------------------------
function filters() {
  const params = new URLSearchParams();
  const pairs = [["q", "people-q"], ["class", "people-class"], ["role", "people-role"], ["login", "people-login"]];
  for (const [key, id] of pairs) {
    const value = document.getElementById(id).value.trim();
    if (value) params.set(key, value);
  }
  return params.toString();
}

function fillSelect(id, values, label) {
  const select = document.getElementById(id);
  const current = select.value;
  const first = select.options[0];
  select.replaceChildren(first, ...values.map((v) => propuskEl("option", { value: v }, label(v))));
  select.value = values.includes(current) ? current : "";
}

function proctorCell(p) {
  if (p.proctor === "active") return propuskEl("span", { class: "badge active" }, "проктор");
  if (p.proctor === "pending") return propuskEl("span", { class: "badge pending" }, "назначен, ждёт первого входа");
  return "—";
}

function actionsOf(p) {
  const buttons = [];
  if (p.can_appoint) {
    buttons.push(propuskEl("button", { type: "button", onclick: () => appoint(p) }, "Назначить проктором"));
  } else if (p.proctor === "active" && p.proctor_status_id) {
    buttons.push(propuskEl("button", { type: "button", class: "secondary", onclick: () => endProctor(p) }, "Снять с проктора"));
  } else if (p.proctor === "pending") {
    buttons.push(propuskEl("button", { type: "button", class: "secondary", onclick: () => cancelPending(p) }, "Отменить назначение"));
  }
  return propuskEl("span", { class: "actions" }, buttons);
}

let peopleAsked = 0;  // answers to an older search or filter arrive late: only the last counts

async function loadPeople() {
  const query = filters();
  const asked = ++peopleAsked;
  document.getElementById("people-export").setAttribute("href", `${base}/people.csv${query ? "?" + query : ""}`);
  const r = await propuskApi(`${base}/people?${query ? query + "&" : ""}limit=${PAGE_ROWS}`);
  if (asked !== peopleAsked) return;
  fillSelect("people-class", r.classes, (c) => c);
  const shown = r.people;
  document.getElementById("people-count").textContent = r.found > shown.length
    ? `Найдено: ${r.found} из ${r.total}; показаны первые ${shown.length} — уточните поиск или скачайте CSV.`
    : `Найдено: ${r.found} из ${r.total}.`;
  document.getElementById("people").replaceChildren(table(
    ["ФИО", "Роли", "Класс", "Дата рождения", "Вход в Пропуск", "Проктор", "Действия"],
    shown.map((p) => [propuskEl("strong", {}, p.name), p.roles.map(propuskRoleText).join(", "), p.class || "—",
      p.birth_date ? propuskDate(p.birth_date) : "—", p.logged_in ? "входил(а)" : "ещё не входил(а)",
      proctorCell(p), actionsOf(p)]),
    "Никого не нашлось: измените поиск или фильтры."));
}

async function act(call, done) {
  try {
    await call();
    say("people-result", done);
    await Promise.all([loadPeople(), loadProfile()]);
  } catch (e) { if (e.message !== "login") say("people-result", e.message, true); }
}

async function appoint(p) {
  const waiting = p.logged_in ? "" : " Этот человек ещё не входил в Пропуск: назначение вступит в силу при первом входе через Госуслуги.";
  const ok = await ask(`Назначить ${declined(p.name, "acc")} проктором?`,
    `Проктор проводит экзамены школы с проверкой личности.${waiting}`, "Назначить");
  if (!ok) return;
  await act(() => (p.roster_entry_id && p.roles.includes("teacher")
    ? propuskApi(`${base}/roster/${p.roster_entry_id}/proctor`, { method: "POST" })
    : propuskApi(`${base}/proctors`, propuskJson("POST", { person_id: p.person_id }))),
  `${p.name}: назначен(а) проктором${p.logged_in ? "" : " (вступит в силу при первом входе)"}.`);
}

async function endProctor(p) {
  const ok = await ask(`Снять ${declined(p.name, "acc")} с обязанностей проктора?`,
    "Статус проктора прекратится сразу; назначить снова можно в любой момент.", "Снять с проктора");
  if (!ok) return;
  await act(() => propuskApi(`${base}/statuses/${p.proctor_status_id}`, { method: "DELETE" }),
    `${p.name}: статус проктора прекращён.`);
}

async function cancelPending(p) {
  const ok = await ask(`Отменить назначение проктором для ${declined(p.name, "gen")}?`,
    "Назначение ещё не вступило в силу: этот человек не входил в Пропуск.", "Отменить назначение");
  if (!ok) return;
  await act(() => propuskApi(`${base}/roster/${p.roster_entry_id}/proctor`, { method: "DELETE" }),
    `${p.name}: назначение проктором отменено.`);
}

let searchTimer = null;
document.getElementById("people-filters").addEventListener("submit", (event) => event.preventDefault());
document.getElementById("people-q").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => loadPeople().catch(showLoadError), 250);
});
for (const id of ["people-class", "people-role", "people-login"]) {
  document.getElementById(id).addEventListener("change", () => loadPeople().catch(showLoadError));
}

function showLoadError(e) {
  if (e.message !== "login") say("people-result", e.message, true);
}

async function start() {
  await propuskLoadMessages();  // the roles' names are the catalogue's (propuskRoleText)
  fillSelect("people-role", ROLE_FILTERS, propuskRoleText);
  const profile = await loadProfile();
  // the roster and its people are the school admin's (roster import): a teacher reads the profile
  for (const id of ["import", "people-section"]) {
    document.getElementById(id).classList.toggle("hidden", !profile.can_manage);
  }
  if (profile.can_manage) await loadPeople();
}

start().catch((e) => {  // the school could not be read: say why in its place
  if (e.message !== "login") {
    document.getElementById("school-name").replaceChildren(propuskEl("span", { class: "error" }, e.message));
  }
});

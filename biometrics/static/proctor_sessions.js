// «Мои экзамены»: the proctor's sessions and a new session (JSON API only; Moscow time).
"use strict";

const el = propuskEl;
const WINDOW = { upcoming: "ещё не началась", open: "идёт", closed: "закончилась" };
const list = document.getElementById("sessions");
const form = document.getElementById("create");
const schoolSelect = document.getElementById("school");
let picker = null;

function sessionsTable(sessions) {
  if (!sessions.length) return el("p", { class: "muted" }, "Сессий пока нет: создайте первую ниже.");
  const head = el("tr", {}, ...["Экзамен", "Школа", "Время", "Участники", ""].map((h) => el("th", {}, h)));
  return el("table", { class: "cards" }, head, ...sessions.map((s) => el("tr", {},
    el("td", { "data-label": "Экзамен" }, el("strong", {}, s.title), el("br"), s.course),
    el("td", { "data-label": "Школа" }, s.school_name),
    el("td", { "data-label": "Время" }, `${propuskDateTime(s.opens_at)} — ${propuskDateTime(s.closes_at)}`,
      el("br"), el("span", { class: "muted" }, WINDOW[s.window])),
    el("td", { "data-label": "Участники" },
      `${s.takers} всего, начали ${s.started}, решений ${s.decided}`,
      s.flagged ? el("span", { class: "state state-0" }, ` флаги: ${s.flagged}`) : ""),
    el("td", { "data-label": "" }, el("a", { class: "button", href: `/exams/${s.id}/proctor`, "aria-label": `Открыть: ${s.title}` }, "Открыть")))));
}

// "2026-12-05" + "10:30" in Moscow time (UTC+3 all year) → an ISO time with its offset.
function moscow(day, time) {
  return `${day}T${time}:00+03:00`;
}

function moscowToday() {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Europe/Moscow", year: "numeric", month: "2-digit", day: "2-digit",
  }).format(new Date());
  return parts; // en-CA writes YYYY-MM-DD
}

async function load() {
  try {
    const r = await propuskApi("/api/v1/exams/sessions");
    list.replaceChildren(sessionsTable(r.sessions));
    if (!schoolSelect.options.length) {
      schoolSelect.append(...r.schools.map((s) => el("option", { value: s.id }, s.name)));
      if (!r.schools.length) {
        form.replaceChildren(el("p", { class: "muted" },
          "Вы не назначены проктором ни в одной школе: создавать сессии может проктор школы."));
        return;
      }
      picker = proctorPicker(document.getElementById("picker"), schoolSelect.value);
      picker.search();
    }
  } catch (e) {
    list.replaceChildren(el("p", { class: "error" }, e.status === 403
      ? "Вы не назначены проктором ни в одной школе: сессии аттестации ведёт проктор школы."
      : e.message));
    if (e.status === 403) form.closest("section").hidden = true;
  }
}

schoolSelect.addEventListener("change", () => picker?.setSchool(schoolSelect.value));
document.getElementById("day").value = moscowToday();

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = document.getElementById("create-result");
  const v = (name) => form.elements[name].value.trim();
  if (!v("course") || !v("title") || !v("day") || !v("opens") || !v("closes")) {
    out.textContent = "Заполните предмет, название, дату, начало и окончание.";
    out.className = "error";
    return;
  }
  if (!picker?.chosen().length) {
    out.textContent = "Выберите хотя бы одного участника.";
    out.className = "error";
    return;
  }
  const body = {
    school_id: schoolSelect.value, course: v("course"), title: v("title"),
    opens_at: moscow(v("day"), v("opens")), closes_at: moscow(v("day"), v("closes")),
    takers: picker.chosen(), keep_frames_days: Number(form.elements.keep_frames_days.value),
  };
  try {
    const s = await propuskApi("/api/v1/exams/sessions", propuskJson("POST", body));
    out.textContent = `Сессия «${s.title}» создана.`;
    out.className = "";
    location.href = `/exams/${s.id}/proctor`;
  } catch (e) {
    out.textContent = e.message;
    out.className = "error";
  }
});

load();

// A session's page for its proctor: takers (name, class, enrolment photo next to the latest
// checked frame), a live timeline of checks (polling), alerts when a flag appears (visual, and a
// WebAudio beep once sound is on), the list sorted by attention, and the decision — no default,
// always with its reason, with the document the taker showed (JSON API only).
"use strict";

const el = propuskEl;
const POLL_MS = 4000;
// the marks' colours are in exam.css (.mark-match …): the page's policy allows no inline style
const RESULTS = new Set(["match", "mismatch", "no_face", "several_faces"]);
// the proctor's own vocabulary; results, flags and reasons come from the catalogue of messages
// (propuskCheckText, static/api.js)
const RU = {
  biometric: "по лицу", manual: "по документу", consistent_match: "совпадение устойчивое",
  review: "требует внимания", manual_check: "ручная проверка", verified: "личность подтверждена",
  rejected: "отклонено",
};
const WINDOW = { upcoming: "ещё не началась", open: "идёт", closed: "закончилась" };
const ATTENTION = ["Флаг — нужна проверка", "Требует внимания", "Без замечаний", "Решение принято"];
const DOCUMENTS = [
  ["passport", "паспорт гражданина РФ"], ["birth_certificate", "свидетельство о рождении"],
  ["foreign_passport", "заграничный паспорт"], ["student_card", "ученический билет"],
  ["other", "другой документ"],
];
const root = document.getElementById("session");
const examId = root.dataset.examId;
const base = `/api/v1/exams/sessions/${examId}`;
const cards = new Map(); // person id → the card's parts (built once: a poll never resets a form)
const seenFlags = new Map(); // person id → flags already announced
let first = true;
let audio = null;
let windowState = "open";

// --- alerts ----------------------------------------------------------------------------------

function beep() {
  if (!audio || audio.state !== "running") return;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = "square";
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.15, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.6);
}

document.getElementById("sound").addEventListener("click", async () => {
  audio = audio || new AudioContext();
  await audio.resume();
  document.getElementById("sound-state").textContent = "Звук включён: при новом флаге прозвучит сигнал.";
  document.getElementById("sound").textContent = "Проверить звук";
  beep();
});

function announce(taker, flag) {
  const box = document.getElementById("alerts");
  const text = `Флаг: ${taker.name} — ${propuskCheckText(flag.kind)} (${flag.frames} ${propuskPlural(
    flag.frames, "кадр", "кадра", "кадров")} подряд, с ${propuskDateTime(flag.started_at)}).`;
  box.prepend(el("p", { class: "alert" }, text));
  while (box.children.length > 5) box.lastChild.remove();
  beep();
}

// --- one taker's card ---------------------------------------------------------------------

function who(t) {
  return t.class_name ? `${t.name}, ${t.class_name} класс` : t.name;
}

function decisionForm(t) {
  const id = t.person_id;
  const decision = el("select", { id: `decision-${id}`, name: "decision", required: true },
    el("option", { value: "", selected: true, disabled: true }, "— выберите решение —"),
    ...["verified", "rejected", "manual_check"].map((d) => el("option", { value: d }, RU[d])));
  const note = el("textarea", { id: `note-${id}`, name: "note", required: true, maxlength: "1000",
    placeholder: "Например: лицо совпадает с фотографией, паспорт предъявлен" });
  const doc = el("select", { id: `doc-${id}`, name: "document" },
    el("option", { value: "" }, "документ не предъявлялся"),
    ...DOCUMENTS.map(([v, text]) => el("option", { value: v }, text)));
  const last4 = el("input", { id: `last4-${id}`, name: "last4", inputmode: "numeric",
    pattern: "[0-9]{4}", maxlength: "4", size: "6", autocomplete: "off" });
  const matches = el("input", { id: `matches-${id}`, name: "same_face", type: "checkbox" });
  const out = el("p", { role: "status" });
  const submit = async (event) => {
    event.preventDefault();
    out.className = "error";
    if (!decision.value) { out.textContent = "Выберите решение."; decision.focus(); return; }
    if (note.value.trim().length < 3) { out.textContent = "Укажите основание решения."; note.focus(); return; }
    const body = { decision: decision.value, note: note.value.trim() };
    if (doc.value) {
      if (!/^[0-9]{4}$/.test(last4.value)) {
        out.textContent = "Последние 4 цифры номера документа: ровно четыре цифры.";
        last4.focus();
        return;
      }
      body.identity_document = { type: doc.value, number_last4: last4.value, matches_photo: matches.checked };
    }
    try {
      await propuskApi(`${base}/takers/${id}/decision`, propuskJson("POST", body));
      out.className = "";
      out.textContent = "";
      note.value = "";
      decision.value = "";
      form.closest("details").open = false;
      document.getElementById("notice").textContent = `Решение по участнику ${who(t)} записано: ${RU[body.decision]}.`;
      load();
    } catch (e) { out.textContent = e.message; }
  };
  const form = el("form", { class: "decision-form", onsubmit: submit, novalidate: true },
    el("p", {}, el("label", { for: decision.id }, "Решение"), decision),
    el("p", {}, el("label", { for: note.id }, "Основание решения (обязательно)"), note),
    el("fieldset", { class: "doc" }, el("legend", {}, "Документ, который показал участник"),
      el("p", {}, el("label", { for: doc.id }, "Документ"), doc),
      el("p", {}, el("label", { for: last4.id }, "Последние 4 цифры номера"), last4),
      el("p", {}, matches, " ", el("label", { for: matches.id, class: "check" }, "фотография в документе совпадает с лицом"))),
    el("p", {}, el("button", { type: "submit" }, "Записать решение")), out);
  return form;
}

function removeButton(t) {
  return el("button", {
    type: "button", class: "secondary remove",
    onclick: async () => {
      if (!confirm(`Убрать участника ${who(t)} из этой сессии?`)) return;
      try {
        await propuskApi(`${base}/takers/${t.person_id}`, { method: "DELETE" });
        document.getElementById("notice").textContent = `Участник ${who(t)} убран из сессии.`;
        cards.get(t.person_id)?.root.remove();
        cards.delete(t.person_id);
        load();
      } catch (e) { document.getElementById("notice").textContent = e.message; }
    },
  }, "Убрать из сессии");
}

function card(t) {
  const parts = {
    state: el("span", { class: "state" }),
    status: el("p"),
    photo: el("figure", {}),
    frame: el("figure", {}),
    timeline: el("div", { class: "timeline", role: "img" }),
    flags: el("p"),
    decision: el("p"),
    actions: el("div"),
    summary: el("summary", {}, "Решение о личности"),
    frameSeq: null,
  };
  parts.photo.append(t.has_photo
    ? el("img", { src: `${base}/takers/${t.person_id}/photo`, alt: `Фотография при регистрации: ${t.name}`, width: "200", height: "240" })
    : el("div", { class: "none" }, "Фотографии при регистрации нет"),
  el("figcaption", {}, "При регистрации лица"));
  parts.root = el("section", { class: "taker", "data-person": t.person_id, "aria-label": who(t) },
    el("h2", {}, who(t)), parts.state, parts.status,
    el("div", { class: "faces" }, parts.photo, parts.frame),
    parts.timeline, parts.flags, parts.decision, parts.actions,
    parts.decide = el("details", { class: "decide" }, parts.summary, decisionForm(t)));
  return parts;
}

function describe(t) {
  const live = t.liveness.passed
    ? "пройдена"
    : `не пройдена (попыток ${t.liveness.attempts}${t.liveness.last_reason ? `; ${propuskCheckText(t.liveness.last_reason)}` : ""})`;
  if (!t.path) return "Аттестация ещё не начата.";
  const reason = t.path_reason ? ` (${propuskCheckText(t.path_reason)})` : "";
  return `Проверка: ${RU[t.path]}${reason}; перед камерой: ${live}; кадров: ${t.summary.frames}, ` +
    `совпадений: ${t.summary.match}; оценка: ${RU[t.summary.suggestion]}.`;
}

function drawFrame(parts, t) {
  const latest = t.latest;
  const key = latest ? `${latest.seq}:${latest.kept}` : "none";
  if (parts.frameSeq === key) return;
  parts.frameSeq = key;
  const caption = latest
    ? `Последняя проверка: ${propuskCheckText(latest.result)}, ${propuskDateTime(latest.at)}`
    : "Проверок ещё не было";
  parts.frame.replaceChildren(
    latest?.kept
      ? el("img", { src: `${base}/takers/${t.person_id}/frames/${latest.seq}`, alt: `Последний проверенный кадр: ${t.name}`, width: "200", height: "150" })
      : el("div", { class: "none" }, latest ? "Кадры этой сессии не хранятся" : "Кадра ещё нет"),
    el("figcaption", {}, caption));
}

function update(parts, t) {
  parts.root.className = `taker attention-${t.attention}`;
  parts.state.className = `state state-${t.attention}`;
  parts.state.textContent = ATTENTION[t.attention];
  parts.status.textContent = describe(t);
  drawFrame(parts, t);
  const marks = t.timeline.map((e) => el("span", {
    title: `${e.seq}: ${propuskCheckText(e.result)}${e.distance != null ? ` (${e.distance})` : ""}`,
    class: `mark mark-${RESULTS.has(e.result) ? e.result : "other"}`,
  }));
  parts.timeline.replaceChildren(...marks);
  parts.timeline.setAttribute("aria-label", `Проверок: ${t.timeline.length}`);
  parts.flags.textContent = t.flags.length
    ? `Флаги: ${t.flags.map((f) => `${propuskCheckText(f.kind)} ×${f.frames}`).join(", ")}`
    : "Флагов нет.";
  parts.flags.className = t.flags.length ? "error" : "muted";
  parts.decision.textContent = t.decision
    ? `Решение: ${RU[t.decision.decision]} (${propuskDateTime(t.decision.decided_at)}). Основание: ${t.decision.basis.note || "—"}` +
      (t.decision.basis.identity_document
        ? `; документ: ${Object.fromEntries(DOCUMENTS)[t.decision.basis.identity_document.type] || "другой документ"}, …${t.decision.basis.identity_document.number_last4 || ""}`
        : "")
    : "Решения пока нет.";
  parts.summary.textContent = t.decision ? "Изменить решение" : "Решение о личности";
  const removable = !t.started_at && !t.decision && windowState !== "closed" && t.timeline.length === 0;
  parts.actions.replaceChildren(removable ? removeButton(t) : "");
  // a flag not seen before: announce it (not on the first load: that is the state found)
  const known = seenFlags.get(t.person_id) || 0;
  const count = t.flags.reduce((n, f) => n + f.frames, 0);
  if (!first && count > known && t.flags.length) announce(t, t.flags[t.flags.length - 1]);
  seenFlags.set(t.person_id, count);
}

// --- the session ----------------------------------------------------------------------------

async function load() {
  try {
    await propuskLoadMessages();
    const s = await propuskApi(base);
    windowState = s.window;
    document.getElementById("exam-title").textContent = `${s.title} — ${s.course}`;
    document.getElementById("exam-meta").textContent =
      `${s.school_name}. Время: ${propuskDateTime(s.opens_at)} — ${propuskDateTime(s.closes_at)} ` +
      `(${WINDOW[s.window]}). Участников: ${s.takers.length}.`;
    if (s.window === "closed") document.getElementById("add-takers").hidden = true;
    if (!s.takers.length) root.replaceChildren(el("p", { class: "muted" }, "Участников нет: добавьте их ниже."));
    else root.querySelector(":scope > p.muted")?.remove();
    const order = [];
    for (const t of s.takers) {
      if (!cards.has(t.person_id)) cards.set(t.person_id, card(t));
      const parts = cards.get(t.person_id);
      update(parts, t);
      order.push(parts.root);
    }
    const now = [...root.children];
    if (order.length !== now.length || order.some((node, i) => node !== now[i])) root.append(...order);
    first = false;
  } catch (e) {
    if (first) {
      root.replaceChildren(el("p", { class: "error" }, e.status === 403
        ? "Эту сессию аттестации ведёт другой проктор: её участники и проверки вам не показываются."
        : e.message));
      for (const node of document.querySelectorAll("#add-takers, p.sound, p.legend")) node.hidden = true;
      clearInterval(poll);
    } else {
      document.getElementById("notice").textContent = e.message;
    }
  }
}

const picker = proctorPicker(document.getElementById("picker"), null);
let pickerReady = false;
document.getElementById("add-takers").addEventListener("toggle", async (event) => {
  if (!event.target.open || pickerReady) return;
  const s = await propuskApi(base);
  picker.setSchool(s.school_id);
  pickerReady = true;
});
document.getElementById("add").addEventListener("click", async () => {
  const out = document.getElementById("add-result");
  if (!picker.chosen().length) { out.textContent = "Выберите хотя бы одного ученика."; return; }
  try {
    const r = await propuskApi(`${base}/takers`, propuskJson("POST", { takers: picker.chosen() }));
    out.textContent = `Добавлено: ${r.added}.`;
    picker.clear();
    load();
  } catch (e) { out.textContent = e.message; }
});

const poll = setInterval(load, POLL_MS);
load();

// Proctor view: takers, liveness, timelines, flags and the decision form (JSON API only).
"use strict";

// the marks' colours are in exam.css (.mark-match …): the page's policy allows no inline style
const RESULTS = new Set(["match", "mismatch", "no_face", "several_faces"]);
// the proctor's own vocabulary; results, flags and reasons come from the catalogue of messages
// (propuskCheckText, static/api.js)
const RU = {
  biometric: "биометрия", manual: "по документу", consistent_match: "совпадение устойчивое",
  review: "требует внимания", manual_check: "ручная проверка", verified: "личность подтверждена",
  rejected: "отклонено",
};
const root = document.getElementById("session");
const examId = root.dataset.examId;
const base = `/api/v1/exams/sessions/${examId}`;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}

async function api(path, options = {}) {
  const response = await propuskFetch(path, options);  // /static/api.js: cookie + CSRF token
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(propuskProblemText(body, response.status));
  return body;
}

function timeline(events) {
  return el("div", { class: "timeline" }, ...events.map((e) => el("span", {
    title: `${e.seq}: ${propuskCheckText(e.result)}${e.distance != null ? ` (${e.distance})` : ""}`,
    class: `mark mark-${RESULTS.has(e.result) ? e.result : "other"}`,
  })));
}

function decisionForm(taker) {
  const select = el("select", { name: "decision" },
    ...["verified", "rejected", "manual_check"].map((d) => el("option", { value: d }, RU[d])));
  const note = el("input", { name: "note", placeholder: "Основание решения", maxlength: "1000" });
  const doc = el("select", { name: "document" }, el("option", { value: "" }, "документ не проверялся"),
    el("option", { value: "passport" }, "паспорт"), el("option", { value: "birth_certificate" }, "свидетельство о рождении"),
    el("option", { value: "student_card" }, "ученический билет"), el("option", { value: "other" }, "другой документ"));
  const last4 = el("input", { name: "last4", placeholder: "4 последних символа номера", maxlength: "4", size: "6" });
  const out = el("span", { class: "muted" });
  const submit = async (event) => {
    event.preventDefault();
    const body = { decision: select.value, note: note.value || null };
    if (doc.value) body.identity_document = { type: doc.value, number_last4: last4.value || null };
    try {
      await api(`${base}/takers/${taker.person_id}/decision`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
      });
      document.getElementById("notice").textContent = "Решение записано.";
      load();
    } catch (e) { out.textContent = e.message; }
  };
  return el("form", { onsubmit: submit }, select, " ", note, " ", doc, " ", last4, " ",
    el("button", { type: "submit" }, "Записать решение"), " ", out);
}

async function load() {
  try {
    await propuskLoadMessages();
    const s = await api(base);
    root.replaceChildren(
      el("p", {}, `${s.course} — ${s.title}. Окно: ${propuskDateTime(s.opens_at)} — ${propuskDateTime(s.closes_at)}. Порог: ${s.threshold}.`),
      ...s.takers.map((t) => el("section", { class: "taker" },
        el("h2", {}, `Участник ${t.person_id.slice(0, 8)}`),
        el("p", {}, `Путь: ${RU[t.path] || "не начинал"}${t.path_reason ? ` (${propuskCheckText(t.path_reason)})` : ""}; `,
          `живость: ${t.liveness.passed ? "пройдена" : `нет (попыток ${t.liveness.attempts}` +
            `${t.liveness.last_reason ? `; ${propuskCheckText(t.liveness.last_reason)}` : ""})`}; `,
          `кадров: ${t.summary.frames}, совпадений: ${t.summary.match}; оценка: ${RU[t.summary.suggestion]}.`),
        timeline(t.timeline),
        el("p", {}, t.flags.length ? `Флаги: ${t.flags.map((f) => `${propuskCheckText(f.kind)} ×${f.frames}`).join(", ")}` : "Флагов нет."),
        t.decision ? el("p", {}, `Решение: ${RU[t.decision.decision]} (${propuskDateTime(t.decision.decided_at)})`) : "",
        decisionForm(t))),
    );
  } catch (e) {
    root.replaceChildren(el("p", { class: "error" }, e.message));
  }
}

load();
setInterval(load, 10000);

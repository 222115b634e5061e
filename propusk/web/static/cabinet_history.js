// The cabinet's history: who received (or was refused) the subject's data, with the audit
// record checked in the browser (proof.js); the values held; the 152-FZ demands and notices;
// and the rectification form (categories picked by their titles, never typed as codes).
// Uses cabinet.js's el/api/rows/badge helpers and api.js's Moscow dates.
"use strict";

const DECISIONS = { allowed: ["передано", "ok"], partial: ["передано частично", "warn"], refused: ["отказано", "stop"] };
const KINDS = {
  stop_processing: "Требование прекратить обработку", rectification: "Уточнение данных",
  access: "Запрос сведений (ст. 14)", unlawful: "Неправомерная обработка",
  destruction_deferred: "Уничтожение отложено",
};
const OBLIGATION_STATES = {  // consent/obligations/resolution.py: the status each step sets
  open: ["в работе", "warn"], extended: ["срок продлён", "warn"], answered: ["дан ответ", "ok"],
  stopped: ["обработка прекращена", "ok"], rectified: ["данные уточнены", "ok"],
  destroyed: ["данные уничтожены", "ok"], remedied: ["нарушение устранено", "ok"],
  rejected: ["отклонено оператором", "stop"], refused: ["отказ", "stop"], closed: ["закрыто", "muted"],
};

// A held value as text: strings and numbers as they are; a record's fields named when their
// names are words a person reads (Cyrillic), by their values alone when they are machine keys.
function valueText(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.map(valueText).join("; ");
  if (typeof value === "object") {
    return Object.entries(value).map(([k, v]) => (/[А-Яа-яЁё]/.test(k) ? `${k}: ${valueText(v)}` : valueText(v)))
      .join("; ");
  }
  if (typeof value === "boolean") return value ? "да" : "нет";
  return String(value);
}

async function checkRecord(t, box, button) {
  button.disabled = true;
  box.classList.remove("hidden", "ok", "bad", "pending");
  if (!t.audit || t.audit.pending) {
    box.classList.add("pending");
    box.replaceChildren(el("p", {}, "Запись ещё не вошла в подписанную контрольную точку журнала. Проверьте через несколько минут."));
    button.disabled = false;
    return;
  }
  box.replaceChildren(el("p", {}, "Проверяем…"));
  const result = await verifyInclusionProof(t.audit);  // proof.js
  box.classList.add(result.ok ? "ok" : "bad");
  box.replaceChildren(
    el("p", {}, el("strong", {}, result.ok
      ? `Запись № ${result.index + 1} журнала аудита подлинная: проверено в вашем браузере.`
      : "Запись не прошла проверку. Сообщите оператору платформы.")),
    el("ul", {}, result.steps.map((s) => el("li", {}, `${s.ok ? "✓" : "✗"} ${s.text}`))));
  button.disabled = false;
}

function transferCard(t) {
  const [text, kind] = DECISIONS[t.decision] || ["решение неизвестно", "muted"];
  const proofBox = el("div", { class: "proof hidden", "aria-live": "polite" });
  const check = el("button", { type: "button", class: "secondary" }, "Проверить запись");
  check.addEventListener("click", () => checkRecord(t, proofBox, check));
  const items = t.items.map((i) => el("li", { class: `outcome-${i.outcome}` }, i.outcome === "given"
    ? [`${i.title} — передано`, i.consent_id ? [" (", el("a", { href: `#consent-${i.consent_id}` }, "по согласию"), ")"] : null]
    : `${i.title} — не передано: ${propuskReasonText(i.reason)}`));
  return el("article", { class: "card" },
    el("div", { class: "head" }, el("h3", {}, t.operator ? t.operator.name : "Незарегистрированный получатель"),
      el("span", { class: `badge ${kind}` }, text)),
    rows([
      ["Когда", propuskDateTime(t.at)],
      ["Цель", t.purpose_title],
      ["Откуда", t.supplier ? t.supplier.name : null],
      ["Данные", el("ul", {}, items)],
    ]),
    el("div", { class: "actions" }, check), proofBox);
}

function dataCard(d) {
  titles.set(d.category, d.title);
  return el("article", { class: "card" },
    el("h3", {}, d.title),
    rows([["Значение", el("span", { class: "value" }, valueText(d.value))],
      ["Источник", d.supplier ? d.supplier.name : "поставщик"],
      ["Обновлено", propuskDateTime(d.updated_at)]]));
}

function obligationCard(o, known) {
  const [text, kind] = OBLIGATION_STATES[o.status] || ["рассматривается", "muted"];
  const open = o.clocks.filter((c) => !c.met_at);
  return el("article", { class: "card" },
    el("div", { class: "head" }, el("h3", {}, KINDS[o.kind] || "Обращение"), el("span", { class: `badge ${kind}` }, text)),
    rows([
      ["Получено", propuskDateTime(o.received_at)],
      ["Данные", o.categories.length ? o.categories.map((k) => known.get(k) || "данные участника").join(", ") : null],
      ["Срок ответа", open.length ? open.map((c) => `до ${propuskDeadline(c.due_date, c.due_at)}`).join(", ") : null],
      ["Закрыто", o.closed_at ? propuskDateTime(o.closed_at) : null],
    ]),
    o.access_request_id ? el("div", { class: "actions" },
      el("a", { class: "secondary", href: `/api/v1/access-requests/${o.access_request_id}.html` }, "Открыть ответ")) : null);
}

async function refreshHistory(q, known, stale = () => false) {
  const [transfers, data, obligations, categories] = await Promise.all([
    api(`/api/v1/me/transfers${q}`), api(`/api/v1/me/data${q}`), api(`/api/v1/me/obligations${q}`),
    api(`/api/v1/me/categories${q}`),
  ]);
  if (stale()) return;  // another person was chosen meanwhile (cabinet.js refresh)
  document.getElementById("transfers").replaceChildren(...(transfers.transfers.length
    ? transfers.transfers.map(transferCard) : [empty("Данные никому не передавались.")]));
  document.getElementById("data").replaceChildren(...(data.data.length
    ? data.data.map(dataCard) : [empty("Поставщики пока не передали в Пропуск никаких данных.")]));
  document.getElementById("notices").replaceChildren(...obligations.notices.map((n) =>
    el("p", { class: "notice" }, `${propuskDateTime(n.at)}: ${n.text}`)));
  document.getElementById("obligations").replaceChildren(...(obligations.obligations.length
    ? obligations.obligations.map((o) => obligationCard(o, known)) : [empty("Обращений нет.")]));
  categoryPicker(categories.categories);
}

// The categories a rectification may name (GET /me/categories: held about the subject or named
// by a consent they gave), by title, with who holds them.
function categoryPicker(categories) {
  const box = document.getElementById("rect-categories");
  if (!categories.length) { box.replaceChildren(empty("Пока нет данных, которые можно уточнить.")); return; }
  box.replaceChildren(...categories.map((c) => el("label", {},
    el("input", { type: "checkbox", name: "category", value: c.key }),
    el("span", {}, c.title, c.held_by.length ? el("span", { class: "hint" }, `хранит: ${c.held_by.join(", ")}`) : null))));
}

function rectificationForm() {
  document.getElementById("rectification-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    status("");
    const form = event.target;
    const categories = [...form.querySelectorAll('input[name="category"]:checked')].map((i) => i.value);
    if (!categories.length) { status("Отметьте, какие данные неверны.", true); return; }
    const value = (id) => document.getElementById(id).value.trim();
    try {
      await post("/api/v1/me/obligations/rectification", {
        categories, correction: value("rect-correction"), proof: value("rect-proof"),
      });
      form.reset();
      document.getElementById("rectification").open = false;
      await refresh();
      status("Требование об уточнении отправлено. На время проверки эти данные заблокированы; ответ — в течение 7 рабочих дней.");
    } catch (e) { if (e.message !== "login") status(e.message, true); }
  });
}

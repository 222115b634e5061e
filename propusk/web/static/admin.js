// Консоль администратора платформы: organisations, OAuth clients, overdue 152-FZ obligations and
// the audit log — all through the JSON API (the policy guards every call: platform_admin).
// The policy rules live in admin_policy.js. Names of codes come from the catalogue
// (PROPUSK_MESSAGES.admin, propusk/messages/admin.py); the maps below are presentation only.
"use strict";

const $ = (id) => document.getElementById(id);
const E = propuskEl;
const ADMIN = { me: null, organizations: [], clients: [] };
const COUNTRIES = [
  ["RU", "Россия"], ["BY", "Беларусь"], ["KZ", "Казахстан"], ["AM", "Армения"], ["KG", "Киргизия"],
  ["UZ", "Узбекистан"], ["CN", "Китай"], ["DE", "Германия"], ["US", "США"],
];
const ORG_KINDS = { operator: "оператор", supplier: "поставщик данных" };
const GRANTS = { client_credentials: "сервер организации", authorization_code: "вход через Пропуск" };

function adminText(section, code, fallback) {
  return PROPUSK_MESSAGES?.admin?.[section]?.[code] || fallback;
}

function count(n, one, few, many) {
  return `${n} ${propuskPlural(n, one, few, many)}`;
}

function capital(phrase) {
  return phrase ? phrase[0].toUpperCase() + phrase.slice(1) : "";
}

function countryName(code) {
  return COUNTRIES.find(([c]) => c === code)?.[1] || "другая страна";
}

function say(target, text, ok = false) {
  target.replaceChildren(E("p", { class: ok ? "result ok" : "result error", role: ok ? "status" : "alert" }, text));
}

// A table that reads as cards on a phone (site.css table.cards): each cell names its column.
function cards(headers, rows, empty = "Нет записей.") {
  if (!rows.length) return E("p", { class: "muted" }, empty);
  return E("table", { class: "cards" },
    E("tr", {}, headers.map((h) => E("th", { scope: "col" }, h))),
    rows.map((r) => E("tr", {}, r.map((c, i) => E("td", { "data-label": headers[i] }, c)))));
}

function options(select, items, current) {
  select.replaceChildren(...items.map(([value, text]) => E("option", { value, selected: value === current }, text)));
}

// --- organisations ------------------------------------------------------------------------------

function orgName(id) {
  return ADMIN.organizations.find((o) => o.id === id)?.name || "организация не найдена";
}

function clientName(id) {
  return ADMIN.clients.find((c) => c.client_id === id)?.name || "приложение удалено";
}

function storageText(o) {
  const where = `${countryName(o.storage_country)}, ${o.storage_location}`;
  return o.country === "RU" ? where : [where, " ", E("span", { class: "badge warn" }, "трансграничная передача")];
}

async function loadOrganizations() {
  ({ organizations: ADMIN.organizations } = await propuskApi("/api/v1/organizations"));
  $("organizations").replaceChildren(cards(
    ["Название", "Вид", "ИНН / ОГРН", "Хранение данных", ""],
    ADMIN.organizations.map((o) => [
      o.name, ORG_KINDS[o.kind] || "организация", `${o.inn} / ${o.ogrn}`, storageText(o),
      E("button", { type: "button", class: "secondary", onclick: () => showOrganization(o.id) }, "Подробнее"),
    ]),
    "Организаций пока нет.",
  ));
  const orgChoices = [["", "не привязано"], ...ADMIN.organizations.map((o) => [o.id, `${o.name} (${ORG_KINDS[o.kind]})`])];
  options($("client-org"), orgChoices, "");
}

async function showOrganization(id) {
  const view = $("organization-view");
  try {
    const o = await propuskApi(`/api/v1/organizations/${id}`);
    const rows = [
      ["Вид", ORG_KINDS[o.kind] || "организация"], ["ИНН", o.inn], ["ОГРН", o.ogrn], ["Адрес", o.address],
      ["Где находится", countryName(o.country)], ["Где хранятся данные", storageText(o)],
      ["Номер в реестре операторов", o.registry_number],
      ["Уведомление о трансграничной передаче", o.cross_border_notice_ref || "—"],
      ["Приложение", o.client_id ? clientName(o.client_id) : "не привязано"],
    ];
    view.replaceChildren(E("article", { class: "card", "aria-label": o.name },
      E("h3", {}, o.name), E("dl", { class: "facts" }, rows.map(([k, v]) => [E("dt", {}, k), E("dd", {}, v)]))));
    view.scrollIntoView({ block: "nearest" });
  } catch (e) { say(view, e.message); }
}

function orgFlags() {
  const country = $("org-country").value, storage = $("org-storage-country").value;
  const flags = [];
  if (storage !== "RU") {
    flags.push("Данные граждан России хранятся в России (ч. 5 ст. 18 152-ФЗ): такую организацию не зарегистрировать.");
  }
  if (country !== "RU") {
    flags.push("Организация за рубежом: передача ей данных трансграничная — укажите уведомление Роскомнадзора.");
  }
  $("org-flags").textContent = flags.join(" ");
  $("org-flags").className = flags.length ? "notice" : "muted";
}

async function registerOrganization(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v).trim()]));
  for (const k of ["cross_border_notice_ref", "client_id"]) if (!body[k]) delete body[k];
  try {
    const o = await propuskApi("/api/v1/organizations", propuskJson("POST", body));
    event.target.reset();
    orgFlags();
    await loadOrganizations();
    await loadClients();
    say($("org-result"), `Организация «${o.name}» зарегистрирована.`, true);
  } catch (e) { say($("org-result"), e.message); }
}

// --- OAuth clients ------------------------------------------------------------------------------

function showSecret(client, secret, what) {
  const value = E("code", { class: "hash", id: "secret-value" }, secret);
  const copied = E("span", { class: "muted", "aria-live": "polite" });
  const copy = async () => {
    try { await navigator.clipboard.writeText(secret); copied.textContent = " Скопировано."; }
    catch { copied.textContent = " Не удалось скопировать: выделите секрет и скопируйте вручную."; }
  };
  $("secret").replaceChildren(E("div", { class: "notice secret", role: "status" },
    E("p", {}, E("strong", {}, `${what} приложения «${client.name}»`)),
    E("p", {}, "Идентификатор: ", E("code", { class: "hash" }, client.client_id)),
    E("p", {}, "Секрет: ", value),
    E("p", {}, E("button", { type: "button", id: "copy-secret", onclick: copy }, "Скопировать секрет"), copied),
    E("p", {}, "Секрет показан один раз: сохраните его сейчас. Пропуск хранит только его отпечаток и больше его не покажет."),
    E("button", { type: "button", class: "secondary", onclick: () => $("secret").replaceChildren() }, "Секрет сохранён — скрыть")));
  $("secret").scrollIntoView({ block: "nearest" });
}

async function rotate(client) {
  const question = `Сменить секрет приложения «${client.name}»? Старый секрет сразу перестанет действовать; ` +
    "уже выданные по нему токены действуют до конца своего срока (несколько минут). Чтобы отключить приложение сразу, удалите его.";
  if (!confirm(question)) return;
  try {
    const answer = await propuskApi(`/api/v1/clients/${encodeURIComponent(client.client_id)}/secret`, { method: "POST" });
    showSecret(client, answer.client_secret, "Новый секрет");
  } catch (e) { say($("client-result"), e.message); }
}

async function remove(client) {
  if (!confirm(`Удалить приложение «${client.name}»? Все его токены перестанут действовать, это не отменить.`)) return;
  try {
    await propuskApi(`/api/v1/clients/${encodeURIComponent(client.client_id)}`, { method: "DELETE" });
    await loadClients();
    say($("client-result"), `Приложение «${client.name}» удалено.`, true);
  } catch (e) { say($("client-result"), e.message); }
}

function bindForm(client) {
  const select = E("select", { id: "binding-org" });
  options(select, [["", "не привязано"], ...ADMIN.organizations.map((o) => [o.id, `${o.name} (${ORG_KINDS[o.kind]})`])],
    client.organization_id || "");
  const submit = async (event) => {
    event.preventDefault();
    const org = ADMIN.organizations.find((o) => o.id === select.value);
    const question = org ? `Привязать приложение «${client.name}» к организации «${org.name}»? Оно будет действовать от её имени.`
      : `Отвязать приложение «${client.name}» от организации?`;
    if (!confirm(question)) return;
    try {
      await propuskApi(`/api/v1/clients/${encodeURIComponent(client.client_id)}/binding`,
        propuskJson("PUT", { organization_id: org ? org.id : null, role: org ? org.kind : null }));
      $("client-binding").replaceChildren();
      await loadClients();
      say($("client-result"), org ? `Приложение «${client.name}» действует от имени «${org.name}».`
        : `Приложение «${client.name}» отвязано.`, true);
    } catch (e) { say($("client-result"), e.message); }
  };
  $("client-binding").replaceChildren(E("form", { class: "fields card", onsubmit: submit },
    E("h3", {}, `Организация приложения «${client.name}»`),
    E("label", { for: "binding-org" }, "Организация"), select,
    E("button", { type: "submit" }, "Сохранить"),
    E("button", { type: "button", class: "secondary", onclick: () => $("client-binding").replaceChildren() }, "Отмена")));
  select.focus();
}

async function loadClients() {
  ADMIN.clients = await propuskApi("/api/v1/clients");
  const secretBased = (c) => c.auth_method === "client_secret_basic" || c.auth_method === "client_secret_post";
  $("clients").replaceChildren(cards(
    ["Название", "Как входит", "Организация", "Создано", "Действия"],
    ADMIN.clients.map((c) => [
      c.first_party ? [c.name, " ", E("span", { class: "badge muted" }, "Пропуск")] : c.name,
      c.grant_types.map((g) => GRANTS[g]).filter(Boolean).join(", ") || "—",
      c.organization_id ? orgName(c.organization_id) : "не привязано",
      propuskDateTime(c.created_at),
      E("div", { class: "actions" },
        secretBased(c) ? E("button", { type: "button", class: "secondary", onclick: () => rotate(c),
          "aria-label": `Сменить секрет: ${c.name}` }, "Сменить секрет") : null,
        E("button", { type: "button", class: "secondary", onclick: () => bindForm(c),
          "aria-label": `Организация: ${c.name}` }, "Организация"),
        E("button", { type: "button", class: "danger", onclick: () => remove(c),
          "aria-label": `Удалить: ${c.name}` }, "Удалить")),
    ]),
    "Приложений пока нет.",
  ));
  const unbound = ADMIN.clients.filter((c) => !c.organization_id && !c.first_party);
  options($("org-client"), [["", "без приложения"], ...unbound.map((c) => [c.client_id, c.name])], "");
}

async function createClient(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const kind = form.get("kind");
  const org = ADMIN.organizations.find((o) => o.id === form.get("organization_id"));
  const body = { name: String(form.get("name")).trim(), grant_types: [kind] };
  if (kind === "authorization_code") body.redirect_uris = [String(form.get("redirect_uri")).trim()].filter(Boolean);
  if (org) Object.assign(body, { organization_id: org.id, role: org.kind });
  try {
    const client = await propuskApi("/api/v1/clients", propuskJson("POST", body));
    event.target.reset();
    $("client-result").replaceChildren();
    if (client.client_secret) showSecret(client, client.client_secret, "Секрет");
    else say($("client-result"), `Приложение «${client.name}» создано.`, true);
    await loadClients();
  } catch (e) { say($("client-result"), e.message); }
}

// --- overdue obligations ------------------------------------------------------------------------

function lateText(dueAt) {
  const hours = Math.max(0, Math.floor((Date.now() - new Date(dueAt).getTime()) / 3600000));
  return hours < 48 ? count(hours, "час", "часа", "часов") : count(Math.floor(hours / 24), "день", "дня", "дней");
}

async function loadOverdue() {
  const { overdue } = await propuskApi("/api/v1/obligations/overdue");
  overdue.sort((a, b) => a.due_at.localeCompare(b.due_at));
  $("overdue").replaceChildren(cards(
    ["Срок истёк", "Просрочено на", "Оператор", "Обязанность", "Что просрочено"],
    overdue.map((o) => [
      o.due_date ? `${propuskDeadline(o.due_date, o.due_at)} (до конца дня, МСК)` : propuskDateTime(o.due_at),
      lateText(o.due_at),
      o.operator_id ? orgName(o.operator_id) : "Пропуск",
      capital(adminText("obligation_kinds", o.kind, "обязанность по 152-ФЗ")),
      capital(adminText("clocks", o.clock, "срок")),
    ]),
    "Просроченных обязанностей нет.",
  ));
}

// --- the audit log ------------------------------------------------------------------------------

function ageText(seconds) {
  if (seconds < 60) return "меньше минуты назад";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${count(minutes, "минуту", "минуты", "минут")} назад`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${count(hours, "час", "часа", "часов")} назад`;
  return `${count(Math.floor(hours / 24), "день", "дня", "дней")} назад`;
}

async function loadAuditStatus() {
  const s = await propuskApi("/api/v1/audit/status");
  const rows = [
    ["Записей в журнале", String(s.tree_size)],
    ["Последняя подписанная отметка", s.checkpoint_at
      ? `${propuskDateTime(s.checkpoint_at)} (${ageText(s.checkpoint_age_seconds)}), ${count(s.checkpoint_size, "запись", "записи", "записей")}`
      : "ещё не подписана"],
    ["Не покрыто подписью", count(s.unsigned, "запись", "записи", "записей")],
    ["Ждут записи в журнал", count(s.pending, "событие", "события", "событий")],
  ];
  $("audit-status").replaceChildren(E("dl", { class: "facts" }, rows.map(([k, v]) => [E("dt", {}, k), E("dd", {}, v)])));
}

async function verifyLog() {
  const button = $("verify"), out = $("verify-result");
  button.disabled = true;
  out.replaceChildren(E("p", { class: "muted" }, "Журнал проверяется…"));
  try {
    const r = await propuskApi("/api/v1/audit/verify", { method: "POST" });
    if (r.divergence) {
      const where = r.divergence.position === null ? "" : ` Первое расхождение — запись № ${r.divergence.position}.`;
      say(out, `Журнал не прошёл проверку. ${adminText("verify", r.divergence.code, "Журнал изменён.")}${where}`);
    } else if (!r.complete) {
      say(out, `Проверка остановлена по времени. Проверено записей: ${r.checked}, расхождений среди них нет. ` +
        "Весь журнал проверяет администратор сервера командой проверки журнала.", true);
    } else {
      const tail = r.unsigned ? ` Новейшие записи ещё ждут подписи: ${r.unsigned}.` : "";
      say(out, `Журнал цел. Проверено записей: ${r.checked}; подписанных отметок сошлось: ${r.checkpoints}.${tail}`, true);
    }
    await loadAuditStatus();
  } catch (e) { say(out, e.message); }
  finally { button.disabled = false; }
}

// --- start --------------------------------------------------------------------------------------

async function startAdmin() {
  await propuskLoadMessages();
  ADMIN.me = await propuskApi("/api/v1/me");
  if (!ADMIN.me.platform_admin) {
    $("admin-note").textContent = "Эта страница — для администратора платформы. У вас такого статуса нет.";
    $("admin-note").className = "error";
    for (const s of document.querySelectorAll("main section, nav.toc")) s.hidden = true;
    return false;
  }
  $("admin-note").textContent = `Вы вошли как администратор платформы: ${ADMIN.me.last_name} ${ADMIN.me.first_name}.`;
  for (const select of document.querySelectorAll("select.countries")) options(select, COUNTRIES, "RU");
  $("org-form").addEventListener("submit", registerOrganization);
  $("org-country").addEventListener("change", orgFlags);
  $("org-storage-country").addEventListener("change", orgFlags);
  $("client-form").addEventListener("submit", createClient);
  $("verify").addEventListener("click", verifyLog);
  await loadOrganizations();
  await loadClients();  // names the organisations it is bound to
  await Promise.all([loadOverdue(), loadAuditStatus()]);
  return true;
}

const ADMIN_READY = startAdmin().catch((e) => {
  if (e.message !== "login") { $("admin-note").textContent = e.message; $("admin-note").className = "error"; }
  return false;
});

// Консоль администратора платформы, правила доступа: the rules admins added (add, remove), the
// reviewed file's rules, the history of changes (who changed what when) and «who may do what»
// (GET /api/v1/policy/explain). Uses admin.js's helpers; every word from the catalogue
// (PROPUSK_MESSAGES.roles and .admin.policy_*), the names of people, applications and
// organisations from GET /api/v1/names.
"use strict";

const POLICY = { names: {}, rules: [] };
const CHANGE_KINDS = {
  "rule.added": "Добавлено правило", "rule.removed": "Удалено правило", "roles.set": "Изменены статусы",
  "roles.granted": "Назначена роль", "roles.revoked": "Снята роль",
};

function policyRole(code) {
  return PROPUSK_MESSAGES?.roles?.[code] || adminText("policy_roles", code, "другая роль");
}

function policyDomain(domain) {
  if (domain === "*") return "везде";
  if (domain === "school:*") return "в любой школе";
  if (domain === "org:*") return "в любой организации";
  const name = POLICY.names[domain];
  if (domain.startsWith("school:")) return name ? `в школе «${name}»` : "в школе";
  if (domain.startsWith("org:")) return name ? `в организации «${name}»` : "в организации";
  return "в особой области";
}

function ruleText(rule) {
  const obj = adminText("policy_objects", rule.object, "другой объект");
  const act = adminText("policy_actions", rule.action, "другое действие");
  const cond = adminText("policy_conditions", rule.condition, "особое условие");
  return `${capital(policyRole(rule.role))}: ${act} — ${obj}, ${policyDomain(rule.domain)}, ${cond}`;
}

function whoText(key) {
  if (!key) return "—";
  if (key === `person:${ADMIN.me.id}`) return "вы";
  if (key.startsWith("system:idp")) return "Пропуск (по статусам)";
  if (key.startsWith("system")) return "Пропуск";
  if (POLICY.names[key]) return POLICY.names[key];
  return key.startsWith("client:") ? "удалённое приложение" : "неизвестный участник";
}

function linksText(pairs, sign) {
  return pairs.map(([role, domain]) => `${sign}${policyRole(role)} ${policyDomain(domain)}`);
}

function changeText(change) {
  const head = CHANGE_KINDS[change.kind] || "Изменены правила";
  const d = change.detail || {};
  if (d.rule) return `${head}: ${ruleText(d.rule)}`;
  if (change.kind === "roles.set") {
    const parts = [...linksText(d.added || [], "+ "), ...linksText(d.removed || [], "− ")];
    return parts.length ? `${head}: ${parts.join("; ")}` : head;
  }
  if (d.role) return `${head}: ${policyRole(d.role)} ${policyDomain(d.domain || "*")}`;
  return head;
}

async function nameKeys(keys) {
  const wanted = [...new Set(keys.filter((k) => k && /^(person|client|org|school):/.test(k) && !(k in POLICY.names)))];
  for (let i = 0; i < wanted.length; i += 100) {
    const query = wanted.slice(i, i + 100).map((k) => `key=${encodeURIComponent(k)}`).join("&");
    Object.assign(POLICY.names, (await propuskApi(`/api/v1/names?${query}`)).names);
  }
}

async function removeRule(rule) {
  if (!confirm(`Удалить правило «${ruleText(rule)}»? Доступ, который оно давало, пропадёт сразу.`)) return;
  try {
    await propuskApi(`/api/v1/policy/rules/${rule.id}`, { method: "DELETE" });
    await loadPolicy();
    say($("rule-result"), `Правило удалено: ${ruleText(rule)}.`, true);
  } catch (e) { say($("rule-result"), e.message); }
}

async function addRule(event) {
  event.preventDefault();
  const rule = Object.fromEntries(new FormData(event.target).entries());
  if (!confirm(`Добавить правило «${ruleText(rule)}»? Доступ откроется сразу.`)) return;
  try {
    await propuskApi("/api/v1/policy/rules", propuskJson("POST", rule));
    await loadPolicy();
    say($("rule-result"), `Правило добавлено: ${ruleText(rule)}.`, true);
  } catch (e) { say($("rule-result"), e.message); }
}

async function loadPolicy() {
  const [policy, history] = await Promise.all([
    propuskApi("/api/v1/policy"), propuskApi("/api/v1/policy/history?limit=50"),
  ]);
  POLICY.rules = policy.rules;
  const keys = history.flatMap((c) => [c.actor, c.subject, ...((c.detail?.added || []).map((p) => p[1]))]);
  await nameKeys([...keys, ...policy.rules.map((r) => r.domain)]);
  $("policy-version").textContent = `Версия правил: ${policy.version}. Правил: ${policy.rules.length}.`;
  const own = policy.rules.filter((r) => r.source === "db");
  $("rules").replaceChildren(cards(["Правило", ""], own.map((r) => [
    ruleText(r),
    E("button", { type: "button", class: "danger", onclick: () => removeRule(r), "aria-label": `Удалить правило: ${ruleText(r)}` }, "Удалить"),
  ]), "Администраторы правил не добавляли: действуют правила из проверенного файла."));
  const fromFile = policy.rules.filter((r) => r.source === "file");
  $("file-rules").querySelector("summary").textContent = `Правила из проверенного файла (${fromFile.length})`;
  $("file-rules-list").replaceChildren(E("ul", { class: "rules" }, fromFile.map((r) => E("li", {}, ruleText(r)))));
  $("policy-history").replaceChildren(cards(["Когда", "Кто", "Что изменено", "Чьи права"], history.map((c) => [
    propuskDateTime(c.changed_at), whoText(c.actor), changeText(c), c.subject ? whoText(c.subject) : "все",
  ]), "Правила не менялись."));
  fillExplainSubjects(history);
}

function vocabulary(section) {
  return Object.entries(PROPUSK_MESSAGES?.admin?.[section] || {});
}

function fillRuleForm() {
  const roles = [...Object.entries(PROPUSK_MESSAGES?.roles || {}), ...vocabulary("policy_roles")];
  options($("rule-role"), roles.map(([k, v]) => [k, capital(v)]), "operator");
  for (const id of ["rule-object", "explain-object"]) options($(id), vocabulary("policy_objects").map(([k, v]) => [k, capital(v)]), "consent.template");
  for (const id of ["rule-action", "explain-action"]) options($(id), vocabulary("policy_actions").map(([k, v]) => [k, capital(v)]), "read");
  options($("rule-condition"), vocabulary("policy_conditions").map(([k, v]) => [k, capital(v)]), "any");
}

function fillExplainSubjects(history) {
  const me = `person:${ADMIN.me.id}`;
  const people = [...new Set(history.map((c) => c.subject).filter((s) => s && s.startsWith("person:") && s !== me))];
  const current = $("explain-subject").value;
  options($("explain-subject"), [
    [me, "Я"],
    ...ADMIN.clients.map((c) => [`client:${c.client_id}`, `Приложение «${c.name}»`]),
    ...people.filter((p) => POLICY.names[p]).map((p) => [p, POLICY.names[p]]),
  ], current || me);
  options($("explain-domain"), [["*", "везде"], ...ADMIN.organizations.map((o) => [`org:${o.id}`, `в организации «${o.name}»`])],
    $("explain-domain").value || "*");
}

async function explain(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const params = new URLSearchParams(form);
  const who = $("explain-subject").selectedOptions[0]?.textContent || "";
  const act = adminText("policy_actions", form.get("action"), "действие");
  const obj = adminText("policy_objects", form.get("object"), "объект");
  try {
    const d = await propuskApi(`/api/v1/policy/explain?${params}`);
    const asked = `${who}: ${act} — ${obj}, ${policyDomain(d.domain)}`;
    if (d.allowed) {
      await nameKeys([d.matched_domain]);
      say($("explain-result"), `Разрешено (${asked}). Основание: правило «${ruleText(d.rule)}»` +
        (d.rule.source === "file" ? " из проверенного файла." : ", добавленное администратором."), true);
    } else {
      say($("explain-result"), `Запрещено (${asked}): ни одно правило этого не разрешает.`);
    }
  } catch (e) { say($("explain-result"), e.message); }
}

ADMIN_READY.then(async (ready) => {
  if (!ready) return;
  fillRuleForm();
  $("rule-form").addEventListener("submit", addRule);
  $("explain-form").addEventListener("submit", explain);
  try { await loadPolicy(); } catch (e) { say($("rules"), e.message); }
});

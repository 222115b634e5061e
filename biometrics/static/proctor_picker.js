// Picking exam takers among a school's students (search by name and class), shared by the
// proctor's pages: «Мои экзамены» (a new session) and a session's page (adding takers).
"use strict";

// proctorPicker(container, schoolId) → { chosen(): [person ids], clear(), setSchool(id) }
function proctorPicker(container, schoolId) {
  const el = propuskEl;
  const chosen = new Map(); // person id → {name, class_name}
  let school = schoolId;
  const query = el("input", { id: "picker-q", type: "search", maxlength: "200", autocomplete: "off" });
  const klass = el("select", { id: "picker-class" }, el("option", { value: "" }, "все классы"));
  const found = el("ul", { class: "picker-list", "aria-label": "Найденные ученики" });
  const picked = el("ul", { class: "picker-list", "aria-label": "Выбранные участники" });
  const count = el("p", { class: "chosen", "aria-live": "polite" });
  const state = el("p", { class: "muted", role: "status" });
  const addButtons = new Map(); // person id → its «Добавить» button in the search results

  function who(s) {
    return s.class_name ? `${s.name}, ${s.class_name} класс` : s.name;
  }

  function drawChosen() {
    for (const [id, button] of addButtons) {
      button.disabled = chosen.has(id);
      button.textContent = chosen.has(id) ? "Добавлен" : "Добавить";
      const s = found.querySelector(`[data-person="${id}"] span`)?.textContent || "";
      button.setAttribute("aria-label", `${button.textContent}: ${s}`);
    }
    count.textContent = chosen.size
      ? `Выбрано: ${chosen.size} ${propuskPlural(chosen.size, "участник", "участника", "участников")}`
      : "Участники пока не выбраны.";
    picked.replaceChildren(...[...chosen.entries()].map(([id, s]) => el("li", {},
      el("span", {}, who(s)),
      el("button", {
        type: "button", class: "secondary", "aria-label": `Убрать: ${who(s)}`,
        onclick: () => { chosen.delete(id); drawChosen(); },
      }, "Убрать"))));
  }

  async function search(event) {
    event?.preventDefault();
    if (!school) return;
    state.textContent = "Ищем…";
    const params = new URLSearchParams();
    if (query.value.trim()) params.set("q", query.value.trim());
    if (klass.value) params.set("class_name", klass.value);
    try {
      const r = await propuskApi(`/api/v1/schools/${school}/exam-students?${params}`);
      if (klass.options.length === 1) {
        klass.append(...r.classes.map((c) => el("option", { value: c }, c)));
      }
      addButtons.clear();
      found.replaceChildren(...r.students.map((s) => {
        const button = el("button", {
          type: "button", "aria-label": `Добавить: ${who(s)}`,
          onclick: () => { chosen.set(s.person_id, s); drawChosen(); },
        }, "Добавить");
        addButtons.set(s.person_id, button);
        return el("li", { "data-person": s.person_id }, el("span", {}, who(s)), button);
      }));
      drawChosen();
      state.textContent = r.students.length
        ? (r.more ? "Показаны первые 200: уточните поиск." : `Найдено: ${r.students.length}.`)
        : "Никого не нашли: измените имя или класс.";
    } catch (e) {
      state.textContent = e.message;
    }
  }

  container.classList.add("picker");
  container.replaceChildren(
    el("div", { class: "picker-search" },
      el("p", {}, el("label", { for: "picker-q" }, "Фамилия или имя"), query),
      el("p", {}, el("label", { for: "picker-class" }, "Класс"), klass),
      el("p", {}, el("button", { type: "button", class: "secondary", onclick: search }, "Найти"))),
    state, found, count, picked);
  query.addEventListener("keydown", (e) => { if (e.key === "Enter") search(e); });
  klass.addEventListener("change", search);
  drawChosen();
  return {
    chosen: () => [...chosen.keys()],
    names: () => [...chosen.values()].map(who),
    clear: () => { chosen.clear(); drawChosen(); },
    setSchool: (id) => {
      school = id; chosen.clear(); drawChosen(); found.replaceChildren();
      klass.replaceChildren(el("option", { value: "" }, "все классы"));
      search();
    },
    search,
  };
}

// The biometrics and exams sections of the cabinet (listens to the propusk:subject event).
// Data: GET /api/v1/me/biometrics and /api/v1/me/exams (?subject= for a child); enrolment:
// POST /api/v1/biometrics/enrolments (multipart "photos", "subject_id" for a child); deletion:
// DELETE /api/v1/biometrics/enrolments/{id}. Helpers from /static/api.js: propuskFetch,
// propuskDateTime, propuskProblemText, propuskCheckText, propuskStateText. No inline style: classes and the hidden property only.
"use strict";

(() => {
  const PHOTOS = 3; // biometrics.enrolment.MAX_PHOTOS
  // The Russian texts of problem types, photo quality and image codes (per photo) and consent
  // states are the one catalogue's (static/api.js: propuskProblemText, propuskCheckText,
  // propuskStateText); the page names only its own exam words below.
  const WINDOWS = { upcoming: "ещё не началось", open: "идёт сейчас", closed: "завершено" };
  const ATTEMPTS = {
    not_started: "не начат", started: "начат", liveness_passed: "проверка личности пройдена",
    verified: "личность подтверждена", rejected: "личность не подтверждена",
    manual_check: "нужна проверка проктором",
  };
  const PATHS = { biometric: "по образцу лица", manual: "по документу" };

  const bioBox = document.getElementById("biometrics");
  // The section's content is redrawn; the live region stays, so screen readers hear each result.
  const bioContent = el("div");
  const bioResult = el("div", { id: "bio-result", role: "status", "aria-live": "polite" });
  bioBox.replaceChildren(bioContent, bioResult);
  const examsBox = document.getElementById("exams");
  let subject = null; // null: the person themselves
  let bioGeneration = 0; // a newer subject wins over answers still on their way
  let examGeneration = 0;
  let stream = null;
  let shots = []; // {blob, canvas}

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "onclick") node.addEventListener("click", v);
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  // The photos' reasons are listed under the message, one line a photo (failureDetails).
  function problemText(body, status) {
    return propuskProblemText(body && { ...body, photos: undefined }, status);
  }

  async function api(path, options = {}) {
    const response = await propuskFetch(path, options);
    const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
    if (!response.ok) {
      const error = new Error(problemText(body, response.status));
      error.body = body;
      throw error;
    }
    return body;
  }

  const query = () => (subject ? `?subject=${encodeURIComponent(subject)}` : "");

  // --- the result line (announced by screen readers) -------------------------------------

  function say(text, kind = "ok", details = [], note = null) {
    const out = bioResult;
    out.className = `result ${kind}`;
    out.replaceChildren(el("p", {}, text),
      ...(details.length ? [el("ul", {}, ...details.map((d) => el("li", {}, d)))] : []),
      ...(note ? [el("p", {}, note)] : []));
  }

  function failureDetails(error) {
    return (error.body?.photos || []).map((p) =>
      `Снимок ${p.photo + 1}: ${p.reasons.map(propuskCheckText).join("; ")}.`);
  }

  // --- the consent ---------------------------------------------------------------------

  const who = (roles) => roles.map((r) => (r === "guardian" ? "законный представитель" : "сам участник")).join(" и ");

  function consentBlock(data) {
    const block = el("div", { class: "card bio-consent" }, el("h3", {}, "Согласие на биометрию"));
    const current = data.consents.find((c) => c.active);
    const pending = data.consents.find((c) => ["requested", "partially_given"].includes(c.state));
    if (current) {
      block.append(el("p", {}, el("strong", {}, "Действует"),
        ` до ${propuskDateTime(current.valid_until)}. Подписано ${propuskDateTime(current.given_at)}`,
        current.operator_name ? `, оператор — ${current.operator_name}.` : "."));
      block.append(el("p", { class: "muted" },
        "Отозвать согласие можно в разделе «Согласия»: образец лица тогда уничтожается сразу."));
    }
    if (pending) {
      const from = pending.operator_name ? `${pending.operator_name} просит` : "Оператор просит";
      block.append(el("p", {}, `${from} письменное согласие на обработку биометрических данных `,
        `(образец лица). Ответить до ${propuskDateTime(pending.request_expires_at)}.`));
      if (pending.sign_url) {
        block.append(el("p", {}, el("a", { class: "button", href: pending.sign_url }, "Открыть и подписать")),
          el("p", { class: "muted" }, "На странице согласия — полный текст; там же можно отказаться."));
      } else if (pending.signed_roles.length) {
        const left = pending.required_roles.filter((r) => !pending.signed_roles.includes(r));
        block.append(el("p", { class: "notice" }, `Подписано: ${who(pending.signed_roles)}. `,
          `Ждём подписи: ${who(left)} — из своего кабинета.`));
      } else {
        block.append(el("p", { class: "notice" }, `Подписывает ${who(pending.required_roles)}.`));
      }
    }
    if (!current && !pending) {
      const last = data.consents[0];
      block.append(el("p", {}, last
        ? `Согласия нет; последнее — ${propuskStateText(last.state)}` +
          (last.ended_at ? ` (${propuskDateTime(last.ended_at)}).` : ".")
        : "Согласия на обработку биометрических данных нет."));
      block.append(el("p", { class: "muted" },
        "Его запрашивает оператор (школа или региональный центр) — запрос появится здесь. ",
        "Без согласия на экзамене проктор проверит личность по документу."));
    }
    return block;
  }

  // --- the enrolment status and deletion ---------------------------------------------------

  function statusBlock(data) {
    const e = data.enrolment;
    const block = el("div", { class: "card bio-status" }, el("h3", {}, "Образец лица"));
    if (e.enrolled) {
      block.append(el("p", {}, el("strong", { class: "bio-enrolled" }, "Образец лица зарегистрирован"),
        ` ${propuskDateTime(e.enrolled_at)}: снимков — ${e.photos}, версия алгоритма — `,
        el("code", {}, e.engine), "."));  // a machine identifier, shown as one
      if (e.evidence_frames) {
        block.append(el("p", { class: "muted" }, `Хранится кадров экзаменов: ${e.evidence_frames}.`));
      }
      if (data.may_delete) block.append(deleteControls(data));
    } else {
      block.append(el("p", {}, "Образец лица не зарегистрирован."));
    }
    return block;
  }

  function deleteControls(data) {
    const confirmBox = el("div", { class: "notice bio-confirm", role: "alertdialog", "aria-labelledby": "bio-confirm-title" },
      el("p", { id: "bio-confirm-title" }, el("strong", {}, "Удалить образец лица?")),
      el("p", {}, "Шаблон лица будет уничтожен безвозвратно, вместе с сохранёнными кадрами экзаменов. ",
        "На следующих экзаменах проктор будет проверять личность по документу."),
      el("p", {}, "Согласие при этом продолжает действовать: пока оно действует, образец можно ",
        "зарегистрировать снова. Чтобы отозвать и согласие, используйте раздел «Согласия»."));
    const yes = el("button", { type: "button", class: "danger", onclick: () => destroy(data.subject_id) }, "Да, удалить");
    const no = el("button", { type: "button", class: "secondary", onclick: () => { confirmBox.hidden = true; open.hidden = false; open.focus(); } }, "Отмена");
    confirmBox.append(el("p", { class: "bio-buttons" }, yes, " ", no));
    confirmBox.hidden = true;
    const open = el("button", { type: "button", class: "secondary", id: "bio-delete",
      onclick: () => { confirmBox.hidden = false; open.hidden = true; yes.focus(); } }, "Удалить образец лица");
    return el("div", {}, open, confirmBox);
  }

  async function destroy(personId) {
    try {
      const r = await api(`/api/v1/biometrics/enrolments/${encodeURIComponent(personId)}`, { method: "DELETE" });
      await renderBiometrics(r.destroyed ? "Образец лица удалён: шаблон уничтожен." : "Образца лица уже не было.");
    } catch (e) { say(e.message, "error"); }
  }

  // --- enrolment: the camera, or photo files -----------------------------------------------

  function stopCamera() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
  }

  function thumb(source, index) {
    const canvas = el("canvas", { class: "bio-thumb", role: "img", "aria-label": `Снимок ${index + 1}` });
    const w = source.videoWidth || source.width;
    const h = source.videoHeight || source.height;
    canvas.width = 160;
    canvas.height = Math.max(1, Math.round((160 * h) / Math.max(1, w)));
    canvas.getContext("2d").drawImage(source, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function grab(video) {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth || 640;
    canvas.height = video.videoHeight || 480;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  }

  async function send(blobs, data) {
    const form = new FormData();
    blobs.forEach((b, i) => form.append("photos", b, b.name || `photo-${i + 1}.jpg`));
    if (!data.own) form.append("subject_id", data.subject_id);
    say("Проверяем снимки…", "wait");
    try {
      const r = await api("/api/v1/biometrics/enrolments", { method: "POST", body: form });
      stopCamera();
      await renderBiometrics(`Готово: образец лица зарегистрирован (снимков — ${r.photos}). Сами снимки не сохраняются.`);
    } catch (e) {
      const kept = data.enrolment.enrolled ? "Прежний образец лица остаётся в силе." : null;
      say(e.message, "error", failureDetails(e), kept);
    }
  }

  function cameraPanel(data) {
    const panel = el("div", { class: "bio-camera" });
    const video = el("video", { class: "bio-video", autoplay: "", playsinline: "", muted: "", "aria-label": "Изображение с камеры" });
    video.muted = true;
    video.hidden = true;
    const thumbs = el("div", { class: "bio-thumbs", role: "group", "aria-label": "Сделанные снимки" });
    const start = el("button", { type: "button", id: "bio-camera-start" }, "Включить камеру");
    const take = el("button", { type: "button", id: "bio-shot" }, `Сделать снимок (1 из ${PHOTOS})`);
    const submit = el("button", { type: "button", id: "bio-send" }, "Отправить снимки");
    const again = el("button", { type: "button", class: "secondary", id: "bio-again" }, "Начать заново");
    take.hidden = submit.hidden = again.hidden = true;
    const redraw = () => {
      thumbs.replaceChildren(...shots.map((s) => s.canvas));
      take.textContent = `Сделать снимок (${Math.min(shots.length + 1, PHOTOS)} из ${PHOTOS})`;
      take.hidden = !stream || shots.length >= PHOTOS;
      submit.hidden = shots.length === 0;
      again.hidden = shots.length === 0;
    };
    start.addEventListener("click", async () => {
      try {
        if (!navigator.mediaDevices?.getUserMedia) throw new Error("unavailable");
        stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
        video.srcObject = stream;
        await video.play();
        video.hidden = false;
        start.hidden = true;
        redraw();
        take.focus();
        say("Камера включена. Смотрите в камеру и нажмите «Сделать снимок».", "wait");
      } catch (e) {
        stopCamera();
        const manual = document.getElementById("bio-manual");
        if (manual) manual.open = true;
        say(e.name === "NotAllowedError"
          ? "Доступ к камере не разрешён. Можно загрузить фотографии файлами — ниже."
          : "Камера недоступна на этом устройстве. Можно загрузить фотографии файлами — ниже.", "error");
      }
    });
    take.addEventListener("click", async () => {
      const blob = await grab(video);
      shots.push({ blob, canvas: thumb(video, shots.length) });
      redraw();
      if (shots.length < PHOTOS) say(`Снимок ${shots.length} готов. Чуть поверните голову и сделайте следующий.`, "wait");
      else { say("Все снимки готовы. Проверьте их и отправьте.", "wait"); submit.focus(); }
    });
    again.addEventListener("click", () => { shots = []; redraw(); say("Снимки удалены. Сделайте их заново.", "wait"); });
    submit.addEventListener("click", () => send(shots.map((s) => s.blob), data));
    panel.append(video, thumbs, el("p", { class: "bio-buttons" }, start, " ", take, " ", submit, " ", again));
    return panel;
  }

  function manualPanel(data) {
    // The native file button speaks the browser's language: a label in Russian stands for it.
    const input = el("input", { type: "file", id: "bio-files", class: "bio-file-input",
      accept: "image/jpeg,image/png,image/webp", multiple: "" });
    const chosen = el("span", { class: "muted" }, "Файлы не выбраны");
    const thumbs = el("div", { class: "bio-thumbs", "aria-label": "Выбранные фотографии" });
    input.addEventListener("change", async () => {
      const files = [...input.files];
      chosen.textContent = files.length ? `Выбрано: ${files.map((f) => f.name).join(", ")}` : "Файлы не выбраны";
      const views = [];
      for (const [i, f] of files.slice(0, PHOTOS).entries()) {
        try { views.push(thumb(await createImageBitmap(f), i)); } catch { views.push(el("span", {}, f.name)); }
      }
      thumbs.replaceChildren(...views);
      if (files.length > PHOTOS) say(`Выбрано ${files.length} файлов: нужно не больше ${PHOTOS}.`, "error");
    });
    const submit = el("button", { type: "button", id: "bio-upload" }, "Отправить фотографии");
    submit.addEventListener("click", () => {
      const files = [...input.files];
      if (!files.length) { say("Выберите от 1 до 3 фотографий лица.", "error"); input.focus(); return; }
      send(files, data);
    });
    return el("details", { id: "bio-manual", class: "bio-manual" },
      el("summary", {}, "Нет камеры? Загрузите фотографии"),
      el("p", { class: "muted" }, "Подойдут 1–3 чётких фотографии лица одного человека (JPEG, PNG или WebP, до 8 МБ): ",
        "лицо крупно и целиком, без других людей в кадре."),
      el("p", { class: "bio-buttons" }, input,
        el("label", { for: "bio-files", class: "secondary bio-file-label" }, "Выбрать фотографии лица"), chosen),
      thumbs, el("p", {}, submit));
  }

  function enrolBlock(data) {
    const e = data.enrolment;
    const block = el("div", { class: "card bio-enrol" },
      el("h3", {}, e.enrolled ? "Обновить образец лица" : "Зарегистрировать образец лица"));
    if (!data.consent_active) {
      block.append(el("p", { class: "muted" }, "Регистрация станет доступна, когда согласие будет подписано."));
      return block;
    }
    if (!data.may_enrol) {
      block.append(el("p", { class: "muted" }, data.age_group === "under14"
        ? "До 14 лет образец регистрирует законный представитель из своего кабинета."
        : "Образец регистрирует сам участник."));
      return block;
    }
    block.append(
      el("p", {}, `Понадобится ${PHOTOS} снимка с камеры. Повернитесь лицом к свету (окно или лампа перед вами, `,
        "а не за спиной), снимите очки с бликами, в кадре — только ", data.own ? "вы." : "ребёнок.",
        " Между снимками чуть поверните голову: прямо, немного влево, немного вправо."),
      cameraPanel(data), manualPanel(data));
    return block;
  }

  // --- the section ---------------------------------------------------------------------------

  function intro(data) {
    return el("div", { class: "bio-intro" },
      el("p", {}, "Биометрия нужна только для онлайн-экзаменов: камера сравнивает лицо с сохранённым образцом, ",
        "чтобы проктор убедился, что экзамен сдаёт ", data.own ? "сам участник" : "сам ребёнок", ". ",
        "Хранится не фотография, а зашифрованный шаблон лица; снимки после обработки не сохраняются."),
      el("p", {}, el("strong", {}, "Это добровольно."),
        " Без согласия или без образца проктор проверит личность по документу (паспорт, ",
        "свидетельство о рождении или ученический билет) — на результат экзамена это не влияет. ",
        "Согласие можно отозвать в любой момент, образец — удалить."));
  }

  async function renderBiometrics(notice) {
    const mine = ++bioGeneration;
    stopCamera();
    shots = [];
    let data;
    try {
      [data] = await Promise.all([api(`/api/v1/me/biometrics${query()}`), propuskLoadMessages()]);
    } catch (e) {
      if (mine === bioGeneration) bioContent.replaceChildren(el("p", { class: "error" }, e.message));
      return;
    }
    if (mine !== bioGeneration) return;
    bioContent.replaceChildren(intro(data), consentBlock(data), statusBlock(data), enrolBlock(data));
    if (notice) say(notice, "ok");
    else { bioResult.className = ""; bioResult.replaceChildren(); }
  }

  // --- the exams ---------------------------------------------------------------------------

  function examCard(exam, own) {
    const state = ATTEMPTS[exam.state] || exam.state;
    const path = exam.path ? ` (${PATHS[exam.path] || exam.path})` : "";
    const card = el("div", { class: "card exam-card" },
      el("h3", {}, exam.title),
      el("p", {}, `${exam.course} · ${exam.school_name}`),
      el("p", {}, `Время: ${propuskDateTime(exam.opens_at)} — ${propuskDateTime(exam.closes_at)}`),
      el("p", {}, `Экзамен ${WINDOWS[exam.window] || exam.window}. Проверка личности: ${state}${path}.`));
    if (exam.take_url) card.append(el("p", {}, el("a", { class: "button", href: exam.take_url }, "Перейти к экзамену")));
    else if (!own && exam.window === "open") card.append(el("p", { class: "muted" }, "Экзамен ребёнок сдаёт сам, из своей учётной записи."));
    return card;
  }

  async function renderExams() {
    const mine = ++examGeneration;
    try {
      const data = await api(`/api/v1/me/exams${query()}`);
      if (mine !== examGeneration) return;
      examsBox.replaceChildren(...(data.exams.length
        ? data.exams.map((x) => examCard(x, data.own))
        : [el("p", { class: "muted" }, "Онлайн-экзаменов нет.")]));
    } catch (e) {
      if (mine === examGeneration) examsBox.replaceChildren(el("p", { class: "error" }, e.message));
    }
  }

  document.addEventListener("propusk:subject", (event) => {
    subject = event.detail?.subject || null;
    renderBiometrics();
    renderExams();
  });
})();

// Exam taker page: liveness challenge, then periodic frames. Frames are sent unmirrored
// (the preview is mirrored by CSS only), so "turn left" means the taker's own left.
"use strict";

const ACTIONS_RU = {
  blink: "Моргните", turn_left: "Поверните голову влево", turn_right: "Поверните голову вправо",
};
const root = document.getElementById("exam");
const examId = root.dataset.examId;
const video = document.getElementById("camera");
const instruction = document.getElementById("instruction");
const statusLine = document.getElementById("status");
const startButton = document.getElementById("start");
const base = `/api/v1/exams/sessions/${examId}`;

async function api(path, options = {}) {
  const response = await propuskFetch(path, options);  // /static/api.js: cookie + CSRF token
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(propuskProblemText(body, response.status));
  return body;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function grab() {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth || 640;
  canvas.height = video.videoHeight || 480;
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
}

async function camera() {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  video.srcObject = stream;
  await new Promise((resolve) => { video.onloadedmetadata = resolve; });
  await video.play();
}

async function perform(challenge) {
  const frames = [];
  const per = Math.floor((challenge.max_frames - 2) / challenge.actions.length);
  instruction.textContent = "Смотрите прямо в камеру";
  await sleep(800);
  frames.push(await grab());
  for (const action of challenge.actions) {
    instruction.textContent = ACTIONS_RU[action] || action;
    for (let i = 0; i < per; i += 1) { await sleep(350); frames.push(await grab()); }
    instruction.textContent = "Смотрите прямо в камеру";
    await sleep(600);
    frames.push(await grab());
  }
  instruction.textContent = "";
  const form = new FormData();
  form.append("nonce", challenge.nonce);
  frames.slice(0, challenge.max_frames).forEach((blob, i) => form.append("frames", blob, `${i}.jpg`));
  return api(`${base}/liveness`, { method: "POST", body: form });
}

async function periodic(seconds) {
  for (;;) {
    await sleep(seconds * 1000);
    const form = new FormData();
    form.append("frame", await grab(), "frame.jpg");
    try {
      const r = await api(`${base}/frames`, { method: "POST", body: form });
      statusLine.textContent = `Проверка ${r.seq}: ${propuskCheckText(r.result)}`;
    } catch (e) {
      statusLine.textContent = e.message;
    }
  }
}

async function run() {
  startButton.disabled = true;
  let interval = 15;
  try {
    await propuskLoadMessages();  // the Russian texts of the check's results (static/api.js)
    for (;;) {
      const start = await api(`${base}/start`, { method: "POST" });
      interval = start.frame_interval_seconds || interval;
      if (start.path === "manual") {
        statusLine.textContent = "Проверка по документу: покажите проктору документ, удостоверяющий личность.";
        return;
      }
      await camera();
      if (start.liveness_passed) { statusLine.textContent = "Проверка пройдена."; break; }
      const result = await perform(start.challenge);
      if (result.passed) { statusLine.textContent = "Проверка пройдена. Удачи на экзамене!"; break; }
      statusLine.textContent = `Не получилось: ${propuskCheckText(result.reason)}. ` +
        `Осталось попыток: ${result.attempts_left}.`;
      if (result.attempts_left <= 0) return;
      await sleep(1500);
    }
    periodic(interval);
  } catch (e) {
    statusLine.textContent = e.message;
    startButton.disabled = false;
  }
}

startButton.addEventListener("click", run);

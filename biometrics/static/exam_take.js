// Exam taker page: the exam's name, the liveness challenge, then periodic frames. Frames are
// sent unmirrored (the preview is mirrored by CSS only), so "turn left" means the taker's own
// left. Nothing is sent by itself after a failure: the taker reads why (in words from the
// catalogue) and presses «Попробовать ещё раз»; only a decision about the face uses up an
// attempt (the answer's attempt_counted).
"use strict";

const root = document.getElementById("exam");
const examId = root.dataset.examId;
const video = document.getElementById("camera");
const instruction = document.getElementById("instruction");
const statusLine = document.getElementById("status");
const attemptsLine = document.getElementById("attempts");
const startButton = document.getElementById("start");
const base = `/api/v1/exams/sessions/${examId}`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (code) => propuskSentence(propuskCheckText(code));  // a catalogue phrase as a sentence

async function showExam() {
  try {
    const data = await propuskApi("/api/v1/me/exams");
    const exam = data.exams.find((x) => x.id === examId);
    if (!exam) return;
    document.getElementById("exam-title").textContent = exam.title;
    document.title = `${exam.title} — проверка личности`;
    document.getElementById("exam-about").textContent =
      `${exam.course} · ${exam.school_name} · ${propuskDateTime(exam.opens_at)} — ${propuskDateTime(exam.closes_at)}`;
  } catch (e) {
    document.getElementById("exam-about").textContent = e.message;
  }
}

function grab() {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth || 640;
  canvas.height = video.videoHeight || 480;
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
}

async function camera() {
  if (video.srcObject) return;
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  video.srcObject = stream;
  await new Promise((resolve) => { video.onloadedmetadata = resolve; });
  await video.play();
}

async function perform(challenge) {
  const frames = [];
  const per = Math.floor((challenge.max_frames - 2) / challenge.actions.length);
  instruction.textContent = say("look_straight");
  await sleep(800);
  frames.push(await grab());
  for (const action of challenge.actions) {
    instruction.textContent = say(action);
    for (let i = 0; i < per; i += 1) { await sleep(350); frames.push(await grab()); }
    instruction.textContent = say("look_straight");
    await sleep(600);
    frames.push(await grab());
  }
  instruction.textContent = "";
  statusLine.textContent = "Проверяем кадры…";
  const form = new FormData();
  form.append("nonce", challenge.nonce);
  frames.slice(0, challenge.max_frames).forEach((blob, i) => form.append("frames", blob, `${i}.jpg`));
  return propuskApi(`${base}/liveness`, { method: "POST", body: form });
}

function attemptsText(left) {
  const verb = propuskPlural(left, "Осталась", "Осталось", "Осталось");
  return `${verb} ${left} ${propuskPlural(left, "попытка", "попытки", "попыток")}.`;
}

async function periodic(seconds) {
  for (;;) {
    await sleep(seconds * 1000);
    const form = new FormData();
    form.append("frame", await grab(), "frame.jpg");
    try {
      const r = await propuskApi(`${base}/frames`, { method: "POST", body: form });
      statusLine.textContent = `Проверка ${r.seq}: ${propuskCheckText(r.result)}.`;
    } catch (e) {
      statusLine.textContent = e.message;
    }
  }
}

function again(text) {
  startButton.textContent = text;
  startButton.disabled = false;
  startButton.hidden = false;
}

async function run() {
  startButton.disabled = true;
  statusLine.className = "";
  try {
    await propuskLoadMessages();  // the Russian texts of the checks and actions (static/api.js)
    const start = await propuskApi(`${base}/start`, { method: "POST" });
    if (start.path === "manual") {
      startButton.hidden = true;
      statusLine.textContent = "Проверка по документу: покажите проктору документ, удостоверяющий личность.";
      return;
    }
    await camera();
    if (start.liveness_passed) {
      startButton.hidden = true;
      statusLine.textContent = "Проверка пройдена.";
      periodic(start.frame_interval_seconds || 15);
      return;
    }
    attemptsLine.textContent = attemptsText(start.attempts_left);
    statusLine.textContent = "Следуйте подсказкам над этой строкой.";
    const result = await perform(start.challenge);
    if (result.passed) {
      startButton.hidden = true;
      attemptsLine.textContent = "";
      statusLine.className = "ok";
      statusLine.textContent = "Проверка пройдена. Удачи на экзамене!";
      periodic(start.frame_interval_seconds || 15);
      return;
    }
    statusLine.className = "error";
    const counted = result.attempt_counted
      ? attemptsText(result.attempts_left)
      : "Эта попытка не засчитана.";
    statusLine.textContent = `Не получилось: ${propuskCheckText(result.reason)}.`;
    attemptsLine.textContent = counted;
    if (result.attempts_left > 0) again("Попробовать ещё раз");
    else {
      startButton.hidden = true;
      attemptsLine.textContent = "Попытки закончились. Проктор проверит вашу личность по документу.";
    }
  } catch (e) {
    statusLine.className = "error";
    statusLine.textContent = e.message;
    if (e.status !== 409 || e.body?.type?.endsWith("/bad-nonce") || e.body?.type?.endsWith("/challenge-expired")) {
      again("Попробовать ещё раз");
    }
  }
}

startButton.addEventListener("click", run);
showExam();

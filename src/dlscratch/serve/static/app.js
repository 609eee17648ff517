// dlscratch serve: draw on the pad; the drawing goes to POST /api/predict while you draw
// (at most one request in flight, at most one every GAP_MS), and the answer is shown:
// the probabilities, the 28x28 input the network received, its hidden activations and, for
// a CNN, the first convolution's feature maps.
"use strict";

const GAP_MS = 60;
const TEXT = {
  en: {
    title: "Draw a digit", garment: "Draw a garment or a shoe", model: "Model", clear: "Clear",
    hint: "Draw with the mouse, a finger or a pen.",
    input: "What the network receives (28x28)", hidden: "Hidden layer activations",
    maps: "First convolution's feature maps", other: "한국어", draw: "draw something",
    units: "units",
  },
  ko: {
    title: "숫자를 그려 보세요", garment: "옷이나 신발을 그려 보세요", model: "모델", clear: "지우기",
    hint: "마우스, 손가락, 펜으로 그릴 수 있습니다.",
    input: "신경망이 받는 입력 (28x28)", hidden: "은닉층 활성값",
    maps: "첫 번째 합성곱 층의 특징 맵", other: "English", draw: "그림을 그려 보세요",
    units: "뉴런",
  },
};

const params = new URLSearchParams(location.search);
const lang = params.get("lang") === "ko" ? "ko" : "en";
const text = TEXT[lang];

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const picker = document.getElementById("model");
const statusLine = document.getElementById("status");
const bars = document.getElementById("bars");
let models = {};        // id -> {id, kind, dataset, classes: {en, ko}}
let inked = false;      // something is drawn
let drawing = false;    // a pointer is down on the pad
let last = null;        // the previous point of the stroke
let generation = 0;     // bumped by Clear: answers to older drawings are dropped
let inFlight = false, dirty = false, lastSent = 0, timer = null;

function applyLanguage() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = text[el.dataset.i18n];
  document.title = `dlscratch · ${text.title}`;
  updateLanguageLink();
}

function updateLanguageLink() {
  const next = new URLSearchParams({ lang: lang === "ko" ? "en" : "ko" });
  if (picker.value) next.set("model", picker.value);
  const link = document.getElementById("lang");
  link.href = `?${next}`;
  link.textContent = text.other;
  link.lang = lang === "ko" ? "en" : "ko";
}

function labels() {
  const model = models[picker.value];
  return model ? model.classes[lang] : [];
}

// -- the pad -------------------------------------------------------------------------------
function clearPad() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  inked = false;
  generation += 1;
  dirty = false;
  showEmpty();
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return { x: (event.clientX - box.left) * pad.width / box.width,
           y: (event.clientY - box.top) * pad.height / box.height };
}

const PEN = 18;  // stroke width in pad pixels: about MNIST's stroke once scaled to 28x28

function dot(p) {
  ctx.fillStyle = "#000";
  ctx.beginPath();
  ctx.arc(p.x, p.y, PEN / 2, 0, 2 * Math.PI);
  ctx.fill();
  last = p;
}

function strokeTo(p) {
  ctx.lineWidth = PEN;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#000";
  ctx.beginPath();
  ctx.moveTo(last.x, last.y);
  ctx.lineTo(p.x, p.y);
  ctx.stroke();
  last = p;
}

pad.addEventListener("pointerdown", (event) => {
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  pad.dataset.pointer = event.pointerType;  // "mouse", "touch" or "pen": shown to the tests
  drawing = true;
  dot(point(event));
  inked = true;
  schedule();
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const points = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of points.length ? points : [event]) strokeTo(point(e));
  schedule();
});
for (const name of ["pointerup", "pointercancel"]) {
  pad.addEventListener(name, () => { if (drawing) { drawing = false; schedule(); } });
}
document.getElementById("clear").addEventListener("click", clearPad);

// -- asking the server: throttled, one request at a time -------------------------------------
function schedule() {
  dirty = true;
  pump();
}

function pump() {
  if (!dirty || inFlight || !inked) return;
  const wait = lastSent + GAP_MS - performance.now();
  if (wait > 0) {
    if (!timer) timer = setTimeout(() => { timer = null; pump(); }, wait);
    return;
  }
  dirty = false;
  inFlight = true;
  lastSent = performance.now();
  predict().finally(() => { inFlight = false; pump(); });
}

async function predict() {
  const asked = generation;
  const body = JSON.stringify({ image: pad.toDataURL("image/png"), model: picker.value });
  try {
    const response = await fetch("/api/predict", {
      method: "POST", headers: { "Content-Type": "application/json" }, body });
    const answer = await response.json();
    if (asked !== generation) return;  // cleared, or another model chosen, meanwhile
    if (!response.ok) { statusLine.textContent = answer.error; return; }
    statusLine.textContent = "";
    show(answer);
  } catch (error) {
    statusLine.textContent = String(error);
  }
}

// -- showing the answer --------------------------------------------------------------------
function buildBars() {
  bars.replaceChildren();
  // the names' column: as wide as the longest name (Hangul letters are about twice as wide)
  const width = (label) => [...label].reduce((w, c) => w + (c.charCodeAt(0) > 0x2e80 ? 1.05 : 0.6), 0);
  const longest = Math.max(1.5, ...labels().map(width));
  bars.style.setProperty("--label", `${Math.min(longest, 9).toFixed(2)}rem`);
  labels().forEach((label, k) => {
    const li = document.createElement("li");
    li.dataset.class = String(k);
    li.dataset.probability = "0";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = label;
    const track = document.createElement("span");
    track.className = "track";
    const fill = document.createElement("span");
    fill.className = "fill";
    track.append(fill);
    const value = document.createElement("span");
    value.className = "value";
    value.textContent = "-";
    li.append(name, track, value);
    bars.append(li);
  });
}

function showEmpty() {
  const top = document.getElementById("top");
  top.textContent = "?";
  top.classList.remove("word");
  top.dataset.class = "";
  document.getElementById("top-label").textContent = text.draw;
  for (const li of bars.children) {
    li.dataset.probability = "0";
    li.classList.remove("best");
    li.querySelector(".fill").style.width = "0";
    li.querySelector(".value").textContent = "-";
  }
  paint(document.getElementById("input"), new Array(28).fill(new Array(28).fill(0)), 1);
  document.getElementById("hidden").replaceChildren();
  document.getElementById("maps").replaceChildren();
  document.getElementById("maps-title").hidden = true;
}

function show(answer) {
  bars.dataset.answers = String(Number(bars.dataset.answers || 0) + 1);  // answers shown
  const best = answer.top[0].class;
  const names = labels();
  answer.probabilities.forEach((p, k) => {
    const li = bars.children[k];
    if (!li) return;
    li.dataset.probability = String(p);
    li.classList.toggle("best", k === best);
    li.querySelector(".fill").style.width = `${(100 * p).toFixed(1)}%`;
    li.querySelector(".value").textContent = p.toFixed(3);
  });
  const top = document.getElementById("top");
  top.textContent = names[best] ?? String(best);
  top.classList.toggle("word", top.textContent.length > 1);  // a garment's name: smaller
  top.dataset.class = String(best);
  document.getElementById("top-label").textContent =
    `${(100 * answer.top[0].probability).toFixed(1)}%`;
  paint(document.getElementById("input"), answer.input, 1);
  showHidden(answer.activations.hidden);
  showMaps(answer.activations.feature_maps);
}

// a 2-D array of values as grey levels: 0 black, `top` (or more) white
function paint(canvas, rows, top) {
  const h = rows.length, w = rows[0].length;
  canvas.width = w;
  canvas.height = h;
  const c = canvas.getContext("2d");
  const image = c.createImageData(w, h);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const v = Math.round(255 * Math.max(0, Math.min(1, rows[i][j] / (top || 1))));
      const at = 4 * (i * w + j);
      image.data[at] = image.data[at + 1] = image.data[at + 2] = v;
      image.data[at + 3] = 255;
    }
  }
  c.putImageData(image, 0, 0);
}

function largest(values) {
  let top = 0;
  for (const v of values.flat(Infinity)) top = Math.max(top, v);
  return top;
}

function showHidden(layers) {
  const box = document.getElementById("hidden");
  box.replaceChildren();
  for (const layer of layers) {
    const caption = document.createElement("div");
    caption.className = "muted";
    caption.textContent = `${layer.layer}: ${layer.values.length} ${text.units}`;
    const canvas = document.createElement("canvas");
    canvas.title = layer.layer;
    paint(canvas, [layer.values], largest(layer.values));
    box.append(caption, canvas);
  }
}

function showMaps(maps) {
  const box = document.getElementById("maps");
  box.replaceChildren();
  document.getElementById("maps-title").hidden = !maps;
  if (!maps) return;
  // grey levels 0..255 of each value / the largest value of all maps (one scale for all maps:
  // strong and weak filters show as such)
  const levels = Uint8Array.from(atob(maps.levels), (c) => c.charCodeAt(0));
  const [count, h, w] = maps.shape;
  for (let k = 0; k < count; k++) {
    const rows = [];
    for (let i = 0; i < h; i++) rows.push(levels.subarray((k * h + i) * w, (k * h + i + 1) * w));
    const canvas = document.createElement("canvas");
    canvas.title = `${maps.layer} #${k + 1}`;
    paint(canvas, rows, 255);
    box.append(canvas);
  }
}

// -- models --------------------------------------------------------------------------------
async function loadModels() {
  const response = await fetch("/api/models");
  const answer = await response.json();
  models = {};
  picker.replaceChildren();
  for (const model of answer.models) {
    models[model.id] = model;
    const option = document.createElement("option");
    option.value = model.id;
    const networks = model.members > 1 ? ` ×${model.members}` : "";  // an ensemble
    option.textContent = `${model.id} (${model.kind}${networks}, ${model.dataset})`;
    picker.append(option);
  }
  const wanted = params.get("model");
  picker.value = wanted && models[wanted] ? wanted : answer.default;
  modelChosen();
}

function modelChosen() {
  generation += 1;
  const model = models[picker.value];
  document.getElementById("title").textContent =
    model && model.dataset === "fashion-mnist" ? text.garment : text.title;
  buildBars();
  updateLanguageLink();
  if (inked) { showEmpty(); schedule(); } else showEmpty();
}

picker.addEventListener("change", modelChosen);
applyLanguage();
clearPad();
loadModels().catch((error) => { statusLine.textContent = String(error); });

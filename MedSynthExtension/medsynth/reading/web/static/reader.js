// MedSynth web reader: one case at a time in NiiVue, answers POSTed one by one (each saved in
// one transaction by the server). Keyboard: R / S real or synthetic, 1-5 confidence first, then the
// rating of the focused (default: first) scale, M mark mode, Enter save & next, B back (when the study allows it).
"use strict";
const token = location.pathname.split("/")[2];
const api = (path) => `/api/${token}/${path}`;
const nv = new niivue.Niivue({ show3Dcrosshair: false, backColor: [0, 0, 0, 1] });
let state = null, answers = {}, marks = [], marking = false, activeLikert = null;
let shownAt = null;  // performance.now() when the current case's image was on screen

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

async function load(position) {
  const response = await fetch(api("case") + (position ? `?position=${position}` : ""));
  state = await response.json();
  if (!response.ok) { status(state.error || "error"); return; }
  document.getElementById("title").textContent = state.title || "Reading session";
  if (state.done) {
    document.getElementById("progress").textContent = `${state.answered} / ${state.total}`;
    document.getElementById("form").replaceChildren(el("p", {}, "All cases answered. Thank you."));
    return;
  }
  document.getElementById("progress").textContent = `${state.position} / ${state.total}`;
  answers = Object.assign({}, state.previous || {});
  marks = [];
  shownAt = null;
  buildForm();
  await nv.loadVolumes([{ url: api(`image/${state.case_id}`), name: `${state.case_id}.nii` }]);
  nv.setSliceType(nv.sliceTypeMultiplanar);
  buildPresets();
  if (state.window != null) applyWindow(state.window, state.level);
  shownAt = performance.now();
  document.body.dataset.shown = String(state.position);
}

function applyWindow(window, level) {
  const volume = nv.volumes[0];
  volume.cal_min = level - window / 2;
  volume.cal_max = level + window / 2;
  nv.updateGLVolume();
}

function buildPresets() {
  const box = document.getElementById("presets");
  const volume = nv.volumes[0];
  const presets = [["Auto", volume.robust_max - volume.robust_min, (volume.robust_max + volume.robust_min) / 2]];
  if (state.window != null) presets.unshift(["Study", state.window, state.level]);
  box.replaceChildren(...presets.map(([name, w, l]) => {
    const b = el("button", { type: "button" }, name);
    b.onclick = () => applyWindow(w, l);
    return b;
  }));
}

function buildForm() {
  const form = document.getElementById("form");
  form.replaceChildren();
  for (const q of state.questions) {
    const box = el("fieldset", { "data-q": q.id }, el("legend", {}, q.text || q.id));
    if (q.type === "real_or_synthetic") {
      const value = answers[q.id] || {};
      for (const [key, choice] of [["R", "real"], ["S", "synthetic"]]) {
        const b = el("button", { type: "button", "data-choice": choice }, `${choice} (`, el("kbd", {}, key), ")");
        if (value.choice === choice) b.classList.add("on");
        b.onclick = () => setChoice(q, choice);
        box.append(b);
      }
      if (q.confidence) box.append(el("p", {}, "Confidence 1-5: ", el("span", { id: `conf-${q.id}` }, String(value.confidence ?? "-"))));
    } else if (q.type === "likert") {
      for (let v = q.min; v <= q.max; v++) {
        const b = el("button", { type: "button", "data-value": String(v) }, String(v));
        if (answers[q.id] === v) b.classList.add("on");
        b.onclick = () => { answers[q.id] = v; activeLikert = q; buildForm(); };
        box.append(b);
      }
      box.onclick = () => { activeLikert = q; };
    } else if (q.type === "free_text") {
      const t = el("textarea", { rows: "2", "data-text": q.id });
      t.value = answers[q.id] || "";
      t.oninput = () => { answers[q.id] = t.value; };
      box.append(t);
    } else if (q.type === "point_marks") {
      box.append(el("p", { id: "marks" }, `${(answers[q.id] || marks).length} mark(s)`));
    }
    form.append(box);
  }
  const save = el("button", { type: "submit", id: "save" }, "Save & next (", el("kbd", {}, "Enter"), ")");
  form.append(save);
  if (state.allow_revisit && state.position > 1) {
    const back = el("button", { type: "button", id: "back" }, "Back (", el("kbd", {}, "B"), ")");
    back.onclick = () => load(state.position - 1);
    form.append(back);
  }
  form.onsubmit = (e) => { e.preventDefault(); submit(); };
}

function choiceQuestion() { return state.questions.find((q) => q.type === "real_or_synthetic"); }
function markQuestion() { return state.questions.find((q) => q.type === "point_marks"); }

function setChoice(q, choice) {
  answers[q.id] = Object.assign({}, answers[q.id] || {}, { choice });
  activeLikert = null;
  buildForm();
}

nv.onLocationChange = (data) => {
  const q = markQuestion();
  if (!marking || !q || !state || state.done) return;
  const [x, y, z] = data.mm;  // NiiVue world coordinates are RAS millimetres
  marks.push({ r: x, a: y, s: z });
  answers[q.id] = marks.map((m) => ({ ras_mm: [m.r, m.a, m.s] }));
  document.getElementById("marks").textContent = `${marks.length} mark(s)`;
};

async function submit() {
  // the server keeps this only if it is no longer than its own measure
  const duration_s = shownAt === null ? null : (performance.now() - shownAt) / 1000;
  const body = JSON.stringify({ case_id: state.case_id, answers, duration_s });
  const response = await fetch(api("answer"), {
    method: "POST", body, headers: { "Content-Type": "application/json", "X-MedSynth": "1" },
  });
  const reply = await response.json();
  if (!response.ok) { status(reply.error || "not saved"); return; }
  status(`Saved (${reply.answered} / ${reply.total}).`);
  await load();
}

function status(text) { document.getElementById("status").textContent = text; }

document.addEventListener("keydown", (e) => {
  if (!state || state.done || e.target.tagName === "TEXTAREA") return;
  const q = choiceQuestion();
  const key = e.key.toLowerCase();
  if (q && key === "r") setChoice(q, "real");
  else if (q && key === "s") setChoice(q, "synthetic");
  else if (key >= "1" && key <= "9") {
    const v = Number(key);
    const pending = q && q.confidence && v <= 5 && (answers[q.id] || {}).confidence === undefined;
    const likert = activeLikert || state.questions.find((x) => x.type === "likert");
    if (!pending && likert) { answers[likert.id] = v; buildForm(); }
    else if (q && q.confidence && v <= 5) {
      answers[q.id] = Object.assign({}, answers[q.id] || {}, { confidence: v });
      document.getElementById(`conf-${q.id}`).textContent = String(v);
    }
  } else if (key === "m") { marking = !marking; status(marking ? "Marking: click in the image." : "Marking off."); }
  else if (key === "b" && state.allow_revisit && state.position > 1) load(state.position - 1);
  else if (key === "enter") { e.preventDefault(); submit(); }
});

nv.attachTo("gl").then(() => load());

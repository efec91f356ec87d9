/* Cairn web UI: plain JavaScript, no build step, nothing fetched from elsewhere.
 * Every bit of server data is put on the page with textContent, never as HTML. */
"use strict";

const KEY_STORE = "cairn-api-key";
/* The pipeline's stages, in order: the same names as cairn.events.Stage (a test checks). */
const STAGE = Object.freeze({
  stt: "stt",
  understand: "understand",
  act: "act",
  answer: "answer",
  chart: "chart",
  speak: "speak",
  remember: "remember",
});
const MAX_RECORDING_MS = 30000;
const $ = (id) => document.getElementById(id);

let apiKey = sessionStorage.getItem(KEY_STORE) || "";
let recorder = null;
let recordTimer = null;
let busy = false;
const objectUrls = [];

/* ------------------------------------------------------------------ HTTP */

function authHeaders(extra) {
  const headers = Object.assign({}, extra || {});
  if (apiKey) headers.Authorization = "Bearer " + apiKey;
  return headers;
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = authHeaders(opts.headers);
  const resp = await fetch(path, opts);
  if (resp.status === 401) {
    askForKey(apiKey ? "That API key was not accepted." : "");
    throw new Error("this server needs an API key");
  }
  return resp;
}

async function errorMessage(resp) {
  try {
    const body = await resp.json();
    if (body && body.error) return body.error.message;
  } catch (_) { /* not JSON */ }
  return resp.status + " " + resp.statusText;
}

/** A URL the page can use for a server file: direct, or a blob when a key is needed. */
async function mediaUrl(url) {
  if (!url || url.startsWith("data:") || !apiKey) return url;
  const resp = await api(url);
  if (!resp.ok) throw new Error(await errorMessage(resp));
  const blobUrl = URL.createObjectURL(await resp.blob());
  objectUrls.push(blobUrl);
  return blobUrl;
}

/* ------------------------------------------------------------------ API key */

function askForKey(message) {
  $("key-panel").hidden = false;
  $("key-error").textContent = message || "";
  $("api-key").focus();
}

async function useKey(event) {
  event.preventDefault();
  apiKey = $("api-key").value.trim();
  sessionStorage.setItem(KEY_STORE, apiKey);
  $("api-key").value = "";
  try {
    await loadSources();
    $("key-panel").hidden = true;
    loadRuns();
    $("question").focus();
  } catch (_) { /* askForKey has said why */ }
}

/* ------------------------------------------------------------------ rendering */

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function clearResult() {
  while (objectUrls.length) URL.revokeObjectURL(objectUrls.pop());
  $("stages").replaceChildren();
  for (const id of ["transcript-box", "answer-box", "citations-box", "chart-box", "audio-box", "command-box"]) {
    $(id).hidden = true;
  }
  $("citations").replaceChildren();
  $("answer").replaceChildren();
  $("transcript").textContent = "";
  $("command").textContent = "";
  $("answer-audio").removeAttribute("src");
  $("chart").removeAttribute("src");
}

function setStatus(text, isError) {
  const status = $("status");
  status.textContent = text;
  status.className = isError ? "error" : "muted";
}

function stageItem(stage) {
  let item = document.querySelector('#stages li[data-stage="' + CSS.escape(stage) + '"]');
  if (!item) {
    item = el("li");
    item.dataset.stage = stage;
    item.append(el("span", stage, "name"), document.createTextNode(": "), el("span", "", "state"));
    $("stages").append(item);
  }
  return item;
}

function showEvent(ev) {
  const item = stageItem(ev.stage || "pipeline");
  const state = item.querySelector(".state");
  const data = ev.data || {};
  if (ev.type === "stage-start") {
    item.className = "running";
    state.textContent = "running…";
  } else if (ev.type === "stage-end") {
    if (data.skipped) {
      item.className = "skipped";
      state.textContent = "skipped (" + data.skipped + ")";
    } else {
      item.className = "ok";
      const secs = typeof data.seconds === "number" ? " in " + data.seconds.toFixed(2) + " s" : "";
      state.textContent = "done" + secs;
    }
    if (ev.stage === STAGE.stt && data.text) showTranscript(data.text);
  } else if (ev.type === "error") {
    item.className = "failed";
    state.textContent = "failed: " + (data.message || data.code || "error");
  } else if (ev.type === "warning") {
    const warn = el("li", (ev.stage || "") + ": " + (data.message || "warning"), "skipped");
    $("stages").append(warn);
  }
}

function showTranscript(text) {
  $("transcript").textContent = text;
  $("transcript-box").hidden = !text;
}

/** The answer with its [n] markers as links to the numbered citations. */
function showAnswer(text, citations) {
  const box = $("answer");
  box.replaceChildren();
  const known = new Set((citations || []).map((c) => String(c.n)));
  let last = 0;
  const marker = /\[(\d+)\]/g;
  let m;
  while ((m = marker.exec(text)) !== null) {
    const n = m[1];
    if (!known.has(n)) continue;
    box.append(document.createTextNode(text.slice(last, m.index)));
    const link = el("a", "[" + n + "]");
    link.href = "#cite-" + n;
    link.setAttribute("aria-label", "source " + n);
    link.addEventListener("click", () => {
      const details = $("cite-" + n);
      if (details) details.open = true;
    });
    box.append(link);
    last = m.index + m[0].length;
  }
  box.append(document.createTextNode(text.slice(last)));
  $("answer-box").hidden = false;
}

function showCitations(citations) {
  const list = $("citations");
  list.replaceChildren();
  for (const c of citations || []) {
    const details = el("details");
    details.id = "cite-" + c.n;
    const name = c.title || (c.source || "").split(/[\\/]/).pop() || "source";
    details.append(el("summary", "[" + c.n + "] " + name));
    details.append(el("blockquote", c.quote));
    const dl = el("dl");
    const rows = [
      ["Source", c.source],
      ["Licence", c.license || "unknown"],
      ["Characters", c.start + "–" + c.end],
    ];
    for (const [k, v] of rows) dl.append(el("dt", k), el("dd", v));
    details.append(dl);
    const item = el("li");
    item.append(details);
    list.append(item);
  }
  $("citations-box").hidden = !(citations && citations.length);
}

async function showResult(r) {
  if (r.transcript) showTranscript(r.transcript);
  if (r.command) {
    $("command").textContent = JSON.stringify(r.command, null, 2);
    $("command-box").hidden = false;
  }
  if (r.answer) showAnswer(r.answer, r.citations);
  showCitations(r.citations);
  if (r.error) {
    setStatus("The run stopped at " + r.error.stage + ": " + r.error.message, true);
  } else if (r.abstained) {
    setStatus("The sources do not answer this; the closest are listed.", false);
  } else {
    setStatus(r.citations && r.citations.length ? "Answered with sources." : "Done.", false);
  }
  try {
    if (r.chart) {
      $("chart").src = await mediaUrl(r.chart);
      $("chart-box").hidden = false;
    }
    if (r.audio) {
      $("answer-audio").src = await mediaUrl(r.audio);
      $("audio-box").hidden = false;
    }
  } catch (err) {
    setStatus("Could not load the chart or spoken answer: " + err.message, true);
  }
}

/* ------------------------------------------------------------------ asking */

function setBusy(value) {
  busy = value;
  $("ask-button").disabled = value;
  $("ask-form").setAttribute("aria-busy", value ? "true" : "false");
}

/** POST a request to /api/voice and follow its server-sent events. */
async function runVoice(form) {
  if (busy) return;
  setBusy(true);
  clearResult();
  setStatus("Working…", false);
  form.append("speak", $("speak").checked ? "true" : "false");
  try {
    const resp = await api("/api/voice", { method: "POST", body: form });
    if (!resp.ok || !resp.body) throw new Error(await errorMessage(resp));
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let result = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart()).join("\n");
        if (!data) continue;
        const ev = JSON.parse(data);
        if (ev.type === "result") result = ev;
        else showEvent(ev);
      }
    }
    if (!result) throw new Error("the server ended the stream without a result");
    await showResult(result);
    loadRuns();
  } catch (err) {
    setStatus("Request failed: " + err.message, true);
  } finally {
    setBusy(false);
  }
}

function askTyped(event) {
  event.preventDefault();
  const text = $("question").value.trim();
  if (!text) {
    setStatus("Type a question first, or record one.", true);
    $("question").focus();
    return;
  }
  const form = new FormData();
  form.append("text", text);
  runVoice(form);
}

function recordingType() {
  const kinds = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/ogg"];
  for (const kind of kinds) {
    if (window.MediaRecorder && MediaRecorder.isTypeSupported(kind)) return kind;
  }
  return "";
}

function setMic(recording, message) {
  $("mic").setAttribute("aria-pressed", recording ? "true" : "false");
  $("mic-label").textContent = recording ? "Stop recording" : "Record question";
  $("mic-status").textContent = message || "";
}

async function toggleMic() {
  if (recorder && recorder.state === "recording") {
    recorder.stop();
    return;
  }
  if (busy) return;
  if (!navigator.mediaDevices || !window.MediaRecorder) {
    setMic(false, "This browser cannot record audio here (it needs HTTPS or localhost).");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    setMic(false, "No microphone: " + err.message);
    return;
  }
  const type = recordingType();
  const chunks = [];
  recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
  recorder.addEventListener("dataavailable", (e) => { if (e.data.size) chunks.push(e.data); });
  recorder.addEventListener("stop", () => {
    clearTimeout(recordTimer);
    stream.getTracks().forEach((t) => t.stop());
    const kind = recorder.mimeType || type || "audio/webm";
    recorder = null;
    setMic(false, "Recording sent.");
    const blob = new Blob(chunks, { type: kind });
    const form = new FormData();
    form.append("audio", blob, kind.includes("ogg") ? "question.ogg" : "question.webm");
    runVoice(form);
  });
  recorder.start(250);
  recordTimer = setTimeout(() => { if (recorder) recorder.stop(); }, MAX_RECORDING_MS);
  setMic(true, "Recording… press the button again to stop.");
}

/* ------------------------------------------------------------------ ingest, sources, runs */

async function ingest(event) {
  event.preventDefault();
  const out = $("ingest-result");
  const form = new FormData($("ingest-form"));
  if (!form.get("license")) form.delete("license");
  out.textContent = "Uploading…";
  out.className = "";
  try {
    const resp = await api("/api/ingest", { method: "POST", body: form });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    const body = await resp.json();
    const parts = body.files.map((f) => f.filename + ": " + f.status + (f.message ? " (" + f.message + ")" : ""));
    out.textContent = parts.join("; ");
    $("ingest-form").reset();
    loadSources();
  } catch (err) {
    out.textContent = "Upload failed: " + err.message;
    out.className = "error";
  }
}

async function loadSources() {
  const resp = await api("/api/sources");
  if (!resp.ok) throw new Error(await errorMessage(resp));
  const body = await resp.json();
  const list = $("sources");
  list.replaceChildren();
  for (const s of body.sources) {
    const item = el("li");
    const what = el("div", null, "what");
    const name = s.uri.split(/[\\/]/).pop() || s.uri;
    what.append(el("span", name));
    what.append(el("span", [s.collection, s.license || "no licence", "consent " + s.consent,
      s.documents + " doc(s), " + s.chunks + " chunks"].join(" · "), "meta"));
    const forget = el("button", "Forget");
    forget.type = "button";
    forget.className = "danger";
    forget.setAttribute("aria-label", "Forget " + name);
    forget.addEventListener("click", () => confirmForget(s, name, forget));
    item.append(what, forget);
    list.append(item);
  }
  $("sources-status").textContent = body.sources.length ? body.sources.length + " source(s)." : "No sources yet.";
}

function confirmForget(source, name, button) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent =
    "“" + name + "” and everything derived from it will be removed from the knowledge base.";
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "forget") { button.focus(); return; }
    try {
      const resp = await api("/api/sources/" + encodeURIComponent(source.id), { method: "DELETE" });
      if (!resp.ok) throw new Error(await errorMessage(resp));
      await loadSources();
      $("sources-status").textContent = "Forgot " + name + ".";
      $("refresh-sources").focus();
    } catch (err) {
      $("sources-status").textContent = "Could not forget " + name + ": " + err.message;
    }
  }, { once: true });
  dialog.returnValue = "";
  dialog.showModal();
}

async function loadRuns() {
  let body;
  try {
    const resp = await api("/api/runs?limit=10");
    if (!resp.ok) return;
    body = await resp.json();
  } catch (_) { return; }
  const list = $("runs");
  list.replaceChildren();
  for (const run of body.runs) {
    const item = el("li");
    const what = el("div", null, "what");
    what.append(el("span", run.request || "(no transcript)"));
    what.append(el("span", (run.started_at || "").replace("T", " ").slice(0, 19) + " · " + run.status, "meta"));
    const show = el("button", "Show");
    show.type = "button";
    show.setAttribute("aria-label", "Show run " + run.id);
    show.addEventListener("click", () => showRun(run.id));
    item.append(what, show);
    list.append(item);
  }
  if (!body.runs.length) list.append(el("li", "No runs yet.", "muted"));
}

async function showRun(id) {
  const resp = await api("/api/runs/" + encodeURIComponent(id));
  if (!resp.ok) { setStatus(await errorMessage(resp), true); return; }
  const run = await resp.json();
  clearResult();
  for (const ev of run.events || []) showEvent(ev);
  const r = Object.assign({}, run.result || {});
  r.audio = r.audio_url || null;
  r.chart = (r.chart_urls || [])[0] || null;
  await showResult(r);
  $("answer-title").scrollIntoView();
  $("answer-panel").focus();
}

/* ------------------------------------------------------------------ start */

document.addEventListener("DOMContentLoaded", () => {
  $("answer-panel").tabIndex = -1;
  $("key-form").addEventListener("submit", useKey);
  $("ask-form").addEventListener("submit", askTyped);
  $("question").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("ask-form").requestSubmit(); }
  });
  $("mic").addEventListener("click", toggleMic);
  $("ingest-form").addEventListener("submit", ingest);
  $("refresh-sources").addEventListener("click", () => loadSources().catch(() => {}));
  $("refresh-runs").addEventListener("click", loadRuns);
  loadSources().then(loadRuns).catch(() => {});
});

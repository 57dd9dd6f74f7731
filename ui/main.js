// The window: renders what the engine reports and sends the user's intents. No SIP here.
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (id) => document.getElementById(id);
/** Calls shown, by id: { id, who, state, held, muted, since, el }. */
const calls = new Map();

function say(text) {
  $("message").textContent = text ?? "";
}

function showStatus(s) {
  const text = {
    starting: "Starting…",
    registered: `Registered${s.number ? ` as ${s.number}` : ""}${s.demo ? " (demo)" : ""}`,
    failed: `Not registered: ${s.error ?? "unknown error"}`,
  }[s.state] ?? s.state;
  $("status-text").textContent = text;
  $("status").dataset.state = s.state;
  $("demo").hidden = !s.demo;
}

async function run(command, args) {
  try {
    return await invoke(command, args);
  } catch (err) {
    say(String(err));
    return undefined;
  }
}

function render(call) {
  const el = call.el;
  el.dataset.state = call.state;
  el.dataset.consulting = String(Boolean(call.consulting));
  el.querySelector(".who").textContent = call.who;
  el.querySelector(".state").textContent = {
    incoming: "Incoming call",
    calling: "Calling…",
    ringing: call.incoming ? "Incoming call" : "Ringing…",
    talking: call.held ? "On hold" : "Connected",
    ended: call.reason ?? "Ended",
  }[call.state];
  el.querySelector('[data-action="mute"]').setAttribute("aria-pressed", String(call.muted));
  el.querySelector('[data-action="hold"]').setAttribute("aria-pressed", String(call.held));
  el.querySelector('[data-action="hold"]').textContent = call.held ? "Resume" : "Hold";
  el.querySelector('[data-action="mute"]').textContent = call.muted ? "Unmute" : "Mute";
}

function addCall(id, who, incoming) {
  if (calls.has(id)) return calls.get(id);
  const el = $("call-template").content.firstElementChild.cloneNode(true);
  el.dataset.call = id;
  const call = { id, who, incoming, state: incoming ? "incoming" : "calling", held: false, muted: false, since: null, el };
  calls.set(id, call);
  $("calls").prepend(el);
  render(call);
  return call;
}

function tick() {
  for (const call of calls.values()) {
    const t = call.el.querySelector(".timer");
    if (!call.since || call.state === "ended") continue;
    const s = Math.floor((Date.now() - call.since) / 1000);
    t.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }
}

function onEvent(e) {
  const call = calls.get(e.call);
  switch (e.type) {
    case "registered": return showStatus({ state: "registered" });
    case "registrationFailed": return showStatus({ state: "failed", error: e.reason });
    case "disconnected": return say(`Connection lost: ${e.reason}`);
    case "incomingCall": {
      const c = addCall(e.call, e.name ? `${e.name} (${e.from})` : e.from, true);
      return render(c);
    }
    case "outgoingCall": addCall(e.call, e.to, false); return;
    case "ringing": if (call && !call.incoming) { call.state = "ringing"; render(call); } return;
    case "answered": if (call) { call.state = "talking"; call.since = Date.now(); render(call); } return;
    case "held": if (call) { call.held = e.held; render(call); } return;
    case "failed": if (call) { call.reason = `${e.status} ${e.reason}`; } return;
    case "ended":
      if (call) {
        call.state = "ended";
        call.reason = call.reason ?? e.reason;
        render(call);
        const original = calls.get(call.consultFor);
        if (original) { original.consulting = false; render(original); }
        setTimeout(() => { call.el.remove(); calls.delete(call.id); }, 3000);
      }
      return;
    case "digit": return say(`The other side pressed ${e.digit}`);
    case "history": return showHistory();
    case "ringtone": {
      const el = $("ringtone");
      el.hidden = !e.tone;
      el.textContent = e.tone === "ring" ? "· ringing" : e.tone === "ringback" ? "· ringback" : "";
      document.body.dataset.ringtone = e.tone ?? "";
      return;
    }
    case "mediaFailed": return say(`Audio failed: ${e.reason}`);
  }
}

async function onCallAction(call, action) {
  switch (action) {
    case "answer": return run("answer", { call: call.id });
    case "decline": call.reason = "Declined"; return run("decline", { call: call.id });
    case "voicemail": call.reason = "Sent to voicemail"; return run("to_voicemail", { call: call.id });
    case "hangup": return run("hangup", { call: call.id });
    case "mute": call.muted = !call.muted; render(call); return run("set_mute", { call: call.id, on: call.muted });
    case "hold": return run("set_hold", { call: call.id, on: !call.held });
    case "park": { const where = await run("park", { call: call.id }); if (where) say(`Parked: dial ${where} to pick it up`); return; }
    case "ask-reply": return ask(call, "reply", "Reply with a message", "I'll call you back in 5 minutes");
    case "ask-forward": return ask(call, "forward", "Forward to number", "");
    case "ask-transfer": return ask(call, "transfer", "Transfer to number", "");
    case "ask-consult": return ask(call, "consult", "Talk first to number", "");
    case "close-ask": call.el.querySelector(".ask").hidden = true; return;
    case "complete-transfer": return run("complete_transfer", { call: call.id });
    case "cancel-transfer": return run("cancel_transfer", { call: call.id });
  }
}

/** Opens the call's inline form for `purpose`, with `placeholder` and a default value. */
function ask(call, purpose, placeholder, value) {
  const form = call.el.querySelector(".ask");
  form.dataset.purpose = purpose;
  form.hidden = false;
  const input = form.querySelector("input");
  input.placeholder = placeholder;
  input.value = value;
  input.focus();
}

async function onAsk(call, purpose, value) {
  call.el.querySelector(".ask").hidden = true;
  if (!value.trim()) return;
  switch (purpose) {
    case "reply": {
      call.reason = "Replied with a message";
      say("Waiting for the caller's answer…");
      const answer = await run("reply", { call: call.id, text: value });
      if (answer) say(answer);
      return;
    }
    case "forward": call.reason = `Forwarded to ${value}`; return run("forward", { call: call.id, target: value });
    case "transfer": return run("transfer", { call: call.id, target: value });
    case "consult": {
      const id = await run("warm_transfer", { call: call.id, target: value });
      if (id !== undefined) {
        addCall(id, value, false).consultFor = call.id;
        call.consulting = true;
        render(call);
      }
      return;
    }
  }
}

const OUTCOME = { answered: "answered", missed: "missed", declined: "declined", unanswered: "not answered" };

async function showHistory() {
  const entries = (await run("history")) ?? [];
  const list = $("history");
  list.replaceChildren();
  if (entries.length === 0) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "No calls yet";
    list.append(li);
    return;
  }
  for (const e of entries.slice(0, 20)) {
    const li = document.createElement("li");
    const when = new Date(e.startedAt * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const arrow = e.direction === "inbound" ? "↙" : "↗";
    const talk = e.durationSecs ? ` · ${Math.floor(e.durationSecs / 60)}:${String(e.durationSecs % 60).padStart(2, "0")}` : "";
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.dial = e.number;
    button.textContent = `${arrow} ${e.name ?? e.number}`;
    button.title = `Call ${e.number}`;
    const meta = document.createElement("span");
    meta.className = `meta ${e.outcome}`;
    meta.textContent = `${OUTCOME[e.outcome] ?? e.outcome}${talk} · ${when}`;
    li.append(button, meta);
    list.append(li);
  }
}

async function switchTo(command, args) {
  $("account-message").textContent = "Connecting…";
  try {
    const { status, note } = await invoke(command, args);
    showStatus(status);
    $("account-message").textContent = note ?? (status.state === "registered" ? "Registered." : "");
  } catch (err) {
    $("account-message").textContent = String(err);
  }
}

function activeCall() {
  return [...calls.values()].find((c) => c.state === "talking" && !c.held);
}

async function dial(number) {
  say("");
  // The call's card comes with its outgoingCall event, before any of its other events.
  await run("dial", { number });
}

function setUp() {
  $("dial-form").addEventListener("submit", (ev) => { ev.preventDefault(); const n = $("number").value; if (n.trim()) dial(n); });
  $("keypad").addEventListener("click", (ev) => {
    const key = ev.target.closest("button")?.textContent;
    if (!key) return;
    const call = activeCall();
    if (call) run("send_dtmf", { call: call.id, digits: key });
    else $("number").value += key;
  });
  $("demo").addEventListener("click", (ev) => {
    const number = ev.target.dataset?.dial;
    if (number) dial(number);
  });
  $("demo-incoming").addEventListener("click", () => run("demo_incoming_call", { bot: "tone" }));
  $("use-account").addEventListener("click", () => switchTo("use_account", { sipinfo: $("sipinfo").value }));
  $("use-demo").addEventListener("click", () => switchTo("use_demo", {}));
  $("history").addEventListener("click", (ev) => {
    const number = ev.target.closest("button")?.dataset.dial;
    if (number) dial(number);
  });
  $("calls").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const el = ev.target.closest(".call");
    const call = calls.get(Number(el.dataset.call));
    onAsk(call, ev.target.dataset.purpose, ev.target.querySelector("input").value);
  });
  $("calls").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    const el = ev.target.closest(".call");
    if (button && el) onCallAction(calls.get(Number(el.dataset.call)), button.dataset.action);
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { const c = activeCall() ?? [...calls.values()].find((x) => x.state !== "ended"); if (c) run("hangup", { call: c.id }); }
    else if (/^[0-9*#]$/.test(ev.key) && document.activeElement !== $("number")) { const c = activeCall(); if (c) run("send_dtmf", { call: c.id, digits: ev.key }); }
  });
  setInterval(tick, 1000);
}

async function main() {
  setUp();
  await listen("phone-event", (e) => onEvent(e.payload));
  await listen("phone-status", (e) => { showStatus(e.payload); showHistory(); });
  showStatus(await invoke("status"));
  showHistory();
  try {
    const { name, version } = await invoke("app_version");
    $("version").textContent = `${name} ${version}`;
  } catch (err) {
    $("version").textContent = `version unavailable: ${err}`;
  }
}

main();

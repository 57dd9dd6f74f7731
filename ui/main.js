// The window: renders what the engine reports and sends the user's intents. No SIP here.
const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

const $ = (id) => document.getElementById(id);
/** Calls shown, by id: { id, who, state, held, muted, recording, since, el }. */
const calls = new Map();
/** How our own call into a conference we host is named. */
const CONFERENCE = "Conference";

function say(text) {
  $("message").textContent = text ?? "";
}

/** True while the sign-in form holds the demo's confidential client (from "Fill in the demo's"). */
let demoClientFilled = false;

/** Signs in (browser or JWT) with what the sign-in form holds. */
async function signIn(withJwt) {
  const choice = $("signin-server").value;
  const request = {
    server: choice === "custom" ? $("signin-custom").value.trim() : choice,
    clientId: $("signin-client-id").value.trim(),
    // A confidential client may use the browser flow too, with its secret.
    clientSecret: $("signin-secret").value || null,
    jwt: withJwt ? $("signin-jwt").value.trim() : null,
  };
  $("signin-message").textContent = withJwt ? "Signing in…" : "Finish signing in in your browser…";
  try {
    const r = await invoke("sign_in", { request });
    showStatus(r.status);
    $("signin-message").textContent = `Signed in. Caller IDs: ${r.callerIds.join(", ") || "none"}${r.note ? `. ${r.note}` : ""}`;
    $("signout").hidden = false;
    $("signin-jwt").value = "";
    $("signin-secret").value = "";
    if (demoClientFilled) {
      // Without its secret (just cleared) the demo's confidential client cannot sign in again.
      $("signin-client-id").value = "";
      demoClientFilled = false;
    }
    await loadSettings();
  } catch (err) {
    $("signin-message").textContent = `Not signed in: ${err}`;
  }
}

async function signOut() {
  $("signin-message").textContent = "Signing out…";
  try {
    const r = await invoke("sign_out", {});
    showStatus(r.status);
    $("signin-message").textContent = r.note ? `Signed out; ${r.note}` : "Signed out.";
    $("signout").hidden = true;
    await loadSettings();
  } catch (err) {
    $("signin-message").textContent = `${err}`;
  }
}

function showStatus(s) {
  const text = {
    starting: "Starting…",
    connecting: "Connecting…",
    reconnecting: `Reconnecting…${s.error ? ` (${s.error})` : ""}`,
    disconnected: `Disconnected: ${s.error ?? "the connection was lost"}.`,
    registered: `Registered${s.number ? ` as ${s.number}` : ""}${s.demo ? " (demo)" : ""}`,
    failed: `Not registered: ${s.error ?? "unknown error"}`,
  }[s.state] ?? s.state;
  // A CA trusted besides the system's (SOFTPHONE_EXTRA_CA) is trusted for every server: show it.
  $("status-text").textContent = s.extraCa ? `${text} · trusting the extra CA in ${s.extraCa}` : text;
  $("status").dataset.state = s.state;
  if (s.demo !== undefined) {
    $("demo").hidden = !s.demo;
    for (const el of document.querySelectorAll(".demo-only, #signin-demo-option")) el.hidden = !s.demo;
  }
}

async function run(command, args) {
  try {
    return await invoke(command, args);
  } catch (err) {
    say(String(err));
    return undefined;
  }
}

// ---- views ----

function showTab(name) {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const on = tab.dataset.tab === name;
    tab.setAttribute("aria-selected", String(on));
    $(`panel-${tab.dataset.tab}`).hidden = !on;
  }
  if (name === "recent") showHistory();
  if (name === "settings") loadSettings();
  if (name === "log") showLog();
}

// ---- calls ----

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
  const button = (name) => el.querySelector(`[data-action="${name}"]`);
  button("mute").setAttribute("aria-pressed", String(call.muted));
  button("mute").textContent = call.muted ? "Unmute" : "Mute";
  button("hold").setAttribute("aria-pressed", String(call.held));
  button("hold").textContent = call.held ? "Resume" : "Hold";
  button("record").setAttribute("aria-pressed", String(call.recording));
  button("record").textContent = call.recording ? "Stop recording" : "Record";
  el.querySelector(".rec").hidden = !call.recording;
  // Our own leg into a conference we host invites others; it cannot be brought in itself.
  const hosting = call.who === CONFERENCE;
  button("ask-invite").hidden = !hosting;
  button("conference").hidden = hosting;
}

function addCall(id, who, incoming) {
  if (calls.has(id)) return calls.get(id);
  const el = $("call-template").content.firstElementChild.cloneNode(true);
  el.dataset.call = id;
  const call = { id, who, incoming, state: incoming ? "incoming" : "calling", held: false, muted: false, recording: false, since: null, el };
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

/** One line under the meters: MOS, loss, jitter and round trip of the last seconds. */
function showQuality(call, q) {
  const el = call.el.querySelector(".quality");
  const rtt = q.rttMs == null ? "" : ` · RTT ${Math.round(q.rttMs)} ms`;
  el.textContent = `Quality ${q.mos.toFixed(1)} · loss ${q.lossPercent.toFixed(1)} % · jitter ${Math.round(q.jitterMs)} ms${rtt}`;
  el.dataset.grade = q.mos < 3.5 ? "poor" : "good";
}

function showLevels(input, output) {
  for (const call of calls.values()) {
    if (call.state !== "talking") continue;
    call.el.querySelector('[data-meter="input"]').style.width = `${Math.round((call.muted ? 0 : input) * 100)}%`;
    call.el.querySelector('[data-meter="output"]').style.width = `${Math.round((call.held ? 0 : output) * 100)}%`;
  }
}

function onEvent(e) {
  const call = calls.get(e.call);
  switch (e.type) {
    case "registered": return showStatus({ state: "registered" });
    case "registrationFailed": return showStatus({ state: "failed", error: e.reason });
    case "disconnected": showStatus({ state: "reconnecting", error: e.reason }); return say(`Connection lost: ${e.reason}. Calls in progress keep their audio.`);
    case "reconnecting": return showStatus({ state: "reconnecting", error: `attempt ${e.attempt} in ${Math.ceil(e.inSeconds)} s: ${e.reason}` });
    case "reconnected": showStatus({ state: "connecting" }); return say(e.backup ? "Connected to the backup server." : "Connected again.");
    case "quality": return call && showQuality(call, e.quality);
    case "audioDevice": {
      const what = e.change.input ? "microphone" : "speaker";
      return say(e.change.to ? `The ${what} is now ${e.change.to}` : `No ${what} works now; the call goes on`);
    }
    case "networkChanged": return say(calls.size ? "The network changed: moving the calls' audio to it." : "The network changed.");
    case "incomingCall": {
      const c = addCall(e.call, e.name ? `${e.name} (${e.from})` : e.from, true);
      return render(c);
    }
    case "outgoingCall": addCall(e.call, e.to.startsWith("conf_") ? CONFERENCE : e.to, false); return;
    case "ringing": if (call && !call.incoming) { call.state = "ringing"; render(call); } return;
    case "answered": if (call) { call.state = "talking"; call.since = Date.now(); render(call); } return;
    case "held": if (call) { call.held = e.held; render(call); } return;
    case "recording": if (call) { call.recording = e.on; render(call); say(e.on ? "Recording" : "Recording stopped"); } return;
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
    case "levels": return showLevels(e.input, e.output);
    case "sipMessage": return appendLog(e.line);
    case "link": return prefill(e.number);
    case "mediaFailed": return say(`Audio failed: ${e.reason}`);
    case "notice": return say(e.text);
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
    case "record": {
      const on = !call.recording;
      const done = await run("set_recording", { call: call.id, on });
      if (done !== undefined) { call.recording = on; render(call); say(on ? "Recording" : "Recording stopped"); }
      return;
    }
    case "park": { const where = await run("park", { call: call.id }); if (where) say(`Parked: dial ${where} to pick it up`); return; }
    case "conference": {
      // Set first: the call's leg here ends (bring-in) before the command returns.
      call.reason = "Moved into your conference";
      const host = await run("conference", { call: call.id });
      if (host === undefined) call.reason = undefined;
      else say("The call joined your conference");
      return;
    }
    case "ask-reply": return ask(call, "reply", "Reply with a message", "I'll call you back in 5 minutes");
    case "ask-forward": return ask(call, "forward", "Forward to number", "");
    case "ask-transfer": return ask(call, "transfer", "Transfer to number", "");
    case "ask-consult": return ask(call, "consult", "Talk first to number", "");
    case "ask-flip": return ask(call, "flip", "Flip to your other phone (number)", "");
    case "ask-invite": return ask(call, "invite", "Number to invite into the conference", "");
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

async function sendReply(call, args) {
  call.reason = "Replied with a message";
  say("Waiting for the caller's answer…");
  const answer = await run("reply", { call: call.id, ...args });
  if (answer) say(answer);
}

async function onAsk(call, purpose, value) {
  call.el.querySelector(".ask").hidden = true;
  if (!value.trim()) return;
  switch (purpose) {
    case "reply": return sendReply(call, { text: value, preset: null });
    case "forward": call.reason = `Forwarded to ${value}`; return run("forward", { call: call.id, target: value });
    case "transfer": return run("transfer", { call: call.id, target: value });
    case "invite": { const id = await run("conference_invite", { number: value }); if (id !== undefined) say(`Calling ${value}: they join the conference when they answer`); return; }
    case "flip": { const done = await run("flip", { call: call.id, target: value }); if (done !== undefined) say(`Flipped to ${value}`); return; }
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

// ---- history ----

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
  for (const e of entries.slice(0, 50)) {
    const li = document.createElement("li");
    const when = new Date(e.startedAt * 1000).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
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

// ---- settings ----

function fillDevices(select, names, chosen) {
  select.replaceChildren(new Option("System default", ""));
  for (const name of names) select.append(new Option(name, name));
  if (chosen && !names.includes(chosen)) select.append(new Option(`${chosen} (not connected)`, chosen));
  select.value = chosen ?? "";
}

function fillCallerIds(ids, chosen) {
  const select = $("caller-id");
  select.replaceChildren(new Option("My number", ""));
  for (const id of ids) select.append(new Option(id, id));
  select.value = ids.includes(chosen) ? chosen : "";
  $("from").hidden = ids.length === 0;
}

async function loadSettings() {
  const s = await run("settings");
  if (!s) return;
  fillDevices($("input-device"), s.inputs, s.inputDevice);
  fillDevices($("output-device"), s.outputs, s.outputDevice);
  fillDevices($("ring-device"), s.outputs, s.ringDevice);
  $("ringtone-choice").value = s.ringtone;
  $("ring-volume").value = s.ringVolume;
  $("caller-ids").value = s.callerIds.join(", ");
  $("auto-answer").checked = s.autoAnswer;
  $("instance-id").value = s.instanceId ?? "";
  $("debug").checked = s.debug;
  $("tab-log").hidden = !s.debug;
  fillCallerIds(s.availableCallerIds, s.callerId);
  $("signout").hidden = !s.signedIn;
  $("echo-cancellation").checked = s.processing.echoCancellation;
  $("noise-suppression").checked = s.processing.noiseSuppression;
  $("gain-control").checked = s.processing.gainControl;
  $("dtx").checked = s.dtx;
  showAppSettings(s);
}

/** Start at login (the system's own state) and close to tray (which needs a tray icon). */
function showAppSettings(s) {
  const login = $("start-at-login");
  login.checked = s.startAtLogin === true;
  login.disabled = s.startAtLogin === null;
  login.title = s.startAtLoginError ?? "";
  const tray = $("close-to-tray");
  tray.checked = s.closeToTray && s.tray;
  tray.disabled = !s.tray;
  tray.dataset.saved = String(s.closeToTray);
  if (!s.tray) $("close-to-tray-hint").textContent = "There is no tray icon on this desktop, so closing the window quits (calls in progress are hung up).";
}

function settingsFromForm() {
  const orNull = (v) => (v.trim() === "" ? null : v.trim());
  return {
    inputDevice: orNull($("input-device").value),
    outputDevice: orNull($("output-device").value),
    ringDevice: orNull($("ring-device").value),
    ringtone: $("ringtone-choice").value,
    ringVolume: Number($("ring-volume").value),
    callerIds: $("caller-ids").value.split(",").map((x) => x.trim()).filter(Boolean),
    callerId: orNull($("caller-id").value),
    autoAnswer: $("auto-answer").checked,
    processing: {
      echoCancellation: $("echo-cancellation").checked,
      noiseSuppression: $("noise-suppression").checked,
      gainControl: $("gain-control").checked,
    },
    dtx: $("dtx").checked,
    instanceId: orNull($("instance-id").value),
    debug: $("debug").checked,
    // Without a tray the box is off and greyed out: the saved choice stays as it was.
    closeToTray: $("close-to-tray").disabled ? $("close-to-tray").dataset.saved === "true" : $("close-to-tray").checked,
  };
}

async function saveSettings() {
  $("settings-message").textContent = "Saving…";
  try {
    const startAtLogin = $("start-at-login").disabled ? null : $("start-at-login").checked;
    const note = await invoke("save_settings", { update: settingsFromForm(), startAtLogin });
    $("settings-message").textContent = note;
    await loadSettings();
  } catch (err) {
    $("settings-message").textContent = String(err);
  }
}

// ---- SIP log ----

let logLines = [];

function logItem(line) {
  const li = document.createElement("li");
  li.className = line.direction;
  const d = document.createElement("details");
  const summary = document.createElement("summary");
  const time = new Date(line.atMs).toLocaleTimeString([], { hour12: false }) + `.${String(line.atMs % 1000).padStart(3, "0")}`;
  summary.textContent = `${time} ${line.direction === "sent" ? "→" : "←"} ${line.summary}`;
  const pre = document.createElement("pre");
  pre.textContent = line.text;
  d.append(summary, pre);
  li.append(d);
  return li;
}

function matches(line) {
  const f = $("log-filter").value.trim().toLowerCase();
  return !f || line.text.toLowerCase().includes(f);
}

async function showLog() {
  logLines = (await run("sip_log", { filter: "" })) ?? [];
  $("sip-log").replaceChildren(...logLines.filter(matches).map(logItem));
}

function appendLog(line) {
  logLines.push(line);
  if (logLines.length > 1000) logLines.shift();
  if ($("panel-log").hidden || !matches(line)) return;
  const list = $("sip-log");
  list.append(logItem(line));
  while (list.children.length > 1000) list.firstElementChild.remove();
}

async function copyLog() {
  const text = logLines.filter(matches).map((l) => `${new Date(l.atMs).toISOString()} ${l.direction}\n${l.text}`).join("\n");
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Some webviews keep the async clipboard API from local pages: copy through a selection.
    const area = document.createElement("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  say(`Copied ${logLines.filter(matches).length} SIP messages`);
}

// ---- first-run welcome ----

/** Shows the welcome when the app says it is due (first start, no account). The body's
 * data-welcome says what was decided, for the tests: shown, none. */
async function welcomeIfDue() {
  const due = await run("welcome");
  document.body.dataset.welcome = due ? "shown" : "none";
  if (due) $("welcome").showModal();
}

/** The user answered the welcome: it goes for good; "Sign in" opens the sign-in form. */
async function answerWelcome(signIn) {
  if ($("welcome").open) $("welcome").close();
  document.body.dataset.welcome = "answered";
  await run("welcome_done");
  if (signIn) openSignIn();
}

function openSignIn() {
  showTab("settings");
  $("signin").open = true;
  $("signin").scrollIntoView({ block: "start" });
  $("signin-server").focus();
}

// ---- about ----

const PLATFORM = { linux: "Linux", windows: "Windows", macos: "macOS" };

/** "" for something on every platform, else " (Windows only)" and the like. */
function platformsNote(platforms) {
  if (platforms.length === Object.keys(PLATFORM).length) return "";
  return ` (${platforms.map((p) => PLATFORM[p] ?? p).join(", ")} only)`;
}

function componentItem(c) {
  const li = document.createElement("li");
  const title = document.createElement("strong");
  title.textContent = `${c.name}${c.version ? ` ${c.version}` : ""}`;
  const what = document.createElement("span");
  what.className = "what";
  what.textContent = `${c.what}${c.via ? ` From the crate ${c.via}.` : ""}`;
  li.append(title, ` — ${c.license}${platformsNote(c.platforms)}`, what);
  return li;
}

function crateItem(c) {
  const li = document.createElement("li");
  li.dataset.search = `${c.name} ${c.license}`.toLowerCase();
  const name = document.createElement("span");
  name.textContent = `${c.name} ${c.version}${platformsNote(c.platforms)}`;
  const licence = document.createElement("span");
  licence.className = "licence";
  licence.textContent = c.license;
  li.append(name, licence);
  return li;
}

function fillAbout(list) {
  $("about-project").textContent = `Free software under the ${list.project.license} licence (its own crates: ${list.project.crates.join(", ")}). It ships the following, each under its own licence.`;
  $("about-bundled").replaceChildren(...list.bundled.map(componentItem));
  $("about-system").replaceChildren(...list.system.map(componentItem));
  $("about-crates-title").textContent = `Rust crates (${list.crates.length})`;
  $("about-crates").replaceChildren(...list.crates.map(crateItem));
}

/** The licence list, read once. */
let licences;

async function openAbout() {
  if (!licences) {
    licences = await run("licenses");
    if (licences) fillAbout(licences);
  }
  $("about").showModal();
}

function filterCrates() {
  const f = $("about-filter").value.trim().toLowerCase();
  for (const li of $("about-crates").children) li.hidden = f !== "" && !li.dataset.search.includes(f);
}

// ---- account ----

async function switchTo(command, args) {
  $("account-message").textContent = "Connecting…";
  try {
    const { status, note } = await invoke(command, args);
    showStatus(status);
    $("account-message").textContent = note ?? (status.state === "registered" ? "Registered." : "");
    loadSettings();
  } catch (err) {
    $("account-message").textContent = String(err);
  }
}

// ---- dialling ----

function activeCall() {
  return [...calls.values()].find((c) => c.state === "talking" && !c.held);
}

async function dial(number) {
  say("");
  // The call's card comes with its outgoingCall event, before any of its other events.
  await run("dial", { number, callerId: $("caller-id").value || null });
}

/** A tel:/callto: link: the number goes in the field, ready to call. */
function prefill(number) {
  showTab("phone");
  $("number").value = number;
  $("number").focus();
  say(`Press Enter to call ${number}`);
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
  $("demo-drop").addEventListener("click", () => run("demo_drop_connection", {}));
  $("use-account").addEventListener("click", () => switchTo("use_account", { sipinfo: $("sipinfo").value }));
  $("use-demo").addEventListener("click", () => switchTo("use_demo", {}));
  $("signin-server").addEventListener("change", () => { $("signin-custom-label").hidden = $("signin-server").value !== "custom"; });
  $("signin-browser").addEventListener("click", () => signIn(false));
  $("signin-with-jwt").addEventListener("click", () => signIn(true));
  $("signout").addEventListener("click", signOut);
  $("signin-demo-fill").addEventListener("click", async () => {
    const c = await run("demo_credentials", {});
    if (!c) return;
    $("signin-server").value = "demo";
    $("signin-client-id").value = c.clientId;
    $("signin-secret").value = c.clientSecret;
    $("signin-jwt").value = c.jwt;
    demoClientFilled = true;
  });
  $("sipinfo-file").addEventListener("change", async () => {
    const file = $("sipinfo-file").files[0];
    if (!file) return;
    if (file.size > 64 * 1024) { $("account-message").textContent = `${file.name} is too large to be a sipInfo JSON`; return; }
    $("sipinfo").value = await file.text();
    $("account-message").textContent = `Read ${file.name}: check it and press "Use this account"`;
  });
  document.querySelector(".tabs").addEventListener("click", (ev) => { const t = ev.target.closest("[data-tab]"); if (t) showTab(t.dataset.tab); });
  $("history").addEventListener("click", (ev) => {
    const number = ev.target.closest("button")?.dataset.dial;
    if (number) { showTab("phone"); dial(number); }
  });
  $("settings-form").addEventListener("submit", (ev) => { ev.preventDefault(); saveSettings(); });
  $("test-sound").addEventListener("click", async () => {
    const args = { device: $("ring-device").value || null, ringtone: $("ringtone-choice").value, volume: Number($("ring-volume").value) };
    const done = await run("test_sound", args);
    if (done !== undefined) $("settings-message").textContent = "Played the ringtone on the ring device";
  });
  $("caller-id").addEventListener("change", () => run("choose_caller_id", { callerId: $("caller-id").value || null }));
  const refilter = () => $("sip-log").replaceChildren(...logLines.filter(matches).map(logItem));
  $("log-filter").addEventListener("input", refilter);
  $("log-filter").addEventListener("change", refilter);
  $("log-copy").addEventListener("click", copyLog);
  $("log-clear").addEventListener("click", async () => { await run("clear_sip_log"); logLines = []; $("sip-log").replaceChildren(); });
  $("calls").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const el = ev.target.closest(".call");
    const call = calls.get(Number(el.dataset.call));
    onAsk(call, ev.target.dataset.purpose, ev.target.querySelector("input").value);
  });
  $("calls").addEventListener("click", (ev) => {
    const el = ev.target.closest(".call");
    if (!el) return;
    const call = calls.get(Number(el.dataset.call));
    const preset = ev.target.closest("button[data-preset]");
    if (preset) return sendReply(call, { text: null, preset: preset.dataset.preset });
    const button = ev.target.closest("button[data-action]");
    if (button) onCallAction(call, button.dataset.action);
  });
  document.addEventListener("keydown", (ev) => {
    const typing = ev.target.closest?.("input, textarea, select");
    if (ev.key === "Escape") {
      // Escape closes a dialog (the welcome, About); it must not hang up a call as well.
      if (document.querySelector("dialog[open]")) return;
      const c = activeCall() ?? [...calls.values()].find((x) => x.state !== "ended");
      if (c) run("hangup", { call: c.id });
    } else if (/^[0-9*#]$/.test(ev.key) && !typing) {
      const c = activeCall();
      if (c) run("send_dtmf", { call: c.id, digits: ev.key });
    } else if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      // The answer shortcut is Ctrl+Enter (⌘+Enter): a bare Enter, meant for something
      // else, must never pick up a call.
      const ringing = [...calls.values()].find((c) => c.state === "incoming");
      if (ringing) run("answer", { call: ringing.id });
    }
  });
  $("welcome-sign-in").addEventListener("click", () => answerWelcome(true));
  $("welcome-demo").addEventListener("click", () => answerWelcome(false));
  // Escape is "not now": the demo goes on, as with "Try the demo".
  $("welcome").addEventListener("cancel", (ev) => { ev.preventDefault(); answerWelcome(false); });
  $("about-open").addEventListener("click", openAbout);
  $("about-close").addEventListener("click", () => $("about").close());
  $("about-filter").addEventListener("input", filterCrates);
  setInterval(tick, 1000);
}

async function main() {
  setUp();
  await listen("phone-event", (e) => onEvent(e.payload));
  await listen("phone-status", (e) => { showStatus(e.payload); showHistory(); loadSettings(); });
  showStatus(await invoke("status"));
  showHistory();
  loadSettings();
  await welcomeIfDue();
  const link = await run("pending_link");
  if (link) prefill(link);
  try {
    const { name, version } = await invoke("app_version");
    $("version").textContent = `${name} ${version}`;
    $("about-version").textContent = `Version ${version}`;
  } catch (err) {
    $("version").textContent = `version unavailable: ${err}`;
  }
}

main();

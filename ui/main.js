// The window: renders what the engine reports and sends the user's intents. No SIP here.
// This module holds the status, the dial field, settings, sign-in, the SIP log and the
// welcome; calls.js the call cards, history.js Recent, about.js About, tabs.js and keys.js
// the tabs and the keyboard shortcuts.
import { $, invoke, run, say } from "./common.js";
import { activeCall, addCall, announceIncoming, answer, callOf, calls, closeAsk, CONFERENCE, onAsk, onCallAction, onCallEvent, sendReply, showLevels, tick } from "./calls.js";
import { showHistory } from "./history.js";
import { filterCrates, openAbout } from "./about.js";
import { selectTab, setUpTabs } from "./tabs.js";
import { shortcutFor } from "./keys.js";

const { listen } = window.__TAURI__.event;

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

/** Shows the phone's status as the shell sends it: its state (a PhoneState, for the dot) and
 * its line in words (the tray's own, which names an extra CA in force). */
function showStatus(s) {
  $("status-text").textContent = s.line;
  $("status").dataset.state = s.state;
  $("demo").hidden = !s.demo;
  for (const el of document.querySelectorAll(".demo-only, #signin-demo-option")) el.hidden = !s.demo;
}

/** The account the history and settings views were last loaded for ("" before any). */
let loadedFor = "";

/** A status pushed by the shell (it pushes each change). Once a phone is registered with
 * another account than before (the first start, a switch), the views that depend on the
 * account are loaded again; a reconnect of the same account leaves them (and a settings form
 * being edited) alone. */
function onStatus(s) {
  showStatus(s);
  const account = s.state === "registered" ? `${s.number}|${s.demo}` : loadedFor;
  if (account === loadedFor) return;
  loadedFor = account;
  showHistory();
  loadSettings();
}

// ---- views ----

function showTab(name) {
  selectTab(document.querySelector('[role="tablist"]'), name);
  if (name === "recent") showHistory();
  if (name === "settings") loadSettings();
  if (name === "log") showLog();
}

// ---- engine events ----

function onEvent(e) {
  const call = calls.get(e.call);
  if (call && onCallEvent(call, e)) return;
  switch (e.type) {
    // The status comes pushed on its own channel (phone-status); these only add a word.
    case "disconnected": return say(`Connection lost: ${e.reason}. Calls in progress keep their audio.`);
    case "reconnected": return say(e.backup ? "Connected to the backup server." : "Connected again.");
    case "audioDevice": {
      const what = e.change.input ? "microphone" : "speaker";
      return say(e.change.to ? `The ${what} is now ${e.change.to}` : `No ${what} works now; the call goes on`);
    }
    case "networkChanged": return say(calls.size ? "The network changed: moving the calls' audio to it." : "The network changed.");
    case "incomingCall": {
      const who = e.name ? `${e.name} (${e.from})` : e.from;
      addCall(e.call, who, true);
      return announceIncoming(who);
    }
    case "outgoingCall": addCall(e.call, e.conference ? CONFERENCE : e.to, false, e.conference); return;
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

/** The window's keyboard shortcuts (see keys.js for when they keep out of the way). */
function onShortcut(ev) {
  const shortcut = shortcutFor(ev, Boolean(document.querySelector("dialog[open]")));
  if (!shortcut) return;
  const active = activeCall();
  switch (shortcut) {
    case "close-ask": {
      // Escape in a call's question (transfer to, forward to…) cancels the question only.
      const call = callOf(ev.target);
      if (call) { ev.preventDefault(); closeAsk(call); }
      return;
    }
    case "hangup": {
      // The call in progress, else one we are placing; never a call that rings in or waits on hold.
      const c = active ?? [...calls.values()].find((x) => !x.incoming && x.state !== "talking");
      if (c) run("hangup", { call: c.id });
      return;
    }
    case "dtmf": if (active) run("send_dtmf", { call: active.id, digits: ev.key }); return;
    case "answer": {
      const ringing = [...calls.values()].find((c) => c.state === "incoming");
      if (ringing) { ev.preventDefault(); answer(ringing); }
      return;
    }
  }
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
  setUpTabs(document.querySelector('[role="tablist"]'), showTab);
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
    const call = callOf(ev.target);
    if (call) onAsk(call, ev.target.dataset.purpose, ev.target.querySelector("input").value);
  });
  $("calls").addEventListener("click", (ev) => {
    const call = callOf(ev.target);
    if (!call) return;
    const preset = ev.target.closest("button[data-preset]");
    if (preset) return sendReply(call, { text: null, preset: preset.dataset.preset });
    const button = ev.target.closest("button[data-action]");
    if (button) onCallAction(call, button.dataset.action);
  });
  document.addEventListener("keydown", onShortcut);
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
  await listen("phone-status", (e) => onStatus(e.payload));
  onStatus(await invoke("status"));
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

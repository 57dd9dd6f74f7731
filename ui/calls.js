// The call cards: one per call in progress, rendered from the engine's events; their
// buttons, the toggles (mute, hold, record) and the inline questions (transfer to…).
import { $, invoke, run, say } from "./common.js";

/** Calls in progress, by id: { id, who, state, held, muted, recording, conference, pending,
 * since, el }. An ended call leaves at once (a short line says it ended). */
export const calls = new Map();
/** How our own call into a conference we host is named (the shell flags that call). */
export const CONFERENCE = "Conference";
/** How long the "Call ended" line stays. */
const ENDED_LINE_MS = 3000;

/** The call toggles: one policy for all three. The button shows the change as pending (and
 * takes no second press) until the engine confirms it; a refusal leaves the call as it was
 * and says why. `key` is the call's field, `command` the shell's command, which answers with
 * the state in force. */
const TOGGLES = {
  mute: { key: "muted", command: "set_mute", label: ["Mute", "Unmute"], pending: ["Unmuting…", "Muting…"] },
  hold: { key: "held", command: "set_hold", label: ["Hold", "Resume"], pending: ["Resuming…", "Holding…"] },
  record: { key: "recording", command: "set_recording", label: ["Record", "Stop recording"], pending: ["Stopping…", "Starting to record…"] },
};

/** Shows toggle `name` of `call` on its button: pressed or not, or pending. */
function renderToggle(call, name) {
  const t = TOGGLES[name];
  const button = call.el.querySelector(`[data-action="${name}"]`);
  const on = Boolean(call[t.key]);
  const pending = call.pending.has(name);
  button.setAttribute("aria-pressed", String(on));
  button.setAttribute("aria-busy", String(pending));
  // While pending, the button says what is being done: the opposite of what is in force.
  button.textContent = pending ? t.pending[Number(!on)] : t.label[Number(on)];
}

/** The call that talks now (answered and not held), if any. */
export function activeCall() {
  return [...calls.values()].find((c) => c.state === "talking" && !c.held);
}

/** What the state line of a call says. */
function stateText(call) {
  if (call.state === "talking") return call.held ? "On hold" : "Connected";
  if (call.state === "ringing") return call.incoming ? "Incoming call" : "Ringing…";
  return call.state === "incoming" ? "Incoming call" : "Calling…";
}

function render(call) {
  const el = call.el;
  el.dataset.state = call.state;
  el.dataset.consulting = String(Boolean(call.consulting));
  el.querySelector(".who").textContent = call.who;
  el.querySelector(".state").textContent = stateText(call);
  for (const name of Object.keys(TOGGLES)) renderToggle(call, name);
  el.querySelector(".rec").hidden = !call.recording;
  const button = (name) => el.querySelector(`[data-action="${name}"]`);
  // Answering a second call holds the one that talks first.
  const other = activeCall();
  button("answer").textContent = other && other !== call ? "Hold and answer" : "Answer";
  // Our own leg into a conference we host invites others; it cannot be brought in itself.
  button("ask-invite").hidden = !call.conference;
  button("conference").hidden = call.conference;
}

/** Renders every call (one call's change can change another's buttons). */
function renderAll() {
  for (const call of calls.values()) render(call);
}

export function addCall(id, who, incoming, conference = false) {
  if (calls.has(id)) return calls.get(id);
  const el = $("call-template").content.firstElementChild.cloneNode(true);
  el.dataset.call = id;
  const call = { id, who, incoming, conference, state: incoming ? "incoming" : "calling", held: false, muted: false, recording: false, pending: new Set(), since: null, el };
  calls.set(id, call);
  $("calls").prepend(el);
  renderAll();
  return call;
}

/** A call ended: its card leaves the calls at once, and a short line under them says so for
 * a few seconds. */
function endCall(call, reason) {
  calls.delete(call.id);
  call.el.remove();
  const line = document.createElement("li");
  line.className = "call-ended";
  line.dataset.call = call.id;
  line.textContent = `Call ended · ${call.who} · ${call.reason ?? reason}`;
  $("ended-calls").append(line);
  setTimeout(() => line.remove(), ENDED_LINE_MS);
  const original = calls.get(call.consultFor);
  if (original) original.consulting = false;
  renderAll();
}

/** Says to screen readers, at once, that a call rings in. */
export function announceIncoming(who) {
  $("announce").textContent = `Incoming call from ${who}`;
}

export function tick() {
  for (const call of calls.values()) {
    const t = call.el.querySelector(".timer");
    if (!call.since) continue;
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

export function showLevels(input, output) {
  for (const call of calls.values()) {
    if (call.state !== "talking") continue;
    call.el.querySelector('[data-meter="input"]').style.width = `${Math.round((call.muted ? 0 : input) * 100)}%`;
    call.el.querySelector('[data-meter="output"]').style.width = `${Math.round((call.held ? 0 : output) * 100)}%`;
  }
}

/** A change of a call the window shows; false for an event of another kind. */
export function onCallEvent(call, e) {
  switch (e.type) {
    case "quality": showQuality(call, e.quality); return true;
    case "ringing": if (!call.incoming) call.state = "ringing"; break;
    case "answered": call.state = "talking"; call.since = Date.now(); break;
    case "held": call.held = e.held; break;
    case "recording": call.recording = e.on; say(e.on ? "Recording" : "Recording stopped"); break;
    case "failed": call.reason = `${e.status} ${e.reason}`; return true;
    case "ended": endCall(call, e.reason); return true;
    default: return false;
  }
  renderAll();
  return true;
}

/** Toggles mute, hold or record of `call` (see {@link TOGGLES}); true once confirmed. */
async function toggle(call, name) {
  const t = TOGGLES[name];
  if (call.pending.has(name)) return false;
  const want = !call[t.key];
  call.pending.add(name);
  render(call);
  let confirmed = false;
  try {
    call[t.key] = await invoke(t.command, { call: call.id, on: want });
    confirmed = call[t.key] === want;
    if (name === "record") say(want ? "Recording" : "Recording stopped");
  } catch (err) {
    const why = String(err);
    say(why.charAt(0).toUpperCase() + why.slice(1));
  } finally {
    call.pending.delete(name);
    if (calls.has(call.id)) renderAll();
  }
  return confirmed;
}

/** Answers `call`; a call that talks is held first (hold and answer), and stays so. */
export async function answer(call) {
  const other = activeCall();
  if (other && other !== call && !(await toggle(other, "hold"))) return;
  await run("answer", { call: call.id });
}

export async function onCallAction(call, action) {
  switch (action) {
    case "answer": return answer(call);
    case "decline": call.reason = "Declined"; return run("decline", { call: call.id });
    case "voicemail": call.reason = "Sent to voicemail"; return run("to_voicemail", { call: call.id });
    case "hangup": return run("hangup", { call: call.id });
    case "mute": case "hold": case "record": return toggle(call, action);
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
    case "close-ask": return closeAsk(call);
    case "complete-transfer": return run("complete_transfer", { call: call.id });
    case "cancel-transfer": return run("cancel_transfer", { call: call.id });
  }
}

/** Opens the call's inline form for `purpose`: its input is labelled by `question` (shown
 * beside it), with a default `value`. */
function ask(call, purpose, question, value) {
  const form = call.el.querySelector(".ask");
  form.dataset.purpose = purpose;
  form.hidden = false;
  form.querySelector(".ask-question").textContent = question;
  const input = form.querySelector("input");
  input.placeholder = purpose === "reply" ? "" : "Number or extension";
  input.value = value;
  input.focus();
}

/** Closes the call's inline form; the focus goes back to the call's card. */
export function closeAsk(call) {
  call.el.querySelector(".ask").hidden = true;
  const back = call.el.querySelector(".actions:not([hidden]) button");
  if (back && back.getClientRects().length) back.focus();
}

export async function sendReply(call, args) {
  call.reason = "Replied with a message";
  say("Waiting for the caller's answer…");
  const answer = await run("reply", { call: call.id, ...args });
  if (answer) say(answer);
}

export async function onAsk(call, purpose, value) {
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
        renderAll();
      }
      return;
    }
  }
}

/** The call whose card holds `el`, if it is still in progress. */
export function callOf(el) {
  const card = el.closest?.(".call");
  return card ? calls.get(Number(card.dataset.call)) : undefined;
}

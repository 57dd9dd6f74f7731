// Recent: the call history the shell keeps, newest first.
import { $, run } from "./common.js";
import { CONFERENCE } from "./calls.js";

const OUTCOME = { answered: "answered", missed: "missed", declined: "declined", unanswered: "not answered" };

/** The first part of a history row: a button that calls the number back, or for a
 * conference (whose number was a one-time token) just its name. */
function historyWho(e) {
  const arrow = e.direction === "inbound" ? "↙" : "↗";
  if (e.conference) {
    const span = document.createElement("span");
    span.className = "conference";
    span.textContent = `${arrow} ${CONFERENCE}`;
    return span;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.dial = e.number;
  button.textContent = `${arrow} ${e.name ?? e.number}`;
  button.title = `Call ${e.number}`;
  return button;
}

export async function showHistory() {
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
    const talk = e.durationSecs ? ` · ${Math.floor(e.durationSecs / 60)}:${String(e.durationSecs % 60).padStart(2, "0")}` : "";
    const meta = document.createElement("span");
    meta.className = `meta ${e.outcome}`;
    meta.textContent = `${OUTCOME[e.outcome] ?? e.outcome}${talk} · ${when}`;
    li.append(historyWho(e), meta);
    list.append(li);
  }
}

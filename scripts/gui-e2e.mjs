// End-to-end tests of the real app window: W3C WebDriver calls to tauri-driver (which runs
// WebKitWebDriver and the app). The app runs in demo mode (embedded rc-sim) on test audio.
// Usage: GUI_E2E_DRIVER=http://127.0.0.1:PORT node scripts/gui-e2e.mjs APP_BINARY ARTIFACT_DIR
// (scripts/gui-e2e starts tauri-driver on a free port and sets GUI_E2E_DRIVER).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [app, artifacts] = process.argv.slice(2);
const driver = process.env.GUI_E2E_DRIVER ?? "http://127.0.0.1:4444";
const WAIT_MS = 30000;
let session;
let passed = 0;

async function wd(method, path, body) {
  const res = await fetch(`${driver}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
  return json.value;
}

const s = (path) => `/session/${session}${path}`;
const ELEMENT = "element-6066-11e4-a52e-4f735466cecc";

async function find(css) {
  const v = await wd("POST", s("/element"), { using: "css selector", value: css });
  // W3C drivers name the key ELEMENT; older ones use "ELEMENT".
  const id = v[ELEMENT] ?? v.ELEMENT ?? Object.values(v)[0];
  if (!id) throw new Error(`no element id for ${css}: ${JSON.stringify(v)}`);
  return id;
}

async function elementsCount(css) {
  return (await wd("POST", s("/elements"), { using: "css selector", value: css })).length;
}

async function exists(css) {
  const v = await wd("POST", s("/elements"), { using: "css selector", value: css });
  return v.length > 0;
}

async function click(css) {
  await wd("POST", s(`/element/${await find(css)}/click`), {});
}

/** Clicks `css` in the middle of the window once it has stopped moving: WebKitWebDriver
 * clicks a button at the window's bottom edge where the click does not reach it. */
async function clickSettled(css) {
  const script = "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });";
  await wd("POST", s("/execute/sync"), { script, args: [css] });
  let last = "";
  await waitFor(`${css} to settle`, async () => {
    const rect = JSON.stringify(await wd("GET", s(`/element/${await find(css)}/rect`)));
    const settled = rect === last;
    last = rect;
    return settled;
  });
  await click(css);
}

async function text(css) {
  return wd("GET", s(`/element/${await find(css)}/text`));
}

async function property(css, name) {
  return wd("GET", s(`/element/${await find(css)}/property/${name}`));
}

async function attribute(css, name) {
  return wd("GET", s(`/element/${await find(css)}/attribute/${name}`));
}

/** Calls one of the app's Tauri commands from the page, as the UI does. */
async function invoke(command, args = {}) {
  const script = "return window.__TAURI__.core.invoke(arguments[0], arguments[1]);";
  return wd("POST", s("/execute/sync"), { script, args: [command, args] });
}

/** Presses `keys` (W3C key values, e.g. "\uE009" Control, "\uE007" Enter) together, on
 * whatever has the focus, and lets them go. */
async function press(...keys) {
  const down = keys.map((value) => ({ type: "keyDown", value }));
  const up = [...keys].reverse().map((value) => ({ type: "keyUp", value }));
  await wd("POST", s("/actions"), { actions: [{ type: "key", id: "keyboard", actions: [...down, ...up] }] });
  await wd("DELETE", s("/actions"));
}

async function type(css, value) {
  const id = await find(css);
  await wd("POST", s(`/element/${id}/clear`), {});
  if (value) await wd("POST", s(`/element/${id}/value`), { text: value });
}

/** Picks the option of the <select> `css` whose value is `value`. */
async function choose(css, value) {
  await click(`${css} option[value="${value}"]`);
  if ((await property(css, "value")) !== value) throw new Error(`${css} did not take ${value}`);
}

async function tab(name) {
  await click(`#tab-${name}`);
  await waitFor(`the ${name} view`, async () => !(await property(`#panel-${name}`, "hidden")));
}

/** The width of a level meter of the active call, in percent. */
async function meter(which) {
  const script = `return document.querySelector('${callIn("talking")} [data-meter="${which}"]').style.width;`;
  const width = await wd("POST", s("/execute/sync"), { script, args: [] });
  return Number.parseInt(String(width).replace(/[^0-9]/g, "") || "0", 10);
}

async function waitFor(what, check) {
  const deadline = Date.now() + WAIT_MS;
  let last;
  while (Date.now() < deadline) {
    try {
      if ((last = await check())) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}

async function screenshot(name) {
  // A screenshot taken right after a DOM change can show the previous frame.
  await new Promise((r) => setTimeout(r, 700));
  const png = await wd("GET", s("/screenshot"));
  const path = join(artifacts, `${name}.png`);
  writeFileSync(path, Buffer.from(png, "base64"));
  console.log(`gui-e2e: screenshot ${path}`);
}

const callIn = (state) => `.call[data-state="${state}"]`;
/** The short line an ended call leaves under the calls for a few seconds. */
const ENDED = ".call-ended";
/** A call's card or its ended line. */
const ANY_CALL = ".call, .call-ended";

/** Runs `script` (the body of a function of `args`) in the page and returns its value. */
async function page(script, ...args) {
  return wd("POST", s("/execute/sync"), { script, args });
}

/** Gives the focus to `css`. */
async function focus(css) {
  await page("document.querySelector(arguments[0]).focus();", css);
}

/** Takes the focus away from any control (keys then go to the page itself). */
async function blur() {
  await page("document.activeElement?.blur();");
}

/** The texts of the buttons shown (laid out) inside `css`. */
async function shownButtons(css) {
  return page("return [...document.querySelector(arguments[0]).querySelectorAll('button')].filter((b) => b.getClientRects().length > 0).map((b) => b.textContent.trim());", css);
}

/** Starts noting every value attribute `attribute` of `css` takes, under `name`; read them
 * with {@link seen}. */
async function watch(name, css, attribute) {
  const script = `const [name, css, attribute] = arguments;
    const el = document.querySelector(css);
    const values = [el.getAttribute(attribute)];
    (window.__watched ??= {})[name] = values;
    new MutationObserver(() => values.push(el.getAttribute(attribute))).observe(el, { attributes: true, attributeFilter: [attribute] });`;
  await page(script, name, css, attribute);
}

/** The values noted by {@link watch} under `name`. */
async function seen(name) {
  return page("return window.__watched?.[arguments[0]] ?? [];", name);
}

/** Nothing to wait for: a key that must do nothing is given this long to do it (a hang-up
 * or an answer takes well under a second here). */
async function nothingHappens() {
  await new Promise((r) => setTimeout(r, 1500));
}

const ESCAPE = "\uE00C";
const ENTER = "\uE007";

const caps = { capabilities: { alwaysMatch: { "tauri:options": { application: app } } } };

/** Starts the app (a WebDriver session starts it) and waits for its page. */
async function startApp() {
  session = (await wd("POST", "/session", caps)).sessionId;
  await waitFor("the page", () => exists("#status-text"));
}

/** Ends the session, which ends the app (when it is still running). */
async function stopApp() {
  await wd("DELETE", s("")).catch(() => {});
  session = undefined;
  // The next start must meet no phone still going away (it would hand its start to that one).
  await waitFor("the app gone", () => !phoneRunning());
}

/** Whether a phone holds its single-instance name on this run's private D-Bus session. */
function phoneRunning() {
  const asked = spawnSync("dbus-send", ["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
    "org.freedesktop.DBus.NameHasOwner", "string:org.rcsoftphone.desktop.SingleInstance"], { encoding: "utf8" });
  if (asked.status !== 0) throw new Error(`dbus-send: ${asked.stderr}`);
  return asked.stdout.includes("boolean true");
}

/** The settings file the app writes (scripts/gui-e2e gives it a config directory). */
function settingsFile() {
  const dir = process.env.GUI_E2E_CONFIG;
  if (!dir) throw new Error("GUI_E2E_CONFIG is not set (run scripts/gui-e2e)");
  return join(dir, "settings.json");
}

/** The app's main window on the X display: its id and its process, or undefined when it is
 * not shown. */
function shownWindow() {
  const found = spawnSync("xdotool", ["search", "--onlyvisible", "--name", "^RC Softphone$"], { encoding: "utf8" });
  const id = found.stdout.trim().split("\n").filter(Boolean)[0];
  if (!id) return undefined;
  const pid = Number(spawnSync("xdotool", ["getwindowpid", id], { encoding: "utf8" }).stdout.trim());
  return { id, pid };
}

/** Closes the window the way its close button does (scripts/close-window). */
function closeWindow(id) {
  const script = join(dirname(fileURLToPath(import.meta.url)), "close-window");
  const done = spawnSync(script, [id], { encoding: "utf8" });
  if (done.status !== 0) throw new Error(`close-window: ${done.stderr || done.stdout}`);
}

function running(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What the window decided about the welcome (body's data-welcome): "shown", "none",
 * "answered", or null before it decided. */
async function welcomeState() {
  return wd("POST", s("/execute/sync"), { script: "return document.body.dataset.welcome ?? null;", args: [] });
}

/** The element that has the focus: its id (or tag name). */
async function focused() {
  return wd("POST", s("/execute/sync"), { script: "const e = document.activeElement; return e ? e.id || e.tagName : '';", args: [] });
}

async function scenario(name, body) {
  try {
    await body();
  } catch (err) {
    await screenshot(`failed-${name.replace(/[^a-z0-9]+/gi, "-")}`).catch(() => {});
    const shown = await text("#message").catch(() => "?");
    throw new Error(`${name}: ${err.message}; the window says: "${shown}"`);
  }
  passed += 1;
  console.log(`gui-e2e: ok - ${name}`);
}

/** The installed package (scripts/test-package): it starts in demo mode and registers, and a
 * tel: link opened the way a desktop opens it (xdg-open, through the package's desktop entry)
 * reaches the running window. With GUI_E2E_INSTALLED=appimage the app is the AppImage
 * (APP_BINARY starts it with --appimage-extract-and-run): no package declared the schemes, so
 * the app registered itself at its start (links::register_handler, naming the AppImage), and
 * xdg-open starts the AppImage a second time, which hands the link to the first. */
async function installedApp() {
  await scenario("the installed app starts in demo mode and registers", async () => {
    await waitFor("registration", async () => (await text("#status-text")).includes("Registered"));
    await screenshot("installed-idle");
  });
  const appimage = process.env.GUI_E2E_INSTALLED === "appimage";
  await scenario("a tel: link opened with xdg-open reaches the running installed app", async () => {
    const opened = spawnSync("xdg-open", ["tel:+1-650-555-0103"], { timeout: appimage ? 60000 : 20000, encoding: "utf8" });
    if (opened.status !== 0) throw new Error(`xdg-open exited with ${opened.status}: ${opened.stderr}`);
    await waitFor("the number in the field", async () => (await property("#number", "value")) === "+16505550103");
    await screenshot("installed-tel-link");
  });
}

/** A new user's first start: the welcome, answered one way and then, as another new user,
 * the other. The scenarios after them run as that user, who chose the demo: the welcome is
 * not shown to them any more, as it is not to any user after their first start. */
async function firstRun() {
  await startApp();
  try {
    await scenario("the first start greets the user; \"Sign in with RingCentral\" (keyboard) opens the sign-in form", async () => {
      await waitFor("the welcome", async () => (await welcomeState()) === "shown");
      if (!(await property("#welcome", "open"))) throw new Error("the welcome dialog is not open");
      const labelled = await wd("POST", s("/execute/sync"), { script: "const d = document.getElementById('welcome'); return [d.getAttribute('role') ?? d.tagName, document.getElementById(d.getAttribute('aria-labelledby')).textContent, document.getElementById(d.getAttribute('aria-describedby')).textContent.length];", args: [] });
      if (labelled[0] !== "DIALOG" || labelled[1] !== "Welcome to RC Softphone" || labelled[2] < 20) throw new Error(`the dialog's role and labels: ${JSON.stringify(labelled)}`);
      if ((await focused()) !== "welcome-sign-in") throw new Error(`the focus is on ${await focused()}, not on "Sign in with RingCentral"`);
      await waitFor("the demo registered behind it", async () => (await text("#status-text")).includes("(demo)"));
      await screenshot("welcome");
      await press("\uE007");
      await waitFor("the welcome gone", async () => !(await property("#welcome", "open")));
      await waitFor("the settings view", async () => !(await property("#panel-settings", "hidden")));
      if (!(await property("#signin", "open"))) throw new Error("the sign-in form is closed");
      await waitFor("the focus in the sign-in form", async () => (await focused()) === "signin-server");
      await waitFor("the answer saved", () => JSON.parse(readFileSync(settingsFile(), "utf8")).welcomed === true);
      await screenshot("welcome-sign-in");
    });
  } finally {
    await stopApp();
  }
  rmSync(settingsFile()); // another new user
  await startApp();
  try {
    await scenario("\"Try the demo\" (keyboard) dismisses the welcome and the demo goes on", async () => {
      await waitFor("the welcome", async () => (await welcomeState()) === "shown");
      await press("\uE004"); // Tab, to the second button
      if ((await focused()) !== "welcome-demo") throw new Error(`Tab went to ${await focused()}`);
      await press("\uE007");
      await waitFor("the welcome gone", async () => !(await property("#welcome", "open")));
      await waitFor("the answer saved", () => JSON.parse(readFileSync(settingsFile(), "utf8")).welcomed === true);
      if (await property("#panel-phone", "hidden")) throw new Error("the demo should stay on the phone view");
      await waitFor("registered (demo)", async () => (await text("#status-text")).includes("(demo)"));
    });
  } finally {
    await stopApp();
  }
}

/** About: the version, and the licences of what the app ships; opened in a call, Escape
 * closes it and leaves the call alone. */
async function about() {
  await scenario("About shows the version and the licences of what the app ships; Escape closes it, not the call", async () => {
    const { version } = await invoke("app_version");
    await click('button[data-dial="600"]');
    await waitFor("a call in progress", () => exists(callIn("talking")));
    await click("#about-open");
    await waitFor("the About box", () => property("#about", "open"));
    await waitFor("the version", async () => (await text("#about-version")) === `Version ${version}`);
    if ((await focused()) !== "about-close") throw new Error(`the focus is on ${await focused()}, not on Close`);
    const crates = await waitFor("the crates listed", async () => {
      const n = await elementsCount("#about-crates li");
      return n > 100 && n;
    });
    const shown = await property("#about", "textContent");
    for (const expected of ["libopus", "BSD-3-Clause", "WebKitGTK", "WebView2", `Rust crates (${crates})`, "MIT licence", "tauri-plugin-autostart"]) {
      if (!shown.includes(expected)) throw new Error(`About does not say "${expected}"`);
    }
    await screenshot("about");
    await wd("POST", s("/execute/sync"), { script: "document.getElementById('about-filter').scrollIntoView({ block: 'start' });", args: [] });
    await type("#about-filter", "opus");
    await waitFor("the filter", async () => {
      const visible = await wd("POST", s("/execute/sync"), { script: "return [...document.querySelectorAll('#about-crates li')].filter(li => li.getClientRects().length > 0).map(li => li.textContent);", args: [] });
      return visible.length > 0 && visible.length < crates && visible.some((line) => line.startsWith("opusic-sys "));
    });
    await screenshot("about-crates");
    await wd("POST", s("/execute/sync"), { script: "document.getElementById('about-close').focus();", args: [] });
    await press("\uE00C"); // Escape
    await waitFor("the About box closed", async () => !(await property("#about", "open")));
    await new Promise((r) => setTimeout(r, 500));
    if (!(await exists(callIn("talking")))) throw new Error("Escape hung up the call as well");
    await click(`${callIn("talking")} [data-action="hangup"]`);
    await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
  });
}

/** "Start at login" and "Close to tray" in the settings view. */
async function appSettings() {
  await scenario("start at login: turning it on writes ~/.config/autostart/rc-softphone.desktop, off removes it", async () => {
    const entry = join(process.env.GUI_E2E_HOME ?? "", ".config", "autostart", "rc-softphone.desktop");
    if (!process.env.GUI_E2E_HOME) throw new Error("GUI_E2E_HOME is not set (run scripts/gui-e2e)");
    await tab("settings");
    if (await property("#start-at-login", "checked")) throw new Error("start at login is on in a new home");
    await clickSettled("#start-at-login");
    await clickSettled("#save-settings");
    await waitFor("the autostart entry", () => existsSync(entry));
    const desktop = readFileSync(entry, "utf8");
    if (!desktop.includes(`Exec=${app}`)) throw new Error(`the entry does not start this app: ${desktop}`);
    await tab("phone");
    await tab("settings");
    if (!(await property("#start-at-login", "checked"))) throw new Error("the settings view does not show it on");
    await clickSettled("#start-at-login");
    await clickSettled("#save-settings");
    await waitFor("the autostart entry gone", () => !existsSync(entry));
    await tab("phone");
  });

  await scenario("close to tray (on by default): closing the window hides it, the phone keeps running, starting the app again shows it", async () => {
    const shown = await waitFor("the window on screen", async () => shownWindow());
    await tab("settings");
    if (!(await property("#close-to-tray", "checked"))) throw new Error("close to tray is not on by default");
    await tab("phone");
    closeWindow(shown.id);
    await waitFor("the window hidden", async () => !shownWindow());
    await new Promise((r) => setTimeout(r, 1500));
    if (!running(shown.pid)) throw new Error("the app quit");
    if (!(await text("#status-text")).includes("Registered")) throw new Error("the phone is not registered any more");
    const again = spawnSync(app, [], { timeout: 20000, encoding: "utf8" });
    if (again.status !== 0) throw new Error(`the second start exited with ${again.status}: ${again.stderr}`);
    const back = await waitFor("the window back", async () => shownWindow());
    if (back.pid !== shown.pid) throw new Error(`another app (${back.pid}) opened a window instead of the running one (${shown.pid})`);
  });

  await scenario("close to tray off: closing the window quits the app", async () => {
    const shown = await waitFor("the window on screen", async () => shownWindow());
    await tab("settings");
    await clickSettled("#close-to-tray");
    await clickSettled("#save-settings");
    await waitFor("the settings saved", async () => (await text("#settings-message")) === "Settings saved.");
    if (JSON.parse(readFileSync(settingsFile(), "utf8")).closeToTray !== false) throw new Error("closeToTray is not saved off");
    await tab("phone");
    await click('button[data-dial="600"]');
    await waitFor("a call in progress", () => exists(callIn("talking")));
    closeWindow(shown.id);
    await waitFor("the app to quit", async () => !running(shown.pid));
  });
}

/** The window's own behaviour (issue 18): keys while typing, ended calls, a second call, the
 * toggles, the tabs, the status line after a re-registration. Runs in the demo, debug mode on
 * (the SIP log tab is shown). */
async function windowScenarios() {
  await scenario("Escape in the transfer box, the dial field or the log filter does not hang up; Escape elsewhere does", async () => {
    await click('button[data-dial="600"]');
    await waitFor("the call to connect", () => exists(callIn("talking")));
    await click(`${callIn("talking")} [data-action="ask-transfer"]`);
    const label = await page(`return document.querySelector(arguments[0]).labels[0]?.textContent.trim();`, `${callIn("talking")} .ask input`);
    if (label !== "Transfer to number") throw new Error(`the transfer box is labelled "${label}"`);
    await type(`${callIn("talking")} .ask input`, "103");
    await press(ESCAPE);
    await nothingHappens();
    if (!(await exists(callIn("talking")))) throw new Error("Escape in the transfer box hung up");
    if (!(await property(`${callIn("talking")} .ask`, "hidden"))) throw new Error("Escape left the transfer box open");
    await focus("#number");
    await press(ESCAPE);
    await tab("log");
    await focus("#log-filter");
    await press(ESCAPE);
    await tab("phone");
    await nothingHappens();
    if (!(await exists(callIn("talking")))) throw new Error("Escape in the dial field or the log filter hung up");
    await blur();
    await press(ESCAPE);
    await waitFor("Escape (not typing) to hang up", () => exists(ENDED));
    await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
  });

  await scenario("Enter on a focused Decline button declines the ringing call, never answers it", async () => {
    await click("#demo-incoming");
    await waitFor("the incoming call", () => exists(callIn("incoming")));
    await focus(`${callIn("incoming")} [data-action="decline"]`);
    await press(ENTER);
    await waitFor("the call declined", async () => (await exists(ENDED)) && (await text(ENDED)).includes("Declined"));
    if (await exists(callIn("talking"))) throw new Error("the Enter answered");
    await waitFor("declined in the history", async () => (await invoke("history"))[0]?.outcome === "declined");
    await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
  });

  await scenario("an ended call leaves the top at once: a short \"Call ended\" line, then nothing", async () => {
    await click('button[data-dial="600"]');
    await waitFor("the call to connect", () => exists(callIn("talking")));
    await click(`${callIn("talking")} [data-action="hangup"]`);
    await waitFor("the ended line", () => exists(ENDED));
    if (await exists(".call")) throw new Error("the ended call's card is still shown");
    const line = await text(ENDED);
    if (!line.startsWith("Call ended") || !line.includes("600")) throw new Error(`the ended line says "${line}"`);
    const height = (await wd("GET", s(`/element/${await find(ENDED)}/rect`))).height;
    if (height > 40) throw new Error(`the ended line is ${height} px high: a card, not a line`);
    await screenshot("call-ended");
    await waitFor("the ended line to go", async () => !(await exists(ANY_CALL)));
  });

  await scenario("a second call while one is active: both shown, the ringing one with Answer and Decline (no Hang up), announced; hold and answer", async () => {
    await click('button[data-dial="600"]');
    await waitFor("the first call to connect", () => exists(callIn("talking")));
    await page("document.getElementById('announce').textContent = '';");
    await click("#demo-incoming");
    await waitFor("the second call", () => exists(callIn("incoming")));
    const ringing = await shownButtons(callIn("incoming"));
    for (const want of ["Hold and answer", "Decline", "Voicemail", "Forward…", "Reply…"]) {
      if (!ringing.includes(want)) throw new Error(`the ringing call offers ${JSON.stringify(ringing)}, not "${want}"`);
    }
    if (ringing.includes("Hang up")) throw new Error(`the ringing call offers Hang up: ${JSON.stringify(ringing)}`);
    const talking = await shownButtons(callIn("talking"));
    if (!talking.includes("Hold") || !talking.includes("Hang up") || talking.includes("Answer")) throw new Error(`the active call offers ${JSON.stringify(talking)}`);
    const announced = await page("const a = document.getElementById('announce'); return [a.getAttribute('aria-live'), a.textContent];");
    if (announced[0] !== "assertive" || !announced[1].startsWith("Incoming call from")) throw new Error(`announced: ${JSON.stringify(announced)}`);
    await screenshot("second-call");
    await click(`${callIn("incoming")} [data-action="answer"]`);
    await waitFor("the first held and the second connected", async () => {
      const states = await page("return [...document.querySelectorAll('.call .state')].map((e) => e.textContent);");
      return states.length === 2 && states.includes("On hold") && states.includes("Connected");
    });
    await screenshot("second-call-answered");
    for (let left = 2; left > 0; left -= 1) {
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor(`${left - 1} calls left`, async () => (await elementsCount(".call")) === left - 1);
    }
    await waitFor("the ended calls to go", async () => !(await exists(ANY_CALL)));
  });

  await scenario("mute, hold and record show a pending state until the engine confirms; a refused recording rolls back with a notice", async () => {
    await click('button[data-dial="600"]');
    await waitFor("the call to connect", () => exists(callIn("talking")));
    const button = (name) => `${callIn("talking")} [data-action="${name}"]`;
    for (const [name, done] of [["mute", "Unmute"], ["hold", "Resume"]]) {
      await watch(name, button(name), "aria-busy");
      await click(button(name));
      await waitFor(`${name} confirmed`, async () => (await text(button(name))) === done && (await attribute(button(name), "aria-pressed")) === "true");
      const busy = await seen(name);
      if (!busy.includes("true") || busy.at(-1) !== "false") throw new Error(`${name} went through ${JSON.stringify(busy)}, not pending then confirmed`);
    }
    await click(button("hold"));
    await waitFor("resumed", async () => (await text(`${callIn("talking")} .state`)) === "Connected");
    await watch("record", button("record"), "aria-busy");
    await click(button("record"));
    // The demo records calls between people, not calls to its test numbers: it refuses.
    await waitFor("the refusal told", async () => (await text("#message")).startsWith("Recording could not start"));
    const busy = await seen("record");
    if (!busy.includes("true") || busy.at(-1) !== "false") throw new Error(`record went through ${JSON.stringify(busy)}`);
    if ((await text(button("record"))) !== "Record" || (await attribute(button("record"), "aria-pressed")) !== "false") throw new Error("the record button did not roll back");
    if (!(await property(`${callIn("talking")} .rec`, "hidden"))) throw new Error("the recording indicator is on");
    await screenshot("toggle-refused");
    await click(`${callIn("talking")} [data-action="hangup"]`);
    await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
  });

  await scenario("tabs: tablist, tab and tabpanel roles; Left, Right, Home and End move between the tabs", async () => {
    const roles = await page(`return [...document.querySelectorAll('[role="tab"]')].map((t) => {
      const panel = document.getElementById(t.getAttribute('aria-controls'));
      return [t.id, t.closest('[role="tablist"]') !== null, panel?.getAttribute('role'), panel?.getAttribute('aria-labelledby') === t.id];
    });`);
    if (roles.length !== 4 || roles.some(([, inList, role, labelled]) => !inList || role !== "tabpanel" || !labelled)) throw new Error(`roles: ${JSON.stringify(roles)}`);
    const selected = async () => page(`return [...document.querySelectorAll('[role="tab"]')].filter((t) => t.getAttribute('aria-selected') === 'true').map((t) => t.dataset.tab).join();`);
    const expect = async (key, name) => {
      await press(key);
      await waitFor(`${name} after the key`, async () => (await selected()) === name && (await focused()) === `tab-${name}` && !(await property(`#panel-${name}`, "hidden")));
    };
    await focus("#tab-phone");
    await expect("\uE014", "recent"); // Right
    await expect("\uE014", "settings");
    await expect("\uE012", "recent"); // Left
    await expect("\uE011", "phone"); // Home
    await expect("\uE010", "log"); // End: the last shown tab (debug mode is on)
    await expect("\uE014", "phone"); // Right wraps
    await expect("\uE012", "log"); // Left wraps
    const order = await page(`return [...document.querySelectorAll('[role="tab"]')].map((t) => t.tabIndex).join();`);
    if (order !== "-1,-1,-1,0") throw new Error(`only the selected tab is in the Tab order: ${order}`);
    await tab("phone");
  });

  await scenario("the header keeps \"as NUMBER (demo)\" after a re-registration (the connection dropped and came back)", async () => {
    const registered = "Registered as 16505550101 (demo)";
    await waitFor("registered", async () => (await text("#status-text")) === registered);
    await page(`const el = document.getElementById('status-text');
      document.getElementById('message').textContent = '';
      window.__statusLines = [el.textContent];
      new MutationObserver(() => window.__statusLines.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });`);
    await click("#demo-drop");
    await waitFor("the drop shown", async () => (await page("return window.__statusLines;")).some((l) => /^(Reconnecting|Connecting)/.test(l)));
    await waitFor("the reconnect reported", async () => (await text("#message")) === "Connected again.");
    await waitFor("registered again", async () => (await text("#status-text")) === registered);
    await nothingHappens();
    const lines = await page("return window.__statusLines;");
    if ((await text("#status-text")) !== registered) throw new Error(`the header says "${await text("#status-text")}"`);
    if (lines.some((l) => l.startsWith("Registered") && l !== registered)) throw new Error(`the header lost the number: ${JSON.stringify(lines)}`);
    const status = await invoke("status");
    if (status.state !== "registered" || status.line !== registered) throw new Error(`status: ${JSON.stringify(status)}`);
  });
}

async function main() {
  if (process.env.GUI_E2E_INSTALLED) {
    session = (await wd("POST", "/session", caps)).sessionId;
    try {
      return await installedApp();
    } finally {
      await wd("DELETE", s("")).catch(() => {});
    }
  }
  await firstRun();
  await startApp();
  try {
    await scenario("a restart shows no welcome", async () => {
      const decided = await waitFor("the welcome decided", () => welcomeState());
      if (decided !== "none" || (await property("#welcome", "open"))) throw new Error(`the welcome is ${decided} again`);
    });

    await scenario("the demo account registers", async () => {
      await waitFor("registration", async () => (await text("#status-text")).includes("Registered"));
      await screenshot("idle");
    });

    await scenario("a broken sipInfo is refused with a clear message and the demo goes on", async () => {
      await tab("settings");
      await click("#account summary");
      const area = await find("#sipinfo");
      await wd("POST", s(`/element/${area}/value`), { text: '{"username":"16502223333","authorizationId":"802","domain":"sip.ringcentral.com","outboundProxy":"sip.example:8083"}' });
      await click("#use-account");
      await waitFor("the validation message", async () => (await text("#account-message")).includes("`password` is missing"));
      if (!(await text("#status-text")).includes("(demo)")) throw new Error("the demo account should stay registered");
      await click("#account summary");
      await tab("phone");
    });

    await scenario("settings: devices chosen, debug mode on, saved and in force", async () => {
      await tab("settings");
      await waitFor("the devices listed", () => exists('#input-device option[value="test-input"]'));
      await choose("#input-device", "test-input");
      await choose("#output-device", "test-output");
      await choose("#ring-device", "test-output");
      await choose("#ringtone-choice", "chirp");
      await click("#debug");
      await click("#save-settings");
      await waitFor("the settings saved", async () => (await text("#settings-message")) === "Settings saved.");
      await click("#test-sound");
      await waitFor("the test sound", async () => (await text("#settings-message")).startsWith("Played the ringtone"));
      await waitFor("the SIP log tab", async () => !(await property("#tab-log", "hidden")));
      await screenshot("settings");
      await tab("phone");
      if (!(await exists('#caller-id option[value="+16505550100"]'))) throw new Error("the demo's company number is not offered as caller ID");
    });

    await scenario("call the colleague, record with an indicator, hang up", async () => {
      await click('button[data-dial="102"]');
      await waitFor("the colleague to answer", () => exists(callIn("talking")));
      await waitFor("the speaker meter to move (the colleague's tone)", async () => (await meter("output")) > 5);
      await click(`${callIn("talking")} [data-action="record"]`);
      await waitFor("the recording indicator", async () => !(await property(`${callIn("talking")} .rec`, "hidden")));
      await screenshot("recording");
      await click(`${callIn("talking")} [data-action="record"]`);
      await waitFor("the recording to stop", async () => (await property(`${callIn("talking")} .rec`, "hidden")) === true);
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("a call to colleague 102 is flipped to 103 and leaves this phone", async () => {
      await click('button[data-dial="102"]');
      await waitFor("102 to answer", () => exists(callIn("talking")));
      await click(`${callIn("talking")} [data-action="ask-flip"]`);
      await type(`${callIn("talking")} .ask input`, "103");
      await click(`${callIn("talking")} .ask button[type="submit"]`);
      await waitFor("the flip confirmed", async () => (await text("#message")) === "Flipped to 103");
      await waitFor("our call to end", async () => !(await exists('.call:not([data-state="ended"])')));
      await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("dial the echo test, meters move, mute, hold, keypad, hang up", async () => {
      await click('button[data-dial="600"]');
      await waitFor("the call to connect", () => exists(callIn("talking")));
      await waitFor("the microphone meter to move", async () => (await meter("input")) > 5);
      await waitFor("the speaker meter to move (our tone, echoed)", async () => (await meter("output")) > 5);
      await click(`${callIn("talking")} [data-action="mute"]`);
      await waitFor("mute shown", async () => (await text(`${callIn("talking")} [data-action="mute"]`)) === "Unmute");
      await click(`${callIn("talking")} [data-action="hold"]`);
      await waitFor("hold shown", async () => (await text(`${callIn("talking")} .state`)) === "On hold");
      await click(`${callIn("talking")} [data-action="hold"]`);
      await waitFor("resumed", async () => (await text(`${callIn("talking")} .state`)) === "Connected");
      await click("#keypad button:nth-child(5)");
      await screenshot("active-call");
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor("the call to end", () => exists(ENDED));
      await tab("recent");
      await waitFor("the call in the history", async () => (await text("#history li:first-child")).includes("600"));
      await tab("phone");
      await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("the connection drops in a call: it comes back by itself, the call goes on, history and settings are kept", async () => {
      const settingsBefore = JSON.stringify(await invoke("settings"));
      const historyBefore = (await invoke("history")).length;
      await click('button[data-dial="600"]');
      await waitFor("the call to connect", () => exists(callIn("talking")));
      await click("#demo-drop");
      await waitFor("the reconnect reported", async () => (await text("#message")) === "Connected again.");
      await waitFor("registered again", async () => (await text("#status-text")).startsWith("Registered"));
      await waitFor("the speaker meter to move (the echo goes on)", async () => (await meter("output")) > 5);
      await click(`${callIn("talking")} [data-action="hold"]`);
      await waitFor("hold after the reconnect", async () => (await text(`${callIn("talking")} .state`)) === "On hold");
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor("the call to end", () => exists(ENDED));
      const history = await waitFor("the call in the history", async () => {
        const h = await invoke("history");
        return h.length === historyBefore + 1 && h;
      });
      if (history[0].number !== "600" || history[0].outcome !== "answered") throw new Error(`history entry: ${JSON.stringify(history[0])}`);
      const settingsAfter = JSON.stringify(await invoke("settings"));
      if (settingsAfter !== settingsBefore) throw new Error(`settings changed: ${settingsBefore} -> ${settingsAfter}`);
      await tab("phone");
      await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("sign in to the demo server with a JWT: caller IDs from the account, a call brought into a conference and another number invited", async () => {
      await tab("settings");
      await click("#signin .jwt summary");
      await click("#signin-demo-fill");
      await waitFor("the demo's credentials filled in", async () => (await property("#signin-jwt", "value")).length > 20);
      await click("#signin-with-jwt");
      await waitFor("signed in", async () => (await text("#signin-message")).startsWith("Signed in"));
      const message = await text("#signin-message");
      if (!message.includes("+16505550100") || message.includes("+16505550191")) throw new Error(`caller IDs: ${message}`);
      if (await property("#signout", "hidden")) throw new Error("no way to sign out");
      await tab("phone");
      await click('button[data-dial="102"]');
      await waitFor("the call to 102 to connect", () => exists(callIn("talking")));
      await click(`${callIn("talking")} [data-action="conference"]`);
      await waitFor("our call into the conference", async () => (await property(`${callIn("talking")} .who`, "textContent")) === "Conference");
      await waitFor("the call to 102 to be released into the conference", async () => (await elementsCount(callIn("talking"))) === 1);
      await waitFor("colleague 102 heard in the conference", async () => (await meter("output")) > 5);
      if (!(await property(`${callIn("talking")} [data-action="conference"]`, "hidden"))) throw new Error("the conference leg offers to bring itself in");
      await click(`${callIn("talking")} [data-action="ask-invite"]`);
      await type(`${callIn("talking")} .ask input`, "103");
      await click(`${callIn("talking")} .ask button[type="submit"]`);
      await waitFor("103 invited, answered and brought in", async () => (await text("#message")) === "103 joined your conference");
      await waitFor("the call to 103 to be released into the conference", async () => (await elementsCount(callIn("talking"))) === 1);
      await screenshot("conference");
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor("the conference call to end", async () => (await elementsCount(callIn("talking"))) === 0);
      await tab("recent");
      await waitFor("the conference in Recent", async () => (await text("#history li:first-child")).includes("Conference"));
      const recent = await text("#history");
      if (recent.includes("conf_")) throw new Error(`Recent shows a conference token: ${recent}`);
      const overflowing = await page("return [...document.querySelectorAll('#history li')].filter((li) => li.scrollWidth > li.clientWidth + 1).length;");
      if (overflowing) throw new Error(`${overflowing} rows of Recent overflow`);
      await screenshot("recent-conference");
      await tab("settings");
      await clickSettled("#signout");
      await waitFor("signed out", async () => (await text("#signin-message")).startsWith("Signed out"));
      await tab("phone");
      await waitFor("the ended calls to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("sign in to the demo server in the browser (authorization code + PKCE): the scripted browser signs in, caller IDs from the account", async () => {
      // The wrapper makes scripts/fake-browser the app's `xdg-open`; it logs each step here.
      const browserLog = process.env.GUI_E2E_BROWSER_LOG;
      if (!browserLog) throw new Error("GUI_E2E_BROWSER_LOG is not set (run scripts/gui-e2e)");
      writeFileSync(browserLog, "");
      const browserSaid = () => readFileSync(browserLog, "utf8");
      await tab("settings");
      await waitFor("signed out at the start", async () => (await property("#signout", "hidden")) === true);
      await choose("#signin-server", "demo");
      await type("#signin-client-id", ""); // the demo's own public app (the JWT scenario left its confidential one)
      await clickSettled("#signin-browser");
      // Ends at once on a refusal (waitFor retries what throws, so the check returns it).
      const outcome = await waitFor("signed in through the browser", async () => {
        const message = await text("#signin-message");
        return (message.startsWith("Signed in") || message.startsWith("Not signed in")) && message;
      });
      if (!outcome.startsWith("Signed in")) throw new Error(`${outcome} | the scripted browser: ${browserSaid().trim()}`);
      const said = browserSaid();
      const redirect = said.match(/ to (http:\/\/127\.0\.0\.1:\d+\/callback)\?code=/);
      if (!said.includes("open https://127.0.0.1:") || !redirect || !/callback 200 "Signed in"/.test(said)) throw new Error(`the scripted browser did not sign in: ${said}`);
      if (!said.includes("code_challenge_method=S256")) throw new Error(`the authorize URL has no PKCE challenge: ${said}`);
      const message = await text("#signin-message");
      if (!message.includes("+16505550100") || !message.includes("+16505550101") || message.includes("+16505550191")) throw new Error(`caller IDs: ${message}`);
      if (await property("#signout", "hidden")) throw new Error("no way to sign out");
      const offered = await wd("POST", s("/execute/sync"), { script: "return [...document.querySelectorAll('#caller-id option')].map(o => o.value).filter(Boolean);", args: [] });
      if (!offered.includes("+16505550100") || !offered.includes("+16505550101") || offered.includes("+16505550191")) throw new Error(`the caller-ID picker offers ${JSON.stringify(offered)}`);
      await screenshot("signed-in-browser");
      await clickSettled("#signout");
      await waitFor("signed out", async () => (await text("#signin-message")).startsWith("Signed out"));
      if (!(await property("#signout", "hidden"))) throw new Error("the sign-out button is still shown");
      await tab("phone");
      await waitFor("registered (demo) after the sign-out", async () => (await text("#status-text")).includes("(demo)"));
    });

    await scenario("the SIP log shows the call's messages, filtered, without secrets", async () => {
      await tab("log");
      await waitFor("the INVITE in the log", async () => (await text("#sip-log")).includes("INVITE sip:600@"));
      await type("#log-filter", "BYE");
      await waitFor("only BYE messages", async () => {
        const shown = await text("#sip-log");
        return shown.includes("BYE") && !shown.includes("REGISTER");
      });
      const all = await wd("POST", s("/execute/sync"), { script: "return [...document.querySelectorAll('#sip-log pre')].map(p => p.textContent).join('\\n');", args: [] });
      if (all.includes("demo-101-password")) throw new Error("the password is in the SIP log");
      await type("#log-filter", "");
      await screenshot("sip-log");
      await tab("phone");
    });

    await scenario("a demo call comes in, is answered and hung up", async () => {
      await click("#demo-incoming");
      await waitFor("the incoming call", () => exists(callIn("incoming")));
      await waitFor("the ringtone", async () => (await text("#ringtone")) === "· ringing");
      await waitFor("the OS notification", async () => readFileSync(process.env.GUI_E2E_NOTIFICATIONS, "utf8").includes("Incoming call"));
      await screenshot("incoming-call");
      await click(`${callIn("incoming")} [data-action="answer"]`);
      await waitFor("the call to connect", () => exists(callIn("talking")));
      await waitFor("the ringtone to stop", async () => !(await exists('body[data-ringtone="ring"]')));
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("a bare Enter does not answer a ringing call; Ctrl+Enter does", async () => {
      await click("#demo-incoming");
      await waitFor("the incoming call", () => exists(callIn("incoming")));
      // Keys go to the page, not to the button just clicked (Enter would click it again).
      await wd("POST", s("/execute/sync"), { script: "document.activeElement.blur();", args: [] });
      await press("\uE007");
      // Nothing happens to wait for: an answer takes well under a second here, so a call
      // still ringing after 1.5 s was not answered by the Enter.
      await new Promise((r) => setTimeout(r, 1500));
      if (!(await exists(callIn("incoming")))) throw new Error("a bare Enter answered the call");
      await press("\uE009", "\uE007");
      await waitFor("Ctrl+Enter to answer", () => exists(callIn("talking")));
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("a demo call is answered with a text and the caller's answer is shown", async () => {
      await click("#demo-incoming");
      await waitFor("the incoming call", () => exists(callIn("incoming")));
      await click(`${callIn("incoming")} [data-action="ask-reply"]`);
      await click(`${callIn("incoming")} .ask button[type="submit"]`);
      await waitFor("the caller's answer", async () => (await text("#message")).startsWith("The caller answered"));
      await waitFor("the call to end", () => exists(ENDED));
    });

    await scenario("a demo call comes in and is declined", async () => {
      await click("#demo-incoming");
      await waitFor("the incoming call", () => exists(callIn("incoming")));
      await click(`${callIn("incoming")} [data-action="decline"]`);
      await waitFor("the call to end", () => exists(ENDED));
      await tab("recent");
      await waitFor("the declined call in the history", async () => (await text("#history li:first-child")).includes("declined"));
      await screenshot("history");
      await tab("phone");
      await waitFor("the ended call to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("a call to colleague 102 is warm-transferred to colleague 103", async () => {
      await click('button[data-dial="102"]');
      await waitFor("102 to answer", () => exists(callIn("talking")));
      await click(`${callIn("talking")} [data-action="ask-consult"]`);
      await type(`${callIn("talking")} .ask input`, "103");
      await click(`${callIn("talking")} .ask button[type="submit"]`);
      await waitFor("102 held and 103 on the line", async () => (await exists('.call[data-consulting="true"]')) && (await exists(`.call[data-state="talking"][data-consulting="false"]`)));
      await screenshot("warm-transfer");
      await click('.call[data-consulting="true"] [data-action="complete-transfer"]');
      await waitFor("both our calls to end (102 and 103 now talk to each other)", async () => !(await exists('.call:not([data-state="ended"])')));
      await waitFor("the ended calls to go", async () => !(await exists(ANY_CALL)));
    });

    await scenario("a tel: link opened while the app runs lands in the dial field of the running window", async () => {
      const second = spawnSync(app, ["tel:+1-650-555-0102"], { timeout: 20000, encoding: "utf8" });
      if (second.status !== 0) throw new Error(`the second start exited with ${second.status}: ${second.stderr}`);
      await waitFor("the number in the field", async () => (await property("#number", "value")) === "+16505550102");
      await type("#number", "");
    });

    await windowScenarios();
    await about();
    await appSettings(); // last: it ends with the app quitting
  } finally {
    await stopApp();
  }
}

main().then(
  () => {
    console.log(`gui-e2e: ${passed} passed, 0 failed`);
  },
  (err) => {
    console.error(`gui-e2e: FAIL: ${err.message}`);
    console.log(`gui-e2e: ${passed} passed, 1 failed`);
    process.exit(1);
  },
);

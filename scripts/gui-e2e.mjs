// End-to-end tests of the real app window: W3C WebDriver calls to tauri-driver (which runs
// WebKitWebDriver and the app). The app runs in demo mode (embedded rc-sim) on test audio.
// Usage: GUI_E2E_DRIVER=http://127.0.0.1:PORT node scripts/gui-e2e.mjs APP_BINARY ARTIFACT_DIR
// (scripts/gui-e2e starts tauri-driver on a free port and sets GUI_E2E_DRIVER).
import { writeFileSync } from "node:fs";
import { join } from "node:path";

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

async function exists(css) {
  const v = await wd("POST", s("/elements"), { using: "css selector", value: css });
  return v.length > 0;
}

async function click(css) {
  await wd("POST", s(`/element/${await find(css)}/click`), {});
}

async function text(css) {
  return wd("GET", s(`/element/${await find(css)}/text`));
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

async function main() {
  const caps = { capabilities: { alwaysMatch: { "tauri:options": { application: app } } } };
  session = (await wd("POST", "/session", caps)).sessionId;
  try {
    await scenario("the demo account registers", async () => {
      await waitFor("registration", async () => (await text("#status-text")).includes("Registered"));
      await screenshot("idle");
    });

    await scenario("a broken sipInfo is refused with a clear message and the demo goes on", async () => {
      await click("#account summary");
      const area = await find("#sipinfo");
      await wd("POST", s(`/element/${area}/value`), { text: '{"username":"16502223333","authorizationId":"802","domain":"sip.ringcentral.com","outboundProxy":"sip.example:8083"}' });
      await click("#use-account");
      await waitFor("the validation message", async () => (await text("#account-message")).includes("`password` is missing"));
      if (!(await text("#status-text")).includes("(demo)")) throw new Error("the demo account should stay registered");
      await click("#account summary");
    });

    await scenario("dial the echo test, mute, hold, keypad, hang up", async () => {
      await click('button[data-dial="600"]');
      await waitFor("the call to connect", () => exists(callIn("talking")));
      await click(`${callIn("talking")} [data-action="mute"]`);
      await waitFor("mute shown", async () => (await text(`${callIn("talking")} [data-action="mute"]`)) === "Unmute");
      await click(`${callIn("talking")} [data-action="hold"]`);
      await waitFor("hold shown", async () => (await text(`${callIn("talking")} .state`)) === "On hold");
      await click(`${callIn("talking")} [data-action="hold"]`);
      await waitFor("resumed", async () => (await text(`${callIn("talking")} .state`)) === "Connected");
      await click("#keypad button:nth-child(5)");
      await screenshot("active-call");
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor("the call to end", () => exists(callIn("ended")));
      await waitFor("the call in the history", async () => (await text("#history li:first-child")).includes("600"));
      await waitFor("the ended call to go", async () => !(await exists(".call")));
    });

    await scenario("a demo call comes in, is answered and hung up", async () => {
      await click("#demo-incoming");
      await waitFor("the incoming call", () => exists(callIn("incoming")));
      await waitFor("the ringtone", async () => (await text("#ringtone")) === "· ringing");
      await screenshot("incoming-call");
      await click(`${callIn("incoming")} [data-action="answer"]`);
      await waitFor("the call to connect", () => exists(callIn("talking")));
      await waitFor("the ringtone to stop", async () => !(await exists('body[data-ringtone="ring"]')));
      await click(`${callIn("talking")} [data-action="hangup"]`);
      await waitFor("the ended call to go", async () => !(await exists(".call")));
    });

    await scenario("a demo call is answered with a text and the caller's answer is shown", async () => {
      await click("#demo-incoming");
      await waitFor("the incoming call", () => exists(callIn("incoming")));
      await click(`${callIn("incoming")} [data-action="ask-reply"]`);
      await click(`${callIn("incoming")} .ask button[type="submit"]`);
      await waitFor("the caller's answer", async () => (await text("#message")).startsWith("The caller answered"));
      await waitFor("the call to end", () => exists(callIn("ended")));
    });

    await scenario("a demo call comes in and is declined", async () => {
      await click("#demo-incoming");
      await waitFor("the incoming call", () => exists(callIn("incoming")));
      await click(`${callIn("incoming")} [data-action="decline"]`);
      await waitFor("the call to end", () => exists(callIn("ended")));
      await waitFor("the declined call in the history", async () => (await text("#history li:first-child")).includes("declined"));
      await screenshot("history");
    });
  } finally {
    await wd("DELETE", s("")).catch(() => {});
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

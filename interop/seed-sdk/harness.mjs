// Drives seed-SDK pages in headless Chromium for rc-sim's interop tests.
//
// Protocol, one JSON object per line:
//   stdin  {"id": 1, "page": "A", "op": "start", "args": {...}}
//   stdout {"id": 1, "ok": true, "result": {...}}  |  {"id": 1, "ok": false, "error": "..."}
//          {"page": "A", "event": "inboundCall", ...}   (events, whenever they happen)
//          {"ready": true}                               (once Chromium runs)
// Options by environment: CHROMIUM (default /usr/bin/chromium), FAKE_AUDIO (a WAV file the
// fake microphone plays).
import { chromium } from "playwright-core";
import { CHROMIUM_FLAGS, bundlePage, servePage } from "./chromium.mjs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const script = await bundlePage(join(here, "page.js"));
const { server, origin } = await servePage(script, "seed SDK");

const args = [...CHROMIUM_FLAGS];
if (process.env.FAKE_AUDIO) args.push(`--use-file-for-fake-audio-capture=${process.env.FAKE_AUDIO}`);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args });
const context = await browser.newContext({ permissions: ["microphone"] });
const pages = new Map();

async function page(name) {
  if (pages.has(name)) return pages.get(name);
  const p = await context.newPage();
  await p.exposeFunction("harnessEvent", (json) => out({ page: name, ...JSON.parse(json) }));
  p.on("console", (m) => { if (process.env.HARNESS_CONSOLE) process.stderr.write(`[${name}] ${m.text()}\n`); });
  p.on("pageerror", (e) => out({ page: name, event: "pageerror", message: String(e) }));
  await p.goto(origin);
  pages.set(name, p);
  return p;
}

out({ ready: true });
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  if (cmd.op === "quit") break;
  // Each command runs on its own, so a slow one (reply waits for the caller) does not block others.
  (async () => {
    try {
      const p = await page(cmd.page);
      const result = await p.evaluate(([op, a]) => window.harnessRun(JSON.stringify({ op, args: a })), [cmd.op, cmd.args ?? {}]);
      out({ id: cmd.id, ok: true, result: JSON.parse(result) });
    } catch (e) {
      out({ id: cmd.id, ok: false, error: String(e && e.message ? e.message : e) });
    }
  })();
}
await browser.close();
server.close();
process.exit(0);

// Benchmarks the seed SDK (ringcentral-web-phone 2.5.4) in headless Debian Chromium against
// rc-sim, on the workloads our Rust engine is measured on. A benchmark orchestrator spawns it
// and measures the Chromium processes' CPU and memory itself (from /proc).
//
// node bench/seed-bench.mjs --sipinfo FILE --ca CA.pem --workload register|setup|load|latency|speech
//      [--count N] [--calls N] [--seconds S] [--speech WAV] [--to NUMBER] [--mic-processing default|off]
//      [--out DIR] [--verbose]
//
// stdout, one JSON object per line:
//   {"event":"ready","chromiumPid":N}            Chromium runs, the page is loaded
//   {"event":"window-start"} {"event":"window-end"}   load only: the measurement window
//   {"event":"done","workload":...,...results}   Chromium has exited; exit code 0
//   {"event":"error","message":"..."}            Chromium has exited; exit code 1 (2: bad
//                                                arguments, 130/143: SIGINT/SIGTERM)
// stderr: progress and, with --verbose, the page's console.
//
// Results (times in ms, from performance.now() in the page):
//   register  samplesMs: `await webPhone.start()` of a fresh WebPhone (WebSocket + TLS connect,
//             REGISTER, 401, REGISTER, 200), --count times in one page; each phone is disposed
//             (unregistered, WebSocket closed) before the next is created.
//   setup     one registration, then --count calls to 600 one after the other. From just before
//             webPhone.call("600") to: answeredMs, the session's 'answered' event (200 OK);
//             connectedMs, the RTCPeerConnection 'connected' (ICE + DTLS); firstAudioMs, the
//             first received sample of the echoed 1 kHz fake-microphone tone reaching 0.05 full
//             scale, seen by an AudioWorklet tapping the remote track (played by an <audio>).
//             Each call is hung up (BYE, 200 OK) and 'disposed' before the next.
//   load      --calls concurrent calls to 600; window-start once every call hears its echo,
//             window-end --seconds later. allFlowingMs: from the first call() until all
//             calls heard their echo. inboundBytesPerCall and perCall (getStats deltas over the
//             window: bytes/packets received and lost, bytes sent, decoded level, concealed
//             ratio). During the window only the SDK and one <audio> per call run.
//   latency   samplesMs: click emission -> detection of its echo, on the AudioContext clock,
//             --count clicks (default 10) 1 s apart (see `method` in the result).
//   speech    wav: what came back while the fake microphone played --speech once (no loop),
//             recorded from just before the capture (re)starts, for the WAV's duration + 1.5 s,
//             16-bit mono at `rate` (48000). micSentAfterMs: recording start -> the fresh
//             microphone track is on the sender (getUserMedia + replaceTrack).
//             --mic-processing off turns off Chromium's echo cancellation, noise suppression
//             and automatic gain for that capture (the SDK leaves them on: the default).
//             --to NUMBER calls another number than the echo bot (600): the voicemail bot
//             (603) records what it hears, and the caller (the bench) scores its WAV.
// --ca is checked to exist but not used: Chromium ignores certificate errors (rc-sim only).
//
// Packages come from ../interop/seed-sdk/node_modules (esbuild, playwright-core, the SDK).
import { createRequire } from "node:module";
import { CHROMIUM_FLAGS, bundlePage, servePage } from "../interop/seed-sdk/chromium.mjs";
import { connect } from "node:net";
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const seedDir = join(here, "../interop/seed-sdk");
const seedRequire = createRequire(join(seedDir, "package.json"));

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const progress = (msg) => process.stderr.write(`seed-bench: ${msg}\n`);

class UsageError extends Error {}

// ---- arguments -------------------------------------------------------------------------

const WORKLOADS = ["register", "setup", "load", "latency", "speech"];

function parseArgs(argv) {
  const opts = { count: null, calls: 16, seconds: 30, rawMic: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
      return argv[++i];
    };
    const number = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number`);
      return n;
    };
    switch (flag) {
      case "--sipinfo": opts.sipinfo = value(); break;
      case "--ca": opts.ca = value(); break;
      case "--workload": opts.workload = value(); break;
      case "--count": opts.count = Math.round(number()); break;
      case "--calls": opts.calls = Math.round(number()); break;
      case "--seconds": opts.seconds = number(); break;
      case "--speech": opts.speech = value(); break;
      case "--to": opts.to = value(); break;
      case "--out": opts.out = value(); break;
      case "--mic-processing": {
        const v = value();
        if (v !== "default" && v !== "off") throw new UsageError("--mic-processing is default or off");
        opts.rawMic = v === "off";
        break;
      }
      case "--verbose": opts.verbose = true; break;
      default: throw new UsageError(`unknown argument ${flag}`);
    }
  }
  // --count: registrations or calls (default 50), or clicks for latency (default 10).
  opts.count ??= opts.workload === "latency" ? 10 : 50;
  if (!opts.sipinfo) throw new UsageError("--sipinfo FILE is required");
  if (!WORKLOADS.includes(opts.workload)) throw new UsageError(`--workload must be one of ${WORKLOADS.join(", ")}`);
  if (opts.workload === "speech" && !opts.speech) throw new UsageError("--workload speech needs --speech WAV");
  // Chromium cannot be given a CA here; it ignores certificate errors instead (rc-sim only).
  if (opts.ca && !existsSync(opts.ca)) throw new UsageError(`--ca ${opts.ca}: no such file`);
  return opts;
}

// ---- WAV files ---------------------------------------------------------------------------

function wavBytes(samples, rate) {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const header = Buffer.alloc(44);
  header.write("RIFF", 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8);
  header.write("fmt ", 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

// The fake microphone's tone: 1 kHz, 48 kHz mono 16-bit, amplitude 0.3, 10 s (a whole number
// of periods, so Chromium's looping is seamless).
function writeTone(path) {
  const rate = 48000;
  const samples = new Int16Array(rate * 10);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * 1000 * i) / rate));
  writeFileSync(path, wavBytes(samples, rate));
}

// Format and duration of a PCM WAV file.
function wavInfo(path) {
  const b = readFileSync(path);
  if (b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE") throw new Error(`${path}: not a WAV file`);
  let fmt = null;
  for (let at = 12; at + 8 <= b.length; ) {
    const id = b.toString("ascii", at, at + 4);
    const size = b.readUInt32LE(at + 4);
    if (id === "fmt ") fmt = { channels: b.readUInt16LE(at + 10), rate: b.readUInt32LE(at + 12), bits: b.readUInt16LE(at + 22) };
    if (id === "data" && fmt) {
      const bytes = Math.min(size, b.length - at - 8);
      return { ...fmt, durationMs: (bytes / (fmt.rate * fmt.channels * (fmt.bits / 8))) * 1000 };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error(`${path}: no fmt/data chunk`);
}

// ---- helpers -------------------------------------------------------------------------------

function withTimeout(promise, ms, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms / 1000)} s waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Fails fast and clearly when rc-sim is not listening.
function checkReachable(hostPort) {
  const at = hostPort.lastIndexOf(":");
  const host = hostPort.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(hostPort.slice(at + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const fail = (why) => { socket.destroy(); reject(new Error(`rc-sim is not reachable at ${hostPort} (outboundProxy of the sipInfo): ${why}`)); };
    socket.setTimeout(3000, () => fail("no answer in 3 s"));
    socket.once("error", (e) => fail(e.code || e.message));
    socket.once("connect", () => { socket.end(); resolve(); });
  });
}

// The browser's main process: our child whose command line is Chromium's (the Debian
// /usr/bin/chromium wrapper execs the real binary, keeping its pid).
function chromiumPid() {
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync(`/proc/${name}/cmdline`, "utf8").includes("chromium")) return Number(name);
    } catch {
      // The process went away meanwhile.
    }
  }
  return null;
}

// Errors thrown in the page arrive as "page.evaluate: Error: ..." with a stack: keep the message.
function cleanMessage(e) {
  const text = String(e && e.message ? e.message : e);
  return text.replace(/^page\.evaluate: (Error: )?/, "").split("\n    at ")[0].trim();
}

// ---- the browser ---------------------------------------------------------------------------

let browser = null;
let server = null;
let browserPid = null;

async function launch(fakeAudio, verbose) {
  const { chromium } = seedRequire("playwright-core");
  const args = [
    ...CHROMIUM_FLAGS,
    `--use-file-for-fake-audio-capture=${fakeAudio}`,
    // A foreground tab in a real browser is not throttled either.
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
  ];
  // A PulseAudio server in the environment breaks WebAudio in headless Chromium: without one,
  // Chromium uses its own (fake) audio output, which still plays and decodes received audio.
  const env = { ...process.env };
  delete env.XDG_RUNTIME_DIR;
  delete env.PULSE_SERVER;
  browser = await withTimeout(chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true, args, env }), 60000, "Chromium to start");
  browserPid = chromiumPid();
  const context = await browser.newContext({ permissions: ["microphone"] });
  const page = await context.newPage();
  await page.exposeFunction("benchLog", (msg) => progress(`page: ${msg}`));
  page.on("pageerror", (e) => progress(`page error: ${e}`));
  if (verbose) page.on("console", (m) => progress(`console: ${m.text()}`));
  return page;
}

// Closes Chromium (killing its process group if it does not close) and the HTTP server.
async function shutdown() {
  if (browser) {
    const b = browser;
    browser = null;
    try {
      await withTimeout(b.close(), 15000, "Chromium to close");
    } catch {
      if (browserPid) {
        try { process.kill(-browserPid, "SIGKILL"); } catch { try { process.kill(browserPid, "SIGKILL"); } catch {} }
      }
    }
  }
  server?.close();
  server = null;
}

// ---- workloads -----------------------------------------------------------------------------

// Runs bench[fn](args) in the page, with a timeout on this side too.
function inPage(page, fn, args, ms) {
  return withTimeout(page.evaluate(([f, a]) => window.bench[f](a), [fn, args]), ms, `the page's ${fn}`);
}

async function run(opts) {
  const sipInfo = JSON.parse(readFileSync(opts.sipinfo, "utf8"));
  if (!sipInfo.outboundProxy) throw new Error(`${opts.sipinfo}: no outboundProxy`);
  const out = resolve(opts.out ?? join(tmpdir(), "seed-bench")); // the tone WAV, the recording
  mkdirSync(out, { recursive: true });

  let fakeAudio;
  let speech = null;
  if (opts.workload === "speech") {
    speech = wavInfo(opts.speech);
    if (speech.rate !== 48000 || speech.channels !== 1 || speech.bits !== 16) progress(`warning: ${opts.speech} is ${speech.rate} Hz, ${speech.channels} channel(s), ${speech.bits}-bit; 48 kHz mono 16-bit expected`);
    // Played once, then silence (Chromium's "%noloop" suffix).
    fakeAudio = `${resolve(opts.speech)}%noloop`;
  } else {
    fakeAudio = join(out, "tone-1000hz-48k.wav");
    writeTone(fakeAudio);
  }

  await checkReachable(sipInfo.outboundProxy);
  // The page lives outside the harness folder: its imports resolve from there.
  const script = await bundlePage(join(here, "seed-bench-page.js"), { absWorkingDir: here, nodePaths: [join(seedDir, "node_modules")] });
  let origin;
  ({ server, origin } = await servePage(script, "seed bench"));
  const page = await launch(fakeAudio, opts.verbose);
  await withTimeout(page.goto(origin), 30000, "the page to load");
  await withTimeout(page.waitForFunction(() => window.bench !== undefined), 10000, "the page script");
  emit({ event: "ready", chromiumPid: browserPid });
  const common = { workload: opts.workload, sdk: "ringcentral-web-phone 2.5.4", chromium: browser.version() };

  switch (opts.workload) {
    case "register": {
      progress(`register x${opts.count}`);
      const r = await inPage(page, "register", { sipInfo, count: opts.count }, 30000 + 25000 * opts.count);
      return { ...common, count: opts.count, ...r };
    }
    case "setup": {
      progress(`setup x${opts.count}`);
      const r = await inPage(page, "setup", { sipInfo, count: opts.count }, 40000 + 45000 * opts.count);
      return { ...common, count: opts.count, ...r };
    }
    case "load": {
      progress(`load: ${opts.calls} calls`);
      const started = await inPage(page, "loadStart", { sipInfo, calls: opts.calls }, 60000 + 5000 * opts.calls);
      await inPage(page, "loadSnapshot", { name: "start" }, 10000);
      emit({ event: "window-start" });
      await sleep(opts.seconds * 1000);
      emit({ event: "window-end" });
      await inPage(page, "loadSnapshot", { name: "end" }, 10000);
      const ended = await inPage(page, "loadEnd", {}, 30000 + 2000 * opts.calls);
      return { ...common, calls: opts.calls, seconds: opts.seconds, ...started, ...ended };
    }
    case "latency": {
      const clicks = opts.count;
      const r = await inPage(page, "latency", { sipInfo, clicks, periodS: 1 }, 60000 + 1000 * clicks);
      return { ...common, ...r };
    }
    case "speech": {
      const r = await inPage(page, "speech", { sipInfo, durationMs: speech.durationMs, rawMic: opts.rawMic, callee: opts.to }, speech.durationMs + 90000);
      const bytes = Buffer.from(r.pcm, "base64");
      const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      const wav = join(out, "seed-received.wav");
      writeFileSync(wav, wavBytes(samples, r.rate));
      return { ...common, wav, rate: r.rate, seconds: samples.length / r.rate, sentSeconds: speech.durationMs / 1000, micSentAfterMs: r.micSentAfterMs, packetsReceived: r.packetsReceived, micProcessing: opts.rawMic ? "off" : "default (Chromium's echo cancellation, noise suppression and automatic gain on, as the SDK's getUserMedia gets them)" };
    }
  }
}

// ---- main ----------------------------------------------------------------------------------

let finished = false;
async function finish(code, line) {
  if (finished) return;
  finished = true;
  await shutdown().catch(() => {});
  emit(line);
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => finish(signal === "SIGINT" ? 130 : 143, { event: "error", message: `interrupted by ${signal}` }));
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  emit({ event: "error", message: `${e.message}; usage: node bench/seed-bench.mjs --sipinfo FILE --ca CA.pem --workload ${WORKLOADS.join("|")} [--count N] [--calls N] [--seconds S] [--speech WAV] [--to NUMBER] [--mic-processing default|off] [--out DIR] [--verbose]` });
  process.exit(2);
}

try {
  const results = await run(opts);
  await finish(0, { event: "done", ...results });
} catch (e) {
  await finish(1, { event: "error", message: cleanMessage(e) });
}

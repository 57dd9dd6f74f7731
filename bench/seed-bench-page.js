// Runs inside Chromium (bundled by seed-bench.mjs with esbuild): the seed SDK's benchmark
// workloads, one function per workload on window.bench. Every wait has a timeout.
import WebPhone from "ringcentral-web-phone";

const ECHO = "600"; // rc-sim's echo bot: sends back what it hears
const FIRST_AUDIO_THRESHOLD = 0.05; // peak level (full scale 1.0) that counts as echoed tone
const CLICK_THRESHOLD = 0.1; // peak level that counts as an echoed click

const log = (msg) => window.benchLog?.(String(msg));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Set when a phone's WebSocket closed while the phone was in use: why waits time out. */
let connectionLost = null;

function withTimeout(promise, ms, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}${connectionLost ? ` (${connectionLost})` : ""}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

// AudioWorklet processors, loaded from a Blob URL.
const WORKLETS = `
// Posts the context time of the first sample whose magnitude reaches a threshold; with
// 'repeat', keeps going, ignoring 'holdSeconds' after each onset. Counts from 'armAt'.
class Onset extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.threshold = o.threshold;
    this.holdFrames = Math.round(o.holdSeconds * sampleRate);
    this.armFrame = Math.round((o.armAt || 0) * sampleRate);
    this.repeat = o.repeat;
    this.lastFrame = -Infinity;
    this.stopped = false;
    this.port.onmessage = (e) => { if (e.data.stop) this.stopped = true; };
  }
  process(inputs) {
    if (this.stopped) return false;
    const x = inputs[0][0];
    if (!x) return true;
    for (let i = 0; i < x.length; i++) {
      const frame = currentFrame + i;
      if (Math.abs(x[i]) < this.threshold || frame < this.armFrame || frame - this.lastFrame < this.holdFrames) continue;
      this.lastFrame = frame;
      this.port.postMessage({ frame, time: frame / sampleRate, level: x[i] });
      if (!this.repeat) { this.stopped = true; return false; }
    }
    return true;
  }
}
registerProcessor("onset", Onset);

// Records exactly 'frames' samples of its input (silence while it has none), in 4096-sample chunks.
class Recorder extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.remaining = options.processorOptions.frames;
    this.chunk = new Float32Array(4096);
    this.fill = 0;
    this.startFrame = currentFrame;
  }
  flush() {
    if (this.fill > 0) this.port.postMessage(this.chunk.slice(0, this.fill));
    this.fill = 0;
  }
  process(inputs) {
    const x = inputs[0][0];
    const n = x ? x.length : 128;
    for (let i = 0; i < n && this.remaining > 0; i++, this.remaining--) {
      this.chunk[this.fill++] = x ? x[i] : 0;
      if (this.fill === this.chunk.length) this.flush();
    }
    if (this.remaining > 0) return true;
    this.flush();
    this.port.postMessage({ done: true, startFrame: this.startFrame });
    return false;
  }
}
registerProcessor("recorder", Recorder);
`;
const workletUrl = URL.createObjectURL(new Blob([WORKLETS], { type: "text/javascript" }));

// One AudioContext per workload at 48 kHz, with a silent sink that keeps taps pulled.
async function newContext() {
  const ctx = new AudioContext({ sampleRate: 48000, latencyHint: "interactive" });
  await withTimeout(ctx.audioWorklet.addModule(workletUrl), 5000, "AudioWorklet module");
  await withTimeout(ctx.resume(), 5000, "AudioContext resume");
  ctx.sink = ctx.createGain();
  ctx.sink.gain.value = 0;
  ctx.sink.connect(ctx.destination);
  return ctx;
}

// Watches a track for onsets (see the Onset worklet); onOnset(message, performance.now()).
function watchOnset(ctx, track, { threshold, holdSeconds = 0.3, repeat = false, armAt = 0, onOnset }) {
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const node = new AudioWorkletNode(ctx, "onset", {
    numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
    processorOptions: { threshold, holdSeconds, repeat, armAt },
  });
  node.port.onmessage = (e) => onOnset(e.data, performance.now());
  source.connect(node);
  node.connect(ctx.sink);
  return {
    stop() {
      node.port.postMessage({ stop: true });
      source.disconnect();
      node.disconnect();
    },
  };
}

// Readable text for SDK failures, some of which are DOM Events (a WebSocket's 'error').
function describe(e, sipInfo) {
  if (e instanceof Error) return e.message;
  if (e && e.type === "error" && e.target instanceof WebSocket) return `WebSocket to ${e.target.url} failed (is rc-sim running at ${sipInfo.outboundProxy}?)`;
  return String(e);
}

function wsClosed(ws) {
  if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((r) => ws.addEventListener("close", r, { once: true }));
}

// A registered WebPhone: start() is WebSocket connect + REGISTER/401/REGISTER/200.
async function startPhone(sipInfo) {
  const phone = new WebPhone({ sipInfo });
  try {
    await withTimeout(phone.start().catch((e) => { throw new Error(describe(e, sipInfo)); }), 10000, "registration");
  } catch (e) {
    phone.sipClient.wsc?.close();
    throw e;
  }
  watchConnection(phone);
  return phone;
}

// Notes a WebSocket that closes before the phone is disposed (rc-sim went away).
function watchConnection(phone) {
  const ws = phone.sipClient.wsc;
  ws.addEventListener("close", (e) => {
    if (phone.disposed) return;
    connectionLost = `the WebSocket to ${ws.url} closed (code ${e.code}): is rc-sim still running?`;
    log(connectionLost);
  });
}

// Fully disposed: unregistered (REGISTER expires=0 answered) and the WebSocket closed.
async function stopPhone(phone) {
  await withTimeout(phone.dispose(), 10000, "unregistration");
  await withTimeout(wsClosed(phone.sipClient.wsc), 5000, "WebSocket close");
}

// Plays a session's received audio in an attached <audio> element: Chromium decodes received
// audio only while something plays it (as an app's speaker would).
function playRemote(session) {
  const receiver = session.rtcPeerConnection.getReceivers().find((r) => r.track && r.track.kind === "audio");
  const el = document.createElement("audio");
  el.srcObject = new MediaStream([receiver.track]);
  document.body.appendChild(el);
  el.play().catch((e) => log(`<audio> play: ${e}`));
  return { track: receiver.track, el };
}

// Calls `callee`. Times are in ms from just before webPhone.call(): `answeredMs` at the
// session's 'answered' event (200 OK received), `connectedMs` when the peer connection is
// 'connected' (ICE + DTLS), `firstAudioMs` when the received audio first reaches
// FIRST_AUDIO_THRESHOLD (only with `watch`).
function dial(phone, ctx, { watch = true, callee = ECHO } = {}) {
  const t0 = performance.now();
  const called = phone.call(callee);
  // call() pushes the session synchronously before its first await.
  const session = phone.callSessions[phone.callSessions.length - 1];
  const call = { session, t0, answeredMs: null, connectedMs: null, firstAudioMs: null, player: null, watch: null };
  call.answered = new Promise((resolve, reject) => {
    session.on("answered", () => { call.answeredMs = performance.now() - t0; resolve(); });
    session.on("failed", (reason) => reject(new Error(`call to ${callee} failed: ${reason}`)));
    called.catch((e) => reject(new Error(`call to ${callee}: ${describe(e, phone.sipInfo)}`)));
  });
  call.called = called;
  call.disposed = new Promise((r) => session.on("disposed", r));
  // The audio receiver exists right after init() adds the microphone track, which follows
  // 'mediaStreamSet' synchronously: start playing (and watching) it then.
  call.ready = new Promise((resolve) => {
    session.on("mediaStreamSet", () => queueMicrotask(() => {
      call.player = playRemote(session);
      const pc = session.rtcPeerConnection;
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState === "connected" && call.connectedMs === null) call.connectedMs = performance.now() - t0;
      });
      resolve();
    }));
  });
  call.firstAudio = !watch ? null : call.ready.then(() => new Promise((resolve) => {
    call.watch = watchOnset(ctx, call.player.track, {
      threshold: FIRST_AUDIO_THRESHOLD,
      onOnset: (_, now) => { call.firstAudioMs = now - t0; call.watch.stop(); call.watch = null; resolve(); },
    });
  }));
  return call;
}

// Waits for a call's 200 OK, its ACK and (if watched) the first echoed audio.
async function established(call, ms) {
  await withTimeout(call.answered, ms, "the call to be answered");
  await withTimeout(call.called, 5000, "the ACK");
  if (call.firstAudio) await withTimeout(call.firstAudio, ms, "echoed audio");
}

// Hangs up (BYE, 200 OK) and waits for the session's 'disposed'; stops our playback.
async function hangUp(call) {
  call.watch?.stop();
  if (call.session.state !== "disposed") await withTimeout(call.session.hangup(), 5000, "the BYE's answer");
  await withTimeout(call.disposed, 5000, "the session's 'disposed'");
  if (call.player) {
    call.player.el.srcObject = null;
    call.player.el.remove();
  }
}

// Receive and send counters of a session's audio (getStats).
async function rtpStats(session) {
  const out = { bytesReceived: 0, packetsReceived: 0, packetsLost: 0, totalAudioEnergy: 0, totalSamplesDuration: 0, concealedSamples: 0, totalSamplesReceived: 0, bytesSent: 0, packetsSent: 0 };
  (await session.rtcPeerConnection.getStats()).forEach((s) => {
    if (s.kind !== "audio") return;
    if (s.type === "inbound-rtp") {
      for (const k of ["bytesReceived", "packetsReceived", "packetsLost", "totalAudioEnergy", "totalSamplesDuration", "concealedSamples", "totalSamplesReceived"]) out[k] += s[k] ?? 0;
    }
    if (s.type === "outbound-rtp") {
      out.bytesSent += s.bytesSent ?? 0;
      out.packetsSent += s.packetsSent ?? 0;
    }
  });
  return out;
}

function audioSender(session) {
  return session.rtcPeerConnection.getSenders().find((s) => s.track && s.track.kind === "audio");
}

// Between two getStats snapshots: what one call received (and sent) in the window.
function windowStats(before, after, seconds) {
  const d = (k) => after[k] - before[k];
  const samples = d("totalSamplesReceived");
  return {
    bytesReceived: d("bytesReceived"),
    packetsReceived: d("packetsReceived"),
    packetsLost: d("packetsLost"),
    bytesSent: d("bytesSent"),
    totalBytesReceived: after.bytesReceived,
    // Level of the decoded audio over the window from getStats' totalAudioEnergy (full scale
    // 1.0): ~0.2 while the echoed tone (amplitude 0.3) keeps coming, ~0 for silence.
    rmsLevel: d("totalSamplesDuration") > 0 ? Math.sqrt(d("totalAudioEnergy") / d("totalSamplesDuration")) : 0,
    concealedRatio: samples > 0 ? d("concealedSamples") / samples : null,
    kbpsReceived: (d("bytesReceived") * 8) / 1000 / seconds,
  };
}

const round = (x) => Math.round(x * 100) / 100;

/** State of the load workload between its steps. */
const load = {};

const bench = {
  // N registrations in this same page, each by a fresh WebPhone; the previous one is fully
  // disposed (unregistered, WebSocket closed) before the next is created.
  async register({ sipInfo, count }) {
    const samplesMs = [];
    for (let i = 0; i < count; i++) {
      const phone = new WebPhone({ sipInfo });
      const t0 = performance.now();
      try {
        await withTimeout(phone.start().catch((e) => { throw new Error(describe(e, sipInfo)); }), 10000, `registration ${i + 1}`);
      } catch (e) {
        phone.sipClient.wsc?.close();
        throw e;
      }
      samplesMs.push(round(performance.now() - t0));
      watchConnection(phone);
      await stopPhone(phone);
    }
    return { samplesMs };
  },

  // One registration, then N calls to the echo bot one after the other.
  async setup({ sipInfo, count }) {
    const ctx = await newContext();
    const phone = await startPhone(sipInfo);
    const answeredMs = [];
    const firstAudioMs = [];
    const connectedMs = [];
    for (let i = 0; i < count; i++) {
      const call = dial(phone, ctx);
      await established(call, 15000);
      answeredMs.push(round(call.answeredMs));
      firstAudioMs.push(round(call.firstAudioMs));
      connectedMs.push(round(call.connectedMs));
      await hangUp(call);
    }
    await stopPhone(phone);
    await ctx.close();
    return { answeredMs, connectedMs, firstAudioMs };
  },

  // Load, step 1: N concurrent calls to the echo bot, resolved once every call receives its
  // echoed tone. Then the taps stop and the AudioContext closes: during the window only the
  // SDK and the <audio> playback of each call run.
  async loadStart({ sipInfo, calls }) {
    const ctx = await newContext();
    load.phone = await startPhone(sipInfo);
    load.calls = [];
    for (let i = 0; i < calls; i++) load.calls.push(dial(load.phone, ctx));
    const t0 = performance.now();
    await Promise.all(load.calls.map((c) => established(c, 30000 + 2000 * calls)));
    const allFlowingMs = round(performance.now() - t0);
    await ctx.close();
    return { allFlowingMs, answeredMs: load.calls.map((c) => round(c.answeredMs)), firstAudioMs: load.calls.map((c) => round(c.firstAudioMs)) };
  },
  // Load, step 2 and 3: counters at the window's start and end.
  async loadSnapshot({ name }) {
    load[name] = { at: performance.now(), stats: await Promise.all(load.calls.map((c) => rtpStats(c.session))) };
    return {};
  },
  // Load, step 4: per-call figures for the window, then hang up everything.
  async loadEnd() {
    const seconds = (load.end.at - load.start.at) / 1000;
    const perCall = load.calls.map((_, i) => windowStats(load.start.stats[i], load.end.stats[i], seconds));
    await Promise.all(load.calls.map(hangUp));
    await stopPhone(load.phone);
    return { inboundBytesPerCall: perCall.map((c) => c.bytesReceived), perCall, statsIntervalS: round(seconds) };
  },

  // Mouth-to-ear through the echo bot with a WebAudio click train (see `method` below).
  async latency({ sipInfo, clicks, periodS }) {
    const ctx = await newContext();
    const phone = await startPhone(sipInfo);
    const call = dial(phone, ctx);
    await established(call, 15000); // the fake microphone's tone comes back: media is up
    // A 2 kHz oscillator gated open for 5 ms every period, into a track that replaces the mic.
    const osc = ctx.createOscillator();
    osc.frequency.value = 2000;
    const gate = ctx.createGain();
    gate.gain.value = 0;
    const clickTrack = ctx.createMediaStreamDestination();
    osc.connect(gate).connect(clickTrack);
    osc.start();
    await withTimeout(audioSender(call.session).replaceTrack(clickTrack.stream.getAudioTracks()[0]), 5000, "replaceTrack");
    // The first click 1 s later, when the echo of the tone has drained.
    const first = ctx.currentTime + 1.0;
    const emitted = [];
    for (let k = 0; k < clicks; k++) {
      const t = first + k * periodS;
      gate.gain.setValueAtTime(0.5, t);
      gate.gain.setValueAtTime(0, t + 0.005);
      emitted.push(t);
    }
    const detected = [];
    const watch = watchOnset(ctx, call.player.track, {
      threshold: CLICK_THRESHOLD, holdSeconds: 0.3, repeat: true, armAt: first,
      onOnset: (m) => detected.push(m.time),
    });
    const end = emitted[emitted.length - 1] + periodS;
    await withTimeout((async () => { while (ctx.currentTime < end) await sleep(50); })(), (end - ctx.currentTime + 10) * 1000, "the click train");
    watch.stop();
    osc.stop();
    // Each click's echo: the first onset after it and before the next click.
    const samplesMs = [];
    let missed = 0;
    for (const t of emitted) {
      const d = detected.find((x) => x >= t && x < t + periodS * 0.95);
      if (d === undefined) missed++;
      else samplesMs.push(round((d - t) * 1000));
    }
    await hangUp(call);
    await stopPhone(phone);
    await ctx.close();
    const notes = [];
    if (missed) notes.push(`${missed} of ${clicks} clicks not detected within ${periodS * 950} ms`);
    if (detected.length > samplesMs.length) notes.push(`${detected.length - samplesMs.length} onsets matched no click`);
    return {
      samplesMs,
      clicksSent: clicks,
      method: `${clicks} clicks (2 kHz, 5 ms, amplitude 0.5, every ${periodS} s) scheduled with AudioParam automation into a MediaStreamAudioDestinationNode whose track replaced the microphone (RTCRtpSender.replaceTrack); the echoed remote track, played by an <audio> element, is tapped by a MediaStreamAudioSourceNode into an AudioWorklet onset detector (|x| >= ${CLICK_THRESHOLD}) in the same AudioContext (48 kHz); delay = detection time - scheduled time on the AudioContext clock, a round trip (out to rc-sim and back), not a one-way delay. Includes WebAudio-to-WebRTC buffering, Opus encode, RTP on loopback, rc-sim's echo bot (decode, queue of up to 200 ms, 20 ms send tick, re-encode), jitter buffer, decode and WebRTC-to-WebAudio buffering; excludes sound-card input/output latency and the microphone's audio processing (the click track bypasses it). Samples change when the echo bot's queue holds more or fewer frames (steps of 20 ms) or Chromium's jitter buffer adapts its delay (other steps).`,
      ...(notes.length ? { note: notes.join("; ") } : {}),
    };
  },

  // Speech through the echo bot (or to `callee`): the fake microphone plays the speech WAV (once, no loop);
  // record what comes back for its duration + 1.5 s. Returns 16-bit PCM in base64.
  // `rawMic` turns off Chromium's microphone processing (echo cancellation, noise
  // suppression, automatic gain), which the SDK leaves on.
  async speech({ sipInfo, durationMs, rawMic, callee = ECHO }) {
    const ctx = await newContext();
    const phone = await startPhone(sipInfo);
    const call = dial(phone, ctx, { watch: false, callee });
    await established(call, 15000);
    await withTimeout(call.ready, 5000, "the audio receiver");
    // Media is up once echo bot packets arrive (it sends silence until it hears something);
    // a bot that only listens (voicemail) sends nothing, so there our own packets must flow.
    const flowing = (s) => (callee === ECHO ? s.packetsReceived : s.packetsSent) >= 25;
    await withTimeout((async () => { while (!flowing(await rtpStats(call.session))) await sleep(20); })(), 10000, `RTP with ${callee}`);
    // The SDK's microphone track already played part of the file. Disable it (the sender
    // then encodes silence, flushing what it buffered) and let the echo drain; then stop it
    // (Chromium would otherwise share its capture) and capture afresh, so the file plays from
    // its start.
    const sender = audioSender(call.session);
    sender.track.enabled = false;
    await sleep(800);
    sender.track.stop();
    const frames = Math.round(((durationMs + 1500) / 1000) * ctx.sampleRate);
    const chunks = [];
    let recorded;
    const done = new Promise((r) => { recorded = r; });
    const source = ctx.createMediaStreamSource(new MediaStream([call.player.track]));
    const recorder = new AudioWorkletNode(ctx, "recorder", { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], processorOptions: { frames } });
    recorder.port.onmessage = (e) => (e.data instanceof Float32Array ? chunks.push(e.data) : recorded(e.data));
    source.connect(recorder);
    recorder.connect(ctx.sink);
    const t0 = performance.now();
    const audio = { deviceId: { exact: call.session.inputDeviceId } }; // as the SDK asks
    if (rawMic) Object.assign(audio, { echoCancellation: false, noiseSuppression: false, autoGainControl: false });
    const mic = await withTimeout(navigator.mediaDevices.getUserMedia({ video: false, audio }), 5000, "getUserMedia");
    await withTimeout(sender.replaceTrack(mic.getAudioTracks()[0]), 5000, "replaceTrack");
    const micSentAfterMs = round(performance.now() - t0);
    await withTimeout(done, durationMs + 15000, "the recording");
    source.disconnect();
    recorder.disconnect();
    mic.getTracks().forEach((t) => t.stop());
    const level = await rtpStats(call.session);
    await hangUp(call);
    await stopPhone(phone);
    const rate = ctx.sampleRate;
    await ctx.close();
    // Float32 -> 16-bit little-endian PCM -> base64.
    const pcm = new Int16Array(frames);
    let at = 0;
    for (const c of chunks) for (let i = 0; i < c.length && at < frames; i++) pcm[at++] = Math.max(-32768, Math.min(32767, Math.round(c[i] * 32767)));
    const bytes = new Uint8Array(pcm.buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return { rate, frames: at, micSentAfterMs, packetsReceived: level.packetsReceived, pcm: btoa(binary) };
  },
};

window.bench = bench;

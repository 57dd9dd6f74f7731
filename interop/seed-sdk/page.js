// Runs inside Chromium: one seed-SDK WebPhone per page, driven by harness.mjs.
import WebPhone from "ringcentral-web-phone";

const sessions = [];
let webPhone;

function emit(event) {
  window.harnessEvent(JSON.stringify(event));
}

function track(session) {
  const id = sessions.push(session) - 1;
  for (const name of ["ringing", "answered", "disposed"]) {
    session.on(name, () => emit({ event: name, session: id }));
  }
  session.on("failed", (reason) => emit({ event: "failed", session: id, reason }));
  return id;
}

function session(id) {
  const s = sessions[id];
  if (!s) throw new Error(`no session ${id}`);
  return s;
}

// Dominant frequency of what a session receives. Chromium decodes received audio only while
// something plays it, so the remote track plays in an attached <audio> element; WebAudio taps
// the samples; the Goertzel algorithm scans 100 Hz to 4 kHz.
async function listen(id, ms) {
  const pc = session(id).rtcPeerConnection;
  const receiver = pc.getReceivers().find((r) => r.track && r.track.kind === "audio");
  const el = document.createElement("audio");
  el.srcObject = new MediaStream([receiver.track]);
  document.body.appendChild(el);
  let playError = null;
  await el.play().catch((e) => { playError = String(e); });
  const ctx = new AudioContext();
  await ctx.resume();
  const src = ctx.createMediaStreamSource(new MediaStream([receiver.track]));
  const tap = ctx.createScriptProcessor(4096, 1, 1);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  const chunks = [];
  tap.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
  src.connect(tap);
  tap.connect(mute);
  mute.connect(ctx.destination);
  await new Promise((r) => setTimeout(r, ms));
  const rate = ctx.sampleRate;
  src.disconnect();
  ctx.close();
  const samples = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { samples.set(c, at); at += c.length; }
  const power = (f) => {
    const k = 2 * Math.cos((2 * Math.PI * f) / rate);
    let s1 = 0, s2 = 0;
    for (let i = 0; i < samples.length; i++) { const s0 = samples[i] + k * s1 - s2; s2 = s1; s1 = s0; }
    return s1 * s1 + s2 * s2 - k * s1 * s2;
  };
  let best = 0, bestPower = -1, total = 0, count = 0;
  for (let f = 100; f <= 4000; f += 10) {
    const p = power(f);
    total += p; count++;
    if (p > bestPower) { bestPower = p; best = f; }
  }
  const rms = Math.sqrt(samples.reduce((a, v) => a + v * v, 0) / Math.max(1, samples.length));
  el.remove();
  return { frequency: best, peakOverMean: bestPower / (total / count || 1), rms, samples: samples.length, playError };
}

async function stats(id) {
  const report = await session(id).rtcPeerConnection.getStats();
  const out = { bytesReceived: 0, bytesSent: 0, packetsReceived: 0 };
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.bytesReceived += s.bytesReceived;
      out.packetsReceived += s.packetsReceived;
    }
    if (s.type === "outbound-rtp" && s.kind === "audio") out.bytesSent += s.bytesSent;
    if (s.type === "inbound-rtp" && s.kind === "audio") {
      out.audioLevel = s.audioLevel;
      out.totalAudioEnergy = s.totalAudioEnergy;
      out.totalSamplesReceived = s.totalSamplesReceived;
    }
    if (s.type === "media-source" && s.kind === "audio") out.sourceAudioLevel = s.audioLevel;
  });
  return out;
}

/** Warm transfers in progress, by index. */
const warmTransfers = [];

const ops = {
  async start({ sipInfo, options }) {
    webPhone = new WebPhone({ sipInfo, ...options });
    webPhone.on("inboundCall", (s) => {
      const id = track(s);
      emit({ event: "inboundCall", session: id, remoteNumber: s.remoteNumber, sessionId: s.sessionId, partyId: s.partyId, rcApiCallInfo: s.rcApiCallInfo });
    });
    webPhone.on("outboundCall", () => emit({ event: "outboundCall" }));
    webPhone.sipClient.on("inboundMessage", (m) => emit({ event: "sip", subject: m.subject }));
    await webPhone.start();
    return {};
  },
  async call({ callee, callerId, headers }) {
    const p = webPhone.call(callee, callerId, headers ? { headers } : undefined);
    // call() resolves when the call is set up; report the session as soon as it exists.
    const s = webPhone.callSessions[webPhone.callSessions.length - 1];
    const id = track(s);
    p.catch((e) => emit({ event: "error", session: id, message: String(e) }));
    return { session: id };
  },
  answer: ({ session: id }) => session(id).answer(),
  decline: ({ session: id }) => session(id).decline(),
  toVoicemail: ({ session: id }) => session(id).toVoicemail(),
  forward: ({ session: id, target }) => session(id).forward(target),
  startReply: ({ session: id }) => session(id).startReply(),
  async reply({ session: id, text }) {
    const msg = await session(id).reply(text);
    return { headers: msg.headers, body: msg.body };
  },
  hold: ({ session: id }) => session(id).hold(),
  unhold: ({ session: id }) => session(id).unhold(),
  mute: ({ session: id }) => session(id).mute(),
  unmute: ({ session: id }) => session(id).unmute(),
  sendDtmf: ({ session: id, digits }) => session(id).sendDtmf(digits),
  transfer: ({ session: id, target }) => session(id).transfer(target),
  hangup: ({ session: id }) => session(id).hangup(),
  cancel: ({ session: id }) => session(id).cancel(),
  startRecording: ({ session: id }) => session(id).startRecording(),
  stopRecording: ({ session: id }) => session(id).stopRecording(),
  flip: ({ session: id, target }) => session(id).flip(target),
  park: ({ session: id }) => session(id).park(),
  // warmTransfer() holds the call, calls the target and resolves once the target answers.
  async warmTransfer({ session: id, target }) {
    const t = await session(id).warmTransfer(target);
    const tid = warmTransfers.push(t) - 1;
    return { transfer: tid, session: track(t.newSession) };
  },
  completeWarmTransfer: ({ transfer }) => warmTransfers[transfer].complete(),
  cancelWarmTransfer: ({ transfer }) => warmTransfers[transfer].cancel(),
  state: ({ session: id }) => ({ state: session(id).state }),
  stats: ({ session: id }) => stats(id),
  async rawStats({ session: id }) {
    const pc = session(id).rtcPeerConnection;
    const out = [];
    (await pc.getStats()).forEach((s) => out.push(s));
    return { stats: out, remote: pc.remoteDescription && pc.remoteDescription.sdp, state: pc.connectionState };
  },
  listen: ({ session: id, ms }) => listen(id, ms ?? 1500),
  dispose: () => webPhone.dispose(),
};

window.harnessRun = async (json) => {
  const { op, args } = JSON.parse(json);
  if (!ops[op]) throw new Error(`unknown op ${op}`);
  const result = await ops[op](args ?? {});
  return JSON.stringify(result ?? {});
};

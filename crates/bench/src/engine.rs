//! `bench-engine`: our engine's side of each benchmark workload, in a process of its own.
//!
//! `bench-engine --sipinfo FILE --ca PEM --workload W [--count N] [--calls N] [--seconds S]
//! [--speech WAV] [--to NUMBER] [--out DIR] [--mic-processing default|off]`, workloads as in `bench/seed-bench.mjs`:
//! * `register`: N times `WebPhone::start` (WebSocket + TLS connect, REGISTER, 401, REGISTER,
//!   200) timed, then dispose;
//! * `setup`: N calls to the echo bot 600: dial → 200 OK, and dial → first echoed audio played;
//! * `load`: `--calls` concurrent echo calls held for `--seconds` between window events;
//! * `latency`: clicks sent to the echo bot, timed from our microphone to our speaker;
//! * `speech`: a speech WAV sent to the echo bot (or `--to` another number, e.g. the voicemail
//!   bot 603, which records it), what comes back written to `OUT/engine-received.wav`.
//!
//! Audio goes through [`BenchAudio`], test "devices" that stamp what they read and hear; the
//! times exclude real sound cards' buffers (none here), the same for the Chromium side.

use bench::{emit, Flags};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use webphone::audio::{AudioError, AudioIo, AudioSink, AudioSource, FRAME, SAMPLE_RATE};
use webphone::{CallEvent, CallSession, Dial, Options, PhoneEvent, SipInfo, WebPhone};

/// How long any one step may take before the workload fails.
const STEP: Duration = Duration::from_secs(20);
/// A frame louder than this (peak) is sound, not silence or comfort noise.
const SOUND: u16 = 2000;
/// Frames between clicks (1 s).
const CLICK_EVERY: u64 = 50;

/// What the microphone plays.
#[derive(Clone)]
enum Play {
    /// A steady 1 kHz tone.
    Tone,
    /// Once armed, a 5 ms 2 kHz click every second.
    Clicks,
    /// Once armed, these samples, then silence.
    Speech(Arc<Vec<i16>>),
}

/// What the test devices saw, shared by every source and sink they opened.
struct Probe {
    play: Play,
    tone_frame: Vec<i16>,
    armed: AtomicBool,
    first_sound: Mutex<Option<Instant>>,
    sound: Notify,
    sinks_with_sound: AtomicUsize,
    clicks_sent: Mutex<Vec<Instant>>,
    clicks_heard: Mutex<Vec<Instant>>,
    recording: Mutex<Vec<i16>>,
}

impl Probe {
    fn new(play: Play) -> Arc<Probe> {
        let mut tone_frame = vec![0; FRAME];
        fill_sine(&mut tone_frame, 1000.0, 8000.0, 0, FRAME);
        Arc::new(Probe {
            play,
            tone_frame,
            armed: AtomicBool::new(false),
            first_sound: Mutex::new(None),
            sound: Notify::new(),
            sinks_with_sound: AtomicUsize::new(0),
            clicks_sent: Mutex::new(Vec::new()),
            clicks_heard: Mutex::new(Vec::new()),
            recording: Mutex::new(Vec::new()),
        })
    }

    /// Forgets the first sound, for the next call.
    fn reset_first_sound(&self) {
        *self.first_sound.lock().unwrap() = None;
    }

    /// Waits until some sink played sound; returns when.
    async fn wait_first_sound(&self) -> Result<Instant, String> {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let notified = self.sound.notified();
            if let Some(t) = *self.first_sound.lock().unwrap() {
                return Ok(t);
            }
            tokio::time::timeout_at(deadline, notified).await.map_err(|_| "no echoed audio within 20 s".to_owned())?;
        }
    }
}

/// Test audio "devices" playing [`Play`] and watching what they hear.
struct BenchAudio(Arc<Probe>);

struct Source {
    probe: Arc<Probe>,
    frames: u64,
    played: usize,
}

impl AudioSource for Source {
    fn read(&mut self, frame: &mut [i16]) {
        let n = self.frames;
        self.frames += 1;
        frame.fill(0);
        let armed = self.probe.armed.load(Ordering::Relaxed);
        match &self.probe.play {
            // 1 kHz repeats every 48 samples, so every 20 ms frame is the same: copied, not
            // computed, as a sound card's samples would be.
            Play::Tone => frame.copy_from_slice(&self.probe.tone_frame),
            Play::Clicks if armed && n.is_multiple_of(CLICK_EVERY) => {
                fill_sine(frame, 2000.0, 16000.0, 0, 240);
                self.probe.clicks_sent.lock().unwrap().push(Instant::now());
            }
            Play::Clicks => {}
            Play::Speech(samples) if armed => {
                let end = (self.played + frame.len()).min(samples.len());
                frame[..end - self.played].copy_from_slice(&samples[self.played..end]);
                self.played = end;
            }
            Play::Speech(_) => {}
        }
    }
}

/// Writes `len` samples of a sine at `freq` Hz and `amplitude`, starting at sample `start`.
fn fill_sine(frame: &mut [i16], freq: f64, amplitude: f64, start: u64, len: usize) {
    for (i, s) in frame.iter_mut().take(len).enumerate() {
        let t = (start + i as u64) as f64 / f64::from(SAMPLE_RATE);
        *s = (amplitude * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16;
    }
}

struct Sink {
    probe: Arc<Probe>,
    heard: bool,
    last_click: Option<Instant>,
}

impl AudioSink for Sink {
    fn write(&mut self, frame: &[i16]) {
        let now = Instant::now();
        let peak = frame.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        if peak > SOUND {
            if !self.heard {
                self.heard = true;
                self.probe.sinks_with_sound.fetch_add(1, Ordering::Relaxed);
            }
            let mut first = self.probe.first_sound.lock().unwrap();
            if first.is_none() {
                *first = Some(now);
                self.probe.sound.notify_waiters();
            }
        }
        if matches!(self.probe.play, Play::Clicks) {
            self.detect_click(frame, now);
        }
        if matches!(self.probe.play, Play::Speech(_)) && self.probe.armed.load(Ordering::Relaxed) {
            self.probe.recording.lock().unwrap().extend_from_slice(frame);
        }
    }
}

impl Sink {
    /// Notes when a click starts in `frame` (written at `now`), at most one per half second.
    fn detect_click(&mut self, frame: &[i16], now: Instant) {
        if self.last_click.is_some_and(|t| now.duration_since(t) < Duration::from_millis(500)) {
            return;
        }
        if let Some(at) = frame.iter().position(|s| s.unsigned_abs() > 4000) {
            let onset = now + Duration::from_secs_f64(at as f64 / f64::from(SAMPLE_RATE));
            self.last_click = Some(onset);
            self.probe.clicks_heard.lock().unwrap().push(onset);
        }
    }
}

impl AudioIo for BenchAudio {
    fn open_input(&self, _device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError> {
        Ok(Box::new(Source { probe: self.0.clone(), frames: 0, played: 0 }))
    }

    fn open_output(&self, _device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError> {
        Ok(Box::new(Sink { probe: self.0.clone(), heard: false, last_click: None }))
    }

    fn input_devices(&self) -> Vec<String> {
        vec!["bench-input".into()]
    }

    fn output_devices(&self) -> Vec<String> {
        vec!["bench-output".into()]
    }
}

/// The account and the options every workload starts its phone with.
struct Account {
    info: SipInfo,
    ca: String,
    /// Echo cancellation, noise suppression and gain control of the microphone
    /// (`--mic-processing default` turns them on, as the app has them; off by default).
    processing: media::processing::ProcessingSettings,
}

impl Account {
    async fn phone(&self, probe: &Arc<Probe>) -> Result<WebPhone, String> {
        let mut options = Options::new(Arc::new(BenchAudio(probe.clone())));
        // The probe measures the path (codec, network, jitter buffer): no echo cancellation,
        // noise suppression or gain control on its signals unless asked for.
        options.media.processing = self.processing;
        options.extra_ca_pem = Some(self.ca.clone());
        options.media.bind = vec!["127.0.0.1:0".into()];
        WebPhone::start(self.info.clone(), options).await.map_err(|e| format!("registration failed: {e}"))
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Waits for the event `pick` accepts.
async fn wait_for<T>(events: &mut tokio::sync::broadcast::Receiver<PhoneEvent>, what: &str, mut pick: impl FnMut(&PhoneEvent) -> Option<T>) -> Result<T, String> {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Err(_) => return Err(format!("timed out waiting for {what}")),
            Ok(Ok(e)) => {
                if let Some(t) = pick(&e) {
                    return Ok(t);
                }
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => return Err(format!("events ended waiting for {what}: {e}")),
        }
    }
}

async fn dial_echo(phone: &WebPhone) -> Result<CallSession, String> {
    phone.call(Dial { callee: "600".into(), ..Dial::default() }).await.map_err(|e| format!("dial failed: {e}"))
}

async fn hang_up(call: &CallSession) -> Result<(), String> {
    call.hangup().await.map_err(|e| format!("hang-up failed: {e}"))?;
    call.wait_disposed(STEP).await.map_err(|e| format!("the call did not end: {e}"))
}

async fn register(account: &Account, count: u64) -> Result<serde_json::Value, String> {
    let probe = Probe::new(Play::Tone);
    let mut samples = Vec::new();
    for _ in 0..count {
        let t0 = Instant::now();
        let phone = account.phone(&probe).await?;
        samples.push(ms(t0.elapsed()));
        phone.dispose().await.map_err(|e| format!("dispose failed: {e}"))?;
    }
    Ok(json!({ "samplesMs": samples }))
}

async fn setup(account: &Account, count: u64) -> Result<serde_json::Value, String> {
    let probe = Probe::new(Play::Tone);
    let phone = account.phone(&probe).await?;
    let (mut answered, mut first_audio) = (Vec::new(), Vec::new());
    for _ in 0..count {
        probe.reset_first_sound();
        let mut events = phone.events();
        let t0 = Instant::now();
        let call = dial_echo(&phone).await?;
        let id = call.id();
        wait_for(&mut events, "200 OK", |e| matches!(e, PhoneEvent::Call(c, CallEvent::Answered { .. }) if *c == id).then_some(())).await?;
        answered.push(ms(t0.elapsed()));
        first_audio.push(ms(probe.wait_first_sound().await?.duration_since(t0)));
        hang_up(&call).await?;
    }
    phone.dispose().await.map_err(|e| e.to_string())?;
    Ok(json!({ "answeredMs": answered, "firstAudioMs": first_audio }))
}

async fn load(account: &Account, calls: u64, seconds: u64) -> Result<serde_json::Value, String> {
    let probe = Probe::new(Play::Tone);
    let phone = account.phone(&probe).await?;
    let mut sessions = Vec::new();
    for _ in 0..calls {
        let call = dial_echo(&phone).await?;
        call.wait_answered(STEP).await.map_err(|e| format!("not answered: {e}"))?;
        sessions.push(call);
    }
    let deadline = Instant::now() + STEP;
    while probe.sinks_with_sound.load(Ordering::Relaxed) < calls as usize {
        if Instant::now() > deadline {
            return Err(format!("only {} of {calls} calls have audio", probe.sinks_with_sound.load(Ordering::Relaxed)));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emit(json!({ "event": "window-start" }));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    emit(json!({ "event": "window-end" }));
    for call in &sessions {
        hang_up(call).await?;
    }
    phone.dispose().await.map_err(|e| e.to_string())?;
    Ok(json!({ "callsWithAudio": probe.sinks_with_sound.load(Ordering::Relaxed) }))
}

async fn latency(account: &Account, count: u64) -> Result<serde_json::Value, String> {
    let probe = Probe::new(Play::Clicks);
    let phone = account.phone(&probe).await?;
    let mut events = phone.events();
    let call = dial_echo(&phone).await?;
    let id = call.id();
    wait_for(&mut events, "media", |e| matches!(e, PhoneEvent::MediaConnected(c) if *c == id).then_some(())).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    probe.armed.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(count + 1)).await;
    hang_up(&call).await?;
    phone.dispose().await.map_err(|e| e.to_string())?;
    let sent = probe.clicks_sent.lock().unwrap().clone();
    let heard = probe.clicks_heard.lock().unwrap().clone();
    // Each click heard belongs to the latest click sent before it.
    let samples: Vec<f64> = heard.iter().filter_map(|h| sent.iter().rev().find(|s| *s <= h).map(|s| ms(h.duration_since(*s)))).collect();
    Ok(json!({ "samplesMs": samples, "sent": sent.len(), "heard": heard.len(), "method": "click read from our microphone → played on our speaker, engine clocks" }))
}

async fn speech(account: &Account, wav: &str, out: &str, callee: &str) -> Result<serde_json::Value, String> {
    let (rate, samples) = media::wav::read(std::path::Path::new(wav)).map_err(|e| format!("{wav}: {e}"))?;
    if rate != SAMPLE_RATE {
        return Err(format!("{wav}: {rate} Hz, expected {SAMPLE_RATE}"));
    }
    let length = Duration::from_secs_f64(samples.len() as f64 / f64::from(SAMPLE_RATE));
    let probe = Probe::new(Play::Speech(Arc::new(samples)));
    let phone = account.phone(&probe).await?;
    let mut events = phone.events();
    let call = phone.call(Dial { callee: callee.into(), ..Dial::default() }).await.map_err(|e| format!("dial {callee} failed: {e}"))?;
    let id = call.id();
    wait_for(&mut events, "media", |e| matches!(e, PhoneEvent::MediaConnected(c) if *c == id).then_some(())).await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    probe.armed.store(true, Ordering::Relaxed);
    tokio::time::sleep(length + Duration::from_millis(1500)).await;
    hang_up(&call).await?;
    phone.dispose().await.map_err(|e| e.to_string())?;
    let path = std::path::Path::new(out).join("engine-received.wav");
    media::wav::write(&path, SAMPLE_RATE, &probe.recording.lock().unwrap()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(json!({ "wav": path.display().to_string(), "rate": SAMPLE_RATE }))
}

async fn run(flags: &Flags) -> Result<serde_json::Value, String> {
    let read = |flag: &str| -> Result<String, String> {
        let path = flags.need(flag)?;
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
    };
    let info = SipInfo::from_json(&read("sipinfo")?).map_err(|e| e.to_string())?;
    let processing = match flags.get("mic-processing") {
        None | Some("off") => media::processing::ProcessingSettings::OFF,
        Some("default") => media::processing::ProcessingSettings::ON,
        Some(other) => return Err(format!("--mic-processing {other}: use default or off")),
    };
    let account = Account { info, ca: read("ca")?, processing };
    emit(json!({ "event": "ready", "pid": std::process::id() }));
    match flags.need("workload")? {
        "register" => register(&account, flags.number("count", 50)?).await,
        "setup" => setup(&account, flags.number("count", 50)?).await,
        "load" => load(&account, flags.number("calls", 1)?, flags.number("seconds", 30)?).await,
        "latency" => latency(&account, flags.number("count", 10)?).await,
        "speech" => speech(&account, flags.need("speech")?, flags.get("out").unwrap_or("."), flags.get("to").unwrap_or("600")).await,
        other => Err(format!("unknown workload {other:?}")),
    }
}

#[tokio::main]
async fn main() {
    let result = match Flags::parse(std::env::args().skip(1)) {
        Ok(flags) => run(&flags).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(mut done) => {
            done["event"] = json!("done");
            emit(done);
        }
        Err(message) => {
            emit(json!({ "event": "error", "message": message }));
            std::process::exit(1);
        }
    }
}

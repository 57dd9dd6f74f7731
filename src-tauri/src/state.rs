//! The app's state: the running phone (and the embedded demo server), and its calls.

use crate::events::{self, UiEvent};
use crate::history::{self, History};
use crate::ringer::{Ringer, Tone};
use crate::settings::Settings;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Emitter};
use webphone::audio::AudioIo;
use webphone::{CallSession, Options, PhoneEvent, SipInfo, WebPhone};

/// The demo account the embedded server makes (extension 101).
pub const DEMO_NUMBER: &str = "16505550101";

/// Where the phone stands, for the window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// `starting`, `registered` or `failed`.
    pub state: String,
    /// The account's number, once known.
    pub number: Option<String>,
    /// True when running against the embedded demo server.
    pub demo: bool,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// A started phone.
struct Running {
    phone: WebPhone,
    demo: Option<rc_sim::Handle>,
}

/// Everything the commands share.
#[derive(Default)]
pub struct AppState {
    running: tokio::sync::RwLock<Option<Running>>,
    calls: Arc<Mutex<HashMap<u64, CallSession>>>,
    status: Mutex<Option<Status>>,
    /// Warm transfers under way, by the id of the call being transferred.
    warm: Mutex<HashMap<u64, webphone::WarmTransfer>>,
    /// Inbound calls the user turned away (declined, voicemail, forward, reply): history
    /// says "declined" for them rather than "missed".
    turned_away: Arc<Mutex<HashSet<u64>>>,
    history: Arc<Mutex<Option<History>>>,
}

/// Why a command could not be carried out, in words for the user.
pub type CommandResult<T> = Result<T, String>;

impl AppState {
    /// Starts the phone: with `sipinfo` when given, else against the embedded demo server.
    /// Engine events go to the window as `phone-event`.
    pub async fn start(&self, app: AppHandle, sipinfo: Option<SipInfo>, prefs: &Settings) -> CommandResult<Status> {
        self.stop().await;
        let (info, demo, extra_ca) = match sipinfo {
            Some(info) => (info, None, None),
            None => {
                let sim = rc_sim::start(rc_sim::ServerOptions::loopback(rc_sim::Config::demo())).await.map_err(|e| format!("the demo server did not start: {e}"))?;
                let info = sim.sip_info(DEMO_NUMBER).ok_or("the demo account is missing")?;
                let ca = sim.ca_pem.clone();
                (info, Some(sim), Some(ca))
            }
        };
        let audio = audio();
        let mut options = Options::new(audio.clone());
        options.extra_ca_pem = extra_ca;
        options.instance_id = prefs.instance_id.clone();
        options.auto_answer = prefs.auto_answer;
        options.debug = prefs.debug;
        let number = info.username.clone();
        let is_demo = demo.is_some();
        let result = WebPhone::start(info, options).await;
        let status = match &result {
            Ok(_) => Status { state: "registered".into(), number: Some(number), demo: is_demo, error: None },
            Err(e) => Status { state: "failed".into(), number: Some(number), demo: is_demo, error: Some(e.to_string()) },
        };
        *self.status.lock().unwrap() = Some(status.clone());
        let phone = result.map_err(|e| e.to_string())?;
        let (history, warning) = History::load(&data_dir().join("history.json"));
        *self.history.lock().unwrap() = Some(history);
        if let Some(w) = warning {
            let _ = app.emit("phone-event", UiEvent::MediaFailed { call: 0, reason: w });
        }
        let ringer = Arc::new(Ringer::new(audio, None));
        self.forward_events(app, &phone, ringer);
        *self.running.write().await = Some(Running { phone, demo });
        Ok(status)
    }

    /// Hangs up, unregisters and stops the phone (and the demo server), if one runs.
    pub async fn stop(&self) {
        let Some(running) = self.running.write().await.take() else { return };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), running.phone.dispose()).await;
        if let Some(sim) = running.demo {
            sim.shutdown();
        }
        self.calls.lock().unwrap().clear();
        self.warm.lock().unwrap().clear();
    }

    /// The phone's status (`starting` until [`start`](Self::start) is done).
    pub fn status(&self) -> Status {
        self.status.lock().unwrap().clone().unwrap_or(Status { state: "starting".into(), number: None, demo: false, error: None })
    }

    /// Sends engine events to the window, keeps the call list and plays the ring tones.
    fn forward_events(&self, app: AppHandle, phone: &WebPhone, ringer: Arc<Ringer>) {
        let mut events = phone.events();
        let calls = self.calls.clone();
        let (turned_away, history) = (self.turned_away.clone(), self.history.clone());
        tauri::async_runtime::spawn(async move {
            let mut ringing = Ringing::default();
            let mut records: HashMap<u64, Record> = HashMap::new();
            loop {
                let event = match events.recv().await {
                    Ok(e) => e,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                };
                track_calls(&calls, &event);
                if let Some(entry) = record(&mut records, &event, &turned_away).await {
                    let saved = history.lock().unwrap().as_mut().map(|h| h.add(entry));
                    if let Some(Err(e)) = saved {
                        let _ = app.emit("phone-event", UiEvent::MediaFailed { call: 0, reason: e.to_string() });
                    }
                    let _ = app.emit("phone-event", UiEvent::History);
                }
                if let PhoneEvent::OutboundCall(session) = &event {
                    // Before any of the call's own events, so the window has its card first.
                    let to = session.info().await.map(|f| f.remote_number).unwrap_or_default();
                    let _ = app.emit("phone-event", UiEvent::OutgoingCall { call: session.id().0, to });
                }
                if let Some(ui) = events::from_phone(&event) {
                    let _ = app.emit("phone-event", ui);
                }
                if ringing.update(&event) {
                    let tone = ringing.tone();
                    if let Err(e) = ringer.set(tone) {
                        let _ = app.emit("phone-event", UiEvent::MediaFailed { call: 0, reason: e });
                    }
                    let _ = app.emit("phone-event", UiEvent::Ringtone { tone });
                }
            }
        });
    }

    /// The phone, once started.
    pub async fn phone(&self) -> CommandResult<WebPhone> {
        self.running.read().await.as_ref().map(|r| r.phone.clone()).ok_or_else(|| "the phone is not started yet".to_owned())
    }

    /// The embedded demo server, when running in demo mode.
    pub async fn demo(&self) -> CommandResult<rc_sim::Handle> {
        self.running.read().await.as_ref().and_then(|r| r.demo.clone()).ok_or_else(|| "not in demo mode".to_owned())
    }

    /// A call by id.
    pub fn call(&self, id: u64) -> CommandResult<CallSession> {
        self.calls.lock().unwrap().get(&id).cloned().ok_or_else(|| "that call has ended".to_owned())
    }

    /// Remembers a warm transfer of call `id`.
    pub fn add_warm_transfer(&self, id: u64, transfer: webphone::WarmTransfer) {
        self.warm.lock().unwrap().insert(id, transfer);
    }

    /// Takes the warm transfer of call `id` out (to complete or cancel it).
    pub fn take_warm_transfer(&self, id: u64) -> CommandResult<webphone::WarmTransfer> {
        self.warm.lock().unwrap().remove(&id).ok_or_else(|| "no transfer is under way for that call".to_owned())
    }

    /// Notes that the user turned inbound call `id` away (for the history).
    pub fn turned_away(&self, id: u64) {
        self.turned_away.lock().unwrap().insert(id);
    }

    /// The call history, newest first.
    pub fn history(&self) -> Vec<history::Entry> {
        self.history.lock().unwrap().as_ref().map(|h| h.entries().to_vec()).unwrap_or_default()
    }

    /// Registers a call the UI just made.
    pub fn add_call(&self, call: CallSession) {
        self.calls.lock().unwrap().insert(call.id().0, call);
    }
}

/// What is known of a call while it lasts, for its history entry.
struct Record {
    number: String,
    name: Option<String>,
    inbound: bool,
    started_at: u64,
    answered_at: Option<std::time::Instant>,
}

/// Follows a call's events; returns its history entry when it ends.
async fn record(records: &mut HashMap<u64, Record>, event: &PhoneEvent, turned_away: &Mutex<HashSet<u64>>) -> Option<history::Entry> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default();
    match event {
        PhoneEvent::InboundCall(s, info) => {
            records.insert(s.id().0, Record { number: info.remote_number.clone(), name: info.remote_name.clone(), inbound: true, started_at: now, answered_at: None });
        }
        PhoneEvent::OutboundCall(s) => {
            let number = s.info().await.map(|f| f.remote_number).unwrap_or_default();
            records.insert(s.id().0, Record { number, name: None, inbound: false, started_at: now, answered_at: None });
        }
        PhoneEvent::Call(id, webphone::CallEvent::Answered { .. }) => {
            if let Some(r) = records.get_mut(&id.0) {
                r.answered_at = Some(std::time::Instant::now());
            }
        }
        PhoneEvent::Call(id, webphone::CallEvent::Disposed(_)) => {
            let r = records.remove(&id.0)?;
            let away = turned_away.lock().unwrap().remove(&id.0);
            let outcome = match (r.answered_at, r.inbound, away) {
                (Some(_), _, _) => history::Outcome::Answered,
                (None, true, true) => history::Outcome::Declined,
                (None, true, false) => history::Outcome::Missed,
                (None, false, _) => history::Outcome::Unanswered,
            };
            return Some(history::Entry {
                number: r.number,
                name: r.name,
                direction: if r.inbound { "inbound" } else { "outbound" }.into(),
                started_at: r.started_at,
                duration_secs: r.answered_at.map_or(0, |t| t.elapsed().as_secs()),
                outcome,
            });
        }
        _ => {}
    }
    None
}

/// Where the app keeps its data: `SOFTPHONE_DATA_DIR`, else the platform's data directory.
fn data_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("SOFTPHONE_DATA_DIR") {
        return dir.into();
    }
    directories::ProjectDirs::from("org", "rcsoftphone", "RC Softphone")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| std::env::temp_dir().join("rc-softphone"))
}

/// Which calls ring, to choose the tone: the ringtone while any call rings in, else the
/// ringback while one of ours rings at the far end.
#[derive(Debug, Default)]
struct Ringing {
    inbound: HashSet<u64>,
    outbound: HashSet<u64>,
}

impl Ringing {
    /// Takes an event; true when the set of ringing calls changed.
    fn update(&mut self, event: &PhoneEvent) -> bool {
        use webphone::CallEvent as E;
        match event {
            PhoneEvent::InboundCall(s, _) => self.inbound.insert(s.id().0),
            PhoneEvent::Call(id, E::Ringing) if !self.inbound.contains(&id.0) => self.outbound.insert(id.0),
            PhoneEvent::Call(id, E::Answered { .. } | E::Failed { .. } | E::Disposed(_)) => self.inbound.remove(&id.0) | self.outbound.remove(&id.0),
            _ => false,
        }
    }

    fn tone(&self) -> Option<Tone> {
        if !self.inbound.is_empty() {
            Some(Tone::Ring)
        } else if !self.outbound.is_empty() {
            Some(Tone::Ringback)
        } else {
            None
        }
    }
}

/// Keeps the call map in step with the engine: new calls in, ended calls out.
fn track_calls(calls: &Mutex<HashMap<u64, CallSession>>, event: &PhoneEvent) {
    let mut calls = calls.lock().unwrap();
    match event {
        PhoneEvent::InboundCall(s, _) | PhoneEvent::OutboundCall(s) => {
            calls.insert(s.id().0, s.clone());
        }
        PhoneEvent::Call(id, webphone::CallEvent::Disposed(_)) => {
            calls.remove(&id.0);
        }
        _ => {}
    }
}

/// The system's audio devices, or test audio (a 440 Hz "microphone", nothing played) when
/// `SOFTPHONE_AUDIO=test`, as the GUI tests run on machines without a sound card.
fn audio() -> Arc<dyn AudioIo> {
    if std::env::var("SOFTPHONE_AUDIO").is_ok_and(|v| v == "test") {
        let (audio, _) = webphone::audio::test::TestAudio::new(webphone::audio::test::Input::Tone(440.0), webphone::audio::test::Output::Discard);
        return audio;
    }
    Arc::new(webphone::audio::cpal_io::CpalAudio::new())
}

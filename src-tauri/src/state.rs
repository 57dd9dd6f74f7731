//! The app's state: the running phone (and the embedded demo server), and its calls.

use crate::events::{self, UiEvent};
use crate::history::{self, History};
use crate::ringer::{RingSettings, Ringer, Tone};
use crate::settings::Settings;
use crate::siplog::{self, SipLog};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};
use webphone::audio::meter::{Levels, Metered};
use webphone::audio::AudioIo;
use webphone::{CallSession, Options, PhoneEvent, SipInfo, WebPhone};

/// The demo account the embedded server makes (extension 101).
pub const DEMO_NUMBER: &str = "16505550101";

/// The demo's colleagues (extensions 102 and 103): phones inside the app that answer every
/// call and play a tone, so that transfers, recording and park have real parties.
pub const DEMO_COLLEAGUES: [&str; 2] = ["16505550102", "16505550103"];

/// The demo server's accounts: rc-sim's demo, a second colleague, and a company number that
/// 101 may show as its caller ID.
fn demo_config() -> rc_sim::Config {
    let mut config = rc_sim::Config::demo();
    let template = config.extensions[1].clone();
    config.extensions.push(rc_sim::config::Extension {
        number: "16505550103".into(),
        authorization_id: "800000000103".into(),
        password: "demo-103-password".into(),
        name: "Demo User 103".into(),
        short_number: Some("103".into()),
        caller_ids: vec!["+16505550103".into()],
        login_password: Some("demo-103-login".into()),
        jwt: Some(rc_sim::config::demo_jwt("103")),
        phone_numbers: template.phone_numbers.iter().map(|n| rc_sim::config::PhoneNumber { phone_number: n.phone_number.replace("16505550102", "16505550103").replace("16505550192", "16505550193"), ..n.clone() }).collect(),
        ..template
    });
    config
}

/// The numbers an extension may present as caller ID: those the REST API lists with the
/// CallerId feature.
fn caller_ids_of(ext: &rc_sim::config::Extension) -> Vec<String> {
    ext.listed_numbers().into_iter().filter(rc_sim::config::PhoneNumber::is_caller_id).map(|n| n.phone_number).collect()
}

/// Where the phone stands: the one vocabulary of the shell, the tray and the window (which
/// receives it serialised, `"registered"` and so on, in [`Status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PhoneState {
    /// The app has not started a phone yet.
    Starting,
    /// Connecting and registering (at a start, or once reconnected).
    Connecting,
    /// Registered: calls can be made and received.
    Registered,
    /// The connection dropped; the phone reconnects by itself.
    Reconnecting,
    /// Registration failed, or the phone could not start.
    Failed,
}

/// Where the phone stands, for the window and the tray. Serialised with `line`, the status in
/// words ([`status_line`]), so that the window says exactly what the tray says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Where it stands.
    pub state: PhoneState,
    /// The account's number, once known.
    pub number: Option<String>,
    /// True when running against the embedded demo server.
    pub demo: bool,
    /// Why it failed or reconnects, if it does.
    pub error: Option<String>,
    /// The file of the extra CA certificate this phone trusts besides the system's
    /// (`SOFTPHONE_EXTRA_CA`), shown while it is in force: it is trusted for every server.
    pub extra_ca: Option<String>,
}

impl Status {
    /// The status before any phone started.
    pub fn starting() -> Status {
        Status { state: PhoneState::Starting, number: None, demo: false, error: None, extra_ca: None }
    }
}

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// What the window receives: the fields and the line in words.
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct View<'a> {
            state: PhoneState,
            number: &'a Option<String>,
            demo: bool,
            error: &'a Option<String>,
            extra_ca: &'a Option<String>,
            line: String,
        }
        let view = View { state: self.state, number: &self.number, demo: self.demo, error: &self.error, extra_ca: &self.extra_ca, line: status_line(self) };
        serde::Serialize::serialize(&view, serializer)
    }
}

/// A started phone.
struct Running {
    phone: WebPhone,
    demo: Option<rc_sim::Handle>,
    /// Demo mode: the colleagues' phones.
    colleagues: Vec<WebPhone>,
    /// The loops that follow this phone (events, level meters); stopped with it.
    tasks: Vec<tauri::async_runtime::JoinHandle<()>>,
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
    /// The settings in force (the saved ones once started).
    settings: Mutex<Settings>,
    /// The caller IDs the account offers besides the user's own list (the demo's).
    account_caller_ids: Mutex<Vec<String>>,
    /// Debug mode's SIP messages.
    sip_log: Arc<Mutex<SipLog>>,
    /// The ringtone player, made at the first start.
    ringer: Mutex<Option<Arc<Ringer>>>,
    /// The devices, unmetered (the ringer and the test sound use them).
    raw_audio: Mutex<Option<Arc<dyn AudioIo>>>,
    /// A number from a `tel:`/`callto:` link the window has not taken yet.
    pending_link: Mutex<Option<String>>,
    /// The REST client of the RingCentral sign-in, if signed in.
    rest: Mutex<Option<Arc<rc_rest::RcClient>>>,
    /// The conference this phone hosts: its session id and our call into it.
    conference: Mutex<Option<(String, u64)>>,
    /// The numbers (`voiceCallToken`s) this phone dials to host a conference, until the call
    /// that dials each is seen: that call is named a conference, never by its token.
    conference_numbers: Arc<Mutex<HashSet<String>>>,
}

/// Why a command could not be carried out, in words for the user.
pub type CommandResult<T> = Result<T, String>;

impl AppState {
    /// Starts the phone: with `sipinfo` when given, else against the embedded demo server.
    /// Engine events go to the window as `phone-event`.
    pub async fn start(&self, app: AppHandle, sipinfo: Option<SipInfo>, prefs: &Settings) -> CommandResult<Status> {
        self.stop().await;
        // An answered welcome stays answered: the settings a start was given may have been
        // read before the user answered it.
        let welcomed = prefs.welcomed || self.settings().welcomed;
        *self.settings.lock().unwrap() = Settings { welcomed, ..prefs.clone() };
        self.set_status(&app, Status { state: PhoneState::Connecting, number: sipinfo.as_ref().map(|i| i.username.clone()), demo: sipinfo.is_none(), error: None, extra_ca: None });
        let (info, demo, extra_ca) = match account_or_demo(sipinfo).await {
            Ok(prepared) => prepared,
            Err(e) => {
                self.set_failed(&app, e.clone());
                return Err(e);
            }
        };
        *self.account_caller_ids.lock().unwrap() = demo.as_ref().and_then(|d| d.config().extension_by_number(DEMO_NUMBER).map(|(_, e)| caller_ids_of(e))).unwrap_or_default();
        let raw = self.raw_audio();
        let (metered, levels) = Metered::new(raw.clone());
        let ringer = self.ringer.lock().unwrap().get_or_insert_with(|| Arc::new(Ringer::new(raw, ring_settings(prefs), prefs.output_device.clone()))).clone();
        ringer.configure(ring_settings(prefs), prefs.output_device.clone());
        let mut options = Options::new(metered);
        options.extra_ca_pem = extra_ca;
        options.instance_id = prefs.instance_id.clone();
        options.auto_answer = prefs.auto_answer;
        options.debug = prefs.debug;
        options.input_device = prefs.input_device.clone();
        options.output_device = prefs.output_device.clone();
        options.media.processing = prefs.processing;
        options.media.dtx = prefs.dtx;
        let number = info.username.clone();
        let is_demo = demo.is_some();
        let result = WebPhone::start(info, options).await;
        let status = match &result {
            Ok(_) => Status { state: PhoneState::Registered, number: Some(number), demo: is_demo, error: None, extra_ca: None },
            Err(e) => Status { state: PhoneState::Failed, number: Some(number), demo: is_demo, error: Some(e.to_string()), extra_ca: None },
        };
        self.set_status(&app, status.clone());
        let phone = match result {
            Ok(phone) => phone,
            Err(e) => {
                if let Some(sim) = demo {
                    sim.shutdown();
                }
                return Err(e.to_string());
            }
        };
        let (history, warning) = History::load(&data_dir().join("history.json"));
        *self.history.lock().unwrap() = Some(history);
        if let Some(w) = warning {
            notice(&app, w);
        }
        let mut tasks = vec![self.forward_events(app.clone(), &phone, ringer), self.report_levels(app.clone(), levels)];
        let mut colleagues = Vec::new();
        for number in DEMO_COLLEAGUES.iter().filter(|_| demo.is_some()) {
            match start_colleague(demo.as_ref().expect("demo mode"), number).await {
                Ok((colleague, task)) => {
                    tasks.push(task);
                    colleagues.push(colleague);
                }
                Err(e) => notice(&app, format!("The demo colleague {number} is not there: {e}")),
            }
        }
        *self.running.write().await = Some(Running { phone, demo, colleagues, tasks });
        Ok(status)
    }

    /// Keeps `status` for the `status` command, shows it in the tray and, when it changed,
    /// pushes it to the window (`phone-status`). A registration refresh changes nothing, so
    /// it pushes nothing and the window keeps what it shows.
    fn set_status(&self, app: &AppHandle, mut status: Status) {
        status.extra_ca = (!status.demo).then(extra_ca_path).flatten();
        let changed = self.status.lock().unwrap().replace(status.clone()).as_ref() != Some(&status);
        if !changed {
            return;
        }
        if let Some(tray) = app.try_state::<crate::tray::Tray>() {
            tray.set_status(&status_line(&status));
        }
        let _ = app.emit("phone-status", status);
    }

    /// The phone could not start (`error`, in words): the status says so, number and demo
    /// kept from the attempt.
    pub fn set_failed(&self, app: &AppHandle, error: String) {
        let status = Status { state: PhoneState::Failed, error: Some(error), ..self.status() };
        self.set_status(app, status);
    }

    /// Changes the phone's status after an engine event (registered again, connection lost).
    fn on_registration_event(&self, app: &AppHandle, event: &PhoneEvent) {
        if let Some(status) = status_after(self.status(), event) {
            self.set_status(app, status);
        }
    }

    /// Hangs up, unregisters and stops the phone (and the demo server), if one runs.
    pub async fn stop(&self) {
        let Some(running) = self.running.write().await.take() else { return };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), running.phone.dispose()).await;
        for colleague in running.colleagues {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), colleague.dispose()).await;
        }
        for task in running.tasks {
            task.abort();
        }
        if let Some(ringer) = self.ringer.lock().unwrap().as_ref() {
            let _ = ringer.set(None);
        }
        if let Some(sim) = running.demo {
            sim.shutdown();
        }
        self.calls.lock().unwrap().clear();
        self.warm.lock().unwrap().clear();
        self.conference_numbers.lock().unwrap().clear();
    }

    /// The phone's status ([`PhoneState::Starting`] until [`start`](Self::start) is done).
    pub fn status(&self) -> Status {
        self.status.lock().unwrap().clone().unwrap_or_else(Status::starting)
    }

    /// Sends engine events to the window, keeps the call list and plays the ring tones.
    fn forward_events(&self, app: AppHandle, phone: &WebPhone, ringer: Arc<Ringer>) -> tauri::async_runtime::JoinHandle<()> {
        let mut events = phone.events();
        let calls = self.calls.clone();
        let (turned_away, history, sip_log) = (self.turned_away.clone(), self.history.clone(), self.sip_log.clone());
        let conference_numbers = self.conference_numbers.clone();
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
                if let PhoneEvent::SipTrace(trace) = &event {
                    let line = siplog::Line::from_trace(trace);
                    sip_log.lock().unwrap().push(line.clone());
                    let _ = app.emit("phone-event", UiEvent::SipMessage { line });
                    continue;
                }
                app.state::<AppState>().on_registration_event(&app, &event);
                if let PhoneEvent::InboundCall(_, info) = &event {
                    crate::notify::incoming_call(&app, info.remote_name.as_deref(), &info.remote_number);
                }
                if let PhoneEvent::OutboundCall(session) = &event {
                    // Before any of the call's own events, so the window has its card first.
                    let to = session.info().await.map(|f| f.remote_number).unwrap_or_default();
                    let conference = conference_numbers.lock().unwrap().remove(&to);
                    let started = Record::outbound(to.clone(), conference);
                    records.insert(session.id().0, started);
                    let _ = app.emit("phone-event", UiEvent::OutgoingCall { call: session.id().0, to, conference });
                }
                if let Some(entry) = record(&mut records, &event, &turned_away) {
                    let saved = history.lock().unwrap().as_mut().map(|h| h.add(entry));
                    if let Some(Err(e)) = saved {
                        notice(&app, e.to_string());
                    }
                    let _ = app.emit("phone-event", UiEvent::History);
                }
                if let Some(ui) = events::from_phone(&event) {
                    let _ = app.emit("phone-event", ui);
                }
                if ringing.update(&event) {
                    let tone = ringing.tone();
                    if let Err(e) = ringer.set(tone) {
                        notice(&app, format!("The ringtone could not play: {e}"));
                    }
                    let _ = app.emit("phone-event", UiEvent::Ringtone { tone });
                }
            }
        })
    }

    /// Sends the microphone and speaker levels to the window ten times a second while a call
    /// is on.
    fn report_levels(&self, app: AppHandle, levels: Arc<Levels>) -> tauri::async_runtime::JoinHandle<()> {
        let calls = self.calls.clone();
        tauri::async_runtime::spawn(async move {
            let mut clock = tokio::time::interval(Duration::from_millis(100));
            loop {
                clock.tick().await;
                if calls.lock().unwrap().is_empty() {
                    continue;
                }
                let _ = app.emit("phone-event", UiEvent::Levels { input: levels.input(), output: levels.output() });
            }
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap().clone()
    }

    /// Replaces the settings in force where nothing needs applying (the chosen caller ID).
    pub fn replace_settings(&self, new: Settings) {
        *self.settings.lock().unwrap() = new;
    }

    /// Puts `new` settings in force on the running phone and its calls. Returns a note for
    /// what takes effect only later.
    pub async fn apply_settings(&self, app: &AppHandle, new: Settings) -> CommandResult<Option<String>> {
        let old = std::mem::replace(&mut *self.settings.lock().unwrap(), new.clone());
        if let Some(ringer) = self.ringer.lock().unwrap().clone() {
            ringer.configure(ring_settings(&new), new.output_device.clone());
        }
        let Ok(phone) = self.phone().await else { return Ok(None) };
        phone.set_debug(new.debug);
        phone.set_auto_answer(new.auto_answer);
        phone.set_devices(new.input_device.clone(), new.output_device.clone());
        phone.set_processing(new.processing).await;
        phone.set_dtx(new.dtx).await;
        let calls: Vec<CallSession> = self.calls.lock().unwrap().values().cloned().collect();
        for call in &calls {
            if new.input_device != old.input_device {
                call.change_input_device(new.input_device.as_deref()).await.map_err(|e| format!("the microphone could not be changed: {e}"))?;
            }
            if new.output_device != old.output_device {
                call.change_output_device(new.output_device.as_deref()).await.map_err(|e| format!("the speaker could not be changed: {e}"))?;
            }
        }
        if new.instance_id == old.instance_id {
            return Ok(None);
        }
        if !calls.is_empty() {
            return Ok(Some("The new instance ID is used from the next start (calls are in progress).".into()));
        }
        let account = self.running.read().await.as_ref().filter(|r| r.demo.is_none()).map(|r| r.phone.sip_info().clone());
        self.start(app.clone(), account, &new).await?;
        Ok(Some("Registered again with the new instance ID.".into()))
    }

    /// Plays the ringtone of `settings` once on its device.
    pub fn test_sound(&self, settings: &RingSettings) -> CommandResult<()> {
        let raw = self.raw_audio();
        let ringer = self.ringer.lock().unwrap().get_or_insert_with(|| Arc::new(Ringer::new(raw, settings.clone(), None))).clone();
        ringer.test(settings)
    }

    /// The devices, unmetered, opened at the first use.
    fn raw_audio(&self) -> Arc<dyn AudioIo> {
        self.raw_audio.lock().unwrap().get_or_insert_with(audio).clone()
    }

    /// The names of the input and output devices.
    pub fn devices(&self) -> (Vec<String>, Vec<String>) {
        let raw = self.raw_audio();
        (raw.input_devices(), raw.output_devices())
    }

    /// The caller IDs to offer: the account's, then the user's own list, without repeats.
    pub fn available_caller_ids(&self) -> Vec<String> {
        let mut ids = self.account_caller_ids.lock().unwrap().clone();
        for id in &self.settings.lock().unwrap().caller_ids {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        ids
    }

    /// The SIP log lines that contain `filter`.
    pub fn sip_log(&self, filter: &str) -> Vec<siplog::Line> {
        self.sip_log.lock().unwrap().matching(filter)
    }

    /// Empties the SIP log.
    pub fn clear_sip_log(&self) {
        self.sip_log.lock().unwrap().clear();
    }

    /// A `tel:`/`callto:` link's number: kept for a window that is still loading, and sent
    /// to one that runs.
    pub fn open_link(&self, app: &AppHandle, number: String) {
        *self.pending_link.lock().unwrap() = Some(number.clone());
        let _ = app.emit("phone-event", UiEvent::Link { number });
        crate::tray::raise_window(app);
    }

    /// The link number the window has not taken yet, taking it.
    pub fn take_pending_link(&self) -> Option<String> {
        self.pending_link.lock().unwrap().take()
    }

    /// The phone, once started.
    pub async fn phone(&self) -> CommandResult<WebPhone> {
        self.running.read().await.as_ref().map(|r| r.phone.clone()).ok_or_else(|| "the phone is not started yet".to_owned())
    }

    /// Keeps `prefs` as the settings in force without restarting anything (for changes that
    /// concern nothing running, such as the sign-in record).
    pub fn remember_settings(&self, prefs: &Settings) {
        *self.settings.lock().unwrap() = prefs.clone();
    }

    /// The signed-in REST client.
    pub fn rest(&self) -> CommandResult<Arc<rc_rest::RcClient>> {
        self.rest.lock().unwrap().clone().ok_or_else(|| "not signed in to RingCentral (Settings → Sign in)".to_owned())
    }

    /// Keeps (or drops) the signed-in REST client.
    pub fn set_rest(&self, client: Option<Arc<rc_rest::RcClient>>) {
        *self.rest.lock().unwrap() = client;
        *self.conference.lock().unwrap() = None;
    }

    /// The caller IDs the account offers (from the REST API once signed in).
    pub fn set_account_caller_ids(&self, ids: Vec<String>) {
        *self.account_caller_ids.lock().unwrap() = ids;
    }

    /// The conference this phone hosts, if its call into it is still up.
    pub fn conference(&self) -> Option<String> {
        let mut conference = self.conference.lock().unwrap();
        let live = conference.as_ref().is_some_and(|(_, call)| self.calls.lock().unwrap().contains_key(call));
        if !live {
            *conference = None;
        }
        conference.as_ref().map(|(session, _)| session.clone())
    }

    /// Our call into the conference we host, if any.
    pub fn conference_call(&self) -> Option<u64> {
        self.conference.lock().unwrap().as_ref().map(|(_, call)| *call)
    }

    /// Notes that this phone is about to dial `number` (a conference's `voiceCallToken`) to
    /// host that conference: the call to it is shown and kept as "Conference".
    pub fn dialling_conference(&self, number: &str) {
        self.conference_numbers.lock().unwrap().insert(number.to_owned());
    }

    /// Notes the conference we host and our call into it.
    pub fn set_conference(&self, session: String, call: u64) {
        *self.conference.lock().unwrap() = Some((session, call));
    }

    /// The REST endpoint of the embedded demo server (demo mode only).
    pub async fn demo_endpoint(&self) -> CommandResult<crate::signin::Endpoint> {
        let sim = self.demo().await?;
        Ok(crate::signin::Endpoint { base_url: sim.rest_url(), extra_ca_pem: Some(sim.ca_pem.clone()) })
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

/// The account to register with, the demo server when there is none (started here), and the
/// extra CA to trust (the demo's own, else `SOFTPHONE_EXTRA_CA`'s).
async fn account_or_demo(sipinfo: Option<SipInfo>) -> CommandResult<(SipInfo, Option<rc_sim::Handle>, Option<String>)> {
    if let Some(info) = sipinfo {
        return Ok((info, None, extra_ca_from_env()?));
    }
    // The demo's recordings (voicemail, recorded calls) hold the user's voice: they go to the
    // user's own data directory (0700), never to a shared temp folder.
    let options = rc_sim::ServerOptions { recordings: data_dir().join("demo-recordings"), ..rc_sim::ServerOptions::loopback(demo_config()) };
    let sim = rc_sim::start(options).await.map_err(|e| format!("the demo server did not start: {e}"))?;
    let Some(info) = sim.sip_info(DEMO_NUMBER) else {
        sim.shutdown();
        return Err("the demo account is missing".into());
    };
    let ca = sim.ca_pem.clone();
    Ok((info, Some(sim), Some(ca)))
}

/// What is known of a call while it lasts, for its history entry.
struct Record {
    number: String,
    name: Option<String>,
    inbound: bool,
    /// Our call into a conference we host (its number is the conference's token).
    conference: bool,
    started_at: u64,
    answered_at: Option<std::time::Instant>,
}

impl Record {
    /// A call we make to `number`, starting now.
    fn outbound(number: String, conference: bool) -> Record {
        Record { number, name: None, inbound: false, conference, started_at: unix_now(), answered_at: None }
    }
}

/// Seconds since 1970 (0 on a clock set before it).
fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// Follows a call's events; returns its history entry when it ends. Outbound calls are
/// entered by the event loop, which knows their number ([`Record::outbound`]).
fn record(records: &mut HashMap<u64, Record>, event: &PhoneEvent, turned_away: &Mutex<HashSet<u64>>) -> Option<history::Entry> {
    match event {
        PhoneEvent::InboundCall(s, info) => {
            let r = Record { number: info.remote_number.clone(), name: info.remote_name.clone(), inbound: true, conference: false, started_at: unix_now(), answered_at: None };
            records.insert(s.id().0, r);
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
                conference: r.conference,
            });
        }
        _ => {}
    }
    None
}

/// A CA certificate to trust besides the system's, from the PEM file `SOFTPHONE_EXTRA_CA`
/// names (scripts and benchmarks run the app against a local rc-sim this way).
pub fn extra_ca_from_env() -> CommandResult<Option<String>> {
    let Some(path) = std::env::var_os("SOFTPHONE_EXTRA_CA") else { return Ok(None) };
    // It is trusted for every server, production too: say so where it can be seen.
    eprintln!("softphone: SOFTPHONE_EXTRA_CA: the CA in {} is trusted for every server", std::path::Path::new(&path).display());
    std::fs::read_to_string(&path).map(Some).map_err(|e| format!("SOFTPHONE_EXTRA_CA {}: {e}", std::path::Path::new(&path).display()))
}

/// The file `SOFTPHONE_EXTRA_CA` names, if any.
fn extra_ca_path() -> Option<String> {
    std::env::var_os("SOFTPHONE_EXTRA_CA").map(|p| p.to_string_lossy().into_owned())
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

/// Which calls ring, to choose the tone: the ringtone while any call rings in and no answered
/// call is off hold (during a call the engine plays a short call-waiting beep in it instead), else
/// the ringback while one of ours rings at the far end.
#[derive(Debug, Default)]
struct Ringing {
    inbound: HashSet<u64>,
    outbound: HashSet<u64>,
    answered: HashSet<u64>,
    held: HashSet<u64>,
}

impl Ringing {
    /// Takes an event; true when the set of ringing or answered calls changed.
    fn update(&mut self, event: &PhoneEvent) -> bool {
        use webphone::CallEvent as E;
        match event {
            PhoneEvent::InboundCall(s, _) => self.ring_in(s.id().0),
            PhoneEvent::Call(id, E::Ringing) if !self.inbound.contains(&id.0) => self.outbound.insert(id.0),
            PhoneEvent::Call(id, E::Answered { .. }) => self.answered.insert(id.0) | self.stopped_ringing(id.0),
            PhoneEvent::Call(id, E::Held(true)) => self.held.insert(id.0),
            PhoneEvent::Call(id, E::Held(false)) => self.held.remove(&id.0),
            PhoneEvent::Call(id, E::Failed { .. } | E::Disposed(_)) => self.answered.remove(&id.0) | self.held.remove(&id.0) | self.stopped_ringing(id.0),
            _ => false,
        }
    }

    /// Inbound call `id` rings.
    fn ring_in(&mut self, id: u64) -> bool {
        self.inbound.insert(id)
    }

    fn stopped_ringing(&mut self, id: u64) -> bool {
        self.inbound.remove(&id) | self.outbound.remove(&id)
    }

    fn tone(&self) -> Option<Tone> {
        let talking = self.answered.iter().any(|id| !self.held.contains(id));
        if !self.inbound.is_empty() && !talking {
            Some(Tone::Ring)
        } else if !self.outbound.is_empty() {
            Some(Tone::Ringback)
        } else {
            None
        }
    }
}

/// Registers demo colleague `number` on `sim`: test audio playing a 550 Hz tone, every call
/// answered after a short ring. Returns the phone and the task that answers.
async fn start_colleague(sim: &rc_sim::Handle, number: &str) -> Result<(WebPhone, tauri::async_runtime::JoinHandle<()>), String> {
    use webphone::audio::test::{Input, Output, TestAudio};
    let info = sim.sip_info(number).ok_or_else(|| format!("the demo has no extension {number}"))?;
    let (audio, _) = TestAudio::new(Input::Tone(550.0), Output::Discard);
    let mut options = Options::new(audio);
    options.extra_ca_pem = Some(sim.ca_pem.clone());
    let phone = WebPhone::start(info, options).await.map_err(|e| e.to_string())?;
    let mut events = phone.events();
    let task = tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(PhoneEvent::InboundCall(call, _)) => {
                    tauri::async_runtime::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(1500)).await;
                        let _ = call.answer().await;
                    });
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            }
        }
    });
    Ok((phone, task))
}

/// The ring settings part of `prefs`.
pub fn ring_settings(prefs: &Settings) -> RingSettings {
    RingSettings { device: prefs.ring_device.clone(), ringtone: prefs.ringtone, volume: prefs.ring_volume }
}

/// The status in a few words, for the tray.
pub fn status_line(s: &Status) -> String {
    let line = phone_line(s);
    match &s.extra_ca {
        Some(path) => format!("{line} · trusting the extra CA in {path}"),
        None => line,
    }
}

fn phone_line(s: &Status) -> String {
    let who = s.number.as_deref().map(|n| format!(" as {n}")).unwrap_or_default();
    match s.state {
        PhoneState::Registered => format!("Registered{who}{}", if s.demo { " (demo)" } else { "" }),
        PhoneState::Starting => "Starting…".into(),
        PhoneState::Connecting => "Connecting…".into(),
        PhoneState::Reconnecting => match s.error.as_deref() {
            Some(why) => format!("Reconnecting… ({why})"),
            None => "Reconnecting…".into(),
        },
        PhoneState::Failed => format!("Not registered: {}", s.error.as_deref().unwrap_or("unknown error")),
    }
}

/// The status after a registration or connection event of the engine, or `None` when `event`
/// is of another kind. The number and the demo flag are the account's and stay.
fn status_after(status: Status, event: &PhoneEvent) -> Option<Status> {
    let (state, error) = match event {
        PhoneEvent::Registered { .. } => (PhoneState::Registered, None),
        PhoneEvent::RegistrationFailed(e) => (PhoneState::Failed, Some(e.to_string())),
        // The engine reconnects by itself: the status says it is trying, and why.
        PhoneEvent::Disconnected(why) => (PhoneState::Reconnecting, Some(why.clone())),
        PhoneEvent::Reconnecting { attempt, wait, reason, .. } => (PhoneState::Reconnecting, Some(format!("attempt {attempt} in {:.0} s: {reason}", wait.as_secs_f32().ceil()))),
        PhoneEvent::Reconnected { .. } => (PhoneState::Connecting, None),
        _ => return None,
    };
    Some(Status { state, error, ..status })
}

/// Tells the window something the user should read that concerns no call (a damaged history
/// file, a sign-in problem, a ringtone that cannot play): a notice, never "Audio failed".
pub fn notice(app: &AppHandle, text: impl Into<String>) {
    let _ = app.emit("phone-event", UiEvent::Notice { text: text.into() });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: PhoneState, error: Option<&str>) -> Status {
        Status { state, number: Some("16505550101".into()), demo: true, error: error.map(str::to_owned), extra_ca: None }
    }

    #[test]
    fn the_tray_says_where_the_phone_stands() {
        assert_eq!(status_line(&status(PhoneState::Registered, None)), "Registered as 16505550101 (demo)");
        assert_eq!(status_line(&status(PhoneState::Connecting, None)), "Connecting…");
        assert_eq!(status_line(&Status::starting()), "Starting…");
        assert_eq!(status_line(&status(PhoneState::Failed, Some("403 Forbidden"))), "Not registered: 403 Forbidden");
        assert_eq!(status_line(&status(PhoneState::Reconnecting, Some("attempt 2 in 3 s: refused"))), "Reconnecting… (attempt 2 in 3 s: refused)");
        let trusting = Status { extra_ca: Some("/tmp/ca.pem".into()), demo: false, ..status(PhoneState::Registered, None) };
        assert_eq!(status_line(&trusting), "Registered as 16505550101 · trusting the extra CA in /tmp/ca.pem", "an extra CA in force is always shown");
    }

    #[test]
    fn the_window_gets_the_state_as_a_word_and_the_line_the_tray_shows() {
        let json = serde_json::to_value(status(PhoneState::Registered, None)).unwrap();
        assert_eq!(json["state"], "registered");
        assert_eq!(json["line"], "Registered as 16505550101 (demo)");
        assert_eq!(json["number"], "16505550101");
        assert_eq!(serde_json::to_value(Status::starting()).unwrap()["state"], "starting");
    }

    #[test]
    fn a_registration_refresh_keeps_the_number_and_changes_nothing() {
        let registered = status(PhoneState::Registered, None);
        let refreshed = status_after(registered.clone(), &PhoneEvent::Registered { expires: 60 }).unwrap();
        assert_eq!(refreshed, registered, "nothing changed: nothing is pushed, the header keeps the number");
        let dropped = status_after(registered.clone(), &PhoneEvent::Disconnected("the server closed the connection".into())).unwrap();
        assert_eq!((dropped.state, dropped.number.as_deref()), (PhoneState::Reconnecting, Some("16505550101")));
        let back = status_after(dropped, &PhoneEvent::Reconnected { proxy: "127.0.0.1:1".into(), backup: false }).unwrap();
        let again = status_after(back, &PhoneEvent::Registered { expires: 60 }).unwrap();
        assert_eq!(status_line(&again), "Registered as 16505550101 (demo)", "the number and (demo) survive a reconnect");
        assert!(status_after(registered, &PhoneEvent::Unregistered).is_none());
    }

    #[test]
    fn a_call_rings_in_with_the_ringtone_only_when_no_call_is_talking() {
        use webphone::{CallEvent as E, CallId};
        let event = |id: u64, e: E| PhoneEvent::Call(CallId(id), e);
        let mut r = Ringing::default();
        r.ring_in(1);
        assert_eq!(r.tone(), Some(Tone::Ring));
        r.update(&event(1, E::Answered { remote_sdp: None }));
        assert_eq!(r.tone(), None);
        r.ring_in(2);
        assert_eq!(r.tone(), None, "call waiting: the engine beeps in the answered call");
        r.update(&event(1, E::Held(true)));
        assert_eq!(r.tone(), Some(Tone::Ring), "nobody hears a beep in a held call");
        r.update(&event(1, E::Held(false)));
        r.update(&event(1, E::Disposed(webphone::DisposeReason::RemoteHangup)));
        assert_eq!(r.tone(), Some(Tone::Ring), "the waiting call rings once the other ends");
    }

    #[test]
    fn the_demo_has_two_colleagues_and_a_company_number() {
        let config = demo_config();
        config.validate().unwrap();
        for number in DEMO_COLLEAGUES {
            assert!(config.extension_by_number(number).is_some(), "{number}");
        }
        let (_, me) = config.extension_by_number(DEMO_NUMBER).unwrap();
        let ids = caller_ids_of(me);
        assert!(ids.contains(&"+16505550100".to_owned()) && ids.contains(&"+16505550101".to_owned()), "{ids:?}");
        let (_, third) = config.extension_by_number("16505550103").unwrap();
        assert!(caller_ids_of(third).contains(&"+16505550103".to_owned()) && third.jwt != me.jwt, "103 has its own numbers and credentials");
    }
}

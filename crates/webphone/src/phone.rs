//! The async API ([`WebPhone`], [`CallSession`]) and the driver task that runs a phone.

use crate::audio::AudioIo;
use crate::core::{CallEvent, CallId, CallState, CoreOptions, Event, InboundInfo, Outcome, Output, PhoneCore, RegisterError, Ticket};
use crate::core::call::CallFacts;
use crate::core::outbound::Dial;
use crate::error::CallError;
use crate::media::{CallMedia, MediaNote};
use crate::link::Proxy;
use crate::transport::{self, SipSocket};
use futures_util::SinkExt;
use media::PeerConfig;
use rc_dialect::control::{Command, CommandResult};
use rc_dialect::reply::{CallerResponse, Reply};
use rc_dialect::SipInfo;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message as WsMessage;

mod connection;

/// How a phone is set up, besides its sipInfo.
#[derive(Clone)]
pub struct Options {
    /// The `+sip.instance` id (default: the authorizationId, as the seed SDK does).
    pub instance_id: Option<String>,
    /// Print every SIP message sent and received, with a timestamp (secrets redacted).
    pub debug: bool,
    /// Answer calls that ask for it (`Alert-Info: Auto Answer`).
    pub auto_answer: bool,
    /// A CA certificate (PEM) to trust besides the system's, e.g. rc-sim's.
    pub extra_ca_pem: Option<String>,
    /// Where media binds and which STUN servers it uses (the sipInfo's when empty).
    pub media: PeerConfig,
    /// The audio devices.
    pub audio: Arc<dyn AudioIo>,
    /// Input device name (`None`: the default).
    pub input_device: Option<String>,
    /// Output device name (`None`: the default).
    pub output_device: Option<String>,
    /// Keep-alive, reconnect and failover timing.
    pub link: crate::link::LinkSettings,
    /// No final answer to a REGISTER within this time: the connection is dropped and made
    /// again.
    pub register_timeout: Duration,
    /// How often a call's quality is reported ([`PhoneEvent::CallQuality`]).
    pub stats_interval: Duration,
    /// A second inbound call while one is answered is announced by a short call-waiting
    /// tone in the answered call's audio (the app then does not ring; ringcentral-embeddable
    /// #650). On by default.
    pub call_waiting_tone: bool,
    /// The most calls at once; a new inbound call beyond it is answered 486 Busy Here (each
    /// call costs a full WebRTC peer). 8 by default.
    pub max_calls: usize,
}

impl Options {
    /// Default options using `audio`.
    pub fn new(audio: Arc<dyn AudioIo>) -> Options {
        Options {
            instance_id: None,
            debug: false,
            auto_answer: true,
            extra_ca_pem: None,
            media: PeerConfig { bind: vec!["0.0.0.0:0".into()], jitter_buffer: true, ..PeerConfig::default() },
            audio,
            input_device: None,
            output_device: None,
            link: crate::link::LinkSettings::default(),
            register_timeout: Duration::from_secs(5),
            stats_interval: Duration::from_secs(5),
            call_waiting_tone: true,
            max_calls: 8,
        }
    }
}

/// Everything a phone reports.
#[derive(Debug, Clone)]
pub enum PhoneEvent {
    /// Every SIP message received, as text (the seed SDK's `message`).
    Message(String),
    /// Registered for `expires` seconds.
    Registered {
        /// Granted lifetime.
        expires: u32,
    },
    /// Unregistered on request.
    Unregistered,
    /// Registration failed.
    RegistrationFailed(RegisterError),
    /// The connection to the server dropped, with the reason. Answered calls keep their audio;
    /// the phone reconnects by itself ([`PhoneEvent::Reconnecting`]).
    Disconnected(String),
    /// The phone will try to connect again after `wait`.
    Reconnecting {
        /// 1 for the first attempt after a drop.
        attempt: u32,
        /// The proxy (`host:port`) the attempt goes to.
        proxy: String,
        /// How long until the attempt.
        wait: Duration,
        /// Why the connection is down (or why the previous attempt failed).
        reason: String,
    },
    /// The machine's network addresses changed; calls in progress restart their ICE.
    NetworkChanged(media::netwatch::NetworkChange),
    /// A call's media restarted ICE and the far end took the new offer.
    IceRestarted(CallId),
    /// A call's quality over the last [`Options::stats_interval`]: loss, jitter, round trip,
    /// bitrate and an estimated MOS.
    CallQuality(CallId, media::quality::CallQuality),
    /// Connected again (or switched back to the primary proxy); registering follows.
    Reconnected {
        /// The proxy (`host:port`).
        proxy: String,
        /// True when it is `outboundProxyBackup`.
        backup: bool,
    },
    /// A call rings in.
    InboundCall(CallSession, InboundInfo),
    /// We started a call.
    OutboundCall(CallSession),
    /// Something happened to a call.
    Call(CallId, CallEvent),
    /// A call's audio is flowing (the seed SDK's `mediaStreamSet`, when it really plays).
    MediaConnected(CallId),
    /// A call's media connection failed.
    MediaFailed(CallId, String),
    /// An inbound call the server marked for auto-answer will be answered after this delay
    /// (auto-answer is on and no other call is going).
    AutoAnswering(CallId, Duration),
    /// An inbound call the server marked for auto-answer was left ringing, and why (another
    /// call is going: auto-answer never opens the microphone on top of a call).
    AutoAnswerSkipped(CallId, String),
    /// The far end of a call pressed a key.
    DtmfReceived(CallId, char),
    /// A call's microphone or speaker moved to another device by itself: the one in use went
    /// away (the system default takes over), the default changed, or the chosen one is back.
    AudioDeviceChanged(CallId, crate::audio::DeviceChange),
    /// A RingCentral XML message for this device not tied to a command.
    RcMessage(rc_dialect::RcMessage),
    /// Debug mode only: a SIP message sent or received, secrets redacted.
    SipTrace(crate::debug::SipTrace),
}

/// What a call looks like now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStatus {
    /// init, ringing, answered, disposed.
    pub state: CallState,
    /// The final status when it failed.
    pub failed: Option<(u16, String)>,
    /// On hold by us.
    pub held: bool,
    /// Microphone muted.
    pub muted: bool,
}

type Job = Box<dyn FnOnce(&mut Driver, Instant) + Send>;

/// A registered phone. Cheap to clone; every clone drives the same phone.
#[derive(Clone)]
pub struct WebPhone {
    jobs: mpsc::UnboundedSender<Job>,
    events: broadcast::Sender<PhoneEvent>,
    shared: Arc<Shared>,
}

/// What API handles read without asking the driver.
struct Shared {
    info: SipInfo,
    options: Options,
    live: std::sync::Mutex<Live>,
    /// The one 20 ms clock of this phone's calls' audio.
    clock: crate::media::MediaClock,
    /// True while the connection to the server is up.
    connected: std::sync::atomic::AtomicBool,
}

/// The options that may change while the phone runs.
#[derive(Debug, Clone)]
struct Live {
    debug: bool,
    processing: media::processing::ProcessingSettings,
    dtx: bool,
    auto_answer: bool,
    input_device: Option<String>,
    output_device: Option<String>,
}

impl Shared {
    fn live(&self) -> Live {
        self.live.lock().unwrap().clone()
    }
}

impl std::fmt::Debug for WebPhone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPhone").field("username", &self.shared.info.username).finish()
    }
}

impl WebPhone {
    /// Connects to the sipInfo's proxy (the backup when the primary cannot be reached),
    /// registers, and returns once registered.
    pub async fn start(info: SipInfo, options: Options) -> Result<WebPhone, CallError> {
        info.validate().map_err(|e| CallError::Protocol(e.to_string()))?;
        let tls = transport::tls_config(options.extra_ca_pem.as_deref()).map_err(|e| CallError::Protocol(e.to_string()))?;
        let (socket, proxy) = connect_any(&info, tls.clone(), options.link.connect_timeout).await?;
        let instance_id = options.instance_id.clone().unwrap_or_else(|| info.authorization_id.clone());
        let core_opts = CoreOptions {
            codecs: options.media.codecs.clone(),
            register_timeout: options.register_timeout,
            register_retry_base: options.link.register_retry_base,
            register_retry_max: options.link.backoff_max,
            max_calls: options.max_calls,
            ..CoreOptions::new(&instance_id, &format!("RC-Softphone/{}", env!("CARGO_PKG_VERSION")))
        };
        let (link, attempts) = connection::Link::new(&info, options.link.clone(), tls, proxy, Instant::now());
        let (jobs, jobs_rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(4096);
        let live = Live { debug: options.debug, processing: options.media.processing, dtx: options.media.dtx, auto_answer: options.auto_answer, input_device: options.input_device.clone(), output_device: options.output_device.clone() };
        let shared = Arc::new(Shared { info: info.clone(), options, live: std::sync::Mutex::new(live), clock: crate::media::MediaClock::default(), connected: true.into() });
        let phone = WebPhone { jobs, events: events.clone(), shared };
        let driver = Driver::new(PhoneCore::new(info, core_opts), phone.clone(), link);
        tokio::spawn(driver.run(socket, jobs_rx, attempts));
        tokio::spawn(watch_network(phone.clone(), phone.shared.options.link.network_poll));
        if let Err(e) = phone.register().await {
            // Nobody will use this phone: close its connection and end its driver.
            let _ = phone.jobs.send(Box::new(|d: &mut Driver, _| d.closing = true));
            return Err(e);
        }
        Ok(phone)
    }

    /// True while the connection to the server is up (see [`PhoneEvent::Disconnected`] and
    /// [`PhoneEvent::Reconnected`]).
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The account.
    pub fn sip_info(&self) -> &SipInfo {
        &self.shared.info
    }

    /// A stream of everything that happens from now on.
    pub fn events(&self) -> broadcast::Receiver<PhoneEvent> {
        self.events.subscribe()
    }

    /// Registers (again); returns when the server accepted it.
    pub async fn register(&self) -> Result<(), CallError> {
        self.ticket(|core, now| Ok(core.register(now))).await.map(drop)
    }

    /// Unregisters (the seed SDK's `register(0)`): no more inbound calls, outbound calls refused.
    pub async fn unregister(&self) -> Result<(), CallError> {
        self.ticket(|core, now| Ok(core.unregister(now))).await.map(drop)
    }

    /// Calls `dial.callee`; returns once the INVITE is out. Follow it with
    /// [`CallSession::wait_answered`] or the events.
    pub async fn call(&self, dial: Dial) -> Result<CallSession, CallError> {
        let (tx, rx) = oneshot::channel();
        let (id, media_notes) = self.job_with_reply(|d: &mut Driver, _| (d.core.reserve_call_id(), d.notes_tx.clone())).await?;
        let media = CallMedia::new(id, &self.peer_config(), self.shared.options.audio.clone(), self.devices(), media_notes, &self.shared.clock).await?;
        let offer = match media.offer().await {
            Ok(offer) => offer,
            Err(e) => {
                media.close().await;
                return Err(e);
            }
        };
        let job: Job = Box::new(move |d: &mut Driver, now| {
            let result = d.core.call(id, &dial, &offer, now).map(|_ticket| {
                let session = d.adopt_call(id, Some(media.clone()), true);
                d.forward_outputs();
                session
            });
            if result.is_err() {
                tokio::spawn(async move { media.close().await });
            }
            let _ = tx.send(result);
        });
        self.jobs.send(job).map_err(|_| CallError::Disposed)?;
        rx.await.map_err(|_| CallError::Disposed)?
    }

    /// Hangs up or declines every call, unregisters and closes the connection.
    pub async fn dispose(&self) -> Result<(), CallError> {
        let sessions = self.job_with_reply(|d: &mut Driver, _| d.sessions()).await?;
        for s in sessions {
            let _ = s.hangup().await;
        }
        let result = self.unregister().await;
        let _ = self.jobs.send(Box::new(|d: &mut Driver, _| d.closing = true));
        result
    }

    fn peer_config(&self) -> PeerConfig {
        let mut cfg = self.shared.options.media.clone();
        let live = self.shared.live();
        (cfg.processing, cfg.dtx) = (live.processing, live.dtx);
        if cfg.stun_servers.is_empty() {
            cfg.stun_servers = self.shared.info.stun_servers.clone();
        }
        cfg
    }

    fn devices(&self) -> (Option<String>, Option<String>) {
        let live = self.shared.live();
        (live.input_device, live.output_device)
    }

    /// Turns debug mode on or off from now on (see [`Options::debug`]).
    pub fn set_debug(&self, on: bool) {
        self.shared.live.lock().unwrap().debug = on;
    }

    /// Switches the microphone's echo cancellation, noise suppression and gain control, for
    /// the calls in progress at once and for the next ones.
    pub async fn set_processing(&self, settings: media::processing::ProcessingSettings) {
        self.shared.live.lock().unwrap().processing = settings;
        for m in self.call_medias().await {
            m.set_processing(settings);
        }
    }

    /// Turns Opus discontinuous transmission (nothing sent in silences; see
    /// [`PeerConfig::dtx`]) on or off, for the calls in progress at once and for the next ones.
    pub async fn set_dtx(&self, on: bool) {
        self.shared.live.lock().unwrap().dtx = on;
        for m in self.call_medias().await {
            m.set_dtx(on);
        }
    }

    /// The media of the calls in progress (none once the driver has stopped).
    async fn call_medias(&self) -> Vec<Arc<CallMedia>> {
        self.job_with_reply(|d: &mut Driver, _| d.medias.values().cloned().collect()).await.unwrap_or_default()
    }

    /// Turns auto-answer on or off for calls that come in from now on.
    pub fn set_auto_answer(&self, on: bool) {
        self.shared.live.lock().unwrap().auto_answer = on;
    }

    /// The microphone and speaker (`None`: the default) of calls made or answered from now on;
    /// calls in progress keep theirs (see [`CallSession::change_input_device`]).
    pub fn set_devices(&self, input: Option<String>, output: Option<String>) {
        let mut live = self.shared.live.lock().unwrap();
        live.input_device = input;
        live.output_device = output;
    }

    /// Runs `f` in the driver and returns what it returns.
    async fn job_with_reply<T: Send + 'static>(&self, f: impl FnOnce(&mut Driver, Instant) -> T + Send + 'static) -> Result<T, CallError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |d, now| {
            let _ = tx.send(f(d, now));
        });
        self.jobs.send(job).map_err(|_| CallError::Disposed)?;
        rx.await.map_err(|_| CallError::Disposed)
    }

    /// Runs a core command that completes later, and waits for its outcome.
    async fn ticket(&self, f: impl FnOnce(&mut PhoneCore, Instant) -> Result<Ticket, CallError> + Send + 'static) -> Result<Outcome, CallError> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |d, now| match f(&mut d.core, now) {
            Ok(ticket) => {
                d.waiters.insert(ticket, tx);
                d.forward_outputs();
            }
            Err(e) => {
                let _ = tx.send(Err(e));
                d.forward_outputs();
            }
        });
        self.jobs.send(job).map_err(|_| CallError::Disposed)?;
        rx.await.map_err(|_| CallError::Disposed)?
    }
}

/// Reads the network addresses every `every` while the phone runs; on a change, tells the user,
/// restarts every call's ICE and brings a planned reconnect forward.
async fn watch_network(phone: WebPhone, every: Duration) {
    let mut known = media::netwatch::usable_addresses();
    loop {
        tokio::time::sleep(every).await;
        if phone.jobs.is_closed() {
            return;
        }
        let now = media::netwatch::usable_addresses();
        let Some(change) = media::netwatch::change(&known, &now) else { continue };
        known = now;
        phone.on_network_change(change).await;
    }
}

impl WebPhone {
    async fn on_network_change(&self, change: media::netwatch::NetworkChange) {
        let _ = self.events.send(PhoneEvent::NetworkChanged(change));
        let Ok(sessions) = self.job_with_reply(|d: &mut Driver, now| {
            d.reconnect_now(now);
            d.sessions()
        })
        .await
        else {
            return;
        };
        for session in sessions.into_iter().filter(|s| s.status().state == CallState::Answered) {
            let events = self.events.clone();
            tokio::spawn(async move {
                let event = match session.restart_ice().await {
                    Ok(()) => PhoneEvent::IceRestarted(session.id()),
                    Err(e) => PhoneEvent::MediaFailed(session.id(), format!("ICE restart after a network change: {e}")),
                };
                let _ = events.send(event);
            });
        }
    }
}

/// Connects to the primary proxy, or to the backup when the primary cannot be reached.
async fn connect_any(info: &SipInfo, tls: Arc<rustls::ClientConfig>, limit: Duration) -> Result<(SipSocket, Proxy), CallError> {
    match transport::connect(&info.outbound_proxy, tls.clone(), limit).await {
        Ok(s) => Ok((s, Proxy::Primary)),
        Err(primary) if !info.outbound_proxy_backup.is_empty() => match transport::connect(&info.outbound_proxy_backup, tls, limit).await {
            Ok(s) => Ok((s, Proxy::Backup)),
            Err(backup) => Err(CallError::Protocol(format!("{primary}; backup: {backup}"))),
        },
        Err(e) => Err(CallError::Protocol(e.to_string())),
    }
}

/// One call of a phone. Cheap to clone.
#[derive(Clone)]
pub struct CallSession {
    id: CallId,
    phone: WebPhone,
    status: watch::Receiver<CallStatus>,
}

impl std::fmt::Debug for CallSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallSession").field("id", &self.id).field("status", &*self.status.borrow()).finish()
    }
}

/// A warm transfer in progress: the first call is on hold, `target` is the new call.
#[derive(Debug, Clone)]
pub struct WarmTransfer {
    /// The call being transferred (on hold).
    pub original: CallSession,
    /// The consultation call to the transfer target.
    pub target: CallSession,
}

impl WarmTransfer {
    /// Connects the two far parties and ends both of our calls.
    pub async fn complete(&self) -> Result<(), CallError> {
        let (id, other) = (self.original.id, self.target.id);
        self.original.phone.ticket(move |core, now| core.complete_warm_transfer(id, other, now)).await.map(drop)
    }

    /// Hangs up the consultation call and takes the first one off hold.
    pub async fn cancel(&self) -> Result<(), CallError> {
        let _ = self.target.hangup().await;
        self.original.unhold().await
    }
}

impl CallSession {
    /// The call's id inside this phone.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// The call's state now.
    pub fn status(&self) -> CallStatus {
        self.status.borrow().clone()
    }

    /// Call-ID, numbers, tags and RingCentral's sessionId/partyId/rcApiCallInfo/isConference.
    pub async fn info(&self) -> Result<CallFacts, CallError> {
        let id = self.id;
        self.phone.job_with_reply(move |d, _| d.core.call_info(id)).await?.ok_or(CallError::NoSuchCall)
    }

    /// Waits until the call is answered (Ok) or ends first (Err with its status).
    pub async fn wait_answered(&self, timeout: Duration) -> Result<(), CallError> {
        let mut rx = self.status.clone();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|s| matches!(s.state, CallState::Answered | CallState::Disposed))).await;
        let status = match waited {
            Err(_) => return Err(CallError::Timeout("the call was not answered")),
            Ok(Err(_)) => return Err(CallError::Ended),
            Ok(Ok(s)) => s.clone(),
        };
        match (status.state, status.failed) {
            (CallState::Answered, _) => Ok(()),
            (_, Some((status, reason))) => Err(CallError::Rejected { status, reason }),
            _ => Err(CallError::Ended),
        }
    }

    /// Waits until the call is over.
    pub async fn wait_disposed(&self, timeout: Duration) -> Result<(), CallError> {
        let mut rx = self.status.clone();
        let waited = tokio::time::timeout(timeout, rx.wait_for(|s| s.state == CallState::Disposed)).await;
        match waited {
            Err(_) => Err(CallError::Timeout("the call did not end")),
            Ok(_) => Ok(()),
        }
    }

    /// Answers a ringing inbound call with audio.
    pub async fn answer(&self) -> Result<(), CallError> {
        let id = self.id;
        let phone = &self.phone;
        let (offer, notes) = phone.job_with_reply(move |d, _| (d.offers.get(&id).cloned(), d.notes_tx.clone())).await?;
        let offer = offer.ok_or(CallError::NoSuchCall)?;
        let media = CallMedia::new(id, &phone.peer_config(), phone.shared.options.audio.clone(), phone.devices(), notes, &phone.shared.clock).await?;
        let sdp = match &offer {
            Some(offer) => media.answer(offer).await,
            None => media.offer().await,
        };
        let sdp = match sdp {
            Ok(sdp) => sdp,
            Err(e) => {
                media.close().await;
                return Err(e);
            }
        };
        let result = phone
            .job_with_reply(move |d, now| {
                let r = d.core.answer(id, &sdp, now);
                if r.is_ok() {
                    d.medias.insert(id, media.clone());
                } else {
                    tokio::spawn(async move { media.close().await });
                }
                d.forward_outputs();
                r
            })
            .await?;
        result
    }

    /// Declines a ringing call (the caller hears that the call was declined).
    pub async fn decline(&self) -> Result<(), CallError> {
        let id = self.id;
        self.phone.ticket(move |core, now| core.decline(id, now)).await.map(drop)
    }

    /// Sends a ringing call to voicemail.
    pub async fn to_voicemail(&self) -> Result<(), CallError> {
        let id = self.id;
        self.phone.ticket(move |core, now| core.to_voicemail(id, now)).await.map(drop)
    }

    /// Forwards a ringing call to `target`.
    pub async fn forward(&self, target: &str) -> Result<(), CallError> {
        let (id, target) = (self.id, target.to_owned());
        self.phone.ticket(move |core, now| core.forward(id, &target, now)).await.map(drop)
    }

    /// Tells the caller to wait while the user types a reply.
    pub async fn start_reply(&self) -> Result<(), CallError> {
        let id = self.id;
        self.phone.ticket(move |core, now| core.start_reply(id, now)).await.map(drop)
    }

    /// Replies with a text or preset; returns the caller's answer.
    pub async fn reply(&self, reply: Reply) -> Result<CallerResponse, CallError> {
        let id = self.id;
        match self.phone.ticket(move |core, now| core.reply(id, &reply, now)).await? {
            Outcome::CallerResponse(r) => Ok(r),
            other => Err(CallError::Internal(format!("unexpected outcome {other:?}"))),
        }
    }

    /// Cancels an outbound call that has not been answered.
    pub async fn cancel(&self) -> Result<(), CallError> {
        let id = self.id;
        self.phone.job_with_reply(move |d, now| {
            let r = d.core.cancel(id, now);
            d.forward_outputs();
            r
        })
        .await?
    }

    /// Hangs up (or cancels, or declines, depending on the state); returns when the call is gone.
    pub async fn hangup(&self) -> Result<(), CallError> {
        let id = self.id;
        self.phone.ticket(move |core, now| core.hangup(id, now)).await.map(drop)
    }

    /// Puts the call on hold.
    pub async fn hold(&self) -> Result<(), CallError> {
        self.set_hold(true).await
    }

    /// Takes the call off hold.
    pub async fn unhold(&self) -> Result<(), CallError> {
        self.set_hold(false).await
    }

    async fn set_hold(&self, hold: bool) -> Result<(), CallError> {
        let id = self.id;
        self.phone.ticket(move |core, now| core.set_hold(id, hold, now)).await.map(drop)
    }

    /// Stops sending the microphone (local only, no signalling).
    pub async fn mute(&self) -> Result<(), CallError> {
        self.set_muted(true).await
    }

    /// Resumes sending the microphone.
    pub async fn unmute(&self) -> Result<(), CallError> {
        self.set_muted(false).await
    }

    async fn set_muted(&self, muted: bool) -> Result<(), CallError> {
        let id = self.id;
        self.phone
            .job_with_reply(move |d, _| {
                let media = d.medias.get(&id).ok_or(CallError::NoSuchCall)?;
                media.set_muted(muted);
                d.update_status(id, |s| s.muted = muted);
                Ok(())
            })
            .await?
    }

    /// Sends DTMF digits (`0-9 * # A-D`) as RFC 4733 events in the call's RTP stream;
    /// `None` uses the seed SDK's defaults (100 ms tones, 70 ms gaps). Returns once queued.
    pub async fn send_dtmf(&self, digits: &str, duration_ms: Option<u32>, gap_ms: Option<u32>) -> Result<(), CallError> {
        let media = self.media().await?;
        media.send_dtmf(digits, duration_ms.unwrap_or(100), gap_ms.unwrap_or(70))
    }

    /// Blind transfer to `target`; returns when the server has taken the call over.
    pub async fn transfer(&self, target: &str) -> Result<(), CallError> {
        let (id, target) = (self.id, target.to_owned());
        self.phone.ticket(move |core, now| core.transfer(id, &target, now)).await.map(drop)
    }

    /// Holds this call and calls `target`; complete or cancel the returned transfer.
    pub async fn warm_transfer(&self, target: &str, caller_id: Option<String>) -> Result<WarmTransfer, CallError> {
        self.hold().await?;
        let dial = Dial { callee: target.to_owned(), caller_id, headers: Vec::new() };
        let new_call = self.phone.call(dial).await?;
        Ok(WarmTransfer { original: self.clone(), target: new_call })
    }

    /// Starts recording the call.
    pub async fn start_recording(&self) -> Result<CommandResult, CallError> {
        self.control(Command::StartRecording).await
    }

    /// Stops recording the call.
    pub async fn stop_recording(&self) -> Result<CommandResult, CallError> {
        self.control(Command::StopRecording).await
    }

    /// Moves the call to another of the user's numbers.
    pub async fn flip(&self, target: &str) -> Result<CommandResult, CallError> {
        self.control(Command::Flip { target: target.to_owned() }).await
    }

    /// Parks the call; on success hangs up (the park orbit is in the result).
    pub async fn park(&self) -> Result<CommandResult, CallError> {
        let result = self.control(Command::Park).await?;
        if result.succeeded() {
            let _ = self.hangup().await;
        }
        Ok(result)
    }

    async fn control(&self, command: Command) -> Result<CommandResult, CallError> {
        let id = self.id;
        match self.phone.ticket(move |core, now| core.control(id, &command, now)).await? {
            Outcome::Control(r) => Ok(r),
            other => Err(CallError::Internal(format!("unexpected outcome {other:?}"))),
        }
    }

    /// Restarts ICE (new credentials, candidates gathered on the addresses there are now) and
    /// offers the media again in a re-INVITE. The phone does this by itself when the machine's
    /// network changes ([`PhoneEvent::NetworkChanged`]).
    pub async fn restart_ice(&self) -> Result<(), CallError> {
        let media = self.media().await?;
        let offer = media.restart_ice_offer().await?;
        let id = self.id;
        self.phone.ticket(move |core, now| core.reoffer(id, &offer, now)).await.map(drop)
    }

    /// Switches this call's microphone.
    pub async fn change_input_device(&self, device: Option<&str>) -> Result<(), CallError> {
        let media = self.media().await?;
        media.change_input(device)
    }

    /// Switches this call's speaker.
    pub async fn change_output_device(&self, device: Option<&str>) -> Result<(), CallError> {
        let media = self.media().await?;
        media.change_output(device)
    }

    async fn media(&self) -> Result<Arc<CallMedia>, CallError> {
        let id = self.id;
        self.phone.job_with_reply(move |d, _| d.medias.get(&id).cloned()).await?.ok_or(CallError::NoSuchCall)
    }
}

/// The task that owns one phone's connection, core and media.
struct Driver {
    core: PhoneCore,
    phone: WebPhone,
    waiters: HashMap<Ticket, oneshot::Sender<Result<Outcome, CallError>>>,
    statuses: HashMap<CallId, watch::Sender<CallStatus>>,
    medias: HashMap<CallId, Arc<CallMedia>>,
    /// Inbound calls' offers, for `answer`.
    offers: HashMap<CallId, Option<String>>,
    notes_tx: mpsc::UnboundedSender<(CallId, MediaNote)>,
    notes_rx: Option<mpsc::UnboundedReceiver<(CallId, MediaNote)>>,
    outgoing: Vec<String>,
    closing: bool,
    link: connection::Link,
}

impl Driver {
    fn new(core: PhoneCore, phone: WebPhone, link: connection::Link) -> Driver {
        let (notes_tx, notes_rx) = mpsc::unbounded_channel();
        Driver {
            core,
            phone,
            waiters: HashMap::new(),
            statuses: HashMap::new(),
            medias: HashMap::new(),
            offers: HashMap::new(),
            notes_tx,
            notes_rx: Some(notes_rx),
            outgoing: Vec::new(),
            closing: false,
            link,
        }
    }

    async fn run(mut self, socket: SipSocket, mut jobs: mpsc::UnboundedReceiver<Job>, mut attempts: mpsc::UnboundedReceiver<connection::Attempt>) {
        let mut socket = Some(socket);
        let mut notes = self.notes_rx.take().expect("taken once");
        loop {
            let idle = self.core.call_ids().is_empty();
            let wake = [self.core.poll_timeout(), self.link.next_wake(idle)].into_iter().flatten().min().map(tokio::time::Instant::from_std);
            let sleep = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                frame = connection::next_frame(&mut socket) => self.on_socket(&mut socket, frame),
                attempt = attempts.recv() => if let Some(a) = attempt { self.on_attempt(&mut socket, a, Instant::now()) },
                job = jobs.recv() => match job {
                    Some(job) => job(&mut self, Instant::now()),
                    None => break,
                },
                note = notes.recv() => if let Some((id, note)) = note { self.on_media_note(id, note) },
                _ = sleep => {
                    let now = Instant::now();
                    self.core.handle_timeout(now);
                    self.forward_outputs();
                    self.on_link_timers(&mut socket, now);
                }
            }
            if let Err(why) = self.send_outgoing(&mut socket).await {
                self.lose_link(&mut socket, why, Instant::now());
            }
            if self.closing {
                if let Some(s) = socket.as_mut() {
                    let _ = s.close(None).await;
                }
                return;
            }
            if let Some(why) = self.link.drop_requested.take() {
                self.lose_link(&mut socket, why, Instant::now());
            }
        }
    }

    /// Sends what the core produced and a keep-alive ping if one is due. Without a connection
    /// the messages are dropped: the core sends no request while disconnected, and a response
    /// can only answer a request that came on the lost connection.
    async fn send_outgoing(&mut self, socket: &mut Option<SipSocket>) -> Result<(), String> {
        let outgoing = std::mem::take(&mut self.outgoing);
        let Some(s) = socket.as_mut() else { return Ok(()) };
        for text in outgoing {
            self.trace(true, text.as_bytes());
            s.send(WsMessage::text(text)).await.map_err(|e| e.to_string())?;
        }
        self.send_ping(socket).await
    }

    fn emit(&self, event: PhoneEvent) {
        let _ = self.phone.events.send(event);
    }

    /// Debug mode: prints the message and reports it as [`PhoneEvent::SipTrace`].
    fn trace(&self, sent: bool, bytes: &[u8]) {
        if !self.phone.shared.live().debug {
            return;
        }
        let trace = crate::debug::SipTrace::now(sent, bytes);
        crate::debug::print(&trace);
        let _ = self.phone.events.send(PhoneEvent::SipTrace(trace));
    }

    fn on_frame(&mut self, bytes: &[u8]) {
        self.trace(false, bytes);
        self.core.handle_frame(bytes, Instant::now());
        self.forward_outputs();
    }

    /// Acts on and forwards everything the core has to say.
    fn forward_outputs(&mut self) {
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Send(text) => self.outgoing.push(text),
                Output::CloseConnection(why) => self.link.drop_requested = Some(why),
                Output::Event(event) => self.on_event(event),
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        let public = match event {
            Event::Done(ticket, result) => {
                if let Some(tx) = self.waiters.remove(&ticket) {
                    let _ = tx.send(result);
                }
                return;
            }
            Event::Message(text) => PhoneEvent::Message(text),
            Event::Registered { expires } => {
                self.link.registered();
                PhoneEvent::Registered { expires }
            }
            Event::Unregistered => PhoneEvent::Unregistered,
            Event::RegistrationFailed(e) => PhoneEvent::RegistrationFailed(e),
            Event::InboundCall(info) => {
                let session = self.adopt_call(info.id, None, false);
                self.offers.insert(info.id, info.offer.clone());
                self.announce_call_waiting(info.id);
                let _ = self.phone.events.send(PhoneEvent::InboundCall(session.clone(), info.clone()));
                // After the call is told: what auto-answer does is told about that call.
                self.maybe_auto_answer(&session, &info);
                return;
            }
            Event::OutboundCall(_) => return,
            Event::Call(id, e) => {
                self.on_call_event(id, &e);
                PhoneEvent::Call(id, e)
            }
            Event::RcMessage(m) => PhoneEvent::RcMessage(m),
        };
        let _ = self.phone.events.send(public);
    }

    fn on_call_event(&mut self, id: CallId, event: &CallEvent) {
        let media = self.medias.get(&id).cloned();
        match event {
            CallEvent::Ringing => self.update_status(id, |s| s.state = CallState::Ringing),
            CallEvent::Answered { remote_sdp } => {
                if let (Some(media), Some(sdp)) = (media, remote_sdp.clone()) {
                    let notes = self.notes_tx.clone();
                    tokio::spawn(async move {
                        if let Err(e) = media.set_answer(&sdp).await {
                            let _ = notes.send((id, MediaNote::Disconnected(e.to_string())));
                        }
                    });
                }
                self.update_status(id, |s| s.state = CallState::Answered);
            }
            CallEvent::RemoteAnswer(sdp) => {
                if let Some(media) = media {
                    let sdp = sdp.clone();
                    tokio::spawn(async move { media.set_answer(&sdp).await });
                }
            }
            CallEvent::Reoffer(offer) => self.answer_reoffer(id, media, offer.clone()),
            CallEvent::Held(held) => {
                if let Some(m) = &media {
                    m.set_held(*held);
                }
                self.update_status(id, |s| s.held = *held);
            }
            CallEvent::RecordingChanged(_) => {}
            CallEvent::Failed { status, reason } => {
                let failed = Some((*status, reason.clone()));
                self.update_status(id, |s| s.failed = failed);
            }
            CallEvent::Disposed(_) => {
                self.update_status(id, |s| s.state = CallState::Disposed);
                self.statuses.remove(&id);
                self.offers.remove(&id);
                if let Some(media) = self.medias.remove(&id) {
                    tokio::spawn(async move { media.close().await });
                }
            }
        }
    }

    /// Answers the server's re-INVITE from the call's media, in a task (media work takes time).
    fn answer_reoffer(&mut self, id: CallId, media: Option<Arc<CallMedia>>, offer: Option<String>) {
        let jobs = self.phone.jobs.clone();
        tokio::spawn(async move {
            let sdp = match (&media, &offer) {
                (Some(m), Some(offer)) => m.answer(offer).await.map_err(|_| 488),
                (Some(m), None) => m.offer_for_reinvite().await.map_err(|_| 500),
                (None, _) => Err(488),
            };
            let job: Job = Box::new(move |d, now| {
                let _ = d.core.answer_reoffer(id, sdp.as_deref().map_err(|s| *s), now);
                d.forward_outputs();
            });
            let _ = jobs.send(job);
        });
    }

    /// Reports the call's quality every [`Options::stats_interval`] while its media lives, and
    /// tunes the Opus encoder to the loss the far end reports.
    fn start_quality_reports(&self, id: CallId) {
        let Some(media) = self.medias.get(&id) else { return };
        let media = Arc::downgrade(media);
        let events = self.phone.events.clone();
        let every = self.phone.shared.options.stats_interval;
        tokio::spawn(async move {
            let Some(first) = media.upgrade() else { return };
            let (mut before, mut at) = (first.counters().await, Instant::now());
            drop(first);
            loop {
                tokio::time::sleep(every).await;
                let Some(media) = media.upgrade().filter(|m| !m.is_closed()) else { return };
                let now = media.counters().await;
                let mut quality = media::quality::between(&before, &now, at.elapsed(), media.codec());
                if let Some(loss) = now.remote_loss_percent {
                    media.adapt_to_loss(loss);
                }
                (quality.opus_expected_loss, quality.opus_bitrate) = media.opus_target().unzip();
                let _ = events.send(PhoneEvent::CallQuality(id, quality));
                (before, at) = (now, Instant::now());
            }
        });
    }

    fn on_media_note(&mut self, id: CallId, note: MediaNote) {
        let event = match note {
            MediaNote::Connected => {
                self.start_quality_reports(id);
                PhoneEvent::MediaConnected(id)
            }
            MediaNote::Disconnected(why) => PhoneEvent::MediaFailed(id, why),
            MediaNote::Untrusted(why) => {
                // Someone other than the far end the signalling named answered the media:
                // nothing was heard or sent, and the call must not go on in silence.
                self.core.hangup_unless_ending(id, Instant::now());
                self.forward_outputs();
                PhoneEvent::MediaFailed(id, format!("the call was ended: {why}"))
            }
            MediaNote::Dtmf(d) => PhoneEvent::DtmfReceived(id, d),
            MediaNote::AudioDevice(change) => PhoneEvent::AudioDeviceChanged(id, change),
        };
        let _ = self.phone.events.send(event);
    }

    /// Starts tracking a call and returns its session handle.
    fn adopt_call(&mut self, id: CallId, media: Option<Arc<CallMedia>>, outbound: bool) -> CallSession {
        let state = self.core.call_state(id).unwrap_or(CallState::Init);
        let (tx, rx) = watch::channel(CallStatus { state, failed: None, held: false, muted: false });
        self.statuses.insert(id, tx);
        if let Some(m) = media {
            self.medias.insert(id, m);
        }
        let session = CallSession { id, phone: self.phone.clone(), status: rx };
        if outbound {
            let _ = self.phone.events.send(PhoneEvent::OutboundCall(session.clone()));
        }
        session
    }

    fn update_status(&mut self, id: CallId, f: impl FnOnce(&mut CallStatus)) {
        if let Some(tx) = self.statuses.get(&id) {
            tx.send_modify(f);
        }
    }

    fn sessions(&self) -> Vec<CallSession> {
        self.statuses.iter().map(|(id, tx)| CallSession { id: *id, phone: self.phone.clone(), status: tx.subscribe() }).collect()
    }

    /// Plays the call-waiting tone in every answered call that is not on hold, when `new`
    /// arrives beside them.
    fn announce_call_waiting(&self, new: CallId) {
        if !self.phone.shared.options.call_waiting_tone {
            return;
        }
        for (id, status) in &self.statuses {
            let status = status.borrow();
            let talking = *id != new && status.state == CallState::Answered && !status.held;
            if let Some(media) = self.medias.get(id).filter(|_| talking) {
                media.play_call_waiting_tone();
            }
        }
    }

    /// Answers a call the server marked for auto-answer, when auto-answer is on: only when it
    /// is the phone's one call (never a second microphone on top of a call, never two at a
    /// time), and always told ([`PhoneEvent::AutoAnswering`] or
    /// [`PhoneEvent::AutoAnswerSkipped`]).
    fn maybe_auto_answer(&self, session: &CallSession, info: &InboundInfo) {
        let Some(delay) = info.auto_answer_after_ms.filter(|_| self.phone.shared.live().auto_answer) else { return };
        let others = self.statuses.iter().filter(|(id, s)| **id != info.id && s.borrow().state != CallState::Disposed).count();
        if others > 0 {
            let why = "another call is going on: answer it yourself".to_owned();
            let _ = self.phone.events.send(PhoneEvent::AutoAnswerSkipped(info.id, why));
            return;
        }
        let delay = Duration::from_millis(delay);
        let _ = self.phone.events.send(PhoneEvent::AutoAnswering(info.id, delay));
        let session = session.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = session.answer().await;
        });
    }
}

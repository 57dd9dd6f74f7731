//! The simulated service as a sans-IO state machine.
//!
//! The driver ([`crate::server`]) feeds connection events, frames and time in, and carries
//! out the [`Output`]s: frames to send on a connection, connections to close. All SIP state
//! (per-connection transaction layers from `crates/sip`, registrations, calls) lives here, so
//! tests can drive it without sockets.

mod anchor;
mod bots;
mod calls;
mod conference;
mod control;
mod registrar;
mod reoffer;
mod routing;
mod transfer;

pub use anchor::RecordingInfo;
pub use bots::{BotEvent, BotKind, BotReport};
pub use calls::CallInfo;
pub use conference::{BringInError, BroughtIn, ConferenceInfo};
pub use registrar::{Binding, BindingInfo, NonceState, Registrar};

use crate::config::Config;
use calls::Calls;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use sip::builder::{self, LocalEndpoint};
use sip::transaction::{Event, Input, Output as TxOutput, Timers, TransactionKey, TransactionLayer};
use sip::{HeaderName, Message, Request, Response, SipUri};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Identifies one WebSocket connection.
pub type ConnId = u64;

/// Which listener a connection came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Listener {
    /// The `outboundProxy` listener.
    Primary,
    /// The `outboundProxyBackup` listener.
    Backup,
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send one text frame on a connection.
    Send {
        /// The connection.
        conn: ConnId,
        /// The SIP message.
        text: String,
    },
    /// Close a connection.
    Close(ConnId),
    /// Start a media bot for call `call` and answer `offer` with it ([`Core::on_bot_answer`]).
    StartBot {
        /// The call.
        call: u64,
        /// Which bot.
        bot: BotKind,
        /// The caller's SDP offer.
        offer: String,
        /// The conference room (the dialled `conf_…` number) for the conference bot.
        room: Option<String>,
    },
    /// Start a calling bot for call `call`: it makes an offer ([`Core::on_bot_offer`]).
    StartCallerBot {
        /// The call.
        call: u64,
        /// Which bot.
        bot: BotKind,
    },
    /// SDP for a running bot: a new offer to answer (re-INVITE), or the answer to its own offer.
    BotRemoteSdp {
        /// The call.
        call: u64,
        /// The SDP.
        sdp: String,
    },
    /// Stop the bot of call `call`.
    StopBot(u64),
    /// Tell the media hub.
    Hub(crate::hub::HubCommand),
    /// Connect hub port `port` to conference room `room` (the `conf_…` number) instead of a
    /// partner: it hears everyone in the room, and they hear it.
    JoinRoom {
        /// The port.
        port: crate::hub::PortId,
        /// The room.
        room: String,
    },
    /// Start bot `bot` as a participant of conference room `room` with no media leg of its own
    /// (it plays into the room); [`Output::StopBot`] with `call` ends it.
    StartRoomBot {
        /// The call standing for it.
        call: u64,
        /// Which bot.
        bot: BotKind,
        /// The room.
        room: String,
    },
}

/// Direction of a logged message, seen from rc-sim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Received from a client.
    In,
    /// Sent to a client.
    Out,
}

/// One logged SIP message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Milliseconds since the server started.
    pub at_ms: u64,
    /// The connection.
    pub conn: ConnId,
    /// Received or sent.
    pub direction: Direction,
    /// The message text.
    pub text: String,
}

/// A random token for file names another local user must not guess.
pub fn unguessable() -> String {
    use rand::Rng as _;
    rand::rng().sample_iter(rand::distr::Alphanumeric).take(12).map(char::from).collect()
}

/// The most messages the log keeps (about 7 KB a call: some 3000 calls).
pub const MAX_LOG: usize = 20_000;

/// Faults a test can switch on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Faults {
    /// Drop REGISTER requests without answering.
    #[serde(default)]
    pub ignore_register: bool,
    /// Answer REGISTER with 503 Service Unavailable.
    #[serde(default)]
    pub register_503: bool,
    /// Drop every request without answering (a server that stopped responding).
    #[serde(default)]
    pub stop_answering: bool,
    /// Answer every request but ACK with 503 Service Unavailable.
    #[serde(default)]
    pub answer_503: bool,
    /// Hold every frame rc-sim sends for this many milliseconds (a slow network or server).
    #[serde(default)]
    pub delay_ms: u64,
    /// Stop reading every connection: no SIP is answered and WebSocket pings get no pong (a
    /// hung server or a dead network path, as a client's keep-alive sees it).
    #[serde(default)]
    pub freeze: bool,
    /// The primary listener is down: it drops every connection, open or new (the backup
    /// listener keeps working).
    #[serde(default)]
    pub refuse_primary: bool,
    /// The REST API answers every API call (`/restapi/v1.0/…`) with 429 and `Retry-After:`
    /// this many seconds while set (the OAuth endpoints are not limited).
    #[serde(default)]
    pub rest_rate_limit: Option<u32>,
    /// After a warm transfer, send each remaining client an UPDATE with a new offer, as
    /// RingCentral did in ringcentral-web-phone PR #407 (not seen everywhere, hence off by
    /// default); a client that answers it without SDP loses the call.
    #[serde(default)]
    pub update_after_warm_transfer: bool,
    /// The REST API answers every API call (`/restapi/v1.0/…`) with 503.
    #[serde(default, rename = "rest5xx")]
    pub rest_5xx: bool,
}

/// What the caller "answers" to a reply-with-text (the scripted keys of the caller side).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyAnswer {
    /// `Resp` of SessionClose: "1" yes, "2" no, "3" urgent.
    pub resp: String,
    /// `ExtNfo`: the callback number for an urgent answer.
    #[serde(default)]
    pub ext_nfo: String,
}

impl Default for ReplyAnswer {
    fn default() -> Self {
        Self { resp: "1".into(), ext_nfo: String::new() }
    }
}

/// A dropped connection whose device registered there: its answered calls wait for it.
#[derive(Debug)]
struct Detached {
    ext: usize,
    instance: String,
    deadline: Instant,
}

struct Conn {
    layer: TransactionLayer,
    /// rc-sim's Via and Contact identity on this connection's listener.
    local: LocalEndpoint,
}

/// The text with every digest `response="…"` value replaced: secrets never reach a log.
fn redact_digest_responses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("response=\"") {
        let value_at = i + "response=\"".len();
        out.push_str(&rest[..value_at]);
        out.push_str("<redacted>");
        rest = &rest[value_at..];
        rest = rest.find('"').map_or("", |end| &rest[end..]);
    }
    out.push_str(rest);
    out
}

/// rc-sim's identity toward `conn` (a default one if the connection is gone).
fn endpoint(conns: &HashMap<ConnId, Conn>, conn: ConnId) -> LocalEndpoint {
    conns.get(&conn).map_or_else(|| local_endpoint(None), |c| c.local.clone())
}

/// Via `127.0.0.1:port`, Contact `sip:rc-sim@127.0.0.1:port;transport=wss`, a RingCentral-like User-Agent.
fn local_endpoint(port: Option<u16>) -> LocalEndpoint {
    let mut contact = SipUri::new(Some("rc-sim"), "127.0.0.1").with_param("transport", Some("wss"));
    contact.port = port;
    LocalEndpoint {
        transport: "WSS".into(),
        via_host: "127.0.0.1".into(),
        via_port: port,
        contact,
        user_agent: Some("RC_SIPWRP_rc-sim".into()),
    }
}

/// The whole service state.
pub struct Core {
    cfg: Config,
    started: Instant,
    ports: HashMap<Listener, u16>,
    conns: HashMap<ConnId, Conn>,
    registrar: Registrar,
    calls: Calls,
    rng: StdRng,
    out: VecDeque<Output>,
    log: Vec<LogEntry>,
    /// Entries dropped from the front of the log to keep it within [`MAX_LOG`].
    log_dropped: usize,
    faults: Faults,
    /// Dropped connections whose answered calls wait for their device to come back.
    detached: HashMap<ConnId, Detached>,
    bot_reports: Vec<BotReport>,
    reply_answer: ReplyAnswer,
    /// Parties waiting in a park orbit (`801`, …).
    parked: HashMap<String, calls::Leg>,
    /// Legs released by park or transfer whose BYE is still to come, by Call-ID.
    released: HashMap<String, calls::Leg>,
    next_port: crate::hub::PortId,
    /// Devices to ring once their port's offer is ready.
    pending_rings: HashMap<crate::hub::PortId, (u64, Binding)>,
    recordings: Vec<RecordingInfo>,
    recordings_dir: std::path::PathBuf,
    /// Conferences the REST API made, by session id.
    conferences: HashMap<String, conference::Conference>,
}

impl Core {
    /// A service for `cfg` whose listeners use `ports`; `seed` fixes its random choices.
    pub fn new(cfg: Config, ports: HashMap<Listener, u16>, seed: u64, now: Instant) -> Self {
        let registrar = Registrar::new(Duration::from_secs(cfg.nonce_lifetime_secs));
        Self {
            cfg,
            started: now,
            ports,
            conns: HashMap::new(),
            registrar,
            calls: Calls::default(),
            rng: StdRng::seed_from_u64(seed),
            out: VecDeque::new(),
            log: Vec::new(),
            log_dropped: 0,
            faults: Faults::default(),
            detached: HashMap::new(),
            bot_reports: Vec::new(),
            reply_answer: ReplyAnswer::default(),
            parked: HashMap::new(),
            released: HashMap::new(),
            next_port: 0,
            pending_rings: HashMap::new(),
            recordings: Vec::new(),
            recordings_dir: std::env::temp_dir(),
            conferences: HashMap::new(),
        }
    }

    /// A client connected.
    pub fn on_open(&mut self, conn: ConnId, listener: Listener) {
        let local = local_endpoint(self.ports.get(&listener).copied());
        self.conns.insert(conn, Conn { layer: TransactionLayer::new(Timers::RELIABLE), local });
    }

    /// A client sent a frame.
    pub fn on_frame(&mut self, conn: ConnId, bytes: &[u8], now: Instant) {
        let text = String::from_utf8_lossy(bytes).into_owned();
        self.log_message(conn, Direction::In, text, now);
        if bytes.iter().all(|b| matches!(b, b'\r' | b'\n' | b' ')) {
            return; // RFC 5626 keep-alive
        }
        let Some(c) = self.conns.get_mut(&conn) else { return };
        c.layer.handle_input(Input::Received(bytes), now);
        self.flush(now);
    }

    /// A connection closed.
    pub fn on_closed(&mut self, conn: ConnId, now: Instant) {
        if self.conns.remove(&conn).is_none() {
            return; // closed already (a dropped connection's task reports its end too)
        }
        let binding = self.registrar.binding_of_conn(conn, now).map(|b| (b.ext, b.instance.clone()));
        self.registrar.forget_conn(conn);
        let grace = Duration::from_secs(self.cfg.reconnect_grace_secs);
        match binding {
            Some((ext, instance)) if !grace.is_zero() => {
                self.connection_lost(conn, true, now);
                if !self.calls.on_conn(conn).is_empty() {
                    self.detached.insert(conn, Detached { ext, instance, deadline: now + grace });
                }
            }
            _ => self.connection_lost(conn, false, now),
        }
        self.flush(now);
    }

    /// A device registered on `conn`: the calls of its dropped connection, if any, move here.
    fn reattach(&mut self, conn: ConnId, ext: usize, instance: &str) {
        let old: Vec<ConnId> = self.detached.iter().filter(|(_, d)| d.ext == ext && d.instance == instance).map(|(c, _)| *c).collect();
        for old in old {
            self.detached.remove(&old);
            self.calls.move_conn(old, conn);
        }
    }

    /// Ends the calls of dropped connections whose device did not come back in time.
    fn expire_detached(&mut self, now: Instant) {
        let gone: Vec<ConnId> = self.detached.iter().filter(|(_, d)| d.deadline <= now).map(|(c, _)| *c).collect();
        for conn in gone {
            self.detached.remove(&conn);
            self.connection_lost(conn, false, now);
        }
    }

    /// Time passed; handle due timers.
    pub fn on_timeout(&mut self, now: Instant) {
        for c in self.conns.values_mut() {
            if c.layer.poll_timeout().is_some_and(|t| t <= now) {
                c.layer.handle_input(Input::Timeout, now);
            }
        }
        self.registrar.expire(now);
        self.expire_detached(now);
        self.ring_timeouts(now);
        self.flush(now);
    }

    /// When [`on_timeout`](Self::on_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let layers = self.conns.values().filter_map(|c| c.layer.poll_timeout());
        let detached = self.detached.values().map(|d| d.deadline);
        layers.chain(self.registrar.next_expiry()).chain(self.calls.next_deadline()).chain(detached).min()
    }

    /// The next thing for the driver to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Every SIP message sent and received so far.
    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// How many messages were ever logged (kept or dropped).
    pub fn log_total(&self) -> usize {
        self.log_dropped + self.log.len()
    }

    /// The kept messages logged after the first `total` ever logged.
    pub fn log_since(&self, total: usize) -> &[LogEntry] {
        &self.log[total.saturating_sub(self.log_dropped).min(self.log.len())..]
    }

    /// Live registrations.
    pub fn registrations(&self, now: Instant) -> Vec<BindingInfo> {
        self.registrar
            .all(now)
            .map(|b| BindingInfo {
                number: self.cfg.extensions[b.ext].number.clone(),
                instance: b.instance.clone(),
                conn: b.conn,
                contact: b.contact.clone(),
                expires_in: b.expires_at.saturating_duration_since(now).as_secs(),
            })
            .collect()
    }

    /// Calls in progress.
    pub fn calls(&self) -> Vec<CallInfo> {
        self.calls.infos()
    }

    /// Sets the faults to inject.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// Sets what callers answer to a reply-with-text.
    pub fn set_reply_answer(&mut self, answer: ReplyAnswer) {
        self.reply_answer = answer;
    }

    /// The faults in force.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Closes a connection from the server side (a dropped network, as seen by the client).
    pub fn drop_connection(&mut self, conn: ConnId, now: Instant) {
        self.out.push_back(Output::Close(conn));
        self.on_closed(conn, now);
    }

    /// Sends raw text to a connection (malformed-message injection).
    pub fn send_raw(&mut self, conn: ConnId, text: String, now: Instant) {
        self.log_message(conn, Direction::Out, text.clone(), now);
        self.out.push_back(Output::Send { conn, text });
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn log_message(&mut self, conn: ConnId, direction: Direction, text: String, now: Instant) {
        let at_ms = now.saturating_duration_since(self.started).as_millis() as u64;
        self.log.push(LogEntry { at_ms, conn, direction, text: redact_digest_responses(&text) });
        if self.log.len() > MAX_LOG + MAX_LOG / 4 {
            // A long-running server (the app's demo, a benchmark) keeps the newest messages.
            let excess = self.log.len() - MAX_LOG;
            self.log.drain(..excess);
            self.log_dropped += excess;
        }
    }

    /// Drains every transaction layer until nothing more happens.
    fn flush(&mut self, now: Instant) {
        loop {
            let mut events = Vec::new();
            for (&id, c) in self.conns.iter_mut() {
                while let Some(o) = c.layer.poll_output() {
                    match o {
                        TxOutput::Send(m) => events.push((id, Err(m))),
                        TxOutput::Event(e) => events.push((id, Ok(e))),
                    }
                }
            }
            if events.is_empty() {
                return;
            }
            for (conn, item) in events {
                match item {
                    Err(msg) => self.emit(conn, msg, now),
                    Ok(event) => self.on_event(conn, event, now),
                }
            }
        }
    }

    fn emit(&mut self, conn: ConnId, mut msg: Message, now: Instant) {
        let headers = match &mut msg {
            Message::Request(r) => &mut r.headers,
            Message::Response(r) => &mut r.headers,
        };
        // The seed SDK reads `headers["Call-Id"]` case-sensitively (docs/seed-sdk-wire-notes.md).
        headers.respell(HeaderName::CallId, "Call-Id");
        let text = msg.to_string();
        self.log_message(conn, Direction::Out, text.clone(), now);
        self.out.push_back(Output::Send { conn, text });
    }

    fn on_event(&mut self, conn: ConnId, event: Event, now: Instant) {
        match event {
            Event::Request { key, request } => self.on_request(conn, key, request, now),
            Event::Response { key, response } => self.on_response(conn, key, response, now),
            // ACKs of our 2xx need nothing: the dialogs are already confirmed.
            Event::Ack(_) => {}
            Event::Timeout { key } => self.on_tx_timeout(conn, &key, now),
            Event::Terminated { .. } | Event::StrayResponse(_) | Event::Malformed(_) => {}
        }
    }

    fn respond(&mut self, conn: ConnId, req: &Request, status: u16, tag: Option<&str>, now: Instant) {
        let resp = builder::response(req, status, tag);
        self.send_response(conn, resp, now);
    }

    fn send_response(&mut self, conn: ConnId, resp: Response, now: Instant) {
        if let Some(c) = self.conns.get_mut(&conn) {
            if c.layer.send_response(resp.clone(), now).is_err() {
                // No server transaction (e.g. a late answer): send it anyway, as RFC 6026 allows for 2xx.
                c.layer.send_stateless(resp);
            }
        }
    }

    fn send_request(&mut self, conn: ConnId, req: Request, now: Instant) -> Option<TransactionKey> {
        self.conns.get_mut(&conn).and_then(|c| c.layer.send_request(req, now).ok())
    }

    fn send_stateless(&mut self, conn: ConnId, msg: impl Into<Message>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.layer.send_stateless(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn digest_responses_are_redacted() {
        let text = "Authorization: Digest username=\"1\", response=\"0123abcd\", uri=\"sip:x\"\r\n";
        let red = super::redact_digest_responses(text);
        assert!(!red.contains("0123abcd"), "{red}");
        assert!(red.contains("response=\"<redacted>\", uri=\"sip:x\""), "{red}");
        assert_eq!(super::redact_digest_responses("no secrets"), "no secrets");
    }

    #[test]
    fn the_log_keeps_the_newest_messages_and_counts_every_one() {
        let now = std::time::Instant::now();
        let mut core = super::Core::new(crate::Config::demo(), std::collections::HashMap::new(), 1, now);
        let n = super::MAX_LOG * 2;
        for i in 0..n {
            core.log_message(1, super::Direction::In, format!("m{i}"), now);
        }
        assert_eq!(core.log_total(), n, "every message counted");
        assert!(core.log().len() <= super::MAX_LOG + super::MAX_LOG / 4, "bounded: {}", core.log().len());
        assert_eq!(core.log().last().unwrap().text, format!("m{}", n - 1), "the newest kept");
        let tail: Vec<&str> = core.log_since(n - 2).iter().map(|e| e.text.as_str()).collect();
        assert_eq!(tail, [format!("m{}", n - 2), format!("m{}", n - 1)]);
        assert!(core.log_since(0).len() == core.log().len(), "what was dropped is gone, the rest is there");
    }
}

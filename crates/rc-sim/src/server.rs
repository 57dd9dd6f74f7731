//! The IO side: WSS listeners, one task per connection, the core's timers, and a handle.

use crate::config::Config;
use crate::bots::{self, BotControl, BotOutput};
use crate::core::{BindingInfo, BotReport, CallInfo, ConnId, Core, Faults, Listener, LogEntry, Output};
use rc_dialect::SipInfo;
use crate::tls::{TlsError, TlsMaterial};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request as WsRequest, Response as WsResponse};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The largest SIP message accepted in one frame.
pub const MAX_FRAME: usize = 256 * 1024;

/// How to start a server.
#[derive(Debug)]
pub struct ServerOptions {
    /// Accounts.
    pub config: Config,
    /// Address to bind (127.0.0.1 by default).
    pub bind: IpAddr,
    /// Port of the primary listener (0: any free port).
    pub port: u16,
    /// Port of the backup listener (0: any free port).
    pub backup_port: u16,
    /// Certificates; generated for 127.0.0.1 and localhost when `None`.
    pub tls: Option<TlsMaterial>,
    /// Seed of the random choices (tags, nonces); from the clock when `None`.
    pub seed: Option<u64>,
    /// Where the voicemail bot and call recording write WAV files.
    pub recordings: PathBuf,
    /// Port of the HTTPS REST API (0: any free port).
    pub rest_port: u16,
}

impl ServerOptions {
    /// Loopback, any free ports, fresh certificates.
    pub fn loopback(config: Config) -> Self {
        Self {
            config,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            backup_port: 0,
            tls: None,
            seed: None,
            recordings: private_temp_dir(),
            rest_port: 0,
        }
    }
}

/// A directory under the system's temp dir whose name no other user can guess (recordings
/// of a test or demo server; the app passes its own data directory instead).
fn private_temp_dir() -> PathBuf {
    use rand::Rng as _;
    let token: String = rand::rng().sample_iter(rand::distr::Alphanumeric).take(16).map(char::from).collect();
    std::env::temp_dir().join(format!("rc-sim-{}-{token}", std::process::id()))
}

/// Creates `dir` (and its parents) for recordings of people's voices: only the user may
/// enter it (0700 on Unix). An existing directory is tightened the same way.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Certificates could not be made or used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The recordings directory could not be made.
    #[error("cannot create {path}: {source}")]
    Recordings {
        /// The directory.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
}

enum Command {
    Open(ConnId, Listener, mpsc::UnboundedSender<WsMessage>),
    Frame(ConnId, Vec<u8>),
    Closed(ConnId),
    Registrations(oneshot::Sender<Vec<BindingInfo>>),
    Calls(oneshot::Sender<Vec<CallInfo>>),
    Log(oneshot::Sender<Vec<LogEntry>>),
    Faults(Faults),
    Drop(ConnId),
    Raw(ConnId, String),
    RawBytes(ConnId, Vec<u8>),
    Bot(u64, crate::core::BotKind, BotOutput),
    BotReports(oneshot::Sender<Vec<BotReport>>),
    CallerBot(crate::core::BotKind, String, Option<u32>, oneshot::Sender<Result<u64, String>>),
    ReplyAnswer(crate::core::ReplyAnswer),
    Hub(crate::hub::HubReport),
    Recordings(oneshot::Sender<Vec<crate::core::RecordingInfo>>),
    Rest(crate::http::Request, oneshot::Sender<crate::http::Response>),
    HangUp(u64, oneshot::Sender<bool>),
    MoveMedia(String, oneshot::Sender<bool>),
    Shutdown,
}

/// A running server: its addresses, its CA, and ways to inspect and steer it.
#[derive(Clone)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Command>,
    log_tx: broadcast::Sender<LogEntry>,
    /// The primary (outboundProxy) address.
    pub primary: SocketAddr,
    /// The backup (outboundProxyBackup) address.
    pub backup: SocketAddr,
    /// The HTTPS REST API's address (`docs/rest-api.md`).
    pub rest: SocketAddr,
    /// PEM of the CA to trust.
    pub ca_pem: String,
    config: Arc<Config>,
}

impl Handle {
    /// The sipInfo of the extension with this number.
    pub fn sip_info(&self, number: &str) -> Option<SipInfo> {
        let (_, ext) = self.config.extension_by_number(number)?;
        Some(crate::sipinfo::for_extension(&self.config, ext, self.primary, self.backup))
    }

    /// The sipInfo of one more device of extension `number`: the one whose authorizationId is
    /// `authorization_id` (see `Extension::devices`).
    pub fn device_sip_info(&self, number: &str, authorization_id: &str) -> Option<SipInfo> {
        let (_, ext) = self.config.extension_by_number(number)?;
        let device = ext.devices.iter().find(|d| d.authorization_id == authorization_id)?;
        let mut info = crate::sipinfo::for_extension(&self.config, ext, self.primary, self.backup);
        info.authorization_id = device.authorization_id.clone();
        info.password = device.password.clone();
        Some(info)
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The REST API's base URL, `https://127.0.0.1:{port}` (the server URL a REST client
    /// takes; trust [`Handle::ca_pem`]).
    pub fn rest_url(&self) -> String {
        format!("https://{}", self.rest)
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).ok()?;
        rx.await.ok()
    }

    /// Live registrations.
    pub async fn registrations(&self) -> Vec<BindingInfo> {
        self.ask(Command::Registrations).await.unwrap_or_default()
    }

    /// Calls in progress.
    pub async fn calls(&self) -> Vec<CallInfo> {
        self.ask(Command::Calls).await.unwrap_or_default()
    }

    /// Every SIP message so far.
    pub async fn log(&self) -> Vec<LogEntry> {
        self.ask(Command::Log).await.unwrap_or_default()
    }

    /// Messages logged from now on.
    pub fn subscribe_log(&self) -> broadcast::Receiver<LogEntry> {
        self.log_tx.subscribe()
    }

    /// The call recordings written so far (startcallrecord … stopcallrecord or hang-up).
    pub async fn recordings(&self) -> Vec<crate::core::RecordingInfo> {
        self.ask(Command::Recordings).await.unwrap_or_default()
    }

    /// What the bots reported (DTMF digits, recordings, failures).
    pub async fn bot_reports(&self) -> Vec<BotReport> {
        self.ask(Command::BotReports).await.unwrap_or_default()
    }

    /// Has a bot call extension `number` (a demo or test inbound call); returns the call id.
    /// With a `conf_…` number, the tone bot joins that conference instead (it plays 440 Hz
    /// into the room; [`hang_up`](Self::hang_up) takes it out).
    pub async fn call_extension(&self, bot: crate::core::BotKind, number: &str) -> Result<u64, String> {
        self.call_extension_auto(bot, number, None).await
    }

    /// Like [`call_extension`](Self::call_extension), asking the device to answer by itself
    /// after `auto_answer_ms` (when given).
    pub async fn call_extension_auto(&self, bot: crate::core::BotKind, number: &str, auto_answer_ms: Option<u32>) -> Result<u64, String> {
        let number = number.to_owned();
        self.ask(|tx| Command::CallerBot(bot, number, auto_answer_ms, tx)).await.unwrap_or_else(|| Err("rc-sim stopped".into()))
    }

    /// Sets what callers answer to a reply-with-text (SessionClose `Resp` and `ExtNfo`).
    pub fn set_reply_answer(&self, answer: crate::core::ReplyAnswer) {
        let _ = self.tx.send(Command::ReplyAnswer(answer));
    }

    /// Ends call `id` (as [`calls`](Self::calls) lists it) from rc-sim's side: BYE to its
    /// answered clients, its bot stopped; false when there is no such call.
    pub async fn hang_up(&self, id: u64) -> bool {
        self.ask(|tx| Command::HangUp(id, tx)).await.unwrap_or(false)
    }

    /// Moves the answered call of extension `number` to another media server (a re-INVITE
    /// with new ICE credentials, certificate and address, as a RingCentral takeover does).
    /// False when that extension has no answered call.
    pub async fn move_media(&self, number: &str) -> bool {
        let number = number.to_owned();
        self.ask(|tx| Command::MoveMedia(number, tx)).await.unwrap_or(false)
    }

    /// Switches faults on or off.
    pub fn set_faults(&self, faults: Faults) {
        let _ = self.tx.send(Command::Faults(faults));
    }

    /// Drops a client's connection.
    pub fn drop_connection(&self, conn: ConnId) {
        let _ = self.tx.send(Command::Drop(conn));
    }

    /// Sends raw text to a client (to inject malformed messages).
    pub fn send_raw(&self, conn: ConnId, text: &str) {
        let _ = self.tx.send(Command::Raw(conn, text.to_owned()));
    }

    /// Sends raw bytes to a client as one binary frame (e.g. invalid UTF-8). Not logged.
    pub fn send_raw_bytes(&self, conn: ConnId, bytes: Vec<u8>) {
        let _ = self.tx.send(Command::RawBytes(conn, bytes));
    }

    /// Stops the server: its listeners close (their ports can be bound again) and every
    /// connection is closed.
    pub fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown);
    }
}

/// Binds the listeners and starts the server on the current tokio runtime.
pub async fn start(opts: ServerOptions) -> Result<Handle, ServerError> {
    let tls = match opts.tls {
        Some(t) => t,
        None => TlsMaterial::generate(&["127.0.0.1", "localhost"])?,
    };
    let acceptor = TlsAcceptor::from(tls.server_config()?);
    let bind = |port| async move {
        let addr = SocketAddr::new(opts.bind, port);
        TcpListener::bind(addr).await.map_err(|source| ServerError::Bind { addr, source })
    };
    let primary = bind(opts.port).await?;
    let backup = bind(opts.backup_port).await?;
    let rest_listener = bind(opts.rest_port).await?;
    let (primary_addr, backup_addr, rest_addr) = (local_addr(&primary), local_addr(&backup), local_addr(&rest_listener));
    let (tx, rx) = mpsc::unbounded_channel();
    let (log_tx, _) = broadcast::channel(4096);
    let ports = HashMap::from([(Listener::Primary, primary_addr.port()), (Listener::Backup, backup_addr.port())]);
    let seed = opts.seed.unwrap_or_else(clock_seed);
    let mut core = Core::new(opts.config.clone(), ports, seed, Instant::now());
    core.set_recordings_dir(opts.recordings.clone());
    create_private_dir(&opts.recordings).map_err(|source| ServerError::Recordings { path: opts.recordings.clone(), source })?;
    let hub = {
        let tx = tx.clone();
        crate::hub::spawn(opts.config.media.peer_config(), move |report| drop(tx.send(Command::Hub(report))))
    };
    let (faults, faults_rx) = watch::channel(Faults::default());
    let driver = Driver { writers: HashMap::new(), delay: Duration::ZERO, faults, bots: HashMap::new(), rooms: HashMap::new(), tx: tx.clone(), recordings: opts.recordings.clone(), hub, media: opts.config.media.peer_config() };
    let rest = crate::rest::RestState { oauth: crate::oauth::OAuth::new(opts.config.clone(), seed), primary: primary_addr, backup: backup_addr };
    tokio::spawn(run_core(core, driver, rest, rx, log_tx.clone()));
    let submit = {
        let tx = tx.clone();
        move |req| {
            let (reply, answer) = oneshot::channel();
            let sent = tx.send(Command::Rest(req, reply)).is_ok();
            async move {
                match sent {
                    true => answer.await.ok(),
                    false => None,
                }
            }
        }
    };
    let closed = {
        let tx = tx.clone();
        async move { tx.closed().await }
    };
    tokio::spawn(crate::rest::accept_loop(rest_listener, acceptor.clone(), submit, closed));
    tokio::spawn(accept_loop(primary, Listener::Primary, acceptor.clone(), tx.clone(), faults_rx.clone()));
    tokio::spawn(accept_loop(backup, Listener::Backup, acceptor, tx.clone(), faults_rx));
    Ok(Handle { tx, log_tx, primary: primary_addr, backup: backup_addr, rest: rest_addr, ca_pem: tls.ca_pem, config: Arc::new(opts.config) })
}

fn local_addr(l: &TcpListener) -> SocketAddr {
    l.local_addr().expect("a bound listener has an address")
}

fn clock_seed() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.as_nanos() as u64 ^ u64::from(std::process::id())
}

async fn accept_loop(listener: TcpListener, kind: Listener, acceptor: TlsAcceptor, tx: mpsc::UnboundedSender<Command>, faults: watch::Receiver<Faults>) {
    let mut next_id: ConnId = match kind {
        Listener::Primary => 1,
        Listener::Backup => 1 << 32,
    };
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = tx.closed() => return, // shut down: free the port
        };
        let Ok((tcp, _)) = accepted else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        if tx.is_closed() {
            return;
        }
        if is_down(kind, &faults.borrow()) {
            continue; // dropping the socket closes it
        }
        let id = next_id;
        next_id += 1;
        tokio::spawn(serve_connection(tcp, id, kind, acceptor.clone(), tx.clone(), faults.clone()));
    }
}

/// Accepts only clients that offer the `sip` subprotocol, and echoes it.
#[allow(clippy::result_large_err)]
fn negotiate_sip(req: &WsRequest, mut resp: WsResponse) -> Result<WsResponse, ErrorResponse> {
    let offers_sip = req
        .headers()
        .get_all("Sec-WebSocket-Protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("sip")));
    if !offers_sip {
        let mut err = ErrorResponse::new(Some("the sip subprotocol is required".into()));
        *err.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::BAD_REQUEST;
        return Err(err);
    }
    resp.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
    Ok(resp)
}

/// True when faults take listener `kind` down.
fn is_down(kind: Listener, faults: &Faults) -> bool {
    kind == Listener::Primary && faults.refuse_primary
}

async fn serve_connection(tcp: TcpStream, id: ConnId, kind: Listener, acceptor: TlsAcceptor, tx: mpsc::UnboundedSender<Command>, mut faults: watch::Receiver<Faults>) {
    let _ = tcp.set_nodelay(true);
    let Ok(tls) = acceptor.accept(tcp).await else { return };
    let config = WebSocketConfig::default().max_message_size(Some(MAX_FRAME)).max_frame_size(Some(MAX_FRAME));
    let Ok(ws) = tokio_tungstenite::accept_hdr_async_with_config(tls, negotiate_sip, Some(config)).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<WsMessage>();
    if tx.send(Command::Open(id, kind, out_tx)).is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(msg) = out_rx.recv().await {
            let closing = matches!(msg, WsMessage::Close(_));
            if sink.send(msg).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });
    loop {
        let msg = tokio::select! {
            msg = stream.next() => msg,
            () = async { drop(faults.wait_for(|f| f.freeze || is_down(kind, f)).await) } => {
                if is_down(kind, &faults.borrow()) {
                    break;
                }
                // Frozen: read nothing (so no SIP and no pong) until thawed or taken down.
                let _ = faults.wait_for(|f| !f.freeze || is_down(kind, f)).await;
                continue;
            }
        };
        let Some(Ok(msg)) = msg else { break };
        let bytes = match msg {
            WsMessage::Text(t) => t.as_bytes().to_vec(),
            WsMessage::Binary(b) => b.to_vec(),
            WsMessage::Close(_) => break,
            _ => continue,
        };
        if tx.send(Command::Frame(id, bytes)).is_err() {
            break;
        }
    }
    let _ = tx.send(Command::Closed(id));
    writer.abort();
}

/// The IO the core's outputs turn into: connection writers and running bots.
struct Driver {
    writers: HashMap<ConnId, mpsc::UnboundedSender<WsMessage>>,
    /// Injected delay of every frame sent (`Faults::delay_ms`).
    delay: Duration,
    /// The faults, for the connection tasks (freeze, primary down).
    faults: watch::Sender<Faults>,
    bots: HashMap<u64, BotControl>,
    rooms: HashMap<String, bots::Room>,
    tx: mpsc::UnboundedSender<Command>,
    recordings: PathBuf,
    hub: crate::hub::Hub,
    /// How bots' peers are made.
    media: media::PeerConfig,
}

impl Driver {
    fn start_bot(&mut self, call: u64, bot: crate::core::BotKind, role: bots::Role, room: Option<bots::Room>) {
        let tx = self.tx.clone();
        let report = move |o| drop(tx.send(Command::Bot(call, bot, o)));
        let control = bots::spawn(bot, role, self.media.clone(), self.recordings.clone(), call, room, report);
        self.bots.insert(call, control);
    }

    /// The conference room `name`, made on first use; empty rooms are forgotten.
    fn room(&mut self, name: &str) -> bots::Room {
        self.rooms.retain(|_, r| std::sync::Arc::strong_count(r) > 1);
        self.rooms.entry(name.to_owned()).or_default().clone()
    }

    fn carry_out(&mut self, out: Output) {
        match out {
            Output::Send { conn, text } => {
                let Some(w) = self.writers.get(&conn) else { return };
                if self.delay.is_zero() {
                    let _ = w.send(WsMessage::text(text));
                } else {
                    let (w, delay) = (w.clone(), self.delay);
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = w.send(WsMessage::text(text));
                    });
                }
            }
            Output::Close(conn) => {
                if let Some(w) = self.writers.remove(&conn) {
                    let _ = w.send(WsMessage::Close(None));
                }
            }
            Output::StartBot { call, bot, offer, room } => {
                let room = room.map(|r| self.room(&r));
                self.start_bot(call, bot, bots::Role::Answer(offer), room);
            }
            Output::StartCallerBot { call, bot } => self.start_bot(call, bot, bots::Role::Call, None),
            Output::BotRemoteSdp { call, sdp } => {
                if let Some(b) = self.bots.get(&call) {
                    let _ = b.offers.send(sdp);
                }
            }
            Output::StopBot(call) => {
                if let Some(b) = self.bots.remove(&call) {
                    let _ = b.stop.send(());
                }
            }
            Output::Hub(command) => self.hub.send(command),
            Output::JoinRoom { port, room } => {
                let room = self.room(&room);
                self.hub.send(crate::hub::HubCommand::Room(port, Some(crate::hub::RoomRef(room))));
            }
            Output::StartRoomBot { call, bot, room } => {
                let room = self.room(&room);
                self.bots.insert(call, bots::spawn_member(bot, room, call));
            }
        }
    }
}

async fn run_core(mut core: Core, mut driver: Driver, mut rest: crate::rest::RestState, mut rx: mpsc::UnboundedReceiver<Command>, log_tx: broadcast::Sender<LogEntry>) {
    let mut logged = 0;
    loop {
        let wake = core.poll_timeout().map(tokio::time::Instant::from_std);
        let sleep = tokio::time::sleep_until(wake.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600)));
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { return };
                if !handle_command(&mut core, &mut driver.writers, &mut rest, cmd) {
                    return;
                }
                driver.delay = Duration::from_millis(core.faults().delay_ms);
                driver.faults.send_if_modified(|f| {
                    let changed = f != core.faults();
                    f.clone_from(core.faults());
                    changed
                });
            }
            _ = sleep => core.on_timeout(Instant::now()),
        }
        while let Some(out) = core.poll_output() {
            driver.carry_out(out);
        }
        for entry in core.log_since(logged) {
            let _ = log_tx.send(entry.clone());
        }
        logged = core.log_total();
    }
}
/// Applies one command; false when the server must stop.
fn handle_command(core: &mut Core, writers: &mut HashMap<ConnId, mpsc::UnboundedSender<WsMessage>>, rest: &mut crate::rest::RestState, cmd: Command) -> bool {
    let now = Instant::now();
    match cmd {
        Command::Open(id, kind, w) => {
            writers.insert(id, w);
            core.on_open(id, kind);
        }
        Command::Frame(id, bytes) => core.on_frame(id, &bytes, now),
        Command::Closed(id) => {
            writers.remove(&id);
            core.on_closed(id, now);
        }
        Command::Registrations(reply) => drop(reply.send(core.registrations(now))),
        Command::Calls(reply) => drop(reply.send(core.calls())),
        Command::Log(reply) => drop(reply.send(core.log().to_vec())),
        Command::Faults(f) => core.set_faults(f),
        Command::Drop(id) => core.drop_connection(id, now),
        Command::Raw(id, text) => core.send_raw(id, text, now),
        Command::RawBytes(id, bytes) => {
            if let Some(w) = writers.get(&id) {
                let _ = w.send(WsMessage::Binary(bytes.into()));
            }
        }
        Command::Bot(call, _, BotOutput::Answer(answer)) => core.on_bot_answer(call, answer, now),
        Command::Bot(call, _, BotOutput::Offer(offer)) => core.on_bot_offer(call, offer, now),
        Command::CallerBot(bot, number, auto, reply) => drop(reply.send(core.start_caller_bot(bot, &number, auto, now))),
        Command::ReplyAnswer(answer) => core.set_reply_answer(answer),
        Command::Bot(call, bot, BotOutput::Event(event)) => core.on_bot_event(call, bot, event, now),
        Command::BotReports(reply) => drop(reply.send(core.bot_reports().to_vec())),
        Command::Hub(report) => core.on_hub_report(report, now),
        Command::Recordings(reply) => drop(reply.send(core.recordings().to_vec())),
        Command::Rest(req, reply) => drop(reply.send(crate::rest::handle(rest, core, &req, now))),
        Command::HangUp(id, reply) => drop(reply.send(core.hang_up(id, now))),
        Command::MoveMedia(number, reply) => drop(reply.send(core.move_media(&number, now))),
        Command::Shutdown => {
            for (_, w) in writers.drain() {
                let _ = w.send(WsMessage::Close(None));
            }
            return false;
        }
    }
    true
}

//! The media hub: rc-sim terminates the media of every call between two clients, as
//! RingCentral's media servers do, one WebRTC peer ("port") per call leg.
//!
//! The core decides which ports talk to each other; the hub carries the audio. Because no
//! client ever renegotiates with a new far end, transfers, park and retrieval are just new
//! connections here, and the hub can do what needs the audio: music on hold, call recording.
//!
//! ```text
//!   client A ══ port 1 ─┐            ┌─ port 2 ══ client B
//!                       └── connect ─┘      (decoded, re-encoded every 20 ms)
//!   port 3 (parked) ◄── music
//!   port 4 ══ room "conf_…" (a party brought into a conference: hears the room's mix)
//! ```

use crate::bots::{Member, Room};
use media::codec::FRAME;
use media::tone::Tone;
use media::{AudioPeer, MediaEvent, PeerConfig};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Identifies a port.
pub type PortId = u64;

/// Frames a port keeps from its client before dropping the oldest (100 ms).
const INBOX: usize = 5;

/// What the core asks of the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubCommand {
    /// A port answering `offer`, or (`None`) making an offer; the SDP comes back as
    /// [`HubReport::Sdp`].
    Open {
        /// The port.
        port: PortId,
        /// The client's offer, if it made one.
        offer: Option<String>,
    },
    /// The client's SDP for a port: the answer to the port's offer, or a new offer (a hold
    /// re-INVITE), which the port answers with [`HubReport::Sdp`].
    RemoteSdp {
        /// The port.
        port: PortId,
        /// The SDP.
        sdp: String,
        /// True when it is an offer.
        is_offer: bool,
    },
    /// Two ports hear each other (each leaves its previous partner).
    Connect(PortId, PortId),
    /// The port's client put the call on hold (true) or resumed it: while held, its partner
    /// hears music and the client hears nothing.
    Hold(PortId, bool),
    /// The port hears music (parked) instead of silence while it has no partner.
    Music(PortId, bool),
    /// Start recording the port and its partner into this file, or (`None`) stop.
    Record(PortId, Option<PathBuf>),
    /// The port joins a conference room (it leaves its partner: it hears everyone else in the
    /// room, and they hear it), or (`None`) leaves its room.
    Room(PortId, Option<RoomRef>),
    /// Closes the port.
    Close(PortId),
}

/// A conference room, for [`HubCommand::Room`] (equal when it is the same room).
#[derive(Clone)]
pub struct RoomRef(pub Room);

impl PartialEq for RoomRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RoomRef {}

impl std::fmt::Debug for RoomRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RoomRef")
    }
}

/// What the hub tells the core.
#[derive(Debug, Clone, PartialEq)]
pub enum HubReport {
    /// A port's SDP (offer or answer), or why there is none.
    Sdp {
        /// The port.
        port: PortId,
        /// The SDP.
        result: Result<String, String>,
    },
    /// A recording was written.
    Recorded {
        /// The port that was recorded.
        port: PortId,
        /// The WAV file.
        path: String,
        /// Its length.
        seconds: f64,
    },
}

/// Sends commands to a running hub.
#[derive(Clone)]
pub struct Hub {
    tx: mpsc::UnboundedSender<HubCommand>,
}

impl Hub {
    /// Asks the hub to do something.
    pub fn send(&self, command: HubCommand) {
        let _ = self.tx.send(command);
    }
}

struct Port {
    peer: Arc<AudioPeer>,
    inbox: Arc<Mutex<VecDeque<Vec<i16>>>>,
    /// RFC 4733 digits the client sent, to pass on to the partner.
    digits: Arc<Mutex<VecDeque<char>>>,
    partner: Option<PortId>,
    holding: bool,
    music: bool,
    recording: Option<(PathBuf, Vec<i16>)>,
    /// The conference room the port is in (then it has no partner).
    room: Option<Room>,
    task: tokio::task::JoinHandle<()>,
    /// The port's last SDP operation: the next one waits for it, so that a client's re-offer
    /// is never taken before its answer to the port's own offer (webrtc-rs would refuse it
    /// in the wrong signalling state, and the re-INVITE would get 488).
    last_sdp: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Default)]
struct State {
    ports: HashMap<PortId, Port>,
    /// Ports whose peer is still being made.
    opening: std::collections::HashSet<PortId>,
    /// Ports closed while still being opened: their peer is closed as soon as it exists.
    closed_early: std::collections::HashSet<PortId>,
}

type Report = Arc<dyn Fn(HubReport) + Send + Sync>;

/// Starts a hub whose ports are peers made with `config` (see
/// `crate::config::MediaSettings::peer_config`); its reports go to `report`.
pub fn spawn(config: PeerConfig, report: impl Fn(HubReport) + Send + Sync + 'static) -> Hub {
    let config = Arc::new(config);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let state = Arc::new(Mutex::new(State::default()));
    let report: Report = Arc::new(report);
    tokio::spawn(mix(state.clone(), report.clone()));
    tokio::spawn(async move {
        while let Some(command) = rx.recv().await {
            handle(&state, &report, &config, command);
        }
    });
    Hub { tx }
}

fn handle(state: &Arc<Mutex<State>>, report: &Report, config: &Arc<PeerConfig>, command: HubCommand) {
    match command {
        HubCommand::Open { port, offer } => {
            state.lock().unwrap().opening.insert(port);
            let (state, report, config) = (state.clone(), report.clone(), config.clone());
            tokio::spawn(async move {
                let result = open(&state, &config, port, offer).await;
                {
                    // A port that failed to open is not "opening" any more either.
                    let mut s = state.lock().unwrap();
                    s.opening.remove(&port);
                    s.closed_early.remove(&port);
                }
                report(HubReport::Sdp { port, result });
            });
        }
        HubCommand::RemoteSdp { port, sdp, is_offer } => {
            let mut s = state.lock().unwrap();
            let Some(entry) = s.ports.get_mut(&port) else { return };
            let (peer, previous) = (entry.peer.clone(), entry.last_sdp.take());
            let report = report.clone();
            entry.last_sdp = Some(tokio::spawn(async move {
                if let Some(previous) = previous {
                    let _ = previous.await;
                }
                if is_offer {
                    let result = peer.answer(&sdp).await.map_err(|e| e.to_string());
                    report(HubReport::Sdp { port, result });
                } else if let Err(e) = peer.set_answer(&sdp).await {
                    eprintln!("rc-sim hub: port {port}: {e}");
                }
            }));
        }
        HubCommand::Connect(a, b) => {
            let mut s = state.lock().unwrap();
            for p in [a, b] {
                if let Some(room) = s.ports.get_mut(&p).and_then(|port| port.room.take()) {
                    crate::bots::leave(&room, Member::Port(p));
                }
                let old = s.ports.get_mut(&p).and_then(|port| port.partner.take());
                if let Some(o) = old.and_then(|o| s.ports.get_mut(&o)) {
                    o.partner = None;
                }
            }
            if let Some(p) = s.ports.get_mut(&a) {
                p.partner = Some(b);
            }
            if let Some(p) = s.ports.get_mut(&b) {
                p.partner = Some(a);
            }
        }
        HubCommand::Room(p, room) => {
            let mut s = state.lock().unwrap();
            let old_partner = s.ports.get_mut(&p).and_then(|port| port.partner.take());
            if let Some(o) = old_partner.and_then(|o| s.ports.get_mut(&o)) {
                o.partner = None;
            }
            if let Some(port) = s.ports.get_mut(&p) {
                if let Some(old) = std::mem::replace(&mut port.room, room.map(|r| r.0)) {
                    crate::bots::leave(&old, Member::Port(p));
                }
            }
        }
        HubCommand::Hold(p, on) => with_port(state, p, |port| port.holding = on),
        HubCommand::Music(p, on) => with_port(state, p, |port| port.music = on),
        HubCommand::Record(p, path) => {
            let finished = {
                let mut s = state.lock().unwrap();
                let Some(port) = s.ports.get_mut(&p) else { return };
                std::mem::replace(&mut port.recording, path.map(|path| (path, Vec::new())))
            };
            if let Some(done) = finished {
                save_recording(p, done, report);
            }
        }
        HubCommand::Close(p) => {
            let removed = {
                let mut s = state.lock().unwrap();
                let removed = s.ports.remove(&p);
                if removed.is_none() && s.opening.contains(&p) {
                    s.closed_early.insert(p);
                }
                if let Some(partner) = removed.as_ref().and_then(|r| r.partner) {
                    if let Some(other) = s.ports.get_mut(&partner) {
                        other.partner = None;
                    }
                }
                removed
            };
            if let Some(mut port) = removed {
                port.task.abort();
                if let Some(room) = port.room.take() {
                    crate::bots::leave(&room, Member::Port(p));
                }
                if let Some(done) = port.recording.take() {
                    save_recording(p, done, report);
                }
                tokio::spawn(async move { port.peer.close().await });
            }
        }
    }
}

fn with_port(state: &Arc<Mutex<State>>, p: PortId, f: impl FnOnce(&mut Port)) {
    if let Some(port) = state.lock().unwrap().ports.get_mut(&p) {
        f(port);
    }
}

fn save_recording(port: PortId, (path, samples): (PathBuf, Vec<i16>), report: &Report) {
    let seconds = samples.len() as f64 / 48_000.0;
    match media::wav::write_private(&path, 48_000, &samples) {
        Ok(()) => report(HubReport::Recorded { port, path: path.display().to_string(), seconds }),
        Err(e) => eprintln!("rc-sim hub: recording {}: {e}", path.display()),
    }
}

/// Makes a port's peer and its SDP (answer to `offer`, or an offer).
async fn open(state: &Arc<Mutex<State>>, config: &PeerConfig, port: PortId, offer: Option<String>) -> Result<String, String> {
    let (peer, events) = AudioPeer::new(config).await.map_err(|e| e.to_string())?;
    let peer = Arc::new(peer);
    let inbox = Arc::new(Mutex::new(VecDeque::new()));
    let digits = Arc::new(Mutex::new(VecDeque::new()));
    let task = tokio::spawn(listen(events, inbox.clone(), digits.clone()));
    let entry = Port { peer: peer.clone(), inbox, digits, partner: None, holding: false, music: false, recording: None, room: None, task, last_sdp: None };
    let closed_meanwhile = {
        let mut s = state.lock().unwrap();
        s.opening.remove(&port);
        let closed = s.closed_early.remove(&port);
        if !closed {
            s.ports.insert(port, entry);
            None
        } else {
            Some(entry)
        }
    };
    if let Some(entry) = closed_meanwhile {
        entry.task.abort();
        peer.close().await;
        return Err(format!("port {port} was closed while it was being opened"));
    }
    match offer {
        Some(offer) => peer.answer(&offer).await,
        None => peer.create_offer().await,
    }
    .map_err(|e| e.to_string())
}

/// Keeps the latest frames and the digits a port's client sent.
async fn listen(mut events: mpsc::UnboundedReceiver<MediaEvent>, inbox: Arc<Mutex<VecDeque<Vec<i16>>>>, digits: Arc<Mutex<VecDeque<char>>>) {
    while let Some(event) = events.recv().await {
        match event {
            MediaEvent::Audio(pcm) => {
                let mut q = inbox.lock().unwrap();
                q.push_back(pcm);
                while q.len() > INBOX {
                    q.pop_front();
                }
            }
            MediaEvent::Dtmf(d) => digits.lock().unwrap().push_back(d),
            _ => {}
        }
    }
}

/// Music on hold: a slow C-major arpeggio (523, 659 and 784 Hz, 400 ms each).
pub const MUSIC_NOTES: [f64; 3] = [523.25, 659.25, 783.99];

struct Music {
    tones: Vec<Tone>,
    frame: usize,
}

impl Music {
    fn new() -> Music {
        Music { tones: MUSIC_NOTES.iter().map(|f| Tone::new(*f, 48_000, 6000)).collect(), frame: 0 }
    }

    fn next(&mut self) -> Vec<i16> {
        let note = (self.frame / 20) % self.tones.len();
        self.frame += 1;
        self.tones[note].next_frame(FRAME)
    }
}

/// Every 20 ms: each port sends its partner's latest frame, music, or silence.
async fn mix(state: Arc<Mutex<State>>, _report: Report) {
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut music = Music::new();
    loop {
        clock.tick().await;
        let tune = music.next();
        let sends = {
            let mut s = state.lock().unwrap();
            plan(&mut s, &tune)
        };
        for (peer, frame) in sends {
            let _ = peer.send_pcm(&frame).await;
        }
    }
}

/// The frame each port sends this tick, recordings updated on the way; digits a client sent
/// are queued as RFC 4733 events toward its partner.
fn plan(s: &mut State, tune: &[i16]) -> Vec<(Arc<AudioPeer>, Vec<i16>)> {
    for port in s.ports.values() {
        let digits: String = port.digits.lock().unwrap().drain(..).collect();
        if let Some(partner) = port.partner.and_then(|p| s.ports.get(&p)).filter(|_| !digits.is_empty()) {
            let _ = partner.peer.send_dtmf(&digits, 100, 70);
        }
    }
    let heard: HashMap<PortId, Option<Vec<i16>>> = s.ports.iter().map(|(id, p)| (*id, p.inbox.lock().unwrap().pop_front())).collect();
    let silence = vec![0i16; FRAME];
    let mut sends = Vec::with_capacity(s.ports.len());
    let ids: Vec<PortId> = s.ports.keys().copied().collect();
    for id in ids {
        let port = &s.ports[&id];
        let partner = port.partner.and_then(|p| s.ports.get(&p).map(|q| (p, q.holding)));
        let frame = match (&port.room, partner) {
            // In a conference: what the port's client says goes into the room (not while it
            // holds), and it hears everyone else there.
            (Some(room), _) => {
                let me = Member::Port(id);
                match heard.get(&id).cloned().flatten() {
                    _ if port.holding => crate::bots::leave(room, me),
                    Some(own) => crate::bots::speak(room, me, own),
                    None => {} // a late packet: the room stops mixing the last one soon
                }
                if port.holding {
                    silence.clone()
                } else {
                    crate::bots::mix_others(room, me)
                }
            }
            _ if port.holding => silence.clone(),
            (None, Some((_, true))) => tune.to_vec(),
            (None, Some((p, false))) => heard.get(&p).cloned().flatten().unwrap_or_else(|| silence.clone()),
            (None, None) if port.music => tune.to_vec(),
            (None, None) => silence.clone(),
        };
        let own = heard.get(&id).cloned().flatten().unwrap_or_else(|| silence.clone());
        let port = s.ports.get_mut(&id).expect("listed above");
        if let Some((_, samples)) = port.recording.as_mut() {
            samples.extend(own.iter().zip(&frame).map(|(a, b)| (i32::from(*a) + i32::from(*b)).clamp(-32768, 32767) as i16));
        }
        sends.push((port.peer.clone(), frame));
    }
    sends
}

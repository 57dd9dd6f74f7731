//! The media side of the bots: one WebRTC peer per bot call (`crates/media`).

use crate::core::{BotEvent, BotKind};
use media::codec::FRAME;
use media::tone::Tone;
use media::{AudioPeer, MediaEvent, PeerConfig};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The declined-call announcement: 950, 1400 and 1800 Hz for 330 ms each (the special
/// information tones), twice, as 20 ms frames.
fn announcement_frames() -> impl Iterator<Item = Vec<i16>> {
    let segment = |freq: f64| {
        let mut t = Tone::new(freq, 48_000, 8000);
        (0..16).map(move |_| t.next_frame(FRAME))
    };
    let once = || segment(950.0).chain(segment(1400.0)).chain(segment(1800.0));
    once().chain(once())
}


/// What the bot tells the server.
#[derive(Debug)]
pub enum BotOutput {
    /// A calling bot's offer, or why there is none.
    Offer(Result<String, String>),
    /// The SDP answer to the latest offer, or why there is none.
    Answer(Result<String, String>),
    /// Something to report.
    Event(BotEvent),
}

/// A participant of a conference room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Member {
    /// The conference bot of call `n` (a caller who dialled the room), or a bot playing into it.
    Call(u64),
    /// A hub port brought into the room (a party brought in through the REST API).
    Port(crate::hub::PortId),
}

/// A conference room: the latest 20 ms frame heard from each participant, and when.
pub type Room = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Member, (Vec<i16>, Instant)>>>;

/// A frame older than this is not mixed any more: its participant went quiet (on hold, gone
/// without a goodbye), and repeating its last frame would buzz.
const STALE: Duration = Duration::from_millis(100);

/// Puts `member`'s latest frame into `room`.
pub fn speak(room: &Room, member: Member, frame: Vec<i16>) {
    room.lock().unwrap_or_else(|p| p.into_inner()).insert(member, (frame, Instant::now()));
}

/// Takes `member` out of `room`.
pub fn leave(room: &Room, member: Member) {
    room.lock().unwrap_or_else(|p| p.into_inner()).remove(&member);
}

/// What a participant hears: everyone else's latest frame, summed.
pub fn mix_others(room: &Room, me: Member) -> Vec<i16> {
    let room = room.lock().unwrap_or_else(|p| p.into_inner());
    let mut mix = vec![0i32; FRAME];
    for (_, (frame, _)) in room.iter().filter(|(id, (_, at))| **id != me && at.elapsed() < STALE) {
        for (m, s) in mix.iter_mut().zip(frame) {
            *m += i32::from(*s);
        }
    }
    mix.into_iter().map(|v| v.clamp(-32768, 32767) as i16).collect()
}

/// Starts bot `kind` as a participant of `room` with no peer: the tone bot plays its 440 Hz
/// there every 20 ms until stopped.
pub fn spawn_member(kind: BotKind, room: Room, call: u64) -> BotControl {
    let (offers, _) = mpsc::unbounded_channel();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let me = Member::Call(call);
        let mut tone = Tone::new(440.0, 48_000, 8000);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tick.tick() => {
                    if kind == BotKind::Tone {
                        speak(&room, me, tone.next_frame(FRAME));
                    }
                }
            }
        }
        leave(&room, me);
    });
    BotControl { offers, stop }
}

/// Whether the bot answers a caller's offer or places the call itself.
#[derive(Debug)]
pub enum Role {
    /// Answer this offer.
    Answer(String),
    /// Make an offer; the first SDP received afterwards is the answer.
    Call,
}

/// Controls a running bot.
pub struct BotControl {
    /// Remote SDPs: offers from re-INVITEs, or the answer to a calling bot's offer.
    pub offers: mpsc::UnboundedSender<String>,
    /// Dropping this stops the bot.
    pub stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts the bot `kind` in `role`; its outputs go to `report`.
pub fn spawn(kind: BotKind, role: Role, media: PeerConfig, recordings: PathBuf, call: u64, room: Option<Room>, report: impl Fn(BotOutput) + Send + Sync + 'static) -> BotControl {
    let (offers_tx, offers) = mpsc::unbounded_channel();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let setup = Setup { kind, call, recordings, room, media };
        let result = run(&setup, role, offers, stopped, &report).await;
        if let Some(room) = &setup.room {
            leave(room, Member::Call(call));
        }
        if let Err(e) = result {
            report(BotOutput::Answer(Err(e)));
        }
    });
    BotControl { offers: offers_tx, stop }
}

/// Who a bot is: its kind, its call, where it writes, which room it is in.
struct Setup {
    kind: BotKind,
    call: u64,
    recordings: PathBuf,
    room: Option<Room>,
    /// How the bot's peer is made (bind addresses, codecs, SDP style).
    media: PeerConfig,
}

async fn run(
    setup: &Setup,
    role: Role,
    mut offers: mpsc::UnboundedReceiver<String>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
    report: &(impl Fn(BotOutput) + Send + Sync),
) -> Result<(), String> {
    let Setup { kind, call, recordings, room, media } = setup;
    let (kind, call, room) = (*kind, *call, room.as_ref());
    let (peer, mut events) = AudioPeer::new(media).await.map_err(|e| e.to_string())?;
    let mut awaiting_answer = matches!(role, Role::Call);
    match role {
        Role::Answer(offer) => report(BotOutput::Answer(peer.answer(&offer).await.map_err(|e| e.to_string()))),
        Role::Call => report(BotOutput::Offer(peer.create_offer().await.map_err(|e| e.to_string()))),
    }
    let mut tone = Tone::new(440.0, 48_000, 8000);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut recorded: Vec<i16> = Vec::new();
    let mut announcement = announcement_frames();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            sdp = offers.recv() => match sdp {
                Some(answer) if awaiting_answer => {
                    awaiting_answer = false;
                    if let Err(e) = peer.set_answer(&answer).await {
                        report(BotOutput::Event(BotEvent::Failed { reason: e.to_string() }));
                    }
                }
                Some(o) => report(BotOutput::Answer(peer.answer(&o).await.map_err(|e| e.to_string()))),
                None => break,
            },
            event = events.recv() => match event {
                Some(MediaEvent::Audio(pcm)) => match kind {
                    // Sent back as it comes, as a loop-back test number does: a queue paced by
                    // our own clock would add up to its length in delay.
                    BotKind::Echo => {
                        let _ = peer.send_pcm(&pcm).await;
                    }
                    BotKind::Voicemail => recorded.extend_from_slice(&pcm),
                    BotKind::Conference => {
                        if let Some(room) = room {
                            speak(room, Member::Call(call), pcm);
                        }
                    }
                    BotKind::Tone | BotKind::Ivr | BotKind::Announcement => {}
                },
                Some(MediaEvent::Dtmf(digit)) => report(BotOutput::Event(BotEvent::Digit { digit })),
                Some(MediaEvent::Connected) => {}
                Some(MediaEvent::Disconnected(_) | MediaEvent::Untrusted(_)) | None => break,
            },
            _ = tick.tick(), if matches!(kind, BotKind::Tone | BotKind::Announcement | BotKind::Conference) => {
                // Paced by our own 20 ms clock: the tone bot its tone, the announcement its
                // tones, the conference the mix of the others.
                let frame = match kind {
                    BotKind::Tone => tone.next_frame(FRAME),
                    BotKind::Announcement => match announcement.next() {
                        Some(f) => f,
                        None => {
                            report(BotOutput::Event(BotEvent::Finished));
                            break;
                        }
                    },
                    _ => room.map_or_else(|| vec![0; FRAME], |r| mix_others(r, Member::Call(call))),
                };
                let _ = peer.send_pcm(&frame).await;
            }
        }
    }
    peer.close().await;
    if kind == BotKind::Voicemail {
        let path = recordings.join(format!("voicemail-{call}-{}.wav", crate::core::unguessable()));
        media::wav::write_private(&path, 48_000, &recorded).map_err(|e| format!("{}: {e}", path.display()))?;
        let seconds = recorded.len() as f64 / 48_000.0;
        report(BotOutput::Event(BotEvent::Recorded { path: path.display().to_string(), seconds }));
    }
    Ok(())
}


//! One call's media: a WebRTC peer, the 20 ms send clock, and the audio devices.

use crate::audio::{AudioIo, AudioSink, AudioSource, FRAME};
use crate::core::CallId;
use crate::error::CallError;
use media::codec::Encoder;
use media::{AudioPeer, MediaEvent, PeerConfig};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What a call's media tells the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MediaNote {
    /// ICE and DTLS are up: audio flows.
    Connected,
    /// The media connection failed or closed.
    Disconnected(String),
    /// The far end pressed a key.
    Dtmf(char),
}

/// A call's media.
pub(crate) struct CallMedia {
    peer: Arc<AudioPeer>,
    audio: Arc<dyn AudioIo>,
    input: Arc<Mutex<Box<dyn AudioSource>>>,
    output: Arc<Mutex<Box<dyn AudioSink>>>,
    muted: Arc<AtomicBool>,
    held: Arc<AtomicBool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

fn media_err(e: impl std::fmt::Display) -> CallError {
    CallError::Media(e.to_string())
}

impl CallMedia {
    /// Opens the devices and makes the peer; fails clearly when a device is missing.
    pub async fn new(
        id: CallId,
        cfg: &PeerConfig,
        audio: Arc<dyn AudioIo>,
        devices: (Option<&str>, Option<&str>),
        notes: mpsc::UnboundedSender<(CallId, MediaNote)>,
    ) -> Result<Arc<CallMedia>, CallError> {
        let input = audio.open_input(devices.0).map_err(media_err)?;
        let output = audio.open_output(devices.1).map_err(media_err)?;
        let (peer, events) = AudioPeer::new(cfg).await.map_err(media_err)?;
        let media = Arc::new(CallMedia {
            peer: Arc::new(peer),
            audio,
            input: Arc::new(Mutex::new(input)),
            output: Arc::new(Mutex::new(output)),
            muted: Arc::new(AtomicBool::new(false)),
            held: Arc::new(AtomicBool::new(false)),
            tasks: Mutex::new(Vec::new()),
        });
        let receive = tokio::spawn(receive(id, events, media.output.clone(), notes));
        let send = tokio::spawn(send(media.peer.clone(), media.input.clone(), media.muted.clone(), media.held.clone()));
        media.tasks.lock().unwrap().extend([receive, send]);
        Ok(media)
    }

    /// A complete SDP offer.
    pub async fn offer(&self) -> Result<String, CallError> {
        self.peer.create_offer().await.map_err(media_err)
    }

    /// A complete SDP answer to `offer`.
    pub async fn answer(&self, offer: &str) -> Result<String, CallError> {
        self.peer.answer(offer).await.map_err(media_err)
    }

    /// Applies the far end's answer to our offer.
    pub async fn set_answer(&self, answer: &str) -> Result<(), CallError> {
        self.peer.set_answer(answer).await.map_err(media_err)
    }

    /// Stops (true) or resumes sending the microphone.
    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }

    /// On hold nothing of the microphone is sent either.
    pub fn set_held(&self, held: bool) {
        self.held.store(held, Ordering::Relaxed);
    }

    /// Queues RFC 4733 DTMF digits.
    pub fn send_dtmf(&self, digits: &str, duration_ms: u32, gap_ms: u32) -> Result<(), CallError> {
        self.peer.send_dtmf(digits, duration_ms, gap_ms).map_err(|e| CallError::InvalidNumber(e.to_string()))
    }

    /// Switches the microphone to `device` without interrupting the call.
    pub fn change_input(&self, device: Option<&str>) -> Result<(), CallError> {
        let source = self.audio.open_input(device).map_err(media_err)?;
        *self.input.lock().unwrap() = source;
        Ok(())
    }

    /// Switches the speaker to `device` without interrupting the call.
    pub fn change_output(&self, device: Option<&str>) -> Result<(), CallError> {
        let sink = self.audio.open_output(device).map_err(media_err)?;
        *self.output.lock().unwrap() = sink;
        Ok(())
    }

    /// Stops everything and closes the peer.
    pub async fn close(&self) {
        let tasks: Vec<_> = self.tasks.lock().unwrap().drain(..).collect();
        for task in tasks {
            task.abort();
        }
        self.peer.close().await;
    }
}

/// Decoded audio to the speaker; connection changes and digits to the phone.
async fn receive(
    id: CallId,
    mut events: mpsc::UnboundedReceiver<MediaEvent>,
    output: Arc<Mutex<Box<dyn AudioSink>>>,
    notes: mpsc::UnboundedSender<(CallId, MediaNote)>,
) {
    while let Some(event) = events.recv().await {
        let note = match event {
            MediaEvent::Audio(pcm) => {
                output.lock().unwrap().write(&pcm);
                continue;
            }
            MediaEvent::Connected => MediaNote::Connected,
            MediaEvent::Disconnected(why) => MediaNote::Disconnected(why),
            MediaEvent::Dtmf(d) => MediaNote::Dtmf(d),
        };
        if notes.send((id, note)).is_err() {
            return;
        }
    }
}

/// Every 20 ms: one frame from the microphone (silence when muted or held), Opus, RTP.
async fn send(peer: Arc<AudioPeer>, input: Arc<Mutex<Box<dyn AudioSource>>>, muted: Arc<AtomicBool>, held: Arc<AtomicBool>) {
    let Ok(mut encoder) = Encoder::new() else { return };
    let mut frame = vec![0i16; FRAME];
    let mut clock = tokio::time::interval(Duration::from_millis(20));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        clock.tick().await;
        input.lock().unwrap().read(&mut frame);
        if muted.load(Ordering::Relaxed) || held.load(Ordering::Relaxed) {
            frame.fill(0);
        }
        let Ok(packet) = encoder.encode(&frame) else { continue };
        // Before ICE is up the track is not bound yet: such frames are simply not sent.
        let _ = peer.send_opus(packet).await;
    }
}

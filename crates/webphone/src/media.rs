//! One call's media: a WebRTC peer and the audio devices, ticked by the phone's one 20 ms
//! [`MediaClock`].

use crate::audio::{AudioIo, AudioSink, AudioSource, FRAME};
use crate::core::CallId;
use crate::error::CallError;
use media::processing::{ProcessingSettings, VoiceProcessor};
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
    /// The far end's DTLS certificate does not match its SDP fingerprint.
    Untrusted(String),
    /// The far end pressed a key.
    Dtmf(char),
    /// The microphone or speaker moved to another device by itself.
    AudioDevice(crate::audio::DeviceChange),
}

/// What the send and receive tasks read on every frame.
#[derive(Default)]
struct Flags {
    /// The user muted the microphone.
    muted: AtomicBool,
    /// We put the call on hold: nothing is sent or played.
    held: AtomicBool,
    /// The far end put us on hold (its offer is sendonly or inactive): nothing is sent.
    remote_held: AtomicBool,
    /// The media is closed: the clock lets it go.
    closed: AtomicBool,
}

/// A call's media.
pub(crate) struct CallMedia {
    id: CallId,
    cfg: PeerConfig,
    notes: mpsc::UnboundedSender<(CallId, MediaNote)>,
    audio: Arc<dyn AudioIo>,
    /// The peer audio flows through.
    current: Mutex<Arc<AudioPeer>>,
    /// The far end's last description, to notice when the far end itself changes.
    remote_sdp: Mutex<Option<String>>,
    input: Arc<Mutex<Box<dyn AudioSource>>>,
    output: Arc<Mutex<Box<dyn AudioSink>>>,
    /// Echo cancellation (what the speaker plays is the reference), noise suppression and
    /// gain control of the microphone: one per call, as the canceller learns this call's room.
    processor: Arc<Mutex<VoiceProcessor>>,
    flags: Arc<Flags>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// The call-waiting tone being mixed into what the speaker plays, if one is due.
    waiting_tone: Mutex<Option<CallWaitingTone>>,
}

/// The call-waiting tone: two 200 ms beeps of 440 Hz with 200 ms between them (the North
/// American call-waiting frequency), quiet beside speech.
struct CallWaitingTone {
    tone: media::tone::Tone,
    frame: usize,
}

impl CallWaitingTone {
    /// Frames of 20 ms: 10 on, 10 off, 10 on.
    const FRAMES: usize = 30;

    fn new() -> Self {
        CallWaitingTone { tone: media::tone::Tone::new(440.0, 48_000, 3000), frame: 0 }
    }

    /// The next 20 ms of the tone (silence in its gap); `None` once it is over.
    fn next_frame(&mut self) -> Option<Vec<i16>> {
        if self.frame >= Self::FRAMES {
            return None;
        }
        let on = !(10..20).contains(&self.frame);
        self.frame += 1;
        let beep = self.tone.next_frame(FRAME);
        Some(if on { beep } else { vec![0; FRAME] })
    }
}

/// `a` and `b` added sample by sample (either may be missing), saturating.
fn mix(a: Option<Vec<i16>>, b: Option<Vec<i16>>) -> Option<Vec<i16>> {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            for (x, y) in a.iter_mut().zip(b) {
                *x = x.saturating_add(y);
            }
            Some(a)
        }
        (a, b) => a.or(b),
    }
}

fn media_err(e: impl std::fmt::Display) -> CallError {
    CallError::Media(e.to_string())
}

impl CallMedia {
    /// Opens the devices and makes the peer, ticked by `clock`; fails clearly when a device
    /// is missing.
    pub async fn new(
        id: CallId,
        cfg: &PeerConfig,
        audio: Arc<dyn AudioIo>,
        devices: (Option<String>, Option<String>),
        notes: mpsc::UnboundedSender<(CallId, MediaNote)>,
        clock: &MediaClock,
    ) -> Result<Arc<CallMedia>, CallError> {
        let input = audio.open_input(devices.0.as_deref()).map_err(media_err)?;
        let output = audio.open_output(devices.1.as_deref()).map_err(media_err)?;
        let (peer, events) = AudioPeer::new(cfg).await.map_err(media_err)?;
        let media = Arc::new(CallMedia {
            id,
            cfg: cfg.clone(),
            notes,
            audio,
            current: Mutex::new(Arc::new(peer)),
            remote_sdp: Mutex::new(None),
            input: Arc::new(Mutex::new(input)),
            output: Arc::new(Mutex::new(output)),
            processor: Arc::new(Mutex::new(VoiceProcessor::new(cfg.processing))),
            flags: Arc::new(Flags::default()),
            tasks: Mutex::new(Vec::new()),
            waiting_tone: Mutex::new(None),
        });
        media.spawn_receive(events);
        clock.add(&media);
        Ok(media)
    }

    fn spawn_receive(&self, events: mpsc::UnboundedReceiver<MediaEvent>) {
        let task = tokio::spawn(receive(self.id, events, self.output.clone(), self.processor.clone(), self.flags.clone(), self.notes.clone()));
        self.tasks.lock().unwrap().push(task);
    }

    /// The call's counters now (see [`media::quality::between`]).
    pub async fn counters(&self) -> media::quality::Counters {
        self.peer().counters().await
    }

    /// The codec audio is sent with (Opus until negotiated).
    pub fn codec(&self) -> media::codecs::AudioCodec {
        self.peer().send_codec().unwrap_or(media::codecs::AudioCodec::Opus)
    }

    /// Tunes Opus for a far end that loses `loss_percent` of what we send.
    pub fn adapt_to_loss(&self, loss_percent: f64) {
        self.peer().adapt_to_loss(loss_percent);
    }

    /// The Opus loss (percent) and bitrate the encoder is tuned for, once adapted.
    pub fn opus_target(&self) -> Option<(i32, i32)> {
        self.peer().opus_target()
    }

    /// True once the call's media is closed.
    pub fn is_closed(&self) -> bool {
        self.flags.closed.load(Ordering::Relaxed)
    }

    fn peer(&self) -> Arc<AudioPeer> {
        self.current.lock().unwrap().clone()
    }

    /// A fresh peer for a new far end; its events feed the same speaker and notes.
    async fn new_peer(&self) -> Result<Arc<AudioPeer>, CallError> {
        let (peer, events) = AudioPeer::new(&self.cfg).await.map_err(media_err)?;
        self.spawn_receive(events);
        Ok(Arc::new(peer))
    }

    /// Makes `peer` the one audio flows through and closes the previous one.
    async fn switch_to(&self, peer: Arc<AudioPeer>) {
        let old = std::mem::replace(&mut *self.current.lock().unwrap(), peer);
        old.close().await;
    }

    /// A complete SDP offer.
    pub async fn offer(&self) -> Result<String, CallError> {
        self.peer().create_offer().await.map_err(media_err)
    }

    /// An ICE restart offer of the current peer (after a network change); its answer goes to
    /// [`set_answer`](Self::set_answer).
    pub async fn restart_ice_offer(&self) -> Result<String, CallError> {
        self.peer().restart_ice_offer().await.map_err(media_err)
    }

    /// An offer for an offer-less re-INVITE (a peer taking the call off hold with
    /// `sdp_200_ack`, as Linphone does): from the current peer, whose ICE and DTLS stay up, so
    /// the far end's answer (in the ACK) only confirms the session. A far end that changes
    /// while connected sends its own offer (a re-INVITE with SDP), which [`answer`](Self::answer)
    /// meets with a new peer.
    pub async fn offer_for_reinvite(&self) -> Result<String, CallError> {
        self.peer().create_offer().await.map_err(media_err)
    }

    /// A complete SDP answer to `offer`. A re-offer from a different far end (another DTLS
    /// fingerprint: the server connected us to someone else) gets a new peer.
    pub async fn answer(&self, offer: &str) -> Result<String, CallError> {
        self.note_remote_direction(offer);
        let previous = self.remote_sdp.lock().unwrap().replace(offer.to_owned());
        let same_far_end = previous.as_deref().is_none_or(|p| fingerprint(p) == fingerprint(offer));
        if same_far_end {
            return self.peer().answer(offer).await.map_err(media_err);
        }
        let peer = self.new_peer().await?;
        let answer = peer.answer(offer).await.map_err(media_err)?;
        self.switch_to(peer).await;
        Ok(answer)
    }

    /// Applies the far end's answer to our offer; its direction says whether the far end
    /// holds us (a `sendonly` or `inactive` answer) or no longer does.
    pub async fn set_answer(&self, answer: &str) -> Result<(), CallError> {
        *self.remote_sdp.lock().unwrap() = Some(answer.to_owned());
        self.note_remote_direction(answer);
        self.peer().set_answer(answer).await.map_err(media_err)
    }

    fn note_remote_direction(&self, offer: &str) {
        let held = matches!(crate::sdp::direction(offer), "sendonly" | "inactive");
        self.flags.remote_held.store(held, Ordering::Relaxed);
    }

    /// Stops (true) or resumes sending the microphone.
    pub fn set_muted(&self, muted: bool) {
        self.flags.muted.store(muted, Ordering::Relaxed);
    }

    /// Switches echo cancellation, noise suppression and gain control on or off for this
    /// call, from the next frame on.
    pub fn set_processing(&self, settings: ProcessingSettings) {
        self.processor.lock().unwrap().set_settings(settings);
    }

    /// Turns Opus discontinuous transmission on or off for this call (see
    /// [`::media::PeerConfig::dtx`]).
    pub fn set_dtx(&self, on: bool) {
        // libopus refuses a DTX switch only for values other than 0 and 1: nothing to report.
        let _ = self.peer().set_dtx(on);
    }

    /// Mixes the call-waiting tone into what this call's speaker plays, from the next frame.
    pub fn play_call_waiting_tone(&self) {
        *self.waiting_tone.lock().unwrap() = Some(CallWaitingTone::new());
    }

    /// On hold nothing is sent or played.
    pub fn set_held(&self, held: bool) {
        self.flags.held.store(held, Ordering::Relaxed);
    }

    /// Queues RFC 4733 DTMF digits.
    pub fn send_dtmf(&self, digits: &str, duration_ms: u32, gap_ms: u32) -> Result<(), CallError> {
        self.peer().send_dtmf(digits, duration_ms, gap_ms).map_err(|e| CallError::InvalidNumber(e.to_string()))
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

    /// Stops everything and closes the peers.
    pub async fn close(&self) {
        self.flags.closed.store(true, Ordering::Relaxed);
        let tasks: Vec<_> = self.tasks.lock().unwrap().drain(..).collect();
        for task in tasks {
            task.abort();
        }
        self.peer().close().await;
    }
}

/// The `a=fingerprint` line of a description: it names the far end's DTLS certificate.
fn fingerprint(sdp: &str) -> Option<&str> {
    sdp.lines().find_map(|l| l.trim_end_matches('\r').strip_prefix("a=fingerprint:")).map(str::trim)
}

/// Decoded audio to the speaker; connection changes and digits to the phone.
async fn receive(
    id: CallId,
    mut events: mpsc::UnboundedReceiver<MediaEvent>,
    output: Arc<Mutex<Box<dyn AudioSink>>>,
    processor: Arc<Mutex<VoiceProcessor>>,
    flags: Arc<Flags>,
    notes: mpsc::UnboundedSender<(CallId, MediaNote)>,
) {
    while let Some(event) = events.recv().await {
        let note = match event {
            MediaEvent::Audio(pcm) => {
                if !flags.held.load(Ordering::Relaxed) {
                    processor.lock().unwrap().process_render(&pcm);
                    output.lock().unwrap().write(&pcm);
                }
                continue;
            }
            MediaEvent::Connected => MediaNote::Connected,
            MediaEvent::Disconnected(why) => MediaNote::Disconnected(why),
            MediaEvent::Untrusted(why) => MediaNote::Untrusted(why),
            MediaEvent::Dtmf(d) => MediaNote::Dtmf(d),
        };
        if notes.send((id, note)).is_err() {
            return;
        }
    }
}

/// The one 20 ms clock of a phone's calls: every tick, each call sends a frame from its
/// microphone (silence when muted or held) and plays one frame of received audio out of its
/// jitter buffer (nothing while held). One wake-up per 20 ms for the whole phone, however
/// many calls, instead of several per call. Its task runs while there are calls.
#[derive(Clone, Default)]
pub(crate) struct MediaClock {
    calls: Arc<Mutex<Vec<std::sync::Weak<CallMedia>>>>,
    running: Arc<AtomicBool>,
}

impl MediaClock {
    /// Ticks `media` from the next tick on; starts the clock's task when it is not running.
    fn add(&self, media: &Arc<CallMedia>) {
        let mut calls = self.calls.lock().unwrap();
        calls.push(Arc::downgrade(media));
        if !self.running.swap(true, Ordering::SeqCst) {
            tokio::spawn(tick_calls(self.clone()));
        }
    }

    /// The calls to tick now; `None` (and the clock stopped) when there are none left.
    fn live_calls(&self) -> Option<Vec<Arc<CallMedia>>> {
        let mut calls = self.calls.lock().unwrap();
        calls.retain(|w| w.upgrade().is_some_and(|m| !m.flags.closed.load(Ordering::Relaxed)));
        if calls.is_empty() {
            self.running.store(false, Ordering::SeqCst);
            return None;
        }
        Some(calls.iter().filter_map(std::sync::Weak::upgrade).collect())
    }
}

async fn tick_calls(clock: MediaClock) {
    let mut interval = tokio::time::interval(Duration::from_millis(20));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    loop {
        interval.tick().await;
        let Some(calls) = clock.live_calls() else { return };
        // A call whose peer stalls loses its frame; the others keep their 20 ms.
        futures_util::future::join_all(calls.iter().map(|m| tokio::time::timeout(Duration::from_millis(20), m.tick()))).await;
    }
}

impl CallMedia {
    fn next_waiting_tone_frame(&self) -> Option<Vec<i16>> {
        let mut tone = self.waiting_tone.lock().unwrap();
        let frame = tone.as_mut()?.next_frame();
        if frame.is_none() {
            *tone = None;
        }
        frame
    }

    /// One 20 ms tick of this call: a microphone frame out, a received frame to the speaker.
    async fn tick(&self) {
        let f = &self.flags;
        let peer = self.peer();
        // The speaker first: what it plays is the echo canceller's reference for the
        // microphone frames that follow (the room's delay is found by the canceller).
        let tone = self.next_waiting_tone_frame();
        if let Some(pcm) = mix(peer.pull_audio(), tone) {
            if !f.held.load(Ordering::Relaxed) {
                self.processor.lock().unwrap().process_render(&pcm);
                self.output.lock().unwrap().write(&pcm);
            }
        }
        let mut frame = vec![0i16; FRAME];
        self.input.lock().unwrap().read(&mut frame);
        // Echo cancellation, noise suppression and gain control before the encoder; also
        // while muted, so the canceller stays in step with the microphone.
        self.processor.lock().unwrap().process_capture(&mut frame);
        let moved = [self.input.lock().unwrap().device_change(), self.output.lock().unwrap().device_change()];
        for change in moved.into_iter().flatten() {
            let _ = self.notes.send((self.id, MediaNote::AudioDevice(change)));
        }
        if f.muted.load(Ordering::Relaxed) || f.held.load(Ordering::Relaxed) || f.remote_held.load(Ordering::Relaxed) {
            frame.fill(0);
        }
        // Before ICE is up the track is not bound yet: such frames are simply not sent.
        let _ = peer.send_pcm(&frame).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_waiting_tone_is_two_beeps_then_nothing() {
        let mut tone = CallWaitingTone::new();
        let frames: Vec<Vec<i16>> = std::iter::from_fn(|| tone.next_frame()).collect();
        assert_eq!(frames.len(), 30);
        let loud: Vec<bool> = frames.iter().map(|f| media::tone::rms(f) > 1000.0).collect();
        assert!(loud[..10].iter().all(|l| *l) && !loud[10..20].iter().any(|l| *l) && loud[20..].iter().all(|l| *l));
        let beep: Vec<i16> = frames[..10].concat();
        assert_eq!(media::tone::dominant_frequency(&beep, 48_000, 100, 4000, 10).0, 440);
        assert_eq!(mix(Some(vec![30_000, -5]), Some(vec![10_000, 5])), Some(vec![i16::MAX, 0]));
        assert_eq!(mix(None, Some(vec![1])), Some(vec![1]));
    }
}

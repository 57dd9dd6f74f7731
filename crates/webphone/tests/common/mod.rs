//! Shared set-up for the engine's end-to-end tests: rc-sim in-process on 127.0.0.1 (Kamailio in
//! [`kamailio`]), phones with test audio, and waits on events with timeouts.
#![allow(dead_code)]

pub mod kamailio;
pub mod poll;

pub use poll::Poll;

use media::tone::{dominant_frequency, rms};
use rc_sim::Handle;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::{Options, PhoneEvent, WebPhone};

/// How long a test waits for any one thing.
pub const WAIT: Duration = Duration::from_secs(10);

/// Demo extension numbers.
pub const EXT_101: &str = "16505550101";
pub const EXT_102: &str = "16505550102";

/// A third extension, for forwarding, transfer and park.
pub const EXT_103: &str = "16505550103";

/// The authorizationId of extension 102's second device.
pub const DEVICE_2_OF_102: &str = "800000000202";

/// rc-sim with the demo accounts plus extension 103.
pub async fn server() -> Handle {
    server_with(rc_sim::config::MediaSettings::default()).await
}

/// The same, with rc-sim's media written as `media` says.
pub async fn server_with(media: rc_sim::config::MediaSettings) -> Handle {
    let mut config = rc_sim::Config::demo();
    config.media = media;
    let mut third = config.extensions[1].clone();
    third.number = EXT_103.into();
    third.authorization_id = "800000000103".into();
    third.password = "demo-103-password".into();
    third.name = "Demo User 103".into();
    third.short_number = Some("103".into());
    third.caller_ids = vec![format!("+{EXT_103}")];
    config.extensions.push(third);
    // 102 also has a second device with its own credentials (its Cln differs).
    config.extensions[1].devices.push(rc_sim::Device { authorization_id: DEVICE_2_OF_102.into(), password: "second-device-pw".into() });
    rc_sim::start(rc_sim::ServerOptions::loopback(config)).await.expect("rc-sim starts")
}

/// Asks `check` until it gives a value, through [`Poll`] (every 50 ms, for at most [`WAIT`]):
/// for what rc-sim only tells when asked (its registrations, calls and log snapshots).
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let mut poll = Poll::new(what).within(WAIT);
    loop {
        if let Some(t) = check().await {
            return t;
        }
        poll.again().await;
    }
}

/// Watches `events` for `window` and returns the first one `pick` accepts, if any came: for
/// tests that prove something does not happen (a retry that must not come). It returns as soon
/// as such an event arrives; the window only bounds how long the absence is watched.
pub async fn event_within<E: Clone, T>(events: &mut broadcast::Receiver<E>, window: Duration, mut pick: impl FnMut(&E) -> Option<T>) -> Option<T> {
    let end = tokio::time::Instant::now() + window;
    loop {
        match tokio::time::timeout_at(end, events.recv()).await {
            Err(_) => return None,
            Ok(Ok(e)) => {
                if let Some(t) = pick(&e) {
                    return Some(t);
                }
            }
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(_)) => return None,
        }
    }
}

/// Waits for the next inbound call on `p` and returns its session.
pub async fn inbound_call(p: &mut TestPhone) -> (webphone::CallSession, webphone::InboundInfo) {
    wait_event(&mut p.events, "an inbound call", |e| match e {
        PhoneEvent::InboundCall(s, info) => Some((s.clone(), info.clone())),
        _ => None,
    })
    .await
}

/// Waits until call `id` of `p` is disposed and returns why.
pub async fn disposed(p: &mut TestPhone, id: webphone::CallId) -> webphone::DisposeReason {
    wait_event(&mut p.events, "the call to end", |e| match e {
        PhoneEvent::Call(i, webphone::CallEvent::Disposed(r)) if *i == id => Some(r.clone()),
        _ => None,
    })
    .await
}

/// Waits until call `id`'s audio flows.
pub async fn media_up(p: &mut TestPhone, id: webphone::CallId) {
    wait_event(&mut p.events, "media", |e| matches!(e, PhoneEvent::MediaConnected(i) if *i == id).then_some(())).await
}

/// The first message rc-sim received whose text starts with `start`.
pub async fn received_text(handle: &Handle, start: &str) -> Option<String> {
    handle.log().await.into_iter().find(|e| e.direction == rc_sim::core::Direction::In && e.text.starts_with(start)).map(|e| e.text)
}

/// A phone registered as `number`, whose microphone plays `input`.
pub struct TestPhone {
    pub phone: WebPhone,
    pub events: broadcast::Receiver<PhoneEvent>,
    pub heard: mpsc::UnboundedReceiver<Vec<i16>>,
    pub audio: Arc<TestAudio>,
}

/// Options for a test phone on loopback trusting rc-sim's CA. Its voice processing (echo
/// cancellation, noise suppression, gain control) is off: these tests are about signalling
/// and codecs and check tones, which a canceller rightly removes when the far end sends our
/// own tone back (the echo bot) and a noise suppressor may take for noise. The processing is
/// tested end to end in echo_cancellation.rs.
pub fn options(handle: &Handle, audio: Arc<TestAudio>) -> Options {
    let mut opts = Options::new(audio);
    opts.extra_ca_pem = Some(handle.ca_pem.clone());
    opts.media.bind = vec!["127.0.0.1:0".into()];
    opts.media.processing = media::processing::ProcessingSettings::OFF;
    opts.debug = std::env::var_os("WEBPHONE_DEBUG").is_some();
    opts
}

/// Starts a phone for extension `number`.
pub async fn phone(handle: &Handle, number: &str, input: Input) -> TestPhone {
    let (audio, heard) = TestAudio::new(input, Output::Channel);
    let info = handle.sip_info(number).expect("demo extension");
    let phone = WebPhone::start(info, options(handle, audio.clone())).await.expect("phone starts and registers");
    let events = phone.events();
    TestPhone { phone, events, heard, audio }
}

/// Waits for the first event `pick` accepts.
pub async fn wait_event<T>(events: &mut broadcast::Receiver<PhoneEvent>, what: &str, mut pick: impl FnMut(&PhoneEvent) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv()).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"));
        match event {
            Ok(e) => {
                if let Some(t) = pick(&e) {
                    return t;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(e) => panic!("event stream ended waiting for {what}: {e}"),
        }
    }
}

/// Drops what was heard so far.
pub fn flush(heard: &mut mpsc::UnboundedReceiver<Vec<i16>>) {
    while heard.try_recv().is_ok() {}
}

/// Listens in windows of `window` samples until `accept` takes one (it gets the window's
/// dominant frequency, that frequency's share of the power, and the RMS), or fails after
/// [`WAIT`] naming `what` and the last window's figures.
async fn listen_until(heard: &mut mpsc::UnboundedReceiver<Vec<i16>>, what: &str, window: usize, accept: impl Fn(u32, f64, f64) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut samples: Vec<i16> = Vec::new();
    let mut last = (0, 0.0, 0.0);
    loop {
        let frame = tokio::time::timeout_at(deadline, heard.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}; last window (Hz, share, RMS): {last:?}"))
            .expect("audio channel open");
        samples.extend_from_slice(&frame);
        if samples.len() >= window {
            let (f, share) = dominant_frequency(&samples, 48_000, 100, 4000, 5);
            last = (f, share, rms(&samples));
            if accept(last.0, last.1, last.2) {
                return;
            }
            samples.clear();
        }
    }
}

/// Listens until 0.5 s of sound has `freq` (±10 Hz) as its dominant frequency, or fails.
pub async fn expect_tone(heard: &mut mpsc::UnboundedReceiver<Vec<i16>>, freq: u32) {
    listen_until(heard, &format!("{freq} Hz tone"), 24_000, |f, share, level| f.abs_diff(freq) <= 10 && share > 0.5 && level > 300.0).await
}

/// Listens until 0.2 s of rc-sim's music on hold is heard (one of its notes dominates).
pub async fn expect_music(heard: &mut mpsc::UnboundedReceiver<Vec<i16>>) {
    let is_note = |f: u32| rc_sim::hub::MUSIC_NOTES.iter().any(|n| (f64::from(f) - n).abs() < 10.0);
    listen_until(heard, "music on hold", 9_600, |f, share, _| is_note(f) && share > 0.5).await
}

/// Listens until 0.4 s in a row are quiet (RMS below 100).
pub async fn expect_silence(heard: &mut mpsc::UnboundedReceiver<Vec<i16>>) {
    listen_until(heard, "silence", 19_200, |_, _, level| level < 100.0).await
}

/// Listens for `secs` seconds and returns the loudness of what was heard.
pub async fn loudness_for(heard: &mut mpsc::UnboundedReceiver<Vec<i16>>, secs: f64) -> f64 {
    let end = tokio::time::Instant::now() + Duration::from_secs_f64(secs);
    let mut all = Vec::new();
    while let Ok(Some(frame)) = tokio::time::timeout_at(end, heard.recv()).await {
        all.extend_from_slice(&frame);
    }
    rms(&all)
}

/// True when rc-sim's log has a received message whose first line starts with `start`.
pub async fn server_received(handle: &Handle, start: &str) -> bool {
    handle.log().await.iter().any(|e| e.direction == rc_sim::core::Direction::In && e.text.starts_with(start))
}

//! End to end: a phone on a "laptop" whose microphone hears its own speaker (test audio with
//! an acoustic echo path) talks to another phone through rc-sim. With the voice processing
//! on (the default), the far end does not hear itself come back, and still hears the near
//! end talk; with it off, the far end hears its own voice 10 dB down.
//!
//! `cargo test -p webphone --test echo_cancellation -- --nocapture` prints the figures.

mod common;

use common::*;
use media::processing::ProcessingSettings;
use media::voicesim::{dbfs, speech, Voice};
use std::path::PathBuf;
use std::time::Duration;
use webphone::audio::test::{AcousticEcho, Input, Output, TestAudio};
use webphone::{Dial, WebPhone};

const RATE: u32 = 48_000;

fn s(sec: f64) -> usize {
    (sec * f64::from(RATE)) as usize
}

/// The room of the phone under test: speaker to microphone 60 ms, 10 dB down, 50 ms tail.
const ROOM: AcousticEcho = AcousticEcho { delay_ms: 60.0, attenuation_db: 10.0, tail_ms: 50.0 };

/// The far end's voice: talks all the time.
fn far_speech() -> Vec<i16> {
    speech(11, Voice::LOW, 14.0, RATE)
}

/// The near end's voice: quiet for 6 s, then talks for 5 s (double talk).
fn near_speech() -> Vec<i16> {
    let mut v = vec![0; s(6.0)];
    v.extend(speech(22, Voice::HIGH, 5.0, RATE));
    v
}

fn wav(name: &str, samples: &[i16]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("webphone-aec-{}-{name}.wav", std::process::id()));
    media::wav::write(&path, RATE, samples).unwrap();
    path
}

/// A phone for `number` whose audio is `audio`, with `processing`.
async fn phone_with(sim: &rc_sim::Handle, number: &str, audio: std::sync::Arc<TestAudio>, processing: ProcessingSettings) -> WebPhone {
    let mut opts = options(sim, audio);
    opts.media.processing = processing;
    WebPhone::start(sim.sip_info(number).unwrap(), opts).await.expect("phone starts")
}

struct Figures {
    /// How far below the far end's own voice its echo comes back, in dB.
    echo_return_db: f64,
    /// The level of what the far end hears while the near end talks (double talk) against
    /// the near end's own level, in dB.
    near_level_db: f64,
}

/// `near` (in the echoing room, with `processing`) calls `far` (102, no processing, talking
/// all the time); what `far` hears is measured.
async fn echo_call(sim: &rc_sim::Handle, near_number: &str, processing: ProcessingSettings, far: &mut TestPhone) -> Figures {
    let (audio, _heard) = TestAudio::new(Input::Wav(wav("near", &near_speech())), Output::Discard);
    audio.set_acoustic_echo(Some(ROOM));
    let near = phone_with(sim, near_number, audio, processing).await;
    let call = near.call(Dial { callee: "102".into(), ..Dial::default() }).await.unwrap();
    let (incoming, _) = inbound_call(far).await;
    flush(&mut far.heard);
    incoming.answer().await.unwrap();
    call.wait_answered(WAIT).await.unwrap();

    // What the far end hears, from its first frame on, for 11 s.
    let first = tokio::time::timeout(WAIT, far.heard.recv()).await.expect("far end hears something").unwrap();
    let mut heard = first;
    let end = tokio::time::Instant::now() + Duration::from_secs(11);
    while let Ok(Some(frame)) = tokio::time::timeout_at(end, far.heard.recv()).await {
        heard.extend_from_slice(&frame);
    }
    call.hangup().await.unwrap();
    assert!(heard.len() >= s(10.0), "heard only {} samples", heard.len());

    // Far end only: 2–5 s (the canceller has had 2 s of far-end speech).
    let far_voice = far_speech();
    let echo_return_db = dbfs(&far_voice[s(2.0)..s(5.0)]) - dbfs(&heard[s(2.0)..s(5.0)]);
    // Double talk: the near end talks from about 6 s on.
    let near_voice = near_speech();
    let near_level_db = dbfs(&heard[s(7.0)..s(10.0)]) - dbfs(&near_voice[s(7.0)..s(10.0)]);
    println!("{processing:?}: the far end's echo comes back {echo_return_db:.1} dB down; in double talk it hears the near end at {near_level_db:+.1} dB");
    Figures { echo_return_db, near_level_db }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_far_end_does_not_hear_itself_through_our_speaker() {
    let sim = server().await;
    let (audio, heard) = TestAudio::new(Input::Wav(wav("far", &far_speech())), Output::Channel);
    let mut far_opts = options(&sim, audio.clone());
    far_opts.media.processing = ProcessingSettings::OFF;
    let phone = WebPhone::start(sim.sip_info(EXT_102).unwrap(), far_opts).await.unwrap();
    let events = phone.events();
    let mut far = TestPhone { phone, events, heard, audio };

    // Without processing the room's echo goes straight back: 10 dB down (its tail adds a
    // little), so the test path works.
    let off = echo_call(&sim, EXT_103, ProcessingSettings::OFF, &mut far).await;
    assert!((6.0..14.0).contains(&off.echo_return_db), "no processing: echo {:.1} dB down", off.echo_return_db);

    // With it (the default) the echo is cancelled: at least 20 dB more (ERLE), and the near
    // end still comes through in double talk: not muted (at most 6 dB down; the canceller
    // takes 2-3 dB in double talk) and not blown up (gain control raises this talker by
    // about 5 dB towards its target level; at most 10 dB).
    let on = echo_call(&sim, EXT_101, ProcessingSettings::default(), &mut far).await;
    let erle = on.echo_return_db - off.echo_return_db;
    println!("end-to-end ERLE: {erle:.1} dB");
    assert!(erle >= 20.0, "echo {:.1} dB down with processing, {:.1} dB without", on.echo_return_db, off.echo_return_db);
    assert!((-6.0..=10.0).contains(&on.near_level_db), "near end in double talk at {:+.1} dB", on.near_level_db);
}

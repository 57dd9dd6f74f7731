//! A three-party conference made the way the app's Conference button makes it
//! (`src-tauri/src/commands.rs`, `conference`), with real parts only: rc-sim in-process on
//! 127.0.0.1, three `webphone` engines (A, B, C) over WSS and WebRTC, and the `rc_rest`
//! client signed in as A with its JWT.
//!
//! A calls B; A's client creates a conference, A dials its `voiceCallToken` as the host and
//! brings the A–B call in with that call's own `p-rc-api-ids`; then A calls C and brings that
//! call in too. Each bring-in releases A's leg of the call it names (rc-sim, like RingCentral,
//! sends it a BYE), so A's host leg is left as its only call and carries the conference.
//! Every phone's microphone plays its own tone; on the call that carries the conference each
//! must hear the two others and not itself.

#[path = "../../webphone/tests/common/mod.rs"]
mod common;

use common::{disposed, inbound_call, media_up, options, TestPhone, EXT_101, EXT_102, EXT_103, WAIT};
use media::tone::{goertzel, rms};
use rc_rest::{ClientOptions, Conference, RcClient, Secret};
use rc_sim::config::{demo_jwt, OAuthSettings};
use rc_sim::Handle;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::audio::{AudioError, AudioIo, AudioSink, AudioSource};
use webphone::{CallSession, Dial, DisposeReason, WebPhone};

/// Each party's microphone tone (Hz). None is another's harmonic or the difference of the
/// other two, so no distortion in the mix can fake a tone.
const TONE_A: u32 = 500;
const TONE_B: u32 = 900;
const TONE_C: u32 = 1300;

/// How long hanging up and disposing all three phones may take before the test calls it a hang.
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

/// What one call's speaker played, 20 ms frames at 48 kHz.
type Heard = mpsc::UnboundedReceiver<Vec<i16>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_webphones_in_a_rest_conference_each_hear_the_other_two() {
    let sim = common::server().await;
    let rest = signed_in_as_101(&sim).await;
    let (mut a, a_speakers) = party(&sim, EXT_101, TONE_A).await;
    let (mut b, b_speakers) = party(&sim, EXT_102, TONE_B).await;
    let (mut c, c_speakers) = party(&sim, EXT_103, TONE_C).await;

    let (a_to_b, b_call) = connected_call(&mut a, &mut b, "102").await;
    let mut b_heard = b_speakers.latest();
    let (conference, host) = host_conference(&rest, &mut a).await;
    let mut a_heard = a_speakers.latest();
    bring_in(&rest, &conference, &mut a, &a_to_b).await;
    let (a_to_c, c_call) = connected_call(&mut a, &mut c, "103").await;
    let mut c_heard = c_speakers.latest();
    bring_in(&rest, &conference, &mut a, &a_to_c).await;
    assert_everyone_in_the_room(&sim, &conference).await;

    expect_tones("A", &mut a_heard, &[TONE_B, TONE_C], TONE_A).await;
    expect_tones("B", &mut b_heard, &[TONE_A, TONE_C], TONE_B).await;
    expect_tones("C", &mut c_heard, &[TONE_A, TONE_B], TONE_C).await;

    let shutdown = hang_up_and_dispose([(&a, &host), (&b, &b_call), (&c, &c_call)]);
    tokio::time::timeout(SHUTDOWN_LIMIT, shutdown).await.expect("hanging up and disposing the phones finishes");
    common::eventually("rc-sim to have no calls left", || async { sim.calls().await.is_empty().then_some(()) }).await;
}

/// Test audio whose microphone plays a tone and whose speaker gives each call its own channel,
/// so that A, which has two calls at a time while it brings calls in, is heard call by call.
struct SpeakerPerCall {
    microphone: Arc<TestAudio>,
    opened: Mutex<Vec<Heard>>,
}

impl SpeakerPerCall {
    /// The speaker of the call made or answered last (its media opens it before `call` or
    /// `answer` returns); the speakers opened before it are let go.
    fn latest(&self) -> Heard {
        let mut opened = self.opened.lock().unwrap();
        let latest = opened.pop().expect("a call opened a speaker");
        opened.clear();
        latest
    }
}

impl AudioIo for SpeakerPerCall {
    fn open_input(&self, device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError> {
        self.microphone.open_input(device)
    }

    fn open_output(&self, _device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError> {
        let (played, heard) = mpsc::unbounded_channel();
        self.opened.lock().unwrap().push(heard);
        Ok(Box::new(CallSpeaker(played)))
    }

    fn input_devices(&self) -> Vec<String> {
        self.microphone.input_devices()
    }

    fn output_devices(&self) -> Vec<String> {
        self.microphone.output_devices()
    }
}

/// One call's speaker: every frame goes to its channel.
struct CallSpeaker(mpsc::UnboundedSender<Vec<i16>>);

impl AudioSink for CallSpeaker {
    fn write(&mut self, frame: &[i16]) {
        let _ = self.0.send(frame.to_vec());
    }
}

/// A phone registered as extension `number` whose microphone plays `tone`, and its speakers.
/// (Its `heard` stays empty: what it hears is in the speakers, call by call.)
async fn party(sim: &Handle, number: &str, tone: u32) -> (TestPhone, Arc<SpeakerPerCall>) {
    let (audio, heard) = TestAudio::new(Input::Tone(tone.into()), Output::Discard);
    let speakers = Arc::new(SpeakerPerCall { microphone: audio.clone(), opened: Mutex::default() });
    let info = sim.sip_info(number).expect("an extension of the sim");
    let mut options = options(sim, audio.clone());
    options.audio = speakers.clone();
    let phone = WebPhone::start(info, options).await.expect("phone starts and registers");
    let events = phone.events();
    (TestPhone { phone, events, heard, audio }, speakers)
}

/// The REST client of extension 101 (A), signed in with its demo JWT as the app does.
async fn signed_in_as_101(sim: &Handle) -> RcClient {
    let mut options = ClientOptions::new(sim.rest_url(), OAuthSettings::DEMO_CONFIDENTIAL_CLIENT);
    options.client_secret = Some(Secret::new(OAuthSettings::DEMO_SECRET));
    options.extra_ca_pem = Some(sim.ca_pem.clone());
    let client = RcClient::new(options).expect("REST client");
    client.sign_in_jwt(&demo_jwt("101")).await.expect("JWT sign-in as 101");
    client
}

fn dial(callee: &str) -> Dial {
    Dial { callee: callee.into(), ..Dial::default() }
}

/// `caller` calls `number`, `callee` answers; returns both ends once audio flows both ways.
async fn connected_call(caller: &mut TestPhone, callee: &mut TestPhone, number: &str) -> (CallSession, CallSession) {
    let outbound = caller.phone.call(dial(number)).await.expect("INVITE sent");
    let (inbound, _) = inbound_call(callee).await;
    inbound.answer().await.expect("the callee answers");
    outbound.wait_answered(WAIT).await.expect("the call is answered");
    media_up(caller, outbound.id()).await;
    media_up(callee, inbound.id()).await;
    (outbound, inbound)
}

/// The first half of the app's recipe: A's client creates a conference and A dials its token
/// as the host. Returns the conference and the host leg.
async fn host_conference(rest: &RcClient, a: &mut TestPhone) -> (Conference, CallSession) {
    let conference = rest.create_conference().await.expect("conference created");
    let host = a.phone.call(dial(&conference.voice_call_token)).await.expect("INVITE to the conference sent");
    host.wait_answered(WAIT).await.expect("the conference answers its host");
    media_up(a, host.id()).await;
    let facts = host.info().await.expect("host leg facts");
    assert!(facts.is_conference, "{facts:?}");
    assert_eq!(facts.session_id.as_deref(), Some(conference.session_id.as_str()), "the host leg belongs to the conference's session");
    (conference, host)
}

/// The second half: brings A's `call` in with the ids A's call learned (`p-rc-api-ids`); the
/// far party joins the conference and rc-sim hangs up A's leg of that call.
async fn bring_in(rest: &RcClient, conference: &Conference, a: &mut TestPhone, call: &CallSession) {
    let facts = call.info().await.expect("call facts");
    let (Some(session_id), Some(party_id)) = (facts.session_id, facts.party_id) else {
        panic!("the call to {} learned no p-rc-api-ids", facts.remote_number);
    };
    let party = rest.bring_in(&conference.session_id, &session_id, &party_id).await.expect("bring-in accepted");
    assert_eq!(party.status.as_deref(), Some("Answered"), "{party:?}");
    assert_eq!(disposed(a, call.id()).await, DisposeReason::RemoteHangup, "A's own leg of the call brought in ends");
}

/// rc-sim holds three calls, all in the conference's session: A's host leg, B's and C's.
async fn assert_everyone_in_the_room(sim: &Handle, conference: &Conference) {
    let calls = sim.calls().await;
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls.iter().all(|c| c.state == "answered" && c.session_id == conference.session_id), "{calls:?}");
}

/// Listens in 0.5 s windows until one is loud and carries every tone of `present` with at
/// least a fifth of its power each, and the listener's `own` tone with less than a hundredth
/// (the conference must not send it back); fails after [`WAIT`] with the last window's figures.
async fn expect_tones(who: &str, heard: &mut Heard, present: &[u32], own: u32) {
    const WINDOW: usize = 24_000;
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut samples = Vec::with_capacity(WINDOW);
    let mut last = String::from("nothing heard");
    loop {
        let frame = tokio::time::timeout_at(deadline, heard.recv())
            .await
            .unwrap_or_else(|_| panic!("{who} did not hear {present:?} Hz without its own {own} Hz within {WAIT:?}; last window: {last}"))
            .expect("audio channel open");
        samples.extend_from_slice(&frame);
        if samples.len() < WINDOW {
            continue;
        }
        let share = |f: u32| share_of_power(&samples, f);
        if rms(&samples) > 300.0 && present.iter().all(|&f| share(f) > 0.2) && share(own) < 0.01 {
            return;
        }
        let shares: Vec<_> = present.iter().chain([&own]).map(|&f| format!("{f} Hz {:.3}", share(f))).collect();
        last = format!("RMS {:.0}, share of power: {}", rms(&samples), shares.join(", "));
        samples.clear();
    }
}

/// How much of the power of `samples` (48 kHz) is a tone at `freq`: 1 for that tone alone,
/// about 0.5 for each of two equally loud tones.
fn share_of_power(samples: &[i16], freq: u32) -> f64 {
    // Goertzel gives A²/4 for a sine of amplitude A, whose mean square is A²/2.
    let mean_square = rms(samples).powi(2).max(1e-9);
    2.0 * goertzel(samples, freq.into(), 48_000) / mean_square
}

/// Each phone hangs up its call into the conference and is disposed.
async fn hang_up_and_dispose(parties: [(&TestPhone, &CallSession); 3]) {
    for (party, call) in parties {
        call.hangup().await.expect("BYE answered");
        call.wait_disposed(WAIT).await.expect("the call ends");
        party.phone.dispose().await.expect("the phone unregisters");
    }
}

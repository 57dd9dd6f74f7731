//! The seed SDK itself (ringcentral-web-phone 2.5.4 in headless Chromium) against rc-sim.
//! These tests prove that rc-sim answers the way RingCentral does, as the SDK sees it.

mod common;

use common::seed::{write_tone_wav, Seed};
use common::Poll;
use rc_sim::{Config, Extension, Handle};
use serde_json::{json, Value};
use std::time::Duration;

/// Scenarios share one machine of 2 cores: run them one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn config() -> Config {
    let mut c = Config::demo();
    let mut third: Extension = c.extensions[1].clone();
    third.number = "16505550103".into();
    third.authorization_id = "800000000103".into();
    third.name = "Demo User 103".into();
    third.short_number = Some("103".into());
    c.extensions.push(third);
    c
}

async fn setup() -> (Handle, Seed, tempdir::Dir) {
    let sim = rc_sim::start(rc_sim::ServerOptions::loopback(config())).await.unwrap();
    let dir = tempdir::Dir::new();
    let wav = dir.path.join("tone-1000.wav");
    write_tone_wav(&wav, 1000.0, 5);
    let seed = Seed::start(&wav).await;
    (sim, seed, dir)
}

async fn phone(seed: &mut Seed, sim: &Handle, page: &str, number: &str) {
    let info = sim.sip_info(number).unwrap();
    seed.run(page, "start", json!({ "sipInfo": info, "options": {} })).await.expect("the seed SDK registers");
}

/// A calls `callee` and B (already started) gets the inbound call; returns (A's, B's) session ids.
async fn ring(seed: &mut Seed, callee: &str, b: &str) -> (Value, Value) {
    let a_session = seed.run("A", "call", json!({ "callee": callee })).await.unwrap()["session"].clone();
    let inbound = seed.event(b, "inboundCall", |_| true).await;
    seed.event("A", "ringing", |_| true).await;
    (a_session, inbound["session"].clone())
}

/// Waits until a page has received audio. A page's WebRTC statistics are only had by asking
/// (`getStats`), so this asks every 200 ms (see `common::poll`).
async fn bytes_flow(seed: &mut Seed, page: &str, session: &Value) {
    let mut poll = Poll::new(format!("page {page} to receive audio")).every(Duration::from_millis(200));
    loop {
        let s = seed.run(page, "stats", json!({ "session": session })).await.unwrap();
        if s["bytesReceived"].as_u64().unwrap_or(0) > 2000 {
            return;
        }
        poll.again_or(|| format!("its last stats: {s}")).await;
    }
}

/// Waits until a page sends audio (so ICE and DTLS are up), asking as [`bytes_flow`] does.
async fn media_sent(seed: &mut Seed, page: &str, session: &Value) {
    let mut poll = Poll::new(format!("page {page} to send audio")).every(Duration::from_millis(200));
    loop {
        let s = seed.run(page, "stats", json!({ "session": session })).await.unwrap();
        if s["bytesSent"].as_u64().unwrap_or(0) > 2000 {
            return;
        }
        poll.again_or(|| format!("its last stats: {s}")).await;
    }
}

async fn hears_tone(seed: &mut Seed, page: &str, session: &Value) {
    hears(seed, page, session, 1000.0).await;
}

async fn hears(seed: &mut Seed, page: &str, session: &Value, freq: f64) {
    let heard = seed.run(page, "listen", json!({ "session": session, "ms": 1500 })).await.unwrap();
    let f = heard["frequency"].as_f64().unwrap();
    if (f - freq).abs() > 30.0 || heard["peakOverMean"].as_f64().unwrap_or(0.0) < 20.0 {
        let stats = seed.run(page, "stats", json!({ "session": session })).await.unwrap();
        panic!("page {page} did not hear {freq} Hz: {heard}; receive stats {stats}");
    }
}

/// A calls a bot and waits until it is answered; returns A's session.
async fn call_bot(seed: &mut Seed, number: &str) -> Value {
    let a = seed.run("A", "call", json!({ "callee": number })).await.unwrap()["session"].clone();
    seed.event("A", "answered", |v| v["session"] == a).await;
    a
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_sdk_registers_and_two_pages_talk_through_rc_sim() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, mut seed, _dir) = setup().await;
    phone(&mut seed, &sim, "A", "101").await;
    phone(&mut seed, &sim, "B", "102").await;
    let regs = sim.registrations().await;
    assert!(regs.iter().any(|r| r.number == "16505550102" && r.instance == "<urn:uuid:800000000102>"), "{regs:?}");

    let (a, b) = ring(&mut seed, "102", "B").await;
    // rc-sim offers the call the way RingCentral's media servers do, and Chromium takes it.
    let offered = sim.log().await.into_iter().find(|e| e.direction == rc_sim::core::Direction::Out && e.text.starts_with("INVITE ")).unwrap().text;
    for shape in ["s=SmcSip", " RTP/SAVPF 109 111 18 0 8 9 96 101", "a=fingerprint:sha-1 ", "a=rtpmap:109 OPUS/16000", "a=rtpmap:18 g729/8000", "a=rtcp:"] {
        assert!(offered.contains(shape), "RingCentral-style offer lacks {shape:?}:\n{offered}");
    }
    seed.run("B", "answer", json!({ "session": b })).await.unwrap();
    seed.event("A", "answered", |_| true).await;
    bytes_flow(&mut seed, "A", &a).await;
    bytes_flow(&mut seed, "B", &b).await;
    hears_tone(&mut seed, "B", &b).await;
    hears_tone(&mut seed, "A", &a).await;

    seed.run("A", "hold", json!({ "session": a })).await.expect("hold");
    let log = sim.log().await;
    assert!(log.iter().any(|e| e.text.starts_with("INVITE ") && e.text.contains("a=sendonly")), "hold re-INVITE relayed");
    seed.run("A", "unhold", json!({ "session": a })).await.expect("unhold");

    seed.run("A", "hangup", json!({ "session": a })).await.unwrap();
    seed.event("B", "disposed", |_| true).await;
    assert!(sim.calls().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_sdk_inbound_call_controls() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, mut seed, _dir) = setup().await;
    phone(&mut seed, &sim, "A", "101").await;
    phone(&mut seed, &sim, "B", "102").await;
    phone(&mut seed, &sim, "C", "103").await;

    // decline: the SDK's promise resolves on rc-sim's CANCEL; the caller hears the
    // announcement (special information tones), then rc-sim hangs up.
    let (a, b) = ring(&mut seed, "102", "B").await;
    seed.run("B", "decline", json!({ "session": b })).await.expect("decline resolves");
    seed.event("A", "answered", |v| v["session"] == a).await;
    bytes_flow(&mut seed, "A", &a).await;
    let heard = seed.run("A", "listen", json!({ "session": a, "ms": 600 })).await.unwrap();
    let f = heard["frequency"].as_f64().unwrap();
    assert!([950.0, 1400.0, 1800.0].iter().any(|t| (f - t).abs() < 30.0), "announcement tones, heard {heard}");
    seed.event("A", "disposed", |v| v["session"] == a).await;

    // forward to 103: C rings and answers, A is answered.
    let (_, b) = ring(&mut seed, "102", "B").await;
    seed.run("B", "forward", json!({ "session": b, "target": "103" })).await.expect("forward resolves");
    let c = seed.event("C", "inboundCall", |_| true).await["session"].clone();
    seed.run("C", "answer", json!({ "session": c })).await.unwrap();
    let answered_a = seed.event("A", "answered", |_| true).await;
    seed.run("C", "hangup", json!({ "session": c })).await.unwrap();
    seed.event("A", "disposed", |v| v["session"] == answered_a["session"]).await;

    // reply with text: resolves with the caller's answer (SessionClose, Cmd 9).
    let (_, b) = ring(&mut seed, "102", "B").await;
    seed.run("B", "startReply", json!({ "session": b })).await.unwrap();
    sim.set_reply_answer(rc_sim::core::ReplyAnswer { resp: "3".into(), ext_nfo: "+16505550199".into() });
    let reply = seed.run("B", "reply", json!({ "session": b, "text": "On my way" })).await.unwrap();
    assert_eq!(reply["headers"]["Cmd"], "9", "{reply}");
    assert_eq!(reply["body"]["Sts"], "0", "{reply}");
    assert_eq!(reply["body"]["Resp"], "3", "the caller's scripted answer: urgent {reply}");
    assert_eq!(reply["body"]["ExtNfo"], "+16505550199", "{reply}");
    seed.event("A", "failed", |_| true).await;

    // voicemail: resolves on CANCEL; the caller is answered by the voicemail bot.
    let (a, b) = ring(&mut seed, "102", "B").await;
    seed.run("B", "toVoicemail", json!({ "session": b })).await.expect("toVoicemail resolves");
    seed.event("A", "answered", |v| v["session"] == a).await;
    seed.run("A", "hangup", json!({ "session": a })).await.unwrap();

    // caller cancels: the callee's session is disposed.
    let (a, _) = ring(&mut seed, "102", "B").await;
    seed.run("A", "cancel", json!({ "session": a })).await.unwrap();
    seed.event("B", "disposed", |_| true).await;
    assert!(sim.calls().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_sdk_sends_dtmf_and_voicemail_to_the_bots() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, mut seed, _dir) = setup().await;
    phone(&mut seed, &sim, "A", "101").await;

    // ivr: reports the RFC 4733 digits we send.
    let a = call_bot(&mut seed, "602").await;
    media_sent(&mut seed, "A", &a).await;
    seed.run("A", "sendDtmf", json!({ "session": a, "digits": "159#" })).await.unwrap();
    // The bots' reports are a snapshot rc-sim gives when asked (see `common::poll`).
    let mut poll = Poll::new("the IVR bot to report four digits");
    let digits = loop {
        let digits: String = sim.bot_reports().await.iter().filter_map(|r| match r.event {
            rc_sim::core::BotEvent::Digit { digit } => Some(digit),
            _ => None,
        }).collect();
        if digits.len() >= 4 {
            break digits;
        }
        poll.again_or(|| format!("digits so far: {digits:?}")).await;
    };
    assert_eq!(digits, "159#");
    seed.run("A", "hangup", json!({ "session": a })).await.unwrap();

    // voicemail: records what we say (our 1 kHz tone) to a WAV.
    let a = call_bot(&mut seed, "603").await;
    media_sent(&mut seed, "A", &a).await;
    tokio::time::sleep(Duration::from_secs(2)).await; // talk for two seconds of audio
    seed.run("A", "hangup", json!({ "session": a })).await.unwrap();
    let mut poll = Poll::new("the voicemail bot to save a recording");
    let (path, seconds) = loop {
        let recorded = sim.bot_reports().await.into_iter().find_map(|r| match r.event {
            rc_sim::core::BotEvent::Recorded { path, seconds } => Some((path, seconds)),
            _ => None,
        });
        if let Some(recorded) = recorded {
            break recorded;
        }
        poll.again().await;
    };
    assert!(seconds > 1.0, "{seconds} s recorded");
    let (rate, samples) = media::wav::read(std::path::Path::new(&path)).unwrap();
    let (f, _) = media::tone::dominant_frequency(&samples[samples.len() / 2..], rate, 100, 4000, 10);
    assert_eq!(f, 1000, "the recording holds our tone");
    assert!(sim.calls().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_sdk_hears_the_tone_and_echo_bots() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, mut seed, _dir) = setup().await;
    phone(&mut seed, &sim, "A", "101").await;
    let a = call_bot(&mut seed, "601").await;
    bytes_flow(&mut seed, "A", &a).await;
    hears(&mut seed, "A", &a, 440.0).await;
    seed.run("A", "hold", json!({ "session": a })).await.expect("hold toward a bot");
    seed.run("A", "unhold", json!({ "session": a })).await.expect("unhold toward a bot");
    hears(&mut seed, "A", &a, 440.0).await;
    seed.run("A", "hangup", json!({ "session": a })).await.unwrap();

    // a bot calls us: the inbound call is answered and the tone heard.
    sim.call_extension(rc_sim::core::BotKind::Tone, "101").await.expect("the bot calls 101");
    let inbound = seed.event("A", "inboundCall", |_| true).await["session"].clone();
    seed.run("A", "answer", json!({ "session": inbound })).await.unwrap();
    bytes_flow(&mut seed, "A", &inbound).await;
    hears(&mut seed, "A", &inbound, 440.0).await;
    seed.run("A", "hangup", json!({ "session": inbound })).await.unwrap();

    // auto-answer: the bot asks for it (Alert-Info + Answer-After) and the SDK answers alone.
    sim.call_extension_auto(rc_sim::core::BotKind::Tone, "101", Some(0)).await.expect("the bot calls 101");
    let auto = seed.event("A", "inboundCall", |_| true).await["session"].clone();
    seed.event("A", "answered", |v| v["session"] == auto).await;
    bytes_flow(&mut seed, "A", &auto).await;
    hears(&mut seed, "A", &auto, 440.0).await;
    seed.run("A", "hangup", json!({ "session": auto })).await.unwrap();

    // echo: we hear our own 1 kHz tone back.
    let a = call_bot(&mut seed, "600").await;
    bytes_flow(&mut seed, "A", &a).await;
    hears_tone(&mut seed, "A", &a).await;
    seed.run("A", "hangup", json!({ "session": a })).await.unwrap();
}

/// A (101) calls B (102) and B answers; returns (A's, B's) sessions.
async fn talking(seed: &mut Seed) -> (Value, Value) {
    let (a, b) = ring(seed, "102", "B").await;
    seed.run("B", "answer", json!({ "session": b })).await.unwrap();
    seed.event("A", "answered", |v| v["session"] == a).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_sdk_parks_flips_and_transfers() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, mut seed, _dir) = setup().await;
    phone(&mut seed, &sim, "A", "101").await;
    phone(&mut seed, &sim, "B", "102").await;
    phone(&mut seed, &sim, "C", "103").await;

    // park: B parks A on 801 and is hung up; C dials *801 and talks with A.
    let (a, b) = talking(&mut seed).await;
    let parked = seed.run("B", "park", json!({ "session": b })).await.expect("park resolves");
    assert_eq!(parked["code"], 0, "{parked}");
    assert_eq!(parked["park extension"], "801", "{parked}");
    seed.event("B", "disposed", |v| v["session"] == b).await;
    let c = seed.run("C", "call", json!({ "callee": "*801" })).await.unwrap()["session"].clone();
    seed.event("C", "answered", |v| v["session"] == c).await;
    bytes_flow(&mut seed, "C", &c).await;
    hears_tone(&mut seed, "C", &c).await;
    hears_tone(&mut seed, "A", &a).await;
    seed.run("C", "hangup", json!({ "session": c })).await.unwrap();
    seed.event("A", "disposed", |v| v["session"] == a).await;

    // flip: B flips the call to 103; C answers and talks with A; B is hung up.
    let (a, b) = talking(&mut seed).await;
    let flipped = seed.run("B", "flip", json!({ "session": b, "target": "103" })).await.expect("flip resolves");
    assert_eq!(flipped["code"], 0, "{flipped}");
    assert_eq!(flipped["number"], "+16505550103", "{flipped}");
    let c = seed.event("C", "inboundCall", |_| true).await["session"].clone();
    seed.run("C", "answer", json!({ "session": c })).await.unwrap();
    seed.event("B", "disposed", |v| v["session"] == b).await;
    bytes_flow(&mut seed, "C", &c).await;
    hears_tone(&mut seed, "C", &c).await;
    hears_tone(&mut seed, "A", &a).await;
    seed.run("A", "hangup", json!({ "session": a })).await.unwrap();
    seed.event("C", "disposed", |v| v["session"] == c).await;

    // cold transfer: B REFERs A to 103; the SDK's transfer() resolves on rc-sim's BYE.
    let (a, b) = talking(&mut seed).await;
    let transfer = seed.begin("B", "transfer", json!({ "session": b, "target": "103" })).await;
    let c = seed.event("C", "inboundCall", |_| true).await["session"].clone();
    seed.run("C", "answer", json!({ "session": c })).await.unwrap();
    seed.finish(transfer).await.expect("transfer resolves");
    bytes_flow(&mut seed, "C", &c).await;
    bytes_flow(&mut seed, "A", &a).await;
    hears_tone(&mut seed, "C", &c).await;
    hears_tone(&mut seed, "A", &a).await;
    let log = sim.log().await;
    assert!(log.iter().any(|e| e.text.starts_with("NOTIFY ") && e.text.contains("SIP/2.0 200 OK")), "sipfrag NOTIFY sent");
    seed.run("C", "hangup", json!({ "session": c })).await.unwrap();
    seed.event("A", "disposed", |v| v["session"] == a).await;
    assert!(sim.calls().await.is_empty(), "{:?}", sim.calls().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_sdk_conference_bridge_mixes_the_others() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, mut seed, _dir) = setup().await;
    phone(&mut seed, &sim, "A", "101").await;
    phone(&mut seed, &sim, "B", "102").await;
    let a = call_bot(&mut seed, "conf_777").await;
    bytes_flow(&mut seed, "A", &a).await;
    let alone = seed.run("A", "listen", json!({ "session": a, "ms": 800 })).await.unwrap();
    assert!(alone["rms"].as_f64().unwrap() < 0.01, "alone in the room, A hears nothing of itself: {alone}");
    let b = seed.run("B", "call", json!({ "callee": "conf_777" })).await.unwrap()["session"].clone();
    seed.event("B", "answered", |v| v["session"] == b).await;
    bytes_flow(&mut seed, "B", &b).await;
    hears_tone(&mut seed, "B", &b).await;
    hears_tone(&mut seed, "A", &a).await;
    let calls = sim.calls().await;
    assert!(calls.len() == 2 && calls.iter().all(|c| c.to == "conf_777"), "{calls:?}");
    seed.run("A", "hangup", json!({ "session": a })).await.unwrap();
    seed.run("B", "hangup", json!({ "session": b })).await.unwrap();
}

mod tempdir {
    /// A temporary directory removed on drop.
    pub struct Dir {
        pub path: std::path::PathBuf,
    }

    impl Dir {
        pub fn new() -> Self {
            let path = std::env::temp_dir().join(format!("rc-sim-seed-{}-{:?}", std::process::id(), std::thread::current().id()));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_sdk_records_and_warm_transfers() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let (sim, mut seed, _dir) = setup().await;
    phone(&mut seed, &sim, "A", "101").await;
    phone(&mut seed, &sim, "B", "102").await;
    phone(&mut seed, &sim, "C", "103").await;

    // Recording: rc-sim carries the media, so the WAV holds the call's audio.
    let (a, b) = talking(&mut seed).await;
    let started = seed.run("A", "startRecording", json!({ "session": a })).await.expect("startRecording resolves");
    assert_eq!(started["code"], 0, "{started}");
    hears_tone(&mut seed, "B", &b).await;
    let stopped = seed.run("A", "stopRecording", json!({ "session": a })).await.expect("stopRecording resolves");
    assert_eq!(stopped["code"], 0, "{stopped}");
    let mut poll = Poll::new("rc-sim to write the recording");
    let recording = loop {
        if let Some(recording) = sim.recordings().await.into_iter().next() {
            break recording;
        }
        poll.again().await;
    };
    let (rate, samples) = media::wav::read(std::path::Path::new(&recording.path)).unwrap();
    assert!(recording.seconds > 1.0, "{recording:?}");
    let (f, _) = media::tone::dominant_frequency(&samples[samples.len() / 2..], rate, 100, 4000, 10);
    assert_eq!(f, 1000, "the recording holds the pages' 1 kHz audio");

    // Warm transfer: B holds A (who hears music), consults C, then connects A and C.
    let warm = seed.begin("B", "warmTransfer", json!({ "session": b, "target": "103" })).await;
    let c = seed.event("C", "inboundCall", |_| true).await["session"].clone();
    seed.run("C", "answer", json!({ "session": c })).await.unwrap();
    let started = seed.finish(warm).await.expect("warmTransfer resolves once C answers");
    let heard = seed.run("A", "listen", json!({ "session": a, "ms": 1500 })).await.unwrap();
    let f = heard["frequency"].as_f64().unwrap();
    assert!(rc_sim::hub::MUSIC_NOTES.iter().any(|n| (f - n).abs() < 30.0), "A on hold hears music: {heard}");
    seed.run("B", "completeWarmTransfer", json!({ "transfer": started["transfer"] })).await.expect("complete resolves on rc-sim's BYE");
    seed.event("B", "disposed", |v| v["session"] == b).await;
    hears_tone(&mut seed, "C", &c).await;
    hears_tone(&mut seed, "A", &a).await;
    let log = sim.log().await;
    assert!(log.iter().any(|e| e.text.starts_with("REFER ") && e.text.contains("Replaces=")), "REFER with Replaces");
    seed.run("C", "hangup", json!({ "session": c })).await.unwrap();
    seed.event("A", "disposed", |v| v["session"] == a).await;
}

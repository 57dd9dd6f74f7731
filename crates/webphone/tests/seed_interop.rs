//! Our engine and the seed SDK (ringcentral-web-phone 2.5.4 in headless Chromium) call each
//! other through rc-sim, with audio detected on both sides.

mod common;
#[path = "../../rc-sim/tests/common/seed.rs"]
mod seed;

use common::*;
use seed::{write_tone_wav, Seed};
use serde_json::{json, Value};
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::WebPhone;

/// The page hears `freq` Hz from its remote stream.
async fn page_hears(seed: &mut Seed, page: &str, session: &Value, freq: f64) {
    let heard = seed.run(page, "listen", json!({ "session": session, "ms": 1500 })).await.unwrap();
    let f = heard["frequency"].as_f64().unwrap_or(0.0);
    assert!((f - freq).abs() <= 30.0 && heard["peakOverMean"].as_f64().unwrap_or(0.0) >= 20.0, "page {page} heard {heard}, wanted {freq} Hz");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_and_seed_sdk_call_each_other_with_audio_both_ways() {
    let sim = server().await;
    let dir = std::env::temp_dir().join(format!("webphone-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("tone-1000.wav");
    write_tone_wav(&wav, 1000.0, 10);
    let mut seed = Seed::start(&wav).await;
    let info = sim.sip_info(EXT_102).unwrap();
    seed.run("B", "start", json!({ "sipInfo": info, "options": {} })).await.expect("the seed SDK registers");

    // Chromium offers only its interface addresses, so our media binds every interface.
    let (audio, mut heard) = TestAudio::new(Input::Tone(700.0), Output::Channel);
    let mut opts = options(&sim, audio);
    opts.media.bind = vec!["0.0.0.0:0".into()];
    let phone = WebPhone::start(sim.sip_info(EXT_101).unwrap(), opts).await.unwrap();
    let mut events = phone.events();

    // We call the page.
    let out = phone.call(webphone::Dial { callee: "102".into(), ..Default::default() }).await.unwrap();
    let inbound = seed.event("B", "inboundCall", |_| true).await;
    let page_session = inbound["session"].clone();
    seed.run("B", "answer", json!({ "session": page_session })).await.unwrap();
    out.wait_answered(WAIT).await.expect("the page answers our call");
    expect_tone(&mut heard, 1000).await;
    page_hears(&mut seed, "B", &page_session, 700.0).await;
    out.hangup().await.unwrap();
    seed.event("B", "disposed", |_| true).await;

    // The page calls us.
    let page_call = seed.run("B", "call", json!({ "callee": "101" })).await.unwrap()["session"].clone();
    let (inc, _) = wait_event(&mut events, "the page's call", |e| match e {
        webphone::PhoneEvent::InboundCall(s, info) => Some((s.clone(), info.clone())),
        _ => None,
    })
    .await;
    inc.answer().await.unwrap();
    seed.event("B", "answered", |v| v["session"] == page_call).await;
    flush(&mut heard);
    expect_tone(&mut heard, 1000).await;
    page_hears(&mut seed, "B", &page_call, 700.0).await;
    seed.run("B", "hangup", json!({ "session": page_call })).await.unwrap();
    inc.wait_disposed(WAIT).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

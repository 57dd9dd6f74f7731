//! What real RingCentral users hit (ringcentral-web-phone issues and PRs), each reproduced
//! by rc-sim over real sockets, with audio checked by tone detection.

mod common;

use common::*;
use rc_sim::core::Direction;
use webphone::audio::test::Input;
use webphone::{CallEvent, Dial, DisposeReason, PhoneEvent};

fn dial(callee: &str) -> Dial {
    Dial { callee: callee.into(), ..Dial::default() }
}

/// `from` calls `to` (an extension number's short form), `to` answers: both sessions.
async fn talk(from: &mut TestPhone, to: &mut TestPhone, short: &str) -> (webphone::CallSession, webphone::CallSession) {
    let out = from.phone.call(dial(short)).await.unwrap();
    let (inc, _) = inbound_call(to).await;
    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();
    (out, inc)
}

/// The texts rc-sim received (from the phones) that start with `start`.
async fn received_all(sim: &rc_sim::Handle, start: &str) -> Vec<String> {
    sim.log().await.into_iter().filter(|e| e.direction == Direction::In && e.text.starts_with(start)).map(|e| e.text).collect()
}

/// ringcentral-web-phone PR #407: after a warm transfer RingCentral sends an UPDATE with an
/// offer; a 200 without SDP loses the call. We answer it with SDP and the call goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_with_an_offer_after_a_warm_transfer_is_answered_and_the_call_keeps_its_audio() {
    let sim = server().await;
    sim.set_faults(rc_sim::core::Faults { update_after_warm_transfer: true, ..rc_sim::core::Faults::default() });
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Tone(500.0)).await;
    let mut c = phone(&sim, EXT_103, Input::Tone(700.0)).await;
    let (out, inc) = talk(&mut a, &mut b, "102").await;
    let warm = inc.warm_transfer("103", None).await.unwrap();
    let (at_c, _) = inbound_call(&mut c).await;
    at_c.answer().await.unwrap();
    warm.target.wait_answered(WAIT).await.unwrap();
    warm.complete().await.expect("the warm transfer completes");

    let answers = eventually("both UPDATEs answered with SDP", || async {
        let oks: Vec<String> = received_all(&sim, "SIP/2.0 200").await.into_iter().filter(|t| t.contains(" UPDATE\r\n")).collect();
        (oks.len() == 2).then_some(oks)
    })
    .await;
    for ok in &answers {
        assert!(ok.contains("Content-Type: application/sdp") && ok.contains("\r\nm=audio ") && !ok.contains("a=mid"), "{ok}");
    }
    flush(&mut a.heard);
    flush(&mut c.heard);
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut c.heard, 1000).await;
    assert!(out.status().state == webphone::CallState::Answered && at_c.status().state == webphone::CallState::Answered);
    at_c.hangup().await.unwrap();
    out.wait_disposed(WAIT).await.unwrap();
}

/// ringcentral-web-phone #339: RingCentral reports a stopped recording on its own (reqid 0)
/// while our park request waits for its answer. Both are kept straight: the status INFO is
/// taken (200, not 400) and told, the park completes with its orbit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_stopped_by_parking_is_reported_while_the_park_completes() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let mut c = phone(&sim, EXT_103, Input::Tone(700.0)).await;
    let (_out, inc) = talk(&mut a, &mut b, "102").await;
    assert!(inc.start_recording().await.unwrap().succeeded());

    let parked = inc.park().await.expect("the park completes");
    assert!(parked.succeeded(), "{parked:?}");
    let orbit = parked.park_extension().expect("an orbit").to_owned();
    wait_event(&mut b.events, "the recording reported stopped", |e| matches!(e, PhoneEvent::Call(id, CallEvent::RecordingChanged(false)) if *id == inc.id()).then_some(())).await;
    let status = received_all(&sim, "SIP/2.0 200").await.into_iter().filter(|t| t.contains(" INFO\r\n")).count();
    assert!(status >= 3, "every INFO of the server answered 200 (record, status, park): {status}");
    assert!(!received_all(&sim, "SIP/2.0 400").await.iter().any(|t| t.contains(" INFO\r\n")), "no INFO refused");
    let log = sim.log().await;
    let status_at = log.iter().position(|e| e.direction == Direction::Out && e.text.contains("\"status\" : {")).expect("rc-sim sent the status");
    let result_at = log.iter().position(|e| e.direction == Direction::Out && e.text.contains("\"park extension\"")).expect("rc-sim sent the park result");
    assert!(status_at < result_at, "the status came first, while the park was pending");

    let retrieve = c.phone.call(dial(&format!("*{orbit}"))).await.unwrap();
    retrieve.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut c.heard, 1000).await;
    retrieve.hangup().await.unwrap();
}

/// ringcentral-web-phone #402 and #314: a server re-INVITE moves the call to another media
/// server (new ICE credentials, new certificate, no mid): the call keeps its audio both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_to_another_media_server_keeps_the_audio_both_ways() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Tone(700.0)).await;
    let (out, inc) = talk(&mut a, &mut b, "102").await;
    expect_tone(&mut a.heard, 700).await;
    let before = received_all(&sim, "SIP/2.0 200").await.len();

    assert!(sim.move_media(EXT_101).await, "a's call moves");
    let (offer, answer) = eventually("the re-INVITE and its answer", || async {
        let log = sim.log().await;
        let reinvite = log.iter().rfind(|e| e.direction == Direction::Out && e.text.starts_with("INVITE ") && e.text.contains("s=SmcSip"))?;
        let oks = received_all(&sim, "SIP/2.0 200").await;
        let ok = oks.get(before..)?.iter().find(|t| t.contains(" INVITE\r\n") && t.contains("m=audio"))?.clone();
        Some((reinvite.text.clone(), ok))
    })
    .await;
    let first_offer = received_text(&sim, "INVITE sip:").await.unwrap();
    let fingerprint = |t: &str| t.lines().find(|l| l.starts_with("a=fingerprint:")).map(str::to_owned);
    assert!(!offer.contains("a=mid") && fingerprint(&offer) != fingerprint(&first_offer), "another media server:\n{offer}");
    assert!(!answer.contains("a=mid"), "{answer}");
    flush(&mut a.heard);
    flush(&mut b.heard);
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut b.heard, 1000).await;
    out.hangup().await.unwrap();
    inc.wait_disposed(WAIT).await.unwrap();
}

/// ringcentral-web-phone #319: while we hold a call, the far end's BYE still ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_far_ends_bye_ends_a_held_call() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Tone(700.0)).await;
    let (out, inc) = talk(&mut a, &mut b, "102").await;
    out.hold().await.unwrap();
    assert!(out.status().held);
    inc.hangup().await.unwrap();
    assert_eq!(disposed(&mut a, out.id()).await, DisposeReason::RemoteHangup);
    assert_eq!(out.status().state, webphone::CallState::Disposed, "nothing left hanging");
}

/// ringcentral-web-phone #360 (one-way audio): B calls A, C calls A, A holds B and answers C,
/// C hangs up, A resumes B: audio both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_the_first_call_after_the_second_ends_has_audio_both_ways() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Tone(700.0)).await;
    let mut c = phone(&sim, EXT_103, Input::Tone(500.0)).await;
    let (b_out, a_from_b) = talk(&mut b, &mut a, "101").await;
    expect_tone(&mut a.heard, 700).await;

    let c_out = c.phone.call(dial("101")).await.unwrap();
    let (a_from_c, _) = inbound_call(&mut a).await;
    a_from_b.hold().await.unwrap();
    a_from_c.answer().await.unwrap();
    c_out.wait_answered(WAIT).await.unwrap();
    flush(&mut a.heard);
    expect_tone(&mut a.heard, 500).await;
    expect_tone(&mut c.heard, 1000).await;

    c_out.hangup().await.unwrap();
    assert_eq!(disposed(&mut a, a_from_c.id()).await, DisposeReason::RemoteHangup);
    a_from_b.unhold().await.unwrap();
    flush(&mut a.heard);
    flush(&mut b.heard);
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut b.heard, 1000).await;
    b_out.hangup().await.unwrap();
}

/// ringcentral-embeddable #650: a second inbound call during an answered one is announced by
/// a short call-waiting beep in that call's audio (the app does not ring over the call).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_call_during_an_answered_one_beeps_in_it_and_then_stops() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Silence).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let c = phone(&sim, EXT_103, Input::Silence).await;
    let (b_out, a_from_b) = talk(&mut b, &mut a, "101").await;
    media_up(&mut a, a_from_b.id()).await;
    expect_silence(&mut a.heard).await;

    let _c_out = c.phone.call(dial("101")).await.unwrap();
    let (waiting, _) = inbound_call(&mut a).await;
    expect_tone(&mut a.heard, 440).await;
    expect_silence(&mut a.heard).await;
    assert_eq!(waiting.status().state, webphone::CallState::Ringing, "the second call still rings");
    waiting.decline().await.unwrap();
    b_out.hangup().await.unwrap();
}

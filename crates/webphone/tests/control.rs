//! End-to-end: RingCentral's call control (XML before answer, JSON and REFER in a call).

mod common;

use common::*;
use rc_sim::core::BotEvent;
use webphone::audio::test::Input;
use webphone::{CallerChoice, Dial, DisposeReason, Reply, ReplyDirection, ReplyUnit};

fn dial(callee: &str) -> Dial {
    Dial { callee: callee.into(), ..Dial::default() }
}

/// a (101) calls b (102); returns both sessions once b rings.
async fn ring(a: &mut TestPhone, b: &mut TestPhone) -> (webphone::CallSession, webphone::CallSession) {
    let out = a.phone.call(dial("102")).await.unwrap();
    let (inc, _) = inbound_call(b).await;
    (out, inc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decline_sends_the_caller_to_the_announcement() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Silence).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let (out, inc) = ring(&mut a, &mut b).await;
    inc.decline().await.expect("declined: the server cancels the ringing call");
    assert_eq!(disposed(&mut b, inc.id()).await, DisposeReason::Cancelled);
    let msg = received_text(&sim, "MESSAGE sip:").await.unwrap();
    assert!(msg.contains("x-rc/agent"), "{msg}");
    assert!(sim.log().await.iter().any(|e| e.text.contains("Cmd=\"12\"")), "Cmd 12 on the wire");
    // The caller is answered by the "declined" announcement, which then hangs up.
    assert_eq!(disposed(&mut a, out.id()).await, DisposeReason::RemoteHangup);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn to_voicemail_records_the_caller() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let (out, inc) = ring(&mut a, &mut b).await;
    inc.to_voicemail().await.unwrap();
    assert_eq!(disposed(&mut b, inc.id()).await, DisposeReason::Cancelled);
    out.wait_answered(WAIT).await.expect("the voicemail bot answers the caller");
    media_up(&mut a, out.id()).await;
    // Let the bot record a little of our tone, then hang up so it saves the file.
    let _ = loudness_for(&mut a.heard, 1.0).await;
    out.hangup().await.unwrap();
    let (path, _) = eventually("the voicemail recording", || async {
        sim.bot_reports().await.into_iter().find_map(|r| match r.event {
            BotEvent::Recorded { path, seconds } => Some((path, seconds)),
            _ => None,
        })
    })
    .await;
    let (rate, samples) = media::wav::read(std::path::Path::new(&path)).unwrap();
    let (f, _) = media::tone::dominant_frequency(&samples[samples.len() / 2..], rate, 100, 4000, 10);
    assert!(f.abs_diff(1000) <= 10, "the recording holds our 1 kHz tone, found {f} Hz");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_rings_the_target() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let mut c = phone(&sim, EXT_103, Input::Tone(700.0)).await;
    let (out, inc) = ring(&mut a, &mut b).await;
    inc.forward("103").await.unwrap();
    assert_eq!(disposed(&mut b, inc.id()).await, DisposeReason::Cancelled);
    let (fwd, _) = inbound_call(&mut c).await;
    fwd.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut c.heard, 1000).await;
    fwd.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_with_text_and_preset_returns_the_callers_answer() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Silence).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;

    let (out, inc) = ring(&mut a, &mut b).await;
    inc.start_reply().await.unwrap();
    sim.set_reply_answer(rc_sim::core::ReplyAnswer { resp: "3".into(), ext_nfo: "+15551234567".into() });
    let answer = inc.reply(Reply::Text("In a meeting, 5 min".into())).await.unwrap();
    assert!(answer.replied);
    assert_eq!(answer.choice, CallerChoice::Urgent("+15551234567".into()));
    assert!(sim.log().await.iter().any(|e| e.text.contains("Cmd=\"14\"") && e.text.contains("Bdy=\"In a meeting, 5 min\"")));
    assert!(sim.log().await.iter().any(|e| e.text.contains("Cmd=\"13\"")), "start reply on the wire");
    let _ = disposed(&mut a, out.id()).await;

    let (_, inc) = ring(&mut a, &mut b).await;
    sim.set_reply_answer(rc_sim::core::ReplyAnswer { resp: "1".into(), ext_nfo: String::new() });
    let preset = Reply::CallYouBack { direction: ReplyDirection::ToCaller, delay: 10, unit: ReplyUnit::Minutes };
    assert_eq!(inc.reply(preset).await.unwrap().choice, CallerChoice::Yes);
    assert!(sim.log().await.iter().any(|e| e.text.contains("RepTp=\"1\" Dir=\"0\" Vl=\"10\" Units=\"0\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_transfer_connects_the_far_party_to_the_target() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let mut c = phone(&sim, EXT_103, Input::Tone(700.0)).await;
    let (out, inc) = ring(&mut a, &mut b).await;
    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();

    let transfer = tokio::spawn({
        let inc = inc.clone();
        async move { inc.transfer("103").await }
    });
    let (target, _) = inbound_call(&mut c).await;
    target.answer().await.unwrap();
    transfer.await.unwrap().expect("transfer completes with the server's BYE");
    let refer = received_text(&sim, "REFER ").await.unwrap();
    assert!(refer.contains("Refer-To: <sip:103@sip.ringcentral.com>") && refer.contains("Referred-By: "), "{refer}");
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut c.heard, 1000).await;
    target.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn park_then_retrieve_and_flip() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let mut c = phone(&sim, EXT_103, Input::Tone(700.0)).await;
    let (out, inc) = ring(&mut a, &mut b).await;
    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();

    let parked = inc.park().await.unwrap();
    let orbit = parked.park_extension().expect("park extension").to_owned();
    assert!(parked.succeeded());
    assert_eq!(disposed(&mut b, inc.id()).await, DisposeReason::Local, "park hangs up our leg");
    let retrieve = c.phone.call(dial(&format!("*{orbit}"))).await.unwrap();
    retrieve.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut c.heard, 1000).await;

    // c flips the call to b's number: b rings, answers and talks to a.
    let flipped = retrieve.flip("102").await.unwrap();
    assert!(flipped.succeeded(), "{flipped:?}");
    let (on_b, _) = inbound_call(&mut b).await;
    on_b.answer().await.unwrap();
    let _ = disposed(&mut c, retrieve.id()).await;
    on_b.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_transfer_cancel_and_recording_requests() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Tone(700.0)).await;
    let (out, inc) = ring(&mut a, &mut b).await;
    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();

    media_up(&mut a, out.id()).await;
    let recording = out.start_recording().await.expect("the server answers the JSON request");
    assert!(recording.succeeded(), "{recording:?}");
    assert!(sim.log().await.iter().any(|e| e.text.contains(r#""command":"startcallrecord""#) && e.text.contains(r#""reqid":1"#)));
    expect_tone(&mut a.heard, 700).await;
    let stopped = out.stop_recording().await.unwrap();
    assert!(stopped.succeeded());
    assert!(sim.log().await.iter().any(|e| e.text.contains(r#""command":"stopcallrecord""#) && e.text.contains(r#""reqid":2"#)));
    let recorded = eventually("the call recording", || async { sim.recordings().await.into_iter().next() }).await;
    #[cfg(unix)]
    {
        // Recordings of people's voices: a private directory, a private new file, a name no
        // other local user can guess (issue 19.4).
        use std::os::unix::fs::PermissionsExt as _;
        let path = std::path::Path::new(&recorded.path);
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(path.parent().unwrap()), mode(path)), (0o700, 0o600), "{}", path.display());
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(name.rsplit('-').next().is_some_and(|token| token.len() == 12), "{name}");
    }
    let (rate, samples) = media::wav::read(std::path::Path::new(&recorded.path)).unwrap();
    let g = |f: f64| media::tone::goertzel(&samples, f, rate);
    assert!(recorded.seconds > 0.3 && g(1000.0) > 10.0 * g(300.0) && g(700.0) > 10.0 * g(300.0), "the recording holds both parties: {recorded:?}");

    let warm = inc.warm_transfer("601", None).await.unwrap();
    assert!(inc.status().held);
    warm.target.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut b.heard, 440).await;
    warm.cancel().await.unwrap();
    assert!(!inc.status().held);
    expect_tone(&mut b.heard, 1000).await;
    inc.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_transfer_connects_the_held_party_with_the_target() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Tone(500.0)).await;
    let mut c = phone(&sim, EXT_103, Input::Tone(700.0)).await;
    let (out, inc) = ring(&mut a, &mut b).await;
    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut a.heard, 500).await;

    // b consults c while a waits on hold, hearing music.
    let warm = inc.warm_transfer("103", None).await.unwrap();
    expect_music(&mut a.heard).await;
    let (at_c, _) = inbound_call(&mut c).await;
    at_c.answer().await.unwrap();
    warm.target.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut c.heard, 500).await;

    // Complete: a and c talk, both of b's calls end.
    warm.complete().await.expect("REFER with Replaces completes with the server's BYE");
    let refer = received_text(&sim, "REFER ").await.unwrap();
    assert!(refer.contains("?Replaces=") && refer.contains("to-tag%3D") && refer.contains("from-tag%3D"), "{refer}");
    warm.target.wait_disposed(WAIT).await.unwrap();
    inc.wait_disposed(WAIT).await.unwrap();
    flush(&mut a.heard);
    flush(&mut c.heard);
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut c.heard, 1000).await;
    at_c.hangup().await.unwrap();
    out.wait_disposed(WAIT).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_messages_for_another_device_are_ignored() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Silence).await;
    let mut b1 = phone(&sim, EXT_102, Input::Silence).await;
    let (audio, _) = webphone::audio::test::TestAudio::new(Input::Silence, webphone::audio::test::Output::Discard);
    let b2_phone = webphone::WebPhone::start(sim.device_sip_info(EXT_102, DEVICE_2_OF_102).unwrap(), options(&sim, audio)).await.unwrap();
    let mut b2 = b2_phone.events();

    let out = a.phone.call(dial("102")).await.unwrap();
    let (on_b1, _) = inbound_call(&mut b1).await;
    wait_event(&mut b2, "the call on the second device", |e| matches!(e, webphone::PhoneEvent::InboundCall(..)).then_some(())).await;
    let answer = on_b1.reply(Reply::OnMyWay).await.expect("device 1 gets the caller's answer");
    assert_eq!(answer.message.bdy("Cln"), Some("800000000102"));
    // Device 2 receives the same SessionClose (RingCentral sends it to every device) but,
    // its Cln being another device's, does not act on it.
    wait_event(&mut b2, "the SessionClose copy", |e| match e {
        webphone::PhoneEvent::Message(text) if text.contains("Cmd=\"9\"") => Some(()),
        _ => None,
    })
    .await;
    // The driver handles frames in order: once the answer to a later REGISTER is in, every
    // event of the SessionClose frame has been queued.
    b2_phone.unregister().await.unwrap();
    loop {
        match b2.try_recv() {
            Ok(webphone::PhoneEvent::RcMessage(m)) => panic!("device 2 acted on another device's message: {m:?}"),
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    let _ = disposed(&mut a, out.id()).await;
}

//! End-to-end: our engine against rc-sim, audio asserted by the tones heard.

mod common;

use common::*;
use webphone::audio::test::Input;
use webphone::{CallEvent, Dial, PhoneEvent};

fn dial(callee: &str) -> Dial {
    Dial { callee: callee.into(), ..Dial::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_bot_returns_our_tone_and_hangup_ends_the_call() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    assert!(server_received(&sim, "REGISTER sip:").await);

    let call = a.phone.call(dial("600")).await.expect("INVITE sent");
    call.wait_answered(WAIT).await.expect("echo bot answers");
    wait_event(&mut a.events, "media connected", |e| matches!(e, PhoneEvent::MediaConnected(id) if *id == call.id()).then_some(())).await;
    expect_tone(&mut a.heard, 1000).await;

    call.hangup().await.expect("BYE answered");
    call.wait_disposed(WAIT).await.unwrap();
    assert!(server_received(&sim, "BYE ").await);
    let disposed = wait_event(&mut a.events, "disposed", |e| match e {
        PhoneEvent::Call(id, CallEvent::Disposed(reason)) if *id == call.id() => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(disposed, webphone::DisposeReason::Local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tone_bot_is_heard_and_ivr_bot_gets_our_digits() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Silence).await;
    let tone = a.phone.call(dial("601")).await.unwrap();
    tone.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut a.heard, 440).await;
    tone.hangup().await.unwrap();

    let ivr = a.phone.call(dial("602")).await.unwrap();
    ivr.wait_answered(WAIT).await.unwrap();
    media_up(&mut a, ivr.id()).await;
    ivr.send_dtmf("159#", None, None).await.unwrap();
    assert!(ivr.send_dtmf("12x", None, None).await.is_err(), "an invalid digit is refused");
    let digits = eventually("the ivr bot to report 4 digits", || async {
        let d: String = sim
            .bot_reports()
            .await
            .iter()
            .filter_map(|r| match r.event {
                rc_sim::core::BotEvent::Digit { digit } => Some(digit),
                _ => None,
            })
            .collect();
        (d.len() >= 4).then_some(d)
    })
    .await;
    assert_eq!(digits, "159#");
    ivr.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_phones_talk_hold_mute_and_hang_up() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Tone(700.0)).await;

    let out = a.phone.call(Dial { callee: "102".into(), caller_id: Some("+16505550101".into()), headers: vec![("X-Test".into(), "yes".into())] }).await.unwrap();
    let (inc, info) = inbound_call(&mut b).await;
    assert!(info.remote_number.ends_with(EXT_101), "{}", info.remote_number);
    assert!(info.rc_message.as_ref().is_some_and(|m| m.cmd() == Some(6)), "P-rc with Cmd 6");
    let invite = received_text(&sim, "INVITE sip:102@").await.expect("rc-sim got our INVITE");
    assert!(invite.contains("P-Asserted-Identity: sip:+16505550101@") && invite.contains("X-Test: yes"), "{invite}");
    wait_event(&mut a.events, "ringing", |e| matches!(e, PhoneEvent::Call(id, CallEvent::Ringing) if *id == out.id()).then_some(())).await;
    eventually("ClientReceiveConfirm (Cmd 17) at rc-sim", || async { server_received(&sim, "MESSAGE sip:").await.then_some(()) }).await;

    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();
    let facts = inc.info().await.unwrap();
    assert!(facts.session_id.as_deref().is_some_and(|s| s.starts_with("s-")) && facts.party_id.is_some(), "{facts:?}");
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut b.heard, 1000).await;

    out.hold().await.unwrap();
    assert!(out.status().held);
    assert!(received_text(&sim, "INVITE sip:").await.is_some());
    let reinvite = sim.log().await.into_iter().rfind(|e| e.direction == rc_sim::core::Direction::In && e.text.starts_with("INVITE ")).expect("hold re-INVITE");
    assert!(reinvite.text.contains("a=sendonly"), "{}", reinvite.text);
    // rc-sim carries the media: the held party hears music, not us.
    expect_music(&mut b.heard).await;
    out.unhold().await.unwrap();
    expect_tone(&mut b.heard, 1000).await;

    inc.mute().await.unwrap();
    expect_silence(&mut a.heard).await;
    inc.unmute().await.unwrap();
    expect_tone(&mut a.heard, 700).await;

    inc.hangup().await.unwrap();
    assert_eq!(disposed(&mut a, out.id()).await, webphone::DisposeReason::RemoteHangup);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_before_answer_and_unregister() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Silence).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let out = a.phone.call(dial("102")).await.unwrap();
    let (inc, _) = inbound_call(&mut b).await;
    out.cancel().await.unwrap();
    assert_eq!(disposed(&mut b, inc.id()).await, webphone::DisposeReason::Cancelled);
    assert_eq!(disposed(&mut a, out.id()).await, webphone::DisposeReason::Local);
    assert!(server_received(&sim, "CANCEL ").await);

    b.phone.unregister().await.unwrap();
    let bindings = sim.registrations().await;
    assert!(bindings.iter().all(|r| !format!("{r:?}").contains("800000000102")), "{bindings:?}");
    let refused = a.phone.call(dial("102")).await.unwrap();
    assert!(refused.wait_answered(WAIT).await.is_err(), "nobody to ring after unregister");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_fails_registration_clearly() {
    let sim = server().await;
    let (audio, _) = webphone::audio::test::TestAudio::new(Input::Silence, webphone::audio::test::Output::Discard);
    let mut info = sim.sip_info(EXT_101).unwrap();
    info.password = "not-the-password".into();
    let err = webphone::WebPhone::start(info, options(&sim, audio)).await.unwrap_err();
    assert!(matches!(err, webphone::CallError::Register(webphone::RegisterError::WrongPassword(_))), "{err:?}");
    let registers = sim.log().await.iter().filter(|e| e.direction == rc_sim::core::Direction::In && e.text.starts_with("REGISTER")).count();
    assert_eq!(registers, 2, "one challenge, one answer, no retry storm");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_calls_in_and_is_auto_answered() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Silence).await;
    sim.call_extension_auto(rc_sim::core::BotKind::Tone, EXT_101, Some(300)).await.unwrap();
    let (inc, info) = inbound_call(&mut a).await;
    assert_eq!(info.auto_answer_after_ms, Some(300));
    let after = wait_event(&mut a.events, "the auto-answer notice", |e| match e {
        PhoneEvent::AutoAnswering(id, after) if *id == inc.id() => Some(*after),
        _ => None,
    })
    .await;
    assert_eq!(after, std::time::Duration::from_millis(300));
    inc.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut a.heard, 440).await;

    // A second call marked for auto-answer during this one keeps ringing, and says why.
    sim.call_extension_auto(rc_sim::core::BotKind::Echo, EXT_101, Some(0)).await.unwrap();
    let (second, _) = inbound_call(&mut a).await;
    let why = wait_event(&mut a.events, "the skipped auto-answer", |e| match e {
        PhoneEvent::AutoAnswerSkipped(id, why) if *id == second.id() => Some(why.clone()),
        PhoneEvent::AutoAnswering(id, _) if *id == second.id() => panic!("auto-answered on top of a call"),
        _ => None,
    })
    .await;
    assert!(why.contains("another call"), "{why}");
    assert_eq!(second.status().state, webphone::CallState::Ringing);
    second.decline().await.unwrap();
    inc.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g711_only_phones_still_talk_and_send_dtmf() {
    use media::codecs::AudioCodec;
    let sim = server().await;
    for (codec, name, digit) in [(AudioCodec::Pcmu, "PCMU/8000", '7'), (AudioCodec::Pcma, "PCMA/8000", '8')] {
        let (audio, mut heard) = webphone::audio::test::TestAudio::new(Input::Tone(1000.0), webphone::audio::test::Output::Channel);
        let mut opts = options(&sim, audio);
        opts.media.codecs = vec![codec];
        let phone = webphone::WebPhone::start(sim.sip_info(EXT_101).unwrap(), opts).await.unwrap();
        let call = phone.call(dial("600")).await.unwrap();
        call.wait_answered(WAIT).await.unwrap();
        expect_tone(&mut heard, 1000).await;
        let invite = sim.log().await.into_iter().rev().find(|e| e.text.starts_with("INVITE sip:600@")).unwrap().text;
        assert!(invite.contains(name) && !invite.to_ascii_lowercase().contains("opus"), "{invite}");
        call.hangup().await.unwrap();

        let mut events = phone.events();
        let ivr = phone.call(dial("602")).await.unwrap();
        ivr.wait_answered(WAIT).await.unwrap();
        wait_event(&mut events, "media", |e| matches!(e, PhoneEvent::MediaConnected(id) if *id == ivr.id()).then_some(())).await;
        ivr.send_dtmf(&digit.to_string(), None, None).await.unwrap();
        eventually("the ivr bot to hear the digit over telephone-event/8000", || async {
            sim.bot_reports().await.iter().any(|r| matches!(r.event, rc_sim::core::BotEvent::Digit { digit: d } if d == digit)).then_some(())
        })
        .await;
        ivr.hangup().await.unwrap();
        phone.dispose().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_call_rings_while_one_is_active_and_devices_change_mid_call() {
    let sim = server().await;
    let (audio, mut heard) = webphone::audio::test::TestAudio::new(Input::Tone(1000.0), webphone::audio::test::Output::Channel);
    let mut opts = options(&sim, audio.clone());
    opts.instance_id = Some("6a1f9c7e-0000-4000-8000-000000000101".into());
    let a = webphone::WebPhone::start(sim.sip_info(EXT_101).unwrap(), opts).await.unwrap();
    let mut a_events = a.events();
    let register = received_text(&sim, "REGISTER ").await.unwrap();
    assert!(register.contains("+sip.instance=\"<urn:uuid:6a1f9c7e-0000-4000-8000-000000000101>\""), "{register}");

    let echo = a.call(dial("600")).await.unwrap();
    echo.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut heard, 1000).await;

    // The microphone changes mid-call: the echo now brings back 500 Hz.
    audio.set_input(Input::Tone(500.0));
    echo.change_input_device(None).await.unwrap();
    expect_tone(&mut heard, 500).await;
    assert!(echo.change_input_device(Some("no such device")).await.is_err(), "an unknown device is refused, the call goes on");
    echo.change_output_device(None).await.unwrap();
    expect_tone(&mut heard, 500).await;

    // A second call comes in while the first is active.
    sim.call_extension(rc_sim::core::BotKind::Tone, EXT_101).await.unwrap();
    let (second, _) = wait_event(&mut a_events, "a second inbound call", |e| match e {
        PhoneEvent::InboundCall(s, i) => Some((s.clone(), i.clone())),
        _ => None,
    })
    .await;
    assert_eq!(echo.status().state, webphone::CallState::Answered, "the first call is untouched");
    echo.hold().await.unwrap();
    second.answer().await.unwrap();
    flush(&mut heard);
    expect_tone(&mut heard, 440).await;

    // dispose hangs up every call and unregisters.
    a.dispose().await.unwrap();
    echo.wait_disposed(WAIT).await.unwrap();
    second.wait_disposed(WAIT).await.unwrap();
    assert!(server_received(&sim, "REGISTER ").await);
    let unregister = sim.log().await.into_iter().rev().find(|e| e.direction == rc_sim::core::Direction::In && e.text.starts_with("REGISTER ")).unwrap();
    assert!(unregister.text.contains("expires=0"), "{}", unregister.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digits_reach_the_far_phone_and_conference_calls_say_so() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Silence).await;
    let mut b = phone(&sim, EXT_102, Input::Silence).await;
    let out = a.phone.call(dial("102")).await.unwrap();
    let (inc, _) = inbound_call(&mut b).await;
    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();
    media_up(&mut a, out.id()).await;
    media_up(&mut b, inc.id()).await;
    out.send_dtmf("42#", None, None).await.unwrap();
    let mut got = String::new();
    while got.len() < 3 {
        got.push(wait_event(&mut b.events, "a digit", |e| match e {
            PhoneEvent::DtmfReceived(id, d) if *id == inc.id() => Some(*d),
            _ => None,
        })
        .await);
    }
    assert_eq!(got, "42#", "RFC 4733 digits cross rc-sim's media ports");
    within("the hang-up", out.hangup()).await.unwrap();

    let conf = within("the call to the conference", a.phone.call(dial("conf_4242"))).await.unwrap();
    conf.wait_answered(WAIT).await.unwrap();
    assert!(within("the conference call's facts", conf.info()).await.unwrap().is_conference);
    assert!(!within("the ended call's facts", inc.info()).await.is_ok_and(|f| f.is_conference));
    within("the conference call's hang-up", conf.hangup()).await.unwrap();
}

/// `step`, or a failure naming `what` when it takes longer than [`WAIT`].
async fn within<T>(what: &str, step: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(WAIT, step).await.unwrap_or_else(|_| panic!("{what} did not finish within {WAIT:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_mode_traces_every_message_without_secrets_and_can_be_switched_live() {
    let sim = server().await;
    let (audio, _heard) = webphone::audio::test::TestAudio::new(Input::Silence, webphone::audio::test::Output::Discard);
    let info = sim.sip_info(EXT_101).unwrap();
    let password = info.password.clone();
    let mut opts = options(&sim, audio);
    opts.debug = false;
    let phone = webphone::WebPhone::start(info, opts).await.unwrap();
    let mut events = phone.events();
    phone.set_debug(true);
    phone.register().await.unwrap();
    let mut traces = Vec::new();
    while !traces.iter().any(|t: &webphone::SipTrace| !t.sent && t.text.starts_with("SIP/2.0 200")) {
        traces.push(wait_event(&mut events, "a SIP trace", |e| match e {
            PhoneEvent::SipTrace(t) => Some(t.clone()),
            _ => None,
        })
        .await);
    }
    let register = traces.iter().find(|t| t.sent && t.text.starts_with("REGISTER ")).expect("the REGISTER we sent is traced");
    assert!(traces.iter().all(|t| t.at_ms > 1_700_000_000_000), "timestamps are wall-clock milliseconds");
    for t in &traces {
        assert!(!t.text.contains(&password), "the password leaked: {}", t.text);
        if let Some(auth) = t.text.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:")) {
            assert!(auth.contains("response=\"<redacted>\""), "{auth}");
        }
    }
    assert!(register.text.contains("Contact:"), "{}", register.text);

    phone.set_debug(false);
    drop(events);
    let mut after = phone.events();
    phone.register().await.unwrap();
    while let Ok(e) = after.try_recv() {
        assert!(!matches!(e, PhoneEvent::SipTrace(_)), "debug mode is off: {e:?}");
    }
    phone.dispose().await.unwrap();
}

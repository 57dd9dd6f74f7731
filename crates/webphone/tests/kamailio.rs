//! Our engine against an independent SIP server: a real Kamailio (Debian packages, WSS,
//! digest auth) started by the test from `interop/kamailio/`. Two engines register and call
//! each other through it with audio flowing both ways.

mod common;

use common::*;
use common::kamailio::{self, Kamailio};
use std::time::Duration;
use webphone::audio::test::Input;
use webphone::{CallError, Dial, PhoneEvent, RegisterError, WebPhone};

/// Options for a phone of `k` playing `input`, and what it hears.
fn opts(k: &Kamailio, input: Input) -> (webphone::Options, tokio::sync::mpsc::UnboundedReceiver<Vec<i16>>) {
    let (o, _, heard) = kamailio::options(k, input);
    (o, heard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_register_and_talk_through_kamailio() {
    let k = kamailio::start().await;

    let (o, _) = opts(&k, Input::Silence);
    let err = WebPhone::start(kamailio::sip_info(&k, "alice", "wrong"), o).await.unwrap_err();
    assert!(matches!(err, CallError::Register(RegisterError::WrongPassword(_))), "{err:?}");

    let (o, mut alice_heard) = opts(&k, Input::Tone(1000.0));
    let alice = WebPhone::start(kamailio::sip_info(&k, "alice", "alicepw"), o).await.expect("alice registers (digest)");
    let (o, mut bob_heard) = opts(&k, Input::Tone(700.0));
    let bob = WebPhone::start(kamailio::sip_info(&k, "bob", "bobpw"), o).await.expect("bob registers (digest)");
    let mut bob_events = bob.events();

    let call = alice.call(Dial { callee: "bob".into(), ..Dial::default() }).await.unwrap();
    let (inc, info) = wait_event(&mut bob_events, "alice's call", |e| match e {
        PhoneEvent::InboundCall(s, i) => Some((s.clone(), i.clone())),
        _ => None,
    })
    .await;
    assert_eq!(info.remote_number, "alice");
    assert!(info.rc_message.is_none(), "Kamailio sends no RingCentral data");
    inc.answer().await.unwrap();
    call.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut alice_heard, 700).await;
    expect_tone(&mut bob_heard, 1000).await;

    call.hold().await.expect("hold re-INVITE through Kamailio");
    expect_silence(&mut bob_heard).await;
    call.unhold().await.unwrap();
    expect_tone(&mut bob_heard, 1000).await;

    inc.hangup().await.expect("BYE routed by Kamailio");
    call.wait_disposed(WAIT).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(5), alice.dispose()).await;
    let _ = tokio::time::timeout(Duration::from_secs(5), bob.dispose()).await;
}

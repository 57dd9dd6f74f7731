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

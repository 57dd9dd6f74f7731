//! ICE restart: on request, and by itself when the machine's network addresses change during a
//! call. The network change is real: the test adds an address to the loopback interface (CI
//! runs as root) and removes it afterwards.

mod common;

use common::*;
use std::process::Command;
use std::time::Duration;
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::{Dial, PhoneEvent, WebPhone};

/// An address from TEST-NET-2 (RFC 5737), never routed anywhere.
const TEST_ADDRESS: &str = "198.51.100.77";

fn dial(callee: &str) -> Dial {
    Dial { callee: callee.into(), ..Dial::default() }
}

async fn echo_call(p: &mut TestPhone) -> webphone::CallSession {
    let call = p.phone.call(dial("600")).await.expect("INVITE sent");
    call.wait_answered(WAIT).await.expect("echo bot answers");
    media_up(p, call.id()).await;
    expect_tone(&mut p.heard, 1000).await;
    call
}

/// The `a=ice-ufrag` values of every INVITE rc-sim received with this Call-ID.
async fn offered_ufrags(sim: &rc_sim::Handle, call_id: &str) -> Vec<String> {
    let log = sim.log().await;
    let invites = log.iter().filter(|e| e.direction == rc_sim::core::Direction::In && e.text.starts_with("INVITE ") && e.text.contains(call_id));
    invites.filter_map(|e| e.text.lines().find_map(|l| l.strip_prefix("a=ice-ufrag:").map(str::to_owned))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_ice_offers_new_credentials_and_the_audio_goes_on() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let call = echo_call(&mut a).await;
    let call_id = call.info().await.unwrap().call_id;

    call.restart_ice().await.expect("the re-INVITE is answered");
    let ufrags = offered_ufrags(&sim, &call_id).await;
    assert!(ufrags.len() >= 2 && ufrags.last() != ufrags.first(), "a re-INVITE with new ICE credentials: {ufrags:?}");
    flush(&mut a.heard);
    expect_tone(&mut a.heard, 1000).await;
    call.hold().await.expect("hold after the restart");
    call.unhold().await.expect("unhold after the restart");
    flush(&mut a.heard);
    expect_tone(&mut a.heard, 1000).await;
    call.hangup().await.unwrap();
}

/// Removes the test address again, whatever happens to the test.
struct AddedAddress;

impl AddedAddress {
    fn add() -> AddedAddress {
        let out = Command::new("ip").args(["addr", "add", &format!("{TEST_ADDRESS}/32"), "dev", "lo"]).output().expect("the `ip` tool (iproute2) runs");
        assert!(out.status.success(), "adding {TEST_ADDRESS} to lo needs root: {}", String::from_utf8_lossy(&out.stderr));
        AddedAddress
    }
}

impl Drop for AddedAddress {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["addr", "del", &format!("{TEST_ADDRESS}/32"), "dev", "lo"]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_network_address_during_a_call_restarts_its_ice_and_the_audio_goes_on() {
    let sim = server().await;
    let (audio, heard) = TestAudio::new(Input::Tone(1000.0), Output::Channel);
    let mut opts = options(&sim, audio.clone());
    opts.link.network_poll = Duration::from_millis(200);
    let phone = WebPhone::start(sim.sip_info(EXT_101).unwrap(), opts).await.unwrap();
    let mut a = TestPhone { events: phone.events(), phone, heard, audio };
    let call = echo_call(&mut a).await;
    let call_id = call.info().await.unwrap().call_id;

    let address = AddedAddress::add();
    let change = wait_event(&mut a.events, "the network change", |e| match e {
        PhoneEvent::NetworkChanged(c) => Some(c.clone()),
        _ => None,
    })
    .await;
    assert!(change.added.iter().any(|ip| ip.to_string() == TEST_ADDRESS), "{change:?}");
    wait_event(&mut a.events, "the ICE restart", |e| matches!(e, PhoneEvent::IceRestarted(id) if *id == call.id()).then_some(())).await;
    assert!(offered_ufrags(&sim, &call_id).await.len() >= 2, "a re-INVITE went out");
    flush(&mut a.heard);
    expect_tone(&mut a.heard, 1000).await;

    drop(address);
    let change = wait_event(&mut a.events, "the address to go", |e| match e {
        PhoneEvent::NetworkChanged(c) => Some(c.clone()),
        _ => None,
    })
    .await;
    assert!(change.removed.iter().any(|ip| ip.to_string() == TEST_ADDRESS), "{change:?}");
    wait_event(&mut a.events, "the second ICE restart", |e| matches!(e, PhoneEvent::IceRestarted(id) if *id == call.id()).then_some(())).await;
    flush(&mut a.heard);
    expect_tone(&mut a.heard, 1000).await;
    call.hangup().await.unwrap();
}

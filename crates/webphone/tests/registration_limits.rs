//! RingCentral's two registration refusals that need the user to act, reproduced by rc-sim
//! over real sockets: `603 Too Many Contacts` when a sixth app registers on one line
//! (ringcentral-web-phone #374) and `403 Forbidden, instance id is intercepted by another
//! registration` at the refresh of an app whose instance id another app registered since
//! (ringcentral-web-phone #71). The phone must say what to do and must not retry.

mod common;

use common::*;
use rc_sim::core::Direction;
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::{CallError, PhoneEvent, RegisterError, WebPhone};

/// Starts a phone for `number` registering with `instance` as its `+sip.instance`.
async fn start_as(sim: &rc_sim::Handle, number: &str, instance: &str) -> Result<WebPhone, CallError> {
    let (audio, _heard) = TestAudio::new(Input::Silence, Output::Discard);
    let mut opts = options(sim, audio);
    opts.instance_id = Some(instance.to_owned());
    WebPhone::start(sim.sip_info(number).expect("demo extension"), opts).await
}

/// The REGISTERs rc-sim received carrying `instance`, or over connection `conn`.
async fn registers(sim: &rc_sim::Handle, pick: impl Fn(&rc_sim::core::LogEntry) -> bool) -> usize {
    sim.log().await.iter().filter(|e| e.direction == Direction::In && e.text.starts_with("REGISTER ") && pick(e)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sixth_app_on_one_line_is_told_too_many_are_registered_and_what_to_do() {
    let sim = rc_sim::start(rc_sim::ServerOptions::loopback(rc_sim::Config::demo())).await.expect("rc-sim starts");
    assert_eq!(sim.config().max_instances_per_extension, 5, "RingCentral's limit for WebRTC devices");
    let mut five = Vec::new();
    for n in 1..=5 {
        five.push(start_as(&sim, EXT_101, &format!("limit-{n}")).await.expect("five apps register"));
    }

    let refused = start_as(&sim, EXT_101, "limit-6").await.expect_err("the sixth is refused");
    assert_eq!(refused, CallError::Register(RegisterError::TooManyDevices("603 Too Many Contacts".into())));
    let text = refused.to_string();
    assert!(text.contains("close the softphone on another computer or in a browser tab") && text.ends_with("(603 Too Many Contacts)"), "the app shows: {text}");
    let sixth = |e: &rc_sim::core::LogEntry| e.text.contains("urn:uuid:limit-6");
    assert_eq!(registers(&sim, sixth).await, 2, "the REGISTER and its authorised repeat, no retry");

    // Doing what the text says: another app closes, and the sixth gets its place.
    five.remove(0).dispose().await.expect("unregisters");
    let sixth_app = start_as(&sim, EXT_101, "limit-6").await.expect("a place is free");
    assert_eq!(registers(&sim, sixth).await, 4, "nothing was sent in between");
    assert_eq!(sim.registrations().await.len(), 5);
    sixth_app.dispose().await.expect("unregisters");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_whose_instance_id_another_app_took_is_told_so_at_its_refresh_and_stops() {
    // Registrations of 5 s: refreshed every 2 s.
    let mut config = rc_sim::Config::demo();
    config.max_expires_secs = 5;
    let sim = rc_sim::start(rc_sim::ServerOptions::loopback(config)).await.expect("rc-sim starts");
    let first = start_as(&sim, EXT_102, "same-install-id").await.expect("registers");
    let mut first_events = first.events();
    let first_conn = sim.registrations().await[0].conn;
    let second = start_as(&sim, EXT_102, "same-install-id").await.expect("registers and takes the instance");
    let mut second_events = second.events();

    let error = wait_event(&mut first_events, "the first app's refresh to be refused", |e| match e {
        PhoneEvent::RegistrationFailed(e) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert_eq!(error, RegisterError::InstanceTakenOver("403 Forbidden, instance id is intercepted by another registration".into()));
    assert!(error.to_string().contains("give this installation its own instance ID in Settings"), "the app shows: {error}");
    let from_first = |e: &rc_sim::core::LogEntry| e.conn == first_conn;
    let refused_at = registers(&sim, from_first).await;

    // The second app refreshes twice more; the first sends nothing.
    for _ in 0..2 {
        wait_event(&mut second_events, "the second app's refresh", |e| matches!(e, PhoneEvent::Registered { .. }).then_some(())).await;
    }
    assert_eq!(registers(&sim, from_first).await, refused_at, "the refused app does not retry");
    let regs = sim.registrations().await;
    assert!(regs.len() == 1 && regs[0].conn != first_conn, "the second app keeps the instance: {regs:?}");
}

//! Fault tests: the connection drops, the server dies or misbehaves, and the phone comes back
//! by itself with its calls. Every fault is injected through rc-sim on 127.0.0.1.

mod common;

use common::*;
use rc_sim::core::{Direction, Faults};
use std::time::{Duration, Instant};
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::link::LinkSettings;
use webphone::{CallError, Dial, DisposeReason, PhoneEvent, RegisterError, WebPhone};

/// Link timing short enough for tests: keep-alive 500 ms, first reconnect after 50–100 ms.
fn quick_link() -> LinkSettings {
    LinkSettings {
        keepalive: Duration::from_millis(500),
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        failover_after: 2,
        switch_back: Some(Duration::from_secs(2)),
        register_retry_base: Duration::from_millis(200),
        network_poll: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
    }
}

/// A phone for `number` with [`quick_link`] changed by `tweak`.
async fn quick_phone(sim: &rc_sim::Handle, number: &str, input: Input, tweak: impl FnOnce(&mut webphone::Options)) -> TestPhone {
    let (audio, heard) = TestAudio::new(input, Output::Channel);
    let mut opts = options(sim, audio.clone());
    opts.link = quick_link();
    opts.register_timeout = Duration::from_secs(1);
    tweak(&mut opts);
    let phone = WebPhone::start(sim.sip_info(number).unwrap(), opts).await.expect("phone starts");
    let events = phone.events();
    TestPhone { phone, events, heard, audio }
}

/// The first reconnect waits 2–4 s.
fn away_for_2_to_4_s(o: &mut webphone::Options) {
    o.link.backoff_base = Duration::from_secs(4);
    o.link.backoff_max = Duration::from_secs(4);
}

fn dial(callee: &str) -> Dial {
    Dial { callee: callee.into(), ..Dial::default() }
}

/// The connection rc-sim has for `number`'s registration.
async fn conn_of(sim: &rc_sim::Handle, number: &str) -> u64 {
    let regs = sim.registrations().await;
    regs.iter().find(|b| b.number == number).map(|b| b.conn).expect("registered")
}

/// How many REGISTERs rc-sim has received.
async fn registers_received(sim: &rc_sim::Handle) -> usize {
    sim.log().await.iter().filter(|e| e.direction == Direction::In && e.text.starts_with("REGISTER ")).count()
}

async fn reconnected(p: &mut TestPhone) -> (String, bool) {
    wait_event(&mut p.events, "reconnected", |e| match e {
        PhoneEvent::Reconnected { proxy, backup } => Some((proxy.clone(), *backup)),
        _ => None,
    })
    .await
}

async fn registered(p: &mut TestPhone) {
    wait_event(&mut p.events, "registered", |e| matches!(e, PhoneEvent::Registered { .. }).then_some(())).await
}

async fn disconnected(p: &mut TestPhone) -> String {
    wait_event(&mut p.events, "disconnected", |e| match e {
        PhoneEvent::Disconnected(why) => Some(why.clone()),
        _ => None,
    })
    .await
}

/// An echo call that carries our tone both ways.
async fn echo_call(p: &mut TestPhone, freq: u32) -> webphone::CallSession {
    let call = p.phone.call(dial("600")).await.expect("INVITE sent");
    call.wait_answered(WAIT).await.expect("echo bot answers");
    media_up(p, call.id()).await;
    expect_tone(&mut p.heard, freq).await;
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_idle_connection_comes_back_registered_and_takes_calls() {
    let sim = server().await;
    let mut a = quick_phone(&sim, EXT_101, Input::Tone(1000.0), |_| {}).await;
    let old = conn_of(&sim, EXT_101).await;

    sim.drop_connection(old);
    assert!(!disconnected(&mut a).await.is_empty(), "the reason is given");
    let attempt = wait_event(&mut a.events, "reconnecting", |e| match e {
        PhoneEvent::Reconnecting { attempt, wait, proxy, .. } => Some((*attempt, *wait, proxy.clone())),
        _ => None,
    })
    .await;
    assert_eq!(attempt.0, 1);
    assert!(attempt.1 <= Duration::from_millis(100), "first wait within the base: {:?}", attempt.1);
    assert_eq!(attempt.2, sim.primary.to_string());
    assert_eq!(reconnected(&mut a).await, (sim.primary.to_string(), false));
    registered(&mut a).await;
    assert!(a.phone.is_connected());
    assert_ne!(conn_of(&sim, EXT_101).await, old, "registered over the new connection");

    let call = echo_call(&mut a, 1000).await;
    call.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_keeps_its_audio_through_a_drop_and_hold_and_hangup_work_after_reconnect() {
    let sim = server().await;
    // The first reconnect waits 2–4 s, long enough to hear the call while disconnected.
    let mut a = quick_phone(&sim, EXT_101, Input::Tone(1000.0), away_for_2_to_4_s).await;
    let call = echo_call(&mut a, 1000).await;

    sim.drop_connection(conn_of(&sim, EXT_101).await);
    disconnected(&mut a).await;
    flush(&mut a.heard);
    expect_tone(&mut a.heard, 1000).await;
    assert!(!a.phone.is_connected(), "the tone was heard while the phone was disconnected");
    assert_eq!(call.status().state, webphone::CallState::Answered);
    assert!(matches!(call.hold().await, Err(CallError::ConnectionLost)), "hold needs the server: a clear error, the call goes on");

    reconnected(&mut a).await;
    registered(&mut a).await;
    assert_eq!(sim.calls().await.len(), 1, "rc-sim kept the call for the device to come back");
    call.hold().await.expect("hold after reconnect");
    call.unhold().await.expect("unhold after reconnect");
    flush(&mut a.heard);
    expect_tone(&mut a.heard, 1000).await;
    call.hangup().await.expect("BYE after reconnect");
    assert_eq!(disposed(&mut a, call.id()).await, DisposeReason::Local);
    eventually("rc-sim to end the call", || async { sim.calls().await.is_empty().then_some(()) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_up_while_disconnected_ends_the_call_and_the_bye_follows_the_reconnect() {
    let sim = server().await;
    let mut a = quick_phone(&sim, EXT_101, Input::Tone(1000.0), away_for_2_to_4_s).await;
    let call = echo_call(&mut a, 1000).await;

    sim.drop_connection(conn_of(&sim, EXT_101).await);
    disconnected(&mut a).await;
    call.hangup().await.expect("hang-up works without a connection");
    assert_eq!(disposed(&mut a, call.id()).await, DisposeReason::Local);
    assert_eq!(sim.calls().await.len(), 1, "the server does not know yet");

    registered(&mut a).await;
    eventually("the owed BYE to end the call at the server", || async { sim.calls().await.is_empty().then_some(()) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_that_lost_the_call_ends_it_cleanly_and_the_phone_registers_again() {
    let tls = rc_sim::tls::TlsMaterial::generate(&["127.0.0.1", "localhost"]).unwrap();
    let start = |port: u16, backup_port: u16| {
        let mut opts = rc_sim::ServerOptions::loopback(rc_sim::Config::demo());
        (opts.port, opts.backup_port, opts.tls) = (port, backup_port, Some(tls.clone()));
        rc_sim::start(opts)
    };
    let sim = start(0, 0).await.unwrap();
    let mut a = quick_phone(&sim, EXT_101, Input::Tone(1000.0), |_| {}).await;
    let call = echo_call(&mut a, 1000).await;

    sim.shutdown();
    disconnected(&mut a).await;
    // The old listeners close as the old server's tasks wind down: bind again once they have.
    let (primary, backup) = (sim.primary.port(), sim.backup.port());
    let sim = eventually("rc-sim to start again on the same ports", || async { start(primary, backup).await.ok() }).await;
    registered(&mut a).await;
    assert_eq!(disposed(&mut a, call.id()).await, DisposeReason::ConnectionLost, "the new server does not know the call (481 to our OPTIONS)");
    assert!(sim.log().await.iter().any(|e| e.text.starts_with("SIP/2.0 481")), "the server said so");

    let call = echo_call(&mut a, 1000).await;
    call.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_register_backs_off_instead_of_storming_and_recovers() {
    let sim = server().await;
    let mut a = quick_phone(&sim, EXT_101, Input::Silence, |_| {}).await;
    sim.set_faults(Faults { ignore_register: true, ..Faults::default() });
    let before = registers_received(&sim).await;

    sim.drop_connection(conn_of(&sim, EXT_101).await);
    let mut waits = Vec::new();
    while waits.len() < 4 {
        let (attempt, wait) = wait_event(&mut a.events, "reconnecting", |e| match e {
            PhoneEvent::Reconnecting { attempt, wait, .. } => Some((*attempt, *wait)),
            _ => None,
        })
        .await;
        assert_eq!(attempt as usize, waits.len() + 1, "the attempts count up while registering fails");
        waits.push(wait);
    }
    let sent = registers_received(&sim).await - before;
    assert!(waits[3] > waits[0] * 2, "the waits grow: {waits:?}");
    assert!(sent <= 4, "one REGISTER per connection, each waited out (1 s): {sent} for waits {waits:?}");

    sim.set_faults(Faults::default());
    registered(&mut a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_to_register_is_reported_retried_with_back_off_and_then_registration_recovers() {
    let sim = server().await;
    let mut a = quick_phone(&sim, EXT_101, Input::Silence, |_| {}).await;
    sim.set_faults(Faults { register_503: true, ..Faults::default() });
    let before = registers_received(&sim).await;

    let refused = a.phone.register().await.expect_err("503");
    assert!(refused.to_string().contains("503"), "the reason reaches the user: {refused}");
    // The first refusal's event is queued already; three retries follow it.
    let t0 = Instant::now();
    for _ in 0..4 {
        wait_event(&mut a.events, "a retried registration failing", |e| match e {
            PhoneEvent::RegistrationFailed(RegisterError::Refused(why)) => why.contains("503").then_some(()),
            _ => None,
        })
        .await;
    }
    let elapsed = t0.elapsed();
    let sent = registers_received(&sim).await - before;
    // Retries after 100–200, 200–400, 400–800 ms: at least 0.7 s for 3 retries.
    assert!(elapsed >= Duration::from_millis(700), "retries wait: 3 in {elapsed:?}");
    assert!(sent <= 6, "no storm: {sent} REGISTERs (with their digest challenges)");
    assert!(a.phone.is_connected(), "a refusal is not a reason to drop the connection");

    sim.set_faults(Faults::default());
    registered(&mut a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_at_once_and_is_not_retried() {
    let sim = server().await;
    let mut info = sim.sip_info(EXT_101).unwrap();
    info.password = "not-the-password".into();
    let (audio, _heard) = TestAudio::new(Input::Silence, Output::Channel);
    let mut opts = options(&sim, audio);
    opts.link = quick_link();
    let err = WebPhone::start(info, opts).await.expect_err("refused");
    assert!(matches!(err, CallError::Register(RegisterError::WrongPassword(_))), "{err}");
    // Everything the server received so far is in its log stream already: the refusal was its
    // answer to the last of it. Watch the stream for another REGISTER for a few retry intervals
    // at the quick settings (200 ms base): a retry would show at once and fail the test.
    let mut log = sim.subscribe_log();
    let retry = event_within(&mut log, Duration::from_millis(800), |e| (e.direction == Direction::In && e.text.starts_with("REGISTER ")).then(|| e.text.clone())).await;
    assert_eq!(retry, None, "no retry after a wrong password");
    eventually("the refused phone's connection to close", || async { sim.registrations().await.is_empty().then_some(()) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_found_dead_by_the_keepalive_within_two_intervals() {
    let sim = server().await;
    let mut a = quick_phone(&sim, EXT_101, Input::Silence, |_| {}).await;
    sim.set_faults(Faults { freeze: true, ..Faults::default() });
    let why = disconnected(&mut a).await;
    // The engine's own account of the silence it gave up after: two 500 ms intervals (the
    // keep-alive's timing on a fake clock is tested in `link.rs`).
    assert_eq!(why, "no answer to keep-alive pings for 1 s", "dead after two intervals without an answer");

    sim.set_faults(Faults::default());
    registered(&mut a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_proxy_takes_over_after_failures_and_the_phone_switches_back_when_idle() {
    let sim = server().await;
    let mut a = quick_phone(&sim, EXT_101, Input::Tone(1000.0), |_| {}).await;
    assert!(conn_of(&sim, EXT_101).await < 1 << 32, "on the primary listener");

    sim.set_faults(Faults { refuse_primary: true, ..Faults::default() });
    let (proxy, backup) = reconnected(&mut a).await;
    assert_eq!((proxy, backup), (sim.backup.to_string(), true), "after two failed attempts on the primary");
    registered(&mut a).await;
    assert!(conn_of(&sim, EXT_101).await >= 1 << 32, "registered on the backup listener");
    let call = echo_call(&mut a, 1000).await;
    call.hangup().await.unwrap();

    sim.set_faults(Faults::default());
    let (proxy, backup) = reconnected(&mut a).await;
    assert_eq!((proxy, backup), (sim.primary.to_string(), false), "back on the primary after switchBackInterval");
    registered(&mut a).await;
    eventually("the registration to move to the primary", || async { (conn_of(&sim, EXT_101).await < 1 << 32).then_some(()) }).await;
    let call = echo_call(&mut a, 1000).await;
    call.hangup().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_call_rings_again_after_a_reconnect() {
    let sim = server().await;
    let mut a = quick_phone(&sim, EXT_101, Input::Tone(1000.0), |_| {}).await;
    sim.drop_connection(conn_of(&sim, EXT_101).await);
    registered(&mut a).await;
    sim.call_extension(rc_sim::core::BotKind::Tone, EXT_101).await.expect("bot calls");
    let (session, _) = inbound_call(&mut a).await;
    session.answer().await.expect("answered");
    media_up(&mut a, session.id()).await;
    session.hangup().await.unwrap();
    let e = disposed(&mut a, session.id()).await;
    assert!(matches!(e, DisposeReason::Local), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_server_gave_up_on_while_the_phone_was_away_ends_cleanly_after_reconnect() {
    let mut config = rc_sim::Config::demo();
    config.reconnect_grace_secs = 1;
    let sim = rc_sim::start(rc_sim::ServerOptions::loopback(config)).await.unwrap();
    // Away for 2–4 s: longer than the server waits for it.
    let mut a = quick_phone(&sim, EXT_101, Input::Tone(1000.0), away_for_2_to_4_s).await;
    let call = echo_call(&mut a, 1000).await;

    sim.drop_connection(conn_of(&sim, EXT_101).await);
    eventually("rc-sim to give up on the call", || async { sim.calls().await.is_empty().then_some(()) }).await;
    registered(&mut a).await;
    assert_eq!(disposed(&mut a, call.id()).await, DisposeReason::ConnectionLost, "481 to the OPTIONS after the reconnect");
    assert!(a.phone.call(dial("600")).await.is_ok(), "the phone itself works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_transfer_works_after_the_transferring_phone_reconnected() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = quick_phone(&sim, EXT_102, Input::Silence, |_| {}).await;
    let mut c = phone(&sim, EXT_103, Input::Tone(700.0)).await;
    let out = a.phone.call(dial("102")).await.unwrap();
    let (inc, _) = inbound_call(&mut b).await;
    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();

    sim.drop_connection(conn_of(&sim, EXT_102).await);
    reconnected(&mut b).await;
    registered(&mut b).await;
    let transfer = tokio::spawn({
        let inc = inc.clone();
        async move { inc.transfer("103").await }
    });
    let (target, _) = inbound_call(&mut c).await;
    target.answer().await.unwrap();
    transfer.await.unwrap().expect("the transfer completes over the new connection");
    expect_tone(&mut a.heard, 700).await;
    expect_tone(&mut c.heard, 1000).await;
    target.hangup().await.unwrap();
}

/// A listener on loopback that accepts TCP connections and never says a word (a captive
/// portal, a broken middlebox): its address. The connections stay open until the test ends.
fn black_hole() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_tls_fails_the_start_in_time_with_a_clear_reason() {
    let sim = server().await;
    let hole = black_hole();
    let mut info = sim.sip_info(EXT_101).unwrap();
    info.outbound_proxy = hole.to_string();
    info.outbound_proxy_backup = String::new();
    let (audio, _heard) = TestAudio::new(Input::Silence, Output::Channel);
    let mut opts = options(&sim, audio);
    opts.link = quick_link();
    let started = tokio::time::timeout(WAIT, WebPhone::start(info, opts)).await.expect("the start gives up instead of hanging");
    let err = started.expect_err("no connection");
    assert!(err.to_string().contains(&format!("TLS handshake with {hole} did not finish within 1 s")), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_that_never_answers_tls_is_given_up_on_and_the_phone_goes_on_trying() {
    let sim = server().await;
    let hole = black_hole();
    let mut info = sim.sip_info(EXT_101).unwrap();
    info.outbound_proxy_backup = hole.to_string();
    let (audio, heard) = TestAudio::new(Input::Silence, Output::Channel);
    let mut opts = options(&sim, audio.clone());
    opts.link = quick_link();
    let phone = WebPhone::start(info, opts).await.expect("phone starts on the primary");
    let mut a = TestPhone { events: phone.events(), phone, heard, audio };

    // The primary goes away: after two refusals the phone tries the backup, whose TLS never
    // comes; the attempt fails after a second and the next one follows.
    sim.set_faults(Faults { refuse_primary: true, ..Faults::default() });
    let reason = wait_event(&mut a.events, "a reconnect after the backup timed out", |e| match e {
        PhoneEvent::Reconnecting { reason, .. } if reason.contains("did not finish") => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(reason.contains(&format!("TLS handshake with {hole} did not finish within 1 s")), "{reason}");
    sim.set_faults(Faults::default());
    let (proxy, backup) = reconnected(&mut a).await;
    assert_eq!((proxy, backup), (sim.primary.to_string(), false));
    registered(&mut a).await;
}

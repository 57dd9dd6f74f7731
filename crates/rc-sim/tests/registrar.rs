//! Registration against rc-sim over real WSS sockets on 127.0.0.1.

mod common;

use common::{open_ws, server, Client};
use sip::{HeaderName, Message};

#[tokio::test]
async fn register_is_challenged_then_granted_shorter_expires() {
    let sim = server().await;
    let mut c = Client::connect(&sim, "101", "inst-a").await;
    let req = c.register_request(60);
    c.send(req).await;
    let first = c.recv("100 Trying").await;
    assert!(matches!(&first, Message::Response(r) if r.status == 100), "RingCentral answers 100 first");
    let challenge = c.response("401").await;
    assert_eq!(challenge.status, 401);
    let www = challenge.headers.iter().find(|h| h.kind == HeaderName::WwwAuthenticate).unwrap();
    assert_eq!(www.name, "Www-Authenticate", "spelled as RingCentral does");
    assert!(www.value.starts_with("Digest realm=\"sip.ringcentral.com\", nonce=\""), "{}", www.value);
    assert!(challenge.headers.to().unwrap().tag().is_some(), "the 401's To carries a tag");

    let ok = c.register().await;
    let contact = &ok.headers.contacts().unwrap()[0];
    assert_eq!(contact.expires(), Some(47), "60 asked, 47 granted");
    let regs = sim.registrations().await;
    assert_eq!(regs.len(), 1);
    assert_eq!((regs[0].number.as_str(), regs[0].instance.as_str()), ("16505550101", "<urn:uuid:inst-a>"));
}

#[tokio::test]
async fn wrong_password_is_forbidden_and_unregister_removes_the_binding() {
    let sim = server().await;
    let mut c = Client::connect(&sim, "101", "inst-b").await;
    let bad = c.register_with("not-the-password", 60).await;
    assert_eq!((bad.status, bad.reason.as_str()), (403, "Wrong Password"));
    assert!(sim.registrations().await.is_empty());
    c.register().await;
    assert_eq!(sim.registrations().await.len(), 1);
    let password = c.info.password.clone();
    let gone = c.register_with(&password, 0).await;
    assert_eq!(gone.status, 200);
    assert!(sim.registrations().await.is_empty());
}

#[tokio::test]
async fn latest_registration_of_an_instance_wins() {
    let sim = server().await;
    let mut old = Client::connect(&sim, "102", "same-instance").await;
    old.register().await;
    let mut new = Client::connect(&sim, "102", "same-instance").await;
    new.register().await;
    let mut other = Client::connect(&sim, "102", "second-device").await;
    other.register().await;
    let regs = sim.registrations().await;
    assert_eq!(regs.len(), 2, "{regs:?}");
    let same = regs.iter().find(|r| r.instance == "<urn:uuid:same-instance>").unwrap();
    assert_eq!(same.conn, 2, "connections are numbered in order: the second one registered last");
}

#[tokio::test]
async fn websocket_without_sip_subprotocol_is_refused() {
    let sim = server().await;
    let err = open_ws(sim.primary, &sim.ca_pem, None).await.expect_err("handshake must fail");
    assert!(err.contains("400"), "{err}");
    assert!(open_ws(sim.backup, &sim.ca_pem, Some("sip")).await.is_ok(), "the backup listener works too");
}

#[tokio::test]
async fn garbage_frames_do_not_break_the_server() {
    let sim = server().await;
    let mut c = Client::connect(&sim, "101", "inst-g").await;
    c.send_raw("\r\n\r\n").await;
    c.send_raw("INVITE sip:x SIP/9.9\r\n\r\n").await;
    c.send_raw("\u{0}\u{1}not sip at all").await;
    c.register().await;
    let log = sim.log().await;
    assert!(log.iter().any(|e| e.text.contains("not sip at all")), "everything received is logged");
}

#[tokio::test]
async fn a_sixth_instance_of_an_extension_gets_603_too_many_contacts() {
    let sim = server().await;
    let mut devices = Vec::new();
    for n in 1..=5 {
        let mut c = Client::connect(&sim, "101", &format!("device-{n}")).await;
        c.register().await;
        devices.push(c);
    }
    let mut sixth = Client::connect(&sim, "101", "device-6").await;
    let password = sixth.info.password.clone();
    let refused = sixth.register_with(&password, 60).await;
    assert_eq!((refused.status, refused.reason.as_str()), (603, "Too Many Contacts"), "RingCentral's status line (ringcentral-call-js #60)");
    assert_eq!(sim.registrations().await.len(), 5);
    let refresh = devices[2].register().await;
    assert_eq!(refresh.status, 200, "the five bound refresh as before");
    let mut other_extension = Client::connect(&sim, "102", "device-6").await;
    other_extension.register().await;

    let gone = devices[0].register_with(&password, 0).await;
    assert_eq!(gone.status, 200);
    sixth.register().await;
    assert_eq!(sim.registrations().await.iter().filter(|r| r.number == "16505550101").count(), 5, "the freed place is taken");
}

#[tokio::test]
async fn a_refresh_after_another_connection_took_the_instance_gets_403_intercepted() {
    let sim = server().await;
    let mut first = Client::connect(&sim, "102", "shared-instance").await;
    first.register().await;
    let mut second = Client::connect(&sim, "102", "shared-instance").await;
    second.register().await;

    let password = first.info.password.clone();
    let refused = first.register_with(&password, 60).await;
    assert_eq!((refused.status, refused.reason.as_str()), (403, "Forbidden, instance id is intercepted by another registration"), "ringcentral-web-phone #71");
    let unregister = first.register_with(&password, 0).await;
    assert_eq!(unregister.status, 403, "the old connection cannot remove the new binding either");
    let regs = sim.registrations().await;
    assert_eq!(regs.len(), 1, "{regs:?}");
    assert_eq!(regs[0].conn, 2, "the newer registration keeps the instance");
    assert_eq!(second.register().await.status, 200, "the newer one refreshes");
}

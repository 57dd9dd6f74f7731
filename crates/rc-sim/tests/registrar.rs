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

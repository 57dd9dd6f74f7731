//! Secrets stay secret and certificates are always checked.

mod common;

use common::*;
use std::sync::{Arc, Mutex};
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::{CallError, WebPhone};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_certificate_we_do_not_trust_is_refused_before_any_sip() {
    let sim = server().await;
    let (audio, _heard) = TestAudio::new(Input::Silence, Output::Discard);
    let mut opts = options(&sim, audio);
    opts.extra_ca_pem = None; // rc-sim's CA is not among the system's roots
    let err = WebPhone::start(sim.sip_info(EXT_101).unwrap(), opts).await.expect_err("an untrusted server");
    let text = err.to_string();
    assert!(matches!(err, CallError::Protocol(_)) && text.contains("TLS"), "a clear TLS error: {text}");
    assert!(text.contains("certificate") || text.contains("UnknownIssuer"), "the reason names the certificate: {text}");
    assert!(sim.log().await.is_empty(), "no SIP crossed an unverified connection");

    let (audio, _heard) = TestAudio::new(Input::Silence, Output::Discard);
    let mut opts = options(&sim, audio);
    opts.extra_ca_pem = Some("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".into());
    let err = WebPhone::start(sim.sip_info(EXT_101).unwrap(), opts).await.expect_err("a broken extra CA");
    assert!(err.to_string().contains("extra CA"), "{err}");
}

#[test]
fn debug_output_and_panic_messages_never_show_the_password() {
    let mut info = webphone::SipInfo::from_json(r#"{"username":"16505550101","password":"pa55-w0rd-xyz","authorizationId":"800101","domain":"sip.ringcentral.com","outboundProxy":"127.0.0.1:5090","transport":"WSS"}"#).unwrap();
    let shown = format!("{info:?} {:?}", sip::auth::DigestClient::new(&info.authorization_id, &info.password));
    assert!(!shown.contains("pa55-w0rd-xyz") && shown.contains("<redacted>"), "{shown}");

    // A panic that prints the account (as an `expect` on a Result carrying it would).
    let seen = Arc::new(Mutex::new(String::new()));
    let hook_seen = seen.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |p| *hook_seen.lock().unwrap() = p.to_string()));
    info.domain = "example.invalid".into();
    let result = std::panic::catch_unwind(|| panic!("cannot use {info:?}"));
    std::panic::set_hook(previous);
    assert!(result.is_err());
    let message = seen.lock().unwrap().clone();
    assert!(message.contains("example.invalid") && !message.contains("pa55-w0rd-xyz"), "{message}");
}

//! Our engine against an independent SIP server: a real Kamailio (Debian packages, WSS,
//! digest auth) started by the test from `interop/kamailio/`. Two engines register and call
//! each other through it with audio flowing both ways.

mod common;

use common::*;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::{CallError, Dial, Options, PhoneEvent, RegisterError, SipInfo, WebPhone};

/// A Kamailio process on loopback; killed on drop.
struct Kamailio {
    child: Child,
    dir: PathBuf,
    wss: u16,
    ca_pem: String,
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn kamailio() -> Kamailio {
    let dir = std::env::temp_dir().join(format!("webphone-kamailio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Our own CA signs Kamailio's certificate, so the engine verifies it like any server's.
    let tls = rc_sim::tls::TlsMaterial::generate(&["127.0.0.1", "localhost"]).unwrap();
    let (chain, key) = tls.server_pem().unwrap();
    std::fs::write(dir.join("cert.pem"), chain).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    let (ws, wss, sip) = (free_port(), free_port(), free_port());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/kamailio/start.sh");
    let log = std::fs::File::create(dir.join("kamailio.log")).unwrap();
    let child = Command::new("bash")
        .arg(script)
        .arg(&dir)
        .args([ws.to_string(), wss.to_string(), sip.to_string()])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("bash runs interop/kamailio/start.sh (kamailio is installed by scripts/setup)");
    let k = Kamailio { child, dir, wss, ca_pem: tls.ca_pem.clone() };
    eventually("Kamailio to listen on WSS", || async { tokio::net::TcpStream::connect(("127.0.0.1", wss)).await.ok().map(drop) }).await;
    k
}

fn sip_info(k: &Kamailio, user: &str, password: &str) -> SipInfo {
    SipInfo {
        username: user.into(),
        password: password.into(),
        authorization_id: user.into(),
        domain: "sip.test".into(),
        outbound_proxy: format!("127.0.0.1:{}", k.wss),
        outbound_proxy_backup: String::new(),
        transport: "WSS".into(),
        stun_servers: Vec::new(),
        switch_back_interval: 0,
    }
}

fn opts(k: &Kamailio, input: Input) -> (Options, tokio::sync::mpsc::UnboundedReceiver<Vec<i16>>) {
    let (audio, heard) = TestAudio::new(input, Output::Channel);
    let mut o = Options::new(audio);
    o.extra_ca_pem = Some(k.ca_pem.clone());
    o.media.bind = vec!["127.0.0.1:0".into()];
    // Interop of signalling and codecs, checked with tones: no voice processing.
    o.media.processing = media::processing::ProcessingSettings::OFF;
    o.debug = std::env::var_os("WEBPHONE_DEBUG").is_some();
    (o, heard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_register_and_talk_through_kamailio() {
    let k = kamailio().await;

    let (o, _) = opts(&k, Input::Silence);
    let err = WebPhone::start(sip_info(&k, "alice", "wrong"), o).await.unwrap_err();
    assert!(matches!(err, CallError::Register(RegisterError::WrongPassword(_))), "{err:?}");

    let (o, mut alice_heard) = opts(&k, Input::Tone(1000.0));
    let alice = WebPhone::start(sip_info(&k, "alice", "alicepw"), o).await.expect("alice registers (digest)");
    let (o, mut bob_heard) = opts(&k, Input::Tone(700.0));
    let bob = WebPhone::start(sip_info(&k, "bob", "bobpw"), o).await.expect("bob registers (digest)");
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

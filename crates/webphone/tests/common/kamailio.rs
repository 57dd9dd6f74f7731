//! The throwaway Kamailio of `interop/kamailio/` (Debian packages, installed by
//! `scripts/setup`) as an independent SIP server on 127.0.0.1: a WS/WSS registrar with digest
//! auth that routes calls between registered users (alice/alicepw, bob/bobpw, 101/pw101,
//! 102/pw102; domain and realm `sip.test`). Engines register over WSS with a certificate
//! signed by a test CA; other SIP stacks (Linphone) use its plain UDP/TCP port.

use super::{eventually, TestPhone};
use std::net::{TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::{Options, SipInfo, WebPhone};

/// The SIP domain (and digest realm) of every account.
pub const DOMAIN: &str = "sip.test";

/// A Kamailio on loopback: its main process and the workers it forks, in a process group of
/// their own; all are killed on drop, and its directory removed unless the test is failing.
pub struct Kamailio {
    child: Child,
    /// Its scratch directory: configuration, certificate, `kamailio.log`.
    pub dir: PathBuf,
    /// Its WSS port (engines).
    pub wss: u16,
    /// Its plain SIP port, UDP and TCP (other SIP stacks).
    pub sip: u16,
    /// The CA that signed its certificate.
    pub ca_pem: String,
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // Killing the main process alone would leave its workers running.
        let group = format!("-{}", self.child.id());
        let killed = Command::new("kill").args(["-KILL", "--", &group]).status().is_ok_and(|s| s.success());
        if !killed {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("Kamailio: kept {} (kamailio.log)", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Kamailio {
    /// The last `lines` lines of its log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir.join("kamailio.log")).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// A TCP port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A port free on 127.0.0.1 for both TCP and UDP now (Kamailio's SIP port takes both).
pub fn free_port_both() -> u16 {
    loop {
        let port = free_port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A UDP port free on 127.0.0.1 now.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts Kamailio with a certificate signed by a fresh test CA and waits until its WSS
/// port accepts connections.
pub async fn start() -> Kamailio {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("webphone-kamailio-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Our own CA signs Kamailio's certificate, so the engine verifies it like any server's.
    let tls = rc_sim::tls::TlsMaterial::generate(&["127.0.0.1", "localhost"]).unwrap();
    let (chain, key) = tls.server_pem().unwrap();
    std::fs::write(dir.join("cert.pem"), chain).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
    let (ws, wss, sip) = (free_port(), free_port(), free_port_both());
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/kamailio/start.sh");
    let log = std::fs::File::create(dir.join("kamailio.log")).unwrap();
    let child = Command::new("bash")
        .process_group(0)
        .arg(script)
        .arg(&dir)
        .args([ws.to_string(), wss.to_string(), sip.to_string()])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("bash runs interop/kamailio/start.sh (kamailio is installed by scripts/setup)");
    let k = Kamailio { child, dir, wss, sip, ca_pem: tls.ca_pem.clone() };
    eventually("Kamailio to listen on WSS", || async { tokio::net::TcpStream::connect(("127.0.0.1", wss)).await.ok().map(drop) }).await;
    eventually("Kamailio to listen on SIP/TCP", || async { tokio::net::TcpStream::connect(("127.0.0.1", sip)).await.ok().map(drop) }).await;
    k
}

/// The sipInfo of `user` on `k`, over WSS.
pub fn sip_info(k: &Kamailio, user: &str, password: &str) -> SipInfo {
    SipInfo {
        username: user.into(),
        password: password.into(),
        authorization_id: user.into(),
        domain: DOMAIN.into(),
        outbound_proxy: format!("127.0.0.1:{}", k.wss),
        outbound_proxy_backup: String::new(),
        transport: "WSS".into(),
        stun_servers: Vec::new(),
        switch_back_interval: 0,
    }
}

/// Options for an engine on loopback that trusts `k`'s CA and plays `input`, with what it
/// hears sent to the returned channel. No voice processing: these tests check signalling and
/// codecs with tones.
pub fn options(k: &Kamailio, input: Input) -> (Options, std::sync::Arc<TestAudio>, tokio::sync::mpsc::UnboundedReceiver<Vec<i16>>) {
    let (audio, heard) = TestAudio::new(input, Output::Channel);
    let mut o = Options::new(audio.clone());
    o.extra_ca_pem = Some(k.ca_pem.clone());
    o.media.bind = vec!["127.0.0.1:0".into()];
    o.media.processing = media::processing::ProcessingSettings::OFF;
    o.debug = std::env::var_os("WEBPHONE_DEBUG").is_some();
    (o, audio, heard)
}

/// An engine registered to `k` as `user`, whose microphone plays `input`.
pub async fn phone(k: &Kamailio, user: &str, password: &str, input: Input) -> TestPhone {
    let (o, audio, heard) = options(k, input);
    let phone = WebPhone::start(sip_info(k, user, password), o).await.unwrap_or_else(|e| panic!("{user} registers with Kamailio: {e:?}"));
    let events = phone.events();
    TestPhone { phone, events, heard, audio }
}

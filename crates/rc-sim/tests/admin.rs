//! The loopback HTTP/JSON admin API.

mod common;

use common::{server, Client};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn http(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let json = serde_json::from_str(out.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    (status, json)
}

#[tokio::test]
async fn admin_api_lists_and_injects_faults() {
    let sim = server().await;
    let admin = rc_sim::admin::start(([127, 0, 0, 1], 0).into(), sim.clone()).await.unwrap();
    let mut c = Client::connect(&sim, "101", "adm").await;
    c.register().await;
    let (status, regs) = http(admin, "GET", "/registrations", "").await;
    assert_eq!(status, 200);
    assert_eq!(regs[0]["number"], "16505550101", "{regs}");
    let (_, log) = http(admin, "GET", "/log", "").await;
    assert!(log.as_array().unwrap().iter().any(|e| e["text"].as_str().unwrap().starts_with("REGISTER ")));

    assert_eq!(http(admin, "POST", "/faults", r#"{"register503": true}"#).await.0, 200);
    let req = c.register_request(60);
    c.send(req).await;
    assert_eq!(c.response("503").await.status, 503);

    assert_eq!(http(admin, "POST", "/faults", "not json").await.0, 400);
    assert_eq!(http(admin, "GET", "/nothing", "").await.0, 404);
    let conn = regs[0]["conn"].as_u64().unwrap();
    assert_eq!(http(admin, "POST", &format!("/connections/{conn}/drop"), "").await.0, 200);
    c.expect_closed().await;
}

#[tokio::test]
async fn injected_faults_silence_refuse_and_delay() {
    let sim = server().await;
    let mut c = Client::connect(&sim, "101", "faults").await;
    c.register().await;

    sim.set_faults(rc_sim::core::Faults { stop_answering: true, ..Default::default() });
    let req = c.register_request(60);
    c.send(req).await;
    assert!(c.quiet_for(std::time::Duration::from_millis(300)).await, "a stopped server answers nothing");

    sim.set_faults(rc_sim::core::Faults { answer_503: true, ..Default::default() });
    let invite = c.invite_request("102", "faults-1");
    c.send(invite).await;
    assert_eq!(c.response("503").await.status, 503);

    sim.set_faults(rc_sim::core::Faults { delay_ms: 400, ..Default::default() });
    let started = std::time::Instant::now();
    let req = c.register_request(60);
    c.send(req).await;
    let first = c.recv("delayed 100 Trying").await;
    assert!(matches!(first, sip::Message::Response(ref r) if r.status == 100));
    assert!(started.elapsed() >= std::time::Duration::from_millis(400), "answered after {:?}", started.elapsed());

    sim.set_faults(rc_sim::core::Faults::default());
    assert_eq!(c.response("the delayed 401").await.status, 401);
}

//! The command-line front end against rc-sim: a real process, real sockets, real audio.

mod common;

use std::process::Command;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dials_the_echo_bot_records_its_tone_and_prints_json_events() {
    let sim = common::Sim::start("softphone-cli-test").await;
    let program = Command::new(env!("CARGO_BIN_EXE_softphone-cli"));
    common::dial_echo_bot_and_hear_the_tone(&sim, program, |p| p.to_str().unwrap().to_owned()).await;
}

#[test]
fn a_broken_sipinfo_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("softphone-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sipinfo.json"), r#"{"username":"1","password":"p","domain":"d"}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_softphone-cli")).args(["--sipinfo", dir.join("sipinfo.json").to_str().unwrap(), "--wait"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["event"], "error");
    assert!(line["message"].as_str().unwrap().contains("authorizationId"), "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Debug mode prints every SIP message of a whole call (register, challenge, INVITE with its
/// proxy challenge, DTMF, BYE) and nothing secret: no password, no digest response, anywhere
/// in the process's output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_call_in_debug_mode_prints_every_message_and_no_secret() {
    let sim = rc_sim::start(rc_sim::ServerOptions::loopback(rc_sim::Config::demo())).await.unwrap();
    let dir = std::env::temp_dir().join(format!("softphone-cli-debug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let info = sim.sip_info("16505550101").unwrap();
    let password = info.password.clone();
    std::fs::write(dir.join("sipinfo.json"), serde_json::to_string(&info).unwrap()).unwrap();
    std::fs::write(dir.join("ca.pem"), &sim.ca_pem).unwrap();

    let child = Command::new(env!("CARGO_BIN_EXE_softphone-cli"))
        .env("RUST_BACKTRACE", "1")
        .args(["--sipinfo", dir.join("sipinfo.json").to_str().unwrap(), "--ca", dir.join("ca.pem").to_str().unwrap()])
        .args(["--dial", "600", "--tone", "1000", "--dtmf", "12#", "--duration", "2", "--debug"])
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), tokio::task::spawn_blocking(move || child)).await.unwrap().unwrap().unwrap();
    let all = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "exit {:?}\n{all}", out.status);

    for message in ["REGISTER sip:", "SIP/2.0 401", "INVITE sip:600@", "SIP/2.0 407", "SIP/2.0 200 OK", "ACK sip:", "BYE sip:"] {
        assert!(all.contains(message), "debug output lacks {message}:\n{all}");
    }
    assert!(!all.contains(&password), "the password is in the output");
    let credentials: Vec<&str> = all.lines().filter(|l| l.to_ascii_lowercase().contains("authorization: digest")).collect();
    assert!(credentials.len() >= 2, "the REGISTER's and the INVITE's credentials are shown (redacted): {credentials:?}");
    for line in credentials {
        assert!(line.contains("response=\"<redacted>\""), "a digest response is shown: {line}");
    }
    // rc-sim saw the real responses: what was redacted was a real secret.
    let server_saw = sim.log().await.into_iter().filter(|e| e.direction == rc_sim::core::Direction::In).any(|e| e.text.contains("response="));
    assert!(server_saw, "the credentials crossed the socket");
    let _ = std::fs::remove_dir_all(&dir);
}

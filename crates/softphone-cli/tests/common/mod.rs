//! The echo-bot call both CLI tests make: the native program, and the Windows build under Wine.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A demo rc-sim on 127.0.0.1 and the files a CLI run needs from it.
pub struct Sim {
    /// Kept so that the server runs as long as the test.
    _server: rc_sim::Handle,
    /// The folder with `sipinfo.json` and `ca.pem`, removed on drop.
    pub dir: PathBuf,
}

impl Sim {
    /// Starts rc-sim and writes the demo account's sipInfo and the server's CA into a fresh folder.
    pub async fn start(name: &str) -> Sim {
        let sim = rc_sim::start(rc_sim::ServerOptions::loopback(rc_sim::Config::demo())).await.unwrap();
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let info = sim.sip_info("16505550101").unwrap();
        std::fs::write(dir.join("sipinfo.json"), serde_json::to_string(&info).unwrap()).unwrap();
        std::fs::write(dir.join("ca.pem"), &sim.ca_pem).unwrap();
        Sim { _server: sim, dir }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `program` (with `path` turning our paths into ones it understands) to dial the echo bot
/// with a 1 kHz tone for two seconds, and checks what it printed and recorded: its JSON events
/// include registration, answer, media and disposal, and the recording's dominant frequency is
/// the tone's.
pub async fn dial_echo_bot_and_hear_the_tone(sim: &Sim, mut program: Command, path: impl Fn(&Path) -> String) {
    let wav = sim.dir.join("heard.wav");
    program
        .args(["--sipinfo", &path(&sim.dir.join("sipinfo.json")), "--ca", &path(&sim.dir.join("ca.pem"))])
        .args(["--dial", "600", "--tone", "1000", "--record", &path(&wav), "--duration", "2"]);
    let run = tokio::task::spawn_blocking(move || program.output());
    let out = tokio::time::timeout(Duration::from_secs(120), run).await.expect("the program ends").unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    let events: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}"))).collect();
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    for expected in ["registered", "answered", "media_connected", "disposed"] {
        assert!(names.contains(&expected), "{expected} missing in {names:?}");
    }

    let (rate, samples) = media::wav::read(&wav).unwrap();
    assert!(samples.len() > rate as usize, "at least a second recorded");
    let (f, _) = media::tone::dominant_frequency(&samples[samples.len() / 2..], rate, 100, 4000, 10);
    assert!(f.abs_diff(1000) <= 10, "the echo of our 1 kHz tone was recorded, found {f} Hz");
}

//! Drives the seed SDK (ringcentral-web-phone 2.5.4) in headless Chromium through
//! `interop/seed-sdk/harness.mjs`. Missing node, npm packages or Chromium fail the test loudly.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// How long one harness command may take.
const COMMAND_WAIT: Duration = Duration::from_secs(30);

/// A running harness: one Chromium, any number of pages.
pub struct Seed {
    _child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<Value>,
    pending: Vec<Value>,
    next_id: u64,
}

fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/seed-sdk")
}

impl Seed {
    /// Starts the harness; `fake_audio` is a WAV file the fake microphones play.
    pub async fn start(fake_audio: &std::path::Path) -> Seed {
        let dir = harness_dir();
        assert!(
            dir.join("node_modules/ringcentral-web-phone").is_dir(),
            "seed SDK not installed: run `npm ci --prefix interop/seed-sdk` (scripts/setup does)"
        );
        let mut child = Command::new("node")
            .arg(dir.join("harness.mjs"))
            .env("FAKE_AUDIO", fake_audio)
            // Chromium's own audio output (no sound server) plays and decodes received audio;
            // a test PulseAudio server in the environment would only get in its way.
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("PULSE_SERVER")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node must be installed to run the seed SDK");
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => drop(tx.send(v)),
                    Err(_) => eprintln!("harness: {line}"),
                }
            }
        });
        let mut seed = Seed { _child: child, stdin, lines, pending: Vec::new(), next_id: 0 };
        seed.wait_line(Duration::from_secs(60), |v| v["ready"] == true).await.expect("the harness starts Chromium");
        seed
    }

    async fn wait_line(&mut self, wait: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        if let Some(i) = self.pending.iter().position(&pred) {
            return Some(self.pending.remove(i));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let line = tokio::time::timeout_at(deadline, self.lines.recv()).await.ok()??;
            if pred(&line) {
                return Some(line);
            }
            self.pending.push(line);
        }
    }

    /// Starts an operation on a page without waiting for its result; returns its id.
    pub async fn begin(&mut self, page: &str, op: &str, args: Value) -> u64 {
        self.next_id += 1;
        let cmd = json!({ "id": self.next_id, "page": page, "op": op, "args": args });
        self.stdin.write_all(format!("{cmd}\n").as_bytes()).await.expect("harness stdin");
        self.next_id
    }

    /// The result of an operation started with [`begin`](Self::begin).
    pub async fn finish(&mut self, id: u64) -> Result<Value, String> {
        let line = self.wait_line(COMMAND_WAIT, |v| v["id"] == id).await;
        let line = line.unwrap_or_else(|| panic!("harness command {id} got no answer in {COMMAND_WAIT:?}"));
        if line["ok"] == true {
            Ok(line["result"].clone())
        } else {
            Err(line["error"].as_str().unwrap_or("unknown error").to_owned())
        }
    }

    /// Runs an operation on a page and returns its result.
    pub async fn run(&mut self, page: &str, op: &str, args: Value) -> Result<Value, String> {
        let id = self.begin(page, op, args).await;
        self.finish(id).await
    }

    /// Waits for an event of `page` named `event` (and matching `pred`).
    pub async fn event(&mut self, page: &str, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let found = self.wait_line(COMMAND_WAIT, |v| v["page"] == page && v["event"] == event && pred(v)).await;
        found.unwrap_or_else(|| panic!("page {page} never emitted {event}; seen: {:?}", self.pending))
    }
}

/// Writes a mono 48 kHz WAV of a `freq` Hz sine lasting `secs` seconds.
pub fn write_tone_wav(path: &std::path::Path, freq: f64, secs: u32) {
    let samples = media::tone::Tone::new(freq, 48_000, 12_000).next_frame(48_000 * secs as usize);
    media::wav::write(path, 48_000, &samples).expect("write WAV");
}

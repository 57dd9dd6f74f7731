//! Linphone's console client (`linphonec` 5.1, Debian package `linphone-cli`) as a test peer,
//! driven over stdin/stdout the way `interop/linphone/run-pair.py` does it: registered to
//! the test Kamailio over UDP on 127.0.0.1, ICE + DTLS-SRTP + AVPF + rtcp-mux, Opus and PCMU,
//! RFC 4733 DTMF, a WAV tone as its microphone and a WAV recording of what it hears. See
//! `interop/linphone/README.md` for the commands, what they print and why each setting is
//! there.

use crate::common::kamailio::{free_udp_port, Kamailio, DOMAIN};
use crate::common::Poll;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::Notify;

/// How long any one thing Linphone does may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// The prototype's files: configuration template and the loopback shim.
fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/linphone")
}

/// `loopback-only.so` (see `interop/linphone/loopback-only.c`: Linphone's only ICE candidate
/// becomes 127.0.0.1), built once per test process into cargo's temporary directory for
/// tests (`target/tmp`), then renamed into place so that concurrent runs never see half a file.
fn shim() -> &'static Path {
    static SHIM: OnceLock<PathBuf> = OnceLock::new();
    SHIM.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let (so, building) = (dir.join("linphone-loopback-only.so"), dir.join(format!("linphone-loopback-only.{}.so", std::process::id())));
        let out = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&building)
            .arg(interop_dir().join("loopback-only.c"))
            .output()
            .expect("cc runs (build-essential, scripts/setup)");
        assert!(out.status.success(), "building loopback-only.so failed: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::rename(&building, &so).unwrap();
        so
    })
}

/// How one Linphone is set up.
pub struct Config<'a> {
    /// Its account on Kamailio (`alice`, `bob`, `101`, `102`).
    pub user: &'a str,
    /// The account's password.
    pub password: &'a str,
    /// The frequency of the tone it plays as its microphone.
    pub tone_hz: u32,
    /// Extra `[sip]` settings (`key=value` lines), e.g. `sdp_200_ack=1`.
    pub sip: &'a [&'a str],
    /// Offer and accept Opus (else PCMU only).
    pub opus: bool,
}

/// A running `linphonec`; killed on drop. Its scratch directory (configuration, log, WAV
/// files) is removed on drop, or kept with its output in `stdout.txt` when the test is failing.
pub struct Linphone {
    /// The account it registered.
    pub user: String,
    /// Its scratch directory.
    pub dir: PathBuf,
    child: Child,
    stdin: ChildStdin,
    output: Arc<Output>,
    /// How many lines of `output` [`expect`](Self::expect) has looked at.
    cursor: usize,
    /// What it hears.
    pub heard: Recording,
}

/// What linphonec printed (stdout and stderr, prompts stripped), as its readers add it.
#[derive(Default)]
struct Output {
    lines: Mutex<Vec<String>>,
    /// Readers still running (stdout, stderr).
    open: AtomicUsize,
    /// Woken at each line and when a reader ends.
    changed: Notify,
}

impl Drop for Linphone {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            let _ = std::fs::write(self.dir.join("stdout.txt"), self.output.lines.lock().unwrap().join("\n"));
            eprintln!("linphonec {}: kept {} (linphone.log, stdout.txt, linphonerc, heard.wav)", self.user, self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Linphone {
    /// Starts `linphonec` for `cfg.user` on `k`, waits until it is registered, and sets it to
    /// play its tone and record what it hears in every call.
    pub async fn start(k: &Kamailio, cfg: Config<'_>) -> Linphone {
        let dir = scratch_dir(cfg.user);
        let rc = dir.join("linphonerc");
        std::fs::write(&rc, linphonerc(k, &cfg, &dir)).unwrap();
        let tone = dir.join("tone.wav");
        write_tone(&tone, cfg.tone_hz);
        let (child, stdin, output) = spawn(&dir, &rc);
        let heard = Recording::new(dir.join("heard.wav"), dir.join("linphone.log"));
        let mut l = Linphone { user: cfg.user.to_owned(), dir, child, stdin, output, cursor: 0, heard };
        l.wait_registered().await;
        l.command("soundcard use files", "'soundcard use files'", |s| s.contains("Using wav files instead of soundcard")).await;
        l.send(&format!("play {}", tone.display())).await;
        l.send(&format!("record {}", l.heard.path.display())).await;
        l
    }

    /// Writes one command line.
    pub async fn send(&mut self, command: &str) {
        let line = format!("{command}\n");
        if let Err(e) = self.stdin.write_all(line.as_bytes()).await.and(self.stdin.flush().await) {
            panic!("linphonec {} does not take '{command}': {e}\n{}", self.user, self.context());
        }
    }

    /// Writes `command` and waits for the line `accept` takes.
    pub async fn command(&mut self, command: &str, what: &str, accept: impl Fn(&str) -> bool) -> String {
        self.send(command).await;
        self.expect(what, accept).await
    }

    /// Waits (at most [`WAIT`]) for the next line `accept` takes and returns it; fails with
    /// Linphone's recent output.
    pub async fn expect(&mut self, what: &str, accept: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let changed = self.output.changed.notified();
            let (found, seen) = {
                let lines = self.output.lines.lock().unwrap();
                (lines[self.cursor..].iter().position(|l| accept(l)).map(|n| (self.cursor + n, lines[self.cursor + n].clone())), lines.len())
            };
            if let Some((at, line)) = found {
                self.cursor = at + 1;
                return line;
            }
            self.cursor = seen;
            if self.output.open.load(Ordering::Acquire) == 0 {
                panic!("linphonec {} exited while waiting for {what}\n{}", self.user, self.context());
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                panic!("linphonec {}: no {what} within {WAIT:?}\n{}", self.user, self.context());
            }
        }
    }

    /// Waits for a line containing each of `parts`, in that order.
    pub async fn expect_parts(&mut self, what: &str, parts: &[&str]) -> String {
        self.expect(what, |line| contains_in_order(line, parts)).await
    }

    /// The recent output and where the rest is, for failure messages.
    pub fn context(&self) -> String {
        let lines = self.output.lines.lock().unwrap();
        let recent = &lines[lines.len().saturating_sub(40)..];
        format!("--- last lines of linphonec {} ---\n{}\n--- full log: {} ---", self.user, recent.join("\n"), self.dir.join("linphone.log").display())
    }

    /// The SIP messages Linphone received, in order, from its log (belle-sip logs each one
    /// at level 6 after a line `channel […]: received [N] new bytes from [UDP://…]:`).
    pub fn received_messages(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.join("linphone.log")).unwrap_or_default();
        logged_messages(&log, |l| l.contains("]: received [") && l.contains(" new bytes from ["))
    }

    /// Polls `status register` (it answers at once) until the REGISTER got its 200.
    /// linphonec prints nothing of its own when it registers, so this asks (see
    /// `common::poll`).
    async fn wait_registered(&mut self) {
        let mut poll = Poll::new(format!("linphonec {} to register", self.user)).within(WAIT).every(Duration::from_millis(100));
        loop {
            let answer = self.command("status register", "an answer to 'status register'", |l| l.starts_with("registered") || l.starts_with("unregistered") || l.contains("No default proxy")).await;
            if answer.starts_with("registered,") {
                return;
            }
            poll.again_or(|| self.context()).await;
        }
    }
}

/// A fresh scratch directory for one Linphone.
fn scratch_dir(user: &str) -> PathBuf {
    use std::sync::atomic::AtomicU32;
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("webphone-linphone-{}-{n}-{user}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The template's Opus section, as it enables Opus.
const OPUS_ON: &str = "mime=opus\nrate=48000\nchannels=2\nenabled=1\n";

/// `interop/linphone/linphonerc.in` filled for `cfg` on `k` (UDP toward Kamailio), with
/// `cfg.sip` added to its `[sip]` section and Opus disabled unless `cfg.opus`.
fn linphonerc(k: &Kamailio, cfg: &Config<'_>, dir: &Path) -> String {
    let template = std::fs::read_to_string(interop_dir().join("linphonerc.in")).expect("interop/linphone/linphonerc.in");
    assert!(template.contains(OPUS_ON), "linphonerc.in enables Opus in its first codec section");
    let template = if cfg.opus { template } else { template.replace(OPUS_ON, &OPUS_ON.replace("enabled=1", "enabled=0")) };
    let extra: String = cfg.sip.iter().map(|l| format!("{l}\n")).collect();
    template
        .replace("@USER@", cfg.user)
        .replace("@PASSWORD@", cfg.password)
        .replace("@PROXY_PORT@", &k.sip.to_string())
        .replace("@TRANSPORT@", "udp")
        .replace("@AUDIO_PORT@", &free_udp_port().to_string())
        .replace("@DIR@", &dir.display().to_string())
        .replace("[sip]\n", &format!("[sip]\n{extra}"))
}

/// A 40 s sine at `hz` (16 kHz mono, 16-bit): longer than any call of these tests.
fn write_tone(path: &Path, hz: u32) {
    let samples = media::tone::Tone::new(f64::from(hz), 16_000, 8000).next_frame(16_000 * 40);
    media::wav::write(path, 16_000, &samples).unwrap();
}

/// Starts `linphonec -c rc` in `dir` with the loopback shim, line-buffered (`stdbuf`), its
/// home in `dir`; returns it, its stdin and its output as it comes (stdout and stderr).
fn spawn(dir: &Path, rc: &Path) -> (Child, ChildStdin, Arc<Output>) {
    let mut child = Command::new("stdbuf")
        .args(["-oL", "-eL", "linphonec", "-c"])
        .arg(rc)
        .args(["-d", "6", "-l"])
        .arg(dir.join("linphone.log"))
        .env("HOME", dir)
        .env("LD_PRELOAD", shim())
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("linphonec runs (apt-get install linphone-cli; scripts/setup)");
    let stdin = child.stdin.take().unwrap();
    let output = Arc::new(Output { open: AtomicUsize::new(2), ..Output::default() });
    collect_lines(child.stdout.take().unwrap(), output.clone());
    collect_lines(child.stderr.take().unwrap(), output.clone());
    (child, stdin, output)
}

/// Adds each line `from` gives to `to`, without the `linphonec> ` prompts (printed without a
/// newline, they end up in front of the next line).
fn collect_lines(from: impl tokio::io::AsyncRead + Unpin + Send + 'static, to: Arc<Output>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(from).lines();
        while let Ok(Some(mut line)) = lines.next_line().await {
            while let Some(rest) = line.strip_prefix("linphonec> ") {
                line = rest.to_owned();
            }
            to.lines.lock().unwrap().push(line);
            to.changed.notify_waiters();
        }
        to.open.fetch_sub(1, Ordering::AcqRel);
        to.changed.notify_waiters();
    });
}

/// True when `line` contains each of `parts` in order.
pub fn contains_in_order(line: &str, parts: &[&str]) -> bool {
    let mut rest = line;
    parts.iter().all(|p| match rest.find(p) {
        Some(at) => {
            rest = &rest[at + p.len()..];
            true
        }
        None => false,
    })
}

/// The messages of a Linphone log: the lines after each line `starts` takes, up to the next
/// time-stamped line.
fn logged_messages(log: &str, starts: impl Fn(&str) -> bool) -> Vec<String> {
    let stamped = |l: &str| l.len() > 23 && l.as_bytes()[4] == b'-' && l.as_bytes()[10] == b' ' && l[..4].bytes().all(|b| b.is_ascii_digit());
    let lines: Vec<&str> = log.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if starts(line) {
            let body: Vec<&str> = lines[i + 1..].iter().take_while(|l| !stamped(l)).map(|l| l.trim_end_matches('\r')).collect();
            out.push(body.join("\n").trim_matches('\n').to_owned());
        }
    }
    out
}

/// The WAV file Linphone records what it hears into. Its recorder (mediastreamer2's
/// MSFileRec) writes the samples as they come and the header when it is closed (at hang-up,
/// and each time the call's streams restart: hold, resume, a second call), then appends to the
/// file: the samples are read from byte 44 to the end of the file, whatever the header says,
/// at the rate of the header or, before the first header, of Linphone's log.
pub struct Recording {
    path: PathBuf,
    /// Linphone's log, which says at which rate the recorder takes its samples.
    log: PathBuf,
    /// Samples already looked at.
    read: usize,
}

/// The loudness below which a window counts as silence, and above which a tone counts.
const QUIET_RMS: f64 = 100.0;
const LOUD_RMS: f64 = 300.0;

impl Recording {
    fn new(path: PathBuf, log: PathBuf) -> Recording {
        Recording { path, log, read: 0 }
    }

    /// `(rate, samples)` recorded so far.
    fn samples(&self) -> Option<(u32, Vec<i16>)> {
        read_samples(&self.path, || recorder_rate(&self.log))
    }

    /// Forgets what was recorded so far: later checks look only at what comes after now.
    pub fn skip_to_now(&mut self) {
        self.read = self.samples().map_or(0, |(_, s)| s.len());
    }

    /// Waits until 0.5 s of the recording holds `hz` (its share of the power over 0.5 and
    /// loud), or fails naming `what`.
    pub async fn expect_tone(&mut self, hz: u32, what: &str) {
        self.listen(what, 0.5, |w, rate| tone_share(w, hz, rate) > 0.5 && media::tone::rms(w) > LOUD_RMS).await
    }

    /// Waits until 0.4 s of the recording is quiet, or fails naming `what`.
    pub async fn expect_silence(&mut self, what: &str) {
        self.listen(what, 0.4, |w, _| media::tone::rms(w) < QUIET_RMS).await
    }

    /// Reads what was recorded since the last look in windows of `secs` seconds until
    /// `accept` takes one; at most [`WAIT`]. Linphone writes the file as it goes and tells
    /// nobody, so this looks again every 100 ms (see `common::poll`).
    async fn listen(&mut self, what: &str, secs: f64, accept: impl Fn(&[i16], u32) -> bool) {
        let mut poll = Poll::new(format!("{what} in Linphone's recording {}", self.path.display())).within(WAIT).every(Duration::from_millis(100));
        let mut last = None;
        loop {
            if let Some((rate, samples)) = self.samples() {
                self.read = self.read.min(samples.len());
                let window = (f64::from(rate) * secs) as usize;
                while samples.len() - self.read >= window {
                    let w = &samples[self.read..self.read + window];
                    self.read += window;
                    last = Some((media::tone::dominant_frequency(w, rate, 100, 4000, 10), media::tone::rms(w)));
                    if accept(w, rate) {
                        return;
                    }
                }
            }
            let read = self.read;
            poll.again_or(|| format!("last window: dominant (Hz, share) and RMS {last:?}; {read} samples read")).await;
        }
    }
}

/// The share of `w`'s power at `hz` (1.0 for a pure tone at `hz`), by Goertzel.
pub fn tone_share(w: &[i16], hz: u32, rate: u32) -> f64 {
    let mean_square = media::tone::rms(w).powi(2);
    if mean_square <= 0.0 {
        return 0.0;
    }
    2.0 * media::tone::goertzel(w, f64::from(hz), rate) / mean_square
}

/// `(rate, mono samples)` of a 16-bit PCM WAV file being recorded: samples up to the end of
/// the file (the header's length may be an earlier one), at the header's rate; before the
/// recorder wrote its first header (over the first 44 bytes), from byte 44 at the rate `rate`
/// gives. `None` while there is no file or no rate.
fn read_samples(path: &Path, rate: impl Fn() -> Option<u32>) -> Option<(u32, Vec<i16>)> {
    let bytes = std::fs::read(path).ok()?;
    let decode = |data: &[u8], channels: usize| -> Vec<i16> { data.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).step_by(channels).collect() };
    if !bytes.starts_with(b"RIFF") {
        return Some((rate()?, decode(bytes.get(44..).unwrap_or_default(), 1)));
    }
    if bytes.len() < 12 || &bytes[8..12] != b"WAVE" {
        return None;
    }
    let (mut at, mut rate, mut channels) = (12, 0u32, 1usize);
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if id == b"fmt " && bytes.len() >= at + 24 {
            channels = usize::from(u16::from_le_bytes([bytes[at + 10], bytes[at + 11]])).max(1);
            rate = u32::from_le_bytes(bytes[at + 12..at + 16].try_into().unwrap());
        }
        if id == b"data" {
            return (rate > 0).then(|| (rate, decode(&bytes[at + 8..], channels)));
        }
        at += 8 + len + (len & 1);
    }
    None
}

/// The rate of the samples Linphone's recorder gets, from the last line of its log like
/// `configuring MSOpusDec:0x…-->MSFileRec:0x… from rate [48000] to rate [48000] …`.
fn recorder_rate(log: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().rev().find(|l| l.contains("-->MSFileRec:") && l.contains(" to rate ["))?;
    let rest = &line[line.find(" to rate [")? + " to rate [".len()..];
    rest[..rest.find(']')?].parse().ok()
}

/// `sip:{user}@sip.test`.
pub fn uri(user: &str) -> String {
    format!("sip:{user}@{DOMAIN}")
}

//! Soak: many calls with real audio against rc-sim's echo bot (600), with the process's
//! memory and open file descriptors read from `/proc/self` along the way.
//!
//! rc-sim runs in this same process, so every figure covers both the engine and the
//! simulator (its bots' WebRTC peers, and its SIP log, which keeps every message by design
//! and so grows with each call, about 7 KB a call: the growth bound below allows for that
//! log, measured). Columns: VmRSS and RssAnon from `/proc/self/status`; "heap", what malloc
//! has handed out and not had back (glibc's `mallinfo2`), which unlike RSS goes back down
//! when memory is freed; the entries of `/proc/self/fd`; threads.
//!
//! Each call gets its own tone and its own speaker: [`PerCallAudio`] opens the microphone and
//! speaker of the call being dialled from the dialling task (a task-local), so a call passes
//! only when the echo bot brings back *its* tone, never another call's.
//!
//! The two tests take turns (a process-wide lock): both read the same process's figures.
//! `cargo test -p webphone --test soak -- --nocapture` shows the tables.

mod common;

use common::{wait_event, Poll, WAIT};
use media::tone::{goertzel, rms, Tone};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use webphone::audio::{AudioError, AudioIo, AudioSink, AudioSource, SAMPLE_RATE};
use webphone::{CallEvent, CallSession, Dial, DisposeReason, Options, PhoneEvent, WebPhone};

/// The echo bot's number in rc-sim.
const ECHO: &str = "600";

/// File descriptors the end of a run may hold beyond the level after warm-up. The count
/// moves by one between readings (15 or 16 with no call up); every call holds two UDP
/// sockets (our peer's and the bot's), so a leak of one socket per call would be hundreds.
const FD_SLACK: usize = 8;

/// How far the fd count moves by itself with no call up (15 or 16 here). Readings are taken
/// once the count is back within this of the level before any call: the sockets of the last
/// calls' peers close a moment after the call is disposed, and each still open also holds
/// about 1 MiB of heap.
const FD_JITTER: usize = 1;

/// One test at a time: both measure the same process.
static SERIAL: Mutex<()> = Mutex::new(());

// ---------------------------------------------------------------- per-call audio

/// The audio of the call being dialled: the tone its microphone plays and where its
/// speaker's frames go.
#[derive(Clone)]
struct CallAudio {
    freq: u32,
    heard: mpsc::UnboundedSender<Vec<i16>>,
}

tokio::task_local! {
    static CALL_AUDIO: CallAudio;
}

/// Audio devices that take the tone and the speaker from the [`CALL_AUDIO`] of the task that
/// opens them ([`WebPhone::call`] opens a call's devices in the caller's task).
struct PerCallAudio;

fn outside_a_call() -> AudioError {
    AudioError::Open { name: "soak".into(), reason: "device opened outside a dialling task (no CALL_AUDIO)".into() }
}

struct ToneSource(Tone);

impl AudioSource for ToneSource {
    fn read(&mut self, frame: &mut [i16]) {
        self.0.fill(frame);
    }
}

struct ChannelSink(mpsc::UnboundedSender<Vec<i16>>);

impl AudioSink for ChannelSink {
    fn write(&mut self, frame: &[i16]) {
        let _ = self.0.send(frame.to_vec());
    }
}

impl AudioIo for PerCallAudio {
    fn open_input(&self, _device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError> {
        let freq = CALL_AUDIO.try_with(|c| c.freq).map_err(|_| outside_a_call())?;
        Ok(Box::new(ToneSource(Tone::new(f64::from(freq), SAMPLE_RATE, 8000))))
    }

    fn open_output(&self, _device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError> {
        let heard = CALL_AUDIO.try_with(|c| c.heard.clone()).map_err(|_| outside_a_call())?;
        Ok(Box::new(ChannelSink(heard)))
    }

    fn input_devices(&self) -> Vec<String> {
        vec!["soak-input".into()]
    }

    fn output_devices(&self) -> Vec<String> {
        vec!["soak-output".into()]
    }
}

/// A registered phone for extension 101 with [`PerCallAudio`].
async fn soak_phone(sim: &rc_sim::Handle) -> WebPhone {
    let mut opts = Options::new(Arc::new(PerCallAudio));
    opts.extra_ca_pem = Some(sim.ca_pem.clone());
    opts.media.bind = vec!["127.0.0.1:0".into()];
    opts.debug = std::env::var_os("WEBPHONE_DEBUG").is_some();
    WebPhone::start(sim.sip_info(common::EXT_101).expect("demo extension"), opts).await.expect("phone starts and registers")
}

/// Waits until `freq` dominates the last 60 ms heard (3 frames: a short check, but the
/// window holds a whole number of periods of every tone used, so another call's tone 100 Hz
/// away scores nothing). Returns how long it took, or what was heard last.
async fn hear_tone(heard: &mut mpsc::UnboundedReceiver<Vec<i16>>, freq: u32) -> Result<Duration, String> {
    const WINDOW: usize = 3 * 960;
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut samples: Vec<i16> = Vec::new();
    let mut last = (0.0, 0.0);
    loop {
        let frame = match tokio::time::timeout_at(deadline, heard.recv()).await {
            Ok(Some(f)) => f,
            Ok(None) => return Err(format!("speaker closed before the {freq} Hz tone was heard")),
            Err(_) => return Err(format!("no {freq} Hz tone within {WAIT:?}; last window (tone share, RMS): {last:?}")),
        };
        samples.extend_from_slice(&frame);
        if samples.len() > WINDOW {
            samples.drain(..samples.len() - WINDOW);
        }
        if samples.len() == WINDOW {
            let level = rms(&samples);
            // A pure tone puts half its mean square into its Goertzel power.
            let share = if level > 0.0 { 2.0 * goertzel(&samples, f64::from(freq), SAMPLE_RATE) / (level * level) } else { 0.0 };
            last = (share, level);
            if share > 0.6 && level > 300.0 {
                return Ok(start.elapsed());
            }
        }
    }
}

/// Drops what was heard so far.
fn flush(heard: &mut mpsc::UnboundedReceiver<Vec<i16>>) {
    while heard.try_recv().is_ok() {}
}

/// An answered call to the echo bot whose tone came back.
struct EchoCall {
    call: CallSession,
    events: tokio::sync::broadcast::Receiver<PhoneEvent>,
    heard: mpsc::UnboundedReceiver<Vec<i16>>,
    freq: u32,
}

/// Dials the echo bot playing `freq`, waits for the answer, the media and the tone echoed.
async fn echo_call(phone: &WebPhone, freq: u32) -> Result<EchoCall, String> {
    let mut events = phone.events();
    let (tx, mut heard) = mpsc::unbounded_channel();
    let dial = Dial { callee: ECHO.into(), ..Dial::default() };
    let call = CALL_AUDIO.scope(CallAudio { freq, heard: tx }, phone.call(dial)).await.map_err(|e| format!("dial: {e}"))?;
    call.wait_answered(WAIT).await.map_err(|e| format!("answer: {e}"))?;
    let id = call.id();
    wait_event(&mut events, "media", |e| match e {
        PhoneEvent::MediaConnected(i) if *i == id => Some(Ok(())),
        PhoneEvent::MediaFailed(i, why) if *i == id => Some(Err(why.clone())),
        _ => None,
    })
    .await
    .map_err(|e| format!("media failed: {e}"))?;
    hear_tone(&mut heard, freq).await?;
    Ok(EchoCall { call, events, heard, freq })
}

/// Hangs up and waits for the Disposed event (by us).
async fn hang_up(c: &mut EchoCall) -> Result<(), String> {
    c.call.hangup().await.map_err(|e| format!("hangup: {e}"))?;
    c.call.wait_disposed(WAIT).await.map_err(|e| format!("dispose: {e}"))?;
    let id = c.call.id();
    let reason = wait_event(&mut c.events, "disposed", |e| match e {
        PhoneEvent::Call(i, CallEvent::Disposed(r)) if *i == id => Some(r.clone()),
        _ => None,
    })
    .await;
    if reason != DisposeReason::Local {
        return Err(format!("disposed for {reason:?}, expected Local"));
    }
    Ok(())
}

/// Waits until rc-sim has no call left.
async fn sim_idle(sim: &rc_sim::Handle) {
    common::eventually("rc-sim to have no calls left", || async { sim.calls().await.is_empty().then_some(()) }).await;
}

/// The figures once every call is over: rc-sim has no call left and the sockets of the last
/// calls' peers are closed (they close a moment after the call is disposed), i.e. at most
/// `fds` are open, or [`WAIT`] passed (a leak: the caller's assertions then fail on the
/// figures returned).
async fn settled(sim: &rc_sim::Handle, fds: usize) -> Sample {
    sim_idle(sim).await;
    // Sockets close with no event this test can see: count them again (see `common::poll`).
    let mut poll = Poll::new("the last calls' sockets to close").within(WAIT);
    loop {
        let s = Sample::now();
        if s.fds <= fds || !poll.wait().await {
            return s;
        }
    }
}

// ---------------------------------------------------------------- /proc/self

/// What /proc says about this process (engine and rc-sim together).
#[derive(Debug, Clone, Copy)]
struct Sample {
    rss_kib: u64,
    anon_kib: u64,
    heap: Option<u64>,
    fds: usize,
    threads: u64,
}

impl Sample {
    fn now() -> Sample {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in /proc/self/status"))
        };
        // read_dir holds one descriptor of its own while listing: not counted.
        let fds = std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count() - 1;
        Sample { rss_kib: field("VmRSS:"), anon_kib: field("RssAnon:"), heap: heap_in_use(), fds, threads: field("Threads:") }
    }

    fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
}

/// Bytes malloc has handed out and not had back (glibc's `mallinfo2`, all arenas): what the
/// program holds, without the allocator's free lists and fragmentation that RSS includes.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_in_use() -> Option<u64> {
    #[repr(C)]
    struct MallInfo2 {
        arena: usize,
        ordblks: usize,
        smblks: usize,
        hblks: usize,
        hblkhd: usize,
        usmblks: usize,
        fsmblks: usize,
        uordblks: usize,
        fordblks: usize,
        keepcost: usize,
    }
    extern "C" {
        fn mallinfo2() -> MallInfo2;
    }
    // SAFETY: mallinfo2 takes nothing and returns a plain struct (glibc 2.33 and later).
    let m = unsafe { mallinfo2() };
    Some((m.uordblks + m.hblkhd) as u64)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_in_use() -> Option<u64> {
    None
}

fn print_header(first: &str) {
    println!("{first:>12} {:>8} {:>9} {:>9} {:>5} {:>8} {:>9}", "RSS MiB", "anon MiB", "heap MiB", "fds", "threads", "elapsed");
}

fn print_row(label: &str, s: Sample, elapsed: Duration, note: &str) {
    let heap = s.heap.map_or("-".to_string(), |h| format!("{:.1}", h as f64 / 1_048_576.0));
    println!(
        "{label:>12} {:>8.1} {:>9.1} {heap:>9} {:>5} {:>8} {:>8.1}s  {note}",
        s.rss_mib(),
        s.anon_kib as f64 / 1024.0,
        s.fds,
        s.threads,
        elapsed.as_secs_f64()
    );
}

/// Bytes rc-sim's SIP log (kept for the whole run, by design) took from the INVITE of
/// echo call `n + 1` on. Read once at the end: a copy of the log read while measuring would
/// show in the figures itself.
async fn sim_log_bytes_after_call(sim: &rc_sim::Handle, n: usize) -> usize {
    let log = sim.log().await;
    let invite = format!("INVITE sip:{ECHO}@");
    let from = log.iter().enumerate().filter(|(_, e)| e.direction == rc_sim::core::Direction::In && e.text.starts_with(&invite)).nth(n).map_or(log.len(), |(i, _)| i);
    log[from..].iter().map(|e| e.text.len()).sum()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

// ---------------------------------------------------------------- the tests

/// RSS may grow by this much from call 100 to call 500 besides rc-sim's SIP log. Measured:
/// 1.2 to 2.1 MiB (rc-sim's log entries' own overhead, SIP transactions kept for their 32 s
/// timers, allocator slack). One call takes 1 to 1.5 MiB of RSS while up (32 at once add 27
/// to 47 MiB), so leaking even a small part of each call's media over 400 calls goes far
/// past this.
const RSS_GROWTH_BOUND_MIB: f64 = 8.0;

#[test]
fn five_hundred_calls_in_sequence_keep_memory_and_fds_steady() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    runtime().block_on(async {
        // SOAK_CALLS=2000 makes a longer soak (a multiple of 50, at least 150).
        let calls: usize = std::env::var("SOAK_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
        assert!(calls >= 150 && calls.is_multiple_of(50), "SOAK_CALLS must be a multiple of 50, at least 150");
        // Consecutive calls play different tones, so nothing left of the previous call can
        // pass for this one's echo.
        const TONES: [u32; 5] = [600, 800, 1000, 1200, 1400];
        let sim = common::server().await;
        let phone = soak_phone(&sim).await;
        let start = Instant::now();
        let idle = Sample::now();
        let settle_fds = idle.fds + FD_JITTER;
        let mut samples: Vec<(usize, Sample)> = Vec::new();
        let mut slowest = (0, Duration::ZERO);
        println!("\n{calls} calls in sequence to the echo bot (engine + rc-sim in one process)");
        print_header("call");
        print_row("registered", idle, start.elapsed(), "");
        for n in 1..=calls {
            let t = Instant::now();
            let freq = TONES[n % TONES.len()];
            let mut c = echo_call(&phone, freq).await.unwrap_or_else(|e| panic!("call {n} ({freq} Hz): {e}"));
            hang_up(&mut c).await.unwrap_or_else(|e| panic!("call {n}: {e}"));
            drop(c);
            let took = t.elapsed();
            if took > slowest.1 {
                slowest = (n, took);
            }
            if n == 20 || n % 50 == 0 {
                let wait = Instant::now();
                let s = settled(&sim, settle_fds).await;
                print_row(&n.to_string(), s, start.elapsed(), &format!("(settled in {} ms)", wait.elapsed().as_millis()));
                samples.push((n, s));
            }
        }
        let elapsed = start.elapsed();
        let at = |call: usize| samples.iter().find(|(n, _)| *n == call).unwrap().1;
        let (warm, s100, end) = (at(20), at(100), at(calls));
        let growth = end.rss_mib() - s100.rss_mib();
        let log_growth = sim_log_bytes_after_call(&sim, 100).await as f64 / 1_048_576.0;
        println!(
            "{calls} calls in {:.1}s ({:.0} ms a call, slowest: call {} in {} ms)\n\
             RSS from call 100 to {calls}: {growth:+.1} MiB, rc-sim's SIP log {log_growth:+.1} MiB of it; fds {} after warm-up, {} at the end",
            elapsed.as_secs_f64(),
            elapsed.as_secs_f64() * 1000.0 / calls as f64,
            slowest.0,
            slowest.1.as_millis(),
            warm.fds,
            end.fds,
        );
        assert!(end.fds <= warm.fds + FD_SLACK, "open fds grew from {} after warm-up to {} after {calls} calls", warm.fds, end.fds);
        assert!(
            growth - log_growth < RSS_GROWTH_BOUND_MIB,
            "RSS grew {growth:.1} MiB from call 100 to call {calls} ({log_growth:.1} MiB of it rc-sim's SIP log); bound {RSS_GROWTH_BOUND_MIB} MiB besides the log"
        );
        assert!(sim.calls().await.is_empty(), "rc-sim has no call left");
        phone.dispose().await.unwrap();
        sim.shutdown();
    });
}

/// From round 2 to the last, RSS may grow by this much. Measured: +0.2 to +4.6 MiB. Round 1
/// to 2 adds 8 to 20 MiB that the heap in use does not (glibc keeping the freed memory of the
/// calls in its arenas), so the rounds from the second on are compared. The 32 calls of a
/// round take 27 to 47 MiB of RSS while up: a round that kept half of it goes past this.
const ROUND_RSS_BOUND_MIB: f64 = 12.0;

/// After all calls of a round are over, the heap in use is back within this of its level
/// before the rounds. Measured: +0.7 to +2.8 MiB after 96 calls, which is rc-sim's SIP log
/// of them (0.7 MiB) and both sides' SIP transactions still kept for their 32 s timers. The
/// calls hold 1 to 1.7 MiB of heap each while up, so a few calls' media left behind fail it.
const ROUND_HEAP_BOUND_MIB: f64 = 6.0;

#[test]
fn thirty_two_calls_at_once_all_carry_audio() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    runtime().block_on(async {
        const AT_ONCE: u32 = 32;
        const ROUNDS: usize = 3;
        let sim = common::server().await;
        let phone = soak_phone(&sim).await;
        let idle = Sample::now();
        let settle_fds = idle.fds + FD_JITTER;
        // Warm-up: one call, so the first round's figures are not the first allocations.
        let mut c = echo_call(&phone, 1000).await.expect("warm-up call");
        hang_up(&mut c).await.unwrap();
        drop(c);
        let start = Instant::now();
        let before = settled(&sim, settle_fds).await;
        println!("\n{AT_ONCE} calls at once to the echo bot, {ROUNDS} rounds (engine + rc-sim in one process)");
        print_header("when");
        print_row("before", before, start.elapsed(), "");
        let mut after_rounds = Vec::new();
        for round in 1..=ROUNDS {
            let round_start = Instant::now();
            let (up_tx, mut up_rx) = mpsc::unbounded_channel::<Result<u32, String>>();
            let (go_tx, go_rx) = watch::channel(false);
            let mut tasks = Vec::new();
            for k in 0..AT_ONCE {
                // 300, 400, ... 3400 Hz: every call its own tone.
                let freq = 300 + 100 * k;
                let (phone, up_tx, mut go_rx) = (phone.clone(), up_tx.clone(), go_rx.clone());
                tasks.push(tokio::spawn(async move {
                    let mut c = match echo_call(&phone, freq).await {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = up_tx.send(Err(format!("{freq} Hz: {e}")));
                            return Err(e);
                        }
                    };
                    let _ = up_tx.send(Ok(freq));
                    // All calls are up: each hears its own tone again, then hangs up.
                    let _ = go_rx.wait_for(|go| *go).await;
                    flush(&mut c.heard);
                    let again = hear_tone(&mut c.heard, c.freq).await.map_err(|e| format!("{freq} Hz with all calls up: {e}"));
                    let hung = hang_up(&mut c).await.map_err(|e| format!("{freq} Hz: {e}"));
                    again.and(hung)
                }));
            }
            drop(up_tx);
            let mut up = Vec::new();
            while up.len() < AT_ONCE as usize {
                match tokio::time::timeout(3 * WAIT, up_rx.recv()).await {
                    Ok(Some(Ok(f))) => up.push(f),
                    Ok(Some(Err(e))) => panic!("round {round}: a call failed: {e}"),
                    Ok(None) => panic!("round {round}: calls ended before all were up"),
                    Err(_) => panic!("round {round}: only {} of {AT_ONCE} calls up after {:?}", up.len(), 3 * WAIT),
                }
            }
            let setup = round_start.elapsed();
            assert_eq!(sim.calls().await.len(), AT_ONCE as usize, "rc-sim holds every call at once");
            let during = Sample::now();
            go_tx.send(true).unwrap();
            for t in tasks {
                let r = tokio::time::timeout(3 * WAIT, t).await.expect("a call task hangs").expect("call task panicked");
                r.unwrap_or_else(|e| panic!("round {round}: {e}"));
            }
            let wait = Instant::now();
            let after = settled(&sim, settle_fds).await;
            print_row(&format!("{round}: all up"), during, start.elapsed(), "");
            print_row(&format!("{round}: after"), after, start.elapsed(), &format!("(settled in {} ms)", wait.elapsed().as_millis()));
            println!("{:>12} all {AT_ONCE} up and echoing in {:.1}s, round {:.1}s", "", setup.as_secs_f64(), round_start.elapsed().as_secs_f64());
            after_rounds.push(after);
        }
        println!("{ROUNDS} rounds in {:.1}s", start.elapsed().as_secs_f64());
        for (i, s) in after_rounds.iter().enumerate() {
            assert!(s.fds <= before.fds + FD_SLACK, "open fds after round {}: {}, before: {}", i + 1, s.fds, before.fds);
            if let (Some(h), Some(h0)) = (s.heap, before.heap) {
                let grew = (h as f64 - h0 as f64) / 1_048_576.0;
                assert!(grew < ROUND_HEAP_BOUND_MIB, "heap in use after round {}: {grew:+.1} MiB on before", i + 1);
            }
        }
        let growth = after_rounds[ROUNDS - 1].rss_mib() - after_rounds[1].rss_mib();
        assert!(growth < ROUND_RSS_BOUND_MIB, "RSS grew {growth:.1} MiB from round 2 to round {ROUNDS}");
        assert!(sim.calls().await.is_empty(), "rc-sim has no call left");
        phone.dispose().await.unwrap();
        sim.shutdown();
    });
}

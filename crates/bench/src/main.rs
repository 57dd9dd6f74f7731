//! `bench`: our engine and the seed SDK in Chromium, side by side, on the same rc-sim in one
//! run; prints one markdown table (and writes every raw figure to `OUT/results.json`).
//!
//! `cargo run --release -p bench -- [--quick] [--skip-chromium] [--skip-app] [--out DIR]`;
//! `bench/run.sh` builds what it needs and runs it. rc-sim runs inside this process; each side
//! of each workload runs in a process of its own (`bench-engine`, or `node
//! bench/seed-bench.mjs` with its Chromium), whose CPU time and memory are read from `/proc`.

use bench::procfs::{self, Process};
use bench::stats::{median, percentile};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// Speech runs per path condition (PESQ is the median).
const PESQ_RUNS: usize = 3;

/// How long one workload process may run.
const WORKLOAD_LIMIT: Duration = Duration::from_secs(900);

/// The choices of this run.
struct Plan {
    count: u64,
    seconds: u64,
    loads: Vec<u64>,
    chromium: bool,
    app: bool,
    /// Only this part (`timing`, `load`, `app`, `latency`, `pesq`, `voicemail`), or all.
    only: Option<String>,
    out: PathBuf,
    repo: PathBuf,
}

/// Which implementation runs a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Engine,
    Chromium,
}

/// What one workload process gave: its results, and what was measured of it.
#[derive(Debug, Default)]
struct Outcome {
    done: Value,
    /// CPU seconds of its process tree between window-start and window-end.
    window_cpu: Option<f64>,
    window_secs: Option<f64>,
    /// Peak PSS (KiB) of its process tree during the window.
    window_peak_pss: Option<u64>,
}

/// An rc-sim with its account files written for the workload processes.
struct Sim {
    handle: rc_sim::Handle,
    sipinfo: PathBuf,
    ca: PathBuf,
}

const NUMBER: &str = "16505550101";

async fn start_sim(dir: &Path, media: rc_sim::config::MediaSettings) -> Result<Sim, String> {
    let mut config = rc_sim::Config::demo();
    config.media = media;
    let mut options = rc_sim::ServerOptions::loopback(config);
    options.recordings = dir.join("recordings");
    let handle = rc_sim::start(options).await.map_err(|e| format!("rc-sim did not start: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let info = handle.sip_info(NUMBER).ok_or("rc-sim has no demo extension")?;
    let sipinfo = dir.join("sipinfo.json");
    std::fs::write(&sipinfo, serde_json::to_string_pretty(&info).expect("sipInfo serialises")).map_err(|e| e.to_string())?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &handle.ca_pem).map_err(|e| e.to_string())?;
    Ok(Sim { handle, sipinfo, ca })
}

/// The processes of `side` under `root` that count: the engine process itself, or Chromium's
/// (the Node driver and esbuild are left out).
fn measured(side: Side, root: u32) -> Vec<Process> {
    let tree = procfs::tree(&procfs::all_processes(), root);
    match side {
        Side::Engine => tree,
        Side::Chromium => tree.into_iter().filter(|p| p.pid != root && p.name.contains("chrom")).collect(),
    }
}

fn command(side: Side, plan: &Plan, sim: &Sim, workload: &str, extra: &[(&str, String)]) -> tokio::process::Command {
    let mut cmd = match side {
        Side::Engine => {
            let exe = std::env::current_exe().expect("own path").with_file_name("bench-engine");
            tokio::process::Command::new(exe)
        }
        Side::Chromium => {
            let mut c = tokio::process::Command::new("node");
            c.arg(plan.repo.join("bench/seed-bench.mjs"));
            // A PulseAudio server in the session breaks WebAudio in headless Chromium.
            c.env_remove("XDG_RUNTIME_DIR");
            c
        }
    };
    cmd.arg("--sipinfo").arg(&sim.sipinfo).arg("--ca").arg(&sim.ca).arg("--workload").arg(workload);
    for (flag, value) in extra {
        cmd.arg(format!("--{flag}")).arg(value);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).kill_on_drop(true);
    cmd
}

/// Runs one workload process to its end, measuring its window.
async fn run(side: Side, plan: &Plan, sim: &Sim, workload: &str, extra: &[(&str, String)]) -> Result<Outcome, String> {
    let mut child = command(side, plan, sim, workload, extra).spawn().map_err(|e| format!("{side:?} {workload}: cannot start: {e}"))?;
    let root = child.id().ok_or("the workload process ended at once")?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut outcome = Outcome::default();
    let mut window: Option<(std::collections::HashMap<u32, u64>, std::time::Instant)> = None;
    let mut sampler = tokio::time::interval(Duration::from_millis(250));
    let deadline = tokio::time::Instant::now() + WORKLOAD_LIMIT;
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line.map_err(|e| e.to_string())? else { break };
                let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
                match event["event"].as_str() {
                    Some("window-start") => window = Some((procfs::cpu_snapshot(&measured(side, root)), std::time::Instant::now())),
                    Some("window-end") => if let Some((start, t0)) = window.take() {
                        outcome.window_cpu = Some(procfs::cpu_seconds_between(&start, &procfs::cpu_snapshot(&measured(side, root))));
                        outcome.window_secs = Some(t0.elapsed().as_secs_f64());
                    },
                    Some("done") => outcome.done = event,
                    Some("error") => return Err(format!("{side:?} {workload}: {}", event["message"])),
                    _ => {}
                }
            }
            _ = sampler.tick() => if window.is_some() {
                let pids: Vec<u32> = measured(side, root).iter().map(|p| p.pid).collect();
                let pss = procfs::pss_sum_kib(&pids);
                outcome.window_peak_pss = Some(outcome.window_peak_pss.unwrap_or(0).max(pss));
            },
            _ = tokio::time::sleep_until(deadline) => return Err(format!("{side:?} {workload}: no end after {WORKLOAD_LIMIT:?}")),
        }
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    if outcome.done.is_null() {
        return Err(format!("{side:?} {workload}: ended ({status}) without results"));
    }
    Ok(outcome)
}

fn samples(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

/// CPU seconds of Opus encoding and decoding `call_seconds` of a 1 kHz tone on one thread:
/// what any phone must spend, the floor under the figures of both sides.
fn opus_floor(call_seconds: u64) -> f64 {
    let mut encoder = media::codec::Encoder::new().expect("opus encoder");
    let mut decoder = media::codec::Decoder::new().expect("opus decoder");
    let frame: Vec<i16> = (0..960).map(|i| (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * f64::from(i) / 48000.0).sin()) as i16).collect();
    let t0 = procfs::thread_cpu_seconds();
    for _ in 0..call_seconds * 50 {
        let packet = encoder.encode(&frame).expect("encode");
        decoder.decode(&packet).expect("decode");
    }
    procfs::thread_cpu_seconds() - t0
}

/// The whole Tauri app's PSS (its WebKit processes included), idle and in a call, in KiB.
async fn app_memory(plan: &Plan, sim: &Sim) -> Result<(u64, u64), String> {
    let app = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("softphone");
    if !app.exists() {
        return Err(format!("{} is not built (bench/run.sh builds it)", app.display()));
    }
    let dirs = plan.out.join("app");
    let mut child = tokio::process::Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24"])
        .arg(&app)
        .env("SOFTPHONE_SIPINFO", &sim.sipinfo)
        .env("SOFTPHONE_EXTRA_CA", &sim.ca)
        .env("SOFTPHONE_AUDIO", "test")
        .env("SOFTPHONE_CONFIG_DIR", dirs.join("config"))
        .env("SOFTPHONE_DATA_DIR", dirs.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("xvfb-run: {e}"))?;
    let root = child.id().ok_or("the app ended at once")?;
    let result = measure_app(sim, root).await;
    let _ = child.start_kill();
    // xvfb-run's children outlive it when it is killed: end the app's whole tree.
    for p in procfs::tree(&procfs::all_processes(), root) {
        // SAFETY: sending a signal to a process id has no memory effects.
        unsafe { libc::kill(p.pid as i32, libc::SIGTERM) };
    }
    let _ = child.wait().await;
    result
}

async fn measure_app(sim: &Sim, root: u32) -> Result<(u64, u64), String> {
    let app_pids = || -> Vec<u32> {
        let tree = procfs::tree(&procfs::all_processes(), root);
        let app = tree.iter().find(|p| p.name == "softphone").map(|p| p.pid);
        app.map(|a| procfs::tree(&tree, a).iter().map(|p| p.pid).collect()).unwrap_or_default()
    };
    wait_until(Duration::from_secs(60), "the app to register", || async { sim.handle.registrations().await.iter().any(|b| b.number == NUMBER) }).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = peak_pss(&app_pids, Duration::from_secs(5)).await;
    sim.handle.call_extension_auto(rc_sim::core::BotKind::Echo, NUMBER, Some(0)).await?;
    wait_until(Duration::from_secs(30), "the app to answer", || async { sim.handle.calls().await.iter().any(|c| c.state == "answered") }).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let in_call = peak_pss(&app_pids, Duration::from_secs(8)).await;
    Ok((idle, in_call))
}

async fn peak_pss(pids: &impl Fn() -> Vec<u32>, over: Duration) -> u64 {
    let end = tokio::time::Instant::now() + over;
    let mut peak = 0;
    while tokio::time::Instant::now() < end {
        peak = peak.max(procfs::pss_sum_kib(&pids()));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    peak
}

async fn wait_until<F: std::future::Future<Output = bool>>(limit: Duration, what: &str, check: impl Fn() -> F) -> Result<(), String> {
    let end = tokio::time::Instant::now() + limit;
    while !check().await {
        if tokio::time::Instant::now() > end {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// PESQ (wideband) of `received` against `reference`, by `bench/pesq.py` (run by
/// `BENCH_PYTHON`, else `python3`).
fn pesq(plan: &Plan, reference: &Path, received: &Path) -> Result<f64, String> {
    let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(python).arg(plan.repo.join("bench/pesq.py")).arg(reference).arg(received).output().map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(format!("pesq.py: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("pesq.py printed {e}"))?;
    v["pesq_wb"].as_f64().ok_or_else(|| "pesq.py gave no pesq_wb".into())
}

/// One row of the table.
struct Row {
    metric: String,
    ours: Option<f64>,
    theirs: Option<f64>,
    unit: &'static str,
    target: String,
}

fn fmt(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "–".into(),
        Some(x) if unit == "MiB" || unit == "ms" => format!("{x:.1} {unit}"),
        Some(x) if unit.is_empty() => format!("{x:.2}"),
        Some(x) => format!("{x:.4} {unit}"),
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from("| Measure | Our engine | Seed SDK in Chromium | Ours ÷ Chromium | Target |\n|---|---:|---:|---:|---|\n");
    for r in rows {
        let ratio = match (r.ours, r.theirs) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
            _ => "–".into(),
        };
        s.push_str(&format!("| {} | {} | {} | {} | {} |\n", r.metric, fmt(r.ours, r.unit), fmt(r.theirs, r.unit), ratio, r.target));
    }
    s
}

/// Both sides of one workload (the Chromium side skipped when asked).
async fn both(plan: &Plan, sim: &Sim, workload: &str, extra: &[(&str, String)]) -> Result<(Outcome, Option<Outcome>), String> {
    eprintln!("bench: {workload} {extra:?}: our engine");
    let ours = run(Side::Engine, plan, sim, workload, extra).await?;
    let theirs = if plan.chromium {
        eprintln!("bench: {workload} {extra:?}: the seed SDK in Chromium");
        Some(run(Side::Chromium, plan, sim, workload, extra).await?)
    } else {
        None
    };
    Ok((ours, theirs))
}

fn row(metric: impl Into<String>, ours: Option<f64>, theirs: Option<f64>, unit: &'static str, target: &str) -> Row {
    Row { metric: metric.into(), ours, theirs, unit, target: target.into() }
}

async fn timing_rows(plan: &Plan, sim: &Sim, rows: &mut Vec<Row>, raw: &mut Value) -> Result<(), String> {
    let count = [("count", plan.count.to_string())];
    let (ours, theirs) = both(plan, sim, "register", &count).await?;
    let pick = |o: &Outcome, key: &str, p: f64| percentile(&samples(&o.done[key]), p);
    let target = "≤ 0.5× Chromium";
    for (label, p) in [("median", 50.0), ("p95", 95.0)] {
        rows.push(row(format!("Registration ({label} of {}), connect → 200 OK", plan.count), pick(&ours, "samplesMs", p), theirs.as_ref().and_then(|t| pick(t, "samplesMs", p)), "ms", target));
    }
    raw["register"] = json!({ "ours": ours.done, "chromium": theirs.map(|t| t.done) });
    let (ours, theirs) = both(plan, sim, "setup", &count).await?;
    for (key, what) in [("answeredMs", "dial → 200 OK"), ("firstAudioMs", "dial → first echoed audio")] {
        for (label, p) in [("median", 50.0), ("p95", 95.0)] {
            rows.push(row(format!("Call setup {what} ({label} of {})", plan.count), pick(&ours, key, p), theirs.as_ref().and_then(|t| pick(t, key, p)), "ms", target));
        }
    }
    raw["setup"] = json!({ "ours": ours.done, "chromium": theirs.map(|t| t.done) });
    Ok(())
}

async fn load_rows(plan: &Plan, sim: &Sim, rows: &mut Vec<Row>, raw: &mut Value) -> Result<(), String> {
    let mut memory = Vec::new();
    for &calls in &plan.loads {
        let extra = [("calls", calls.to_string()), ("seconds", plan.seconds.to_string())];
        let (ours, theirs) = both(plan, sim, "load", &extra).await?;
        let per_call = |o: &Outcome| Some(o.window_cpu? / (o.window_secs? * calls as f64));
        let floor = opus_floor(calls * plan.seconds) / (calls * plan.seconds) as f64;
        rows.push(row(format!("CPU per call-second, {calls} concurrent call(s) (Opus encode+decode alone: {floor:.4} s)"), per_call(&ours), theirs.as_ref().and_then(per_call), "s", "≤ 0.25× Chromium"));
        let mib = |o: &Outcome| o.window_peak_pss.map(|k| k as f64 / 1024.0);
        memory.push(row(format!("Memory (peak PSS), {calls} call(s)"), mib(&ours), theirs.as_ref().and_then(mib), "MiB", "≤ 0.3× Chromium"));
        raw[format!("load{calls}")] = json!({ "ours": { "cpu": ours.window_cpu, "secs": ours.window_secs, "pssKiB": ours.window_peak_pss, "done": ours.done },
            "chromium": theirs.map(|t| json!({ "cpu": t.window_cpu, "secs": t.window_secs, "pssKiB": t.window_peak_pss, "done": t.done })), "opusFloorPerCallSecond": floor });
    }
    rows.extend(memory);
    Ok(())
}

async fn latency_rows(plan: &Plan, sim: &Sim, rows: &mut Vec<Row>, raw: &mut Value) -> Result<(), String> {
    let (ours, theirs) = both(plan, sim, "latency", &[("count", "10".to_string())]).await?;
    let m = |o: &Outcome| median(&samples(&o.done["samplesMs"]));
    rows.push(row("Audio latency, mic → rc-sim echo → speaker (median of clicks)", m(&ours), theirs.as_ref().and_then(m), "ms", "≤ 60 ms"));
    raw["latency"] = json!({ "ours": ours.done, "chromium": theirs.map(|t| t.done) });
    Ok(())
}

/// The speech sample (made once per output folder by `bench/make-speech.sh`).
fn speech_sample(plan: &Plan) -> Result<PathBuf, String> {
    let speech = plan.out.join("speech.wav");
    if !speech.exists() {
        let status = std::process::Command::new(plan.repo.join("bench/make-speech.sh")).arg(&speech).status().map_err(|e| format!("make-speech.sh: {e}"))?;
        if !status.success() {
            return Err("bench/make-speech.sh failed".into());
        }
    }
    Ok(speech)
}

async fn quality_rows(plan: &Plan, rows: &mut Vec<Row>, raw: &mut Value) -> Result<(), String> {
    let speech = speech_sample(plan)?;
    let off = [(0.0, 0, "clean"), (2.0, 0, "2 % loss"), (5.0, 0, "5 % loss"), (10.0, 0, "10 % loss"), (0.0, 30, "30 ms jitter")].map(|(l, j, label)| (l, j, label, false));
    // The same speech with each side's microphone processing on (ours: sonora's AEC3, noise
    // suppression and gain control; Chromium's getUserMedia defaults).
    let on = [(0.0, 0, "clean", true), (5.0, 0, "5 % loss", true)];
    for (loss, jitter, label, processing) in off.into_iter().chain(on) {
        let label = if processing { format!("{label}, mic processing on") } else { label.to_owned() };
        let label = label.as_str();
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        // Each run loses other packets (the pattern is seeded per stream): the median of a few.
        for run in 0..PESQ_RUNS {
            let dir = plan.out.join(format!("pesq-{}-{run}", label.replace([' ', '%', ','], "")));
            let media = rc_sim::config::MediaSettings { loss_percent: loss, jitter_ms: jitter, ..Default::default() };
            let sim = start_sim(&dir, media).await?;
            // Off: both send the speech as it is. On: each applies its own processing, as the
            // app and the browser do for a user.
            let mic = if processing { "default" } else { "off" };
            let extra = [("speech", speech.display().to_string()), ("out", dir.display().to_string()), ("mic-processing", mic.to_string())];
            let (a, b) = both(plan, &sim, "speech", &extra).await?;
            sim.handle.shutdown();
            let score = |o: &Outcome| o.done["wav"].as_str().map(|w| pesq(plan, &speech, Path::new(w))).transpose();
            ours.extend(score(&a)?);
            theirs.extend(b.as_ref().map(score).transpose()?.flatten());
        }
        let target = match label {
            "clean" => "≥ 4.0",
            "5 % loss" => "≥ 3.5",
            _ => "",
        };
        rows.push(row(format!("PESQ wideband, speech via rc-sim echo, {label} (echo → us; median of {PESQ_RUNS})"), median(&ours), median(&theirs), "", target));
        raw[format!("pesq {label}")] = json!({ "ours": ours, "chromium": theirs });
    }
    Ok(())
}

/// The voicemail bot's number in rc-sim: it records what it hears and sends nothing.
const VOICEMAIL: &str = "603";

/// PESQ of what the far end receives: speech sent to rc-sim's voicemail bot, its recording
/// scored, with each side's microphone processing off and on. The far end is silent, so the
/// echo canceller has no reference (as with a headset and a quiet far end); this is the fair
/// measure of what the processing does to the voice sent, on a clean network.
async fn voicemail_rows(plan: &Plan, rows: &mut Vec<Row>, raw: &mut Value) -> Result<(), String> {
    let speech = &speech_sample(plan)?;
    let (_, samples) = media::wav::read(speech).map_err(|e| format!("{}: {e}", speech.display()))?;
    // Both sides hang up 1.5 s after the speech ends; the recording's last (speech + 2 s)
    // holds all of it and none of what was sent before (Chromium's first capture).
    let keep = samples.len() + 2 * 48_000;
    for (mic, label) in [("off", "mic processing off"), ("default", "mic processing on")] {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for run in 0..PESQ_RUNS {
            let dir = plan.out.join(format!("voicemail-{mic}-{run}"));
            let sim = start_sim(&dir, rc_sim::config::MediaSettings::default()).await?;
            let extra = [("speech", speech.display().to_string()), ("out", dir.display().to_string()), ("mic-processing", mic.to_string()), ("to", VOICEMAIL.to_string())];
            let (_, chromium) = both(plan, &sim, "speech", &extra).await?;
            let sides = 1 + usize::from(chromium.is_some());
            let recordings = voicemail_recordings(&sim, sides).await?;
            sim.handle.shutdown();
            // The calls are made one after the other, ours first: call ids are in that order.
            for (i, recording) in recordings.iter().enumerate() {
                let tail = dir.join(format!("voicemail-tail-{i}.wav"));
                keep_last(recording, keep, &tail)?;
                let score = pesq(plan, speech, &tail)?;
                if i == 0 { ours.push(score) } else { theirs.push(score) }
            }
        }
        rows.push(row(format!("PESQ wideband, speech to rc-sim voicemail, clean, {label} (us → far end; median of {PESQ_RUNS})"), median(&ours), median(&theirs), "", ""));
        raw[format!("pesq voicemail {label}")] = json!({ "ours": ours, "chromium": theirs });
    }
    Ok(())
}

/// The WAVs the voicemail bot wrote, `count` of them, in call order (each is written when its
/// call ends, so this waits for them).
async fn voicemail_recordings(sim: &Sim, count: usize) -> Result<Vec<PathBuf>, String> {
    let recorded = || async {
        let mut found: Vec<(u64, PathBuf)> = sim.handle.bot_reports().await.into_iter().filter_map(|r| match r.event {
            rc_sim::core::BotEvent::Recorded { path, .. } => Some((r.call, PathBuf::from(path))),
            _ => None,
        }).collect();
        found.sort();
        found.into_iter().map(|(_, p)| p).collect::<Vec<_>>()
    };
    wait_until(Duration::from_secs(20), "the voicemail recordings", || async { recorded().await.len() >= count }).await?;
    Ok(recorded().await)
}

/// Writes the last `samples` of the WAV at `from` (all of it when shorter) to `to`.
fn keep_last(from: &Path, samples: usize, to: &Path) -> Result<(), String> {
    let (rate, pcm) = media::wav::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    let start = pcm.len().saturating_sub(samples);
    media::wav::write(to, rate, &pcm[start..]).map_err(|e| format!("{}: {e}", to.display()))
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok())).unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())).unwrap_or_default();
    format!("{cores} cores ({cpu}), {:.1} GiB RAM", mem as f64 / 1024.0 / 1024.0)
}

async fn bench(plan: Plan) -> Result<(), String> {
    std::fs::create_dir_all(&plan.out).map_err(|e| e.to_string())?;
    let sim = start_sim(&plan.out.join("clean"), rc_sim::config::MediaSettings::default()).await?;
    let (mut rows, mut raw) = (Vec::new(), json!({}));
    let part = |name: &str| plan.only.as_deref().is_none_or(|o| o == name);
    if part("timing") {
        timing_rows(&plan, &sim, &mut rows, &mut raw).await?;
    }
    if part("load") {
        load_rows(&plan, &sim, &mut rows, &mut raw).await?;
    }
    if plan.app && part("app") {
        let (idle, call) = app_memory(&plan, &sim).await?;
        rows.push(row("Memory (peak PSS), the whole Tauri app with its WebKit processes, idle", Some(idle as f64 / 1024.0), None, "MiB", ""));
        rows.push(row("Memory (peak PSS), the whole Tauri app with its WebKit processes, in a call", Some(call as f64 / 1024.0), None, "MiB", ""));
        raw["app"] = json!({ "idleKiB": idle, "callKiB": call });
    }
    if part("latency") {
        latency_rows(&plan, &sim, &mut rows, &mut raw).await?;
    }
    sim.handle.shutdown();
    if part("pesq") {
        quality_rows(&plan, &mut rows, &mut raw).await?;
    }
    if part("voicemail") {
        voicemail_rows(&plan, &mut rows, &mut raw).await?;
    }
    let text = format!("Machine: {}. Counts: {} registrations, {} call setups, {} s per load window.\n\n{}", machine(), plan.count, plan.count, plan.seconds, table(&rows));
    println!("{text}");
    std::fs::write(plan.out.join("table.md"), &text).map_err(|e| e.to_string())?;
    std::fs::write(plan.out.join("results.json"), serde_json::to_string_pretty(&raw).unwrap()).map_err(|e| e.to_string())?;
    Ok(())
}

fn plan_from_args() -> Result<Plan, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |f: &str| args.iter().any(|a| a == f);
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let out = value("--out").map(PathBuf::from).unwrap_or_else(|| repo.join("target/bench"));
    for a in &args {
        if a.starts_with("--") && !["--quick", "--skip-chromium", "--skip-app", "--out", "--only"].contains(&a.as_str()) {
            return Err(format!("unknown flag {a}; use --quick, --skip-chromium, --skip-app, --out DIR, --only timing|load|app|latency|pesq|voicemail"));
        }
    }
    let only = value("--only");
    if only.as_deref().is_some_and(|o| !["timing", "load", "app", "latency", "pesq", "voicemail"].contains(&o)) {
        return Err(format!("--only {}: use timing, load, app, latency, pesq or voicemail", only.unwrap_or_default()));
    }
    let quick = has("--quick");
    Ok(Plan {
        count: if quick { 10 } else { 50 },
        seconds: if quick { 10 } else { 30 },
        loads: if quick { vec![1, 4] } else { vec![1, 4, 16] },
        chromium: !has("--skip-chromium"),
        app: !has("--skip-app"),
        only,
        out,
        repo,
    })
}

#[tokio::main]
async fn main() {
    let result = match plan_from_args() {
        Ok(plan) => bench(plan).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        eprintln!("bench: {e}");
        std::process::exit(1);
    }
}

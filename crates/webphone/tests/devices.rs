//! The cpal audio devices on a private PulseAudio server started by each test, with null
//! sinks as speakers (their monitors are what a test listens to, through our own capture
//! path: what we play is what we capture, in real time) and pipe sources fed with tones as
//! microphones. Devices are chosen by name, and come and go with `pactl` while in use; a
//! call against rc-sim's echo bot shows that its audio follows.
//!
//! The audio server is chosen by the process environment, so the tests take turns ([`ENV`]).

mod common;

use common::{Poll, EXT_101, WAIT};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use webphone::audio::cpal_io::CpalAudio;
use webphone::audio::{AudioError, AudioIo, AudioSink, DeviceChange, DeviceChangeReason, FRAME, SAMPLE_RATE};
use webphone::{CallState, Dial, Options, PhoneEvent, WebPhone};

/// One test at a time sets the audio server.
static ENV: Mutex<()> = Mutex::new(());

fn env_lock() -> MutexGuard<'static, ()> {
    ENV.lock().unwrap_or_else(|e| e.into_inner())
}

/// A PulseAudio daemon in its own runtime directory, which this process's audio then uses;
/// killed on drop.
struct Pulse {
    dir: PathBuf,
}

impl Pulse {
    /// Starts the server with `modules` (module name and arguments) loaded; the first sink
    /// and source are the defaults.
    fn start(name: &str, modules: &[&str]) -> Pulse {
        let dir = pulse_dir(name);
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = Command::new("pulseaudio");
        cmd.env("XDG_RUNTIME_DIR", &dir)
            .args(["-n", "--daemonize=yes", "--exit-idle-time=-1", "--use-pid-file=yes"])
            .arg(format!("--log-target=file:{}/pa.log", dir.display()))
            .args(["-L", "module-native-protocol-unix"]);
        for m in modules {
            cmd.args(["-L", m]);
        }
        let status = cmd.status().expect("pulseaudio is installed (scripts/setup)");
        assert!(status.success(), "pulseaudio starts");
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
        std::env::remove_var("PULSE_SERVER");
        Pulse { dir }
    }

    /// Runs `pactl` on this server and returns what it printed.
    fn pactl(&self, args: &[&str]) -> String {
        let out = Command::new("pactl").env("XDG_RUNTIME_DIR", &self.dir).args(args).output().unwrap();
        assert!(out.status.success(), "pactl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Loads a module.
    fn load(&self, module: &str) {
        let mut args = vec!["load-module"];
        args.extend(module.split(' '));
        self.pactl(&args);
    }

    /// Unloads the one module whose arguments contain `args`.
    fn unload(&self, args: &str) {
        let modules = self.pactl(&["list", "short", "modules"]);
        let index = modules.lines().find(|l| l.contains(args)).and_then(|l| l.split('\t').next()).unwrap_or_else(|| panic!("no module with {args}: {modules}"));
        self.pactl(&["unload-module", index]);
    }
}

/// The runtime directory of the server [`Pulse::start`] starts as `name` (where microphone
/// pipes go too).
fn pulse_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("webphone-pulse-{}-{name}", std::process::id()))
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let pulse = |arg| Command::new("pulseaudio").env("XDG_RUNTIME_DIR", &self.dir).arg(arg).status().is_ok_and(|s| s.success());
        pulse("--kill");
        // Its files go once it has exited (`--check` fails then). The daemon is not our child,
        // so there is no exit to wait on: ask (see `common::poll`), and remove the files anyway
        // after 5 s.
        let mut poll = Poll::new("PulseAudio to exit").within(Duration::from_secs(5));
        while pulse("--check") && poll.wait_blocking() {}
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A null sink: a speaker whose monitor is "Monitor of `description`".
fn speaker(name: &str, description: &str) -> String {
    format!("module-null-sink sink_name={name} rate=48000 sink_properties=device.description={description}")
}

/// A pipe source: a microphone "description" that plays what [`Feed`] writes into `pipe`.
fn microphone(name: &str, description: &str, pipe: &std::path::Path) -> String {
    format!("module-pipe-source source_name={name} file={} rate=48000 channels=1 format=s16le source_properties=device.description={description}", pipe.display())
}

/// Plays `freq` Hz into a microphone's pipe in real time, 10 ms at a time, until dropped or
/// the microphone goes away.
struct Feed {
    stop: Arc<AtomicBool>,
}

impl Feed {
    fn start(pipe: PathBuf, freq: f64) -> Feed {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        std::thread::spawn(move || {
            let Ok(mut pipe) = std::fs::OpenOptions::new().write(true).open(&pipe) else { return };
            let mut tone = media::tone::Tone::new(freq, SAMPLE_RATE, 8000);
            let mut next = Instant::now();
            while !s.load(Ordering::Relaxed) {
                let bytes: Vec<u8> = tone.next_frame(FRAME / 2).iter().flat_map(|x| x.to_le_bytes()).collect();
                if std::io::Write::write_all(&mut pipe, &bytes).is_err() {
                    return;
                }
                // While nobody records, the pipe fills and writing waits: no catching up after.
                next = (next + Duration::from_millis(10)).max(Instant::now());
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        });
        Feed { stop }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Listens on `source` (through our own capture path) until 0.5 s of sound has `freq`
/// (±10 Hz) as its dominant frequency; `freq` 0 asks for 0.5 s of quiet instead. Gives up
/// after [`WAIT`] with the last window's figures.
fn listen(source: &str, freq: u32) -> Result<(), String> {
    let mut mic = CpalAudio::new().open_input(Some(source)).map_err(|e| e.to_string())?;
    let mut heard: Vec<i16> = Vec::new();
    let mut frame = vec![0i16; FRAME];
    let start = Instant::now();
    let mut next = start;
    let mut last = (0, 0.0, 0.0);
    loop {
        mic.read(&mut frame);
        heard.extend_from_slice(&frame);
        if heard.len() >= 24_000 {
            let window = std::mem::take(&mut heard);
            let (f, share) = media::tone::dominant_frequency(&window, SAMPLE_RATE, 100, 4000, 10);
            last = (f, share, media::tone::rms(&window));
            let ok = if freq == 0 { last.2 < 100.0 } else { f.abs_diff(freq) <= 10 && share > 0.5 && last.2 > 300.0 };
            if ok {
                return Ok(());
            }
        }
        if start.elapsed() > WAIT {
            return Err(format!("no {freq} Hz on \"{source}\" within {WAIT:?}; last window (Hz, share, RMS): {last:?}"));
        }
        next += Duration::from_millis(20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}

fn hear(source: &str, freq: u32) {
    if let Err(e) = listen(source, freq) {
        panic!("{e}");
    }
}

/// The same from async code.
async fn hear_async(source: &'static str, freq: u32) {
    if let Err(e) = tokio::task::spawn_blocking(move || listen(source, freq)).await.unwrap() {
        panic!("{e}");
    }
}

/// Plays a tone into a sink on the 20 ms clock a call uses, and passes on the sink's
/// device changes, until dropped.
struct Player {
    stop: Arc<AtomicBool>,
    changes: mpsc::Receiver<DeviceChange>,
}

impl Player {
    fn start(mut sink: Box<dyn AudioSink>, freq: f64) -> Player {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, changes) = mpsc::channel();
        let s = stop.clone();
        std::thread::spawn(move || {
            let mut tone = media::tone::Tone::new(freq, SAMPLE_RATE, 8000);
            let mut next = Instant::now();
            while !s.load(Ordering::Relaxed) {
                sink.write(&tone.next_frame(FRAME));
                while let Some(c) = sink.device_change() {
                    let _ = tx.send(c);
                }
                next += Duration::from_millis(20);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
        });
        Player { stop, changes }
    }

    fn next_change(&self) -> DeviceChange {
        self.changes.recv_timeout(WAIT).expect("a device change is reported")
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn devices_open_play_and_capture_and_a_missing_one_is_a_clear_error() {
    let _env = env_lock();
    // No audio server reachable: opening fails with an error, never a panic.
    let empty = std::env::temp_dir().join(format!("webphone-nopulse-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::env::set_var("XDG_RUNTIME_DIR", &empty);
    std::env::remove_var("PULSE_SERVER");
    let audio = CpalAudio::new();
    assert!(matches!(audio.open_input(Some("no such microphone")), Err(AudioError::NotFound(_) | AudioError::Open { .. })));

    let pulse = Pulse::start("loop", &[&speaker("vsink", "VirtualSink"), "module-always-sink"]);
    pulse.pactl(&["set-default-source", "vsink.monitor"]);
    let mut speaker = audio.open_output(None).expect("default output opens");
    let mut mic = audio.open_input(None).expect("default input opens");
    assert!(matches!(audio.open_output(Some("no such speaker")), Err(AudioError::NotFound(_))));

    // Play 1 kHz on the 20 ms clock a call uses and listen to the monitor until it comes back.
    let mut tone = media::tone::Tone::new(1000.0, SAMPLE_RATE, 8000);
    let mut heard: Vec<i16> = Vec::new();
    let mut frame = vec![0i16; FRAME];
    let start = Instant::now();
    let mut next = start;
    let found = loop {
        speaker.write(&tone.next_frame(FRAME));
        mic.read(&mut frame);
        heard.extend_from_slice(&frame);
        if heard.len() >= 24_000 {
            let window = std::mem::take(&mut heard);
            let (f, share) = media::tone::dominant_frequency(&window, SAMPLE_RATE, 100, 4000, 10);
            if f.abs_diff(1000) <= 10 && share > 0.5 && media::tone::rms(&window) > 300.0 {
                break true;
            }
        }
        if start.elapsed() > Duration::from_secs(10) {
            break false;
        }
        next += Duration::from_millis(20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    };
    assert!(found, "the tone played on the default output is captured from the monitor");
    drop((speaker, mic));
    drop(pulse);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn devices_are_listed_and_chosen_by_name_and_the_system_default_is_followed() {
    let _env = env_lock();
    let mic_a = pulse_dir("choose").join("mic_a");
    let pulse = Pulse::start("choose", &[&speaker("spk_a", "SpeakerA"), &speaker("spk_b", "SpeakerB"), &microphone("mic_a", "MicA", &mic_a)]);
    let _feed = Feed::start(mic_a, 1000.0);
    pulse.pactl(&["set-default-sink", "spk_a"]);
    let audio = CpalAudio::new();
    let (outputs, inputs) = (audio.output_devices(), audio.input_devices());
    assert!(outputs.contains(&"SpeakerA".into()) && outputs.contains(&"SpeakerB".into()), "{outputs:?}");
    assert!(inputs.contains(&"MicA".into()) && inputs.contains(&"Monitor of SpeakerB".into()), "{inputs:?}");

    // Chosen by name: the tone plays on B, and A stays quiet.
    let on_b = Player::start(audio.open_output(Some("SpeakerB")).unwrap(), 700.0);
    hear("Monitor of SpeakerB", 700);
    hear("Monitor of SpeakerA", 0);
    hear("MicA", 1000);
    drop(on_b);

    // No choice: the system default, also when it changes while the sound plays.
    let default = Player::start(audio.open_output(None).unwrap(), 900.0);
    hear("Monitor of SpeakerA", 900);
    pulse.pactl(&["set-default-sink", "spk_b"]);
    let change = default.next_change();
    assert_eq!(change, DeviceChange { input: false, from: Some("SpeakerA".into()), to: Some("SpeakerB".into()), reason: DeviceChangeReason::DefaultChanged });
    hear("Monitor of SpeakerB", 900);
    drop(default);
    // And a new stream starts on the new default.
    let _again = Player::start(audio.open_output(None).unwrap(), 400.0);
    hear("Monitor of SpeakerB", 400);
}

fn dial(callee: &str) -> Dial {
    Dial { callee: callee.into(), ..Dial::default() }
}

/// How long a move may take at worst: a first open of the new device that times out, the
/// retry a second later and a second open (cpal_io gives each open 5 s), with slack.
const MOVE_WAIT: Duration = Duration::from_secs(20);

/// Call `id`'s changes of microphone (`input`) or speaker from now on, up to and including
/// the first that goes to `to` (a move may pass through "no device" when the first open of
/// the new one fails). Fails after [`MOVE_WAIT`], naming the changes seen.
async fn moves_until(events: &mut tokio::sync::broadcast::Receiver<PhoneEvent>, id: webphone::CallId, input: bool, to: Option<&str>) -> Vec<DeviceChange> {
    let what = if input { "microphone" } else { "speaker" };
    let deadline = tokio::time::Instant::now() + MOVE_WAIT;
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv()).await.unwrap_or_else(|_| panic!("the {what} did not move to {to:?} within {MOVE_WAIT:?}; changes seen: {seen:?}"));
        match event {
            Ok(PhoneEvent::AudioDeviceChanged(i, change)) if i == id && change.input == input => {
                let done = change.to.as_deref() == to;
                seen.push(change);
                if done {
                    return seen;
                }
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("events ended waiting for the {what} to move: {e}"),
        }
    }
}

/// The move that ends at `to` (see [`moves_until`]).
async fn device_changed(events: &mut tokio::sync::broadcast::Receiver<PhoneEvent>, id: webphone::CallId, input: bool, to: Option<&str>) -> DeviceChange {
    moves_until(events, id, input, to).await.pop().expect("at least the move to `to`")
}

fn lost(change: &DeviceChange) -> bool {
    matches!(change.reason, DeviceChangeReason::Lost(_))
}

#[test]
fn a_call_changes_devices_and_survives_losing_them() {
    let _env = env_lock();
    let (mic_a, mic_b) = (pulse_dir("call").join("mic_a"), pulse_dir("call").join("mic_b"));
    let pulse = Pulse::start(
        "call",
        &[&speaker("spk_a", "SpeakerA"), &speaker("spk_b", "SpeakerB"), &microphone("mic_a", "MicA", &mic_a), &microphone("mic_b", "MicB", &mic_b)],
    );
    let _feed_a = Feed::start(mic_a, 1000.0);
    let feed_b = Feed::start(mic_b, 500.0);
    pulse.pactl(&["set-default-sink", "spk_a"]);
    pulse.pactl(&["set-default-source", "mic_a"]);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let sim = common::server().await;
        let mut opts = Options::new(Arc::new(CpalAudio::new()));
        opts.extra_ca_pem = Some(sim.ca_pem.clone());
        opts.media.bind = vec!["127.0.0.1:0".into()];
        // A steady tone is what noise suppression removes: the tones must pass untouched.
        opts.media.processing = media::processing::ProcessingSettings::OFF;
        opts.input_device = Some("MicA".into());
        opts.output_device = Some("SpeakerA".into());
        let phone = WebPhone::start(sim.sip_info(EXT_101).unwrap(), opts).await.expect("phone registers");
        let mut events = phone.events();

        // The echo bot returns what the chosen microphone plays to the chosen speaker.
        let call = phone.call(dial("600")).await.unwrap();
        call.wait_answered(WAIT).await.unwrap();
        hear_async("Monitor of SpeakerA", 1000).await;

        // Input and output change mid-call, and the call goes on.
        call.change_input_device(Some("MicB")).await.unwrap();
        hear_async("Monitor of SpeakerA", 500).await;
        call.change_output_device(Some("SpeakerB")).await.unwrap();
        hear_async("Monitor of SpeakerB", 500).await;

        // The speaker in use goes away: the default takes over and the phone says so.
        pulse.unload("sink_name=spk_b");
        let moves = moves_until(&mut events, call.id(), false, Some("SpeakerA")).await;
        assert!(lost(&moves[0]) && moves[0].from.as_deref() == Some("SpeakerB"), "{moves:?}");
        hear_async("Monitor of SpeakerA", 500).await;

        // So does the microphone in use.
        drop(feed_b);
        pulse.unload("source_name=mic_b");
        let moves = moves_until(&mut events, call.id(), true, Some("MicA")).await;
        assert!(lost(&moves[0]) && moves[0].from.as_deref() == Some("MicB"), "{moves:?}");
        hear_async("Monitor of SpeakerA", 1000).await;

        // Without its chosen speaker the call follows the system default...
        pulse.load(&speaker("spk_c", "SpeakerC"));
        pulse.pactl(&["set-default-sink", "spk_c"]);
        let change = device_changed(&mut events, call.id(), false, Some("SpeakerC")).await;
        assert_eq!(change.reason, DeviceChangeReason::DefaultChanged);
        hear_async("Monitor of SpeakerC", 1000).await;

        // ...until the chosen one is back.
        pulse.load(&speaker("spk_b", "SpeakerB"));
        let change = device_changed(&mut events, call.id(), false, Some("SpeakerB")).await;
        assert_eq!((change.from.as_deref(), &change.reason), (Some("SpeakerC"), &DeviceChangeReason::Returned));
        hear_async("Monitor of SpeakerB", 1000).await;

        // No speaker at all: the phone says so and the call goes on; a speaker that comes back
        // plays it again.
        pulse.pactl(&["unload-module", "module-null-sink"]);
        let moves = moves_until(&mut events, call.id(), false, None).await;
        assert!(lost(&moves[0]), "{moves:?}");
        assert_eq!(call.status().state, CallState::Answered);
        pulse.load(&speaker("spk_a", "SpeakerA"));
        let change = device_changed(&mut events, call.id(), false, Some("SpeakerA")).await;
        assert_eq!((change.from, change.reason), (None, DeviceChangeReason::Returned));
        hear_async("Monitor of SpeakerA", 1000).await;

        assert_eq!(call.status().state, CallState::Answered, "the call never dropped");
        call.hangup().await.unwrap();
        call.wait_disposed(WAIT).await.unwrap();
        phone.dispose().await.unwrap();
    });
}

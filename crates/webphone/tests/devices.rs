//! The cpal audio devices, on a private PulseAudio server with a null sink whose monitor is
//! the default microphone: what we play is what we capture, in real time.
//!
//! One test function, because the audio server is chosen by the process environment.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use webphone::audio::cpal_io::CpalAudio;
use webphone::audio::{AudioError, AudioIo, FRAME, SAMPLE_RATE};

/// A PulseAudio daemon in its own runtime directory; killed on drop.
struct Pulse {
    dir: PathBuf,
}

impl Pulse {
    fn start() -> Pulse {
        let dir = std::env::temp_dir().join(format!("webphone-pulse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("pulseaudio")
            .env("XDG_RUNTIME_DIR", &dir)
            .args(["-n", "--daemonize=yes", "--exit-idle-time=-1", "--use-pid-file=yes"])
            .arg(format!("--log-target=file:{}/pa.log", dir.display()))
            .args(["-L", "module-native-protocol-unix"])
            .args(["-L", "module-null-sink sink_name=vsink rate=48000 sink_properties=device.description=VirtualSink"])
            .args(["-L", "module-always-sink"])
            .status()
            .expect("pulseaudio is installed (scripts/setup)");
        assert!(status.success(), "pulseaudio starts");
        for args in [["set-default-sink", "vsink"], ["set-default-source", "vsink.monitor"]] {
            let ok = Command::new("pactl").env("XDG_RUNTIME_DIR", &dir).args(args).status().unwrap();
            assert!(ok.success(), "pactl {args:?}");
        }
        Pulse { dir }
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = Command::new("pulseaudio").env("XDG_RUNTIME_DIR", &self.dir).arg("--kill").status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn devices_open_play_and_capture_and_a_missing_one_is_a_clear_error() {
    // No audio server reachable: opening fails with an error, never a panic.
    let empty = std::env::temp_dir().join(format!("webphone-nopulse-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    std::env::set_var("XDG_RUNTIME_DIR", &empty);
    std::env::remove_var("PULSE_SERVER");
    let audio = CpalAudio::new();
    assert!(matches!(audio.open_input(Some("no such microphone")), Err(AudioError::NotFound(_) | AudioError::Open { .. })));

    let pulse = Pulse::start();
    std::env::set_var("XDG_RUNTIME_DIR", &pulse.dir);
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
            let window: Vec<i16> = heard.drain(..).collect();
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

//! Compares the pure-Rust ports of WebRTC's audio processing on the same simulated call:
//! `sonora` (the one the phone uses, through `media::processing`) and `aec3`, plus
//! `nnnoiseless` (RNNoise) for noise.
//!
//!     cargo run --release -p media --features aec-compare --example aec_compare \
//!         [-- [--wav DIR] [--far F.wav --near N.wav]]
//!
//! Echo: a 24 s call. The far end talks for 0–8 s and 12–24 s; what the speaker plays comes
//! back into the microphone through [`EchoPath`] (delay, attenuation, 50 ms reverberant tail).
//! The near end talks for 8–20 s, so 12–20 s is double talk. Measured on the processed
//! microphone signal:
//! * ERLE 1–2 s (converging), 4–8 s (converged) and in three stretches after double talk;
//! * the near end alone (8.5–12 s) and in double talk (12.5–20 s), against the near end
//!   processed alone by the same kind of processor (so that the linear path, high-pass
//!   filter and band splitting, cancels out): correlation, level change, the
//!   signal-to-distortion ratio that the correlation implies, and in double talk the share
//!   of 20 ms near-end frames more than 10 dB down (muted);
//! * CPU time per second of audio (render + capture, one thread).
//!
//! Only echo cancellation (with its high-pass filter) runs for the echo table; noise
//! suppression and gain control are off so that the echo canceller is what is compared.
//!
//! Noise: 12 s of near-end speech plus white noise 10 dB below the active speech, no echo;
//! SNR (everything in the output that is not the clean speech counts as noise) before and
//! after each noise suppressor, and how much the noise in speech pauses went down.
//!
//! The other crates are optional dependencies of `media`, built only with the `aec-compare`
//! feature, so that the phone's own build and tests do not compile them.
//!
//! `--far`/`--near` use 48 kHz mono WAVs (e.g. from bench/make-speech.sh) instead of the
//! synthetic talkers; `--wav DIR` writes the microphone and processed signals.

use media::voicesim::{self, dbfs, erle_db, gating, mix, preservation, speech, white_noise, with_echo, EchoPath, Voice};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const RATE: u32 = 48_000;
const CHUNK: usize = 480;

/// A voice processor under test, fed 10 ms chunks.
trait Processor {
    fn name(&self) -> String;
    fn render(&mut self, far: &[i16]);
    fn capture(&mut self, mic: &mut [i16]);
}

/// `sonora` through the phone's own wrapper (20 ms frames are split in the same way).
struct Sonora {
    label: &'static str,
    p: media::processing::VoiceProcessor,
}

impl Processor for Sonora {
    fn name(&self) -> String {
        format!("sonora 0.2 {}", self.label)
    }
    fn render(&mut self, far: &[i16]) {
        self.p.process_render(far);
    }
    fn capture(&mut self, mic: &mut [i16]) {
        self.p.process_capture(mic);
    }
}

/// `aec3`'s linear pipeline (HPF → AEC3 → NS → AGC2 → post filter), f32 in [-1, 1].
struct Aec3 {
    label: &'static str,
    p: aec3::pipelines::linear::LinearPipeline,
}

impl Aec3 {
    fn new(label: &'static str, aec: bool, ns: bool, agc: bool) -> Aec3 {
        let format = aec3::nodes::audio::AudioFormat::ten_ms(RATE, 1);
        let p = aec3::pipelines::linear::builder(format, format)
            .enable_high_pass_filter(aec)
            .enable_noise_suppression(ns)
            .enable_gain_controller2(agc)
            .enable_post_filter(aec)
            .build()
            .expect("aec3 pipeline");
        Aec3 { label, p }
    }
}

impl Processor for Aec3 {
    fn name(&self) -> String {
        format!("aec3 0.4 {}", self.label)
    }
    fn render(&mut self, far: &[i16]) {
        let f: Vec<f32> = far.iter().map(|&s| f32::from(s) / 32768.0).collect();
        self.p.handle_render_frame(&f).expect("render");
    }
    fn capture(&mut self, mic: &mut [i16]) {
        let f: Vec<f32> = mic.iter().map(|&s| f32::from(s) / 32768.0).collect();
        let mut out = vec![0f32; f.len()];
        self.p.process_capture_frame(&f, &mut out).expect("capture");
        for (m, o) in mic.iter_mut().zip(out) {
            *m = (o * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        }
    }
}

/// RNNoise (noise only; it has no echo canceller), i16-range floats.
struct Rnnoise(Box<nnnoiseless::DenoiseState<'static>>);

impl Processor for Rnnoise {
    fn name(&self) -> String {
        "nnnoiseless 0.5 (RNNoise)".into()
    }
    fn render(&mut self, _far: &[i16]) {}
    fn capture(&mut self, mic: &mut [i16]) {
        let f: Vec<f32> = mic.iter().map(|&s| f32::from(s)).collect();
        let mut out = vec![0f32; f.len()];
        self.0.process_frame(&mut out, &f);
        for (m, o) in mic.iter_mut().zip(out) {
            *m = o.round().clamp(-32768.0, 32767.0) as i16;
        }
    }
}

fn sonora(label: &'static str, echo_cancellation: bool, noise_suppression: bool, gain_control: bool) -> Box<dyn Processor> {
    let settings = media::processing::ProcessingSettings { echo_cancellation, noise_suppression, gain_control };
    Box::new(Sonora { label, p: media::processing::VoiceProcessor::new(settings) })
}

/// Runs `p` over `far` (played) and `mic` (recorded) in 10 ms steps, render first as on a
/// real device; returns the processed microphone and the time spent.
fn run(p: &mut dyn Processor, far: &[i16], mic: &[i16]) -> (Vec<i16>, Duration) {
    let mut out = mic.to_vec();
    let mut spent = Duration::ZERO;
    for (f, m) in far.chunks_exact(CHUNK).zip(out.chunks_exact_mut(CHUNK)) {
        let t = Instant::now();
        p.render(f);
        p.capture(m);
        spent += t.elapsed();
    }
    (out, spent)
}

fn s(sec: f64) -> usize {
    (sec * f64::from(RATE)) as usize
}

struct Talkers {
    far: Vec<i16>,
    near: Vec<i16>,
}

/// The echo call: far end 0–8 s and 12–24 s, near end 8–20 s.
fn call(talkers: &Talkers) -> (Vec<i16>, Vec<i16>) {
    let n = s(24.0);
    let mut far = vec![0i16; n];
    let mut near = vec![0i16; n];
    let take = |src: &[i16], dst: &mut [i16], from: f64, to: f64, offset: usize| {
        for (i, d) in dst[s(from)..s(to)].iter_mut().enumerate() {
            *d = src[(offset + i) % src.len()];
        }
    };
    take(&talkers.far, &mut far, 0.0, 8.0, 0);
    take(&talkers.far, &mut far, 12.0, 24.0, s(8.0));
    take(&talkers.near, &mut near, 8.0, 20.0, 0);
    (far, near)
}

/// One echo run: the processed call, and the near end alone through a fresh processor of
/// the same kind (the reference for what the near end should sound like).
struct EchoRun {
    name: String,
    out: Vec<i16>,
    alone: Vec<i16>,
    spent: Duration,
}

impl EchoRun {
    /// The table cells both echo tables share: ERLE in the three stretches after double
    /// talk; the near end alone and in double talk (correlation, level, SDR, muted share);
    /// CPU per second of the 24 s call.
    fn shared_cells(&self, echo: &[f32]) -> String {
        let alone = preservation(&self.alone, &self.out, s(8.5)..s(12.0), 48);
        let dt = preservation(&self.alone, &self.out, s(12.5)..s(20.0), 48);
        let muted = gating(&self.alone, &self.out, s(12.5)..s(20.0)).muted_share * 100.0;
        format!(
            "{:.1} / {:.1} / {:.1} dB | {:.3} / {:+.1} dB / {:.1} dB | {:.3} / {:+.1} dB / {:.1} dB / {muted:.0}% muted | {:.1}",
            erle_db(echo, &self.out, s(20.5)..s(21.5)),
            erle_db(echo, &self.out, s(21.5)..s(22.5)),
            erle_db(echo, &self.out, s(22.5)..s(24.0)),
            alone.correlation,
            alone.level_db,
            alone.sdr_db(),
            dt.correlation,
            dt.level_db,
            dt.sdr_db(),
            self.spent.as_secs_f64() * 1000.0 / 24.0,
        )
    }
}

fn echo_run(make: &dyn Fn() -> Box<dyn Processor>, far: &[i16], near: &[i16], mic: &[i16]) -> EchoRun {
    let mut p = make();
    let (out, spent) = run(p.as_mut(), far, mic);
    let (alone, _) = run(make().as_mut(), &vec![0; far.len()], near);
    EchoRun { name: p.name(), out, alone, spent }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let wav_dir = arg("--wav");
    if let Some(dir) = &wav_dir {
        std::fs::create_dir_all(dir).expect("--wav DIR");
    }
    let load = |p: PathBuf| {
        let (rate, v) = media::wav::read(&p).expect("read WAV");
        assert_eq!(rate, RATE, "{}: need 48 kHz", p.display());
        v
    };
    let talkers = Talkers {
        far: arg("--far").map(load).unwrap_or_else(|| speech(11, Voice::LOW, 20.0, RATE)),
        near: arg("--near").map(load).unwrap_or_else(|| speech(22, Voice::HIGH, 12.0, RATE)),
    };
    let (far, near) = call(&talkers);

    println!("## Echo: AEC only (with its high-pass filter), 24 s call, double talk 12-20 s\n");
    println!("ERLE: echo in the microphone against what is left of it, in far-end-only stretches.");
    println!("Near end: the processed call against the near end processed alone by the same kind of");
    println!("processor (so the linear path, high-pass filter and band splitting, cancels out):");
    println!("correlation / level change / signal-to-distortion ratio; in double talk also the share");
    println!("of 20 ms near-end frames more than 10 dB down (muted).\n");
    println!("| echo path | canceller | ERLE 1-2 s | ERLE 4-8 s | after double talk: 20.5-21.5 / 21.5-22.5 / 22.5-24 s | near end alone 8.5-12 s | double talk 12.5-20 s | CPU ms per s of audio |");
    println!("|---|---|---|---|---|---|---|---|");
    let paths = [(40.0, 6.0), (80.0, 12.0), (120.0, 20.0), (120.0, 6.0)];
    type Make = Box<dyn Fn() -> Box<dyn Processor>>;
    let aec_only: Vec<Make> = vec![Box::new(|| sonora("AEC", true, false, false)), Box::new(|| Box::new(Aec3::new("AEC", true, false, false)))];
    for (delay, atten) in paths {
        let mut path = EchoPath::new(RATE, delay, atten, 50.0, 7);
        let echo = path.play(&far);
        let mic = with_echo(&near, &echo);
        for make in &aec_only {
            let r = echo_run(make.as_ref(), &far, &near, &mic);
            println!(
                "| {delay} ms, -{atten} dB | {} | {:.1} dB | {:.1} dB | {} |",
                r.name,
                erle_db(&echo, &r.out, s(1.0)..s(2.0)),
                erle_db(&echo, &r.out, s(4.0)..s(8.0)),
                r.shared_cells(&echo),
            );
            if let Some(dir) = &wav_dir {
                let tag = format!("{}-{delay}ms-{atten}dB", r.name.split(' ').next().unwrap());
                media::wav::write(&dir.join(format!("mic-{delay}ms-{atten}dB.wav")), RATE, &mic).unwrap();
                media::wav::write(&dir.join(format!("out-{tag}.wav")), RATE, &r.out).unwrap();
            }
        }
    }

    println!("\n## Echo: whole chain (AEC + NS + AGC), 80 ms, -12 dB\n");
    println!("| processor | ERLE 4-8 s | after double talk: 20.5-21.5 / 21.5-22.5 / 22.5-24 s | near end alone 8.5-12 s | double talk 12.5-20 s | CPU ms per s of audio |");
    println!("|---|---|---|---|---|---|");
    let mut path = EchoPath::new(RATE, 80.0, 12.0, 50.0, 7);
    let echo = path.play(&far);
    let mic = with_echo(&near, &echo);
    let chain: Vec<Make> = vec![Box::new(|| sonora("AEC+NS+AGC", true, true, true)), Box::new(|| Box::new(Aec3::new("AEC+NS+AGC", true, true, true)))];
    for make in &chain {
        let r = echo_run(make.as_ref(), &far, &near, &mic);
        println!("| {} | {:.1} dB | {} |", r.name, erle_db(&echo, &r.out, s(4.0)..s(8.0)), r.shared_cells(&echo));
    }

    println!("\n## Noise: near-end speech + white noise 10 dB below the active speech, no echo\n");
    println!("SNR: the signal compared with the clean speech (after the suppressor: with the clean speech");
    println!("through the same suppressor, so its linear path cancels out); everything that is not the");
    println!("speech counts as noise, distortion of the speech included. Pauses: level change of the noise");
    println!("where nobody speaks.\n");
    println!("| suppressor | SNR in | SNR out | improvement | noise in pauses | speech level | CPU ms per s of audio |");
    println!("|---|---|---|---|---|---|---|");
    let clean: Vec<i16> = talkers.near.iter().cycle().take(s(12.0)).copied().collect();
    let noise = white_noise(5, clean.len(), -30.0);
    let noisy = mix(&clean, &noise);
    let silence = vec![0i16; clean.len()];
    let measured = s(3.0)..s(12.0);
    let snr_in = voicesim::snr_db(&clean, &noisy, measured.clone(), 0);
    // Pauses: 10 ms blocks where the clean speech is below -60 dBFS.
    let pauses: Vec<usize> = measured.clone().step_by(CHUNK).filter(|&b| dbfs(&clean[b..b + CHUNK]) < -60.0).collect();
    let pause_level = |x: &[i16]| {
        let p: f64 = pauses.iter().map(|&b| x[b..b + CHUNK].iter().map(|&v| f64::from(v).powi(2)).sum::<f64>()).sum();
        10.0 * (p / (pauses.len() * CHUNK) as f64).log10()
    };
    let suppressors: Vec<Make> = vec![
        Box::new(|| sonora("NS (moderate)", false, true, false)),
        Box::new(|| Box::new(Aec3::new("NS (12 dB)", false, true, false))),
        Box::new(|| Box::new(Rnnoise(nnnoiseless::DenoiseState::new()))),
    ];
    if let Some(dir) = &wav_dir {
        media::wav::write(&dir.join("noisy.wav"), RATE, &noisy).unwrap();
        media::wav::write(&dir.join("clean.wav"), RATE, &clean).unwrap();
    }
    for make in &suppressors {
        let mut p = make();
        let (out, spent) = run(p.as_mut(), &silence, &noisy);
        let (reference, _) = run(make().as_mut(), &silence, &clean);
        let fit = preservation(&reference, &out, measured.clone(), 960);
        println!(
            "| {} | {snr_in:.1} dB | {:.1} dB | {:+.1} dB | {:+.1} dB | {:+.1} dB | {:.1} |",
            p.name(),
            fit.sdr_db(),
            fit.sdr_db() - snr_in,
            pause_level(&out) - pause_level(&noisy),
            fit.level_db,
            spent.as_secs_f64() * 1000.0 / 12.0
        );
        if let Some(dir) = &wav_dir {
            let tag = p.name().split(' ').next().unwrap().to_owned();
            media::wav::write(&dir.join(format!("denoised-{tag}.wav")), RATE, &out).unwrap();
        }
    }
}

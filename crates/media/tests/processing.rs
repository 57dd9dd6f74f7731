//! Voice processing (media::processing) on simulated calls: the echo canceller removes a
//! loudspeaker echo and keeps the near-end talker, the noise suppressor improves the SNR, the
//! gain control levels a quiet talker, and each stage can be switched off, also mid-call.
//!
//! Figures are printed; `cargo test -p media --test processing -- --nocapture` shows them.
//! Everything is synthetic and seeded (media::voicesim), so a run repeats.

use media::processing::{ProcessingSettings, VoiceProcessor, CHUNK};
use media::voicesim::{self, dbfs, erle_db, gating, mix, pink_noise, preservation, speech, white_noise, with_echo, EchoPath, Voice};

const RATE: u32 = 48_000;
/// The engine's frame: 20 ms.
const FRAME: usize = 960;

fn s(sec: f64) -> usize {
    (sec * f64::from(RATE)) as usize
}

const AEC_ONLY: ProcessingSettings = ProcessingSettings { echo_cancellation: true, noise_suppression: false, gain_control: false };

/// Runs a processor over a call in the engine's 20 ms frames, as the media clock does: the
/// frame played first (the reference), then the frame captured.
fn run(p: &mut VoiceProcessor, far: &[i16], mic: &[i16]) -> Vec<i16> {
    let mut out = mic.to_vec();
    for (f, m) in far.chunks_exact(FRAME).zip(out.chunks_exact_mut(FRAME)) {
        p.process_render(f);
        p.process_capture(m);
    }
    out
}

/// A 24 s call: the far end talks 0–8 s and 12–24 s, the near end 8–20 s (double talk
/// 12–20 s). Returns (far, near).
fn call() -> (Vec<i16>, Vec<i16>) {
    let far_talk = speech(11, Voice::LOW, 20.0, RATE);
    let near_talk = speech(22, Voice::HIGH, 12.0, RATE);
    let mut far = vec![0i16; s(24.0)];
    let mut near = vec![0i16; s(24.0)];
    far[..s(8.0)].copy_from_slice(&far_talk[..s(8.0)]);
    far[s(12.0)..].copy_from_slice(&far_talk[s(8.0)..]);
    near[s(8.0)..s(20.0)].copy_from_slice(&near_talk);
    (far, near)
}

struct EchoFigures {
    converged_erle: f64,
    after_double_talk_erle: f64,
    /// The near end alone (8.5–12 s) against the near end through a processor that never
    /// heard an echo.
    alone_correlation: f64,
    /// The same in double talk (12.5–20 s).
    double_talk: voicesim::Preservation,
    double_talk_gating: voicesim::Gating,
}

fn echo_call(settings: ProcessingSettings, delay_ms: f64, attenuation_db: f64) -> EchoFigures {
    let (far, near) = call();
    let echo = EchoPath::new(RATE, delay_ms, attenuation_db, 50.0, 7).play(&far);
    let mic = with_echo(&near, &echo);
    let out = run(&mut VoiceProcessor::new(settings), &far, &mic);
    // The reference for the near end: the same processing with no far end and no echo, so
    // the linear part of the path (high-pass filter, band splitting) is in both.
    let alone = run(&mut VoiceProcessor::new(settings), &vec![0; far.len()], &near);
    let figures = EchoFigures {
        converged_erle: erle_db(&echo, &out, s(4.0)..s(8.0)),
        after_double_talk_erle: erle_db(&echo, &out, s(22.5)..s(24.0)),
        alone_correlation: preservation(&alone, &out, s(8.5)..s(12.0), 48).correlation,
        double_talk: preservation(&alone, &out, s(12.5)..s(20.0), 48),
        double_talk_gating: gating(&alone, &out, s(12.5)..s(20.0)),
    };
    println!(
        "{settings:?}, echo path {delay_ms} ms, -{attenuation_db} dB: ERLE {:.1} dB after convergence (4-8 s), {:.1} dB after double talk (22.5-24 s); \
         near end alone: correlation {:.3}; double talk: correlation {:.3}, level {:+.1} dB, median frame {:+.1} dB, {:.0}% of {} frames muted (>10 dB down)",
        figures.converged_erle,
        figures.after_double_talk_erle,
        figures.alone_correlation,
        figures.double_talk.correlation,
        figures.double_talk.level_db,
        figures.double_talk_gating.median_db,
        figures.double_talk_gating.muted_share * 100.0,
        figures.double_talk_gating.frames,
    );
    figures
}

/// ERLE of at least 20 dB once converged, on short and long, loud and quiet echo paths; the
/// near end kept.
///
/// The near-end bounds: alone, the near end must come out as it would with no echo at all
/// (correlation ≥ 0.99; measured 1.000). In double talk AEC3's suppressor lowers the bands
/// where it expects echo, so some of the near end goes too (measured, with these synthetic
/// talkers that overlap more than real voices: correlation 0.75–0.82, level −2 to −3 dB,
/// about 25–30% of the frames more than 10 dB down). A half-duplex canceller that muted the
/// near end whenever the far end talks would give a correlation near 0, a level around
/// −10 dB or lower and most frames muted; the bounds (correlation ≥ 0.6, level ≥ −6 dB,
/// median frame ≥ −3 dB, at most 45% of frames muted) leave room for floating-point
/// differences between machines and catch that.
#[test]
fn echo_is_cancelled_after_convergence_and_the_near_end_is_kept() {
    for (delay, attenuation) in [(40.0, 6.0), (80.0, 12.0), (120.0, 20.0)] {
        let f = echo_call(AEC_ONLY, delay, attenuation);
        assert!(f.converged_erle >= 20.0, "{delay} ms: ERLE {:.1} dB", f.converged_erle);
        assert!(f.after_double_talk_erle >= 20.0, "{delay} ms: ERLE after double talk {:.1} dB", f.after_double_talk_erle);
        assert!(f.alone_correlation >= 0.99, "{delay} ms: near end alone {:.3}", f.alone_correlation);
        assert!(f.double_talk.correlation >= 0.6, "{delay} ms: double talk {:?}", f.double_talk);
        assert!(f.double_talk.level_db >= -6.0, "{delay} ms: double talk {:?}", f.double_talk);
        assert!(f.double_talk_gating.median_db >= -3.0, "{delay} ms: {:?}", f.double_talk_gating);
        assert!(f.double_talk_gating.muted_share <= 0.45, "{delay} ms: {:?}", f.double_talk_gating);
    }
}

/// The phone's default: every stage on. Noise suppression and gain control come after the
/// canceller and must not bring the echo back.
#[test]
fn the_whole_chain_cancels_the_echo_too() {
    let f = echo_call(ProcessingSettings::default(), 80.0, 12.0);
    assert!(f.converged_erle >= 20.0, "ERLE {:.1} dB", f.converged_erle);
    assert!(f.after_double_talk_erle >= 20.0, "ERLE after double talk {:.1} dB", f.after_double_talk_erle);
    assert!(f.alone_correlation >= 0.95, "near end alone {:.3}", f.alone_correlation);
    assert!(f.double_talk.correlation >= 0.6 && f.double_talk.level_db >= -6.0, "{:?}", f.double_talk);
}

/// With the canceller off the echo goes through (ERLE about 0 dB; gain control may even
/// raise it), and with everything off the audio is not touched at all.
#[test]
fn with_echo_cancellation_off_the_echo_stays() {
    let (far, near) = call();
    let echo = EchoPath::new(RATE, 80.0, 12.0, 50.0, 7).play(&far);
    let mic = with_echo(&near, &echo);

    let off = run(&mut VoiceProcessor::new(ProcessingSettings::OFF), &far, &mic);
    assert_eq!(off, mic, "everything off: untouched");
    let erle_off = erle_db(&echo, &off, s(4.0)..s(8.0));

    let no_aec = ProcessingSettings { echo_cancellation: false, ..ProcessingSettings::default() };
    let out = run(&mut VoiceProcessor::new(no_aec), &far, &mic);
    let erle_no_aec = erle_db(&echo, &out, s(4.0)..s(8.0));
    println!("ERLE with everything off {erle_off:.2} dB; with noise suppression and gain control but no echo cancellation {erle_no_aec:.1} dB");
    assert!(erle_off.abs() < 0.1, "{erle_off}");
    assert!(erle_no_aec < 3.0, "the echo should stay: ERLE {erle_no_aec:.1} dB");
}

/// Stages switch live: turning the canceller off mid-call lets the echo through from the
/// next frame on, and turning it back on cancels again within seconds. Like WebRTC's, the
/// library starts its stages afresh when the set of stages changes, so switching another
/// stage makes the canceller learn the room again: it is back above 20 dB after a second.
#[test]
fn stages_switch_during_a_call() {
    let far = speech(11, Voice::LOW, 20.0, RATE);
    let echo = EchoPath::new(RATE, 80.0, 12.0, 50.0, 7).play(&far);
    let mic = with_echo(&vec![0; far.len()], &echo);
    let mut p = VoiceProcessor::new(ProcessingSettings::default());
    let mut out = mic.clone();
    for (i, (f, m)) in far.chunks_exact(FRAME).zip(out.chunks_exact_mut(FRAME)).enumerate() {
        let at = i * FRAME;
        if at == s(5.0) {
            p.set_settings(ProcessingSettings { noise_suppression: false, ..ProcessingSettings::default() });
        } else if at == s(8.0) {
            p.set_settings(ProcessingSettings::OFF);
        } else if at == s(12.0) {
            p.set_settings(ProcessingSettings::default());
        }
        p.process_render(f);
        p.process_capture(m);
    }
    assert_eq!(p.settings(), ProcessingSettings::default());
    let before = erle_db(&echo, &out, s(3.0)..s(5.0));
    let relearning = erle_db(&echo, &out, s(5.0)..s(6.0));
    let ns_off = erle_db(&echo, &out, s(6.0)..s(8.0));
    let off = erle_db(&echo, &out, s(8.0)..s(12.0));
    let back_on = erle_db(&echo, &out, s(15.0)..s(20.0));
    println!(
        "ERLE: all on {before:.1} dB; noise suppression off: {relearning:.1} dB the first second, {ns_off:.1} dB the next two; all off {off:.2} dB; 3-8 s after all on again {back_on:.1} dB"
    );
    assert!(before >= 20.0 && ns_off >= 20.0, "{before} {ns_off}");
    assert!(off.abs() < 0.1, "{off}");
    assert_eq!(out[s(8.0)..s(12.0)], mic[s(8.0)..s(12.0)]);
    assert!(back_on >= 20.0, "{back_on}");
}

/// Speech plus stationary noise 10 dB below the speech: the SNR after the suppressor (all
/// that is not the speech counts as noise, distortion of the speech included) goes up, the
/// noise in pauses goes down, the speech keeps its level.
#[test]
fn noise_suppression_improves_the_snr() {
    let clean = speech(22, Voice::HIGH, 12.0, RATE);
    let silence = vec![0i16; clean.len()];
    let measured = s(3.0)..s(12.0);
    let pauses: Vec<usize> = measured.clone().step_by(CHUNK).filter(|&b| dbfs(&clean[b..b + CHUNK]) < -60.0).collect();
    let pause_db = |x: &[i16]| {
        let p: f64 = pauses.iter().map(|&b| x[b..b + CHUNK].iter().map(|&v| f64::from(v).powi(2)).sum::<f64>()).sum();
        10.0 * (p / (pauses.len() * CHUNK) as f64).log10()
    };
    let ns = ProcessingSettings { echo_cancellation: false, noise_suppression: true, gain_control: false };
    for (kind, noise) in [("white", white_noise(5, clean.len(), -30.0)), ("pink", pink_noise(6, clean.len(), -30.0))] {
        let noisy = mix(&clean, &noise);
        let snr_in = voicesim::snr_db(&clean, &noisy, measured.clone(), 0);
        let out = run(&mut VoiceProcessor::new(ns), &silence, &noisy);
        // The clean speech through the same suppressor: its linear path (high-pass filter,
        // band splitting, delay) is then in the reference too.
        let reference = run(&mut VoiceProcessor::new(ns), &silence, &clean);
        let fit = preservation(&reference, &out, measured.clone(), 960);
        let snr_out = fit.sdr_db();
        let pauses_change = pause_db(&out) - pause_db(&noisy);
        println!(
            "{kind} noise: SNR {snr_in:.1} dB -> {snr_out:.1} dB ({:+.1} dB); noise in pauses {pauses_change:+.1} dB; speech level {:+.1} dB",
            snr_out - snr_in,
            fit.level_db
        );
        assert!(snr_out - snr_in >= 4.0, "{kind}: SNR {snr_in:.1} -> {snr_out:.1} dB");
        assert!(pauses_change <= -6.0, "{kind}: pauses {pauses_change:+.1} dB");
        assert!(fit.level_db.abs() <= 2.0, "{kind}: speech level {:+.1} dB", fit.level_db);

        let off = run(&mut VoiceProcessor::new(ProcessingSettings::OFF), &silence, &noisy);
        assert_eq!(off, noisy, "{kind}: suppression off leaves the noise");
    }
}

/// A quiet talker (−40 dBFS while speaking) is brought up by the gain control, and left as
/// it is with the gain control off.
#[test]
fn gain_control_raises_a_quiet_talker() {
    let loud = speech(33, Voice::LOW, 12.0, RATE);
    let quiet: Vec<i16> = loud.iter().map(|&v| (f64::from(v) * 0.1).round() as i16).collect();
    let silence = vec![0i16; quiet.len()];
    let agc = ProcessingSettings { echo_cancellation: false, noise_suppression: false, gain_control: true };
    let up = run(&mut VoiceProcessor::new(agc), &silence, &quiet);
    let gain = dbfs(&up[s(6.0)..]) - dbfs(&quiet[s(6.0)..]);
    let plain = ProcessingSettings { echo_cancellation: false, noise_suppression: true, gain_control: false };
    let same = run(&mut VoiceProcessor::new(plain), &silence, &quiet);
    let no_gain = dbfs(&same[s(6.0)..]) - dbfs(&quiet[s(6.0)..]);
    println!("a talker at -40 dBFS: {gain:+.1} dB with gain control, {no_gain:+.1} dB without");
    assert!(gain >= 6.0, "{gain:+.1} dB");
    assert!(no_gain.abs() <= 1.5, "{no_gain:+.1} dB");
}

/// Frames that are not whole 10 ms chunks are not lost: the remainder passes unchanged.
#[test]
fn odd_frame_lengths_pass_the_remainder() {
    let mut p = VoiceProcessor::new(ProcessingSettings::default());
    let far = speech(1, Voice::LOW, 0.1, RATE);
    p.process_render(&far[..700]);
    let mut mic = far[..700].to_vec();
    p.process_capture(&mut mic);
    assert_eq!(mic[480..], far[480..700]);
}

#[test]
fn settings_serialise_with_defaults() {
    let on = ProcessingSettings::default();
    assert_eq!(on, ProcessingSettings::ON);
    assert!(on.echo_cancellation && on.noise_suppression && on.gain_control);
    assert!(!ProcessingSettings::OFF.any());
    let _ = format!("{:?}", VoiceProcessor::new(on));
    let json = serde_json::to_string(&on).unwrap();
    assert_eq!(json, r#"{"echoCancellation":true,"noiseSuppression":true,"gainControl":true}"#);
    // Missing fields take their default (on): settings saved before a stage existed load.
    let partial: ProcessingSettings = serde_json::from_str(r#"{"noiseSuppression":false}"#).unwrap();
    assert_eq!(partial, ProcessingSettings { noise_suppression: false, ..ProcessingSettings::ON });
}

//! Runs a 48 kHz mono WAV through the phone's microphone processing, as a call would, and
//! writes the result: for judging the processing by ear or by PESQ.
//!
//!     cargo run --release -p media --example process_wav -- IN.wav OUT.wav \
//!         [--stages aec,ns,agc] [--far FAR.wav | --self-echo MS]
//!
//! `--far` plays FAR.wav to the speaker (the canceller's reference) while IN.wav is the
//! microphone; `--self-echo MS` makes the far end IN.wav itself, MS late (what an echo test
//! number does). Without either the far end is silent.

use media::processing::{ProcessingSettings, VoiceProcessor, CHUNK, RATE};
use std::path::Path;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, ..] = args.as_slice() else {
        return Err("usage: process_wav IN.wav OUT.wav [--stages aec,ns,agc] [--far FAR.wav | --self-echo MS]".into());
    };
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let near = read(input)?;
    let far = match (flag("--far"), flag("--self-echo")) {
        (Some(path), _) => read(&path)?,
        (None, Some(ms)) => delayed(&near, ms.parse::<usize>().map_err(|e| format!("--self-echo {ms}: {e}"))?),
        (None, None) => vec![0; near.len()],
    };
    let settings = stages(flag("--stages").as_deref().unwrap_or("aec,ns,agc"))?;
    let processed = process(settings, &near, &far);
    media::wav::write(Path::new(output), RATE, &processed).map_err(|e| format!("{output}: {e}"))
}

fn read(path: &str) -> Result<Vec<i16>, String> {
    let (rate, samples) = media::wav::read(Path::new(path)).map_err(|e| format!("{path}: {e}"))?;
    if rate != RATE {
        return Err(format!("{path}: {rate} Hz, expected {RATE}"));
    }
    Ok(samples)
}

fn delayed(signal: &[i16], ms: usize) -> Vec<i16> {
    let lag = ms * RATE as usize / 1000;
    std::iter::repeat_n(0, lag).chain(signal.iter().copied()).take(signal.len()).collect()
}

fn stages(list: &str) -> Result<ProcessingSettings, String> {
    let mut settings = ProcessingSettings::OFF;
    for stage in list.split(',').filter(|s| !s.is_empty()) {
        match stage {
            "aec" => settings.echo_cancellation = true,
            "ns" => settings.noise_suppression = true,
            "agc" => settings.gain_control = true,
            other => return Err(format!("--stages: unknown stage {other}; use aec, ns, agc")),
        }
    }
    Ok(settings)
}

/// Far end to the speaker first, then the microphone, 10 ms at a time, as the engine does.
fn process(settings: ProcessingSettings, near: &[i16], far: &[i16]) -> Vec<i16> {
    let mut processor = VoiceProcessor::new(settings);
    let mut out = Vec::with_capacity(near.len());
    for (mic, speaker) in near.chunks_exact(CHUNK).zip(far.chunks_exact(CHUNK)) {
        processor.process_render(speaker);
        let mut chunk = mic.to_vec();
        processor.process_capture(&mut chunk);
        out.extend_from_slice(&chunk);
    }
    out
}

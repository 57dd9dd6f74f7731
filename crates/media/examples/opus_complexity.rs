//! Encodes and decodes a 48 kHz mono WAV with Opus at each complexity, writing the decoded
//! audio and printing the CPU time per second of audio: for choosing the encoder's complexity.
//!
//!     cargo run --release -p media --example opus_complexity -- IN.wav OUT_DIR

use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else { return Err("usage: opus_complexity IN.wav OUT_DIR".into()) };
    let (rate, pcm) = media::wav::read(Path::new(input)).map_err(|e| format!("{input}: {e}"))?;
    if rate != 48_000 {
        return Err(format!("{input}: {rate} Hz, expected 48000"));
    }
    let seconds = pcm.len() as f64 / 48_000.0;
    for complexity in [10, 9, 8, 7, 6, 5] {
        let mut encoder = opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).map_err(|e| e.to_string())?;
        encoder.set_inband_fec(true).map_err(|e| e.to_string())?;
        encoder.set_packet_loss_perc(5).map_err(|e| e.to_string())?;
        encoder.set_complexity(complexity).map_err(|e| e.to_string())?;
        let mut decoder = opus::Decoder::new(48_000, opus::Channels::Mono).map_err(|e| e.to_string())?;
        let (mut packet, mut decoded, mut frame) = (vec![0u8; 1500], Vec::with_capacity(pcm.len()), vec![0i16; 960]);
        let started = Instant::now();
        let mut encode_time = 0.0;
        for chunk in pcm.chunks_exact(960) {
            let t = Instant::now();
            let n = encoder.encode(chunk, &mut packet).map_err(|e| e.to_string())?;
            encode_time += t.elapsed().as_secs_f64();
            let m = decoder.decode(&packet[..n], &mut frame, false).map_err(|e| e.to_string())?;
            decoded.extend_from_slice(&frame[..m]);
        }
        let total = started.elapsed().as_secs_f64();
        let path = Path::new(out_dir).join(format!("opus-c{complexity}.wav"));
        media::wav::write(&path, 48_000, &decoded).map_err(|e| e.to_string())?;
        println!("complexity {complexity}: encode {:.2} ms, encode+decode {:.2} ms per second of audio -> {}", encode_time * 1000.0 / seconds, total * 1000.0 / seconds, path.display());
    }
    Ok(())
}

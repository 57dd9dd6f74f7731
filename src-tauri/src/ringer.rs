//! The ringtone (an inbound call rings) and the ringback tone (our call rings at the far end):
//! the app plays them itself, as the seed SDK leaves that to the application.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use webphone::audio::{AudioIo, FRAME, SAMPLE_RATE};

/// Which tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    /// A call rings in: a bright double ring, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off.
    Ring,
    /// Our call rings at the far end: 440 + 480 Hz, 2 s on, 4 s off (the North American
    /// ringback).
    Ringback,
}

/// 20 ms frames of `tone`, frame number `n` since it started.
pub fn frame(tone: Tone, n: u64) -> Vec<i16> {
    let ms = n * 20;
    let (on, freqs, amplitude): (bool, [f64; 2], f64) = match tone {
        Tone::Ring => {
            let t = ms % 3000;
            (t < 400 || (600..1000).contains(&t), [880.0, 1100.0], 6000.0)
        }
        Tone::Ringback => (ms % 6000 < 2000, [440.0, 480.0], 4000.0),
    };
    if !on {
        return vec![0; FRAME];
    }
    let start = n * FRAME as u64;
    (0..FRAME as u64)
        .map(|i| {
            let t = (start + i) as f64 / f64::from(SAMPLE_RATE);
            let s: f64 = freqs.iter().map(|f| (2.0 * std::f64::consts::PI * f * t).sin()).sum::<f64>() / 2.0;
            (s * amplitude) as i16
        })
        .collect()
}

/// Plays one tone at a time on the ring device.
pub struct Ringer {
    audio: Arc<dyn AudioIo>,
    device: Option<String>,
    playing: Mutex<Option<(Tone, tauri::async_runtime::JoinHandle<()>)>>,
}

impl Ringer {
    /// A ringer playing on `device` (the default output when `None`).
    pub fn new(audio: Arc<dyn AudioIo>, device: Option<String>) -> Ringer {
        Ringer { audio, device, playing: Mutex::new(None) }
    }

    /// Plays `tone` (or nothing), replacing what played before. A missing ring device is
    /// reported, and the call still rings on screen.
    pub fn set(&self, tone: Option<Tone>) -> Result<(), String> {
        let mut playing = self.playing.lock().unwrap();
        if playing.as_ref().map(|(t, _)| *t) == tone {
            return Ok(());
        }
        if let Some((_, task)) = playing.take() {
            task.abort();
        }
        let Some(tone) = tone else { return Ok(()) };
        let mut sink = self.audio.open_output(self.device.as_deref()).map_err(|e| format!("the ringtone cannot play: {e}"))?;
        let task = tauri::async_runtime::spawn(async move {
            let mut clock = tokio::time::interval(Duration::from_millis(20));
            for n in 0.. {
                clock.tick().await;
                sink.write(&frame(tone, n));
            }
        });
        *playing = Some((tone, task));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loud(tone: Tone, from_ms: u64, to_ms: u64) -> bool {
        (from_ms / 20..to_ms / 20).all(|n| frame(tone, n).iter().any(|s| s.unsigned_abs() > 1000))
    }

    fn quiet(tone: Tone, from_ms: u64, to_ms: u64) -> bool {
        (from_ms / 20..to_ms / 20).all(|n| frame(tone, n).iter().all(|s| *s == 0))
    }

    #[test]
    fn cadences_are_right() {
        assert!(loud(Tone::Ringback, 0, 2000) && quiet(Tone::Ringback, 2000, 6000) && loud(Tone::Ringback, 6000, 8000));
        assert!(loud(Tone::Ring, 0, 400) && quiet(Tone::Ring, 400, 600) && loud(Tone::Ring, 600, 1000) && quiet(Tone::Ring, 1000, 3000));
        let (f, _) = media::tone::dominant_frequency(&(0..25).flat_map(|n| frame(Tone::Ringback, n)).collect::<Vec<_>>(), SAMPLE_RATE, 300, 600, 5);
        assert!(f == 440 || f == 480, "{f}");
    }
}

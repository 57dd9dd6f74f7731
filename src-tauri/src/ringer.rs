//! The ringtone (an inbound call rings) and the ringback tone (our call rings at the far end):
//! the app plays them itself, as the seed SDK leaves that to the application.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use webphone::audio::{AudioIo, FRAME, SAMPLE_RATE};

/// Which tone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    /// A call rings in: the chosen [`Ringtone`].
    Ring,
    /// Our call rings at the far end: 440 + 480 Hz, 2 s on, 4 s off (the North American
    /// ringback).
    Ringback,
}

/// The ringtones the user can choose from, all made here (no sound files to ship).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ringtone {
    /// A bright double ring: 880 + 1100 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off.
    #[default]
    Double,
    /// The classic North American ring: 440 + 480 Hz, 2 s on, 4 s off.
    Classic,
    /// Three short rising chirps (1000, 1250, 1500 Hz, 0.12 s each), then 2.5 s off.
    Chirp,
}

/// How the ring device is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingSettings {
    /// The output to ring on (`None`: the default).
    pub device: Option<String>,
    /// The ringtone of inbound calls.
    pub ringtone: Ringtone,
    /// 0..=100.
    pub volume: u8,
}

/// Whether the tone sounds at `ms` into its cadence, and at which two frequencies.
fn cadence(tone: Tone, ringtone: Ringtone, ms: u64) -> Option<[f64; 2]> {
    match (tone, ringtone) {
        (Tone::Ringback, _) | (Tone::Ring, Ringtone::Classic) => (ms % 6000 < 2000).then_some([440.0, 480.0]),
        (Tone::Ring, Ringtone::Double) => {
            let t = ms % 3000;
            (t < 400 || (600..1000).contains(&t)).then_some([880.0, 1100.0])
        }
        (Tone::Ring, Ringtone::Chirp) => {
            let t = ms % 2860;
            let f = [1000.0, 1250.0, 1500.0].get((t / 120) as usize).copied()?;
            Some([f, f * 2.0])
        }
    }
}

/// 20 ms frames of `tone` (inbound calls ring with `ringtone`) at `volume` (0..=100), frame
/// number `n` since it started.
pub fn frame(tone: Tone, ringtone: Ringtone, volume: u8, n: u64) -> Vec<i16> {
    let Some(freqs) = cadence(tone, ringtone, n * 20) else { return vec![0; FRAME] };
    let full_scale = match tone {
        Tone::Ring => 12000.0,
        Tone::Ringback => 4000.0,
    };
    let amplitude = full_scale * f64::from(volume.min(100)) / 100.0;
    let start = n * FRAME as u64;
    (0..FRAME as u64)
        .map(|i| {
            let t = (start + i) as f64 / f64::from(SAMPLE_RATE);
            let s: f64 = freqs.iter().map(|f| (2.0 * std::f64::consts::PI * f * t).sin()).sum::<f64>() / 2.0;
            (s * amplitude) as i16
        })
        .collect()
}

/// Plays one tone at a time: the ringtone on the ring device, the ringback tone on the speaker.
pub struct Ringer {
    audio: Arc<dyn AudioIo>,
    settings: Mutex<RingSettings>,
    /// The speaker of calls, where the ringback tone plays (as a call's own audio would).
    speaker: Mutex<Option<String>>,
    playing: Mutex<Option<(Tone, tauri::async_runtime::JoinHandle<()>)>>,
}

impl Ringer {
    /// A ringer set up as `settings`, with the ringback tone on `speaker`.
    pub fn new(audio: Arc<dyn AudioIo>, settings: RingSettings, speaker: Option<String>) -> Ringer {
        Ringer { audio, settings: Mutex::new(settings), speaker: Mutex::new(speaker), playing: Mutex::new(None) }
    }

    /// Changes the ring device, ringtone and volume (from the next ring on), and the speaker.
    pub fn configure(&self, settings: RingSettings, speaker: Option<String>) {
        *self.settings.lock().unwrap() = settings;
        *self.speaker.lock().unwrap() = speaker;
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
        let settings = self.settings.lock().unwrap().clone();
        let device = match tone {
            Tone::Ring => settings.device.clone(),
            Tone::Ringback => self.speaker.lock().unwrap().clone(),
        };
        let task = self.play(tone, &settings, device.as_deref(), None)?;
        *playing = Some((tone, task));
        Ok(())
    }

    /// Plays the ringtone of `settings` once through its cadence (about 3 s) on its device:
    /// the settings' "test" button.
    pub fn test(&self, settings: &RingSettings) -> Result<(), String> {
        self.play(Tone::Ring, settings, settings.device.as_deref(), Some(150)).map(drop)
    }

    /// Starts playing `tone` on `device`, for `frames` 20 ms frames or until aborted.
    fn play(&self, tone: Tone, settings: &RingSettings, device: Option<&str>, frames: Option<u64>) -> Result<tauri::async_runtime::JoinHandle<()>, String> {
        let mut sink = self.audio.open_output(device).map_err(|e| format!("the ringtone cannot play: {e}"))?;
        let (ringtone, volume) = (settings.ringtone, settings.volume);
        Ok(tauri::async_runtime::spawn(async move {
            let mut clock = tokio::time::interval(Duration::from_millis(20));
            for n in 0..frames.unwrap_or(u64::MAX) {
                clock.tick().await;
                sink.write(&frame(tone, ringtone, volume, n));
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(tone: Tone, ringtone: Ringtone, from_ms: u64, to_ms: u64) -> impl Iterator<Item = Vec<i16>> {
        (from_ms / 20..to_ms / 20).map(move |n| frame(tone, ringtone, 100, n))
    }

    fn loud(tone: Tone, ringtone: Ringtone, from_ms: u64, to_ms: u64) -> bool {
        frames(tone, ringtone, from_ms, to_ms).all(|f| f.iter().any(|s| s.unsigned_abs() > 1000))
    }

    fn quiet(tone: Tone, ringtone: Ringtone, from_ms: u64, to_ms: u64) -> bool {
        frames(tone, ringtone, from_ms, to_ms).all(|f| f.iter().all(|s| *s == 0))
    }

    fn pitch(tone: Tone, ringtone: Ringtone, from_ms: u64, to_ms: u64, lo: u32, hi: u32) -> u32 {
        let samples: Vec<i16> = frames(tone, ringtone, from_ms, to_ms).flatten().collect();
        media::tone::dominant_frequency(&samples, SAMPLE_RATE, lo, hi, 5).0
    }

    #[test]
    fn cadences_and_pitches_are_right() {
        let (ring, back) = (Tone::Ring, Tone::Ringback);
        assert!(loud(back, Ringtone::Double, 0, 2000) && quiet(back, Ringtone::Double, 2000, 6000) && loud(back, Ringtone::Chirp, 6000, 8000));
        assert!([440, 480].contains(&pitch(back, Ringtone::Chirp, 0, 500, 300, 600)));
        let double = Ringtone::Double;
        assert!(loud(ring, double, 0, 400) && quiet(ring, double, 400, 600) && loud(ring, double, 600, 1000) && quiet(ring, double, 1000, 3000));
        assert!([880, 1100].contains(&pitch(ring, double, 0, 400, 700, 1300)));
        assert!(loud(ring, Ringtone::Classic, 0, 2000) && quiet(ring, Ringtone::Classic, 2000, 6000));
        let chirp = Ringtone::Chirp;
        assert!(loud(ring, chirp, 0, 360) && quiet(ring, chirp, 360, 2860) && loud(ring, chirp, 2860, 3200));
        assert_eq!(pitch(ring, chirp, 0, 120, 900, 1600), 1000);
        assert_eq!(pitch(ring, chirp, 240, 360, 900, 1600), 1500);
    }

    #[test]
    fn volume_scales_and_zero_is_silent() {
        let peak = |v: u8| frame(Tone::Ring, Ringtone::Double, v, 0).iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(peak(100) > 10000 && (peak(50) as i32 - peak(100) as i32 / 2).abs() < 200, "{} {}", peak(100), peak(50));
        assert_eq!(peak(0), 0);
        assert_eq!(peak(255), peak(100), "above 100 is 100");
    }
}

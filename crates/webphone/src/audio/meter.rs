//! Level meters: an [`AudioIo`] wrapper that notes how loud the microphone and the speaker
//! are, for the app's meters. The wrapped devices behave exactly as before.

use super::{AudioError, AudioIo, AudioSink, AudioSource, DeviceChange};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The latest levels, as the peak of the last 20 ms frame on a 0..=1 scale (stored as
/// millionths so that readers need no lock).
#[derive(Debug, Default)]
pub struct Levels {
    input: AtomicU32,
    output: AtomicU32,
}

impl Levels {
    /// Peak level of the last frame read from the microphone, 0..=1.
    pub fn input(&self) -> f32 {
        self.input.load(Ordering::Relaxed) as f32 / 1e6
    }

    /// Peak level of the last frame written to the speaker, 0..=1.
    pub fn output(&self) -> f32 {
        self.output.load(Ordering::Relaxed) as f32 / 1e6
    }
}

/// The peak of `frame` on a 0..=1 scale, in millionths.
fn peak_millionths(frame: &[i16]) -> u32 {
    let peak = frame.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    (u64::from(peak.min(32767)) * 1_000_000 / 32767) as u32
}

/// Wraps another [`AudioIo`] and measures what passes through it.
pub struct Metered {
    inner: Arc<dyn AudioIo>,
    levels: Arc<Levels>,
}

impl Metered {
    /// Meters `inner`; returns the wrapper and the levels it keeps up to date.
    pub fn new(inner: Arc<dyn AudioIo>) -> (Arc<Metered>, Arc<Levels>) {
        let levels = Arc::new(Levels::default());
        (Arc::new(Metered { inner, levels: levels.clone() }), levels)
    }
}

struct MeteredSource {
    inner: Box<dyn AudioSource>,
    levels: Arc<Levels>,
}

impl AudioSource for MeteredSource {
    fn read(&mut self, frame: &mut [i16]) {
        self.inner.read(frame);
        self.levels.input.store(peak_millionths(frame), Ordering::Relaxed);
    }

    fn device_change(&mut self) -> Option<DeviceChange> {
        self.inner.device_change()
    }
}

struct MeteredSink {
    inner: Box<dyn AudioSink>,
    levels: Arc<Levels>,
}

impl AudioSink for MeteredSink {
    fn write(&mut self, frame: &[i16]) {
        self.levels.output.store(peak_millionths(frame), Ordering::Relaxed);
        self.inner.write(frame);
    }

    fn device_change(&mut self) -> Option<DeviceChange> {
        self.inner.device_change()
    }
}

impl AudioIo for Metered {
    fn open_input(&self, device: Option<&str>) -> Result<Box<dyn AudioSource>, AudioError> {
        let inner = self.inner.open_input(device)?;
        Ok(Box::new(MeteredSource { inner, levels: self.levels.clone() }))
    }

    fn open_output(&self, device: Option<&str>) -> Result<Box<dyn AudioSink>, AudioError> {
        let inner = self.inner.open_output(device)?;
        Ok(Box::new(MeteredSink { inner, levels: self.levels.clone() }))
    }

    fn input_devices(&self) -> Vec<String> {
        self.inner.input_devices()
    }

    fn output_devices(&self) -> Vec<String> {
        self.inner.output_devices()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::test::{Input, Output, TestAudio};
    use crate::audio::FRAME;

    #[test]
    fn levels_follow_what_is_read_and_written() {
        let (audio, _heard) = TestAudio::new(Input::Tone(1000.0), Output::Discard);
        let (metered, levels) = Metered::new(audio);
        assert_eq!((levels.input(), levels.output()), (0.0, 0.0));
        let mut mic = metered.open_input(None).unwrap();
        let mut frame = vec![0i16; FRAME];
        mic.read(&mut frame);
        let expected = f32::from(frame.iter().map(|s| s.unsigned_abs()).max().unwrap()) / 32767.0;
        assert!(expected > 0.05 && (levels.input() - expected).abs() < 1e-3, "{} vs {expected}", levels.input());
        let mut speaker = metered.open_output(None).unwrap();
        speaker.write(&vec![16384; FRAME]);
        assert!((levels.output() - 0.5).abs() < 1e-3, "{}", levels.output());
        speaker.write(&vec![0; FRAME]);
        assert_eq!(levels.output(), 0.0);
        speaker.write(&vec![i16::MIN; FRAME]);
        assert_eq!(levels.output(), 1.0, "full scale, never above");
    }
}

//! Tone generation and detection: sine generators, the Goertzel algorithm, levels.

/// A sine generator at a fixed frequency and amplitude, producing 16-bit samples.
#[derive(Debug, Clone)]
pub struct Tone {
    step: f64,
    phase: f64,
    amplitude: f64,
}

impl Tone {
    /// A `freq` Hz tone at `rate` samples per second with peak `amplitude` (0..=32767).
    pub fn new(freq: f64, rate: u32, amplitude: i16) -> Self {
        Self { step: std::f64::consts::TAU * freq / f64::from(rate), phase: 0.0, amplitude: f64::from(amplitude) }
    }

    /// Fills `out` with the next samples.
    pub fn fill(&mut self, out: &mut [i16]) {
        for s in out {
            *s = (self.phase.sin() * self.amplitude) as i16;
            self.phase = (self.phase + self.step) % std::f64::consts::TAU;
        }
    }

    /// The next `n` samples.
    pub fn next_frame(&mut self, n: usize) -> Vec<i16> {
        let mut v = vec![0; n];
        self.fill(&mut v);
        v
    }
}

/// Power of `freq` in `samples` (Goertzel), normalised by the number of samples squared.
pub fn goertzel(samples: &[i16], freq: f64, rate: u32) -> f64 {
    let k = 2.0 * (std::f64::consts::TAU * freq / f64::from(rate)).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let n = samples.len().max(1) as f64;
    (s1 * s1 + s2 * s2 - k * s1 * s2) / (n * n)
}

/// Root mean square of `samples`.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// The strongest frequency between `lo` and `hi` Hz (in `step` Hz steps) and its share of
/// the total power scanned (1.0 for a pure tone, small for noise or silence).
pub fn dominant_frequency(samples: &[i16], rate: u32, lo: u32, hi: u32, step: u32) -> (u32, f64) {
    let mut best = (lo, 0.0f64);
    let mut total = 0.0;
    for f in (lo..=hi).step_by(step as usize) {
        let p = goertzel(samples, f64::from(f), rate);
        total += p;
        if p > best.1 {
            best = (f, p);
        }
    }
    (best.0, if total > 0.0 { best.1 / total } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_tone_it_generates() {
        let samples = Tone::new(1000.0, 48_000, 8000).next_frame(9600);
        let (f, share) = dominant_frequency(&samples, 48_000, 100, 4000, 10);
        assert_eq!(f, 1000);
        assert!(share > 0.2, "{share}");
        assert!((rms(&samples) - 8000.0 / 2f64.sqrt()).abs() < 50.0);
        assert!(goertzel(&samples, 1000.0, 48_000) > 100.0 * goertzel(&samples, 440.0, 48_000));
    }

    #[test]
    fn silence_has_no_dominant_share() {
        assert_eq!(dominant_frequency(&[0; 960], 48_000, 100, 4000, 10).1, 0.0);
        assert_eq!(rms(&[]), 0.0);
    }
}

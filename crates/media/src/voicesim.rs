//! Simulated voices and rooms for testing voice processing, with no recordings and no
//! randomness from outside: everything is made from a seed, so a run repeats exactly.
//!
//! * [`speech`]: a speech-like signal (voiced syllables with formants, fricatives, pauses).
//! * [`white_noise`], [`pink_noise`]: stationary noise at a chosen level.
//! * [`EchoPath`]: a loudspeaker-to-microphone path (delay, attenuation, a short reverberant
//!   tail), streaming, so a test "device" can feed its speaker back into its microphone.
//! * Measures: [`erle_db`], [`preservation`], [`gating`], [`snr_db`].

/// A deterministic generator (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded by `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// A uniform number in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform number in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// A standard normal number (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Who speaks: the pitch and how the vowels sit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Voice {
    /// Mean fundamental frequency in Hz (about 120 for a low voice, 210 for a high one).
    pub f0: f64,
    /// Scales every formant (1.0 for an adult male, about 1.15 for a female voice).
    pub formant_scale: f64,
}

impl Voice {
    /// A low voice.
    pub const LOW: Voice = Voice { f0: 118.0, formant_scale: 1.0 };
    /// A high voice.
    pub const HIGH: Voice = Voice { f0: 205.0, formant_scale: 1.16 };
}

/// Formants (F1, F2, F3 in Hz) of a few vowels of an adult male voice.
const VOWELS: [[f64; 3]; 6] = [
    [730.0, 1090.0, 2440.0], // a
    [270.0, 2290.0, 3010.0], // i
    [300.0, 870.0, 2240.0],  // u
    [530.0, 1840.0, 2480.0], // e
    [570.0, 840.0, 2410.0],  // o
    [660.0, 1720.0, 2410.0], // ae
];

/// A two-pole resonator (one formant).
#[derive(Debug, Clone, Default)]
struct Resonator {
    a1: f64,
    a2: f64,
    b0: f64,
    y1: f64,
    y2: f64,
}

impl Resonator {
    fn tune(&mut self, freq: f64, bandwidth: f64, rate: f64) {
        let r = (-std::f64::consts::PI * bandwidth / rate).exp();
        self.a1 = 2.0 * r * (std::f64::consts::TAU * freq / rate).cos();
        self.a2 = -r * r;
        // Unity gain at the resonance, roughly.
        self.b0 = 1.0 - r;
    }

    fn step(&mut self, x: f64) -> f64 {
        let y = self.b0 * x + self.a1 * self.y1 + self.a2 * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// `seconds` of speech-like sound at `rate` Hz from `seed`: talk spurts of syllables (a
/// voiced vowel with three formants and a gliding pitch, some with a fricative before it)
/// separated by short gaps, and a pause of 0.3–0.7 s every 1.5–3 s. Active parts are at
/// about −20 dBFS RMS; the peaks stay well below full scale.
pub fn speech(seed: u64, voice: Voice, seconds: f64, rate: u32) -> Vec<i16> {
    let fs = f64::from(rate);
    let total = (seconds * fs) as usize;
    let mut rng = Rng::new(seed);
    let mut out = vec![0f64; total];
    let mut formants = [Resonator::default(), Resonator::default(), Resonator::default()];
    let mut fricative = [Resonator::default(), Resonator::default()];
    fricative[0].tune(4500.0, 1500.0, fs);
    fricative[1].tune(6500.0, 2000.0, fs);
    let mut phase = 0.0f64;
    let mut tilt = 0.0f64;
    let mut glottis = 0.0f64;
    let mut at = (rng.range(0.05, 0.2) * fs) as usize;
    let mut spurt_left = rng.range(1.5, 3.0);
    while at < total {
        // A fricative (s, sh, f) before some syllables.
        if rng.uniform() < 0.35 {
            let len = (rng.range(0.04, 0.09) * fs) as usize;
            let amp = rng.range(0.25, 0.5);
            for i in 0..len.min(total.saturating_sub(at)) {
                let env = (std::f64::consts::PI * i as f64 / len as f64).sin();
                let n = rng.normal();
                out[at + i] += amp * env * (fricative[0].step(n) + fricative[1].step(n));
            }
            at += len;
        }
        // The vowel.
        let len = (rng.range(0.12, 0.28) * fs) as usize;
        let vowel = VOWELS[(rng.uniform() * VOWELS.len() as f64) as usize % VOWELS.len()];
        for (k, r) in formants.iter_mut().enumerate() {
            r.tune(vowel[k] * voice.formant_scale, [90.0, 110.0, 170.0][k], fs);
        }
        let f0_start = voice.f0 * rng.range(0.9, 1.15);
        let f0_end = f0_start * rng.range(0.8, 1.05);
        let amp = rng.range(0.6, 1.0);
        let attack = (0.02 * fs) as usize;
        for i in 0..len.min(total.saturating_sub(at)) {
            let t = i as f64 / len as f64;
            let f0 = f0_start + (f0_end - f0_start) * t;
            phase += f0 / fs;
            // A glottal pulse per period, its spectrum tilted down by a one-pole low-pass.
            let pulse = if phase >= 1.0 {
                phase -= 1.0;
                1.0
            } else {
                0.0
            };
            // Glottal flow: the pulse through two one-pole low-passes (−12 dB/octave); its
            // difference (radiation at the lips, +6 dB/octave) leaves no DC.
            glottis = 0.97 * glottis + pulse;
            let flow = 0.97 * tilt + glottis;
            let x = flow - tilt;
            tilt = flow;
            let y = formants[0].step(x) + 0.6 * formants[1].step(x) + 0.3 * formants[2].step(x);
            let env = if i < attack {
                i as f64 / attack as f64
            } else if len - i < attack {
                (len - i) as f64 / attack as f64
            } else {
                1.0
            };
            out[at + i] += amp * env * y;
        }
        at += len;
        let elapsed = len as f64 / fs;
        spurt_left -= elapsed;
        at += if spurt_left <= 0.0 {
            spurt_left = rng.range(1.5, 3.0);
            (rng.range(0.3, 0.7) * fs) as usize
        } else {
            (rng.range(0.03, 0.08) * fs) as usize
        };
    }
    normalise_active(&out, -20.0)
}

/// Scales `x` so that its active part (samples in 20 ms frames above −40 dB of the loudest
/// frame) has `dbfs` RMS, and converts to 16-bit.
fn normalise_active(x: &[f64], dbfs: f64) -> Vec<i16> {
    let frames: Vec<f64> = x.chunks(960).map(|c| c.iter().map(|v| v * v).sum::<f64>() / c.len() as f64).collect();
    let loudest = frames.iter().cloned().fold(0.0, f64::max);
    let active: Vec<f64> = frames.iter().cloned().filter(|&p| p > loudest * 1e-4).collect();
    let power = active.iter().sum::<f64>() / active.len().max(1) as f64;
    let target = 32768.0 * 10f64.powf(dbfs / 20.0);
    let gain = if power > 0.0 { target / power.sqrt() } else { 0.0 };
    x.iter().map(|v| (v * gain).round().clamp(-32768.0, 32767.0) as i16).collect()
}

/// `n` samples of white Gaussian noise at `dbfs` RMS.
pub fn white_noise(seed: u64, n: usize, dbfs: f64) -> Vec<i16> {
    let mut rng = Rng::new(seed);
    let sigma = 32768.0 * 10f64.powf(dbfs / 20.0);
    (0..n).map(|_| (rng.normal() * sigma).round().clamp(-32768.0, 32767.0) as i16).collect()
}

/// `n` samples of pink noise (−3 dB per octave, Paul Kellet's filter on white noise) at
/// `dbfs` RMS.
pub fn pink_noise(seed: u64, n: usize, dbfs: f64) -> Vec<i16> {
    let mut rng = Rng::new(seed);
    let (mut b0, mut b1, mut b2) = (0f64, 0f64, 0f64);
    let raw: Vec<f64> = (0..n)
        .map(|_| {
            let w = rng.normal();
            b0 = 0.99765 * b0 + w * 0.099_046;
            b1 = 0.963 * b1 + w * 0.296_516_4;
            b2 = 0.57 * b2 + w * 1.052_691_3;
            b0 + b1 + b2 + w * 0.1848
        })
        .collect();
    let rms = (raw.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64).sqrt();
    let gain = 32768.0 * 10f64.powf(dbfs / 20.0) / rms.max(1e-12);
    raw.iter().map(|v| (v * gain).round().clamp(-32768.0, 32767.0) as i16).collect()
}

/// The RMS level of `x` in dBFS (−inf for silence).
pub fn dbfs(x: &[i16]) -> f64 {
    20.0 * (crate::tone::rms(x) / 32768.0).log10()
}

/// Adds `b` to `a`, saturating.
pub fn mix(a: &[i16], b: &[i16]) -> Vec<i16> {
    a.iter().zip(b).map(|(&x, &y)| x.saturating_add(y)).collect()
}

/// What a microphone records: the near end plus the echo an [`EchoPath`] gives, rounded and
/// clipped to 16 bits.
pub fn with_echo(near: &[i16], echo: &[f32]) -> Vec<i16> {
    near.iter().zip(echo).map(|(&n, &e)| (f32::from(n) + e).round().clamp(-32768.0, 32767.0) as i16).collect()
}

/// A loudspeaker heard by the microphone: the played signal comes back after `delay_ms`,
/// `attenuation_db` quieter, followed by a reverberant tail of sparse reflections over the
/// next `tail_ms`, decaying by 60 dB over `tail_ms` (−20 dB or more below the direct sound).
/// It streams: feed what is played with [`EchoPath::play`] and take the echo out.
#[derive(Debug, Clone)]
pub struct EchoPath {
    /// (lag in samples, gain) of each tap.
    taps: Vec<(usize, f32)>,
    /// The last samples played, newest last; as long as the longest lag.
    history: Vec<f32>,
    at: usize,
}

impl EchoPath {
    /// A path at `rate` Hz; `seed` places the reflections.
    pub fn new(rate: u32, delay_ms: f64, attenuation_db: f64, tail_ms: f64, seed: u64) -> EchoPath {
        let fs = f64::from(rate);
        let direct = 10f64.powf(-attenuation_db / 20.0);
        let delay = (delay_ms * fs / 1000.0) as usize;
        let mut taps = vec![(delay, direct as f32)];
        let mut rng = Rng::new(seed);
        let count = (tail_ms / 2.0) as usize;
        for _ in 0..count {
            let t = rng.range(1.0, tail_ms);
            let decay = 10f64.powf(-3.0 * t / tail_ms); // −60 dB at tail_ms
            let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
            let gain = direct * 0.3 * decay * rng.range(0.3, 1.0) * sign;
            taps.push((delay + (t * fs / 1000.0) as usize, gain as f32));
        }
        let longest = taps.iter().map(|t| t.0).max().unwrap_or(0) + 1;
        EchoPath { taps, history: vec![0.0; longest], at: 0 }
    }

    /// Plays `frame` out of the loudspeaker; returns what the microphone hears of it and of
    /// what was played before (same length as `frame`).
    pub fn play(&mut self, frame: &[i16]) -> Vec<f32> {
        let n = self.history.len();
        frame
            .iter()
            .map(|&s| {
                self.history[self.at] = f32::from(s);
                let mut y = 0.0;
                for &(lag, gain) in &self.taps {
                    y += gain * self.history[(self.at + n - lag % n) % n];
                }
                self.at = (self.at + 1) % n;
                y
            })
            .collect()
    }
}

/// Echo return loss enhancement in dB: how much quieter the processed microphone signal
/// `out` is than the echo that came into it, over the 10 ms blocks in `range` (sample
/// indices) where the echo is above −60 dBFS.
pub fn erle_db(echo: &[f32], out: &[i16], range: std::ops::Range<usize>) -> f64 {
    let (mut e, mut o) = (0f64, 0f64);
    let floor = (32768.0 * 1e-3f64).powi(2);
    for start in range.step_by(480) {
        let end = (start + 480).min(echo.len()).min(out.len());
        if end <= start {
            break;
        }
        let pe = echo[start..end].iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / (end - start) as f64;
        if pe < floor {
            continue;
        }
        e += pe;
        o += out[start..end].iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / (end - start) as f64;
    }
    10.0 * (e / o.max(1e-9)).log10()
}

/// How well `out` keeps `reference` over `range` (sample indices): the best normalised
/// correlation over lags of 0..=`max_lag` samples (`out` may lag), and the level of `out`
/// against `reference` in dB at that lag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preservation {
    /// Normalised cross-correlation, 1.0 for a copy.
    pub correlation: f64,
    /// Level change in dB (negative: `out` is quieter).
    pub level_db: f64,
    /// The lag in samples at which they match.
    pub lag: usize,
}

impl Preservation {
    /// The signal-to-distortion ratio in dB that the correlation implies: the part of `out`
    /// that is the reference (at its best gain) against the rest.
    pub fn sdr_db(&self) -> f64 {
        let r2 = self.correlation.powi(2).min(0.999_999);
        10.0 * (r2 / (1.0 - r2)).log10()
    }
}

/// See [`Preservation`]. The lag is found on the loudest half second of `reference` in
/// `range`, then everything is measured over the whole range at that lag.
pub fn preservation(reference: &[i16], out: &[i16], range: std::ops::Range<usize>, max_lag: usize) -> Preservation {
    let end = range.end.min(reference.len()).min(out.len().saturating_sub(max_lag));
    let start = range.start.min(end);
    let window = 24_000.min(end - start);
    let energy = |a: usize| reference[a..a + window].iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
    let loudest = (start..=end - window).step_by(4800).max_by(|&a, &b| energy(a).total_cmp(&energy(b))).unwrap_or(start);
    let fit = |from: usize, to: usize, lag: usize| {
        let (mut xy, mut xx, mut yy) = (0f64, 0f64, 0f64);
        for i in from..to {
            let x = f64::from(reference[i]);
            let y = f64::from(out[i + lag]);
            xy += x * y;
            xx += x * x;
            yy += y * y;
        }
        Preservation { correlation: xy / (xx * yy).sqrt().max(1e-9), level_db: 10.0 * (yy / xx.max(1e-9)).log10(), lag }
    };
    let lag = (0..=max_lag)
        .map(|lag| fit(loudest, loudest + window, lag))
        .max_by(|a, b| a.correlation.total_cmp(&b.correlation))
        .map_or(0, |p| p.lag);
    fit(start, end, lag)
}

/// What a processor did to a talker frame by frame: over the 20 ms frames in `range` where
/// `reference` is active (at or above −35 dBFS), the level of `out` against `reference`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gating {
    /// Frames measured.
    pub frames: usize,
    /// Median level change in dB.
    pub median_db: f64,
    /// Share of the frames more than 10 dB quieter in `out`: the talker was (nearly) muted.
    pub muted_share: f64,
}

/// See [`Gating`].
pub fn gating(reference: &[i16], out: &[i16], range: std::ops::Range<usize>) -> Gating {
    let mut changes: Vec<f64> = range
        .step_by(960)
        .filter(|&b| b + 960 <= reference.len().min(out.len()) && dbfs(&reference[b..b + 960]) >= -35.0)
        .map(|b| (dbfs(&out[b..b + 960]) - dbfs(&reference[b..b + 960])).max(-100.0))
        .collect();
    changes.sort_by(f64::total_cmp);
    let frames = changes.len();
    Gating {
        frames,
        median_db: changes.get(frames / 2).copied().unwrap_or(0.0),
        muted_share: changes.iter().filter(|&&c| c < -10.0).count() as f64 / frames.max(1) as f64,
    }
}

/// Signal-to-noise ratio in dB of `out` as a copy of `clean` over `range`, at the lag (up to
/// `max_lag`) and gain that fit best: everything in `out` that is not `clean` counts as noise
/// (left-over noise and any distortion of the speech alike).
pub fn snr_db(clean: &[i16], out: &[i16], range: std::ops::Range<usize>, max_lag: usize) -> f64 {
    preservation(clean, out, range, max_lag).sdr_db()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_is_repeatable_and_at_its_level() {
        let a = speech(1, Voice::LOW, 3.0, 48_000);
        assert_eq!(a, speech(1, Voice::LOW, 3.0, 48_000));
        assert_ne!(a, speech(2, Voice::LOW, 3.0, 48_000));
        assert_eq!(a.len(), 144_000);
        // Pauses make the whole quieter than the active parts (−20 dBFS).
        let level = dbfs(&a);
        assert!((-30.0..-19.0).contains(&level), "{level}");
        assert!(a.iter().all(|&s| s > i16::MIN && s < i16::MAX));
    }

    #[test]
    fn the_echo_path_delays_and_attenuates() {
        let mut path = EchoPath::new(48_000, 50.0, 12.0, 0.0, 1);
        let mut impulse = vec![0i16; 4800];
        impulse[0] = 10_000;
        let echo = path.play(&impulse);
        assert_eq!(echo.iter().position(|&v| v != 0.0), Some(2400));
        assert!((echo[2400] - 10_000.0 * 10f32.powf(-0.6)).abs() < 1.0);
    }

    #[test]
    fn the_measures_measure() {
        let s = speech(3, Voice::HIGH, 2.0, 48_000);
        let p = preservation(&s, &s, 0..s.len() - 100, 50);
        assert!((p.correlation - 1.0).abs() < 1e-9 && p.level_db.abs() < 1e-9 && p.lag == 0);
        let mut late = vec![0i16; 30];
        late.extend(s.iter().map(|&v| v / 2));
        let p = preservation(&s, &late, 0..s.len() - 100, 50);
        assert_eq!(p.lag, 30);
        assert!((p.level_db + 6.02).abs() < 0.1, "{p:?}");
        let noise = white_noise(4, s.len(), -30.0);
        let snr = snr_db(&s, &mix(&s, &noise), 0..s.len(), 0);
        let expected = dbfs(&s) - dbfs(&noise);
        assert!((snr - expected).abs() < 0.5, "{snr} vs {expected}");
        let echo: Vec<f32> = s.iter().map(|&v| f32::from(v)).collect();
        let quiet: Vec<i16> = s.iter().map(|&v| v / 10).collect();
        assert!((erle_db(&echo, &quiet, 0..s.len()) - 20.0).abs() < 0.2);
    }
}

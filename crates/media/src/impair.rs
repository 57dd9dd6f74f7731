//! Network impairments for tests and benchmarks, sans-IO: which outgoing packets are lost, and
//! how long each of the others is held back. rc-sim applies them to what its bots and media
//! ports send, so a phone can be measured against a lossy, jittery path on loopback.

/// How bad the path is.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impairment {
    /// Share of packets dropped at random, in percent (0..=100).
    pub loss_percent: f64,
    /// Interarrival jitter to cause, in milliseconds, as RFC 3550 measures it: each packet is
    /// held back by a uniform random 0..3×`jitter_ms` (consecutive delays then differ by
    /// `jitter_ms` on average), so packets also arrive out of order.
    pub jitter_ms: u32,
}

impl Impairment {
    /// True when the path is clean.
    pub fn is_none(&self) -> bool {
        self.loss_percent <= 0.0 && self.jitter_ms == 0
    }
}

/// What to do with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Drop it.
    Lost,
    /// Send it after this many milliseconds (0: now).
    DelayMs(u32),
}

/// Decides the fate of each packet from a seeded generator, so a run can be repeated.
#[derive(Debug, Clone)]
pub struct Impairer {
    impairment: Impairment,
    state: u64,
}

impl Impairer {
    /// An impairer for `impairment`, its random choices seeded by `seed`.
    pub fn new(impairment: Impairment, seed: u64) -> Impairer {
        Impairer { impairment, state: seed ^ 0x9E37_79B9_7F4A_7C15 }
    }

    /// The fate of the next packet.
    pub fn next_fate(&mut self) -> Fate {
        if self.uniform() * 100.0 < self.impairment.loss_percent {
            return Fate::Lost;
        }
        let max = f64::from(self.impairment.jitter_ms) * 3.0;
        Fate::DelayMs((self.uniform() * max).round() as u32)
    }

    /// A uniform number in [0, 1) (splitmix64).
    fn uniform(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fates(impairment: Impairment, n: usize) -> Vec<Fate> {
        let mut imp = Impairer::new(impairment, 42);
        (0..n).map(|_| imp.next_fate()).collect()
    }

    #[test]
    fn a_clean_path_sends_everything_at_once() {
        assert!(fates(Impairment::default(), 1000).iter().all(|f| *f == Fate::DelayMs(0)));
        assert!(Impairment::default().is_none());
    }

    #[test]
    fn loss_is_close_to_the_share_asked_for() {
        for percent in [2.0, 5.0, 10.0] {
            let lost = fates(Impairment { loss_percent: percent, jitter_ms: 0 }, 20_000).iter().filter(|f| **f == Fate::Lost).count();
            let measured = lost as f64 / 200.0;
            assert!((measured - percent).abs() < percent * 0.15, "{percent}%: {measured}%");
        }
        assert!(fates(Impairment { loss_percent: 100.0, jitter_ms: 0 }, 100).iter().all(|f| *f == Fate::Lost));
    }

    #[test]
    fn delays_give_the_rfc3550_jitter_asked_for() {
        let delays: Vec<f64> = fates(Impairment { loss_percent: 0.0, jitter_ms: 30 }, 20_000)
            .iter()
            .map(|f| match f {
                Fate::DelayMs(d) => f64::from(*d),
                Fate::Lost => panic!("nothing is lost"),
            })
            .collect();
        assert!(delays.iter().all(|d| (0.0..=90.0).contains(d)));
        // RFC 3550 6.4.1: J += (|D| - J) / 16 over consecutive packets sent 20 ms apart.
        let mut j = 0.0;
        for w in delays.windows(2) {
            j += ((w[1] - w[0]).abs() - j) / 16.0;
        }
        let mean_step = delays.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (delays.len() - 1) as f64;
        assert!((mean_step - 30.0).abs() < 1.5, "mean |D| {mean_step}");
        assert!((j - 30.0).abs() < 12.0, "running estimate {j}");
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let imp = Impairment { loss_percent: 5.0, jitter_ms: 10 };
        assert_eq!(fates(imp, 500), fates(imp, 500));
    }
}

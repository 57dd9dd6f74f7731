//! An adaptive jitter buffer for 20 ms audio frames, sans-IO: packets go in as they arrive,
//! one frame comes out per 20 ms playout tick.
//!
//! * Packets are ordered by their (wrap-extended) sequence number; duplicates and packets
//!   that arrive after their playout time are dropped.
//! * Playout starts once `target` frames are buffered. The target follows the measured
//!   interarrival jitter (RFC 3550 section 6.4.1 estimator): about twice the jitter plus one
//!   frame, between [`MIN_TARGET`] and [`MAX_TARGET`] frames.
//! * A missing frame is reported as [`Playout::Lost`] with the following packet, if it is
//!   already here, so an Opus decoder can rebuild the lost frame from its in-band FEC.
//! * When the buffer runs dry, playout pauses and refills to the target; when it holds far
//!   more than the target, one frame is dropped per tick to bring latency back down.

use std::collections::BTreeMap;
use std::time::Instant;

/// Fewest frames buffered before playout (20 ms).
pub const MIN_TARGET: usize = 1;
/// Most frames buffered before playout (200 ms).
pub const MAX_TARGET: usize = 10;
/// Frames kept at most; older ones are dropped.
const CAPACITY: usize = 50;
/// A sequence jump this large means a new stream: start over.
const RESET_JUMP: u64 = 500;
/// Packets seen before the target follows the jitter estimate (it needs a few to settle).
const WARM_UP: u64 = 16;
/// Milliseconds per frame.
const FRAME_MS: f64 = 20.0;

/// One received packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// RTP payload type.
    pub payload_type: u8,
    /// RTP payload.
    pub payload: Vec<u8>,
}

/// What to play in this 20 ms tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// This packet.
    Frame(Packet),
    /// The frame is missing; the next packet (for FEC) if it has already arrived.
    Lost(Option<Packet>),
    /// Nothing to play yet (buffering, or nothing received).
    Waiting,
}

/// Counters for call-quality statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JitterStats {
    /// Packets accepted.
    pub received: u64,
    /// Frames that never arrived in time.
    pub lost: u64,
    /// Packets that arrived after their playout time (or twice).
    pub late: u64,
    /// Frames dropped to bring latency down.
    pub dropped: u64,
    /// Current interarrival jitter estimate in milliseconds.
    pub jitter_ms: f64,
    /// Current target depth in frames.
    pub target: usize,
}

/// The buffer.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    packets: BTreeMap<u64, Packet>,
    /// Highest extended sequence number seen.
    highest: Option<u64>,
    /// Next extended sequence number to play, once playing.
    next: Option<u64>,
    playing: bool,
    first_arrival: Option<Instant>,
    last_transit: Option<f64>,
    stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        JitterBuffer::new()
    }
}

impl JitterBuffer {
    /// An empty buffer with a 40 ms starting target.
    pub fn new() -> JitterBuffer {
        JitterBuffer {
            packets: BTreeMap::new(),
            highest: None,
            next: None,
            playing: false,
            first_arrival: None,
            last_transit: None,
            stats: JitterStats { target: 2, ..JitterStats::default() },
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Frames waiting.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Takes a packet that arrived at `arrival`.
    pub fn push(&mut self, sequence: u16, packet: Packet, arrival: Instant) {
        let seq = self.extend(sequence);
        if let Some(h) = self.highest {
            if seq > h + RESET_JUMP || seq + RESET_JUMP < h {
                *self = JitterBuffer { stats: self.stats, ..JitterBuffer::new() };
                return self.push(sequence, packet, arrival);
            }
        }
        self.update_jitter(seq, arrival);
        self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
        let too_late = self.next.is_some_and(|n| seq < n);
        if too_late || self.packets.contains_key(&seq) {
            self.stats.late += 1;
            return;
        }
        self.stats.received += 1;
        self.packets.insert(seq, packet);
        while self.packets.len() > CAPACITY {
            self.packets.pop_first();
        }
    }

    /// The frame for this 20 ms tick.
    pub fn pop(&mut self) -> Playout {
        if !self.playing {
            if self.packets.len() < self.stats.target {
                return Playout::Waiting;
            }
            self.playing = true;
            let first = *self.packets.keys().next().expect("not empty");
            self.next = Some(self.next.map_or(first, |n| n.max(first)));
        }
        if self.packets.is_empty() {
            // Ran dry: refill to the target before playing again.
            self.playing = false;
            return Playout::Waiting;
        }
        let mut next = self.next.expect("set when playing");
        if self.packets.len() > self.stats.target + 3 {
            if self.packets.remove(&next).is_some() {
                self.stats.dropped += 1;
            }
            next += 1;
        }
        self.next = Some(next + 1);
        while self.packets.first_key_value().is_some_and(|(k, _)| *k < next) {
            self.packets.pop_first();
        }
        match self.packets.remove(&next) {
            Some(p) => Playout::Frame(p),
            None => {
                self.stats.lost += 1;
                Playout::Lost(self.packets.get(&(next + 1)).cloned())
            }
        }
    }

    /// The sequence number extended past 16-bit wrap-arounds, relative to the highest seen.
    fn extend(&self, sequence: u16) -> u64 {
        let Some(h) = self.highest else { return u64::from(sequence) + (1 << 16) };
        let base = h & !0xffff;
        let candidates = [base.wrapping_sub(1 << 16), base, base + (1 << 16)];
        candidates.into_iter().map(|b| b + u64::from(sequence)).min_by_key(|c| c.abs_diff(h)).expect("three candidates")
    }

    fn update_jitter(&mut self, seq: u64, arrival: Instant) {
        let first = *self.first_arrival.get_or_insert(arrival);
        let arrival_ms = arrival.duration_since(first).as_secs_f64() * 1000.0;
        let transit = arrival_ms - seq as f64 * FRAME_MS;
        if let Some(last) = self.last_transit {
            let d = (transit - last).abs();
            self.stats.jitter_ms += (d - self.stats.jitter_ms) / 16.0;
        }
        self.last_transit = Some(transit);
        if self.stats.received < WARM_UP {
            return;
        }
        let wanted = ((2.0 * self.stats.jitter_ms) / FRAME_MS).ceil() as usize + 1;
        self.stats.target = wanted.clamp(MIN_TARGET, MAX_TARGET);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pkt(n: u8) -> Packet {
        Packet { payload_type: 111, payload: vec![n] }
    }

    fn frame(p: Playout) -> Option<u8> {
        match p {
            Playout::Frame(p) => Some(p.payload[0]),
            _ => None,
        }
    }

    #[test]
    fn reorders_and_plays_in_sequence() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        for (i, seq) in [2u16, 1, 3, 4].into_iter().enumerate() {
            jb.push(seq, pkt(seq as u8), t + Duration::from_millis(20 * i as u64));
        }
        let played: Vec<_> = (0..4).map(|_| frame(jb.pop())).collect();
        assert_eq!(played, vec![Some(1), Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn a_missing_frame_is_lost_with_the_next_packet_for_fec() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        for seq in [10u16, 11, 13, 14] {
            jb.push(seq, pkt(seq as u8), t + Duration::from_millis(20 * u64::from(seq - 10)));
        }
        assert_eq!(frame(jb.pop()), Some(10));
        assert_eq!(frame(jb.pop()), Some(11));
        assert_eq!(jb.pop(), Playout::Lost(Some(pkt(13))));
        assert_eq!(frame(jb.pop()), Some(13));
        // 12 arrives after its time: dropped as late.
        jb.push(12, pkt(12), t + Duration::from_millis(100));
        assert_eq!(jb.stats().late, 1);
        assert_eq!(jb.stats().lost, 1);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        for (i, seq) in [65_534u16, 65_535, 0, 1].into_iter().enumerate() {
            jb.push(seq, pkt(i as u8), t + Duration::from_millis(20 * i as u64));
        }
        let played: Vec<_> = (0..4).map(|_| frame(jb.pop())).collect();
        assert_eq!(played, vec![Some(0), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn the_target_follows_jitter_and_latency_is_trimmed() {
        let t = Instant::now();
        let mut steady = JitterBuffer::new();
        for seq in 0..100u16 {
            steady.push(seq, pkt(0), t + Duration::from_millis(20 * u64::from(seq)));
        }
        assert!(steady.stats().jitter_ms < 1.0 && steady.stats().target == 1, "{:?}", steady.stats());

        let mut jittery = JitterBuffer::new();
        for seq in 0..100u16 {
            let wobble = if seq % 2 == 0 { 0 } else { 30 };
            jittery.push(seq, pkt(0), t + Duration::from_millis(20 * u64::from(seq) + wobble));
        }
        let s = jittery.stats();
        assert!(s.jitter_ms > 20.0 && s.target >= 3, "{s:?}");
        // 100 frames were buffered; playing drains the excess instead of keeping 2 s of delay.
        for _ in 0..60 {
            jittery.pop();
        }
        assert!(jittery.len() <= s.target + 4, "{} left", jittery.len());
        assert!(jittery.stats().dropped > 0);
    }

    #[test]
    fn running_dry_pauses_until_refilled() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        jb.push(1, pkt(1), t);
        assert_eq!(jb.pop(), Playout::Waiting, "one frame is below the 40 ms start target");
        jb.push(2, pkt(2), t + Duration::from_millis(20));
        assert_eq!(frame(jb.pop()), Some(1));
        assert_eq!(frame(jb.pop()), Some(2));
        assert_eq!(jb.pop(), Playout::Waiting);
    }
}

//! An adaptive jitter buffer for 20 ms audio frames, sans-IO: packets go in as they arrive,
//! one frame comes out per 20 ms playout tick.
//!
//! * Packets are ordered by their (wrap-extended) sequence number; duplicates and packets
//!   that arrive after their playout time are dropped. Transit times come from the RTP
//!   timestamps, so a sender that pauses (Opus DTX in silences: the sequence goes on, the
//!   clock jumps) is neither loss nor jitter, and the packets after its pause are played.
//! * Playout starts once `target` frames are buffered. The target follows the spread of the
//!   packets' recent transit times (the 97th percentile over the fastest of the last
//!   [`DELAY_WINDOW`] packets) plus one frame, between [`MIN_TARGET`] and [`MAX_TARGET`] frames,
//!   so that almost every packet is here by its time. The RFC 3550 jitter is measured too,
//!   for statistics.
//! * A missing frame is reported as [`Playout::Lost`] with the following packet, if it is
//!   already here, so an Opus decoder can rebuild the lost frame from its in-band FEC.
//! * When the buffer runs dry while playing, up to [`MAX_CONCEALED`] frames are concealed (a
//!   lost packet whose successor is not here yet looks the same as a late one), keeping the
//!   timeline; only then playout pauses and refills to the target. When it holds far more
//!   than the target, one frame is dropped per tick to bring latency back down.
//! * While packets are being lost, the target is at least two frames, so that the packet
//!   after a lost one is here in time for the decoder to rebuild the loss from its FEC.

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
/// Packets whose transit times set the target.
pub const DELAY_WINDOW: usize = 128;
/// A change in transit time this large (ms) is the sender's clock jumping, not the network.
const CLOCK_JUMP_MS: f64 = 3000.0;
/// Frames concealed in a row when the buffer runs dry, before playout pauses (60 ms).
pub const MAX_CONCEALED: u32 = 3;
/// Recent loss (a moving average of lost frames per frame) above which the target keeps a
/// frame of look-ahead for FEC.
const LOSSY: f64 = 0.005;

/// One received packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// RTP payload type.
    pub payload_type: u8,
    /// RTP payload.
    pub payload: Vec<u8>,
}

/// When a packet's audio was sampled: its RTP timestamp and the clock it counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpTime {
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The payload's RTP clock rate (48000 for Opus, 8000 for G.711).
    pub clock_rate: u32,
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
    /// The last sequence number played or given up as lost (not the slots concealed while
    /// the buffer was dry: those may have been a sender's pause).
    last_played: Option<u64>,
    /// The highest packet's RTP timestamp and media time (ms): the reference that later
    /// timestamps are read against (they may wrap).
    reference: Option<(u32, f64)>,
    playing: bool,
    first_arrival: Option<Instant>,
    last_transit: Option<f64>,
    /// Transit times (ms, relative to the first packet) of the last [`DELAY_WINDOW`] packets.
    transits: std::collections::VecDeque<f64>,
    /// Frames concealed in a row because the buffer was empty.
    concealed: u32,
    /// Moving average of lost frames per played frame (about the last 50 frames).
    recent_loss: f64,
    /// The target the measured jitter asks for.
    jitter_target: usize,
    /// The target went up while playing by this many frames: stretch as many ticks so the
    /// buffer grows to it.
    stretch: usize,
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
            last_played: None,
            reference: None,
            playing: false,
            first_arrival: None,
            last_transit: None,
            transits: std::collections::VecDeque::with_capacity(DELAY_WINDOW),
            concealed: 0,
            recent_loss: 0.0,
            jitter_target: 2,
            stretch: 0,
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

    /// Takes a packet with RTP sequence number `sequence`, sampled at `time`, that arrived at
    /// `arrival`.
    pub fn push(&mut self, sequence: u16, time: RtpTime, packet: Packet, arrival: Instant) {
        let seq = self.extend(sequence);
        if let Some(h) = self.highest {
            if seq > h + RESET_JUMP || seq + RESET_JUMP < h {
                *self = JitterBuffer { stats: self.stats, ..JitterBuffer::new() };
                return self.push(sequence, time, packet, arrival);
            }
        }
        let media_ms = self.media_ms(time);
        self.update_jitter(media_ms, arrival);
        if self.highest.is_none_or(|h| seq > h) {
            self.highest = Some(seq);
            self.reference = Some((time.timestamp, media_ms));
        }
        // While playing, a packet behind the playout point is late. While paused (the buffer
        // ran dry), anything after the last frame played is welcome: the slots concealed
        // before the pause may have been the sender's silence.
        let too_late = match self.next {
            Some(n) if self.playing => seq < n,
            _ => self.last_played.is_some_and(|p| seq <= p),
        };
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
            self.next = Some(*self.packets.keys().next().expect("not empty"));
        }
        let mut next = self.next.expect("set when playing");
        if self.stretch > 0 && !self.packets.is_empty() && self.packets.len() < self.stats.target {
            // One concealed frame without moving on: the buffer grows by a frame.
            self.stretch -= 1;
            return Playout::Lost(None);
        }
        if self.packets.is_empty() {
            if self.concealed < MAX_CONCEALED {
                // Lost, late or a pause in sending: conceal it and keep the timeline. It
                // counts as lost only if the sequence numbers show a gap once packets come.
                self.concealed += 1;
                self.next = Some(next + 1);
                return Playout::Lost(None);
            }
            // Ran dry: refill to the target before playing again.
            self.playing = false;
            return Playout::Waiting;
        }
        if self.packets.len() > self.stats.target + 3 {
            if self.packets.remove(&next).is_some() {
                self.stats.dropped += 1;
            }
            self.last_played = Some(next);
            next += 1;
        }
        self.next = Some(next + 1);
        while self.packets.first_key_value().is_some_and(|(k, _)| *k < next) {
            self.packets.pop_first();
        }
        // Sequence numbers skipped since the last frame (while the buffer was dry) were lost.
        let skipped = self.last_played.map_or(0, |p| next.saturating_sub(p + 1));
        self.last_played = Some(next);
        match self.packets.remove(&next) {
            Some(p) => {
                self.concealed = 0;
                for _ in 0..skipped.min(CAPACITY as u64) {
                    self.note_loss(true);
                }
                self.note_loss(false);
                Playout::Frame(p)
            }
            None => {
                self.note_loss(true);
                Playout::Lost(self.packets.get(&(next + 1)).cloned())
            }
        }
    }

    /// Counts a played (`lost` false) or missing frame, and keeps the target in step.
    fn note_loss(&mut self, lost: bool) {
        if lost {
            self.stats.lost += 1;
        }
        self.recent_loss += (if lost { 1.0 } else { 0.0 } - self.recent_loss) / 50.0;
        self.refresh_target();
    }

    /// The target: what the jitter asks for, and at least two frames while packets are lost.
    fn refresh_target(&mut self) {
        let floor = if self.recent_loss > LOSSY { 2 } else { MIN_TARGET };
        let target = self.jitter_target.max(floor).clamp(MIN_TARGET, MAX_TARGET);
        if self.playing && target > self.stats.target {
            self.stretch += target - self.stats.target;
        } else if target < self.stats.target {
            self.stretch = 0;
        }
        self.stats.target = target;
    }

    /// The sequence number extended past 16-bit wrap-arounds, relative to the highest seen.
    fn extend(&self, sequence: u16) -> u64 {
        let Some(h) = self.highest else { return u64::from(sequence) + (1 << 16) };
        let base = h & !0xffff;
        let candidates = [base.wrapping_sub(1 << 16), base, base + (1 << 16)];
        candidates.into_iter().map(|b| b + u64::from(sequence)).min_by_key(|c| c.abs_diff(h)).expect("three candidates")
    }

    /// When the packet at `time` was sampled (ms), relative to the stream's first packet.
    fn media_ms(&self, time: RtpTime) -> f64 {
        let Some((timestamp, ms)) = self.reference else { return 0.0 };
        // The signed distance to the reference copes with wrap-around and reordering.
        let ticks = time.timestamp.wrapping_sub(timestamp) as i32;
        ms + f64::from(ticks) * 1000.0 / f64::from(time.clock_rate.max(1))
    }

    fn update_jitter(&mut self, media_ms: f64, arrival: Instant) {
        let first = *self.first_arrival.get_or_insert(arrival);
        let arrival_ms = arrival.duration_since(first).as_secs_f64() * 1000.0;
        let transit = arrival_ms - media_ms;
        if let Some(last) = self.last_transit {
            let d = (transit - last).abs();
            if d > CLOCK_JUMP_MS {
                // The sender's clock jumped (a new source with the same sequence): what came
                // before tells nothing about the network now.
                self.transits.clear();
            } else {
                self.stats.jitter_ms += (d - self.stats.jitter_ms) / 16.0;
            }
        }
        self.last_transit = Some(transit);
        if self.transits.len() == DELAY_WINDOW {
            self.transits.pop_front();
        }
        self.transits.push_back(transit);
        // The spread needs a sort of the window: every 8th packet is often enough.
        if self.stats.received < WARM_UP || !self.stats.received.is_multiple_of(8) {
            return;
        }
        // Under half a millisecond of spread is rounding in the timestamp arithmetic, not jitter.
        let spread = (self.delay_spread_ms() - 0.5).max(0.0);
        self.jitter_target = (spread / FRAME_MS).ceil() as usize + 1;
        self.refresh_target();
    }

    /// How much later than the fastest recent packet the slowest ones come (97th percentile).
    fn delay_spread_ms(&self) -> f64 {
        let mut sorted: Vec<f64> = self.transits.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let fastest = sorted.first().copied().unwrap_or(0.0);
        let slow = sorted[((sorted.len() as f64 * 0.97) as usize).min(sorted.len() - 1)];
        slow - fastest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pkt(n: u8) -> Packet {
        Packet { payload_type: 111, payload: vec![n] }
    }

    /// The time of packet `seq` in a stream without pauses: 20 ms of 48 kHz per packet.
    fn rtp(seq: u16) -> RtpTime {
        RtpTime { timestamp: u32::from(seq) * 960, clock_rate: 48_000 }
    }

    #[test]
    fn a_jump_in_the_senders_clock_is_not_taken_for_jitter() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        for seq in 0..200u16 {
            // Half-way the source restarts its clock 10 minutes on; the sequence runs on.
            let ts = u32::from(seq) * 960 + if seq >= 100 { 600 * 48_000 } else { 0 };
            jb.push(seq, RtpTime { timestamp: ts, clock_rate: 48_000 }, pkt(0), t + Duration::from_millis(20 * u64::from(seq)));
        }
        assert!(jb.stats().target <= 1 && jb.stats().jitter_ms < 1.0, "{:?}", jb.stats());
    }

    #[test]
    fn a_senders_dtx_pause_is_not_loss_jitter_or_lateness() {
        // Talk for 2 s, pause 1 s (Opus DTX: one comfort-noise packet in the middle), talk again.
        // The sequence runs on through the pause; only the clock jumps.
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        let mut sends: Vec<(u16, u32)> = (0..100).map(|i| (i as u16, i * 960)).collect();
        sends.push((100, 125 * 960));
        sends.extend((0..100).map(|i| (101 + i as u16, (150 + i) * 960)));
        let mut played = Vec::new();
        let mut sends = sends.into_iter().peekable();
        for tick in 0..300u32 {
            while let Some(&(seq, ts)) = sends.peek().filter(|(_, ts)| *ts / 960 <= tick) {
                jb.push(seq, RtpTime { timestamp: ts, clock_rate: 48_000 }, pkt((seq % 256) as u8), t + Duration::from_millis(u64::from(ts / 48)));
                sends.next();
            }
            played.extend(frame(jb.pop()));
        }
        let stats = jb.stats();
        assert_eq!(stats.late, 0, "nothing after the pause is dropped as late");
        assert_eq!(stats.lost, 0, "a pause is not loss");
        assert_eq!(played.len(), 201, "every packet is played");
        assert!(stats.jitter_ms < 1.0, "a pause is not jitter: {} ms", stats.jitter_ms);
        assert!(stats.target <= 2, "the pause did not raise the target: {}", stats.target);
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
            jb.push(seq, rtp(seq), pkt(seq as u8), t + Duration::from_millis(20 * i as u64));
        }
        let played: Vec<_> = (0..4).map(|_| frame(jb.pop())).collect();
        assert_eq!(played, vec![Some(1), Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn a_missing_frame_is_lost_with_the_next_packet_for_fec() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        for seq in [10u16, 11, 13, 14] {
            jb.push(seq, rtp(seq), pkt(seq as u8), t + Duration::from_millis(20 * u64::from(seq - 10)));
        }
        assert_eq!(frame(jb.pop()), Some(10));
        assert_eq!(frame(jb.pop()), Some(11));
        assert_eq!(jb.pop(), Playout::Lost(Some(pkt(13))));
        assert_eq!(frame(jb.pop()), Some(13));
        // 12 arrives after its time: dropped as late.
        jb.push(12, rtp(12), pkt(12), t + Duration::from_millis(100));
        assert_eq!(jb.stats().late, 1);
        assert_eq!(jb.stats().lost, 1);
    }

    #[test]
    fn sequence_numbers_wrap() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        for (i, seq) in [65_534u16, 65_535, 0, 1].into_iter().enumerate() {
            jb.push(seq, rtp(seq), pkt(i as u8), t + Duration::from_millis(20 * i as u64));
        }
        let played: Vec<_> = (0..4).map(|_| frame(jb.pop())).collect();
        assert_eq!(played, vec![Some(0), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn the_target_follows_jitter_and_latency_is_trimmed() {
        let t = Instant::now();
        let mut steady = JitterBuffer::new();
        for seq in 0..100u16 {
            steady.push(seq, rtp(seq), pkt(0), t + Duration::from_millis(20 * u64::from(seq)));
        }
        assert!(steady.stats().jitter_ms < 1.0 && steady.stats().target == 1, "{:?}", steady.stats());

        let mut jittery = JitterBuffer::new();
        for seq in 0..100u16 {
            let wobble = if seq % 2 == 0 { 0 } else { 30 };
            jittery.push(seq, rtp(seq), pkt(0), t + Duration::from_millis(20 * u64::from(seq) + wobble));
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
    fn the_target_covers_random_delays() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        let mut imp = crate::impair::Impairer::new(crate::impair::Impairment { loss_percent: 0.0, jitter_ms: 30 }, 7);
        for seq in 0..300u16 {
            let crate::impair::Fate::DelayMs(d) = imp.next_fate() else { unreachable!("no loss asked for") };
            jb.push(seq, rtp(seq), pkt(0), t + Duration::from_millis(20 * u64::from(seq) + u64::from(d)));
        }
        // Delays of 0..90 ms: about 87 ms of spread at the 97th percentile, plus a frame.
        assert!((5..=6).contains(&jb.stats().target), "{:?}", jb.stats());
    }

    #[test]
    fn running_dry_conceals_a_little_then_pauses_until_refilled() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        jb.push(1, rtp(1), pkt(1), t);
        assert_eq!(jb.pop(), Playout::Waiting, "one frame is below the 40 ms start target");
        jb.push(2, rtp(2), pkt(2), t + Duration::from_millis(20));
        assert_eq!(frame(jb.pop()), Some(1));
        assert_eq!(frame(jb.pop()), Some(2));
        for _ in 0..MAX_CONCEALED {
            assert_eq!(jb.pop(), Playout::Lost(None));
        }
        assert_eq!(jb.pop(), Playout::Waiting);
    }

    #[test]
    fn a_loss_with_nothing_behind_it_keeps_the_timeline() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        let at = |n: u64| t + Duration::from_millis(20 * n);
        jb.push(1, rtp(1), pkt(1), at(0));
        jb.push(2, rtp(2), pkt(2), at(1));
        assert_eq!(frame(jb.pop()), Some(1));
        assert_eq!(frame(jb.pop()), Some(2));
        // 3 is lost; at its tick nothing is buffered: concealed, and 4 plays in its own slot.
        assert_eq!(jb.pop(), Playout::Lost(None));
        jb.push(4, rtp(4), pkt(4), at(3));
        assert_eq!(frame(jb.pop()), Some(4));
        assert_eq!(jb.stats().lost, 1);
    }

    #[test]
    fn losses_keep_a_frame_of_look_ahead_for_fec() {
        let t = Instant::now();
        let mut jb = JitterBuffer::new();
        let mut seq = 0u16;
        let mut push = |jb: &mut JitterBuffer, skip: bool| {
            if !skip {
                jb.push(seq, rtp(seq), pkt(0), t + Duration::from_millis(20 * u64::from(seq)));
            }
            seq += 1;
        };
        for _ in 0..40 {
            push(&mut jb, false);
            jb.pop();
        }
        assert_eq!(jb.stats().target, 1, "a clean steady stream needs no look-ahead");
        for i in 0..40 {
            push(&mut jb, i % 10 == 5);
            jb.pop();
        }
        assert!(jb.stats().lost >= 3 && jb.stats().target == 2, "{:?}", jb.stats());
        // The buffer grew to the new target: a packet after a loss is there for FEC.
        push(&mut jb, true);
        push(&mut jb, false);
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            outcomes.push(jb.pop());
            push(&mut jb, false);
        }
        assert!(outcomes.iter().any(|o| matches!(o, Playout::Lost(Some(_)))), "{outcomes:?}");
    }
}

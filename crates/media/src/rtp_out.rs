//! The outgoing RTP stream of one call, sans-IO: Opus frames and RFC 4733 DTMF events share
//! one SSRC, one sequence and one clock, one 20 ms tick at a time.

use crate::dtmf::{event_of, DtmfPayload};
use std::collections::VecDeque;

/// Ticks per second.
const TICKS_PER_SEC: u32 = 50;
/// How many times the final packet of an event is sent (RFC 4733 2.5.1.4).
const END_REPEATS: usize = 3;
/// The longest tone or gap asked for, in milliseconds (longer asks are clamped).
const MAX_MS: u32 = 6000;

/// One packet to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpFrame {
    /// Payload type.
    pub payload_type: u8,
    /// Marker bit (the first packet of a DTMF event).
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Payload.
    pub payload: Vec<u8>,
}

/// A digit that cannot be sent as DTMF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a DTMF digit (0-9 * # A-D)")]
pub struct InvalidDigit(pub char);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Send an event for this many ticks.
    Tone { event: u8, ticks: u32 },
    /// Send audio (no events) for this many ticks.
    Gap { ticks: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Active {
    event: u8,
    timestamp: u32,
    ticks_done: u32,
    ticks: u32,
}

/// The sender side of one RTP stream.
#[derive(Debug, Clone)]
pub struct RtpOut {
    sequence: u16,
    timestamp: u32,
    queue: VecDeque<Step>,
    active: Option<Active>,
    gap_left: u32,
    /// The last tick sent no audio (a DTX silence): the next audio packet starts a talkspurt.
    silent: bool,
}

impl RtpOut {
    /// A stream starting at the given (random) sequence number and timestamp.
    pub fn new(sequence: u16, timestamp: u32) -> RtpOut {
        RtpOut { sequence, timestamp, queue: VecDeque::new(), active: None, gap_left: 0, silent: false }
    }

    /// Queues `digits`, each sounding `duration_ms` with `gap_ms` of audio after it (the seed
    /// SDK's defaults are 100 and 70 ms). Nothing is queued if any digit is invalid.
    pub fn queue_dtmf(&mut self, digits: &str, duration_ms: u32, gap_ms: u32) -> Result<(), InvalidDigit> {
        let events: Vec<u8> = digits.chars().map(|d| event_of(d).ok_or(InvalidDigit(d))).collect::<Result<_, _>>()?;
        let ticks = |ms: u32| ms.clamp(40, MAX_MS).div_ceil(1000 / TICKS_PER_SEC);
        for event in events {
            self.queue.push_back(Step::Tone { event, ticks: ticks(duration_ms) });
            self.queue.push_back(Step::Gap { ticks: ticks(gap_ms.max(40)) });
        }
        Ok(())
    }

    /// True while digits are queued or sounding.
    pub fn dtmf_pending(&self) -> bool {
        self.active.is_some() || !self.queue.is_empty()
    }

    /// The packets for the next 20 ms: the `audio` payload (payload type `audio_pt`, whose clock
    /// advances `audio_ticks` per 20 ms), or DTMF event packets (payload type `dtmf_pt` at
    /// `dtmf_clock` Hz) while a digit sounds. Without a negotiated telephone-event type,
    /// digits are dropped.
    pub fn tick(&mut self, audio: Vec<u8>, audio_pt: u8, audio_ticks: u32, dtmf: Option<(u8, u32)>) -> Vec<RtpFrame> {
        let ts = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(audio_ticks);
        let Some((dtmf_pt, dtmf_clock)) = dtmf else {
            self.queue.clear();
            self.active = None;
            return self.audio_frame(audio_pt, ts, audio);
        };
        if self.active.is_none() && self.gap_left == 0 {
            self.start_next(ts);
        }
        match self.active.as_mut() {
            Some(active) => {
                active.ticks_done += 1;
                let a = *active;
                self.event_packets(a, dtmf_pt, dtmf_clock)
            }
            None => {
                self.gap_left = self.gap_left.saturating_sub(1);
                self.audio_frame(audio_pt, ts, audio)
            }
        }
    }

    /// The audio packet for this tick; none for an empty payload (a silence under DTX: time
    /// moves on, the sequence does not, so the far end sees no loss).
    fn audio_frame(&mut self, payload_type: u8, timestamp: u32, audio: Vec<u8>) -> Vec<RtpFrame> {
        if audio.is_empty() {
            self.silent = true;
            return Vec::new();
        }
        // RFC 3551: the marker bit flags the first packet of a talkspurt after a silence.
        let marker = std::mem::take(&mut self.silent);
        vec![self.frame(payload_type, marker, timestamp, audio)]
    }

    fn start_next(&mut self, ts: u32) {
        match self.queue.pop_front() {
            Some(Step::Tone { event, ticks }) => self.active = Some(Active { event, timestamp: ts, ticks_done: 0, ticks }),
            Some(Step::Gap { ticks }) => self.gap_left = ticks,
            None => {}
        }
    }

    fn event_packets(&mut self, a: Active, pt: u8, clock: u32) -> Vec<RtpFrame> {
        let units = u64::from(a.ticks_done) * u64::from(clock) / u64::from(TICKS_PER_SEC);
        let duration = units.min(u64::from(u16::MAX)) as u16;
        let end = a.ticks_done >= a.ticks;
        let payload = DtmfPayload { event: a.event, end, volume: 10, duration }.encode().to_vec();
        let first = a.ticks_done == 1;
        let repeats = if end { END_REPEATS } else { 1 };
        let packets = (0..repeats).map(|i| self.frame(pt, first && i == 0, a.timestamp, payload.clone())).collect();
        if end {
            self.active = None;
        }
        packets
    }

    fn frame(&mut self, payload_type: u8, marker: bool, timestamp: u32, payload: Vec<u8>) -> RtpFrame {
        let f = RtpFrame { payload_type, marker, sequence: self.sequence, timestamp, payload };
        self.sequence = self.sequence.wrapping_add(1);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(out: &mut RtpOut, ticks: usize) -> Vec<RtpFrame> {
        (0..ticks).flat_map(|_| out.tick(vec![0xAA], 111, 960, Some((110, 48_000)))).collect()
    }

    #[test]
    fn a_dtx_silence_sends_nothing_keeps_the_clock_and_marks_the_next_talkspurt() {
        let mut out = RtpOut::new(7, 1000);
        let mut sent = Vec::new();
        for tick in 0..10 {
            let payload = if (3..8).contains(&tick) { Vec::new() } else { vec![0xAA; 40] };
            sent.extend(out.tick(payload, 111, 960, None));
        }
        let seqs: Vec<u16> = sent.iter().map(|f| f.sequence).collect();
        assert_eq!(seqs, vec![7, 8, 9, 10, 11], "no packet in the silence, no gap in the sequence");
        let stamps: Vec<u32> = sent.iter().map(|f| f.timestamp).collect();
        assert_eq!(stamps, vec![1000, 1960, 2920, 1000 + 8 * 960, 1000 + 9 * 960], "time went on through the silence");
        let markers: Vec<bool> = sent.iter().map(|f| f.marker).collect();
        assert_eq!(markers, vec![false, false, false, true, false]);
    }

    #[test]
    fn audio_frames_advance_by_20_ms() {
        let mut out = RtpOut::new(65_535, 4_294_967_000);
        let f = run(&mut out, 3);
        assert_eq!(f.iter().map(|p| p.sequence).collect::<Vec<_>>(), vec![65_535, 0, 1]);
        assert_eq!(f[1].timestamp, 4_294_967_000u32.wrapping_add(960));
        assert!(f.iter().all(|p| p.payload_type == 111 && !p.marker));
    }

    #[test]
    fn a_digit_is_one_event_with_growing_duration_and_three_ends() {
        let mut out = RtpOut::new(1, 1000);
        out.queue_dtmf("5", 100, 70).unwrap();
        let f = run(&mut out, 10);
        let events: Vec<_> = f.iter().filter(|p| p.payload_type == 110).collect();
        // 100 ms = 5 ticks: 4 growing packets then 3 end packets, all with the first tick's timestamp.
        assert_eq!(events.len(), 4 + 3);
        assert!(events[0].marker && events[1..].iter().all(|p| !p.marker));
        assert!(events.iter().all(|p| p.timestamp == 1000));
        let decoded: Vec<_> = events.iter().map(|p| DtmfPayload::decode(&p.payload).unwrap()).collect();
        assert_eq!(decoded[0].duration, 960);
        assert_eq!(decoded[3].duration, 960 * 4);
        assert!(decoded[4..].iter().all(|d| d.end && d.event == 5 && d.duration == 960 * 5));
        // Then 70 ms (4 ticks) of audio before anything else.
        let seqs: Vec<u16> = f.iter().map(|p| p.sequence).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
        assert_eq!(f.iter().filter(|p| p.payload_type == 111).count(), 5);
    }

    #[test]
    fn digits_follow_each_other_and_bad_digits_are_refused() {
        let mut out = RtpOut::new(0, 0);
        assert_eq!(out.queue_dtmf("12x", 100, 70), Err(InvalidDigit('x')));
        assert!(!out.dtmf_pending());
        out.queue_dtmf("1#", 100, 70).unwrap();
        let f = run(&mut out, 30);
        let ends: Vec<u8> = f.iter().filter_map(|p| DtmfPayload::decode(&p.payload).filter(|d| p.payload_type == 110 && d.end)).map(|d| d.event).collect();
        assert_eq!(ends, vec![1, 1, 1, 11, 11, 11]);
        assert!(!out.dtmf_pending());
    }

    #[test]
    fn an_8000_hz_event_counts_in_its_own_clock() {
        let mut out = RtpOut::new(0, 0);
        out.queue_dtmf("9", 100, 70).unwrap();
        let f: Vec<_> = (0..2).flat_map(|_| out.tick(vec![1], 111, 960, Some((101, 8000)))).collect();
        assert_eq!(DtmfPayload::decode(&f[1].payload).unwrap().duration, 320);
    }
}

//! Call quality, sans-IO: packet loss, jitter, round-trip time, bitrate and an estimated MOS
//! from two readings of a call's counters.
//!
//! The MOS is the ITU-T G.107 E-model's, with the simplifications common in VoIP monitoring:
//! the transmission rating starts from the default R0 − Is ≈ 93.2, loses the delay impairment
//! Id of the one-way delay (half the round trip plus the jitter buffer), and the
//! equipment impairment of the codec under random loss,
//! Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl + Bpl) (G.107 7.3; Ie and Bpl from G.113 Appendix I
//! for G.711 with concealment, and the values usually quoted for Opus at VoIP bitrates).

use crate::codecs::AudioCodec;
use std::time::Duration;

/// Cumulative counters of one call at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    /// Packets received (in time or late).
    pub received: u64,
    /// Packets that never arrived.
    pub lost: u64,
    /// Interarrival jitter now (RFC 3550), in milliseconds.
    pub jitter_ms: f64,
    /// Round-trip time from RTCP, in milliseconds, once measured.
    pub rtt_ms: Option<f64>,
    /// Payload bytes sent.
    pub bytes_sent: u64,
    /// Payload bytes received.
    pub bytes_received: u64,
    /// The loss the far end reports for what we send (RTCP fraction lost), in percent.
    pub remote_loss_percent: Option<f64>,
    /// How long the jitter buffer holds audio, in milliseconds.
    pub buffer_ms: f64,
}

/// The quality of a call over the last interval.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallQuality {
    /// Share of the packets of the interval that were lost on the way to us, in percent.
    pub loss_percent: f64,
    /// Share of our packets the far end lost, in percent (from its RTCP reports).
    pub remote_loss_percent: Option<f64>,
    /// Interarrival jitter, in milliseconds.
    pub jitter_ms: f64,
    /// Round-trip time, in milliseconds, once RTCP has measured it.
    pub rtt_ms: Option<f64>,
    /// Receive bitrate over the interval, in kbit/s.
    pub receive_kbps: f64,
    /// Send bitrate over the interval, in kbit/s.
    pub send_kbps: f64,
    /// Estimated mean opinion score, 1 (bad) to 4.5 (excellent).
    pub mos: f64,
    /// The loss (percent) our Opus encoder puts in-band FEC for, once tuned to the far end.
    pub opus_expected_loss: Option<i32>,
    /// The bitrate (bit/s) our Opus encoder is set to, once tuned to the far end.
    pub opus_bitrate: Option<i32>,
}

/// The quality between reading `before` and reading `now`, `elapsed` apart, for `codec`.
pub fn between(before: &Counters, now: &Counters, elapsed: Duration, codec: AudioCodec) -> CallQuality {
    let received = now.received.saturating_sub(before.received);
    let lost = now.lost.saturating_sub(before.lost);
    let expected = received + lost;
    let loss_percent = if expected == 0 { 0.0 } else { 100.0 * lost as f64 / expected as f64 };
    let secs = elapsed.as_secs_f64().max(1e-3);
    let kbps = |bytes: u64| bytes as f64 * 8.0 / 1000.0 / secs;
    let one_way = now.rtt_ms.unwrap_or(0.0) / 2.0 + now.buffer_ms + now.jitter_ms;
    CallQuality {
        loss_percent,
        remote_loss_percent: now.remote_loss_percent,
        jitter_ms: now.jitter_ms,
        rtt_ms: now.rtt_ms,
        receive_kbps: kbps(now.bytes_received.saturating_sub(before.bytes_received)),
        send_kbps: kbps(now.bytes_sent.saturating_sub(before.bytes_sent)),
        mos: mos(one_way, loss_percent, codec),
        opus_expected_loss: None,
        opus_bitrate: None,
    }
}

/// Equipment impairment Ie and packet-loss robustness Bpl of a codec.
fn impairment(codec: AudioCodec) -> (f64, f64) {
    match codec {
        // Wideband speech scored on the narrowband scale (G.107's 93.2 ceiling) starts at 0;
        // in-band FEC and concealment make Opus robust to random loss.
        AudioCodec::Opus => (0.0, 20.0),
        // G.711 with packet loss concealment (G.113 Appendix I).
        AudioCodec::Pcmu | AudioCodec::Pcma => (0.0, 25.1),
    }
}

/// The delay impairment Id of a one-way mouth-to-ear delay (the usual two-segment fit of
/// G.107's curve).
fn delay_impairment(one_way_ms: f64) -> f64 {
    let d = one_way_ms.max(0.0);
    0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 }
}

/// The estimated MOS for a one-way delay and a random packet loss.
pub fn mos(one_way_ms: f64, loss_percent: f64, codec: AudioCodec) -> f64 {
    let (ie, bpl) = impairment(codec);
    let ppl = loss_percent.clamp(0.0, 100.0);
    let ie_eff = ie + (95.0 - ie) * ppl / (ppl + bpl);
    let r = 93.2 - delay_impairment(one_way_ms) - ie_eff;
    r_to_mos(r)
}

/// G.107 Annex B: the MOS of a transmission rating R.
fn r_to_mos(r: f64) -> f64 {
    if r <= 0.0 {
        return 1.0;
    }
    if r >= 100.0 {
        return 4.5;
    }
    1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
}

/// The Opus settings for a far end that loses `loss_percent` of our packets: the encoder is
/// told the loss (it puts that much redundancy in its in-band FEC) and gets more bits while
/// there is loss, so the FEC does not eat the speech's share. Without loss it keeps about
/// libopus's own choice for 48 kHz mono voice (≈ 51 kbit/s): less cost PESQ in the benchmark.
pub fn opus_target(loss_percent: f64) -> (i32, i32) {
    let loss = loss_percent.clamp(0.0, 50.0);
    let expected_loss = loss.ceil() as i32;
    let bitrate = match loss {
        l if l < 1.0 => 48_000,
        l if l < 5.0 => 56_000,
        _ => 64_000,
    };
    (expected_loss.max(1), bitrate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_short_path_scores_excellent_and_loss_and_delay_lower_it() {
        let clean = mos(20.0, 0.0, AudioCodec::Opus);
        assert!(clean > 4.3, "{clean}");
        let lossy = mos(20.0, 5.0, AudioCodec::Opus);
        assert!((3.5..4.1).contains(&lossy), "5 % random loss with FEC: {lossy}");
        assert!(mos(20.0, 5.0, AudioCodec::Pcmu) > lossy - 0.2, "G.711 with PLC is in the same range");
        assert!(mos(400.0, 0.0, AudioCodec::Opus) < 3.8, "400 ms one way hurts a conversation");
        assert!(mos(20.0, 100.0, AudioCodec::Opus) < 1.5, "nothing arrives");
    }

    #[test]
    fn the_interval_figures_come_from_the_differences_of_the_counters() {
        let before = Counters { received: 100, lost: 0, bytes_sent: 10_000, bytes_received: 9_000, ..Counters::default() };
        let now = Counters {
            received: 195,
            lost: 5,
            jitter_ms: 12.5,
            rtt_ms: Some(40.0),
            bytes_sent: 30_000,
            bytes_received: 19_000,
            remote_loss_percent: Some(2.0),
            buffer_ms: 40.0,
        };
        let q = between(&before, &now, Duration::from_secs(2), AudioCodec::Opus);
        assert!((q.loss_percent - 5.0).abs() < 1e-9, "5 of 100 expected: {}", q.loss_percent);
        assert_eq!((q.jitter_ms, q.rtt_ms, q.remote_loss_percent), (12.5, Some(40.0), Some(2.0)));
        assert!((q.send_kbps - 80.0).abs() < 1e-9 && (q.receive_kbps - 40.0).abs() < 1e-9, "{q:?}");
        assert!((q.mos - mos(72.5, 5.0, AudioCodec::Opus)).abs() < 1e-9);
        let idle = between(&now, &now, Duration::from_secs(2), AudioCodec::Opus);
        assert_eq!(idle.loss_percent, 0.0, "nothing expected, nothing lost");
    }

    #[test]
    fn opus_gets_more_redundancy_and_bits_as_the_far_end_loses_more() {
        assert_eq!(opus_target(0.0), (1, 48_000));
        assert_eq!(opus_target(3.2), (4, 56_000));
        assert_eq!(opus_target(10.0), (10, 64_000));
        assert_eq!(opus_target(80.0), (50, 64_000));
    }
}

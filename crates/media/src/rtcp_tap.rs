//! Reads the far end's reception reports about our audio: the loss it sees and the round trip.
//!
//! webrtc-rs's own statistics take loss only from RTCP receiver reports (not from the report
//! blocks of sender reports, which is what a far end that also sends uses) and leave the round
//! trip at zero. This interceptor sits in the peer's chain, looks at every inbound RTCP
//! packet, passes everything on untouched, and keeps the last report about our stream.

use rtc::interceptor::{Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::sansio::Protocol;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What the far end last reported about our stream.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RemoteReport {
    /// The share of our packets it lost since its previous report, in percent.
    pub loss_percent: f64,
    /// The round trip (RFC 3550 6.4.1: arrival − LSR − DLSR), in milliseconds, when the report
    /// answers one of our sender reports.
    pub rtt_ms: Option<f64>,
}

/// Where the tap leaves what it read; the peer reads it for its statistics.
pub type Reports = Arc<Mutex<Option<RemoteReport>>>;

/// The interceptor. `ssrc` is our audio's.
pub struct RtcpTap {
    ssrc: u32,
    reports: Reports,
    read: VecDeque<TaggedPacket>,
    write: VecDeque<TaggedPacket>,
}

impl RtcpTap {
    /// A tap for our stream `ssrc`, writing to `reports`.
    pub fn new(ssrc: u32, reports: Reports) -> RtcpTap {
        RtcpTap { ssrc, reports, read: VecDeque::new(), write: VecDeque::new() }
    }

    fn note(&self, blocks: &[ReceptionReport]) {
        let Some(block) = blocks.iter().find(|b| b.ssrc == self.ssrc) else { return };
        let report = remote_report(block, ntp_middle_32(SystemTime::now()));
        *self.reports.lock().unwrap() = Some(report);
    }
}

/// The report in `block`, received when the NTP clock's middle 32 bits were `arrival`.
pub fn remote_report(block: &ReceptionReport, arrival: u32) -> RemoteReport {
    let loss_percent = f64::from(block.fraction_lost) * 100.0 / 256.0;
    let rtt_ms = (block.last_sender_report != 0).then(|| {
        let units = arrival.wrapping_sub(block.last_sender_report).wrapping_sub(block.delay);
        f64::from(units) * 1000.0 / 65536.0
    });
    // A round trip "longer" than a minute is a clock step or a wrapped value: leave it out.
    RemoteReport { loss_percent, rtt_ms: rtt_ms.filter(|ms| *ms < 60_000.0) }
}

/// The middle 32 bits of the NTP timestamp of `t` (16.16 fixed-point seconds), as in LSR.
pub fn ntp_middle_32(t: SystemTime) -> u32 {
    const NTP_TO_UNIX_SECS: u64 = 2_208_988_800;
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() + NTP_TO_UNIX_SECS;
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    (((secs & 0xffff) << 16) | (frac >> 16)) as u32
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for RtcpTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = rtc::shared::error::Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            for packet in packets {
                let any = packet.as_any();
                if let Some(sr) = any.downcast_ref::<SenderReport>() {
                    self.note(&sr.reports);
                } else if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
                    self.note(&rr.reports);
                }
            }
        }
        self.read.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write.pop_front()
    }
}

impl Interceptor for RtcpTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn loss_and_round_trip_come_from_the_report_block() {
        let sent = SystemTime::now();
        let lsr = ntp_middle_32(sent);
        let block = ReceptionReport { ssrc: 7, fraction_lost: 26, last_sender_report: lsr, delay: 65536 / 10, ..Default::default() };
        // Answered 100 ms after our SR reached it, arriving 130 ms after we sent the SR.
        let report = remote_report(&block, ntp_middle_32(sent + Duration::from_millis(130)));
        assert!((report.loss_percent - 10.16).abs() < 0.01, "{report:?}");
        let rtt = report.rtt_ms.unwrap();
        assert!((rtt - 30.0).abs() < 0.2, "130 ms − 100 ms held: {rtt}");
        let no_sr = ReceptionReport { last_sender_report: 0, ..block };
        assert_eq!(remote_report(&no_sr, lsr).rtt_ms, None, "no SR answered yet: no round trip");
    }
}

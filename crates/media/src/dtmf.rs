//! RFC 4733 telephone-event payloads (DTMF digits in RTP).

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPayload {
    /// Event code: 0-9 digits, 10 `*`, 11 `#`, 12-15 `A`-`D`.
    pub event: u8,
    /// Set on the last packets of the event.
    pub end: bool,
    /// Power level in -dBm0 (0..=63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

/// The event code of a DTMF digit (`0-9 * # A-D`, case-insensitive).
pub fn event_of(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

/// The digit of an event code.
pub fn digit_of(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + event - 12) as char),
        _ => None,
    }
}

impl DtmfPayload {
    /// The four payload bytes.
    pub fn encode(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [self.event, (u8::from(self.end) << 7) | (self.volume & 0x3f), d[0], d[1]]
    }

    /// Reads a payload; `None` when shorter than four bytes.
    pub fn decode(b: &[u8]) -> Option<DtmfPayload> {
        let b: &[u8; 4] = b.get(..4)?.try_into().ok()?;
        Some(DtmfPayload { event: b[0], end: b[1] & 0x80 != 0, volume: b[1] & 0x3f, duration: u16::from_be_bytes([b[2], b[3]]) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_and_payloads_round_trip() {
        for d in "0123456789*#ABCD".chars() {
            assert_eq!(digit_of(event_of(d).unwrap()), Some(d));
        }
        assert_eq!(event_of('x'), None);
        let p = DtmfPayload { event: 11, end: true, volume: 10, duration: 800 };
        assert_eq!(p.encode(), [11, 0x8a, 0x03, 0x20]);
        assert_eq!(DtmfPayload::decode(&p.encode()), Some(p));
        assert_eq!(DtmfPayload::decode(&[1, 2]), None);
    }
}

//! G.711 µ-law (PCMU) and A-law (PCMA), the fallback codecs, with the 48 kHz ↔ 8 kHz
//! conversion the rest of the pipeline needs.

/// Samples of 8 kHz audio in a 20 ms frame.
pub const FRAME_8K: usize = 160;
/// 48 kHz samples per 8 kHz sample.
const RATIO: usize = 6;

/// Which law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    /// µ-law (PCMU, payload type 0).
    Mu,
    /// A-law (PCMA, payload type 8).
    A,
}

const BIAS: i32 = 0x84;
const CLIP: i32 = 32_635;

/// Encodes one linear sample as µ-law.
pub fn mu_encode(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign = if s < 0 { 0x80 } else { 0 };
    if s < 0 {
        s = -s;
    }
    s = s.min(CLIP) + BIAS;
    let exponent = (7 - (s.leading_zeros() as i32 - 17)).clamp(0, 7);
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// Decodes one µ-law byte.
pub fn mu_decode(byte: u8) -> i16 {
    let b = !byte;
    let exponent = i32::from((b >> 4) & 0x07);
    let mantissa = i32::from(b & 0x0f);
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    (if b & 0x80 != 0 { -magnitude } else { magnitude }) as i16
}

/// Encodes one linear sample as A-law.
pub fn a_encode(sample: i16) -> u8 {
    let s = i32::from(sample) >> 3; // 13-bit range
    let (sign, mag) = if s >= 0 { (0xd5u8, s) } else { (0x55u8, -s - 1) };
    let mag = mag.min(0x0fff);
    let code = if mag < 32 {
        (mag >> 1) as u8
    } else {
        let exponent = (31 - mag.leading_zeros() as i32) - 4;
        ((exponent << 4) as u8) | ((mag >> exponent) & 0x0f) as u8
    };
    code ^ sign
}

/// Decodes one A-law byte.
pub fn a_decode(byte: u8) -> i16 {
    let b = byte ^ 0x55;
    let exponent = i32::from((b >> 4) & 0x07);
    let mantissa = i32::from(b & 0x0f);
    let magnitude = if exponent == 0 { (mantissa << 4) + 8 } else { ((mantissa << 4) + 0x108) << (exponent - 1) };
    (if b & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

/// 20 ms at 48 kHz (960 samples) to a 160-byte G.711 payload: each 8 kHz sample is the mean
/// of six 48 kHz samples (a box low-pass before decimation).
pub fn encode_frame(law: Law, pcm48: &[i16]) -> Vec<u8> {
    pcm48
        .chunks(RATIO)
        .map(|c| {
            let mean = (c.iter().map(|s| i32::from(*s)).sum::<i32>() / c.len() as i32) as i16;
            match law {
                Law::Mu => mu_encode(mean),
                Law::A => a_encode(mean),
            }
        })
        .collect()
}

/// A G.711 payload to 48 kHz samples, interpolating linearly between 8 kHz samples.
/// `last` carries the previous frame's final sample across calls.
pub fn decode_frame(law: Law, payload: &[u8], last: &mut i16) -> Vec<i16> {
    let mut out = Vec::with_capacity(payload.len() * RATIO);
    for byte in payload {
        let s = match law {
            Law::Mu => mu_decode(*byte),
            Law::A => a_decode(*byte),
        };
        let (from, to) = (i32::from(*last), i32::from(s));
        for k in 1..=RATIO as i32 {
            out.push((from + (to - from) * k / RATIO as i32) as i16);
        }
        *last = s;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{dominant_frequency, Tone};

    #[test]
    fn laws_round_trip_within_their_step_size() {
        for s in (-32_768..=32_767).step_by(7) {
            let s = s as i16;
            for (enc, dec) in [(mu_encode as fn(i16) -> u8, mu_decode as fn(u8) -> i16), (a_encode, a_decode)] {
                let back = dec(enc(s));
                let tolerance = (i32::from(s).abs() / 16).max(16) + 8;
                assert!((i32::from(back) - i32::from(s)).abs() <= tolerance, "{s} -> {back}");
            }
        }
        assert_eq!(mu_encode(0), 0xff);
        assert_eq!(a_encode(0), 0xd5);
    }

    #[test]
    fn a_tone_survives_a_g711_frame_trip() {
        let mut tone = Tone::new(1000.0, 48_000, 8000);
        for law in [Law::Mu, Law::A] {
            let mut last = 0;
            let mut out = Vec::new();
            for _ in 0..25 {
                let payload = encode_frame(law, &tone.next_frame(960));
                assert_eq!(payload.len(), FRAME_8K);
                out.extend(decode_frame(law, &payload, &mut last));
            }
            assert_eq!(dominant_frequency(&out[4800..], 48_000, 100, 3500, 10).0, 1000);
        }
    }
}

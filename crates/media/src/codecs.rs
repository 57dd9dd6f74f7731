//! Which audio codec a call uses, read from the negotiated SDP, and encoding and decoding
//! 20 ms frames with it.

use crate::codec::{CodecError, Decoder, Encoder, DTX_SILENT_LEN, FRAME};
use crate::g711::{self, Law};

/// The audio codecs this crate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AudioCodec {
    /// Opus (RTP clock 48 kHz; RingCentral also lists an `OPUS/16000` variant).
    Opus,
    /// G.711 µ-law.
    Pcmu,
    /// G.711 A-law.
    Pcma,
}

impl AudioCodec {
    /// Our default preference: Opus, then G.711.
    pub const ALL: [AudioCodec; 3] = [AudioCodec::Opus, AudioCodec::Pcmu, AudioCodec::Pcma];

    /// The codec an `a=rtpmap` encoding name means (case-insensitive), if we speak it.
    pub fn from_rtpmap(name: &str) -> Option<(AudioCodec, u32)> {
        let mut parts = name.split('/');
        let codec = match parts.next()?.to_ascii_lowercase().as_str() {
            "opus" => AudioCodec::Opus,
            "pcmu" => AudioCodec::Pcmu,
            "pcma" => AudioCodec::Pcma,
            _ => return None,
        };
        let clock = parts.next()?.trim().parse().ok()?;
        Some((codec, clock))
    }
}

/// A payload type bound to a codec and its RTP clock rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// Payload type.
    pub payload_type: u8,
    /// Codec.
    pub codec: AudioCodec,
    /// RTP clock rate.
    pub clock_rate: u32,
}

impl Binding {
    /// RTP timestamp units in 20 ms.
    pub fn ticks_per_frame(&self) -> u32 {
        self.clock_rate / 50
    }
}

/// What an SDP description settled: the codec we send with, every codec we may receive, and
/// the telephone-event type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Negotiated {
    /// The first usable codec of the audio section, in its order.
    pub send: Option<Binding>,
    /// Every usable codec of the audio section.
    pub receive: Vec<Binding>,
    /// Telephone-event payload type and clock rate (48 kHz preferred).
    pub telephone_event: Option<(u8, u32)>,
}

impl Negotiated {
    /// Reads the first audio section of `sdp`, using only codecs in `allowed`; Opus at 48 kHz
    /// is preferred over other Opus clock rates.
    pub fn from_sdp(sdp: &str, allowed: &[AudioCodec]) -> Negotiated {
        let lines: Vec<&str> = sdp.lines().map(|l| l.trim_end_matches('\r')).collect();
        let order: Vec<u8> = lines
            .iter()
            .find_map(|l| l.strip_prefix("m=audio "))
            .map(|m| m.split_whitespace().skip(2).filter_map(|p| p.parse().ok()).collect())
            .unwrap_or_default();
        // One pass over the lines (the first rtpmap of a payload type counts): the lookups
        // below stay linear however many payload types a hostile offer lists.
        let mut names: std::collections::HashMap<u8, &str> = std::collections::HashMap::new();
        for l in &lines {
            let Some((p, name)) = l.strip_prefix("a=rtpmap:").and_then(|r| r.split_once(' ')) else { continue };
            if let Ok(pt) = p.trim().parse::<u8>() {
                names.entry(pt).or_insert(name.trim());
            }
        }
        let rtpmap = |pt: u8| names.get(&pt).copied();
        let receive: Vec<Binding> = order
            .iter()
            .filter_map(|pt| {
                let (codec, clock_rate) = AudioCodec::from_rtpmap(rtpmap(*pt).or_else(|| static_name(*pt))?)?;
                allowed.contains(&codec).then_some(Binding { payload_type: *pt, codec, clock_rate })
            })
            .collect();
        let send = preferred(&receive, allowed);
        let event = |clock: u32| order.iter().copied().find(|pt| rtpmap(*pt).is_some_and(|n| n.eq_ignore_ascii_case(&format!("telephone-event/{clock}"))));
        let telephone_event = event(48_000).map(|pt| (pt, 48_000)).or_else(|| event(8000).map(|pt| (pt, 8000)));
        Negotiated { send, receive, telephone_event }
    }

    /// The codec bound to `payload_type`, if any.
    pub fn codec_of(&self, payload_type: u8) -> Option<Binding> {
        self.receive.iter().copied().find(|b| b.payload_type == payload_type)
    }
}

/// The send codec: Opus/48000 if offered, else any Opus, else the first of the rest.
fn preferred(receive: &[Binding], allowed: &[AudioCodec]) -> Option<Binding> {
    let by_preference = |b: &&Binding| allowed.iter().position(|c| *c == b.codec).unwrap_or(usize::MAX);
    let opus48 = receive.iter().find(|b| b.codec == AudioCodec::Opus && b.clock_rate == 48_000);
    opus48.or_else(|| receive.iter().min_by_key(by_preference)).copied()
}

/// Static payload types that may come without an rtpmap line.
fn static_name(pt: u8) -> Option<&'static str> {
    match pt {
        0 => Some("PCMU/8000"),
        8 => Some("PCMA/8000"),
        _ => None,
    }
}

/// Encodes 20 ms frames with whatever codec was negotiated.
pub struct Encoders {
    opus: Option<Encoder>,
    /// The loss (percent) and bitrate Opus is tuned for, once the far end reported loss.
    opus_target: Option<(i32, i32)>,
    /// Opus sends nothing in silences (discontinuous transmission).
    dtx: bool,
}

impl Encoders {
    /// Encoders (Opus is made on first use).
    pub fn new() -> Encoders {
        Encoders { opus: None, opus_target: None, dtx: false }
    }

    /// Turns Opus's discontinuous transmission on or off (off by default): with it,
    /// [`encode`](Self::encode) gives an empty payload for a silent frame, which is not sent.
    pub fn set_dtx(&mut self, on: bool) -> Result<(), CodecError> {
        self.dtx = on;
        match self.opus.as_mut() {
            Some(encoder) => encoder.set_dtx(on),
            None => Ok(()),
        }
    }

    /// One 20 ms frame (960 samples at 48 kHz) as a payload for `codec`; empty when DTX is
    /// on and the frame is silence that need not be sent.
    pub fn encode(&mut self, codec: AudioCodec, frame: &[i16]) -> Result<Vec<u8>, CodecError> {
        match codec {
            AudioCodec::Opus => {
                if self.opus.is_none() {
                    let mut encoder = Encoder::new()?;
                    if let Some((loss, bitrate)) = self.opus_target {
                        encoder.adapt(loss, bitrate)?;
                    }
                    encoder.set_dtx(self.dtx)?;
                    self.opus = Some(encoder);
                }
                let payload = self.opus.as_mut().expect("made above").encode(frame)?;
                Ok(if self.dtx && payload.len() <= DTX_SILENT_LEN { Vec::new() } else { payload })
            }
            AudioCodec::Pcmu => Ok(g711::encode_frame(Law::Mu, frame)),
            AudioCodec::Pcma => Ok(g711::encode_frame(Law::A, frame)),
        }
    }
}

impl Encoders {
    /// Tunes Opus for a far end that loses `loss_percent` of our packets
    /// ([`crate::quality::opus_target`]).
    pub fn adapt_to_loss(&mut self, loss_percent: f64) -> Result<(), CodecError> {
        let target = crate::quality::opus_target(loss_percent);
        if self.opus_target == Some(target) {
            return Ok(());
        }
        self.opus_target = Some(target);
        match self.opus.as_mut() {
            Some(encoder) => encoder.adapt(target.0, target.1),
            None => Ok(()),
        }
    }

    /// The loss (percent) and bitrate Opus is tuned for, if it was adapted.
    pub fn opus_target(&self) -> Option<(i32, i32)> {
        self.opus_target
    }
}

impl Default for Encoders {
    fn default() -> Self {
        Encoders::new()
    }
}

/// Decodes payloads of any negotiated codec to 48 kHz, and conceals lost frames.
pub struct Decoders {
    opus: Decoder,
    g711_last: i16,
    last_codec: AudioCodec,
}

impl Decoders {
    /// Decoders for a new stream.
    pub fn new() -> Result<Decoders, CodecError> {
        Ok(Decoders { opus: Decoder::new()?, g711_last: 0, last_codec: AudioCodec::Opus })
    }

    /// Decodes one payload.
    pub fn decode(&mut self, codec: AudioCodec, payload: &[u8]) -> Result<Vec<i16>, CodecError> {
        self.last_codec = codec;
        match codec {
            AudioCodec::Opus => Ok(self.opus.decode(payload)?.to_vec()),
            AudioCodec::Pcmu => Ok(g711::decode_frame(Law::Mu, payload, &mut self.g711_last)),
            AudioCodec::Pcma => Ok(g711::decode_frame(Law::A, payload, &mut self.g711_last)),
        }
    }

    /// 20 ms for a lost frame: Opus rebuilds it from the next packet's FEC (when `next` is an
    /// Opus packet) or by its concealment; G.711 fades the last sample out.
    pub fn conceal(&mut self, next: Option<(AudioCodec, &[u8])>) -> Result<Vec<i16>, CodecError> {
        match self.last_codec {
            AudioCodec::Opus => {
                let fec = next.filter(|(c, _)| *c == AudioCodec::Opus).map(|(_, p)| p);
                Ok(self.opus.conceal(fec)?.to_vec())
            }
            AudioCodec::Pcmu | AudioCodec::Pcma => {
                let from = f32::from(self.g711_last);
                self.g711_last = 0;
                Ok((0..FRAME).map(|i| (from * (1.0 - i as f32 / FRAME as f32)) as i16).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RC_OFFER: &str = "v=0\r\nm=audio 36512 RTP/SAVPF 109 111 18 0 8 9 96 101\r\n\
a=rtpmap:109 OPUS/16000\r\na=rtpmap:111 OPUS/48000/2\r\na=rtpmap:18 g729/8000\r\na=rtpmap:0 pcmu/8000\r\n\
a=rtpmap:8 pcma/8000\r\na=rtpmap:9 g722/8000\r\na=rtpmap:96 ilbc/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

    #[test]
    fn a_hostile_offer_with_tens_of_thousands_of_payload_types_is_read_right() {
        // ~250 KiB: the media line lists 40 000 payload types, 5 000 rtpmap lines follow (the
        // lookups are one pass each, not one pass per payload type).
        let listed = vec!["96"; 40_000].join(" ");
        let maps: String = (0..5_000).map(|i| format!("a=rtpmap:{} x{i}/8000\r\n", 96 + i % 30)).collect();
        let sdp = format!("v=0\r\nm=audio 5 RTP/SAVPF {listed} 0\r\n{maps}a=rtpmap:0 pcmu/8000\r\n");
        assert!(sdp.len() > 200_000);
        let n = Negotiated::from_sdp(&sdp, &AudioCodec::ALL);
        assert_eq!(n.send.map(|b| (b.payload_type, b.codec)), Some((0, AudioCodec::Pcmu)));
        let (for_stack, _) = crate::sdp::opus_for_webrtc(&sdp);
        assert_eq!(for_stack.len(), sdp.len());
    }

    #[test]
    fn with_dtx_silence_is_mostly_not_sent_and_speech_always_is() {
        let mut tone = crate::tone::Tone::new(700.0, 48_000, 8000);
        for dtx in [false, true] {
            let mut enc = Encoders::new();
            enc.set_dtx(dtx).unwrap();
            let silent = (0..100).filter(|_| enc.encode(AudioCodec::Opus, &[0; FRAME]).unwrap().is_empty()).count();
            let dropped_speech = (0..50).filter(|_| enc.encode(AudioCodec::Opus, &tone.next_frame(FRAME)).unwrap().is_empty()).count();
            assert_eq!(dropped_speech, 0, "dtx {dtx}: every frame of a tone is sent");
            if dtx {
                // libopus: a few frames of silence before DTX starts, then one update per 400 ms.
                assert!(silent >= 80, "only {silent} of 100 silent frames were left out");
            } else {
                assert_eq!(silent, 0, "without DTX every frame is sent");
            }
        }
    }

    #[test]
    fn ringcentral_offer_sends_opus_48k_and_ignores_the_rest() {
        let n = Negotiated::from_sdp(RC_OFFER, &AudioCodec::ALL);
        assert_eq!(n.send, Some(Binding { payload_type: 111, codec: AudioCodec::Opus, clock_rate: 48_000 }));
        assert_eq!(n.codec_of(109).map(|b| b.clock_rate), Some(16_000));
        assert_eq!(n.codec_of(0).map(|b| b.codec), Some(AudioCodec::Pcmu));
        assert_eq!(n.codec_of(18), None, "g729 is not ours");
        assert_eq!(n.telephone_event, Some((101, 8000)));
    }

    #[test]
    fn restricted_or_reduced_offers_fall_back() {
        let n = Negotiated::from_sdp(RC_OFFER, &[AudioCodec::Pcmu]);
        assert_eq!(n.send.map(|b| (b.payload_type, b.ticks_per_frame())), Some((0, 160)));
        let opus16 = RC_OFFER.replace(" 111 ", " ").replace("a=rtpmap:111 OPUS/48000/2\r\n", "");
        let n = Negotiated::from_sdp(&opus16, &AudioCodec::ALL);
        assert_eq!(n.send.map(|b| (b.payload_type, b.ticks_per_frame())), Some((109, 320)));
        let static_only = "m=audio 9 RTP/AVP 8\r\n";
        assert_eq!(Negotiated::from_sdp(static_only, &AudioCodec::ALL).send.map(|b| b.codec), Some(AudioCodec::Pcma));
        assert_eq!(Negotiated::from_sdp("m=audio 9 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n", &AudioCodec::ALL).send, None);
    }

    #[test]
    fn every_codec_round_trips_a_frame() {
        let mut enc = Encoders::new();
        let mut dec = Decoders::new().unwrap();
        let frame = crate::tone::Tone::new(1000.0, 48_000, 8000).next_frame(FRAME);
        for codec in AudioCodec::ALL {
            let payload = enc.encode(codec, &frame).unwrap();
            assert_eq!(dec.decode(codec, &payload).unwrap().len(), FRAME);
            assert_eq!(dec.conceal(None).unwrap().len(), FRAME);
        }
    }
}

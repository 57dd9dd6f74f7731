//! Opus at 48 kHz mono, 20 ms frames, in-band FEC on, packet-loss concealment on loss.

/// Samples in one 20 ms frame at 48 kHz.
pub const FRAME: usize = 960;

/// Why encoding or decoding failed.
#[derive(Debug, thiserror::Error)]
#[error("opus: {0}")]
pub struct CodecError(#[from] opus::Error);

/// With DTX on, an Opus payload this long or shorter carries nothing the decoder needs: the
/// frame is not sent (libopus's documented rule).
pub const DTX_SILENT_LEN: usize = 2;

/// An Opus encoder tuned for voice: 20 ms mono frames at 48 kHz.
pub struct Encoder {
    inner: opus::Encoder,
    out: Vec<u8>,
}

impl Encoder {
    /// A VoIP encoder with in-band FEC, expecting some loss.
    pub fn new() -> Result<Self, CodecError> {
        let mut inner = opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip)?;
        inner.set_inband_fec(true)?;
        inner.set_packet_loss_perc(5)?;
        Ok(Self { inner, out: vec![0; 1500] })
    }

    /// Tells the encoder how much loss to expect (percent; it sizes its in-band FEC by it) and
    /// what bitrate to use (bit/s).
    pub fn adapt(&mut self, expected_loss_percent: i32, bitrate: i32) -> Result<(), CodecError> {
        self.inner.set_packet_loss_perc(expected_loss_percent.clamp(0, 100))?;
        self.inner.set_bitrate(opus::Bitrate::Bits(bitrate))?;
        Ok(())
    }

    /// Turns discontinuous transmission on or off: with it, a silent stretch is encoded as
    /// payloads of at most [`DTX_SILENT_LEN`] bytes, which need not be sent, and a comfort
    /// noise update every 400 ms.
    pub fn set_dtx(&mut self, on: bool) -> Result<(), CodecError> {
        self.inner.set_dtx(on)?;
        Ok(())
    }

    /// Encodes one 20 ms frame.
    pub fn encode(&mut self, frame: &[i16]) -> Result<Vec<u8>, CodecError> {
        let n = self.inner.encode(frame, &mut self.out)?;
        Ok(self.out[..n].to_vec())
    }
}

/// An Opus decoder that conceals lost packets.
pub struct Decoder {
    inner: opus::Decoder,
    out: Vec<i16>,
}

impl Decoder {
    /// A 48 kHz mono decoder.
    pub fn new() -> Result<Self, CodecError> {
        Ok(Self { inner: opus::Decoder::new(48_000, opus::Channels::Mono)?, out: vec![0; FRAME * 6] })
    }

    /// Decodes one packet (stereo packets are down-mixed by libopus).
    pub fn decode(&mut self, packet: &[u8]) -> Result<&[i16], CodecError> {
        let n = self.inner.decode(packet, &mut self.out, false)?;
        Ok(&self.out[..n])
    }

    /// Conceals one lost 20 ms frame: from the FEC data of `next` when it arrived, else by PLC.
    pub fn conceal(&mut self, next: Option<&[u8]>) -> Result<&[i16], CodecError> {
        let n = match next {
            Some(p) => self.inner.decode(p, &mut self.out[..FRAME], true)?,
            None => self.inner.decode(&[], &mut self.out[..FRAME], false)?,
        };
        Ok(&self.out[..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tone::{dominant_frequency, Tone};

    #[test]
    fn a_tone_survives_encoding_and_loss() {
        let mut enc = Encoder::new().unwrap();
        let mut dec = Decoder::new().unwrap();
        let mut tone = Tone::new(1000.0, 48_000, 8000);
        let mut heard = Vec::new();
        for i in 0..50 {
            let packet = enc.encode(&tone.next_frame(FRAME)).unwrap();
            let pcm = if i % 10 == 5 { dec.conceal(None).unwrap().to_vec() } else { dec.decode(&packet).unwrap().to_vec() };
            assert_eq!(pcm.len(), FRAME);
            heard.extend(pcm);
        }
        let (f, share) = dominant_frequency(&heard[FRAME * 5..], 48_000, 100, 4000, 10);
        assert_eq!(f, 1000, "share {share}");
    }
}

#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Call media shared by the engine and rc-sim's bots.
//!
//! * [`peer::AudioPeer`]: one WebRTC peer connection (the `webrtc` crate) with one Opus track,
//!   non-trickle offers and answers, decoded audio and DTMF digits as events.
//! * [`codec`]: Opus 48 kHz mono, 20 ms, in-band FEC, concealment of lost packets.
//! * [`dtmf`]: RFC 4733 telephone-event payloads; [`rtp_out`]: the outgoing RTP stream
//!   (Opus frames and DTMF events on one clock), sans-IO.
//! * [`tone`]: sine generators, Goertzel detection and levels, used by bots and tests.
//! * [`wav`]: 16-bit mono WAV files for recordings.
//! * [`probe`]: play a tone through a peer, collect what it hears (bots and tests).
//! * [`processing`]: echo cancellation, noise suppression and gain control of a call's
//!   microphone (WebRTC's audio processing, ported to Rust by `sonora`).
//! * [`voicesim`]: synthetic talkers, noise, an acoustic echo path and the measures (ERLE,
//!   near-end preservation, SNR) that test the processing.

pub mod codec;
pub mod codecs;
pub mod dtmf;
pub mod fingerprint;
pub mod g711;
pub mod impair;
pub mod jitter;
pub mod netwatch;
pub mod peer;
pub mod probe;
pub mod processing;
pub mod quality;
pub mod rc_sdp;
pub mod rtcp_tap;
pub mod rtp_out;
pub mod sdp;
pub mod tone;
pub mod voicesim;
pub mod wav;

pub use peer::{AudioPeer, MediaError, MediaEvent, PeerConfig, SdpStyle};

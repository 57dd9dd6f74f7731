//! One WebRTC audio peer (the `webrtc` crate): non-trickle offer/answer, Opus out, decoded PCM
//! and DTMF digits in.

use crate::codec::FRAME;
use crate::codecs::{AudioCodec, Decoders, Encoders, Negotiated};
use crate::dtmf::{digit_of, DtmfPayload};
use crate::fingerprint::{self, Fingerprint};
use crate::jitter::{JitterBuffer, Packet, Playout, RtpTime};
use std::sync::atomic::{AtomicBool, Ordering};
use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_PCMA, MIME_TYPE_PCMU, MIME_TYPE_TELEPHONE_EVENT};
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use crate::rtp_out::{InvalidDigit, RtpFrame, RtpOut};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder, RTCIceGatheringState,
    RTCIceServer, RTCPeerConnectionState, RTCSessionDescription, SettingEngineBuilder,
};

/// How long ICE gathering may take before the description is sent as it is.
const GATHER_TIMEOUT: Duration = Duration::from_secs(3);

/// Why the media peer failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The WebRTC stack refused an operation.
    #[error("WebRTC: {0}")]
    WebRtc(String),
    /// The remote SDP is not acceptable.
    #[error("SDP: {0}")]
    Sdp(String),
    /// A codec failed.
    #[error(transparent)]
    Codec(#[from] crate::codec::CodecError),
}

fn rtc_err(e: impl std::fmt::Display) -> MediaError {
    MediaError::WebRtc(e.to_string())
}

/// Where to bind and which STUN servers to use.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// UDP addresses to bind (`127.0.0.1:0` for loopback tests).
    pub bind: Vec<String>,
    /// STUN servers as `host:port`.
    pub stun_servers: Vec<String>,
    /// Codecs to offer and accept, in order of preference.
    pub codecs: Vec<AudioCodec>,
    /// Keep received audio in an adaptive jitter buffer, from which the owner pulls one
    /// decoded frame per 20 ms with [`AudioPeer::pull_audio`] on its own clock (phones: the
    /// same tick that sends the microphone); without it every packet is decoded as it arrives
    /// and reported as [`MediaEvent::Audio`] (bots, tests).
    pub jitter_buffer: bool,
    /// How our descriptions look: a browser's, or a RingCentral media server's.
    pub style: SdpStyle,
    /// Loss and jitter put on what this peer sends (rc-sim's impaired paths; none for phones).
    pub impairment: crate::impair::Impairment,
    /// Echo cancellation, noise suppression and gain control of the microphone, for the owner
    /// that plays and records the peer's audio (the engine's call media runs a
    /// [`crate::processing::VoiceProcessor`] per call with these; the peer itself does not).
    /// All on by default; off for bots, which are not microphones.
    pub processing: crate::processing::ProcessingSettings,
    /// Opus discontinuous transmission: in silences send nothing but a comfort-noise update
    /// every 400 ms (less bandwidth and CPU on the far end; off by default, as in browsers).
    /// Received DTX streams are played whatever this says.
    pub dtx: bool,
}

/// The look of the SDP a peer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SdpStyle {
    /// What webrtc-rs and browsers write (`UDP/TLS/RTP/SAVPF`, SHA-256 fingerprint).
    #[default]
    Browser,
    /// What RingCentral's media servers write (`s=SmcSip`, `RTP/SAVPF`, `a=fingerprint:sha-1`,
    /// OPUS/16000 before OPUS/48000/2, lower-case G.7xx names, `a=rtcp:{port}`, candidates for
    /// components 1 and 2): see `crate::rc_sdp::media_server`. `opus_clock` 16000 offers
    /// Opus only on the 16 kHz clock (as some of their servers do).
    RingCentral {
        /// RTP clock of the Opus the stack really offers: 48000 or 16000.
        opus_clock: u32,
    },
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self { bind: vec!["127.0.0.1:0".into()], stun_servers: Vec::new(), codecs: AudioCodec::ALL.to_vec(), jitter_buffer: false, style: SdpStyle::Browser, impairment: crate::impair::Impairment::default(), processing: crate::processing::ProcessingSettings::default(), dtx: false }
    }
}

/// What the peer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// ICE and DTLS are up.
    Connected,
    /// The connection failed or closed.
    Disconnected(String),
    /// 20 ms of decoded audio (48 kHz mono).
    Audio(Vec<i16>),
    /// A DTMF digit ended (RFC 4733).
    Dtmf(char),
    /// The far end's DTLS certificate does not match the fingerprint of its SDP: the
    /// connection is closed and nothing was played or sent (the call should end).
    Untrusted(String),
}

/// What we know of the far end's DTLS identity: the fingerprints its SDP announced, and
/// whether the certificate it presented matched them.
#[derive(Default)]
struct Trust {
    fingerprints: Mutex<Vec<Fingerprint>>,
    verified: AtomicBool,
}

impl Trust {
    fn verified(&self) -> bool {
        self.verified.load(Ordering::Acquire)
    }
}

struct Handler {
    events: mpsc::UnboundedSender<MediaEvent>,
    gathered: mpsc::UnboundedSender<()>,
    /// DTLS is up: the certificate still has to be checked (see [`verify`]).
    connected: mpsc::UnboundedSender<()>,
    negotiated: Arc<Mutex<Negotiated>>,
    trust: Arc<Trust>,
    buffer: Option<Arc<Mutex<JitterBuffer>>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(());
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let event = match state {
            RTCPeerConnectionState::Connected => {
                let _ = self.connected.send(());
                return;
            }
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => MediaEvent::Disconnected(format!("{state:?}")),
            _ => return,
        };
        let _ = self.events.send(event);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let events = self.events.clone();
        let negotiated = self.negotiated.clone();
        let trust = self.trust.clone();
        tokio::spawn(receive(track, events, negotiated, trust, self.buffer.clone()));
    }
}

/// Reads the remote track: telephone-events become digits; audio goes to the jitter buffer
/// when there is one, else is decoded at once.
async fn receive(
    track: Arc<dyn TrackRemote>,
    events: mpsc::UnboundedSender<MediaEvent>,
    negotiated: Arc<Mutex<Negotiated>>,
    trust: Arc<Trust>,
    buffer: Option<Arc<Mutex<JitterBuffer>>>,
) {
    let Ok(mut decoders) = Decoders::new() else { return };
    let mut last_dtmf_ts = None;
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else { continue };
        if !trust.verified() {
            // Nothing from a far end whose certificate is not checked yet.
            continue;
        }
        let n = negotiated.lock().unwrap().clone();
        let pt = packet.header.payload_type;
        if Some(pt) == n.telephone_event.map(|t| t.0) {
            let Some(p) = DtmfPayload::decode(&packet.payload) else { continue };
            if p.end && last_dtmf_ts != Some(packet.header.timestamp) {
                last_dtmf_ts = Some(packet.header.timestamp);
                if let Some(d) = digit_of(p.event) {
                    let _ = events.send(MediaEvent::Dtmf(d));
                }
            }
            continue;
        }
        let Some(binding) = n.codec_of(pt).or_else(|| n.receive.is_empty().then_some(crate::codecs::Binding { payload_type: pt, codec: AudioCodec::Opus, clock_rate: 48_000 })) else { continue };
        match &buffer {
            Some(b) => {
                let p = Packet { payload_type: pt, payload: packet.payload.to_vec() };
                let time = RtpTime { timestamp: packet.header.timestamp, clock_rate: binding.clock_rate };
                b.lock().unwrap().push(packet.header.sequence_number, time, p, Instant::now());
            }
            None => {
                if let Ok(pcm) = decoders.decode(binding.codec, &packet.payload) {
                    if events.send(MediaEvent::Audio(pcm)).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Checks the far end's certificate each time DTLS comes up, then reports the peer connected;
/// a certificate that does not match the SDP fingerprint closes the connection.
async fn verify(pc: std::sync::Weak<dyn PeerConnection>, trust: Arc<Trust>, mut connected: mpsc::UnboundedReceiver<()>, events: mpsc::UnboundedSender<MediaEvent>) {
    while connected.recv().await.is_some() {
        let Some(pc) = pc.upgrade() else { return };
        let certs = remote_certificates(pc.as_ref()).await;
        if certs.is_empty() {
            // No certificate to check (the connection is closing): not a forgery, but no
            // audio either.
            trust.verified.store(false, Ordering::Release);
            let _ = events.send(MediaEvent::Disconnected("no DTLS certificate from the far end".into()));
            continue;
        }
        let fingerprints = trust.fingerprints.lock().unwrap().clone();
        match fingerprint::verify(certs.first().map(Vec::as_slice), &fingerprints) {
            Ok(()) => {
                trust.verified.store(true, Ordering::Release);
                let _ = events.send(MediaEvent::Connected);
            }
            Err(e) => {
                trust.verified.store(false, Ordering::Release);
                let _ = events.send(MediaEvent::Untrusted(e.to_string()));
                let _ = pc.close().await;
            }
        }
    }
}

/// The far end's DTLS certificate chain (DER), once the handshake is done.
async fn remote_certificates(pc: &dyn PeerConnection) -> Vec<Vec<u8>> {
    for transceiver in pc.get_transceivers().await {
        let Ok(Some(sender)) = transceiver.sender().await else { continue };
        let Ok(Some(transport)) = sender.transport().await else { continue };
        if let Ok(certs) = transport.get_remote_certificates().await {
            if !certs.is_empty() {
                return certs;
            }
        }
    }
    Vec::new()
}

/// Time between ICE connectivity checks of a candidate pair.
const ICE_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// One audio peer connection.
pub struct AudioPeer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    out: Mutex<RtpOut>,
    encoders: Mutex<Encoders>,
    codecs: Vec<AudioCodec>,
    trust: Arc<Trust>,
    certificate_der: Vec<u8>,
    style: SdpStyle,
    gathered: tokio::sync::Mutex<mpsc::UnboundedReceiver<()>>,
    negotiated: Arc<Mutex<Negotiated>>,
    /// Decides which sent packets are lost or late, when the path is impaired.
    impairer: Option<Mutex<crate::impair::Impairer>>,
    /// Received audio waiting for [`pull_audio`](Self::pull_audio), with its decoders.
    buffer: Option<Arc<Mutex<JitterBuffer>>>,
    decoders: Mutex<Option<Decoders>>,
    /// The far end's last reception report about our audio.
    remote_reports: crate::rtcp_tap::Reports,
}

/// RTCP sender and receiver reports (RFC 3550 6.4), and a tap on the far end's reports about
/// our stream `ssrc` (its loss and the round trip) for the call's quality figures.
fn rtcp_interceptors(ssrc: u32, reports: crate::rtcp_tap::Reports) -> rtc::interceptor::Registry {
    use rtc::peer_connection::configuration::interceptor_registry::configure_rtcp_reports;
    configure_rtcp_reports(rtc::interceptor::Registry::new()).with(rtc::interceptor::Slot::from(14_000), crate::rtcp_tap::RtcpTap::new(ssrc, reports))
}

fn codec(mime: &str, clock_rate: u32, channels: u16, fmtp: &str, payload_type: u8) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime.to_owned(),
            clock_rate,
            channels,
            sdp_fmtp_line: fmtp.to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type,
    }
}

/// Our payload type for telephone-event at 8000 Hz (with G.711).
const TELEPHONE_EVENT_8000: u8 = 126;

/// What we offer and accept: the allowed codecs in their order, then DTMF at the clock rates
/// they use.
fn audio_codecs(allowed: &[AudioCodec], style: SdpStyle) -> Vec<RTCRtpCodecParameters> {
    if let SdpStyle::RingCentral { opus_clock } = style {
        return ringcentral_codecs(allowed, opus_clock);
    }
    let mut list: Vec<RTCRtpCodecParameters> = Vec::new();
    for c in allowed {
        match c {
            AudioCodec::Opus => list.push(codec(MIME_TYPE_OPUS, 48_000, 2, "minptime=10;useinbandfec=1", 111)),
            AudioCodec::Pcmu => list.push(codec(MIME_TYPE_PCMU, 8_000, 0, "", 0)),
            AudioCodec::Pcma => list.push(codec(MIME_TYPE_PCMA, 8_000, 0, "", 8)),
        }
    }
    if allowed.contains(&AudioCodec::Opus) {
        list.push(codec(MIME_TYPE_TELEPHONE_EVENT, 48_000, 0, "0-16", 110));
    }
    list.push(codec(MIME_TYPE_TELEPHONE_EVENT, 8_000, 0, "0-16", TELEPHONE_EVENT_8000));
    list
}

/// What a RingCentral media server offers, with its payload types: Opus, G.729, G.711,
/// G.722, iLBC and telephone-event/8000 (those we cannot encode are listed for the offer's
/// shape; a far end always has Opus or G.711 in common with us). The stack gets one Opus entry
/// (`opus/48000/2` at 111, or `opus/16000` at 109 when `opus_clock` is 16000): webrtc-rs 0.21
/// matches codec preferences by name and fmtp but not by clock rate, so two Opus entries would
/// both come out as payload type 109. RingCentral's `109 OPUS/16000` line beside 111 is added
/// to the text by `crate::rc_sdp::media_server`.
fn ringcentral_codecs(allowed: &[AudioCodec], opus_clock: u32) -> Vec<RTCRtpCodecParameters> {
    let mut list = Vec::new();
    if allowed.contains(&AudioCodec::Opus) {
        list.push(match opus_clock {
            16_000 => codec(MIME_TYPE_OPUS, 16_000, 0, "useinbandfec=1", 109),
            _ => codec(MIME_TYPE_OPUS, 48_000, 2, "useinbandfec=1", 111),
        });
    }
    list.push(codec("audio/G729", 8_000, 0, "annexb=no", 18));
    if allowed.contains(&AudioCodec::Pcmu) {
        list.push(codec(MIME_TYPE_PCMU, 8_000, 0, "", 0));
    }
    if allowed.contains(&AudioCodec::Pcma) {
        list.push(codec(MIME_TYPE_PCMA, 8_000, 0, "", 8));
    }
    list.push(codec("audio/G722", 8_000, 0, "", 9));
    list.push(codec("audio/iLBC", 8_000, 0, "mode=20", 96));
    list.push(codec(MIME_TYPE_TELEPHONE_EVENT, 8_000, 0, "0-15", 101));
    list
}

fn media_engine(allowed: &[AudioCodec], style: SdpStyle) -> Result<MediaEngine, MediaError> {
    let mut m = MediaEngine::default();
    for c in audio_codecs(allowed, style) {
        m.register_codec(c, RtpCodecKind::Audio).map_err(rtc_err)?;
    }
    Ok(m)
}

/// Our one outgoing track, declared with the first allowed codec (the transceiver refuses a
/// track whose codec it was not given).
fn audio_track(ssrc: u32, allowed: &[AudioCodec], style: SdpStyle) -> TrackLocalStaticRTP {
    let first = audio_codecs(allowed, style).into_iter().next().expect("at least one codec");
    let encoding = RTCRtpEncodingParameters {
        rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
        codec: first.rtp_codec,
        ..Default::default()
    };
    let track = MediaStreamTrack::new("audio".into(), "audio0".into(), "audio".into(), RtpCodecKind::Audio, vec![encoding]);
    TrackLocalStaticRTP::new(track)
}

impl AudioPeer {
    /// A peer with one outgoing audio track; events arrive on the returned receiver.
    pub async fn new(cfg: &PeerConfig) -> Result<(AudioPeer, mpsc::UnboundedReceiver<MediaEvent>), MediaError> {
        let (events_tx, events) = mpsc::unbounded_channel();
        let (gathered_tx, gathered) = mpsc::unbounded_channel();
        let negotiated = Arc::new(Mutex::new(Negotiated::default()));
        if cfg.codecs.is_empty() {
            return Err(MediaError::Sdp("no audio codec allowed".into()));
        }
        let (connected_tx, connected) = mpsc::unbounded_channel();
        let trust = Arc::new(Trust::default());
        let ssrc = rand_ssrc();
        let remote_reports = crate::rtcp_tap::Reports::default();
        let buffer = cfg.jitter_buffer.then(|| Arc::new(Mutex::new(JitterBuffer::new())));
        let handler = Handler {
            events: events_tx.clone(),
            gathered: gathered_tx,
            connected: connected_tx,
            negotiated: negotiated.clone(),
            trust: trust.clone(),
            buffer: buffer.clone(),
        };
        // The stack checks only sha-256 fingerprints; we check every kind ourselves (`verify`).
        // ICE checks are paced every 50 ms (as browsers do, RFC 8445 6.1.4.2's Ta) instead of the
        // stack's 200 ms, for the same 1.4 s per pair: audio starts about 150 ms sooner.
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(rtc::ice::mdns::MulticastDnsMode::Disabled)
            .with_disable_certificate_fingerprint_verification(true)
            .with_ice_connection_attempts(Some(ICE_CHECK_INTERVAL), Some(28))
            .build();
        let ice_servers = cfg
            .stun_servers
            .iter()
            .map(|s| RTCIceServer { urls: vec![format!("stun:{s}")], ..Default::default() })
            .collect();
        // Our own DTLS certificate, so that we know its DER and can describe it with any hash
        // (RingCentral-style offers use SHA-1).
        let certificate = dtls_certificate()?;
        let certificate_der = certificate.dtls_certificate.certificate.first().map(|c| c.to_vec()).unwrap_or_default();
        let configuration = RTCConfigurationBuilder::new().with_ice_servers(ice_servers).with_certificates(vec![certificate]).build();
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media_engine(&cfg.codecs, cfg.style)?)
            .with_setting_engine(settings)
            .with_configuration(configuration)
            .with_handler(Arc::new(handler))
            .with_udp_addrs(cfg.bind.clone())
            // RTCP sender and receiver reports (RFC 3550 6.4): the far end's loss and the
            // round trip, for the call's quality figures and the Opus tuning.
            .with_interceptor_registry(rtcp_interceptors(ssrc, remote_reports.clone()))
            .build()
            .await
            .map_err(rtc_err)?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        tokio::spawn(verify(Arc::downgrade(&pc), trust.clone(), connected, events_tx));
        let track = Arc::new(audio_track(ssrc, &cfg.codecs, cfg.style));
        pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.map_err(rtc_err)?;
        // A track alone offers only its own codec; we also want G.711 and telephone-events.
        for transceiver in pc.get_transceivers().await {
            transceiver.set_codec_preferences(audio_codecs(&cfg.codecs, cfg.style)).await.map_err(rtc_err)?;
        }
        let out = Mutex::new(RtpOut::new(ssrc as u16, ssrc.rotate_left(16)));
        let mut encoders = Encoders::new();
        encoders.set_dtx(cfg.dtx)?;
        let (encoders, codecs) = (Mutex::new(encoders), cfg.codecs.clone());
        let gathered = tokio::sync::Mutex::new(gathered);
        let style = cfg.style;
        let impairer = (!cfg.impairment.is_none()).then(|| Mutex::new(crate::impair::Impairer::new(cfg.impairment, u64::from(ssrc))));
        let decoders = Mutex::new(Decoders::new().ok());
        Ok((AudioPeer { pc, track, ssrc, out, encoders, codecs, gathered, negotiated, trust, certificate_der, style, impairer, buffer, decoders, remote_reports }, events))
    }

    /// A complete offer (all candidates gathered).
    pub async fn create_offer(&self) -> Result<String, MediaError> {
        let offer = self.pc.create_offer(None).await.map_err(rtc_err)?;
        self.pc.set_local_description(offer).await.map_err(rtc_err)?;
        let sdp = self.local_sdp().await?;
        Ok(self.styled(sdp, true))
    }

    /// The call's counters now, for [`crate::quality::between`]: the jitter buffer's loss and
    /// jitter, and from the stack's statistics the bytes each way and RTCP's round trip and the
    /// loss the far end reports for what we send.
    pub async fn counters(&self) -> crate::quality::Counters {
        let mut c = crate::quality::Counters::default();
        if let Some(buffer) = &self.buffer {
            let stats = buffer.lock().unwrap().stats();
            (c.received, c.lost, c.jitter_ms) = (stats.received, stats.lost, stats.jitter_ms);
            c.buffer_ms = stats.target as f64 * FRAME as f64 / 48.0;
        }
        let report = self.pc.get_stats(Instant::now(), webrtc::peer_connection::StatsSelector::None).await;
        for entry in report.iter() {
            match entry {
                rtc::statistics::report::RTCStatsReportEntry::InboundRtp(s) => {
                    c.bytes_received += s.bytes_received;
                    if self.buffer.is_none() {
                        let r = &s.received_rtp_stream_stats;
                        (c.received, c.lost, c.jitter_ms) = (r.packets_received, r.packets_lost.max(0) as u64, r.jitter * 1000.0);
                    }
                }
                rtc::statistics::report::RTCStatsReportEntry::OutboundRtp(s) => c.bytes_sent += s.sent_rtp_stream_stats.bytes_sent,
                _ => {}
            }
        }
        if let Some(report) = *self.remote_reports.lock().unwrap() {
            (c.rtt_ms, c.remote_loss_percent) = (report.rtt_ms, Some(report.loss_percent));
        }
        c
    }

    /// Tunes the Opus encoder for a far end that loses `loss_percent` of our packets (more
    /// in-band FEC and bits as the loss grows).
    pub fn adapt_to_loss(&self, loss_percent: f64) {
        let _ = self.encoders.lock().unwrap().adapt_to_loss(loss_percent);
    }

    /// The Opus loss (percent) and bitrate the encoder is tuned for, once adapted.
    pub fn opus_target(&self) -> Option<(i32, i32)> {
        self.encoders.lock().unwrap().opus_target()
    }

    /// An offer with new ICE credentials, gathered afresh on the interfaces there are now: the
    /// ICE restart after a network change (RFC 8445 9). The far end's answer goes to
    /// [`set_answer`](Self::set_answer).
    pub async fn restart_ice_offer(&self) -> Result<String, MediaError> {
        self.pc.restart_ice().await.map_err(rtc_err)?;
        self.create_offer().await
    }

    /// Our description as the far end sees it: RingCentral-styled, or the stack's with each
    /// payload type once, telephone-event/8000 beside G.711 in offers and the default
    /// candidate in `m=`/`c=` (see [`crate::sdp`]).
    fn styled(&self, sdp: String, offer: bool) -> String {
        match (self.style, self.fingerprint_line("sha-1")) {
            (SdpStyle::RingCentral { .. }, Some(fingerprint)) => crate::rc_sdp::media_server(&sdp, &fingerprint, offer),
            _ => {
                let sdp = crate::sdp::without_repeated_payload_types(&sdp);
                let sdp = if offer { crate::sdp::with_telephone_event_8000(&sdp, TELEPHONE_EVENT_8000) } else { sdp };
                crate::sdp::with_default_candidate(&sdp)
            }
        }
    }

    /// Takes a remote offer and returns a complete answer.
    pub async fn answer(&self, offer: &str) -> Result<String, MediaError> {
        self.learn_fingerprints(offer)?;
        let (offer, renamed) = crate::sdp::opus_for_webrtc(&for_webrtc(offer));
        let legacy = crate::sdp::lacks_mids(&offer);
        let offer = &self.with_our_mids(&offer).await;
        let desc = RTCSessionDescription::offer(offer.to_owned()).map_err(|e| MediaError::Sdp(e.to_string()))?;
        self.pc.set_remote_description(desc).await.map_err(|e| MediaError::Sdp(e.to_string()))?;
        let answer = self.pc.create_answer(None).await.map_err(rtc_err)?;
        self.pc.set_local_description(answer).await.map_err(rtc_err)?;
        let mut sdp = crate::sdp::without_repeated_payload_types(&crate::sdp::restore_rtpmaps(&self.local_sdp().await?, &renamed));
        self.learn_payload_types(&sdp);
        let offered = crate::sdp::direction(offer);
        if offered != "sendrecv" {
            // RFC 3264 6.1; webrtc-rs answers sendrecv to a held offer.
            sdp = crate::sdp::with_direction(&sdp, crate::sdp::answer_direction(offered));
        }
        if legacy {
            sdp = crate::sdp::without_mids(&sdp);
        }
        if let Some(profile) = crate::sdp::audio_profile(offer) {
            sdp = crate::sdp::with_audio_profile(&sdp, profile);
        }
        Ok(self.styled(sdp, false))
    }

    /// Takes the remote answer to our offer.
    pub async fn set_answer(&self, answer: &str) -> Result<(), MediaError> {
        self.learn_fingerprints(answer)?;
        let answer = &self.with_our_mids(&for_webrtc(answer)).await;
        let desc = RTCSessionDescription::answer(answer.to_owned()).map_err(|e| MediaError::Sdp(e.to_string()))?;
        self.pc.set_remote_description(desc).await.map_err(|e| MediaError::Sdp(e.to_string()))?;
        self.learn_payload_types(answer);
        Ok(())
    }

    /// `remote` with a mid in every media section (webrtc-rs refuses sections without one;
    /// RingCentral's media servers write none): our own section's mid, or its index.
    async fn with_our_mids(&self, remote: &str) -> String {
        if !crate::sdp::lacks_mids(remote) {
            return remote.to_owned();
        }
        let ours = self.pc.local_description().await.map(|d| crate::sdp::mids(&d.sdp)).unwrap_or_default();
        crate::sdp::with_mids(remote, &ours)
    }

    async fn local_sdp(&self) -> Result<String, MediaError> {
        let _ = tokio::time::timeout(GATHER_TIMEOUT, self.gathered.lock().await.recv()).await;
        let desc = self.pc.local_description().await.ok_or_else(|| rtc_err("no local description"))?;
        Ok(desc.sdp)
    }

    /// `a=fingerprint:{algorithm} …` for our own DTLS certificate (`sha-1`, `sha-256`, …).
    pub fn fingerprint_line(&self, algorithm: &str) -> Option<String> {
        fingerprint::line(algorithm, &self.certificate_der)
    }

    /// Keeps the far end's fingerprints for [`verify`]; a description without one is refused.
    fn learn_fingerprints(&self, remote: &str) -> Result<(), MediaError> {
        let fingerprints = fingerprint::parse(remote).map_err(|e| MediaError::Sdp(e.to_string()))?;
        *self.trust.fingerprints.lock().unwrap() = fingerprints;
        Ok(())
    }

    fn learn_payload_types(&self, sdp: &str) {
        *self.negotiated.lock().unwrap() = Negotiated::from_sdp(sdp, &self.codecs);
    }

    /// The codec audio is sent with, once negotiated.
    pub fn send_codec(&self) -> Option<AudioCodec> {
        self.negotiated.lock().unwrap().send.map(|b| b.codec)
    }

    /// Turns Opus discontinuous transmission on or off from the next frame on (see
    /// [`PeerConfig::dtx`]).
    pub fn set_dtx(&self, on: bool) -> Result<(), MediaError> {
        self.encoders.lock().unwrap().set_dtx(on)?;
        Ok(())
    }

    /// Encodes and sends one 20 ms frame (960 samples at 48 kHz) with the negotiated codec;
    /// call it every 20 ms. While DTMF digits are queued their event packets go out instead.
    pub async fn send_pcm(&self, frame: &[i16]) -> Result<(), MediaError> {
        if !self.trust.verified() {
            return Ok(());
        }
        let n = self.negotiated.lock().unwrap().clone();
        let Some(binding) = n.send else { return Ok(()) };
        let payload = self.encoders.lock().unwrap().encode(binding.codec, frame)?;
        let frames = self.out.lock().unwrap().tick(payload, binding.payload_type, binding.ticks_per_frame(), n.telephone_event);
        for frame in frames {
            self.write(frame).await?;
        }
        Ok(())
    }

    /// The next 20 ms of received audio out of the jitter buffer, decoded (or concealed when
    /// its packet is lost); `None` while buffering or without a jitter buffer. Call it every
    /// 20 ms.
    pub fn pull_audio(&self) -> Option<Vec<i16>> {
        let next = self.buffer.as_ref()?.lock().unwrap().pop();
        let n = self.negotiated.lock().unwrap().clone();
        let codec_of = |p: &Packet| n.codec_of(p.payload_type).map_or(AudioCodec::Opus, |b| b.codec);
        let mut decoders = self.decoders.lock().unwrap();
        let decoders = decoders.as_mut()?;
        match next {
            Playout::Waiting => None,
            Playout::Frame(p) => decoders.decode(codec_of(&p), &p.payload).ok(),
            Playout::Lost(next) => decoders.conceal(next.as_ref().map(|p| (codec_of(p), p.payload.as_slice()))).ok(),
        }
    }

    /// Writes one packet, or drops or delays it when the path is impaired.
    async fn write(&self, frame: RtpFrame) -> Result<(), MediaError> {
        let fate = self.impairer.as_ref().map_or(crate::impair::Fate::DelayMs(0), |i| i.lock().unwrap().next_fate());
        match fate {
            crate::impair::Fate::Lost => Ok(()),
            crate::impair::Fate::DelayMs(0) => self.track.write_rtp(self.packet(frame)).await.map(drop).map_err(rtc_err),
            crate::impair::Fate::DelayMs(ms) => {
                let (track, packet) = (self.track.clone(), self.packet(frame));
                tokio::spawn(async move {
                    tokio::time::sleep(std::time::Duration::from_millis(u64::from(ms))).await;
                    let _ = track.write_rtp(packet).await;
                });
                Ok(())
            }
        }
    }

    /// Sends one encoded 20 ms Opus packet; call it every 20 ms. While DTMF digits are queued
    /// their event packets go out in its place.
    pub async fn send_opus(&self, packet: Vec<u8>) -> Result<(), MediaError> {
        if !self.trust.verified() {
            return Ok(());
        }
        let n = self.negotiated.lock().unwrap().clone();
        let pt = n.send.filter(|b| b.codec == AudioCodec::Opus).map_or(111, |b| b.payload_type);
        let frames = self.out.lock().unwrap().tick(packet, pt, 960, n.telephone_event);
        for frame in frames {
            self.write(frame).await?;
        }
        Ok(())
    }

    /// Queues DTMF digits (`0-9 * # A-D`) as RFC 4733 events: `duration_ms` each, `gap_ms`
    /// between them. They go out on the next calls of [`send_opus`](Self::send_opus).
    pub fn send_dtmf(&self, digits: &str, duration_ms: u32, gap_ms: u32) -> Result<(), InvalidDigit> {
        self.out.lock().unwrap().queue_dtmf(digits, duration_ms, gap_ms)
    }

    fn packet(&self, f: RtpFrame) -> rtc::rtp::Packet {
        let header = rtc::rtp::header::Header {
            version: 2,
            marker: f.marker,
            payload_type: f.payload_type,
            sequence_number: f.sequence,
            timestamp: f.timestamp,
            ssrc: self.ssrc,
            ..Default::default()
        };
        rtc::rtp::Packet { header, payload: Bytes::from(f.payload) }
    }

    /// Closes the connection.
    pub async fn close(&self) {
        let _ = self.pc.close().await;
    }
}

/// A remote description as webrtc-rs can take it: every media section with its direction
/// written out, its static payload types with an rtpmap, and no RTCP candidates where RTCP
/// is multiplexed (Linphone writes no direction and no rtpmap for PCMU, and lists RTCP
/// candidates; see [`crate::sdp::with_explicit_directions`], [`crate::sdp::with_static_rtpmaps`],
/// [`crate::sdp::without_rtcp_candidates`]). Missing mids are added later, from our own
/// description ([`AudioPeer::with_our_mids`]).
fn for_webrtc(remote: &str) -> String {
    let remote = crate::sdp::without_rtcp_candidates(remote);
    crate::sdp::with_static_rtpmaps(&crate::sdp::with_explicit_directions(&remote))
}

/// A fresh ECDSA P-256 certificate for DTLS.
fn dtls_certificate() -> Result<rtc::peer_connection::certificate::RTCCertificate, MediaError> {
    use rtc::peer_connection::certificate::{CertificateParams, RTCCertificate};
    let provider = rtc::crypto::default_provider().map_err(rtc_err)?;
    let params = CertificateParams::new(vec!["softphone".to_owned()]).map_err(rtc_err)?;
    RTCCertificate::generate(provider.crypto(), rtc::crypto::SignatureScheme::EcdsaP256Sha256, params).map_err(rtc_err)
}

fn rand_ssrc() -> u32 {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    (t.subsec_nanos() ^ (t.as_secs() as u32).rotate_left(7) ^ std::process::id()) | 1
}

/// Samples per frame, re-exported for callers that pace audio.
pub const FRAME_SAMPLES: usize = FRAME;

//! Two audio peers on 127.0.0.1: a tone sent by one is heard by the other.

use media::codec::{Encoder, FRAME};
use media::tone::{dominant_frequency, Tone};
use media::probe::collect_audio;
use media::{AudioPeer, MediaEvent, PeerConfig};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

async fn until_connected(events: &mut UnboundedReceiver<MediaEvent>) {
    let wait = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = events.recv().await {
            if e == MediaEvent::Connected {
                return;
            }
        }
        panic!("events ended before Connected");
    });
    wait.await.expect("connected within 10 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tone_crosses_a_real_webrtc_connection() {
    let (a, mut a_events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let (b, mut b_events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let offer = a.create_offer().await.unwrap();
    assert!(offer.contains("a=candidate:") && offer.contains("127.0.0.1"), "non-trickle offer with host candidates:\n{offer}");
    assert!(offer.contains("telephone-event/48000"), "DTMF offered:\n{offer}");
    let answer = b.answer(&offer).await.unwrap();
    a.set_answer(&answer).await.unwrap();
    until_connected(&mut a_events).await;
    until_connected(&mut b_events).await;

    let sender = tokio::spawn(async move {
        let mut enc = Encoder::new().unwrap();
        let mut tone = Tone::new(1000.0, 48_000, 8000);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for i in 0..100 {
            tick.tick().await;
            // Digital silence first: encoders make tiny packets of it, which must not stall the stream.
            let frame = if i < 10 { vec![0; FRAME] } else { tone.next_frame(FRAME) };
            a.send_opus(enc.encode(&frame).unwrap()).await.unwrap();
        }
        a
    });
    let heard = tokio::time::timeout(Duration::from_secs(10), collect_audio(&mut b_events, 48_000))
        .await
        .expect("one second of audio within 10 s")
        .expect("events go on");
    let (f, share) = dominant_frequency(&heard[9600..], 48_000, 100, 4000, 10);
    assert_eq!(f, 1000, "share {share}");
    let a = sender.await.unwrap();
    a.close().await;
    b.close().await;
}

/// `peer` sends 1.5 s of a `hz` tone through `send_pcm`, paced in real time.
fn send_tone(peer: std::sync::Arc<AudioPeer>, hz: f64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tone = Tone::new(hz, 48_000, 8000);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for _ in 0..75 {
            tick.tick().await;
            let _ = peer.send_pcm(&tone.next_frame(FRAME)).await;
        }
    })
}

/// `sdp` with its fingerprint line replaced by `line`.
fn with_fingerprint(sdp: &str, line: &str) -> String {
    sdp.lines().map(|l| if l.starts_with("a=fingerprint:") { line.to_owned() } else { l.to_owned() }).collect::<Vec<_>>().join("\r\n") + "\r\n"
}

/// Waits for the first Connected or Disconnected event.
async fn outcome(events: &mut UnboundedReceiver<MediaEvent>) -> MediaEvent {
    let wait = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.recv().await.expect("events go on") {
                e @ (MediaEvent::Connected | MediaEvent::Disconnected(_) | MediaEvent::Untrusted(_)) => return e,
                _ => continue,
            }
        }
    });
    wait.await.expect("an outcome within 10 s")
}

#[tokio::test(flavor = "multi_thread")]
async fn sha1_fingerprints_are_checked_and_a_wrong_certificate_is_refused() {
    // SHA-1, as RingCentral's media servers write it, on both sides: media flows.
    let (a, mut a_events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let (b, mut b_events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let offer = with_fingerprint(&a.create_offer().await.unwrap(), &a.fingerprint_line("sha-1").unwrap());
    assert!(offer.contains("a=fingerprint:sha-1 "));
    let answer = b.answer(&offer).await.unwrap();
    a.set_answer(&with_fingerprint(&answer, &b.fingerprint_line("sha-1").unwrap())).await.unwrap();
    assert_eq!(outcome(&mut a_events).await, MediaEvent::Connected);
    assert_eq!(outcome(&mut b_events).await, MediaEvent::Connected);
    a.close().await;
    b.close().await;

    // An offer whose fingerprint names another certificate: refused after the handshake.
    let (a, _a_events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let (b, mut b_events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let (stranger, _) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let offer = with_fingerprint(&a.create_offer().await.unwrap(), &stranger.fingerprint_line("sha-256").unwrap());
    let answer = b.answer(&offer).await.unwrap();
    a.set_answer(&answer).await.unwrap();
    match outcome(&mut b_events).await {
        MediaEvent::Untrusted(why) => assert!(why.contains("does not match"), "{why}"),
        other => panic!("a forged fingerprint must not connect: {other:?}"),
    }

    // No fingerprint at all: refused before anything is negotiated.
    let (c, _) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let bare: String = a.create_offer().await.unwrap().lines().filter(|l| !l.starts_with("a=fingerprint:")).map(|l| format!("{l}\r\n")).collect();
    let err = c.answer(&bare).await.unwrap_err();
    assert!(err.to_string().contains("fingerprint"), "{err}");
}

/// A's offer, optionally without the payload types in `drop`.
fn without_payload_types(sdp: &str, drop: &[&str]) -> String {
    sdp.lines()
        .filter(|l| !drop.iter().any(|pt| l.starts_with(&format!("a=rtpmap:{pt} ")) || l.starts_with(&format!("a=fmtp:{pt} ")) || l.starts_with(&format!("a=rtcp-fb:{pt} "))))
        .map(|l| match l.strip_prefix("m=audio ") {
            Some(rest) => format!("m=audio {}", rest.split_whitespace().filter(|f| !drop.contains(f)).collect::<Vec<_>>().join(" ")),
            None => l.to_owned(),
        })
        .map(|l| l + "\r\n")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_style_peer_answers_ringcentral_style_offers_for_each_codec() {
    use media::codecs::AudioCodec;
    let rc = |opus_clock| PeerConfig { style: media::SdpStyle::RingCentral { opus_clock }, ..PeerConfig::default() };
    // (the media server's Opus clock, payload types removed from its offer, what the answer must pick)
    let cases: [(u32, &[&str], &str); 3] = [(48_000, &[], "opus/48000"), (16_000, &[], "opus/16000"), (48_000, &["109", "111", "8"], "pcmu/8000")];
    for (opus_clock, dropped, expected) in cases {
        let (server, _server_events) = AudioPeer::new(&rc(opus_clock)).await.unwrap();
        let (phone, mut phone_events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
        let full = server.create_offer().await.unwrap();
        let offer = without_payload_types(&full, dropped);
        assert!(offer.contains("s=SmcSip") && offer.contains(" RTP/SAVPF ") && offer.contains("a=fingerprint:sha-1 "), "{offer}");
        if opus_clock == 48_000 && dropped.is_empty() {
            assert!(offer.contains("RTP/SAVPF 109 111 18 0 8 9 96 101\r\n"), "RingCentral's payload list:\n{offer}");
        }
        assert_eq!(media::rc_sdp::shape(&offer).iter().filter(|l| l.starts_with("a=mid") || l.starts_with("a=group")).count(), 0, "{offer}");
        let answer = phone.answer(&offer).await.unwrap_or_else(|e| panic!("the phone answers a RingCentral offer without {dropped:?}: {e}\n{offer}"));
        assert!(!answer.contains("a=mid:") && !answer.contains("a=group:"), "an answer to an offer without mids has none:\n{answer}");
        let first = media::codecs::Negotiated::from_sdp(&answer, &AudioCodec::ALL).send.expect("a common codec");
        let name = answer.lines().find_map(|l| l.strip_prefix(&format!("a=rtpmap:{} ", first.payload_type))).unwrap().to_ascii_lowercase();
        assert!(name.starts_with(expected), "picked {name}, wanted {expected}\n{answer}");
        server.set_answer(&answer).await.unwrap();
        assert_eq!(outcome(&mut phone_events).await, MediaEvent::Connected);
        let (server, phone) = (std::sync::Arc::new(server), phone);
        let sender = send_tone(server.clone(), 1000.0);
        let heard = tokio::time::timeout(Duration::from_secs(10), collect_audio(&mut phone_events, 48_000)).await.expect("audio").unwrap();
        let (f, _) = dominant_frequency(&heard[24_000..], 48_000, 100, 3500, 10);
        assert_eq!(f, 1000, "{expected}: the tone arrives");
        sender.abort();
        phone.close().await;
        server.close().await;
    }
}

/// Sends `silence` then `tone` 20 ms frames from `peer` (through `send_pcm`, so its encoder
/// settings apply), paced in real time.
async fn send_silence_then_tone(peer: AudioPeer, silence: usize, tone_frames: usize) -> AudioPeer {
    let mut tone = Tone::new(800.0, 48_000, 8000);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for i in 0..silence + tone_frames {
        tick.tick().await;
        let frame = if i < silence { vec![0; FRAME] } else { tone.next_frame(FRAME) };
        peer.send_pcm(&frame).await.unwrap();
    }
    peer
}

#[tokio::test(flavor = "multi_thread")]
async fn with_dtx_a_silence_sends_almost_nothing_and_the_speech_after_it_is_played_in_full() {
    let (a, mut a_events) = AudioPeer::new(&PeerConfig { dtx: true, ..PeerConfig::default() }).await.unwrap();
    let (b, mut b_events) = AudioPeer::new(&PeerConfig { jitter_buffer: true, ..PeerConfig::default() }).await.unwrap();
    let answer = b.answer(&a.create_offer().await.unwrap()).await.unwrap();
    a.set_answer(&answer).await.unwrap();
    until_connected(&mut a_events).await;
    until_connected(&mut b_events).await;

    // 2 s of silence, then 1 s of tone; B plays from its jitter buffer on its own 20 ms clock
    // until the sender is done and half a second more.
    let mut sender = tokio::spawn(send_silence_then_tone(a, 100, 50));
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let tone_share = |f: &[i16]| {
        let r = media::tone::rms(f);
        if r < 100.0 { 0.0 } else { 2.0 * media::tone::goertzel(f, 800.0, 48_000) / (r * r) }
    };
    let (mut heard_frames, mut a, mut after) = (0, None, 0);
    while after < 25 {
        tokio::select! {
            done = &mut sender, if a.is_none() => a = Some(done.unwrap()),
            _ = tick.tick() => {
                let frame = b.pull_audio().unwrap_or_else(|| vec![0; FRAME]);
                heard_frames += usize::from(tone_share(&frame) > 0.5);
                after += usize::from(a.is_some());
            }
        }
    }
    // All 50 tone frames but the talkspurt's first (the decoder's onset after comfort noise).
    assert!(heard_frames >= 49, "only {heard_frames} of the 50 tone frames were played");
    let c = b.counters().await;
    // Without DTX B would have received 150 packets; with it the 2 s of silence are a few
    // frames while the encoder notices the silence and a comfort-noise update per 400 ms.
    assert!(c.received <= 75, "{} packets arrived for 2 s of silence and 1 s of tone", c.received);
    assert_eq!(c.lost, 0, "a pause in sending is not loss");
    a.expect("sent").close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ringcentral_style_answer_without_mids_is_taken_and_a_re_offer_keeps_the_call() {
    let rc = PeerConfig { style: media::SdpStyle::RingCentral { opus_clock: 48_000 }, ..PeerConfig::default() };
    let (server, mut server_events) = AudioPeer::new(&rc).await.unwrap();
    let (phone, mut phone_events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let offer = phone.create_offer().await.unwrap();
    assert!(offer.contains("a=mid:"), "a browser-style offer names its mids:\n{offer}");
    let answer = server.answer(&offer).await.unwrap();
    for absent in ["a=mid", "a=group", "a=msid", "a=ssrc"] {
        assert!(!answer.contains(absent), "{absent} in the media server's answer:\n{answer}");
    }
    phone.set_answer(&answer).await.unwrap_or_else(|e| panic!("the phone takes the media server's answer: {e}\n{answer}"));
    until_connected(&mut phone_events).await;
    until_connected(&mut server_events).await;

    // The media server re-offers (a hold, say): still without mids, still answered.
    let re_offer = media::sdp::with_direction(&server.create_offer().await.unwrap(), "sendonly");
    assert!(!re_offer.contains("a=mid"), "{re_offer}");
    let re_answer = phone.answer(&re_offer).await.unwrap();
    assert!(re_answer.contains("a=recvonly") && !re_answer.contains("a=mid"), "{re_answer}");
    server.set_answer(&re_answer).await.unwrap();

    let server = std::sync::Arc::new(server);
    let sender = send_tone(server.clone(), 700.0);
    let heard = tokio::time::timeout(Duration::from_secs(10), collect_audio(&mut phone_events, 48_000)).await.expect("audio").unwrap();
    let (f, _) = dominant_frequency(&heard[24_000..], 48_000, 100, 3500, 10);
    assert_eq!(f, 700, "the media server's tone arrives after its re-offer");
    sender.abort();
    phone.close().await;
    server.close().await;
}

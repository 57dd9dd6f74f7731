//! RingCentral's own inbound INVITE (a captured message, `fixtures/ringcentral/04-…`) sent
//! to the phone over its real WebSocket, with only what must change for a local test changed:
//! the request URI (our Contact), the Call-ID, and in the SDP the media server's address,
//! ports, ICE credentials and fingerprint, which now name a local media server (a webrtc-rs
//! peer of rc-sim's). Every other line is RingCentral's. The phone must ring, confirm with
//! Cmd 17, answer with an SDP the media server takes (no `a=mid` or group line, as RFC 5888
//! wants for an offer that has none), and audio and DTMF must flow both ways.

mod common;

use common::*;
use media::{AudioPeer, MediaEvent};
use rc_sim::core::Direction;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use webphone::audio::test::Input;
use webphone::{DisposeReason, PhoneEvent};

/// A captured RingCentral message made wire-ready.
fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ringcentral").join(name);
    sip::capture::to_wire(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The value of the first `a={name}:` line of an SDP.
fn attribute<'a>(sdp: &'a str, name: &str) -> &'a str {
    sdp.lines().find_map(|l| l.strip_prefix(&format!("a={name}:"))).unwrap_or_else(|| panic!("no a={name} in\n{sdp}")).trim()
}

/// The first component-1 host candidate's address and port.
fn host_candidate(sdp: &str) -> (String, u16) {
    let line = sdp.lines().find(|l| l.starts_with("a=candidate:") && l.split_whitespace().nth(1) == Some("1")).expect("a candidate");
    let f: Vec<&str> = line.split_whitespace().collect();
    (f[4].to_owned(), f[5].parse().unwrap())
}

/// The captured offer with its media server swapped for the one whose own offer is
/// `server_offer`: the same lines, other addresses, ports and ICE keys, and `fingerprint`
/// (the server's, or in a test of a forgery someone else's).
fn captured_offer_for(captured: &str, server_offer: &str, fingerprint: &str) -> String {
    let (ip, port) = host_candidate(server_offer);
    captured
        .replace("104.245.57.182", &ip)
        .replace("29768", &port.to_string())
        .replace("29769", &(port + 1).to_string())
        .replace("mqlmHMAU", attribute(server_offer, "ice-ufrag"))
        .replace("QTEEF1lt81VyKvJvEHhabIh9JZ", attribute(server_offer, "ice-pwd"))
        .replace("sha-1 8E:C8:DB:21:CE:E5:F8:5A:F9:73:EC:08:B8:4D:5C:2A:96:BA:27:26", fingerprint)
}

/// A media server on loopback with rc-sim's own peer settings, and its offer.
async fn media_server() -> (AudioPeer, UnboundedReceiver<MediaEvent>, String) {
    let mut cfg = rc_sim::config::MediaSettings::default().peer_config();
    cfg.bind = vec!["127.0.0.1:0".into()];
    let (server, events) = AudioPeer::new(&cfg).await.unwrap();
    let offer = server.create_offer().await.unwrap();
    (server, events, offer)
}

/// RingCentral's captured INVITE (fixture 04) sent to `contact` with Call-ID `call_id` and
/// `sdp` as its offer; the rest as captured.
fn captured_invite(contact: &str, call_id: &str, sdp: &str) -> String {
    let captured = fixture("04-inbound-invite-webrtc.sip");
    let head = captured.split_once("\r\n\r\n").unwrap().0;
    let head = head.replacen("sip:4a4d40b5-247c-4330-bf09-2395bdf0337e@604faea0-3b32-476c-8271-9e58e1f96448.invalid;transport=ws", contact, 1).replace("8677929a431a4244aa159ce3ec10bd92", call_id);
    sip::capture::to_wire(&format!("{head}\r\n\r\n{sdp}"))
}

/// Waits for the first message the phone sends on `call_id` whose text starts with `start`.
async fn phone_sent(log: &mut tokio::sync::broadcast::Receiver<rc_sim::core::LogEntry>, call_id: &str, start: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let entry = tokio::time::timeout_at(deadline, log.recv()).await.unwrap_or_else(|_| panic!("the phone sent no {start} on {call_id}")).expect("log open");
        let on_call = entry.text.lines().any(|l| l.eq_ignore_ascii_case(&format!("Call-ID: {call_id}")));
        if entry.direction == Direction::In && on_call && entry.text.starts_with(start) {
            return entry.text;
        }
    }
}

/// `server` sends a `hz` tone every 20 ms until the task is aborted.
fn send_tone(server: std::sync::Arc<AudioPeer>, hz: f64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tone = media::tone::Tone::new(hz, 48_000, 8000);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tick.tick().await;
            let _ = server.send_pcm(&tone.next_frame(media::codec::FRAME)).await;
        }
    })
}

/// The value of header `name` in a message's text.
fn header(text: &str, name: &str) -> String {
    text.lines().find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_owned())).unwrap_or_default()
}

/// One second of what `events` brings, or the digits it reports, within [`WAIT`].
async fn dominant_heard(events: &mut UnboundedReceiver<MediaEvent>) -> u32 {
    let mut samples = Vec::new();
    let collect = async {
        while samples.len() < 96_000 {
            if let Some(MediaEvent::Audio(pcm)) = events.recv().await {
                samples.extend(pcm);
            }
        }
    };
    tokio::time::timeout(WAIT, collect).await.expect("the media server hears the phone");
    media::tone::dominant_frequency(&samples[48_000..], 48_000, 100, 4000, 10).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ringcentrals_captured_inbound_invite_is_answered_and_audio_and_dtmf_flow_both_ways() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let binding = sim.registrations().await.into_iter().find(|b| b.number == EXT_101).expect("registered");

    let (server, mut server_events, server_offer) = media_server().await;
    let captured_sdp = fixture_sdp("04-inbound-invite-webrtc.sip");
    let sdp = captured_offer_for(&captured_sdp, &server_offer, attribute(&server_offer, "fingerprint"));
    assert_eq!(media::rc_sdp::shape(&sdp), media::rc_sdp::shape(&captured_sdp), "only values changed:\n{sdp}");
    assert_eq!(media::rc_sdp::shape(&server_offer), media::rc_sdp::shape(&captured_sdp), "rc-sim's own offer has the captured shape too:\n{server_offer}");
    let call_id = "5a0b8e6b1f2c4d3e9a7b6c5d4e3f2a1b";
    let contact = binding.contact.trim_start_matches('<').trim_end_matches('>').to_owned();
    let invite = captured_invite(&contact, call_id, &sdp);

    let mut log = sim.subscribe_log();
    sim.send_raw(binding.conn, &invite);
    assert!(phone_sent(&mut log, call_id, "SIP/2.0 180").await.contains("\r\nTo: \"WIRELESS CALLER\" <sip:17206666666*115@50.237.72.154>;tag="));
    let (call, info) = inbound_call(&mut a).await;
    assert_eq!(info.offer.as_deref(), Some(sdp.as_str()), "the offer reaches the app as sent");
    let confirm = phone_sent(&mut log, call_id, "MESSAGE sip:#996016@sip.ringcentral.com:5060").await;
    assert!(confirm.contains("Cmd=\"17\"") && confirm.contains("SID=\"35464233129848\""), "{confirm}");

    call.answer().await.expect("the phone answers RingCentral's offer");
    let ok = phone_sent(&mut log, call_id, "SIP/2.0 200").await;
    let answer = ok.split_once("\r\n\r\n").unwrap().1;
    for absent in ["a=mid", "a=group"] {
        assert!(!answer.contains(absent), "an answer to an offer without mids has no {absent}:\n{answer}");
    }
    let media_line = answer.lines().find(|l| l.starts_with("m=audio ")).expect("an audio section");
    assert!(media_line.starts_with("m=audio ") && !media_line.starts_with("m=audio 0 ") && media_line.contains(" RTP/SAVPF 111"), "accepted (port not 0), the offer's profile, Opus at 48 kHz: {media_line}");
    assert!(answer.contains("a=setup:active\r\n") && !answer.contains("c=IN IP4 0.0.0.0"), "{answer}");
    server.set_answer(answer).await.expect("the media server takes the phone's answer");
    let ack = format!(
        "ACK {contact} SIP/2.0\r\nVia: SIP/2.0/WSS 104.245.57.165:8083;rport;branch=z9hG4bK-captured-ack\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: 218449525 ACK\r\nMax-Forwards: 67\r\nContent-Length: 0\r\n\r\n",
        header(&ok, "From"),
        header(&ok, "To")
    );
    sim.send_raw(binding.conn, &ack);
    media_up(&mut a, call.id()).await;

    // The media server's tone reaches the phone; the phone's tone reaches the media server.
    let server = std::sync::Arc::new(server);
    let sender = send_tone(server.clone(), 700.0);
    expect_tone(&mut a.heard, 700).await;
    assert_eq!(dominant_heard(&mut server_events).await, 1000, "the media server hears the phone's tone");

    // DTMF both ways over telephone-event/8000, the only one RingCentral offers.
    call.send_dtmf("7", None, None).await.unwrap();
    let digit = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(MediaEvent::Dtmf(d)) = server_events.recv().await {
                return d;
            }
        }
    });
    assert_eq!(digit.await.expect("the media server gets the digit"), '7');
    server.send_dtmf("4", 100, 70).unwrap();
    let got = wait_event(&mut a.events, "the media server's digit", |e| match e {
        PhoneEvent::DtmfReceived(id, d) if *id == call.id() => Some(*d),
        _ => None,
    });
    assert_eq!(got.await, '4');

    // RingCentral hangs up.
    let bye = format!(
        "BYE {contact} SIP/2.0\r\nVia: SIP/2.0/WSS 104.245.57.165:8083;rport;branch=z9hG4bK-captured-bye\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {call_id}\r\nCSeq: 218449526 BYE\r\nMax-Forwards: 67\r\nContent-Length: 0\r\n\r\n",
        header(&ok, "From"),
        header(&ok, "To")
    );
    sim.send_raw(binding.conn, &bye);
    assert!(phone_sent(&mut log, call_id, "SIP/2.0 200").await.contains("CSeq: 218449526 BYE"));
    assert_eq!(disposed(&mut a, call.id()).await, DisposeReason::RemoteHangup);
    sender.abort();
    server.close().await;
    a.phone.dispose().await.unwrap();
}

/// Waits (at most [`WAIT`]) until `events` reports the media connected.
async fn connected(events: &mut UnboundedReceiver<MediaEvent>) {
    let wait = async {
        while let Some(e) = events.recv().await {
            if e == MediaEvent::Connected {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, wait).await.expect("the media connects");
}

/// The SDP body of a captured message, wire-formed.
fn fixture_sdp(name: &str) -> String {
    fixture(name).split_once("\r\n\r\n").map(|(_, sdp)| sdp.to_owned()).unwrap_or_default()
}

/// RingCentral's answer to an outbound call as captured in 2016 (fixture 08, a Sonus media
/// server): ICE lite, no mid, `setup:passive`, a SHA-256 fingerprint, candidate priority
/// 65535, `fmtp` parameters with spaces, `a=maxptime`, and no `a=rtcp-mux` line. Our offer,
/// answered in exactly that shape by a local media server, connects and carries audio.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ringcentrals_captured_answer_to_an_outbound_call_is_taken_and_audio_flows() {
    let phone_cfg = media::PeerConfig { jitter_buffer: false, ..media::PeerConfig::default() };
    let (phone, mut phone_events) = AudioPeer::new(&phone_cfg).await.unwrap();
    let (server, mut server_events) = AudioPeer::new(&media::PeerConfig::default()).await.unwrap();
    let offer = phone.create_offer().await.unwrap();
    let real = server.answer(&offer).await.unwrap();

    let captured = fixture_sdp("08-outbound-invite-200-ok-sonus-answer.sip");
    let (ip, port) = host_candidate(&real);
    let answer = captured
        .replace("104.245.56.81", &ip)
        .replace("24972", &port.to_string())
        .replace("24973", &(port + 1).to_string())
        .replace("a=setup:passive", &format!("a=setup:{}", attribute(&real, "setup")))
        .replace("I/9x9J0W", attribute(&real, "ice-ufrag"))
        .replace("YUPXW/jf4xejLlGNLotkGl0Ma952lAGnZKHeTLWs", attribute(&real, "ice-pwd"))
        .replace(
            "sha-256 1D:79:09:D3:E2:C3:E1:AD:28:BF:B1:87:55:65:79:15:02:ED:68:F6:CB:46:BB:D1:BE:B9:44:5B:AF:17:DD:0E",
            &server.fingerprint_line("sha-256").unwrap()["a=fingerprint:".len()..],
        );
    // Only values changed (the DTLS role too: the local media server is a webrtc-rs answerer,
    // which takes the active role; ours takes the passive one as it would with RingCentral's).
    let same_role = answer.replace("a=setup:active", "a=setup:passive");
    assert_eq!(media::rc_sdp::shape(&same_role), media::rc_sdp::shape(&captured), "{answer}");
    phone.set_answer(&answer).await.unwrap_or_else(|e| panic!("the captured answer's shape is taken: {e}\n{answer}"));

    connected(&mut phone_events).await;
    connected(&mut server_events).await;
    let server = std::sync::Arc::new(server);
    let sender = send_tone(server.clone(), 700.0);
    assert_eq!(dominant_heard(&mut phone_events).await, 700, "the phone hears the media server");
    sender.abort();
    phone.close().await;
    server.close().await;
}

/// A media server whose DTLS certificate is not the one the offer's fingerprint names (issue
/// 19.12): nothing is played or sent, and the phone ends the call (BYE) with a clear reason
/// instead of leaving it up in silence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_certificate_that_does_not_match_the_fingerprint_ends_the_call() {
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let binding = sim.registrations().await.into_iter().find(|b| b.number == EXT_101).expect("registered");
    let (server, _server_events, server_offer) = media_server().await;
    let (stranger, _, _) = media_server().await;
    let forged = stranger.fingerprint_line("sha-1").unwrap();
    let sdp = captured_offer_for(&fixture_sdp("04-inbound-invite-webrtc.sip"), &server_offer, &forged["a=fingerprint:".len()..]);
    let call_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let contact = binding.contact.trim_start_matches('<').trim_end_matches('>').to_owned();
    let mut log = sim.subscribe_log();
    sim.send_raw(binding.conn, &captured_invite(&contact, call_id, &sdp));
    let (call, _) = inbound_call(&mut a).await;
    call.answer().await.unwrap();
    let ok = phone_sent(&mut log, call_id, "SIP/2.0 200").await;
    server.set_answer(ok.split_once("\r\n\r\n").unwrap().1).await.unwrap();

    let why = wait_event(&mut a.events, "the media failure", |e| match e {
        PhoneEvent::MediaFailed(id, why) if *id == call.id() => Some(why.clone()),
        _ => None,
    })
    .await;
    assert!(why.contains("the call was ended") && why.contains("does not match"), "{why}");
    assert!(phone_sent(&mut log, call_id, "BYE ").await.contains(&format!("Call-ID: {call_id}")));
    assert_eq!(disposed(&mut a, call.id()).await, DisposeReason::Local, "the call is over, not left in silence");
    server.close().await;
    stranger.close().await;
}

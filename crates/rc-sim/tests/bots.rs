//! Media bots answered through rc-sim, called by a webrtc-rs peer (crates/media) over WSS.

mod common;

use common::{server, Client};
use media::probe::{collect_audio, play_tone};
use media::tone::dominant_frequency;
use media::{AudioPeer, PeerConfig};
use sip::WithBody;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn echo_bot_returns_our_tone() {
    let sim = server().await;
    let mut a = Client::connect(&sim, "101", "a").await;
    a.register().await;
    let (peer, mut events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let offer = peer.create_offer().await.unwrap();
    let mut invite = a.invite_request("600", "echo-1");
    invite.set_body("application/sdp", offer.clone());
    a.send(invite.clone()).await;
    let challenge = a.response("407").await;
    let mut auth = sip::auth::DigestClient::new(&a.info.authorization_id, &a.info.password.clone());
    auth.handle_challenge(&challenge).unwrap();
    let mut retry = a.invite_request("600", "echo-1");
    retry.set_body("application/sdp", offer);
    auth.authorize(&mut retry, "sip:sip.ringcentral.com", "c");
    a.send(retry).await;
    assert_eq!(a.response("180").await.status, 180);
    let ok = a.response("200 from the echo bot").await;
    assert_eq!(ok.status, 200, "{} {}", ok.status, ok.reason);
    assert!(ok.headers.content_type().unwrap().unwrap().is("application/sdp"));
    peer.set_answer(&String::from_utf8_lossy(&ok.body)).await.unwrap();

    let sender = tokio::spawn(async move {
        play_tone(&peer, 1000.0, 150).await.expect("tone sent");
        peer
    });
    let heard = tokio::time::timeout(Duration::from_secs(10), collect_audio(&mut events, 48_000))
        .await
        .expect("echoed audio within 10 s")
        .expect("events go on");
    let (f, share) = dominant_frequency(&heard[9600..], 48_000, 100, 4000, 10);
    assert_eq!(f, 1000, "share {share}");
    let peer = sender.await.unwrap();
    peer.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tone_bot_calls_an_extension() {
    let sim = server().await;
    let mut b = Client::connect(&sim, "102", "b").await;
    b.register().await;
    assert!(sim.call_extension(rc_sim::core::BotKind::Tone, "103").await.is_err(), "unknown extension is refused");
    sim.call_extension(rc_sim::core::BotKind::Tone, "102").await.expect("the bot calls 102");
    let invite = b.request("INVITE from the tone bot").await;
    let p_rc = rc_dialect::message::RcMessage::parse(invite.headers.get("P-rc").unwrap()).unwrap();
    assert_eq!(p_rc.bdy("Nm"), Some("rc-sim Tone bot"));
    b.reply(&invite, 180, "tb").await;
    let (peer, mut events) = AudioPeer::new(&PeerConfig::default()).await.unwrap();
    let answer = peer.answer(&String::from_utf8_lossy(&invite.body)).await.unwrap();
    let mut ok = sip::builder::response(&invite, 200, Some("tb"));
    ok.set_body("application/sdp", answer);
    b.send(ok).await;
    assert_eq!(b.request("ACK").await.method, sip::Method::Ack);
    let heard = tokio::time::timeout(Duration::from_secs(10), collect_audio(&mut events, 48_000))
        .await
        .expect("the bot's audio within 10 s")
        .expect("events go on");
    assert_eq!(dominant_frequency(&heard[9600..], 48_000, 100, 4000, 10).0, 440);
    assert_eq!(sim.calls().await[0].state, "answered");
    peer.close().await;
}

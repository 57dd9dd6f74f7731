//! Media bots answered through rc-sim, called by a webrtc-rs peer (crates/media) over WSS.

mod common;

use common::{server, Client};
use media::codec::{Encoder, FRAME};
use media::tone::{dominant_frequency, Tone};
use media::{AudioPeer, MediaEvent, PeerConfig};
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
        let mut enc = Encoder::new().unwrap();
        let mut tone = Tone::new(1000.0, 48_000, 8000);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for _ in 0..150 {
            tick.tick().await;
            let _ = peer.send_opus(enc.encode(&tone.next_frame(FRAME)).unwrap()).await;
        }
        peer
    });
    let mut heard = Vec::new();
    let collect = async {
        while heard.len() < 48_000 {
            match events.recv().await {
                Some(MediaEvent::Audio(pcm)) => heard.extend(pcm),
                Some(_) => {}
                None => break,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), collect).await.expect("echoed audio within 10 s");
    let (f, share) = dominant_frequency(&heard[9600..], 48_000, 100, 4000, 10);
    assert_eq!(f, 1000, "share {share}");
    let peer = sender.await.unwrap();
    peer.close().await;
}

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

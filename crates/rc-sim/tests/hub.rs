//! The media hub on its own: two WebRTC clients connected through two ports, with music on
//! hold and recording.

use media::probe::collect_audio;
use media::tone::{dominant_frequency, Tone};
use media::{AudioPeer, MediaEvent, PeerConfig};
use rc_sim::hub::{self, HubCommand, HubReport, MUSIC_NOTES};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(10);

async fn next_sdp(reports: &mut mpsc::UnboundedReceiver<HubReport>, port: u64) -> String {
    loop {
        match tokio::time::timeout(WAIT, reports.recv()).await.expect("hub answers").unwrap() {
            HubReport::Sdp { port: p, result } if p == port => return result.expect("SDP"),
            _ => continue,
        }
    }
}

/// Plays `freq` on `peer` forever (until the task is dropped).
fn keep_playing(peer: Arc<AudioPeer>, freq: f64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tone = Tone::new(freq, 48_000, 8000);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        loop {
            tick.tick().await;
            let _ = peer.send_pcm(&tone.next_frame(960)).await;
        }
    })
}

async fn dominant(events: &mut mpsc::UnboundedReceiver<MediaEvent>) -> u32 {
    let _ = collect_audio(events, 24_000).await.unwrap();
    let heard = tokio::time::timeout(WAIT, collect_audio(events, 24_000)).await.expect("audio arrives").unwrap();
    dominant_frequency(&heard, 48_000, 100, 4000, 5).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_talk_through_the_hub_with_music_on_hold_and_recording() {
    let (tx, mut reports) = mpsc::unbounded_channel();
    let hub = hub::spawn(rc_sim::config::MediaSettings::default().peer_config(), move |r| drop(tx.send(r)));
    let cfg = PeerConfig::default();
    let (a, mut a_events) = AudioPeer::new(&cfg).await.unwrap();
    let (b, mut b_events) = AudioPeer::new(&cfg).await.unwrap();
    let (a, b) = (Arc::new(a), Arc::new(b));

    hub.send(HubCommand::Open { port: 1, offer: Some(a.create_offer().await.unwrap()) });
    a.set_answer(&next_sdp(&mut reports, 1).await).await.unwrap();
    hub.send(HubCommand::Open { port: 2, offer: None });
    let offer = next_sdp(&mut reports, 2).await;
    hub.send(HubCommand::RemoteSdp { port: 2, sdp: b.answer(&offer).await.unwrap(), is_offer: false });
    hub.send(HubCommand::Connect(1, 2));
    let dir = std::env::temp_dir().join(format!("rc-sim-hub-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    hub.send(HubCommand::Record(1, Some(dir.join("call.wav"))));

    let _pa = keep_playing(a.clone(), 1000.0);
    let _pb = keep_playing(b.clone(), 700.0);
    assert_eq!(dominant(&mut b_events).await, 1000, "b hears a");
    assert_eq!(dominant(&mut a_events).await, 700, "a hears b");

    // a holds: b hears the music, not a.
    hub.send(HubCommand::Hold(1, true));
    let f = dominant(&mut b_events).await;
    assert!(MUSIC_NOTES.iter().any(|n| (f as f64 - n).abs() < 10.0), "b hears music on hold, got {f} Hz");
    hub.send(HubCommand::Hold(1, false));
    assert_eq!(dominant(&mut b_events).await, 1000);

    hub.send(HubCommand::Close(1));
    let (path, seconds) = loop {
        match tokio::time::timeout(WAIT, reports.recv()).await.unwrap().unwrap() {
            HubReport::Recorded { path, seconds, .. } => break (path, seconds),
            _ => continue,
        }
    };
    assert!(seconds > 1.0, "{seconds} s recorded");
    let (_, samples) = media::wav::read(std::path::Path::new(&path)).unwrap();
    let first = &samples[..samples.len().min(48_000)];
    let g = |f: f64| media::tone::goertzel(first, f, 48_000);
    assert!(g(1000.0) > 10.0 * g(300.0) && g(700.0) > 10.0 * g(300.0), "both parties are in the recording");
    let _ = std::fs::remove_dir_all(&dir);
}

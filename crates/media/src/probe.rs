//! Helpers for bots and tests that play and collect audio through an [`AudioPeer`].

use crate::codec::FRAME;
use crate::peer::{AudioPeer, MediaError, MediaEvent};
use crate::tone::Tone;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// Sends `frames` 20 ms frames of a `freq` Hz tone on `peer`, paced in real time.
pub async fn play_tone(peer: &AudioPeer, freq: f64, frames: usize) -> Result<(), MediaError> {
    let mut tone = Tone::new(freq, 48_000, 8000);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..frames {
        tick.tick().await;
        peer.send_pcm(&tone.next_frame(FRAME)).await?;
    }
    Ok(())
}

/// Collects at least `samples` decoded samples, skipping other events; `None` if the events
/// end first.
pub async fn collect_audio(events: &mut UnboundedReceiver<MediaEvent>, samples: usize) -> Option<Vec<i16>> {
    let mut heard = Vec::with_capacity(samples + FRAME);
    while heard.len() < samples {
        match events.recv().await? {
            MediaEvent::Audio(pcm) => heard.extend(pcm),
            _ => continue,
        }
    }
    Some(heard)
}

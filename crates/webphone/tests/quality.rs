//! Call quality statistics: what rc-sim's impairments do to a call shows up in the figures,
//! and Opus is tuned to the loss the far end reports.

mod common;

use common::*;
use rc_sim::config::MediaSettings;
use std::time::Duration;
use webphone::audio::test::{Input, Output, TestAudio};
use webphone::{CallQuality, Dial, PhoneEvent, WebPhone};

async fn phone_with(sim: &rc_sim::Handle, tweak: impl FnOnce(&mut webphone::Options)) -> TestPhone {
    let (audio, heard) = TestAudio::new(Input::Tone(1000.0), Output::Channel);
    let mut opts = options(sim, audio.clone());
    opts.stats_interval = Duration::from_secs(2);
    tweak(&mut opts);
    let phone = WebPhone::start(sim.sip_info(EXT_101).unwrap(), opts).await.unwrap();
    TestPhone { events: phone.events(), phone, heard, audio }
}

/// Calls the echo bot and gathers `n` quality reports of the call.
async fn reports(p: &mut TestPhone, n: usize) -> Vec<CallQuality> {
    let call = p.phone.call(Dial { callee: "600".into(), ..Dial::default() }).await.unwrap();
    call.wait_answered(WAIT).await.unwrap();
    let mut out = Vec::new();
    while out.len() < n {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        let q = tokio::time::timeout_at(deadline, async {
            loop {
                if let Ok(PhoneEvent::CallQuality(id, q)) = p.events.recv().await {
                    if id == call.id() {
                        return q;
                    }
                }
            }
        })
        .await
        .expect("a quality report every 2 s");
        println!("{q:?}");
        out.push(q);
    }
    call.hangup().await.unwrap();
    out
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_percent_loss_and_30_ms_jitter_show_up_as_such_and_lower_the_mos() {
    let clean_sim = server().await;
    let mut clean = phone_with(&clean_sim, |_| {}).await;
    let clean = reports(&mut clean, 3).await;
    // The first report covers the call's start (ICE, DTLS, buffering): judge the later ones.
    let clean = &clean[1..];
    assert!(clean.iter().all(|q| q.loss_percent < 1.0 && q.jitter_ms < 10.0), "a clean path: {clean:?}");
    assert!(clean.iter().all(|q| q.mos > 4.2), "{clean:?}");
    assert!(clean.iter().all(|q| (20.0..80.0).contains(&q.receive_kbps) && (20.0..80.0).contains(&q.send_kbps)), "Opus voice bitrates: {clean:?}");

    let sim = server_with(MediaSettings { loss_percent: 5.0, jitter_ms: 30, ..MediaSettings::default() }).await;
    let mut a = phone_with(&sim, |_| {}).await;
    let impaired = reports(&mut a, 5).await;
    let impaired = &impaired[1..];
    let loss = mean(impaired.iter().map(|q| q.loss_percent));
    let jitter = mean(impaired.iter().map(|q| q.jitter_ms));
    let mos = mean(impaired.iter().map(|q| q.mos));
    println!("impaired path: loss {loss:.1} %, jitter {jitter:.1} ms, MOS {mos:.2}");
    assert!((2.5..8.0).contains(&loss), "about 5 % loss: {loss:.1}");
    assert!((18.0..45.0).contains(&jitter), "about 30 ms jitter: {jitter:.1}");
    assert!(mos < mean(clean.iter().map(|q| q.mos)) - 0.3, "the MOS drops: {mos:.2}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opus_is_tuned_to_the_loss_the_far_end_reports() {
    let sim = server().await;
    let mut a = phone_with(&sim, |o| o.media.impairment = media::impair::Impairment { loss_percent: 10.0, jitter_ms: 0 }).await;
    let reports = reports(&mut a, 4).await;
    let last = reports.last().unwrap();
    let remote = last.remote_loss_percent.expect("the far end's RTCP reports arrive");
    assert!((4.0..20.0).contains(&remote), "the far end loses about 10 % of ours: {remote:.1}");
    assert!(last.rtt_ms.is_some_and(|r| r < 100.0), "RTCP measures the round trip: {last:?}");
    let (loss, bitrate) = (last.opus_expected_loss.expect("tuned"), last.opus_bitrate.expect("tuned"));
    assert!(loss >= 4 && bitrate > 48_000, "more FEC and bits under loss: {loss} %, {bitrate} bit/s");
}

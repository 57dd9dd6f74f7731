//! Our engine answers calls offered the way RingCentral's media servers write SDP (profile
//! `RTP/SAVPF`, `a=fingerprint:sha-1`, `OPUS/16000` listed first, lower-case G.7xx names,
//! `a=rtcp`, candidates for components 1 and 2), for each codec it may end up with.

mod common;

use common::*;
use rc_sim::config::MediaSettings;
use rc_sim::core::{BotEvent, BotKind};
use webphone::audio::test::Input;

/// The codec our latest 200 OK with an answer chose (its first rtpmap), lower case, once
/// rc-sim has it.
async fn chosen_codec(sim: &rc_sim::Handle) -> String {
    eventually("our 200 OK with an answer at rc-sim", || async {
        let ok = sim
            .log()
            .await
            .into_iter()
            .rfind(|e| e.direction == rc_sim::core::Direction::In && e.text.starts_with("SIP/2.0 200") && e.text.contains(" INVITE\r\n") && e.text.contains("m=audio"))?
            .text;
        let media_line = ok.lines().find(|l| l.starts_with("m=audio "))?;
        let first = media_line.split_whitespace().nth(3)?.to_owned();
        ok.lines().find_map(|l| l.strip_prefix(&format!("a=rtpmap:{first} "))).map(|n| n.to_ascii_lowercase())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ringcentral_offers_are_answered_for_each_codec() {
    let cases = [
        (MediaSettings::default(), "opus/48000"),
        (MediaSettings { opus_clock: 16_000, ..MediaSettings::default() }, "opus/16000"),
        (MediaSettings { codecs: vec!["pcmu".into()], ..MediaSettings::default() }, "pcmu/8000"),
    ];
    for (settings, expected) in cases {
        let sim = server_with(settings).await;
        let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;

        // The echo bot calls in: audio both ways.
        sim.call_extension(BotKind::Echo, EXT_101).await.unwrap();
        let (echo, info) = inbound_call(&mut a).await;
        let offer = info.offer.clone().expect("an offer");
        assert!(offer.contains("s=SmcSip") && offer.contains(" RTP/SAVPF ") && offer.contains("a=fingerprint:sha-1 ") && offer.contains("a=rtcp:"), "{offer}");
        if expected == "opus/48000" {
            assert!(offer.contains("RTP/SAVPF 109 111 18 0 8 9 96 101"), "{offer}");
        }
        echo.answer().await.unwrap();
        let chosen = chosen_codec(&sim).await;
        assert!(chosen.starts_with(expected), "{expected}: we answered with {chosen}");
        expect_tone(&mut a.heard, 1000).await;

        // Hold and unhold toward RingCentral-style media.
        echo.hold().await.expect("hold");
        echo.unhold().await.expect("unhold");
        flush(&mut a.heard);
        expect_tone(&mut a.heard, 1000).await;
        echo.hangup().await.unwrap();

        // DTMF to the ivr bot, over telephone-event/8000 (the only one RingCentral offers).
        sim.call_extension(BotKind::Ivr, EXT_101).await.unwrap();
        let (ivr, _) = inbound_call(&mut a).await;
        ivr.answer().await.unwrap();
        media_up(&mut a, ivr.id()).await;
        ivr.send_dtmf("73", None, None).await.unwrap();
        let digits = eventually("the ivr bot's digits", || async {
            let d: String = sim.bot_reports().await.iter().filter_map(|r| if let BotEvent::Digit { digit } = r.event { Some(digit) } else { None }).collect();
            (d.len() >= 2).then_some(d)
        })
        .await;
        assert_eq!(digits, "73", "{expected}");
        ivr.hangup().await.unwrap();
        a.phone.dispose().await.unwrap();
    }
}

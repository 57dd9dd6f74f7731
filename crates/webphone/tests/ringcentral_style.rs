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

/// The SDP bodies rc-sim sent: (is it an offer, the body).
async fn sdp_sent_by(sim: &rc_sim::Handle) -> Vec<(bool, String)> {
    let log = sim.log().await;
    log.into_iter()
        .filter(|e| e.direction == rc_sim::core::Direction::Out && e.text.contains("\r\nContent-Type: application/sdp"))
        .filter_map(|e| {
            let body = e.text.split_once("\r\n\r\n")?.1.to_owned();
            Some((!e.text.starts_with("SIP/2.0 "), body))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_offer_and_answer_rc_sim_sends_has_ringcentrals_shape() {
    let captured = include_str!("fixtures/ringcentral/04-inbound-invite-webrtc.sip");
    let captured_offer = sip::capture::to_wire(captured).split_once("\r\n\r\n").unwrap().1.to_owned();
    let sim = server().await;
    let mut a = phone(&sim, EXT_101, Input::Tone(1000.0)).await;
    let mut b = phone(&sim, EXT_102, Input::Tone(700.0)).await;

    // Outbound to a bot (the media server answers), inbound from a bot (it offers), and a
    // call between two phones through rc-sim's media hub (one port answers, one offers),
    // with a hold and an unhold.
    let echo = a.phone.call(webphone::Dial { callee: "600".into(), ..Default::default() }).await.unwrap();
    echo.wait_answered(WAIT).await.unwrap();
    expect_tone(&mut a.heard, 1000).await;
    echo.hangup().await.unwrap();
    sim.call_extension(BotKind::Tone, EXT_101).await.unwrap();
    let (tone, _) = inbound_call(&mut a).await;
    tone.answer().await.unwrap();
    media_up(&mut a, tone.id()).await;
    tone.hangup().await.unwrap();
    let out = a.phone.call(webphone::Dial { callee: "102".into(), ..Default::default() }).await.unwrap();
    let (inc, _) = inbound_call(&mut b).await;
    inc.answer().await.unwrap();
    out.wait_answered(WAIT).await.unwrap();
    out.hold().await.unwrap();
    out.unhold().await.unwrap();
    expect_tone(&mut a.heard, 700).await;
    out.hangup().await.unwrap();

    let sent = sdp_sent_by(&sim).await;
    let (offers, answers): (Vec<_>, Vec<_>) = sent.iter().partition(|(offer, _)| *offer);
    assert!(offers.len() >= 2 && answers.len() >= 4, "{} offers, {} answers", offers.len(), answers.len());
    for (is_offer, sdp) in &sent {
        for line in sdp.lines() {
            for absent in ["a=mid", "a=group", "a=msid", "a=ssrc", "a=end-of-candidates", "a=ice-options", "a=extmap"] {
                assert!(!line.starts_with(absent), "{absent} in an {} rc-sim sent:\n{sdp}", if *is_offer { "offer" } else { "answer" });
            }
        }
        assert!(sdp.contains("\r\ns=SmcSip\r\n") && sdp.contains("a=fingerprint:sha-1 "), "{sdp}");
        if *is_offer {
            assert_eq!(media::rc_sdp::shape(sdp), media::rc_sdp::shape(&captured_offer), "an offer of captured shape:\n{sdp}");
        }
    }
    a.phone.dispose().await.unwrap();
    b.phone.dispose().await.unwrap();
}

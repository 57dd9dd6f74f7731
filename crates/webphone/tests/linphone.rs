//! Our engine against Linphone (`linphonec` 5.1, Debian's `linphone-cli`): an independent
//! SIP and WebRTC-like media stack (belle-sip, mediastreamer2: ICE, DTLS-SRTP, AVPF,
//! rtcp-mux) that writes SDP its own way (no `a=mid`, no BUNDLE, ICE credentials at session
//! level, PCMU without rtpmap, component-2 candidates). Both register to the throwaway
//! Kamailio of `interop/kamailio/` on 127.0.0.1: the engine over WSS, Linphone over UDP.
//! Linphone plays a tone from a WAV file and records what it hears; every scenario checks the
//! audio both ways by tone detection. Scenarios run one at a time (each has its own Kamailio,
//! Linphone and engines): on a 2-core machine parallel calls would starve each other's media.
//! What Linphone needs and what it cannot do: `docs/linphone-interop.md`.

mod common;
#[path = "linphone/linphonec.rs"]
mod linphonec;

use common::kamailio::{self, Kamailio};
use common::{disposed, flush, inbound_call, wait_event, TestPhone, WAIT};
use linphonec::{uri, Config, Linphone};
use std::time::Duration;
use webphone::audio::test::Input;
use webphone::{CallSession, Dial, DisposeReason, PhoneEvent};

/// The tone Linphone plays.
const LINPHONE_HZ: u32 = 700;
/// The tone our engine plays.
const ENGINE_HZ: u32 = 1000;
/// The tone of the second engine (transfer target).
const SECOND_ENGINE_HZ: u32 = 1300;

/// One scenario at a time (see the module's documentation).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A Kamailio with our engine registered as `101` and Linphone as `alice`.
struct Bed {
    lin: Linphone,
    us: TestPhone,
    k: Kamailio,
}

/// Starts a bed whose Linphone has `sip` added to its `[sip]` settings.
async fn bed(sip: &[&str]) -> Bed {
    bed_with(sip, true).await
}

/// Starts a bed whose Linphone has `sip` added to its `[sip]` settings and Opus unless `opus`
/// is false (PCMU only).
async fn bed_with(sip: &[&str], opus: bool) -> Bed {
    let k = kamailio::start().await;
    let us = kamailio::phone(&k, "101", "pw101", Input::Tone(ENGINE_HZ.into())).await;
    let lin = Linphone::start(&k, Config { user: "alice", password: "alicepw", tone_hz: LINPHONE_HZ, sip, opus }).await;
    Bed { lin, us, k }
}

impl Bed {
    /// Linphone calls us; we answer; waits until Linphone has the call up and encrypted.
    async fn linphone_calls_us(&mut self) -> CallSession {
        self.linphone_calls_us_with_offer().await.0
    }

    /// The same, with the offer of Linphone's INVITE (`None` when it had none).
    async fn linphone_calls_us_with_offer(&mut self) -> (CallSession, Option<String>) {
        self.lin.command(&format!("call {}", uri("101")), "the call to start", |l| l.contains("Establishing call id to")).await;
        let (call, info) = inbound_call(&mut self.us).await;
        assert_eq!(info.remote_number, "alice");
        call.answer().await.unwrap_or_else(|e| panic!("we answer Linphone's INVITE: {e:?}\n{}", self.lin.context()));
        self.linphone_connected().await;
        (call, info.offer)
    }

    /// We call Linphone; it answers; waits until the call is up and encrypted on both sides.
    async fn we_call_linphone(&mut self) -> CallSession {
        let call = self.us.phone.call(Dial { callee: "alice".into(), ..Dial::default() }).await.expect("INVITE sent");
        self.lin.expect_parts("our call to ring", &["Receiving new incoming call from", "101@sip.test"]).await;
        self.lin.send("answer").await;
        call.wait_answered(WAIT).await.unwrap_or_else(|e| panic!("Linphone answers: {e:?}\n{}", self.lin.context()));
        self.linphone_connected().await;
        call
    }

    /// Linphone reports the call connected, its media running and DTLS-SRTP done.
    async fn linphone_connected(&mut self) {
        self.lin.expect_parts("the call connected", &["Call ", " connected."]).await;
        self.media_running("media").await;
        self.lin.expect_parts("DTLS-SRTP done (the call fully encrypted)", &["Call ", " is fully encrypted"]).await;
    }

    /// Linphone reports its streams (re)started.
    async fn media_running(&mut self, what: &str) {
        self.lin.expect_parts(what, &["Media streams established with", "(audio)"]).await;
    }

    /// We hear Linphone's tone and Linphone hears ours, from now on.
    async fn audio_both_ways(&mut self, when: &str) {
        audio_both_ways(&mut self.lin, &mut self.us, ENGINE_HZ, when).await;
    }

    /// The next SIP request our engine receives whose first line starts with `start`.
    async fn we_receive(&mut self, start: &str) -> String {
        wait_event(&mut self.us.events, &format!("a request starting {start:?}"), |e| match e {
            PhoneEvent::Message(text) if text.starts_with(start) => Some(text.clone()),
            _ => None,
        })
        .await
    }

    /// Linphone holds (a re-INVITE with an `a=sendonly` offer) and resumes with a re-INVITE
    /// without offer (`sdp_200_ack`): we offer in the 200 OK, it answers in the ACK.
    async fn linphone_pauses_then_resumes_without_offer(&mut self) {
        self.lin.send("pause").await;
        let reinvite = self.we_receive("INVITE ").await;
        assert!(body(&reinvite).contains("a=sendonly"), "Linphone's hold offer:\n{reinvite}");
        self.lin.expect_parts("Linphone's hold", &["Call ", " is now paused."]).await;
        self.lin.send("resume").await;
        let reinvite = self.we_receive("INVITE ").await;
        assert!(body(&reinvite).is_empty(), "Linphone's resume re-INVITE has no offer:\n{reinvite}");
        self.media_running("Linphone to take our offer and answer in the ACK").await;
    }

    /// Linphone hangs up; both sides see the call end.
    async fn linphone_hangs_up(&mut self, call: &CallSession) {
        self.lin.send("terminate").await;
        let reason = common::disposed(&mut self.us, call.id()).await;
        assert!(matches!(reason, DisposeReason::RemoteHangup), "{reason:?}");
        self.lin.expect_parts("the call to end", &["Call ", " ended ("]).await;
    }

    /// Evidence from Linphone's log that ICE with us completed on a host pair and DTLS-SRTP
    /// was negotiated.
    fn linphone_log_shows_ice_and_dtls(&self) {
        let log = std::fs::read_to_string(self.lin.dir.join("linphone.log")).unwrap_or_default();
        for needle in ["ICE state is IceStateHostConnection for stream#0 [audio]", "DTLS Handshake on RTP channel successful", "All streams are encrypted, key exchanged using DTLS"] {
            assert!(log.contains(needle), "Linphone's log lacks {needle:?}\n{}", self.lin.context());
        }
    }

    /// Ends the test: unregisters the engine (Kamailio and Linphone are killed on drop).
    async fn finish(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.us.phone.dispose()).await;
    }
}

/// `engine` hears Linphone's tone and Linphone hears `engine_hz` from `engine`, from now on.
async fn audio_both_ways(lin: &mut Linphone, engine: &mut TestPhone, engine_hz: u32, when: &str) {
    flush(&mut engine.heard);
    engine_hears_linphone(lin, engine, when).await;
    lin.heard.skip_to_now();
    lin.heard.expect_tone(engine_hz, &format!("{engine_hz} Hz tone from our engine {when}")).await;
}

/// Waits until 0.5 s of what `engine` hears has Linphone's tone as its dominant frequency
/// (as `common::expect_tone`), or fails with Linphone's recent output.
async fn engine_hears_linphone(lin: &Linphone, engine: &mut TestPhone, when: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut window, mut last) = (Vec::with_capacity(24_000), None);
    loop {
        let Ok(Some(frame)) = tokio::time::timeout_at(deadline, engine.heard.recv()).await else {
            let last = last.map_or("nothing heard at all".to_owned(), |((hz, share), rms)| format!("last 0.5 s: {hz} Hz dominant, share {share:.2}, RMS {rms:.0}"));
            panic!("our engine: no {LINPHONE_HZ} Hz tone from Linphone {when} within {WAIT:?} ({last})\n{}", lin.context());
        };
        window.extend_from_slice(&frame);
        if window.len() >= 24_000 {
            let (hz, share) = media::tone::dominant_frequency(&window, 48_000, 100, 4000, 5);
            let level = media::tone::rms(&window);
            if hz.abs_diff(LINPHONE_HZ) <= 10 && share > 0.5 && level > 300.0 {
                return;
            }
            last = Some(((hz, share), level));
            window.clear();
        }
    }
}

/// Waits for the next DTMF digit `phone` receives in `call`.
async fn dtmf_received(phone: &mut TestPhone, call: &CallSession, what: &str) -> char {
    wait_event(&mut phone.events, what, |e| match e {
        PhoneEvent::DtmfReceived(id, d) if *id == call.id() => Some(*d),
        _ => None,
    })
    .await
}

/// Body of a SIP message as text (after the blank line).
fn body(message: &str) -> &str {
    message.split_once("\r\n\r\n").or_else(|| message.split_once("\n\n")).map_or("", |(_, b)| b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linphone_calls_us_we_answer_and_linphone_hangs_up() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut bed = bed(&[]).await;
    let call = bed.linphone_calls_us().await;
    bed.audio_both_ways("after we answered").await;
    bed.linphone_log_shows_ice_and_dtls();
    bed.linphone_hangs_up(&call).await;
    bed.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_call_linphone_it_answers_and_we_hang_up() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut bed = bed(&[]).await;
    let call = bed.we_call_linphone().await;
    bed.audio_both_ways("after Linphone answered").await;
    bed.linphone_log_shows_ice_and_dtls();
    call.hangup().await.expect("our BYE gets its 200");
    bed.lin.expect_parts("our BYE to end the call", &["Call ", " ended ("]).await;
    bed.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_resume_from_our_side_and_from_linphone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut bed = bed(&[]).await;
    let call = bed.we_call_linphone().await;
    bed.audio_both_ways("before any hold").await;

    // Our hold: re-INVITE a=sendonly; Linphone is paused by us and hears nothing.
    call.hold().await.expect("Linphone takes our hold re-INVITE");
    bed.lin.expect_parts("our hold", &["Call ", " has been paused by"]).await;
    bed.lin.heard.skip_to_now();
    bed.lin.heard.expect_silence("silence while we hold").await;
    call.unhold().await.expect("Linphone takes our resume re-INVITE");
    bed.media_running("media after our resume").await;
    bed.audio_both_ways("after our resume").await;

    // Linphone's hold: `pause` (re-INVITE a=sendonly), then `resume`.
    bed.lin.send("pause").await;
    let reinvite = bed.we_receive("INVITE ").await;
    assert!(body(&reinvite).contains("a=sendonly"), "Linphone's hold offer:\n{reinvite}");
    bed.lin.expect_parts("Linphone's hold to be accepted", &["Call ", " is now paused."]).await;
    let answer = bed.lin.received_messages().into_iter().rev().find(|m| m.starts_with("SIP/2.0 200") && m.contains(" INVITE\n"));
    assert!(answer.as_deref().is_some_and(|a| body(a).contains("a=recvonly")), "we answer a hold with a=recvonly (RFC 3264 6.1): {answer:?}");
    bed.lin.send("resume").await;
    bed.lin.expect_parts("Linphone to resume", &["Resuming call "]).await;
    bed.media_running("media after Linphone's resume").await;
    bed.audio_both_ways("after Linphone's resume").await;

    call.hangup().await.expect("BYE");
    bed.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_both_ways() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut bed = bed(&[]).await;
    let call = bed.linphone_calls_us().await;
    bed.audio_both_ways("before DTMF").await;

    call.send_dtmf("159#*A", None, None).await.expect("digits queued");
    for digit in ["1", "5", "9", "#", "*", "A"] {
        bed.lin.expect_parts(&format!("our DTMF {digit}"), &[&format!("Receiving tone {digit} from"), "101@sip.test"]).await;
    }

    // linphonec sends each digit of a line (RFC 4733), pausing 1 s after each.
    bed.lin.send("4#*").await;
    for digit in ['4', '#', '*'] {
        let got = dtmf_received(&mut bed.us, &call, &format!("Linphone's DTMF {digit}")).await;
        assert_eq!(got, digit, "digits arrive in order\n{}", bed.lin.context());
    }
    bed.linphone_hangs_up(&call).await;
    bed.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_transfer_from_us_to_a_second_engine() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut bed = bed(&[]).await;
    let mut second = kamailio::phone(&bed.k, "102", "pw102", Input::Tone(SECOND_ENGINE_HZ.into())).await;
    let call = bed.linphone_calls_us().await;
    bed.audio_both_ways("before the transfer").await;

    // REFER: Linphone accepts it, holds us, calls 102 and tells us how that goes (NOTIFY).
    let transfer = tokio::spawn({
        let call = call.clone();
        async move { call.transfer("102").await }
    });
    let hold = bed.we_receive("INVITE ").await;
    assert!(body(&hold).contains("a=sendonly"), "Linphone holds us before it calls the target:\n{hold}");
    let (to_second, info) = inbound_call(&mut second).await;
    assert_eq!(info.remote_number, "alice", "the transferred call comes from Linphone");
    to_second.answer().await.expect("the transfer target answers");
    bed.lin.expect_parts("the transferred call to connect", &["Call ", " with sip:102@", " connected."]).await;
    audio_both_ways(&mut bed.lin, &mut second, SECOND_ENGINE_HZ, "at the transfer target").await;
    let notify = wait_event(&mut bed.us.events, "Linphone's NOTIFY that the transfer succeeded", |e| match e {
        PhoneEvent::Message(m) if m.starts_with("NOTIFY ") && body(m).starts_with("SIP/2.0 200") => Some(m.clone()),
        _ => None,
    })
    .await;
    assert!(notify.contains("Event: refer") || notify.contains("Event:refer"), "{notify}");

    // Linphone leaves our leg up (paused): ending it is the transferor's job (RFC 5589 6.1).
    // The NOTIFY's 200 completes the transfer, and the engine hangs up its leg a second later
    // (RingCentral, which ends the leg itself at once, never waits for that).
    let result = tokio::time::timeout(WAIT, transfer).await.expect("the transfer completes").unwrap();
    assert!(result.is_ok(), "the NOTIFY 200 completes the transfer: {result:?}");
    assert_eq!(disposed(&mut bed.us, call.id()).await, DisposeReason::Local, "our leg ended by our BYE");
    bed.lin.expect_parts("our leg to end", &["Call ", " with sip:101@", " ended ("]).await;
    audio_both_ways(&mut bed.lin, &mut second, SECOND_ENGINE_HZ, "at the transfer target after our BYE").await;

    to_second.hangup().await.expect("BYE");
    let _ = tokio::time::timeout(Duration::from_secs(5), second.phone.dispose()).await;
    bed.finish().await;
}

/// `[sip] sdp_200_ack=1`: Linphone's INVITEs carry no SDP (the offer comes in our 200 OK and
/// its answer in the ACK); so do its resume re-INVITEs, but not its hold re-INVITEs.
const SDP_200_ACK: &[&str] = &["sdp_200_ack=1"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_and_re_invite_without_offer_from_linphone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let mut bed = bed(SDP_200_ACK).await;
    let (call, offer) = bed.linphone_calls_us_with_offer().await;
    assert!(offer.is_none(), "Linphone's INVITE has no offer: {offer:?}");
    bed.audio_both_ways("after the offer-less INVITE").await;
    bed.linphone_pauses_then_resumes_without_offer().await;
    // Our offer in the 200 comes from the call's own media peer (ICE and DTLS stay up), and
    // Linphone's answer in the ACK (sendrecv) takes the call off hold: audio both ways again.
    bed.audio_both_ways("after the offer-less resume").await;
    bed.linphone_hangs_up(&call).await;
    bed.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pcmu_only_linphone_calls_us_with_dtmf_both_ways() {
    let _one = ONE_AT_A_TIME.lock().await;
    // PT 0 without rtpmap and telephone-event/8000 only.
    let mut bed = bed_with(&[], false).await;
    let (call, offer) = bed.linphone_calls_us_with_offer().await;
    let offer = offer.expect("Linphone's INVITE has an offer");
    assert!(offer.contains(" 0 ") && !offer.contains("a=rtpmap:0 ") && !offer.contains("opus"), "a PCMU-only offer without rtpmap:\n{offer}");
    bed.audio_both_ways("over PCMU").await;
    call.send_dtmf("7", None, None).await.expect("digit queued");
    bed.lin.expect_parts("our DTMF 7 (telephone-event/8000)", &["Receiving tone 7 from"]).await;
    bed.lin.send("3").await;
    assert_eq!(dtmf_received(&mut bed.us, &call, "Linphone's DTMF 3").await, '3');
    bed.linphone_hangs_up(&call).await;
    bed.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn we_call_a_pcmu_only_linphone_with_dtmf_both_ways() {
    let _one = ONE_AT_A_TIME.lock().await;
    // Our offer must carry telephone-event/8000 beside PCMU, or Linphone has none to answer.
    let mut bed = bed_with(&[], false).await;
    let call = bed.we_call_linphone().await;
    bed.audio_both_ways("over PCMU").await;
    call.send_dtmf("7", None, None).await.expect("digit queued");
    bed.lin.expect_parts("our DTMF 7 (telephone-event/8000)", &["Receiving tone 7 from"]).await;
    bed.lin.send("3").await;
    assert_eq!(dtmf_received(&mut bed.us, &call, "Linphone's DTMF 3").await, '3');
    call.hangup().await.expect("BYE");
    bed.lin.expect_parts("our BYE to end the call", &["Call ", " ended ("]).await;
    bed.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_from_linphone() {
    let _one = ONE_AT_A_TIME.lock().await;
    // RFC 4028 session timers with Linphone as the refresher (UAS of our call): it refreshes
    // the session with UPDATE (no SDP) every session_expires_value / 2 seconds.
    let mut bed = bed(&["session_expires_enabled=1", "session_expires_value=4", "session_expires_refresher_value=1"]).await;
    let call = bed.we_call_linphone().await;
    let update = bed.we_receive("UPDATE ").await;
    assert!(body(&update).is_empty() && update.contains("Session-Expires:"), "a session refresh without SDP:\n{update}");
    let _second = bed.we_receive("UPDATE ").await;
    let answered = bed.lin.received_messages().into_iter().any(|m| m.starts_with("SIP/2.0 200") && m.contains(" UPDATE\n"));
    assert!(answered, "Linphone got our 200 to its UPDATE\n{}", bed.lin.context());
    bed.audio_both_ways("after Linphone's UPDATEs").await;
    call.hangup().await.expect("BYE");
    bed.lin.expect_parts("our BYE to end the call", &["Call ", " ended ("]).await;
    bed.finish().await;
}


//! RingCentral's own messages replayed into the core on a fake clock.
//!
//! Each RC → client fixture of `tests/fixtures/ringcentral` (SOURCES.md there says where it
//! comes from and when it arrives) is fed to a core put in the state it arrives in, and the
//! core must answer as a RingCentral client does (ringcentral-web-phone 2.5.4, PROTOCOL.md),
//! or, where it is more careful than that client, as these tests say. A response is made the
//! answer to the request the core really sent by rewriting its top Via branch, Call-ID, From
//! tag and CSeq number; every other line is as published.

use super::tests::{core, info, request, sent};
use super::*;
use crate::core::outbound::Dial;
use rc_dialect::control;
use sip::auth::DigestCredentials;
use sip::Message;
use std::time::Duration;

/// A fixture as published (LF line ends, Content-Length as printed).
fn published(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ringcentral").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture made wire-ready, unchanged otherwise.
fn wire(name: &str) -> String {
    sip::capture::to_wire(&published(name))
}

/// `value` with parameter `name` set to `new` (left alone when it has none).
fn with_param(value: &str, name: &str, new: &str) -> String {
    let key = format!(";{name}=");
    let Some(at) = value.find(&key) else { return value.to_owned() };
    let start = at + key.len();
    let end = value[start..].find(';').map_or(value.len(), |e| start + e);
    format!("{}{new}{}", &value[..start], &value[end..])
}

/// Fixture `name` made wire-ready with some header values changed by `edit` (given the name
/// as published and the value; `None` keeps the line as it is).
fn edited(name: &str, edit: impl Fn(&str, &str) -> Option<String>) -> String {
    let text = published(name);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let mut out = vec![lines.next().expect("a start line").to_owned()];
    for line in lines {
        let (header, value) = line.split_once(':').expect("a header line");
        out.push(edit(header.trim(), value.trim()).map_or_else(|| line.to_owned(), |v| format!("{header}: {v}")));
    }
    sip::capture::to_wire(&format!("{}\n\n{body}", out.join("\n")))
}

/// Response fixture `name` as the answer to `req`: `req`'s branch, Call-ID, From tag and CSeq
/// number; the rest as published.
fn answer_to(name: &str, req: &sip::Request) -> String {
    let branch = req.headers.top_via().expect("Via").branch().expect("branch").to_owned();
    let call_id = req.headers.call_id().expect("Call-ID").to_owned();
    let from_tag = req.headers.from().expect("From").tag().expect("From tag").to_owned();
    let seq = req.headers.cseq().expect("CSeq").seq;
    edited(name, |header, value| match header.to_ascii_lowercase().as_str() {
        "via" => Some(with_param(value, "branch", &branch)),
        "call-id" => Some(call_id.clone()),
        "from" => Some(with_param(value, "tag", &from_tag)),
        "cseq" => Some(format!("{seq} {}", value.split_whitespace().nth(1).expect("CSeq method"))),
        _ => None,
    })
}

fn responses(msgs: &[Message]) -> Vec<&sip::Response> {
    msgs.iter().filter_map(|m| if let Message::Response(r) = m { Some(r) } else { None }).collect()
}

fn requests(msgs: &[Message]) -> Vec<&sip::Request> {
    msgs.iter().filter_map(|m| if let Message::Request(r) = m { Some(r) } else { None }).collect()
}

/// Events other than [`Event::Message`] (the copy of every message received).
fn told(events: Vec<Event>) -> Vec<Event> {
    events.into_iter().filter(|e| !matches!(e, Event::Message(_))).collect()
}

/// The digest credentials in header `name` of `req`, checked against the account's password.
fn credentials(req: &sip::Request, name: sip::HeaderName) -> DigestCredentials {
    let value = match name {
        sip::HeaderName::ProxyAuthorization => req.headers.proxy_authorization(),
        _ => req.headers.authorization(),
    };
    let creds = DigestCredentials::from_header(&value.expect("parses").expect("credentials")).expect("digest");
    assert!(creds.verify(req.method.as_str(), &info().password, &req.body), "the digest answers the challenge with the password");
    creds
}

/// Sends the first REGISTER and answers it with 100 (01) and 401 (02); returns the ticket and
/// the REGISTER the core sent with its digest.
fn challenged(c: &mut PhoneCore, now: Instant) -> (Ticket, sip::Request) {
    let ticket = c.register(now);
    let (msgs, _) = sent(c);
    let first = request(&msgs[0]).clone();
    c.handle_frame(answer_to("01-register-100-trying.sip", &first).as_bytes(), now);
    let (msgs, events) = sent(c);
    assert!(msgs.is_empty() && told(events).is_empty(), "a 100 changes nothing");
    c.handle_frame(answer_to("02-register-401-www-authenticate.sip", &first).as_bytes(), now);
    let (msgs, _) = sent(c);
    let [Message::Request(authed)] = &msgs[..] else { panic!("one REGISTER again: {msgs:?}") };
    (ticket, authed.clone())
}

/// A core registered through 01, 02 and 03 at `now` (47 s granted).
fn registered(now: Instant) -> PhoneCore {
    let mut c = core();
    let (_, authed) = challenged(&mut c, now);
    c.handle_frame(answer_to("03-register-200-ok.sip", &authed).as_bytes(), now);
    let _ = sent(&mut c);
    assert!(c.is_registered());
    c
}

/// Nothing is sent for an hour of timers after `from`.
fn never_sends_again(c: &mut PhoneCore, from: Instant) {
    for minute in 1..=60 {
        c.handle_timeout(from + Duration::from_secs(60 * minute));
        let (msgs, _) = sent(c);
        assert!(msgs.is_empty(), "nothing sent at minute {minute}: {msgs:?}");
    }
}

#[test]
fn register_100_then_401_then_200_gives_a_digest_without_qop_and_47_seconds() {
    let t0 = Instant::now();
    let mut c = core();
    let (ticket, authed) = challenged(&mut c, t0);
    let creds = credentials(&authed, sip::HeaderName::Authorization);
    assert_eq!((creds.username.as_str(), creds.realm.as_str(), creds.uri.as_str()), ("800101", "sip.ringcentral.com", "sip:sip.ringcentral.com"));
    assert_eq!((creds.nonce.as_str(), creds.qop.is_none(), creds.algorithm), ("XXvrW1176i9sn4clcQVdEk6ezAYxEy/P", true, sip::auth::Algorithm::Md5));
    assert_eq!(authed.headers.get(sip::HeaderName::Authorization).map(|a| a.contains("qop")), Some(false), "no qop, no cnonce, as RingCentral takes");

    c.handle_frame(answer_to("03-register-200-ok.sip", &authed).as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty());
    assert_eq!(told(events), vec![Event::Registered { expires: 47 }, Event::Done(ticket, Ok(Outcome::Ok))], "the lifetime is the 200 Contact's expires");
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(44)), "refreshed 3 s before it runs out");
}

#[test]
fn an_upper_case_challenge_without_spaces_and_kamailios_200_register_for_60_seconds() {
    let t0 = Instant::now();
    let mut c = core();
    c.register(t0);
    let (msgs, _) = sent(&mut c);
    c.handle_frame(answer_to("09-register-401-www-authenticate-uppercase.sip", request(&msgs[0])).as_bytes(), t0);
    let (msgs, _) = sent(&mut c);
    let authed = request(&msgs[0]).clone();
    assert_eq!(credentials(&authed, sip::HeaderName::Authorization).nonce, "Wij0xFoo85gFiMGDYWKvNuov4VtTv0/C");
    c.handle_frame(answer_to("10-register-200-ok-kamailio.sip", &authed).as_bytes(), t0);
    let (_, events) = sent(&mut c);
    assert!(told(events).contains(&Event::Registered { expires: 60 }));
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(57)));
}

#[test]
fn a_603_too_many_contacts_says_what_to_do_and_is_not_retried() {
    let t0 = Instant::now();
    let mut c = core();
    let (ticket, authed) = challenged(&mut c, t0);
    c.handle_frame(answer_to("12-register-603-too-many-contacts.sip", &authed).as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty());
    let error = RegisterError::TooManyDevices("603 Too Many Contacts".into());
    assert_eq!(told(events), vec![Event::RegistrationFailed(error.clone()), Event::Done(ticket, Err(CallError::Register(error.clone())))]);
    let text = error.to_string();
    assert!(text.contains("close the softphone on another computer or in a browser tab") && text.contains("603 Too Many Contacts"), "{text}");
    assert!(!c.is_registered());
    never_sends_again(&mut c, t0);
}

#[test]
fn a_403_instance_id_intercepted_on_a_refresh_says_another_app_took_over_and_is_not_retried() {
    let t0 = Instant::now();
    let mut c = registered(t0);
    let refresh_at = t0 + Duration::from_secs(44);
    c.handle_timeout(refresh_at);
    let (msgs, _) = sent(&mut c);
    let refresh = request(&msgs[0]).clone();
    c.handle_frame(answer_to("07-register-403-instance-id-intercepted.sip", &refresh).as_bytes(), refresh_at);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty());
    let error = RegisterError::InstanceTakenOver("403 Forbidden, instance id is intercepted by another registration".into());
    assert_eq!(told(events), vec![Event::RegistrationFailed(error.clone())], "not taken for a wrong password");
    assert!(error.to_string().contains("instance ID in Settings"), "{error}");
    assert!(!c.is_registered());
    never_sends_again(&mut c, refresh_at);
}

#[test]
fn a_plain_403_to_register_is_still_a_wrong_password() {
    let t0 = Instant::now();
    let mut c = core();
    let (_, authed) = challenged(&mut c, t0);
    let forbidden = answer_to("07-register-403-instance-id-intercepted.sip", &authed).replace(", instance id is intercepted by another registration", "");
    c.handle_frame(forbidden.as_bytes(), t0);
    let (_, events) = sent(&mut c);
    assert!(told(events).contains(&Event::RegistrationFailed(RegisterError::WrongPassword("403 Forbidden".into()))));
}

#[test]
fn a_400_to_a_first_register_is_final_but_to_a_refresh_is_retried_after_the_back_off() {
    let t0 = Instant::now();
    let mut c = core();
    let (_, authed) = challenged(&mut c, t0);
    c.handle_frame(answer_to("17-register-400-bad-request-contact.sip", &authed).as_bytes(), t0);
    let (_, events) = sent(&mut c);
    assert!(told(events).contains(&Event::RegistrationFailed(RegisterError::Refused("400 Bad Request".into()))));
    never_sends_again(&mut c, t0);

    // ringcentral-web-phone #215: during an outage RingCentral answered REGISTERs that had
    // been granted before with 400; clients recovered with a later REGISTER.
    let mut c = registered(t0);
    let refresh_at = t0 + Duration::from_secs(44);
    c.handle_timeout(refresh_at);
    let (msgs, _) = sent(&mut c);
    c.handle_frame(answer_to("17-register-400-bad-request-contact.sip", request(&msgs[0])).as_bytes(), refresh_at);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty() && told(events).contains(&Event::RegistrationFailed(RegisterError::Refused("400 Bad Request".into()))));
    let retry_at = c.poll_timeout().expect("a retry is planned");
    assert!(retry_at - refresh_at >= Duration::from_millis(2500) && retry_at - refresh_at <= Duration::from_secs(5), "after the back-off: {:?}", retry_at - refresh_at);
    c.handle_timeout(retry_at);
    let (msgs, _) = sent(&mut c);
    assert_eq!(request(&msgs[0]).method, sip::Method::Register);
}

/// A registered core that has sent an outbound INVITE; returns it, the call, its ticket and
/// the INVITE.
fn calling(t0: Instant) -> (PhoneCore, CallId, Ticket, sip::Request) {
    let mut c = registered(t0);
    let id = c.reserve_call_id();
    let offer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n";
    let ticket = c.call(id, &Dial { callee: "9072028624".into(), ..Dial::default() }, offer, t0).unwrap();
    let (msgs, _) = sent(&mut c);
    let invite = request(&msgs[0]).clone();
    assert_eq!(invite.method, sip::Method::Invite);
    (c, id, ticket, invite)
}

#[test]
fn an_outbound_call_takes_an_odd_100_answers_the_407_and_fails_on_the_500() {
    let t0 = Instant::now();
    let (mut c, id, ticket, invite) = calling(t0);

    c.handle_frame(answer_to("13-invite-100-trying-important.sip", &invite).as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty() && told(events).is_empty(), "a 100 whatever its reason: nothing");
    assert_eq!(c.call_state(id), Some(CallState::Init), "not ringing yet");

    c.handle_frame(answer_to("14-invite-407-proxy-authenticate.sip", &invite).as_bytes(), t0);
    let (msgs, _) = sent(&mut c);
    let [ack, authed] = &requests(&msgs)[..] else { panic!("an ACK and the INVITE again: {msgs:?}") };
    assert_eq!((ack.method.clone(), ack.headers.cseq().unwrap().seq), (sip::Method::Ack, invite.headers.cseq().unwrap().seq), "the 407 is ACKed (RFC 3261 17.1.1.3)");
    assert_eq!(ack.headers.top_via().unwrap().branch(), invite.headers.top_via().unwrap().branch());
    assert_eq!(authed.method, sip::Method::Invite);
    assert_eq!(authed.headers.cseq().unwrap().seq, invite.headers.cseq().unwrap().seq + 1);
    let creds = credentials(authed, sip::HeaderName::ProxyAuthorization);
    assert_eq!((creds.realm.as_str(), creds.nonce.as_str()), ("sip.devtest.ringcentral.com", "Vum/z1bpvqMDSIFtraudrmcNKo64WGjV"), "the challenge's realm and nonce");
    assert_eq!((creds.uri.as_str(), creds.qop.is_none()), ("sip:sip.ringcentral.com", true), "the digest uri is always sip:{{domain}}");
    let authed = (*authed).clone();

    c.handle_frame(answer_to("15-invite-500-internal-server-error.sip", &authed).as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    assert!(matches!(&requests(&msgs)[..], [ack] if ack.method == sip::Method::Ack), "the 500 is ACKed: {msgs:?}");
    let rejected = CallError::Rejected { status: 500, reason: "Internal Server Error".into() };
    assert_eq!(
        told(events),
        vec![
            Event::Done(ticket, Err(rejected)),
            Event::Call(id, CallEvent::Failed { status: 500, reason: "Internal Server Error".into() }),
            Event::Call(id, CallEvent::Disposed(DisposeReason::Failed(500))),
        ]
    );
}

#[test]
fn a_400_without_call_id_or_cseq_is_dropped_and_the_call_ends_when_its_invite_times_out() {
    let t0 = Instant::now();
    let (mut c, id, ticket, invite) = calling(t0);
    let branch = invite.headers.top_via().unwrap().branch().unwrap().to_owned();
    let unusable = edited("16-invite-400-bad-request-error-info.sip", |h, v| h.eq_ignore_ascii_case("via").then(|| with_param(v, "branch", &branch)));
    c.handle_frame(unusable.as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty() && events.is_empty(), "not SIP we can act on: dropped ({msgs:?} {events:?})");
    assert_eq!(c.call_state(id), Some(CallState::Init));

    // Timer B (64 × T1) ends the INVITE transaction: the call ends with a timeout.
    let timer_b = c.poll_timeout().expect("the INVITE's timer");
    assert_eq!(timer_b, t0 + Duration::from_secs(32));
    c.handle_timeout(timer_b);
    let (_, events) = sent(&mut c);
    assert_eq!(told(events), vec![Event::Done(ticket, Err(CallError::Ended)), Event::Call(id, CallEvent::Disposed(DisposeReason::Timeout))]);
    assert_eq!(c.call_state(id), None);
}

#[test]
fn the_sonus_200_with_sdp_answers_the_call_and_is_acked_along_the_record_route() {
    let t0 = Instant::now();
    let (mut c, id, ticket, invite) = calling(t0);
    c.handle_frame(answer_to("08-outbound-invite-200-ok-sonus-answer.sip", &invite).as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    let [ack] = &requests(&msgs)[..] else { panic!("one ACK: {msgs:?}") };
    assert_eq!(ack.method, sip::Method::Ack);
    assert_eq!(ack.uri.to_string(), "sip:9072028624@104.245.56.83:5080", "to the 200's Contact");
    let routes: Vec<String> = ack.headers.get_all(sip::HeaderName::Route).map(|h| h.value.clone()).collect();
    assert_eq!(routes, ["<sip:10.13.120.130:8080;transport=ws;r2=on;lr=on;did=817.aaa2>", "<sip:10.13.120.130:5060;r2=on;lr=on;did=817.aaa2>"], "the Record-Route reversed");
    assert_eq!(ack.headers.cseq().unwrap().seq, invite.headers.cseq().unwrap().seq);
    let sdp = wire("08-outbound-invite-200-ok-sonus-answer.sip").split_once("\r\n\r\n").unwrap().1.to_owned();
    assert!(sdp.starts_with("v=0\r\no=Sonus_UAC ") && sdp.ends_with("a=maxptime:60\r\n"));
    assert_eq!(told(events), vec![Event::Call(id, CallEvent::Answered { remote_sdp: Some(sdp) }), Event::Done(ticket, Ok(Outcome::Ok))], "the SDP goes to media as it came");
    let facts = c.call_info(id).unwrap();
    assert_eq!(facts.remote_tag.as_deref(), Some("gK08f0fcd9"));
}

/// The inbound INVITE fixture `name` fed to a registered core: the responses and requests it
/// sends, and what it tells.
fn ring(name: &str, now: Instant) -> (PhoneCore, Vec<Message>, Vec<Event>) {
    let mut c = registered(now);
    c.handle_frame(wire(name).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    (c, msgs, told(events))
}

#[test]
fn ringcentrals_inbound_invites_ring_and_are_confirmed_with_cmd_17() {
    let t0 = Instant::now();
    for (name, sid, p_rc_from, to_number, party) in [
        ("04-inbound-invite-webrtc.sip", "35464233129848", "#996016@sip.ringcentral.com:5060", "17206666666*115", "p-33f727da499c463aac3cf8294de576c0-2"),
        ("06-inbound-invite-webrtc-second.sip", "35464295783848", "#1000016@sip.ringcentral.com:5060", "17203861294*115", "p-e9d16ea3dabd47f59e40b1f92d8515f3-2"),
    ] {
        let (c, msgs, events) = ring(name, t0);
        let statuses: Vec<u16> = responses(&msgs).iter().map(|r| r.status).collect();
        assert_eq!(statuses, [100, 180], "{name}");
        let ringing = responses(&msgs)[1];
        let to = ringing.headers.to().unwrap();
        assert!(to.tag().is_some() && to.display_name.as_deref() == Some("WIRELESS CALLER"), "{name}: our tag, the To as sent");

        let [confirm] = &requests(&msgs)[..] else { panic!("{name}: one MESSAGE: {msgs:?}") };
        assert_eq!(confirm.uri.to_string(), format!("sip:{p_rc_from}"), "{name}: to the P-rc From");
        let invite = Message::parse(wire(name).as_bytes()).unwrap();
        assert_eq!(confirm.headers.call_id().unwrap(), invite.headers().call_id().unwrap(), "{name}: on the INVITE's Call-ID");
        let body = rc_dialect::RcMessage::parse(&String::from_utf8_lossy(&confirm.body)).unwrap();
        assert_eq!((body.cmd(), body.hdr("SID"), body.hdr("From"), body.hdr("To"), body.bdy("Cln")), (Some(17), Some(sid), Some(to_number), Some(p_rc_from), Some("800101")), "{name}");

        let [Event::InboundCall(info), Event::Call(id, CallEvent::Ringing)] = &events[..] else { panic!("{name}: {events:?}") };
        assert_eq!((info.id, info.remote_number.as_str(), info.remote_name.as_deref()), (*id, "+16506666666", Some("WIRELESS CALLER")), "{name}");
        assert!(info.offer.as_deref().is_some_and(|o| o.contains("a=fingerprint:sha-1 ")) && info.auto_answer_after_ms.is_none(), "{name}");
        let facts = c.call_info(*id).unwrap();
        assert_eq!(facts.party_id.as_deref(), Some(party), "{name}");
        assert_eq!(facts.rc_api_call_info, [("callAttributes".to_owned(), "reject,send-vm".to_owned())], "{name}");
    }
}

#[test]
fn the_supervision_invite_with_plain_rtp_is_refused_488_with_a_warning_before_ringing() {
    let t0 = Instant::now();
    let (_, msgs, events) = ring("19-supervision-invite-auto-answer.sip", t0);
    let [refusal] = &responses(&msgs)[..] else { panic!("one final answer, no 100/180: {msgs:?}") };
    assert_eq!(refusal.status, 488);
    let warning = refusal.headers.get("Warning").unwrap_or_default();
    assert!(warning.starts_with("399 softphone ") && warning.contains("RTP/AVP") && warning.contains("DTLS-SRTP"), "{warning}");
    assert!(refusal.headers.to().unwrap().tag().is_some());
    assert!(events.is_empty(), "neither rung nor auto-answered: {events:?}");
    assert!(requests(&msgs).is_empty(), "no Cmd 17 (the INVITE has no P-rc either)");

    // The SDES offer RingCentral sends a SIP/TLS registration (22, body only) would be
    // refused the same way, for want of a DTLS fingerprint.
    let sdes = published("22-inbound-invite-tls-srtp-sdp-body-only.sdp");
    let head = wire("04-inbound-invite-webrtc.sip").split_once("\r\n\r\n").unwrap().0.to_owned();
    let mut c = registered(t0);
    c.handle_frame(sip::capture::to_wire(&format!("{}\n\n{sdes}", head.replace("\r\n", "\n"))).as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    let [refusal] = &responses(&msgs)[..] else { panic!("{msgs:?}") };
    assert_eq!(refusal.status, 488);
    assert!(refusal.headers.get("Warning").unwrap_or_default().contains("fingerprint"), "{refusal:?}");
    assert!(told(events).is_empty());
}

#[test]
fn server_messages_are_taken_with_200_and_told_only_when_they_are_for_this_device() {
    let t0 = Instant::now();
    let ok_to = |c: &mut PhoneCore, name: &str| {
        c.handle_frame(wire(name).as_bytes(), t0);
        let (msgs, events) = sent(c);
        let [ok] = &responses(&msgs)[..] else { panic!("{name}: one answer: {msgs:?}") };
        assert_eq!(ok.status, 200, "{name}");
        ((*ok).clone(), told(events))
    };
    // Cmd 7 names the device that took the call in Cln: another device of ours here.
    let mut c = registered(t0);
    let (_, events) = ok_to(&mut c, "05-message-x-rc-agent-cmd7.sip");
    assert!(events.is_empty(), "meant for another device: {events:?}");
    let mut mine = PhoneCore::new(SipInfo { authorization_id: "802398808016".into(), ..info() }, CoreOptions { seed: Some(7), ..CoreOptions::new("inst-1", "test") });
    let (_, events) = ok_to(&mut mine, "05-message-x-rc-agent-cmd7.sip");
    assert!(matches!(&events[..], [Event::RcMessage(m)] if m.cmd() == Some(7)), "{events:?}");

    // Cmd 2 (message counters), two Vias, no From tag, a bare # in the From user.
    let (ok, events) = ok_to(&mut c, "11-message-x-rc-agent-cmd2-voicemail.sip");
    assert_eq!(ok.headers.count(sip::HeaderName::Via), 2, "both Vias copied");
    assert_eq!(ok.headers.from().unwrap().tag(), None);
    assert!(matches!(&events[..], [Event::RcMessage(m)] if m.cmd() == Some(2) && m.bdy("Mny") == Some("2010407")), "{events:?}");
}

#[test]
fn a_cut_status_info_during_a_park_is_refused_and_the_park_still_completes() {
    let t0 = Instant::now();
    let (mut c, id, _, invite) = calling(t0);
    c.handle_frame(answer_to("08-outbound-invite-200-ok-sonus-answer.sip", &invite).as_bytes(), t0);
    let _ = sent(&mut c);
    let park = c.control(id, &control::Command::Park, t0).unwrap();
    let (msgs, _) = sent(&mut c);
    let park_info = request(&msgs[0]).clone();
    c.handle_frame(&sip::builder::response(&park_info, 200, None).to_bytes(), t0);
    let _ = sent(&mut c);

    // 18 in this call's dialog: its Call-ID and tags are the call's; the rest as published.
    let facts = c.call_info(id).unwrap();
    let (call_id, ours, theirs) = (facts.call_id, facts.local_tag.unwrap(), facts.remote_tag.unwrap());
    let in_dialog = |name: &str| {
        edited(name, |h, v| match h.to_ascii_lowercase().as_str() {
            "call-id" => Some(call_id.clone()),
            "to" => Some(with_param(v, "tag", &ours)),
            "from" => Some(with_param(v, "tag", &theirs)),
            _ => None,
        })
    };
    let cut = in_dialog("18-info-stopcallrecord-truncated.sip");
    c.handle_frame(cut.as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    assert_eq!(responses(&msgs).iter().map(|r| r.status).collect::<Vec<_>>(), [400], "JSON we cannot read is refused");
    assert!(told(events).is_empty(), "no recording change, the park waits");

    // As published its Content-Length (197) promises more than it carries: the message is
    // refused by the transaction layer, saying why, and the core never sees it.
    let as_published = cut.replacen("Content-Length: 182", "Content-Length: 197", 1);
    assert_ne!(as_published, cut);
    c.handle_frame(as_published.as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    let [refusal] = &responses(&msgs)[..] else { panic!("one answer: {msgs:?}") };
    assert!(refusal.status == 400 && refusal.reason.contains("Content-Length is 197 but only 182 body bytes"), "{}", refusal.reason);
    assert!(events.is_empty(), "{events:?}");

    // The park's own answer still completes it.
    let reqid = serde_json::from_slice::<serde_json::Value>(&park_info.body).unwrap()["request"]["reqid"].as_u64().unwrap();
    let result = control::CommandResult::new(0, "Succeeded").with("park extension", "813");
    let answer = control::Response { reqid: reqid.into(), command: "callpark".into(), result };
    let body = answer.to_body();
    let info = cut.split_once("\r\n\r\n").unwrap().0.replace("CSeq: 275747204", "CSeq: 275747205").replace("Content-Length: 182", &format!("Content-Length: {}", body.len()));
    c.handle_frame(format!("{info}\r\n\r\n{body}").as_bytes(), t0);
    let (_, events) = sent(&mut c);
    let done = told(events).into_iter().find_map(|e| if let Event::Done(t, Ok(Outcome::Control(r))) = e { (t == park).then_some(r) } else { None });
    assert_eq!(done.expect("the park completes").park_extension(), Some("813"));
}

//! The core on a fake clock, with the server's messages written by hand.

use super::*;
use crate::core::outbound::Dial;
use rc_dialect::control;
use sip::WithBody;
use std::time::Duration;

pub(super) fn info() -> SipInfo {
    SipInfo {
        username: "16505550101".into(),
        password: "secret".into(),
        authorization_id: "800101".into(),
        domain: "sip.ringcentral.com".into(),
        outbound_proxy: "127.0.0.1:5090".into(),
        outbound_proxy_backup: String::new(),
        transport: "WSS".into(),
        stun_servers: Vec::new(),
        switch_back_interval: 0,
    }
}

pub(super) fn core() -> PhoneCore {
    let opts = CoreOptions { seed: Some(7), ..CoreOptions::new("inst-1", "test") };
    PhoneCore::new(info(), opts)
}

/// Everything the core wants sent, parsed.
pub(super) fn sent(core: &mut PhoneCore) -> (Vec<sip::Message>, Vec<Event>) {
    let (mut msgs, mut events) = (Vec::new(), Vec::new());
    while let Some(o) = core.poll_output() {
        match o {
            Output::Send(text) => msgs.push(sip::Message::parse(text.as_bytes()).expect("we send valid SIP")),
            Output::Event(e) => events.push(e),
            Output::CloseConnection(_) => {}
        }
    }
    (msgs, events)
}

pub(super) fn request(m: &sip::Message) -> &sip::Request {
    match m {
        sip::Message::Request(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

/// The server's response to `req` with extra header lines.
pub(super) fn answer(req: &sip::Request, status: u16, extra: &str) -> String {
    let mut r = sip::builder::response(req, status, Some("srv"));
    for line in extra.split("\r\n").filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(": ").unwrap();
        r.headers.push(name, value);
    }
    String::from_utf8(r.to_bytes()).unwrap()
}

pub(super) fn register(core: &mut PhoneCore, now: Instant) -> Ticket {
    let ticket = core.register(now);
    let (msgs, _) = sent(core);
    let reg = request(&msgs[0]).clone();
    assert!(reg.headers.get(sip::HeaderName::Authorization).is_none());
    core.handle_frame(answer(&reg, 401, "WWW-Authenticate: Digest realm=\"sip.ringcentral.com\", nonce=\"abc\"").as_bytes(), now);
    let (msgs, _) = sent(core);
    let authed = request(&msgs[0]).clone();
    let auth = authed.headers.get(sip::HeaderName::Authorization).expect("digest answer");
    assert!(auth.contains("username=\"800101\"") && auth.contains("uri=\"sip:sip.ringcentral.com\""), "{auth}");
    let contact = "Contact: <sip:x@y.invalid;transport=wss>;expires=47".to_string();
    core.handle_frame(answer(&authed, 200, &contact).as_bytes(), now);
    ticket
}

#[test]
fn registers_with_digest_and_refreshes_before_expiry() {
    let t0 = Instant::now();
    let mut c = core();
    let ticket = register(&mut c, t0);
    let (_, events) = sent(&mut c);
    assert!(events.contains(&Event::Registered { expires: 47 }));
    assert!(events.contains(&Event::Done(ticket, Ok(Outcome::Ok))));
    assert!(c.is_registered());
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(44)), "re-register at expires - 3");
    c.handle_timeout(t0 + Duration::from_secs(44));
    let (msgs, _) = sent(&mut c);
    let refresh = request(&msgs[0]);
    assert_eq!(refresh.method, sip::Method::Register);
    assert!(refresh.headers.get(sip::HeaderName::Authorization).is_some(), "refresh reuses the nonce");
}

#[test]
fn a_wrong_password_fails_once_without_retrying() {
    let now = Instant::now();
    let mut c = core();
    c.register(now);
    let (msgs, _) = sent(&mut c);
    let challenge = "WWW-Authenticate: Digest realm=\"sip.ringcentral.com\", nonce=\"abc\"";
    c.handle_frame(answer(request(&msgs[0]), 401, challenge).as_bytes(), now);
    let (msgs, _) = sent(&mut c);
    c.handle_frame(answer(request(&msgs[0]), 401, challenge).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty(), "no third REGISTER");
    assert!(events.iter().any(|e| matches!(e, Event::RegistrationFailed(RegisterError::WrongPassword(_)))), "{events:?}");
}

#[test]
fn an_unanswered_register_times_out_and_closes_the_connection() {
    let now = Instant::now();
    let mut c = core();
    c.register(now);
    let _ = sent(&mut c);
    c.handle_timeout(now + Duration::from_secs(5));
    let mut closed = false;
    let mut failed = false;
    while let Some(o) = c.poll_output() {
        closed |= matches!(o, Output::CloseConnection(_));
        failed |= matches!(o, Output::Event(Event::RegistrationFailed(RegisterError::Timeout)));
    }
    assert!(closed && failed);
}

pub(super) const INVITE: &str = "INVITE sip:abc@def.invalid;transport=wss SIP/2.0\r\n\
Via: SIP/2.0/WSS 104.1.2.3:8083;rport;branch=z9hG4bK-1\r\n\
From: \"WIRELESS CALLER\" <sip:+16506666666@104.1.2.3>;tag=10.13.22.241-5070-1\r\n\
To: <sip:16505550101*115@104.1.2.3>\r\n\
Call-ID: 0123456789abcdef0123456789abcdef\r\n\
CSeq: 123456789 INVITE\r\n\
Max-Forwards: 67\r\n\
Contact: <sip:+16506666666@104.1.2.3:8083;transport=wss>\r\n\
p-rc-api-ids: party-id=p-aa-2;session-id=s-aa\r\n\
p-rc-api-call-info: callAttributes=reject,send-vm\r\n\
P-rc: <Msg><Hdr SID=\"354\" Req=\"{G}\" From=\"#996016@sip.ringcentral.com:5060\" To=\"16505550101*115\" Cmd=\"6\"/><Bdy Phn=\"+16506666666\" Nm=\"WIRELESS CALLER\"/></Msg>\r\n\
Alert-Info: Auto Answer\r\n\
Call-Info: <sip:x>;purpose=info;Answer-After=500\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 106\r\n\r\nv=0\r\nm=audio 5 RTP/SAVPF 109 0\r\na=rtpmap:109 OPUS/16000\r\na=rtpmap:0 pcmu/8000\r\na=fingerprint:sha-1 01:02\r\n";

#[test]
fn an_inbound_invite_rings_and_confirms_receipt() {
    let now = Instant::now();
    let mut c = core();
    c.handle_frame(INVITE.as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    let statuses: Vec<u16> = msgs.iter().filter_map(|m| if let sip::Message::Response(r) = m { Some(r.status) } else { None }).collect();
    assert_eq!(statuses, vec![100, 180]);
    let confirm = msgs.iter().find_map(|m| match m {
        sip::Message::Request(r) if r.method == sip::Method::Message => Some(r),
        _ => None,
    });
    let confirm = confirm.expect("Cmd 17 MESSAGE");
    assert_eq!(confirm.uri.to_string(), "sip:#996016@sip.ringcentral.com:5060");
    let body = String::from_utf8_lossy(&confirm.body);
    assert!(body.contains("Cmd=\"17\"") && body.contains("From=\"16505550101*115\"") && body.contains("Cln=\"800101\""), "{body}");
    let info = events.iter().find_map(|e| if let Event::InboundCall(i) = e { Some(i.clone()) } else { None }).unwrap();
    assert_eq!(info.auto_answer_after_ms, Some(500));
    assert_eq!(info.remote_number, "+16506666666");
    let facts = c.call_info(info.id).unwrap();
    assert_eq!((facts.session_id.as_deref(), facts.party_id.as_deref()), (Some("s-aa"), Some("p-aa-2")));

    // Answer, then the server hangs up.
    c.answer(info.id, "v=0\r\n", now).unwrap();
    let (msgs, _) = sent(&mut c);
    assert!(matches!(&msgs[0], sip::Message::Response(r) if r.status == 200 && r.body == b"v=0\r\n"));
    let sip::Message::Response(ok) = &msgs[0] else { unreachable!() };
    let our_tag = ok.headers.to().unwrap().tag().unwrap().to_owned();
    let bye_with = |tag: &str, seq: u32| {
        let bye = INVITE.replace("INVITE sip:", "BYE sip:").replace("CSeq: 123456789 INVITE", &format!("CSeq: {seq} BYE")).replace("To: <sip:16505550101*115@104.1.2.3>", &format!("To: <sip:16505550101*115@104.1.2.3>;tag={tag}"));
        let bye = bye.replace("branch=", &format!("branch=z9hG4bK-bye{seq}-"));
        bye.split("Content-Type").next().unwrap().to_owned() + "Content-Length: 0\r\n\r\n"
    };

    // A BYE for another dialog with the same Call-ID (a tag that is not ours) does not end it.
    c.handle_frame(bye_with("not-ours", 123456790).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert!(matches!(&msgs[..], [sip::Message::Response(r)] if r.status == 481), "{msgs:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Call(_, CallEvent::Disposed(_)))), "{events:?}");

    // The server hangs up.
    c.handle_frame(bye_with(&our_tag, 123456791).as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(events.contains(&Event::Call(info.id, CallEvent::Disposed(DisposeReason::RemoteHangup))));
}

#[test]
fn requests_for_unknown_calls_get_481_and_calls_need_registration() {
    let now = Instant::now();
    let mut c = core();
    let bye = "BYE sip:a@b.invalid SIP/2.0\r\nVia: SIP/2.0/WSS 1.2.3.4;branch=z9hG4bK-9\r\nFrom: <sip:x@d>;tag=1\r\nTo: <sip:y@d>;tag=2\r\nCall-ID: nope\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
    c.handle_frame(bye.as_bytes(), now);
    let (msgs, _) = sent(&mut c);
    assert!(matches!(&msgs[0], sip::Message::Response(r) if r.status == 481));
    c.handle_frame(b"garbage\r\n\r\n", now);
    assert!(sent(&mut c).0.is_empty(), "garbage is dropped, not answered");

    let id = c.reserve_call_id();
    assert_eq!(c.call(id, &Dial { callee: "101".into(), ..Dial::default() }, "v=0\r\n", now), Err(CallError::NotRegistered));
}

#[test]
fn an_outbound_call_authenticates_rings_and_is_answered() {
    let now = Instant::now();
    let mut c = core();
    register(&mut c, now);
    let _ = sent(&mut c);
    let id = c.reserve_call_id();
    let offer = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/SAVPF 0\r\na=sendrecv\r\n";
    let ticket = c.call(id, &Dial { callee: "102".into(), caller_id: Some("+1650".into()), headers: vec![] }, offer, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let invite = request(&msgs[0]).clone();
    assert_eq!(invite.uri.to_string(), "sip:102@sip.ringcentral.com");
    assert_eq!(invite.headers.get("P-Asserted-Identity"), Some("sip:+1650@sip.ringcentral.com"));
    c.handle_frame(answer(&invite, 407, "Proxy-Authenticate: Digest realm=\"sip.ringcentral.com\", nonce=\"n1\"").as_bytes(), now);
    let (msgs, _) = sent(&mut c);
    let authed = msgs.iter().map(request).find(|r| r.method == sip::Method::Invite).unwrap().clone();
    assert!(authed.headers.get(sip::HeaderName::ProxyAuthorization).is_some_and(|a| a.contains("uri=\"sip:sip.ringcentral.com\"")));
    assert_eq!(authed.headers.cseq().unwrap().seq, invite.headers.cseq().unwrap().seq + 1);

    c.handle_frame(answer(&authed, 180, "Contact: <sip:srv@1.2.3.4;transport=wss>").as_bytes(), now);
    let mut ok = sip::builder::response(&authed, 200, Some("srv"));
    ok.headers.push(sip::HeaderName::Contact, "<sip:srv@1.2.3.4;transport=wss>");
    ok.set_body("application/sdp", b"v=0 answer\r\n");
    c.handle_frame(&ok.to_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert!(events.contains(&Event::Call(id, CallEvent::Ringing)));
    assert!(events.contains(&Event::Call(id, CallEvent::Answered { remote_sdp: Some("v=0 answer\r\n".into()) })));
    assert!(events.contains(&Event::Done(ticket, Ok(Outcome::Ok))));
    let ack = request(msgs.last().unwrap());
    assert_eq!(ack.method, sip::Method::Ack);
    assert_eq!(ack.uri.to_string(), "sip:srv@1.2.3.4;transport=wss");

    // A retransmitted 200 is ACKed again.
    c.handle_frame(&ok.to_bytes(), now);
    let (msgs, _) = sent(&mut c);
    assert!(msgs.iter().any(|m| matches!(m, sip::Message::Request(r) if r.method == sip::Method::Ack)));

    // Hold: a sendonly re-INVITE with a higher o= version.
    c.set_hold(id, true, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let reinvite = request(&msgs[0]);
    let body = String::from_utf8_lossy(&reinvite.body);
    assert!(body.contains("a=sendonly") && body.contains("o=- 1 2 IN IP4"), "{body}");
}

/// The INVITE above with `sdp` as its body.
fn invite_with(sdp: &str) -> String {
    let head = INVITE.split("Content-Length:").next().unwrap();
    format!("{head}Content-Length: {}\r\n\r\n{sdp}", sdp.len())
}

#[test]
fn offers_we_cannot_answer_get_488_at_once() {
    let good = "v=0\r\nm=audio 5 RTP/SAVPF 0\r\na=rtpmap:0 pcmu/8000\r\na=fingerprint:sha-1 01:02\r\n";
    let cases = [
        ("missing fingerprint", good.replace("a=fingerprint:sha-1 01:02\r\n", ""), "fingerprint"),
        ("unknown profile", good.replace("RTP/SAVPF", "RTP/AVP"), "profile"),
        ("no common codec", good.replace("0\r\na=rtpmap:0 pcmu/8000", "18\r\na=rtpmap:18 g729/8000"), "no codec in common"),
    ];
    for (what, sdp, reason) in cases {
        let now = Instant::now();
        let mut c = core();
        c.handle_frame(invite_with(&sdp).as_bytes(), now);
        let (msgs, events) = sent(&mut c);
        let statuses: Vec<(u16, String)> = msgs
            .iter()
            .filter_map(|m| if let sip::Message::Response(r) = m { Some((r.status, r.headers.get("Warning").unwrap_or_default().to_owned())) } else { None })
            .collect();
        assert_eq!(statuses.len(), 1, "{what}: one final answer, no ringing: {statuses:?}");
        assert_eq!(statuses[0].0, 488, "{what}");
        assert!(statuses[0].1.starts_with("399 softphone ") && statuses[0].1.contains(reason), "{what}: {}", statuses[0].1);
        assert!(!events.iter().any(|e| matches!(e, Event::InboundCall(_))), "{what}: no call is offered to the user");
    }
}

/// An outbound call answered on a fake clock; returns its id.
pub(super) fn answered_call(c: &mut PhoneCore, now: Instant) -> CallId {
    answered_call_offering(c, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/SAVPF 0\r\na=sendrecv\r\n", now)
}

/// An outbound call with our SDP `offer`, answered on a fake clock; returns its id.
pub(super) fn answered_call_offering(c: &mut PhoneCore, offer: &str, now: Instant) -> CallId {
    let id = c.reserve_call_id();
    c.call(id, &Dial { callee: "600".into(), ..Dial::default() }, offer, now).unwrap();
    let (msgs, _) = sent(c);
    let invite = request(&msgs[0]).clone();
    let mut ok = sip::builder::response(&invite, 200, Some("srv"));
    ok.headers.push(sip::HeaderName::Contact, "<sip:srv@1.2.3.4;transport=wss>");
    ok.set_body("application/sdp", b"v=0 answer\r\n");
    c.handle_frame(&ok.to_bytes(), now);
    let _ = sent(c);
    assert_eq!(c.call_state(id), Some(CallState::Answered));
    id
}

/// Answers the REGISTER in `msgs[0]` with a challenge, then the authorised one with 200;
/// returns what the core sent after the 200.
fn complete_register(c: &mut PhoneCore, msgs: &[sip::Message], now: Instant) -> Vec<sip::Message> {
    let reg = request(&msgs[0]).clone();
    assert_eq!(reg.method, sip::Method::Register);
    c.handle_frame(answer(&reg, 401, "WWW-Authenticate: Digest realm=\"sip.ringcentral.com\", nonce=\"n2\"").as_bytes(), now);
    let (msgs, _) = sent(c);
    c.handle_frame(answer(request(&msgs[0]), 200, "Contact: <sip:x@y.invalid;transport=wss>;expires=47").as_bytes(), now);
    sent(c).0
}

#[test]
fn a_drop_keeps_answered_calls_and_after_reconnect_registers_then_settles_them_with_the_server() {
    let t0 = Instant::now();
    let mut c = core();
    register(&mut c, t0);
    let talking = answered_call(&mut c, t0);
    let hung_up = answered_call(&mut c, t0);
    let ringing = c.reserve_call_id();
    c.call(ringing, &Dial { callee: "601".into(), ..Dial::default() }, "v=0\r\n", t0).unwrap();
    let _ = sent(&mut c);

    c.handle_disconnect(t0);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty());
    assert!(events.contains(&Event::Call(ringing, CallEvent::Disposed(DisposeReason::ConnectionLost))), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Call(id, CallEvent::Disposed(_)) if *id != ringing)), "answered calls stay: {events:?}");
    assert!(!c.is_connected());
    assert!(matches!(c.set_hold(talking, true, t0), Err(CallError::ConnectionLost)), "requests fail while down");
    let hangup = c.hangup(hung_up, t0).expect("hang-up works while down");
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty(), "nothing to send without a connection");
    assert!(events.contains(&Event::Done(hangup, Ok(Outcome::Ok))));
    assert!(events.contains(&Event::Call(hung_up, CallEvent::Disposed(DisposeReason::Local))));

    // Connected again: first the REGISTER, and only once registered the owed BYE and a probe.
    c.handle_connected(t0);
    let (msgs, _) = sent(&mut c);
    assert_eq!(msgs.len(), 1, "only the REGISTER before the registration: {msgs:?}");
    let after = complete_register(&mut c, &msgs, t0);
    let methods: Vec<_> = after.iter().map(|m| request(m).method.clone()).collect();
    assert_eq!(methods, [sip::Method::Bye, sip::Method::Options], "the BYE owed, then a probe of the call still up");
    let probe = request(&after[1]).clone();
    assert_eq!(probe.headers.call_id().unwrap(), c.call_info(talking).unwrap().call_id, "the probe is in the kept call's dialog");
    assert!(probe.headers.to().unwrap().tag().is_some(), "in-dialog: To carries the server's tag");

    // The server lost the call: it ends, with the reason.
    c.handle_frame(answer(&probe, 481, "").as_bytes(), t0);
    let (_, events) = sent(&mut c);
    assert!(events.contains(&Event::Call(talking, CallEvent::Disposed(DisposeReason::ConnectionLost))), "{events:?}");
}

#[test]
fn a_503_to_register_is_retried_after_the_back_off_or_the_servers_retry_after() {
    let t0 = Instant::now();
    let mut c = core();
    c.register(t0);
    let (msgs, _) = sent(&mut c);
    c.handle_frame(answer(request(&msgs[0]), 503, "").as_bytes(), t0);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty(), "no immediate retry");
    assert!(events.iter().any(|e| matches!(e, Event::RegistrationFailed(RegisterError::Refused(why)) if why.starts_with("503"))), "{events:?}");
    let retry_at = c.poll_timeout().expect("a retry is planned");
    let wait = retry_at - t0;
    assert!(wait >= Duration::from_millis(2500) && wait <= Duration::from_secs(5), "half to all of the 5 s base: {wait:?}");
    c.handle_timeout(retry_at);
    let (msgs, _) = sent(&mut c);
    assert_eq!(request(&msgs[0]).method, sip::Method::Register, "retried at the planned time");

    c.handle_frame(answer(request(&msgs[0]), 503, "Retry-After: 120").as_bytes(), retry_at);
    let _ = sent(&mut c);
    assert_eq!(c.poll_timeout(), Some(retry_at + Duration::from_secs(120)), "the server's Retry-After wins");
}

/// A new offer of the server's in an answered call (a re-INVITE's or an UPDATE's).
pub(super) const THEIR_REOFFER: &str = "v=0\r\nm=audio 7 RTP/SAVPF 0\r\na=rtpmap:0 pcmu/8000\r\na=fingerprint:sha-1 03:04\r\n";

/// A core with the inbound call of [`INVITE`] answered; returns it, the call and our To tag.
pub(super) fn answered_inbound(now: Instant) -> (PhoneCore, CallId, String) {
    let mut c = core();
    c.handle_frame(INVITE.as_bytes(), now);
    let (_, events) = sent(&mut c);
    let id = events.iter().find_map(|e| if let Event::InboundCall(i) = e { Some(i.id) } else { None }).unwrap();
    c.answer(id, "v=0\r\n", now).unwrap();
    let (msgs, _) = sent(&mut c);
    let sip::Message::Response(ok) = &msgs[0] else { panic!("200 OK") };
    let tag = ok.headers.to().unwrap().tag().unwrap().to_owned();
    (c, id, tag)
}

/// An in-dialog request of the server on [`INVITE`]'s call (`method`, CSeq `seq`) with `body`.
pub(super) fn in_dialog(method: &str, seq: u32, our_tag: &str, content_type: &str, body: &str) -> String {
    let head = INVITE.split("p-rc-api-ids").next().unwrap();
    let head = head
        .replacen("INVITE sip:", &format!("{method} sip:"), 1)
        .replace("CSeq: 123456789 INVITE", &format!("CSeq: {seq} {method}"))
        .replace("To: <sip:16505550101*115@104.1.2.3>", &format!("To: <sip:16505550101*115@104.1.2.3>;tag={our_tag}"))
        .replace("branch=z9hG4bK-1", &format!("branch=z9hG4bK-{method}-{seq}"));
    format!("{head}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}", body.len())
}

pub(super) fn statuses_of(msgs: &[sip::Message]) -> Vec<u16> {
    msgs.iter().filter_map(|m| if let sip::Message::Response(r) = m { Some(r.status) } else { None }).collect()
}

#[test]
fn a_status_info_during_a_pending_park_is_taken_and_the_park_still_completes() {
    let now = Instant::now();
    let (mut c, id, tag) = answered_inbound(now);
    let park = c.control(id, &control::Command::Park, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let park_info = request(&msgs[0]).clone();
    let reqid = |body: &[u8]| serde_json::from_slice::<serde_json::Value>(body).unwrap()["request"]["reqid"].as_u64().unwrap();
    let n = reqid(&park_info.body);
    c.handle_frame(answer(&park_info, 200, "").as_bytes(), now);

    // ringcentral-web-phone #339: the recording stops because the call is parked, and the
    // server says so before it answers the park.
    let status = "{\n  \"status\" : {\n    \"command\" : \"stopcallrecord\",\n    \"reqid\" : 0,\n    \"result\" : {\n      \"code\" : 0,\n      \"description\" : \"Succeeded\"\n    }\n  }\n}";
    c.handle_frame(in_dialog("INFO", 123456790, &tag, "application/json;charset=utf-8", status).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert_eq!(statuses_of(&msgs), vec![200], "the status INFO is taken");
    assert!(events.contains(&Event::Call(id, CallEvent::RecordingChanged(false))), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Done(t, _) if *t == park)), "the park still waits: {events:?}");

    let result = format!("{{\"response\":{{\"reqid\":{n},\"command\":\"callpark\",\"result\":{{\"code\":0,\"description\":\"Succeeded\",\"park extension\":\"813\"}}}}}}");
    c.handle_frame(in_dialog("INFO", 123456791, &tag, "application/json;charset=utf-8", &result).as_bytes(), now);
    let (_, events) = sent(&mut c);
    let done = events.iter().find_map(|e| if let Event::Done(t, Ok(Outcome::Control(r))) = e { (*t == park).then(|| r.clone()) } else { None });
    assert_eq!(done.expect("the park completes").park_extension(), Some("813"));
}

#[test]
fn a_refused_control_info_fails_its_own_request_only() {
    let now = Instant::now();
    let (mut c, id, _) = answered_inbound(now);
    let record = c.control(id, &control::Command::StartRecording, now).unwrap();
    let park = c.control(id, &control::Command::Park, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let park_info = request(&msgs[1]).clone();
    c.handle_frame(answer(&park_info, 403, "").as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(events.iter().any(|e| matches!(e, Event::Done(t, Err(_)) if *t == park)), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Done(t, _) if *t == record)), "the recording request still waits: {events:?}");
}

#[test]
fn an_update_with_an_offer_is_answered_with_sdp_and_one_without_is_just_taken() {
    let now = Instant::now();
    let (mut c, id, tag) = answered_inbound(now);
    // ringcentral-web-phone PR #407: after a warm transfer the server sends an UPDATE with an offer.
    let offer = THEIR_REOFFER;
    c.handle_frame(in_dialog("UPDATE", 123456790, &tag, "application/sdp", offer).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.is_empty(), "answered once the media has its answer: {msgs:?}");
    assert!(events.contains(&Event::Call(id, CallEvent::Reoffer(Some(offer.into())))), "{events:?}");
    c.answer_reoffer(id, Ok("v=0 new answer\r\n"), now).unwrap();
    let (msgs, _) = sent(&mut c);
    let [sip::Message::Response(ok)] = &msgs[..] else { panic!("one response: {msgs:?}") };
    assert_eq!((ok.status, ok.headers.cseq().unwrap().method), (200, sip::Method::Update));
    assert_eq!(ok.body, b"v=0 new answer\r\n");
    assert!(ok.headers.get(sip::HeaderName::Contact).is_some(), "a 2xx to UPDATE names our Contact (RFC 3311 5.2)");

    let plain = in_dialog("UPDATE", 123456791, &tag, "application/sdp", "");
    c.handle_frame(plain.as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert_eq!(statuses_of(&msgs), vec![200]);
    assert!(!events.iter().any(|e| matches!(e, Event::Call(_, CallEvent::Reoffer(_)))));
}

#[test]
fn inbound_calls_beyond_the_cap_are_answered_busy() {
    let now = Instant::now();
    let mut c = PhoneCore::new(info(), CoreOptions { seed: Some(7), max_calls: 2, ..CoreOptions::new("inst-1", "test") });
    for n in 0..3 {
        let invite = INVITE.replace("Call-ID: 0123456789abcdef0123456789abcdef", &format!("Call-ID: flood-{n}")).replace("branch=z9hG4bK-1", &format!("branch=z9hG4bK-flood-{n}"));
        c.handle_frame(invite.as_bytes(), now);
        let (msgs, events) = sent(&mut c);
        let rang = events.iter().any(|e| matches!(e, Event::InboundCall(_)));
        match n {
            0 | 1 => assert!(rang && statuses_of(&msgs) == vec![100, 180], "call {n} rings: {msgs:?}"),
            _ => assert!(!rang && statuses_of(&msgs) == vec![486], "call {n} is over the cap: {msgs:?}"),
        }
    }
}

#[test]
fn a_notify_of_the_transfers_success_completes_it_and_we_hang_up_unless_the_server_does() {
    let now = Instant::now();
    let (mut c, id, tag) = answered_inbound(now);
    let ticket = c.transfer(id, "103", now).unwrap();
    let (msgs, _) = sent(&mut c);
    let refer = request(&msgs[0]).clone();
    assert_eq!(refer.headers.get(sip::HeaderName::ReferTo), Some("<sip:103@sip.ringcentral.com>"), "the account's domain");
    c.handle_frame(answer(&refer, 202, "").as_bytes(), now);
    let trying = in_dialog("NOTIFY", 123456790, &tag, "message/sipfrag;version=2.0", "SIP/2.0 100 Trying\r\n").replace("Content-Type:", "Event: refer\r\nContent-Type:");
    c.handle_frame(trying.as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert_eq!(statuses_of(&msgs), vec![200]);
    assert!(!events.iter().any(|e| matches!(e, Event::Done(t, _) if *t == ticket)), "a 100 is not the end: {events:?}");

    let done = in_dialog("NOTIFY", 123456791, &tag, "message/sipfrag;version=2.0", "SIP/2.0 200 OK\r\n").replace("Content-Type:", "Event: refer\r\nContent-Type:");
    c.handle_frame(done.as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(events.contains(&Event::Done(ticket, Ok(Outcome::Ok))), "{events:?}");
    assert_eq!(c.poll_timeout(), Some(now + in_call::TRANSFER_BYE_DELAY), "our BYE waits for the server's");
    c.handle_timeout(now + in_call::TRANSFER_BYE_DELAY);
    let (msgs, _) = sent(&mut c);
    assert!(msgs.iter().any(|m| matches!(m, sip::Message::Request(r) if r.method == sip::Method::Bye)), "then we hang up: {msgs:?}");
}

#[test]
fn a_notify_of_the_targets_refusal_fails_the_transfer_at_once() {
    let now = Instant::now();
    let (mut c, id, tag) = answered_inbound(now);
    let ticket = c.transfer(id, "103", now).unwrap();
    let (msgs, _) = sent(&mut c);
    c.handle_frame(answer(request(&msgs[0]), 202, "").as_bytes(), now);
    let busy = in_dialog("NOTIFY", 123456790, &tag, "message/sipfrag", "SIP/2.0 486 Busy Here\r\n").replace("Content-Type:", "Event: refer;id=7\r\nContent-Type:");
    c.handle_frame(busy.as_bytes(), now);
    let (_, events) = sent(&mut c);
    let failed = events.iter().find_map(|e| if let Event::Done(t, Err(e)) = e { (*t == ticket).then(|| e.clone()) } else { None });
    assert_eq!(failed, Some(CallError::Rejected { status: 486, reason: "Busy Here".into() }));
    assert!(c.call_state(id) == Some(CallState::Answered), "the call stays ours");
}

#[test]
fn the_phones_own_hang_up_never_replaces_the_ticket_of_one_under_way() {
    let now = Instant::now();
    let (mut c, id, _) = answered_inbound(now);
    let user = c.hangup(id, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let bye = request(&msgs[0]).clone();
    // Media that cannot be trusted, or a finished transfer, ends the call too: no second BYE.
    c.hangup_unless_ending(id, now);
    assert!(sent(&mut c).0.is_empty(), "one BYE");
    c.handle_frame(answer(&bye, 200, "").as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(events.contains(&Event::Done(user, Ok(Outcome::Ok))), "the user's hang-up completes: {events:?}");
}

//! The answered call's requests on a fake clock, with no socket: hold and unhold, the server's
//! re-INVITEs, call-control INFOs answered out of order, and transfers (blind, warm, and one
//! that nothing completes).

use super::tests::{answer, answered_call, answered_call_offering, answered_inbound, in_dialog, register, request, sent, statuses_of, THEIR_REOFFER};
use super::*;
use rc_dialect::control;

/// Our SDP as the media would write it (what hold and unhold re-offer).
const OURS: &str = "v=0\r\no=- 42 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n";

/// A registered core with an answered outbound call whose local SDP is [`OURS`].
fn talking(now: Instant) -> (PhoneCore, CallId) {
    let mut c = tests::core();
    register(&mut c, now);
    let _ = sent(&mut c);
    let id = answered_call_offering(&mut c, OURS, now);
    (c, id)
}

/// The one re-INVITE in `msgs`, and its SDP.
fn reinvite_in(msgs: &[sip::Message]) -> (sip::Request, String) {
    let invites: Vec<&sip::Request> = msgs.iter().map(request).filter(|r| r.method == sip::Method::Invite).collect();
    let [invite] = invites[..] else { panic!("one re-INVITE: {msgs:?}") };
    (invite.clone(), String::from_utf8_lossy(&invite.body).into_owned())
}

fn done(events: &[Event], ticket: Ticket) -> Option<Result<Outcome, CallError>> {
    events.iter().find_map(|e| if let Event::Done(t, r) = e { (*t == ticket).then(|| r.clone()) } else { None })
}

#[test]
fn hold_and_unhold_re_offer_our_sdp_with_the_direction_and_a_new_version_each_time() {
    let now = Instant::now();
    let (mut c, id) = talking(now);

    let hold = c.set_hold(id, true, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let (invite, body) = reinvite_in(&msgs);
    assert!(body.contains("a=sendonly\r\n") && !body.contains("a=sendrecv"), "{body}");
    assert!(body.contains("o=- 42 2 IN IP4"), "the version goes up: {body}");
    c.handle_frame(answer(&invite, 200, "").as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert!(msgs.iter().any(|m| matches!(m, sip::Message::Request(r) if r.method == sip::Method::Ack)), "ACKed: {msgs:?}");
    assert!(events.contains(&Event::Call(id, CallEvent::Held(true))), "{events:?}");
    assert_eq!(done(&events, hold), Some(Ok(Outcome::Ok)));

    let unhold = c.set_hold(id, false, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let (invite, body) = reinvite_in(&msgs);
    assert!(body.contains("a=sendrecv\r\n") && body.contains("o=- 42 3 IN IP4"), "{body}");
    c.handle_frame(answer(&invite, 200, "").as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(events.contains(&Event::Call(id, CallEvent::Held(false))), "{events:?}");
    assert_eq!(done(&events, unhold), Some(Ok(Outcome::Ok)));
}

#[test]
fn a_refused_hold_fails_its_request_and_the_call_stays_as_it_was() {
    let now = Instant::now();
    let (mut c, id) = talking(now);
    let hold = c.set_hold(id, true, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let (invite, _) = reinvite_in(&msgs);
    c.handle_frame(answer(&invite, 488, "").as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert_eq!(done(&events, hold), Some(Err(CallError::Rejected { status: 488, reason: "Not Acceptable Here".into() })));
    assert!(!events.iter().any(|e| matches!(e, Event::Call(_, CallEvent::Held(_)))), "{events:?}");
    assert_eq!(c.call_state(id), Some(CallState::Answered));
    // Still off hold: a new hold offers sendonly again, one version further.
    c.set_hold(id, true, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let (_, body) = reinvite_in(&msgs);
    assert!(body.contains("a=sendonly") && body.contains("o=- 42 3 IN IP4"), "{body}");
}

#[test]
fn the_servers_re_invite_waits_for_the_medias_answer_and_a_second_one_meanwhile_gets_491() {
    let now = Instant::now();
    let (mut c, id, tag) = answered_inbound(now);
    let offer = THEIR_REOFFER;
    c.handle_frame(in_dialog("INVITE", 123456790, &tag, "application/sdp", offer).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert!(statuses_of(&msgs).iter().all(|s| *s < 200), "no final answer before the media's: {msgs:?}");
    assert!(events.contains(&Event::Call(id, CallEvent::Reoffer(Some(offer.into())))), "{events:?}");

    c.handle_frame(in_dialog("INVITE", 123456791, &tag, "application/sdp", offer).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert!(statuses_of(&msgs).contains(&491), "glare: {msgs:?}");
    assert!(!events.iter().any(|e| matches!(e, Event::Call(_, CallEvent::Reoffer(_)))), "one offer at a time: {events:?}");

    c.answer_reoffer(id, Ok("v=0 our answer\r\n"), now).unwrap();
    let (msgs, _) = sent(&mut c);
    let ok = msgs.iter().find_map(|m| if let sip::Message::Response(r) = m { (r.status == 200).then_some(r) } else { None }).expect("200");
    assert_eq!(ok.headers.cseq().unwrap().seq, 123456790, "the answer is to the first re-INVITE");
    assert_eq!(ok.body, b"v=0 our answer\r\n");
    assert!(ok.headers.get(sip::HeaderName::Contact).is_some());
    assert_eq!(c.answer_reoffer(id, Ok("v=0\r\n"), now), Err(CallError::WrongState { action: "answer a re-INVITE", state: CallState::Answered }), "nothing left to answer");
}

#[test]
fn an_offerless_re_invite_gets_our_offer_and_a_refusal_is_sent_as_asked() {
    let now = Instant::now();
    let (mut c, id, tag) = answered_inbound(now);
    c.handle_frame(in_dialog("INVITE", 123456790, &tag, "application/sdp", "").as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(events.contains(&Event::Call(id, CallEvent::Reoffer(None))), "{events:?}");
    c.answer_reoffer(id, Err(488), now).unwrap();
    let (msgs, _) = sent(&mut c);
    assert_eq!(statuses_of(&msgs), vec![488]);
    assert_eq!(c.call_state(id), Some(CallState::Answered), "a refused re-INVITE leaves the call");
}

#[test]
fn control_answers_out_of_order_and_a_status_in_between_each_reach_their_own_request() {
    let now = Instant::now();
    let (mut c, id, tag) = answered_inbound(now);
    let record = c.control(id, &control::Command::StartRecording, now).unwrap();
    let flip = c.control(id, &control::Command::Flip { target: "4".into() }, now).unwrap();
    let park = c.control(id, &control::Command::Park, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let infos: Vec<sip::Request> = msgs.iter().map(request).filter(|r| r.method == sip::Method::Info).cloned().collect();
    assert_eq!(infos.len(), 3);
    let reqid = |r: &sip::Request| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap()["request"]["reqid"].as_u64().unwrap();
    let ids: Vec<u64> = infos.iter().map(reqid).collect();
    assert_eq!(ids, [1, 2, 3], "one reqid each, in order");
    for info in &infos {
        c.handle_frame(answer(info, 200, "").as_bytes(), now);
    }
    let json = "application/json;charset=utf-8";
    let result = |reqid: u64, command: &str, extra: &str| format!("{{\"response\":{{\"reqid\":{reqid},\"command\":\"{command}\",\"result\":{{\"code\":0,\"description\":\"Succeeded\"{extra}}}}}}}");

    c.handle_frame(in_dialog("INFO", 123456790, &tag, json, &result(3, "callpark", ",\"park extension\":\"805\"")).as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(matches!(done(&events, park), Some(Ok(Outcome::Control(ref r))) if r.park_extension() == Some("805")), "{events:?}");
    assert!(done(&events, record).is_none() && done(&events, flip).is_none(), "the others wait: {events:?}");

    let status = "{\"status\":{\"command\":\"startcallrecord\",\"reqid\":0,\"result\":{\"code\":0,\"description\":\"Succeeded\"}}}";
    c.handle_frame(in_dialog("INFO", 123456791, &tag, json, status).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert_eq!(statuses_of(&msgs), vec![200]);
    assert!(events.contains(&Event::Call(id, CallEvent::RecordingChanged(true))), "{events:?}");
    assert!(done(&events, record).is_none(), "a status is not the answer to our request: {events:?}");

    // An answer naming a reqid we never sent is taken and ignored.
    c.handle_frame(in_dialog("INFO", 123456792, &tag, json, &result(9, "startcallrecord", "")).as_bytes(), now);
    let (msgs, events) = sent(&mut c);
    assert_eq!(statuses_of(&msgs), vec![200]);
    assert!(!events.iter().any(|e| matches!(e, Event::Done(..))), "{events:?}");

    c.handle_frame(in_dialog("INFO", 123456793, &tag, json, &result(1, "startcallrecord", "")).as_bytes(), now);
    c.handle_frame(in_dialog("INFO", 123456794, &tag, json, &result(2, "callflip", "")).as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(matches!(done(&events, record), Some(Ok(Outcome::Control(_)))), "{events:?}");
    assert!(matches!(done(&events, flip), Some(Ok(Outcome::Control(_)))), "{events:?}");
}

#[test]
fn a_transfer_nothing_completes_fails_at_its_deadline_and_another_may_follow() {
    let t0 = Instant::now();
    let (mut c, id, _) = answered_inbound(t0);
    let first = c.transfer(id, "103", t0).unwrap();
    assert!(matches!(c.transfer(id, "104", t0), Err(CallError::Busy(_))), "one transfer at a time");
    let (msgs, _) = sent(&mut c);
    c.handle_frame(answer(request(&msgs[0]), 202, "").as_bytes(), t0);
    assert_eq!(c.poll_timeout(), Some(t0 + in_call::TRANSFER_TIMEOUT));
    c.handle_timeout(t0 + in_call::TRANSFER_TIMEOUT - std::time::Duration::from_millis(1));
    assert!(done(&sent(&mut c).1, first).is_none(), "not before its deadline");
    c.handle_timeout(t0 + in_call::TRANSFER_TIMEOUT);
    let (msgs, events) = sent(&mut c);
    assert!(matches!(done(&events, first), Some(Err(CallError::Timeout(_)))), "{events:?}");
    assert!(msgs.is_empty(), "no BYE: the call stays ours: {msgs:?}");
    assert_eq!(c.call_state(id), Some(CallState::Answered));
    c.transfer(id, "104", t0 + in_call::TRANSFER_TIMEOUT).expect("a new transfer may start");
}

#[test]
fn a_refused_refer_fails_the_transfer_at_once() {
    let now = Instant::now();
    let (mut c, id, _) = answered_inbound(now);
    let ticket = c.transfer(id, "103", now).unwrap();
    let (msgs, _) = sent(&mut c);
    c.handle_frame(answer(request(&msgs[0]), 403, "").as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert_eq!(done(&events, ticket), Some(Err(CallError::Rejected { status: 403, reason: "Forbidden".into() })));
    c.handle_timeout(now + in_call::TRANSFER_TIMEOUT);
    let (_, events) = sent(&mut c);
    assert!(done(&events, ticket).is_none(), "its deadline went with it: {events:?}");
    assert_eq!(c.call_state(id), Some(CallState::Answered));
}

#[test]
fn a_warm_transfer_refers_the_first_call_to_the_second_by_replaces() {
    let now = Instant::now();
    let mut c = tests::core();
    register(&mut c, now);
    let _ = sent(&mut c);
    let first = answered_call(&mut c, now);
    let second = answered_call(&mut c, now);
    let facts = c.call_info(second).unwrap();
    let ticket = c.complete_warm_transfer(first, second, now).unwrap();
    let (msgs, _) = sent(&mut c);
    let refer = request(&msgs[0]).clone();
    assert_eq!(refer.method, sip::Method::Refer);
    assert_eq!(refer.headers.call_id().unwrap(), c.call_info(first).unwrap().call_id, "sent in the first call's dialog");
    let refer_to = refer.headers.get(sip::HeaderName::ReferTo).unwrap();
    let replaces = format!("{};to-tag={};from-tag={}", facts.call_id, facts.remote_tag.as_deref().unwrap(), facts.local_tag.as_deref().unwrap());
    let escaped = replaces.replace(';', "%3B").replace('=', "%3D").replace('@', "%40");
    assert!(refer_to.contains(&format!("Replaces={replaces}")) || refer_to.contains(&format!("Replaces={escaped}")), "names the second dialog: {refer_to}");
    assert!(refer_to.contains("sip:600@sip.ringcentral.com"), "{refer_to}");

    c.handle_frame(answer(&refer, 202, "").as_bytes(), now);
    let (_, events) = sent(&mut c);
    assert!(done(&events, ticket).is_none(), "202 only accepts it");
    assert_eq!(c.call_state(first), Some(CallState::Answered), "the first call waits for the outcome");
}

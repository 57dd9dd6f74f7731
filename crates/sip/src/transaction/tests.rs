//! Transaction state machines driven on a fake clock.

use super::*;
use crate::builder::{self, LocalEndpoint, RequestParts};
use crate::header::NameAddr;
use crate::uri::SipUri;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::time::Duration;

struct World {
    layer: TransactionLayer,
    now: Instant,
    rng: StdRng,
    local: LocalEndpoint,
}

impl World {
    fn new(timers: Timers) -> Self {
        let mut rng = StdRng::seed_from_u64(1);
        let local = LocalEndpoint::random_ws(&mut rng, true, None);
        Self { layer: TransactionLayer::new(timers), now: Instant::now(), rng, local }
    }

    fn request(&mut self, method: Method) -> Request {
        let parts = RequestParts {
            method,
            uri: SipUri::new(Some("101"), "example.com").into(),
            from: NameAddr::new(SipUri::new(Some("100"), "example.com")).with_param("tag", Some("f")),
            to: NameAddr::new(SipUri::new(Some("101"), "example.com")),
            call_id: "call-1".into(),
            cseq: 7,
        };
        builder::request(&self.local, parts, &mut self.rng)
    }

    fn receive(&mut self, msg: impl Into<Message>) {
        let bytes = msg.into().to_bytes();
        self.layer.handle_input(Input::Received(&bytes), self.now);
    }

    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(wake) = self.layer.poll_timeout().filter(|w| *w <= end) {
            self.now = wake.max(self.now);
            self.layer.handle_input(Input::Timeout, self.now);
        }
        self.now = end;
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.layer.poll_output()).collect()
    }
}

fn sends(out: &[Output]) -> Vec<&Message> {
    out.iter().filter_map(|o| if let Output::Send(m) = o { Some(m) } else { None }).collect()
}

fn statuses(out: &[Output]) -> Vec<u16> {
    out.iter()
        .filter_map(|o| match o {
            Output::Event(Event::Response { response, .. }) => Some(response.status),
            _ => None,
        })
        .collect()
}

fn has(out: &[Output], pred: impl Fn(&Event) -> bool) -> bool {
    out.iter().any(|o| matches!(o, Output::Event(e) if pred(e)))
}

#[test]
fn invite_client_rejected_sends_ack_and_ends() {
    let mut w = World::new(Timers::RELIABLE);
    let invite = w.request(Method::Invite);
    let key = w.layer.send_request(invite.clone(), w.now).unwrap();
    assert_eq!(sends(&w.drain()).len(), 1);
    w.receive(builder::response(&invite, 100, None));
    w.receive(builder::response(&invite, 180, Some("t")));
    assert_eq!(w.layer.client(&key).unwrap().state(), ClientState::Proceeding);
    w.receive(builder::response(&invite, 486, Some("t")));
    let out = w.drain();
    assert_eq!(statuses(&out), [100, 180, 486]);
    let Message::Request(ack) = sends(&out)[0] else { panic!("ACK expected") };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.headers.top_via().unwrap(), invite.headers.top_via().unwrap());
    assert_eq!(ack.headers.to().unwrap().tag(), Some("t"));
    assert_eq!(ack.headers.cseq().unwrap().to_string(), "7 ACK");
    assert!(has(&out, |e| matches!(e, Event::Terminated { .. })));
    assert_eq!(w.layer.len(), (0, 0));
}

#[test]
fn invite_client_passes_retransmitted_2xx_while_accepted() {
    let mut w = World::new(Timers::RELIABLE);
    let invite = w.request(Method::Invite);
    w.layer.send_request(invite.clone(), w.now).unwrap();
    w.drain();
    let ok = builder::response(&invite, 200, Some("t"));
    w.receive(ok.clone());
    w.receive(ok.clone());
    let out = w.drain();
    assert_eq!(statuses(&out), [200, 200]);
    assert!(sends(&out).is_empty(), "the transaction must not ACK a 2xx itself");
    w.advance(Duration::from_secs(31));
    assert_eq!(w.layer.len(), (1, 0));
    w.advance(Duration::from_secs(2));
    let out = w.drain();
    assert!(has(&out, |e| matches!(e, Event::Terminated { .. })));
    assert!(!has(&out, |e| matches!(e, Event::Timeout { .. })));
    w.receive(ok);
    assert!(has(&w.drain(), |e| matches!(e, Event::StrayResponse(_))));
}

#[test]
fn invite_client_times_out_after_64_t1() {
    let mut w = World::new(Timers::RELIABLE);
    let invite = w.request(Method::Invite);
    w.layer.send_request(invite, w.now).unwrap();
    w.drain();
    assert_eq!(w.layer.poll_timeout(), Some(w.now + Duration::from_secs(32)));
    w.advance(Duration::from_millis(31_999));
    assert!(w.drain().is_empty());
    w.advance(Duration::from_millis(1));
    let out = w.drain();
    assert!(has(&out, |e| matches!(e, Event::Timeout { .. })));
    assert!(sends(&out).is_empty(), "nothing is retransmitted over a reliable transport");
}

#[test]
fn unreliable_invite_retransmits_with_doubling_intervals() {
    let mut w = World::new(Timers::UNRELIABLE);
    let start = w.now;
    let invite = w.request(Method::Invite);
    w.layer.send_request(invite, w.now).unwrap();
    w.drain();
    let mut times = Vec::new();
    for _ in 0..40_000 {
        if let Some(wake) = w.layer.poll_timeout() {
            w.now = wake;
            w.layer.handle_input(Input::Timeout, w.now);
            if !sends(&w.drain()).is_empty() {
                times.push((w.now - start).as_millis());
            }
        } else {
            break;
        }
    }
    assert_eq!(times, [500, 1500, 3500, 7500, 15500, 31500]);
}

#[test]
fn unreliable_non_invite_retransmits_capped_at_t2() {
    let mut w = World::new(Timers::UNRELIABLE);
    let start = w.now;
    let opts = w.request(Method::Options);
    w.layer.send_request(opts.clone(), w.now).unwrap();
    w.drain();
    let mut times = Vec::new();
    while let Some(wake) = w.layer.poll_timeout() {
        w.now = wake;
        w.layer.handle_input(Input::Timeout, w.now);
        let out = w.drain();
        if !sends(&out).is_empty() {
            times.push((w.now - start).as_millis());
        }
        if has(&out, |e| matches!(e, Event::Timeout { .. })) {
            break;
        }
    }
    assert_eq!(&times[..6], [500, 1500, 3500, 7500, 11500, 15500]);
    assert_eq!((w.now - start).as_secs(), 32);
}

#[test]
fn invite_server_answers_retransmissions_and_waits_for_ack() {
    let mut w = World::new(Timers::UNRELIABLE);
    let invite = w.request(Method::Invite);
    w.receive(invite.clone());
    let out = w.drain();
    assert!(has(&out, |e| matches!(e, Event::Request { request, .. } if request.method == Method::Invite)));
    w.receive(invite.clone());
    assert!(w.drain().is_empty(), "a retransmission before any response is absorbed");
    w.layer.send_response(builder::response(&invite, 180, Some("t")), w.now).unwrap();
    assert_eq!(sends(&w.drain()).len(), 1);
    w.receive(invite.clone());
    let resent = w.drain();
    assert!(matches!(sends(&resent)[0], Message::Response(r) if r.status == 180));
    w.layer.send_response(builder::response(&invite, 486, Some("t")), w.now).unwrap();
    w.drain();
    w.advance(Duration::from_millis(500));
    assert_eq!(sends(&w.drain()).len(), 1, "timer G retransmits the final response");
    let mut ack = builder::cancel(&invite);
    ack.method = Method::Ack;
    ack.headers.set("CSeq", "7 ACK");
    w.receive(ack);
    w.advance(Duration::from_secs(6));
    let out = w.drain();
    assert!(has(&out, |e| matches!(e, Event::Terminated { .. })));
    assert!(!has(&out, |e| matches!(e, Event::Timeout { .. })));
    assert!(sends(&out).is_empty());
}

#[test]
fn invite_server_without_ack_times_out() {
    let mut w = World::new(Timers::RELIABLE);
    let invite = w.request(Method::Invite);
    w.receive(invite.clone());
    w.layer.send_response(builder::response(&invite, 603, Some("t")), w.now).unwrap();
    w.drain();
    w.advance(Duration::from_secs(32));
    assert!(has(&w.drain(), |e| matches!(e, Event::Timeout { .. })));
    let again = w.layer.send_response(builder::response(&invite, 200, Some("t")), w.now);
    assert!(matches!(again, Err(TransactionError::NoServerTransaction(_))));
}

#[test]
fn non_invite_server_reliable_ends_on_final_response() {
    let mut w = World::new(Timers::RELIABLE);
    let bye = w.request(Method::Bye);
    w.receive(bye.clone());
    w.drain();
    w.layer.send_response(builder::response(&bye, 200, None), w.now).unwrap();
    let out = w.drain();
    assert_eq!(sends(&out).len(), 1);
    assert!(has(&out, |e| matches!(e, Event::Terminated { .. })));
    assert_eq!(w.layer.len(), (0, 0));
}

#[test]
fn cancel_finds_its_invite_and_ack_for_2xx_goes_up() {
    let mut w = World::new(Timers::RELIABLE);
    let invite = w.request(Method::Invite);
    w.receive(invite.clone());
    let cancel = builder::cancel(&invite);
    w.receive(cancel.clone());
    let out = w.drain();
    assert!(has(&out, |e| matches!(e, Event::Request { request, .. } if request.method == Method::Cancel)));
    let tx = w.layer.find_invite_for_cancel(&cancel).unwrap();
    assert_eq!(tx.request().method, Method::Invite);
    let mut ack = w.request(Method::Ack);
    ack.headers.set("CSeq", "7 ACK");
    w.receive(ack);
    assert!(has(&w.drain(), |e| matches!(e, Event::Ack(_))));
}

#[test]
fn garbage_and_misuse_are_reported() {
    let mut w = World::new(Timers::RELIABLE);
    w.layer.handle_input(Input::Received(b"\x00\xffgarbage"), w.now);
    assert!(has(&w.drain(), |e| matches!(e, Event::Malformed(_))));
    let ack = w.request(Method::Ack);
    assert_eq!(w.layer.send_request(ack, w.now), Err(TransactionError::AckNeedsNoTransaction));
    let opts = w.request(Method::Options);
    w.layer.send_request(opts.clone(), w.now).unwrap();
    assert!(matches!(w.layer.send_request(opts, w.now), Err(TransactionError::DuplicateBranch(_))));
}

#[test]
fn rfc2543_peers_without_magic_cookie_still_match() {
    let mut w = World::new(Timers::RELIABLE);
    let mut invite = w.request(Method::Invite);
    invite.headers.set("Via", "SIP/2.0/UDP old.example.com");
    w.receive(invite.clone());
    w.drain();
    w.receive(invite.clone());
    assert!(w.drain().is_empty(), "same request again is a retransmission");
    w.layer.send_response(builder::response(&invite, 180, Some("t")), w.now).unwrap();
    assert_eq!(sends(&w.drain()).len(), 1);
}

#[test]
fn ack_reusing_the_invite_branch_reaches_the_tu_while_accepted() {
    let mut w = World::new(Timers::RELIABLE);
    let invite = w.request(Method::Invite);
    w.receive(invite.clone());
    w.layer.send_response(builder::response(&invite, 200, Some("t")), w.now).unwrap();
    w.drain();
    let mut ack = builder::cancel(&invite);
    ack.method = Method::Ack;
    ack.headers.set("CSeq", "7 ACK");
    w.receive(ack);
    assert!(has(&w.drain(), |e| matches!(e, Event::Ack(_))), "the seed SDK ACKs a 2xx with the INVITE's branch");
}

#[test]
fn a_request_over_the_size_limit_is_answered_513_and_a_large_response_is_dropped() {
    let mut w = World::new(Timers::RELIABLE);
    w.layer = TransactionLayer::new(Timers::RELIABLE).with_max_message(4096);
    let mut big = w.request(Method::Message);
    big.body = vec![b'x'; 5000];
    big.headers.set("Content-Length", "5000");
    w.receive(big.clone());
    let out = w.drain();
    let replies = sends(&out);
    assert_eq!(replies.len(), 1, "{out:?}");
    let Message::Response(r) = replies[0] else { panic!("a response") };
    assert_eq!((r.status, r.reason.as_str()), (513, "Message Too Large"));
    assert_eq!(r.headers.get("Call-ID"), big.headers.get("Call-ID"));
    assert!(has(&out, |e| matches!(e, Event::Malformed(ParseError { kind: crate::error::ParseErrorKind::TooLarge { size, limit: 4096 }, .. }) if *size > 5000)));

    // The same size as a response: dropped, reported, never answered.
    let options = w.request(Method::Options);
    let mut response = builder::response(&options, 200, Some("t"));
    response.body = vec![b'y'; 5000];
    response.headers.set("Content-Length", "5000");
    w.receive(response);
    let out = w.drain();
    assert!(sends(&out).is_empty() && has(&out, |e| matches!(e, Event::Malformed(_))), "{out:?}");

    // A request under the limit is still taken.
    let small = w.request(Method::Options);
    w.receive(small);
    assert!(has(&w.drain(), |e| matches!(e, Event::Request { .. })));
}

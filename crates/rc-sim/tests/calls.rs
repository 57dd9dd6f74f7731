//! Calls between extensions through rc-sim's back-to-back user agent, over real WSS sockets.

mod common;

use common::{sdp_answer, server, Client};
use rc_dialect::message::RcMessage;
use sip::builder::{self, RequestParts};
use sip::{HeaderName, Method, NameAddr, Request, SipUri, WithBody};

async fn registered(sim: &rc_sim::Handle, number: &str, instance: &str) -> Client {
    let mut c = Client::connect(sim, number, instance).await;
    c.register().await;
    c
}

/// The callee device's view of an incoming call: the INVITE, answered 100 + 180 with `tag`.
async fn ringing(dev: &mut Client, tag: &str) -> Request {
    let invite = dev.request("incoming INVITE").await;
    assert_eq!(invite.method, Method::Invite);
    dev.reply(&invite, 100, tag).await;
    dev.reply(&invite, 180, tag).await;
    invite
}

#[tokio::test]
async fn unregistered_and_unauthenticated_invites_are_refused() {
    let sim = server().await;
    let mut stranger = Client::connect(&sim, "101", "x").await;
    let invite = stranger.invite_request("102", "c-unreg");
    stranger.send(invite).await;
    assert_eq!(stranger.response("403").await.status, 403);

    let mut a = registered(&sim, "101", "a").await;
    let invite = a.invite_request("102", "c-auth");
    a.send(invite).await;
    let challenge = a.response("407").await;
    assert_eq!(challenge.status, 407);
    let value = challenge.headers.get("Proxy-Authenticate").unwrap();
    assert!(value.contains(", nonce=\""), "the seed SDK needs the nonce after another parameter: {value}");
}

#[tokio::test]
async fn call_rings_every_device_and_the_first_answer_wins() {
    let sim = server().await;
    let mut a = registered(&sim, "101", "a").await;
    let mut b1 = registered(&sim, "102", "b1").await;
    let mut b2 = registered(&sim, "102", "b2").await;
    let sent = a.call("102", "call-1").await;

    let inv1 = ringing(&mut b1, "tb1").await;
    let inv2 = ringing(&mut b2, "tb2").await;
    for inv in [&inv1, &inv2] {
        let p_rc = RcMessage::parse(inv.headers.get("P-rc").unwrap()).unwrap();
        assert_eq!(p_rc.cmd(), Some(6));
        assert_eq!(p_rc.bdy("Phn"), Some("16505550101"));
        assert_eq!(p_rc.hdr("To"), Some("16505550102"));
        let ids = inv.headers.get("p-rc-api-ids").unwrap();
        assert!(ids.starts_with("party-id=p-") && ids.contains(";session-id=s-"), "{ids}");
        assert_eq!(inv.headers.get("p-rc-api-call-info"), Some("callAttributes=reject,send-vm"));
        let offer = String::from_utf8_lossy(&inv.body);
        assert!(offer.contains("m=audio") && inv.body != a.offer.as_bytes(), "the callee gets rc-sim's media offer, not the caller's");
        assert_eq!(inv.headers.from().unwrap().display_name.as_deref(), Some("Demo User 101"));
    }
    assert_ne!(inv1.headers.call_id().unwrap(), sent.headers.call_id().unwrap(), "each leg has its own Call-ID");

    let ringing = a.response("180").await;
    assert_eq!(ringing.status, 180);
    let caller_tag = ringing.headers.to().unwrap().tag().unwrap().to_owned();

    let mut ok = builder::response(&inv1, 200, Some("tb1"));
    ok.set_body("application/sdp", sdp_answer(&inv1.body).await);
    b1.send(ok).await;
    let ack = b1.request("ACK of the 200").await;
    assert_eq!(ack.method, Method::Ack);
    let taken = b2.request("AlreadyProcessed MESSAGE to the other device").await;
    assert_eq!(taken.method, Method::Message);
    let taken = RcMessage::parse(&String::from_utf8_lossy(&taken.body)).unwrap();
    assert_eq!((taken.cmd(), taken.bdy("Cln")), (Some(7), Some("800000000102")));
    // RingCentral sends a control message to every device of the line; each keeps its own Cln.
    let copy = b1.request("the same AlreadyProcessed MESSAGE on the answering device").await;
    assert_eq!(copy.method, Method::Message);
    assert_eq!(RcMessage::parse(&String::from_utf8_lossy(&copy.body)).unwrap(), taken);
    let cancel = b2.request("CANCEL of the other device").await;
    assert_eq!(cancel.method, Method::Cancel);
    assert!(cancel.to_bytes().windows(9).any(|w| w == b"Call-Id: "), "the seed SDK matches `Call-Id` exactly");

    let answered = a.response("200").await;
    assert_eq!((answered.status, answered.reason.as_str()), (200, "OK"));
    assert!(String::from_utf8_lossy(&answered.body).contains("a=fingerprint:"), "the caller gets rc-sim's media answer");
    assert_eq!(answered.headers.to().unwrap().tag(), Some(caller_tag.as_str()));
    assert_eq!(sim.calls().await[0].state, "answered");

    // The seed SDK hangs up with BYE to sip:{domain}; rc-sim routes by Call-ID.
    let mut dialog = sip::Dialog::from_uac(&sent, &answered).unwrap();
    let mut bye = dialog.new_request(Method::Bye, &a.local, &mut a.rng);
    bye.uri = SipUri::new(None, "sip.ringcentral.com").into();
    a.send(bye).await;
    assert_eq!(a.response("200 to BYE").await.status, 200);
    let bye_b = b1.request("BYE relayed").await;
    assert_eq!(bye_b.method, Method::Bye);
    assert_eq!(bye_b.headers.call_id().unwrap(), inv1.headers.call_id().unwrap());
    assert!(sim.calls().await.is_empty());
}

#[tokio::test]
async fn caller_cancel_reaches_the_callee() {
    let sim = server().await;
    let mut a = registered(&sim, "101", "a").await;
    let mut b = registered(&sim, "102", "b").await;
    let sent = a.call("102", "call-2").await;
    let _invite = ringing(&mut b, "tb").await;
    assert_eq!(a.response("180").await.status, 180);
    a.send(builder::cancel(&sent)).await;
    let mut statuses = vec![a.response("200 to CANCEL").await.status, a.response("487").await.status];
    statuses.sort();
    assert_eq!(statuses, [200, 487]);
    assert_eq!(b.request("CANCEL").await.method, Method::Cancel);
    assert!(sim.calls().await.is_empty());
}

/// The callee's control MESSAGE, built from the INVITE's P-rc as the seed SDK does.
fn rc_control(dev: &mut Client, invite: &Request, cmd: u32, extra: &[(&str, &str)]) -> Request {
    let p_rc = RcMessage::parse(invite.headers.get("P-rc").unwrap()).unwrap();
    let mut bdy = vec![("Cln".to_owned(), dev.info.authorization_id.clone())];
    bdy.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let msg = RcMessage {
        hdr: vec![
            ("SID".into(), p_rc.hdr("SID").unwrap().into()),
            ("Req".into(), p_rc.hdr("Req").unwrap().into()),
            ("From".into(), p_rc.hdr("To").unwrap().into()),
            ("To".into(), p_rc.hdr("From").unwrap().into()),
            ("Cmd".into(), cmd.to_string()),
        ],
        bdy,
    };
    let to = p_rc.hdr("From").unwrap().to_owned();
    let tag = builder::new_tag(&mut dev.rng);
    let parts = RequestParts {
        method: Method::Message,
        uri: sip::Uri::parse(&format!("sip:{to}")).unwrap(),
        from: NameAddr::new(SipUri::new(Some(&dev.info.username), &dev.info.domain)).with_param("tag", Some(&tag)),
        to: NameAddr::parse(&format!("<sip:{to}>")).unwrap(),
        call_id: invite.headers.call_id().unwrap().to_owned(),
        cseq: 5000 + cmd,
    };
    builder::message(&dev.local, parts, "x-rc/agent", msg.to_string().as_bytes(), &mut dev.rng)
}

#[tokio::test]
async fn decline_cancels_the_device_and_diverts_the_caller_to_the_announcement() {
    let sim = server().await;
    let mut a = registered(&sim, "101", "a").await;
    let mut b = registered(&sim, "102", "b").await;
    a.call("102", "call-3").await;
    let invite = ringing(&mut b, "tb").await;
    let confirm = rc_control(&mut b, &invite, 17, &[]);
    b.send(confirm).await;
    assert_eq!(b.response("200 to confirm").await.status, 200);
    let decline = rc_control(&mut b, &invite, 12, &[]);
    b.send(decline).await;
    assert_eq!(b.response("200 to decline").await.status, 200);
    assert_eq!(b.request("CANCEL after decline").await.method, Method::Cancel);
    assert_eq!(a.response("180").await.status, 180);
    // The announcement bot answers the caller (the seed SDK test hears the real announcement).
    let answered = a.response("200 from the announcement").await;
    assert_eq!(answered.status, 200);
    assert_eq!(a.request("BYE once the announcement has played").await.method, Method::Bye);
    assert!(sim.bot_reports().await.iter().any(|r| r.bot == rc_sim::core::BotKind::Announcement));
}

#[tokio::test]
async fn forward_rings_the_target_instead() {
    let sim = server().await;
    let mut a = registered(&sim, "102", "a").await;
    let mut b = registered(&sim, "101", "b").await;
    let mut target = registered(&sim, "102", "t").await;
    a.call("101", "call-4").await;
    let invite = ringing(&mut b, "tb").await;
    let fwd = rc_control(&mut b, &invite, 10, &[("FwdDly", "0"), ("Phn", "102"), ("PhnTp", "3")]);
    b.send(fwd).await;
    assert_eq!(b.response("200").await.status, 200);
    assert_eq!(b.request("CANCEL after forward").await.method, Method::Cancel);
    let forwarded = target.request("forwarded INVITE").await;
    assert_eq!(forwarded.method, Method::Invite);
    let p_rc = RcMessage::parse(forwarded.headers.get("P-rc").unwrap()).unwrap();
    assert_eq!(p_rc.bdy("Phn"), Some("16505550102"), "still the original caller");
}

#[tokio::test]
async fn reply_with_text_tells_the_callee_what_the_caller_answered() {
    let sim = server().await;
    let mut a = registered(&sim, "101", "a").await;
    let mut b = registered(&sim, "102", "b").await;
    a.call("102", "call-5").await;
    let invite = ringing(&mut b, "tb").await;
    let sid = RcMessage::parse(invite.headers.get("P-rc").unwrap()).unwrap().hdr("SID").unwrap().to_owned();
    let reply = rc_control(&mut b, &invite, 14, &[("RepTp", "0"), ("Bdy", "In a meeting: call you later")]);
    b.send(reply).await;
    assert_eq!(b.response("200").await.status, 200);
    let mut got_cancel = false;
    let mut close = None;
    for _ in 0..2 {
        let req = b.request("CANCEL and SessionClose").await;
        match req.method {
            Method::Cancel => got_cancel = true,
            Method::Message => close = Some(RcMessage::parse(&String::from_utf8_lossy(&req.body)).unwrap()),
            other => panic!("unexpected {other}"),
        }
    }
    assert!(got_cancel);
    let close = close.expect("SessionClose MESSAGE");
    assert_eq!(close.cmd(), Some(9));
    assert_eq!(close.hdr("SID"), Some(sid.as_str()));
    assert_eq!((close.bdy("Sts"), close.bdy("Resp"), close.bdy("Phn")), (Some("0"), Some("1"), Some("16505550101")));
    assert_eq!(close.bdy("Cln"), Some(b.info.authorization_id.as_str()));
}

#[tokio::test]
async fn hold_reinvite_is_answered_by_rc_sims_media_port() {
    let sim = server().await;
    let mut a = registered(&sim, "101", "a").await;
    let mut b = registered(&sim, "102", "b").await;
    let sent = a.call("102", "call-6").await;
    let invite = ringing(&mut b, "tb").await;
    let mut ok = builder::response(&invite, 200, Some("tb"));
    ok.set_body("application/sdp", sdp_answer(&invite.body).await);
    b.send(ok).await;
    b.request("ACK").await;
    a.response("180").await;
    let answered = a.response("200").await;
    let mut dialog = sip::Dialog::from_uac(&sent, &answered).unwrap();
    let hold_sdp = a.offer.replace("a=sendrecv", "a=sendonly");
    let reinvite = dialog.reinvite(hold_sdp.as_bytes(), &a.local, &mut a.rng);
    a.send(reinvite.clone()).await;
    // rc-sim terminates the media: the hold is answered by its port (the far party hears
    // music), not relayed to b.
    let back = a.response("200 to re-INVITE").await;
    assert_eq!(back.status, 200);
    assert!(String::from_utf8_lossy(&back.body).contains("a=recvonly"), "{}", String::from_utf8_lossy(&back.body));
    assert_eq!(back.headers.get(HeaderName::CSeq), reinvite.headers.get(HeaderName::CSeq));
    let invites_out = sim.log().await.iter().filter(|e| e.direction == rc_sim::core::Direction::Out && e.text.starts_with("INVITE ")).count();
    assert_eq!(invites_out, 1, "only b's initial INVITE: the hold was not relayed");
}

#[tokio::test]
async fn unanswered_device_connection_loss_fails_the_call() {
    let sim = server().await;
    let mut a = registered(&sim, "101", "a").await;
    let mut b = registered(&sim, "102", "b").await;
    a.call("102", "call-7").await;
    ringing(&mut b, "tb").await;
    assert_eq!(a.response("180").await.status, 180);
    let conn = sim.registrations().await.iter().find(|r| r.number == "16505550102").unwrap().conn;
    sim.drop_connection(conn);
    assert_eq!(a.response("480 after the device vanished").await.status, 480);
    b.expect_closed().await;
}

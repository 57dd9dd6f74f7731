//! Dialog creation, in-dialog requests and routing.

use super::*;
use crate::builder::{self, LocalEndpoint};
use crate::message::Message;
use crate::uri::SipUri;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn setup() -> (StdRng, LocalEndpoint, Request) {
    let mut rng = StdRng::seed_from_u64(3);
    let local = LocalEndpoint::random_ws(&mut rng, true, None);
    let parts = RequestParts {
        method: Method::Invite,
        uri: SipUri::new(Some("101"), "sip.ringcentral.com").into(),
        from: NameAddr::new(SipUri::new(Some("100"), "sip.ringcentral.com")).with_param("tag", Some("L")),
        to: NameAddr::new(SipUri::new(Some("101"), "sip.ringcentral.com")),
        call_id: "cid".into(),
        cseq: 10,
    };
    let invite = builder::request(&local, parts, &mut rng);
    (rng, local, invite)
}

fn answer(invite: &Request, status: u16) -> Response {
    let mut r = builder::response(invite, status, Some("R"));
    r.headers.push("Record-Route", "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>");
    r.headers.push("Contact", "<sip:101@10.0.0.9:8083;transport=wss>");
    r
}

#[test]
fn uac_dialog_routes_bye_through_reversed_record_route() {
    let (mut rng, local, invite) = setup();
    let mut d = Dialog::from_uac(&invite, &answer(&invite, 180)).unwrap();
    assert_eq!(d.state, DialogState::Early);
    d.on_response(&Method::Invite, &answer(&invite, 200)).unwrap();
    assert_eq!(d.state, DialogState::Confirmed);
    let ack = d.ack(10, &local, &mut rng);
    assert_eq!(ack.headers.cseq().unwrap().to_string(), "10 ACK");
    let bye = d.new_request(Method::Bye, &local, &mut rng);
    assert_eq!(bye.uri.to_string(), "sip:101@10.0.0.9:8083;transport=wss");
    let routes: Vec<String> = bye.headers.routes().unwrap().iter().map(|r| r.uri.to_string()).collect();
    assert_eq!(routes, ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]);
    assert_eq!(bye.headers.cseq().unwrap().seq, 11);
    assert_eq!(bye.headers.from().unwrap().tag(), Some("L"));
    assert_eq!(bye.headers.to().unwrap().tag(), Some("R"));
    assert_eq!(bye.headers.iter().nth(1).unwrap().kind, HeaderName::Route);
    Message::parse(&bye.to_bytes()).unwrap();
}

#[test]
fn strict_route_puts_first_hop_in_request_uri() {
    let (mut rng, local, invite) = setup();
    let mut resp = builder::response(&invite, 200, Some("R"));
    resp.headers.push("Record-Route", "<sip:strict.example.com>");
    resp.headers.push("Contact", "<sip:101@10.0.0.9>");
    let mut d = Dialog::from_uac(&invite, &resp).unwrap();
    let bye = d.new_request(Method::Bye, &local, &mut rng);
    assert_eq!(bye.uri.to_string(), "sip:strict.example.com");
    assert_eq!(bye.headers.routes().unwrap()[0].uri.to_string(), "sip:101@10.0.0.9");
}

#[test]
fn uas_dialog_checks_order_and_refreshes_target() {
    let (mut rng, local, mut invite) = setup();
    invite.headers.set("Contact", "<sip:100@a.invalid;transport=wss>");
    let mut d = Dialog::from_uas(&invite, "T", true).unwrap();
    assert_eq!(d.id, DialogId { call_id: "cid".into(), local_tag: "T".into(), remote_tag: "L".into() });
    assert_eq!(d.remote_target.to_string(), "sip:100@a.invalid;transport=wss");
    let mut reinvite = invite.clone();
    reinvite.headers.set("CSeq", "11 INVITE");
    reinvite.headers.set("Contact", "<sip:100@b.invalid;transport=wss>");
    d.on_request(&reinvite).unwrap();
    assert_eq!(d.remote_target.to_string(), "sip:100@b.invalid;transport=wss");
    assert_eq!(d.on_request(&reinvite), Err(DialogError::OutOfOrder { got: 11, last: 11 }));
    let bye = d.new_request(Method::Bye, &local, &mut rng);
    assert_eq!(bye.headers.to().unwrap().tag(), Some("L"));
    assert_eq!(bye.headers.from().unwrap().tag(), Some("T"));
    assert!(bye.headers.cseq().unwrap().seq >= 1);
}

#[test]
fn dialog_creation_errors() {
    let (_, _, invite) = setup();
    let no_tag = builder::response(&invite, 200, None);
    assert_eq!(Dialog::from_uac(&invite, &no_tag), Err(DialogError::MissingTag("To")));
    assert_eq!(Dialog::from_uac(&invite, &answer(&invite, 486)), Err(DialogError::NotDialogCreating(486)));
    let mut no_contact = invite.clone();
    no_contact.headers.remove("Contact");
    assert_eq!(Dialog::from_uas(&no_contact, "T", false), Err(DialogError::MissingContact));
}

#[test]
fn replaces_names_the_dialog_from_the_target_view() {
    let (_, _, invite) = setup();
    let d = Dialog::from_uac(&invite, &answer(&invite, 200)).unwrap();
    let r = d.replaces();
    assert_eq!(r.to_string(), "cid;to-tag=R;from-tag=L");
    let refer_to = NameAddr::new(SipUri::new(Some("101"), "sip.ringcentral.com").with_header("Replaces", &r.to_string()));
    let parsed = NameAddr::parse(&refer_to.to_string()).unwrap();
    assert_eq!(parsed.embedded_replaces().unwrap().unwrap(), r);
}

#[test]
fn reinvite_refer_and_info_helpers() {
    let (mut rng, local, invite) = setup();
    let mut d = Dialog::from_uac(&invite, &answer(&invite, 200)).unwrap();
    let re = d.reinvite(b"v=0\r\n", &local, &mut rng);
    assert_eq!((re.method.clone(), re.headers.cseq().unwrap().seq), (Method::Invite, 11));
    assert!(re.headers.content_type().unwrap().unwrap().is("application/sdp"));
    assert!(re.headers.get("Contact").is_some());
    let target = NameAddr::new(SipUri::new(Some("102"), "sip.ringcentral.com"));
    let refer = d.refer(&target, &local, &mut rng);
    assert_eq!(refer.headers.refer_to().unwrap().unwrap(), target);
    assert_eq!(refer.headers.get("Referred-By"), Some("<sip:100@sip.ringcentral.com>"));
    let info = d.info("application/json;charset=utf-8", br#"{"request":{"reqid":1,"command":"callpark"}}"#, &local, &mut rng);
    assert_eq!(info.headers.cseq().unwrap().seq, 13);
    let parsed = Message::parse(&info.to_bytes()).unwrap();
    assert_eq!(parsed.body(), info.body.as_slice());
}

//! rc-sim reads what RingCentral really sends. Every captured message in
//! `crates/webphone/tests/fixtures/ringcentral` (SOURCES.md there says where each comes from)
//! is made wire-ready by `sip::capture::to_wire` and goes through the parser rc-sim uses
//! (`sip::Message::parse`), and, where it carries one, through rc-dialect's readers of
//! RingCentral's XML (`P-rc`, `x-rc/agent`) and JSON (call-control INFO) bodies. Each file has
//! one row below saying exactly what is expected of it, failures included.

use rc_dialect::control::{self, Body as ControlBody, ControlError};
use rc_dialect::headers::{auto_answer_delay_ms, ApiIds};
use rc_dialect::RcMessage;
use sip::error::ParseErrorKind;
use sip::Message;
use std::path::{Path, PathBuf};

/// What the start line must be.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// A response with this status.
    Status(u16),
    /// A request with this method.
    Request(&'static str),
}

/// What the body must hold, read with rc-dialect's (or rc-sim's) readers.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// No body.
    Empty,
    /// An SDP body whose first line is `v=0`.
    Sdp,
    /// An `x-rc/agent` XML message with this Cmd.
    RcXml(u32),
    /// A call-control JSON body cut short: JSON cannot read it.
    TruncatedJson,
}

/// The Content-Length the publisher printed, compared with the body once it has CRLFs.
#[derive(Debug, Clone, Copy)]
enum Published {
    /// It is right.
    Right,
    /// It says more than the body holds: parsed as published, the body is too short.
    TooLong { declared: usize, actual: usize },
    /// It says less than the body holds: parsed as published, the end of the body is lost.
    TooShort { declared: usize, actual: usize },
}

/// One fixture and what rc-sim's readers must make of it.
struct Row {
    file: &'static str,
    /// `Ok(start)` when the wire form parses, else the exact error kind.
    parse: Result<Start, ParseErrorKind>,
    body: Body,
    published: Published,
}

const fn ok(file: &'static str, start: Start, body: Body) -> Row {
    Row { file, parse: Ok(start), body, published: Published::Right }
}

/// Every `.sip` fixture, in file order.
fn rows() -> Vec<Row> {
    use Body::*;
    use Start::*;
    vec![
        ok("01-register-100-trying.sip", Status(100), Empty),
        ok("02-register-401-www-authenticate.sip", Status(401), Empty),
        ok("03-register-200-ok.sip", Status(200), Empty),
        ok("04-inbound-invite-webrtc.sip", Request("INVITE"), Sdp),
        ok("05-message-x-rc-agent-cmd7.sip", Request("MESSAGE"), RcXml(7)),
        ok("06-inbound-invite-webrtc-second.sip", Request("INVITE"), Sdp),
        ok("07-register-403-instance-id-intercepted.sip", Status(403), Empty),
        ok("08-outbound-invite-200-ok-sonus-answer.sip", Status(200), Sdp),
        ok("09-register-401-www-authenticate-uppercase.sip", Status(401), Empty),
        ok("10-register-200-ok-kamailio.sip", Status(200), Empty),
        // Published `Content-Length:   174`, but the body as published is 173 bytes.
        Row { file: "11-message-x-rc-agent-cmd2-voicemail.sip", parse: Ok(Request("MESSAGE")), body: RcXml(2), published: Published::TooLong { declared: 174, actual: 173 } },
        ok("12-register-603-too-many-contacts.sip", Status(603), Empty),
        ok("13-invite-100-trying-important.sip", Status(100), Empty),
        ok("14-invite-407-proxy-authenticate.sip", Status(407), Empty),
        ok("15-invite-500-internal-server-error.sip", Status(500), Empty),
        // As published it has neither Call-ID nor CSeq; the parser names the first it misses.
        Row { file: "16-invite-400-bad-request-error-info.sip", parse: Err(ParseErrorKind::MissingHeader("Call-ID")), body: Empty, published: Published::Right },
        ok("17-register-400-bad-request-contact.sip", Status(400), Empty),
        // The stored copy ends mid-body: once its length is recomputed the headers parse, and
        // the JSON does not.
        Row { file: "18-info-stopcallrecord-truncated.sip", parse: Ok(Request("INFO")), body: TruncatedJson, published: Published::TooLong { declared: 197, actual: 182 } },
        Row { file: "19-supervision-invite-auto-answer.sip", parse: Ok(Request("INVITE")), body: Sdp, published: Published::TooShort { declared: 510, actual: 515 } },
        ok("20-client-register-with-authorization.sip", Request("REGISTER"), Empty),
        ok("21-client-200-ok-to-inbound-invite-tls-srtp.sip", Status(200), Sdp),
    ]
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../webphone/tests/fixtures/ringcentral")
}

fn published(file: &str) -> String {
    let path = fixture_dir().join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The published text with CRLF line ends and its Content-Length as printed.
fn crlf_only(text: &str) -> String {
    text.replace('\n', "\r\n")
}

fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.headers().get(name)
}

#[test]
fn every_sip_fixture_has_one_row_and_every_row_a_file() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("the fixtures directory")
        .map(|e| e.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sip"))
        .collect();
    on_disk.sort();
    let listed: Vec<String> = rows().iter().map(|r| r.file.to_owned()).collect();
    assert_eq!(on_disk, listed, "each fixture says what is expected of it");
}

#[test]
fn each_fixture_parses_as_expected_in_wire_form() {
    for row in rows() {
        let wire = sip::capture::to_wire(&published(row.file));
        let parsed = Message::parse(wire.as_bytes());
        match (&row.parse, parsed) {
            (Ok(start), Ok(msg)) => check_start(row.file, *start, &msg),
            (Err(kind), Err(e)) => assert_eq!(&e.kind, kind, "{}: {e}", row.file),
            (want, got) => panic!("{}: expected {want:?}, got {:?}", row.file, got.map(|_| "a message")),
        }
    }
}

fn check_start(file: &str, start: Start, msg: &Message) {
    match (start, msg) {
        (Start::Status(s), Message::Response(r)) => assert_eq!(r.status, s, "{file}"),
        (Start::Request(m), Message::Request(r)) => {
            assert_eq!(r.method.as_str(), m, "{file}");
            assert_eq!(r.headers.cseq().expect("CSeq").method, r.method, "{file}: CSeq names the method");
        }
        _ => panic!("{file}: expected {start:?}"),
    }
    assert!(msg.headers().call_id().is_ok_and(|c| !c.is_empty()), "{file}: a Call-ID (any casing)");
}

#[test]
fn published_content_lengths_are_right_except_in_11_18_and_19() {
    for row in rows() {
        let text = crlf_only(&published(row.file));
        let parsed = Message::parse(text.as_bytes());
        match row.published {
            Published::Right => assert_eq!(parsed, Message::parse(sip::capture::to_wire(&published(row.file)).as_bytes()), "{}", row.file),
            Published::TooLong { declared, actual } => {
                let kind = parsed.expect_err("a body shorter than announced").kind;
                assert_eq!(kind, ParseErrorKind::BodyTooShort { expected: declared, actual }, "{}", row.file);
            }
            Published::TooShort { declared, actual } => {
                let msg = parsed.expect("a longer body than announced is cut, not refused");
                assert_eq!(msg.body().len(), declared, "{}", row.file);
                assert_eq!(text.split_once("\r\n\r\n").expect("a body").1.len(), actual, "{}", row.file);
            }
        }
    }
}

#[test]
fn bodies_are_read_by_rc_dialect_where_they_are_complete() {
    for row in rows().into_iter().filter(|r| r.parse.is_ok()) {
        let msg = Message::parse(sip::capture::to_wire(&published(row.file)).as_bytes()).expect("parses");
        let body = String::from_utf8(msg.body().to_vec()).expect("UTF-8 body");
        let content_type = header(&msg, "Content-Type").unwrap_or_default().to_owned();
        match row.body {
            Body::Empty => assert!(body.is_empty(), "{}: {body}", row.file),
            Body::Sdp => {
                assert!(content_type.starts_with("application/sdp") && body.starts_with("v=0\r\n"), "{}: {content_type}", row.file);
            }
            Body::RcXml(cmd) => {
                assert_eq!(content_type, "x-rc/agent", "{}", row.file);
                let rc = RcMessage::parse(&body).unwrap_or_else(|e| panic!("{}: {e}", row.file));
                assert_eq!(rc.cmd(), Some(cmd), "{}", row.file);
            }
            Body::TruncatedJson => {
                assert_eq!(content_type, "application/json", "{}", row.file);
                match control::parse(body.as_bytes()) {
                    Err(ControlError::Json(why)) => assert!(why.starts_with("EOF while parsing"), "{}: {why}", row.file),
                    other => panic!("{}: a cut JSON body must not be read: {other:?}", row.file),
                }
            }
        }
    }
}

#[test]
fn the_18_status_info_closed_where_it_was_cut_is_read_as_a_status() {
    // The truncated fixture's JSON closed where it was cut (its description string, then the
    // braces; no word added): the parser takes RingCentral's pretty-printed `{"status":…}`
    // with spaces before colons.
    let msg = Message::parse(sip::capture::to_wire(&published("18-info-stopcallrecord-truncated.sip")).as_bytes()).expect("parses");
    let cut = String::from_utf8(msg.body().to_vec()).unwrap();
    let whole = format!("{cut}\"\n      }}\n   }}\n}}\n");
    let Ok(ControlBody::Status(status)) = control::parse(whole.as_bytes()) else { panic!("a status body:\n{whole}") };
    assert_eq!((status.command.as_str(), status.reqid.as_u64()), ("stopcallrecord", Some(0)));
    assert!(status.result.expect("a result").succeeded());
}

#[test]
fn ringcentral_headers_of_the_inbound_invites_are_read() {
    for (file, sid, party) in [
        ("04-inbound-invite-webrtc.sip", "35464233129848", "p-33f727da499c463aac3cf8294de576c0-2"),
        ("06-inbound-invite-webrtc-second.sip", "35464295783848", "p-e9d16ea3dabd47f59e40b1f92d8515f3-2"),
    ] {
        let msg = Message::parse(sip::capture::to_wire(&published(file)).as_bytes()).expect("parses");
        let rc = RcMessage::parse(header(&msg, "P-rc").expect("P-rc")).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((rc.cmd(), rc.hdr("SID")), (Some(6), Some(sid)), "{file}");
        assert_eq!(rc.bdy("Phn"), Some("+16506666666"), "{file}");
        let ids = ApiIds::parse(header(&msg, "p-rc-api-ids").expect("p-rc-api-ids"));
        assert_eq!(ids.party_id.as_deref(), Some(party), "{file}");
        assert_eq!(ids.session_id.as_deref(), Some(party.trim_start_matches("p-").trim_end_matches("-2")).map(|s| format!("s-{s}")).as_deref(), "{file}");
        assert_eq!(auto_answer_delay_ms(header(&msg, "Alert-Info"), header(&msg, "Call-Info")), None, "{file}: rings");
    }
    let supervision = Message::parse(sip::capture::to_wire(&published("19-supervision-invite-auto-answer.sip")).as_bytes()).expect("parses");
    assert_eq!(auto_answer_delay_ms(header(&supervision, "Alert-Info"), header(&supervision, "Call-Info")), Some(0), "answered at once");
    let ids = ApiIds::parse(header(&supervision, "p-rc-api-ids").expect("p-rc-api-ids"));
    assert_eq!(ids.party_id.as_deref(), Some("cs171841903350030962-6"));
}

#[test]
fn the_x_rc_agent_messages_say_who_they_are_for() {
    let msg = Message::parse(sip::capture::to_wire(&published("05-message-x-rc-agent-cmd7.sip")).as_bytes()).expect("parses");
    let rc = RcMessage::parse(&String::from_utf8_lossy(msg.body())).expect("XML");
    assert_eq!((rc.bdy("Cln"), rc.bdy("Sts")), (Some("802398808016"), Some("0")), "Cmd 7 names the device that took the call");
    assert_eq!(msg.headers().from().expect("From").sip_uri().and_then(|u| u.user_decoded()).as_deref(), Some("#1024016"), "the escaped # is read");

    let msg = Message::parse(sip::capture::to_wire(&published("11-message-x-rc-agent-cmd2-voicemail.sip")).as_bytes()).expect("parses");
    let rc = RcMessage::parse(&String::from_utf8_lossy(msg.body())).expect("XML");
    assert_eq!((rc.bdy("Mny"), rc.bdy("MB")), (Some("2010407"), Some("2147483647")));
    assert_eq!(msg.headers().from().expect("From").sip_uri().and_then(|u| u.user_decoded()).as_deref(), Some("#8972010116348137300"), "a bare # in the From user is taken");
    assert_eq!(msg.headers().from().expect("From").tag(), None, "no From tag");
}

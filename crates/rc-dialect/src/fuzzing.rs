//! The checks the fuzz targets run, kept here so `cargo test` can replay the committed corpus
//! through exactly the same code (`tests/fuzz_corpus.rs`) without libFuzzer.
//!
//! Each check panics when a property the crate promises does not hold; an input that does
//! not parse is not a failure.

use crate::control::{self, Body, Command};
use crate::message::{cmd, RcMessage};
use crate::reply::{CallerResponse, Reply};
use crate::sipinfo::SipInfo;

/// Fuzz target `message`: [`RcMessage::parse`] never panics; a parsed message whose attribute
/// names are unique reads back equal from its own XML, and so does the reply a client builds
/// from it; the XML is one line without `": "`; [`CallerResponse::from_message`] and the
/// accessors agree with the attributes.
pub fn message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(msg) = RcMessage::parse(text) else { return };
    if unique_names(&msg.hdr) && unique_names(&msg.bdy) {
        check_written(&msg);
    }
    let caller = CallerResponse::from_message(&msg);
    assert_eq!(caller.replied, msg.bdy("Sts") == Some("0"));
    assert_eq!(caller.number, msg.bdy("Phn").unwrap_or_default());
    assert_eq!(msg.cmd(), msg.hdr("Cmd").and_then(|c| c.parse().ok()));
    let said = Reply::Text(msg.bdy("Nm").unwrap_or(text).to_owned());
    check_written(&msg.client_reply(cmd::CLIENT_REPLY, msg.hdr("SID").unwrap_or_default(), &said.attributes()));
}

/// True when no attribute name appears twice (XML forbids that within one element, and the
/// writer puts all of a message's `Hdr` attributes into one element).
fn unique_names(attrs: &[(String, String)]) -> bool {
    attrs.iter().enumerate().all(|(i, (k, _))| attrs[..i].iter().all(|(other, _)| other != k))
}

/// The message's XML is one line without `": "` and parses back to the same message.
fn check_written(msg: &RcMessage) {
    let text = msg.to_string();
    assert!(!text.contains(": "), "written XML holds \": \": {text}");
    assert!(!text.contains(['\r', '\n']), "written XML is not one line: {text:?}");
    match RcMessage::parse(&text) {
        Ok(again) => assert_eq!(&again, msg, "XML {text:?} reads back differently"),
        Err(e) => panic!("written XML {text:?} does not parse: {e}"),
    }
}

/// Fuzz target `control`: [`control::parse`] never panics; a response written again with
/// `to_body` reads back as the same answer (number, command, code, description, fields);
/// a flip request to any target reads back with that target.
pub fn control(data: &[u8]) {
    if let Ok(Body::Response(response)) = control::parse(data) {
        check_response(&response);
    }
    if let Ok(target) = std::str::from_utf8(data) {
        check_flip(target, data.len() as u32);
    }
}

/// A response survives `to_body` and `parse` (numbers compared as the client reads them).
fn check_response(response: &control::Response) {
    let body = response.to_body();
    let again = match control::parse(body.as_bytes()) {
        Ok(Body::Response(again)) => again,
        other => panic!("response body {body} reads back as {other:?}"),
    };
    assert_eq!(again.reqid.as_u64(), response.reqid.as_u64(), "{body}");
    assert_eq!(again.command, response.command, "{body}");
    assert_eq!((again.result.code, &again.result.description), (response.result.code, &response.result.description));
    assert!(again.result.extra.keys().eq(response.result.extra.keys()), "{body}");
    assert_eq!(again.result.park_extension(), response.result.park_extension());
}

/// The flip request to `target` reads back as that request.
fn check_flip(target: &str, reqid: u32) {
    let body = Command::Flip { target: target.to_owned() }.to_body(reqid);
    let Ok(Body::Request(request)) = control::parse(body.as_bytes()) else { panic!("{body} does not read back") };
    assert_eq!(request.reqid.as_u64(), Some(u64::from(reqid)));
    assert_eq!((request.command.as_str(), request.target.as_deref()), ("callflip", Some(target)));
}

/// Fuzz target `sipinfo`: [`SipInfo::from_json`] never panics; what it accepts passes
/// [`SipInfo::validate`], serialises to JSON that it accepts again unchanged, and never shows
/// its password in `Debug`. `validate` never panics on any deserialised value either.
pub fn sipinfo(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(info) = serde_json::from_str::<SipInfo>(text) {
        let _ = info.validate();
    }
    let Ok(info) = SipInfo::from_json(text) else { return };
    assert_eq!(info.validate(), Ok(()));
    let json = serde_json::to_string(&info).expect("a SipInfo serialises");
    assert_eq!(SipInfo::from_json(&json).as_ref(), Ok(&info), "{json}");
    let blank = SipInfo { password: String::new(), ..info.clone() };
    assert_eq!(format!("{info:?}"), format!("{blank:?}"), "Debug depends on the password");
    assert!(info.proxy_url(false).is_some());
    let _ = info.proxy_url(true);
}

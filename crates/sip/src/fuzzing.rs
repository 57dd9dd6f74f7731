//! The checks the fuzz targets run, kept here so `cargo test` can replay the committed corpus
//! through exactly the same code (`tests/fuzz_corpus.rs`) without libFuzzer.
//!
//! Each check panics when a property the crate promises does not hold; an input that does
//! not parse is not a failure.

use crate::Message;

/// Fuzz target `parse`: [`Message::parse`] never panics, and a message that parses is
/// serialised by `to_bytes` into bytes that parse back to an equal message and serialise to
/// the same bytes again (the round trip `tests/roundtrip.rs` and `tests/torture.rs` assert on
/// generated and RFC 4475 messages). The typed accessors must not panic either.
pub fn parse(data: &[u8]) {
    let Ok(msg) = Message::parse(data) else { return };
    let bytes = msg.to_bytes();
    let again = match Message::parse(&bytes) {
        Ok(again) => again,
        Err(e) => panic!("a serialised message must parse: {e}\n{}", String::from_utf8_lossy(&bytes)),
    };
    assert_eq!(again, msg, "serialise then parse changed the message");
    assert_eq!(again.to_bytes(), bytes, "serialising is not stable");
    accessors(&msg);
}

/// Calls every typed accessor; their results are not checked, only that they return.
fn accessors(msg: &Message) {
    let _ = (msg.via(), msg.top_via(), msg.from(), msg.to(), msg.call_id(), msg.cseq());
    let _ = (msg.contacts(), msg.routes(), msg.record_routes(), msg.refer_to(), msg.replaces());
    let _ = (msg.www_authenticate(), msg.proxy_authenticate(), msg.authorization(), msg.proxy_authorization());
    let _ = (msg.content_type(), msg.content_length(), msg.expires(), msg.max_forwards());
    let _ = (msg.supported(), msg.require(), msg.allow(), msg.is_contact_star());
    let _ = msg.to_string();
    if let Message::Request(r) = msg {
        let _ = r.uri.as_sip().map(|u| (u.user_decoded(), u.host_port()));
    }
    if let Ok(Some(refer_to)) = msg.refer_to() {
        let _ = refer_to.embedded_replaces();
    }
}

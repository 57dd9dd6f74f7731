//! Fuzz target: parsing never panics, and whatever parses survives serialise → parse unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(data) else { return };
    let bytes = msg.to_bytes();
    let again = Message::parse(&bytes).expect("a serialised message must parse");
    assert_eq!(again, msg);
    // Typed accessors must not panic either.
    let _ = (msg.via(), msg.contacts(), msg.routes(), msg.www_authenticate(), msg.refer_to());
});

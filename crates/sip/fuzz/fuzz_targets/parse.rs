//! Fuzz target: parsing never panics, and whatever parses survives serialise → parse unchanged
//! (the check lives in `sip::fuzzing::parse`, which `cargo test` also runs on the corpus).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sip::fuzzing::parse(data));

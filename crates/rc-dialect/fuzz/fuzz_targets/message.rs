//! Fuzz target: the XML control messages (`RcMessage::parse`, `CallerResponse::from_message`,
//! the accessors and the writer); the check is `rc_dialect::fuzzing::message`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rc_dialect::fuzzing::message(data));

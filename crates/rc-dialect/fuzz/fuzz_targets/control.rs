//! Fuzz target: the JSON call-control INFO bodies (`control::parse` and `to_body`); the check
//! is `rc_dialect::fuzzing::control`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rc_dialect::fuzzing::control(data));

//! Fuzz target: the sipInfo JSON (`SipInfo::from_json` and `validate`); the check is
//! `rc_dialect::fuzzing::sipinfo`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| rc_dialect::fuzzing::sipinfo(data));

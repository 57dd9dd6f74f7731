#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! RingCentral's dialect of SIP, shared by the engine (`crates/webphone`) and the test server
//! (`crates/rc-sim`), so both speak from one definition and neither depends on the other.
//!
//! Sans-IO like `crates/sip`: text in, values out.
//!
//! * [`sipinfo`]: the sipInfo JSON that sip-provision returns, checked field by field.
//! * [`message`]: the XML control messages (`P-rc` header, `x-rc/agent` MESSAGE bodies).
//! * [`control`]: the JSON call-control bodies carried by INFO (record, flip, park).
//! * [`reply`]: the text replies to a ringing call and the caller's answer to them.
//! * [`headers`]: `p-rc-api-ids` (session and party ids) and `p-rc-api-call-info`.

pub mod control;
#[doc(hidden)]
pub mod fuzzing;
pub mod headers;
pub mod message;
pub mod reply;
pub mod sipinfo;

pub use message::{cmd, RcMessage, RcMessageError};
pub use sipinfo::{SipInfo, SipInfoError};

#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Sans-IO SIP.
//!
//! TODO(crate doc)

pub mod auth;
pub mod builder;
pub mod dialog;
pub mod error;
pub mod header;
pub mod message;
pub mod method;
pub mod params;
pub mod text;
pub mod transaction;
pub mod uri;

pub use error::{ParseError, ParseErrorKind, ParseResult};
pub use header::{AuthValue, CSeq, ContentType, HeaderName, Headers, NameAddr, Replaces, Via};
pub use message::{Message, Request, Response, WithBody};
pub use method::Method;
pub use params::Params;
pub use uri::{SipUri, Uri};
pub use dialog::{Dialog, DialogError, DialogId, DialogState};
pub use transaction::{Event, Input, Output, Timers, TransactionKey, TransactionLayer};

#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! Sans-IO SIP: the protocol core of the softphone.
//!
//! Nothing in this crate opens a socket, spawns a task or reads a clock. Bytes and time go in,
//! bytes to send, events and the next wake-up time come out. That makes every state machine
//! here testable on a fake clock, deterministic, and fuzzable.
//!
//! # The life of a call, and which part handles what
//!
//! ```text
//!   user agent (crates/webphone)                      this crate
//!   ───────────────────────────                       ──────────
//!   register()  ──► builder::register ──► TransactionLayer::send_request ──► Output::Send(REGISTER)
//!                                         ◄── Input::Received(401) ── Event::Response(401)
//!               ──► auth::DigestClient::handle_challenge + authorize ──► send_request(REGISTER+Authorization)
//!                                         ◄── Event::Response(200)  (Contact expires → re-register timer)
//!
//!   call(101)   ──► builder::request(INVITE+SDP) ──► send_request ──► Output::Send(INVITE)
//!                                         ◄── Event::Response(407) (the transaction ACKs it itself)
//!               ──► DigestClient::authorize ──► send_request(INVITE+Proxy-Authorization)
//!                                         ◄── Event::Response(180)  ──► Dialog::from_uac (early)
//!                                         ◄── Event::Response(200)  ──► Dialog::on_response (confirmed)
//!               ──► Dialog::ack ──► send_stateless(ACK)
//!   hold()      ──► Dialog::new_request(INVITE, sendonly SDP) ──► send_request …
//!   hangup()    ──► Dialog::new_request(BYE) ──► send_request ──► Event::Response(200)
//!
//!   every loop:   poll_output() until None;  sleep until poll_timeout();  handle_input(Input::Timeout, now)
//! ```
//!
//! # Parts
//!
//! * [`message`]: [`Message::parse`] turns one datagram or WebSocket frame into a [`Request`] or
//!   [`Response`]; `to_bytes` serialises. Headers keep their spelling and order ([`Headers`]),
//!   compact forms and folded lines are understood, and every known header is checked, so a
//!   message that parses is safe to act on. Errors say what, which header, and at which byte:
//!   `header CSeq: method missing at byte 143`.
//! * [`header`]: typed views (Via, From/To/Contact/Route as [`NameAddr`], [`CSeq`], digest
//!   challenges and credentials as [`AuthValue`], [`ContentType`], Refer-To with [`Replaces`],
//!   Supported, Allow, Expires, Max-Forwards).
//! * [`uri`]: `sip:`/`sips:` URIs with user, password, host, port, parameters, headers and
//!   escaping; other schemes kept opaque.
//! * [`auth`]: digest authentication (MD5, SHA-256, SHA-512-256, `-sess`, `qop=auth`/`auth-int`,
//!   nonce counting) for 401 and 407, on both the client and the server side.
//! * [`transaction`]: the four transaction state machines of RFC 3261 section 17 (with the
//!   Accepted state of RFC 6026) behind one [`TransactionLayer`] with
//!   `handle_input` / `poll_output` / `poll_timeout`. Reliable transports (WebSocket) use the
//!   reliable timer values: no retransmissions, zero absorb times, 32 s timeouts.
//! * [`dialog`]: [`Dialog`] state (tags, route set, CSeq numbers, remote target) and in-dialog
//!   requests with loose or strict routing.
//! * [`builder`]: the requests and responses a user agent sends (REGISTER, INVITE, ACK, BYE,
//!   CANCEL, re-INVITE, REFER, MESSAGE, INFO, OPTIONS and NOTIFY replies) with fresh branch, tag
//!   and Call-ID values from a caller-supplied random source.
//!
//! # Example
//!
//! ```
//! use sip::{Message, Method};
//!
//! let bytes = b"OPTIONS sip:alice@example.com SIP/2.0\r\n\
//! v: SIP/2.0/WSS a.invalid;branch=z9hG4bK-1\r\n\
//! f: <sip:bob@example.com>;tag=1\r\n\
//! t: sip:alice@example.com\r\n\
//! i: abc\r\n\
//! CSeq: 2\r\n  OPTIONS\r\n\
//! l: 0\r\n\r\n";
//! let msg = Message::parse(bytes).unwrap();
//! assert_eq!(msg.cseq().unwrap().method, Method::Options);
//! assert_eq!(msg.from().unwrap().tag(), Some("1"));
//!
//! let err = Message::parse(b"INVITE sip:a@b SIP/7.0\r\n\r\n").unwrap_err();
//! assert_eq!(err.to_string(), "unsupported version \"SIP/7.0\" at byte 15");
//! ```

pub mod auth;
pub mod builder;
pub mod capture;
pub mod dialog;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
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

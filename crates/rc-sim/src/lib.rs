#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! rc-sim: a RingCentral-compatible SIP-over-WebSocket server on loopback.
//!
//! RingCentral's servers cannot be reached from our test machines, so rc-sim answers the way
//! they do as the seed SDK sees them (`../shared/PROTOCOL.md`, `docs/seed-sdk-wire-notes.md`):
//! a registrar with digest challenges, a back-to-back user agent between extensions that sends
//! RingCentral's P-rc control data, and the XML and JSON control messages.
//!
//! ```text
//!  client (WSS, subprotocol sip) ──► server::run ── frames, open/close, time ──► core::Core
//!                                        ▲                                         │
//!                                        └──────── Output::{Send, Close} ◄──────────┘
//! ```
//!
//! [`core::Core`] is sans-IO (time is an input), built on `crates/sip`'s transaction layer,
//! one per connection. [`server`] owns sockets and timers. [`Handle`](server::Handle) lets a
//! test or the app inspect and steer a running server.
//!
//! The REST subset of `docs/rest-api.md` (OAuth sign-in, sip-provision, phone numbers,
//! conferences and bring-in) is served over HTTPS by [`rest`], from the sans-IO sign-in state
//! of [`oauth`] and the same core, on the core's task.

pub mod admin;
pub mod bots;
pub mod config;
pub mod core;
pub mod http;
pub mod hub;
pub mod oauth;
pub mod rest;
pub mod server;
pub mod sipinfo;
pub mod tls;

pub use config::{Config, Device, Extension};
pub use server::{start, Handle, ServerOptions};
pub use rc_dialect::SipInfo;

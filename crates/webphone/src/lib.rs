#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! The softphone engine: RingCentral's web-phone API (the seed SDK 2.x) in Rust.
//!
//! ```text
//!   WebPhone / CallSession  (phone.rs, async API, usable without Tauri)
//!        │ commands                      ▲ PhoneEvent stream
//!        ▼                               │
//!   driver task: one per phone. Owns the WebSocket (transport.rs), the timers and every call's
//!        │        media (media.rs: a WebRTC peer, Opus, the AudioIo devices).
//!        ▼
//!   core::PhoneCore  (sans-IO: registration, calls, RingCentral dialect; time and bytes in)
//!        ▼
//!   crates/sip (parser, digest, transactions, dialogs) · crates/rc-dialect (XML/JSON bodies)
//! ```
//!
//! The core never waits: every user operation returns a ticket at once and its outcome comes
//! back as an event, which the driver turns into the `async fn` results of the public API.
//!
//! # The seed SDK's names and ours
//!
//! | seed SDK (JavaScript)                | this crate                                   |
//! |--------------------------------------|----------------------------------------------|
//! | `new WebPhone({sipInfo, …})`, `start()` | [`WebPhone::start`]                       |
//! | `webPhone.call(callee, callerId, {headers})` | [`WebPhone::call`] with [`Dial`]     |
//! | `webPhone.dispose()`                 | [`WebPhone::dispose`]                        |
//! | `sipClient.register(0)` / `unregister()` | [`WebPhone::unregister`], [`WebPhone::register`] |
//! | events `inboundCall`, `outboundCall`, `message` | [`PhoneEvent::InboundCall`], [`PhoneEvent::OutboundCall`], [`PhoneEvent::Message`] |
//! | `session.answer()` / `decline()` / `toVoicemail()` / `forward(n)` | [`CallSession::answer`], [`CallSession::decline`], [`CallSession::to_voicemail`], [`CallSession::forward`] |
//! | `startReply()` / `reply(text or preset)` | [`CallSession::start_reply`], [`CallSession::reply`] with [`Reply`] |
//! | `cancel()` / `hangup()`              | [`CallSession::cancel`], [`CallSession::hangup`] |
//! | `hold()` / `unhold()`, `mute()` / `unmute()` | [`CallSession::hold`], [`CallSession::unhold`], [`CallSession::mute`], [`CallSession::unmute`] |
//! | `sendDtmf(tones, duration, gap)`     | [`CallSession::send_dtmf`]                   |
//! | `transfer(n)` / `warmTransfer(n)` → `complete()`/`cancel()` | [`CallSession::transfer`], [`CallSession::warm_transfer`] → [`WarmTransfer::complete`]/[`WarmTransfer::cancel`] |
//! | `flip(n)`, `park()`, `startRecording()`, `stopRecording()` | [`CallSession::flip`], [`CallSession::park`], [`CallSession::start_recording`], [`CallSession::stop_recording`] |
//! | `changeInputDevice(id)` / `changeOutputDevice(id)` | [`CallSession::change_input_device`], [`CallSession::change_output_device`] |
//! | `sessionId`, `partyId`, `rcApiCallInfo`, `isConference`, `callId`, `remoteNumber` | [`CallSession::info`] ([`CallFacts`]) |
//! | session events `ringing`, `answered`, `failed`, `disposed`, `mediaStreamSet` | [`CallEvent::Ringing`], [`CallEvent::Answered`], [`CallEvent::Failed`], [`CallEvent::Disposed`], [`PhoneEvent::MediaConnected`] |
//! | options `instanceId`, `debug`, `autoAnswer` | [`Options::instance_id`], [`Options::debug`] ([`PhoneEvent::SipTrace`], [`WebPhone::set_debug`]), [`Options::auto_answer`] ([`WebPhone::set_auto_answer`]) |

pub mod audio;
pub mod core;
pub mod debug;
pub mod error;
pub mod link;
mod media;
mod phone;
pub mod sdp;
pub mod transport;

pub use crate::core::outbound::Dial;
pub use crate::core::{CallDirection, CallEvent, CallId, CallState, DisposeReason, InboundInfo, RegisterError};
pub use crate::core::call::CallFacts;
pub use debug::SipTrace;
pub use error::CallError;
pub use ::media::netwatch::NetworkChange;
pub use ::media::quality::CallQuality;
pub use ::media::processing::ProcessingSettings;
pub use phone::{CallSession, Options, PhoneEvent, WarmTransfer, WebPhone};
pub use rc_dialect::control::CommandResult;
pub use rc_dialect::reply::{CallerChoice, CallerResponse, Direction as ReplyDirection, Reply, Unit as ReplyUnit};
pub use rc_dialect::SipInfo;

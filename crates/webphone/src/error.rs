//! The engine's errors.

use crate::core::{CallState, RegisterError};

/// Why a phone or call operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The call does not exist (any more).
    #[error("no such call")]
    NoSuchCall,
    /// The call is not in a state where this can be done.
    #[error("cannot {action} a call that is {state:?}")]
    WrongState {
        /// What was asked.
        action: &'static str,
        /// The call's state.
        state: CallState,
    },
    /// The phone is not registered, so it cannot call.
    #[error("not registered")]
    NotRegistered,
    /// Registering failed.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// The number cannot be dialled.
    #[error("\"{0}\" is not a number that can be dialled")]
    InvalidNumber(String),
    /// The server refused, with its status line.
    #[error("refused by the server: {status} {reason}")]
    Rejected {
        /// SIP status.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// Digest authentication failed.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Something did not happen in time.
    #[error("timed out: {0}")]
    Timeout(&'static str),
    /// The call ended before the operation completed.
    #[error("the call ended")]
    Ended,
    /// The connection to the server was lost.
    #[error("connection to the server lost")]
    ConnectionLost,
    /// The server sent something we cannot use.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The operation needs RingCentral's call control, which this call does not carry.
    #[error("cannot {0}: the call has no RingCentral control data (P-rc)")]
    NotRingCentral(&'static str),
    /// Another operation of the same kind is under way.
    #[error("busy: {0}")]
    Busy(&'static str),
    /// Media (WebRTC, codec or audio device) failed.
    #[error("media: {0}")]
    Media(String),
    /// The phone was disposed.
    #[error("the phone has been disposed")]
    Disposed,
    /// A bug: something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CallError {
    /// The error for a final non-2xx response.
    pub fn rejected(resp: &sip::Response) -> CallError {
        CallError::Rejected { status: resp.status, reason: resp.reason.clone() }
    }
}

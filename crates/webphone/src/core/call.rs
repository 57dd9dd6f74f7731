//! One call's protocol state.

use super::Ticket;
use rc_dialect::headers::ApiIds;
use rc_dialect::RcMessage;
use sip::{Dialog, Request, TransactionKey};
use std::time::Instant;

/// Identifies a call inside one phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct CallId(pub u64);

impl std::fmt::Display for CallId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "call-{}", self.0)
    }
}

/// Who started the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallDirection {
    /// We called.
    Outbound,
    /// We were called.
    Inbound,
}

/// Where a call is in its life (the seed SDK's states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    /// INVITE sent, nothing heard yet.
    Init,
    /// Ringing (either side).
    Ringing,
    /// Talking.
    Answered,
    /// Over.
    Disposed,
}

/// What an inbound call says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundInfo {
    /// The call.
    pub id: CallId,
    /// The caller's number (user part of From).
    pub remote_number: String,
    /// The caller's display name, if any.
    pub remote_name: Option<String>,
    /// The SDP offer (`None` when the INVITE has none and wants our offer).
    pub offer: Option<String>,
    /// Milliseconds after which the call asks to be answered automatically.
    pub auto_answer_after_ms: Option<u64>,
    /// RingCentral's P-rc message.
    pub rc_message: Option<RcMessage>,
}

/// Facts about a call for the API (`sessionId`, `partyId`, numbers, …).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallFacts {
    /// SIP Call-ID.
    pub call_id: String,
    /// The far party's number.
    pub remote_number: String,
    /// Our number.
    pub local_number: String,
    /// Our dialog tag.
    pub local_tag: Option<String>,
    /// The far party's dialog tag.
    pub remote_tag: Option<String>,
    /// Telephony session id (`p-rc-api-ids`).
    pub session_id: Option<String>,
    /// Party id (`p-rc-api-ids`).
    pub party_id: Option<String>,
    /// `p-rc-api-call-info` pairs.
    pub rc_api_call_info: Vec<(String, String)>,
    /// True when the far number starts with `conf_`.
    pub is_conference: bool,
}

/// One call.
pub(super) struct Call {
    pub direction: CallDirection,
    pub state: CallState,
    pub call_id: String,
    pub remote_number: String,
    /// The INVITE that started the call (ours, or the server's).
    pub invite: Request,
    /// Its transaction (ours as client, or the server's as server).
    pub invite_key: Option<TransactionKey>,
    pub dialog: Option<Dialog>,
    /// The last SDP we sent (offer or answer): the base of hold/unhold re-INVITEs.
    pub local_sdp: Option<String>,
    /// `o=` version for the next re-INVITE.
    pub sdp_version: u64,
    pub held: bool,
    /// A re-INVITE from the server waiting for our answer.
    pub pending_reoffer: Option<Request>,
    /// The INVITE we answer had no SDP: the ACK carries the answer.
    pub offer_in_answer: bool,
    pub rc: Option<RcMessage>,
    pub api_ids: ApiIds,
    pub api_call_info: Vec<(String, String)>,
    /// JSON call-control request counter (from 1, per call).
    pub next_reqid: u32,
    /// Control requests waiting for the server's INFO: (reqid, command, ticket).
    pub control_waiting: Vec<(u32, String, Ticket)>,
    /// A text reply waiting for SessionClose.
    pub reply_ticket: Option<Ticket>,
    /// decline / voicemail / forward waiting for the server's CANCEL.
    pub cancel_ticket: Option<Ticket>,
    /// A transfer waiting for the BYE, and its deadline.
    pub transfer_ticket: Option<Ticket>,
    pub transfer_deadline: Option<Instant>,
    /// The transfer succeeded (NOTIFY 2xx): our BYE is due then, unless the server ends the
    /// call first.
    pub transfer_bye_at: Option<Instant>,
    /// A hang-up waiting for the BYE's answer.
    pub hangup_ticket: Option<Ticket>,
    /// The outbound INVITE completes this ticket on answer or failure.
    pub answer_ticket: Option<Ticket>,
    /// INVITE digest retries, to stop after one.
    pub auth_attempts: u8,
    /// CANCEL requested before any provisional response: send it when one arrives.
    pub cancel_requested: bool,
    /// The CANCEL has gone out.
    pub cancel_sent: bool,
}

impl Call {
    pub fn new(direction: CallDirection, invite: Request, remote_number: String) -> Call {
        let call_id = invite.headers.call_id().unwrap_or_default().to_owned();
        Call {
            direction,
            state: CallState::Init,
            call_id,
            remote_number,
            invite,
            invite_key: None,
            dialog: None,
            local_sdp: None,
            sdp_version: 0,
            held: false,
            pending_reoffer: None,
            offer_in_answer: false,
            rc: None,
            api_ids: ApiIds::default(),
            api_call_info: Vec::new(),
            next_reqid: 1,
            control_waiting: Vec::new(),
            reply_ticket: None,
            cancel_ticket: None,
            transfer_ticket: None,
            transfer_deadline: None,
            transfer_bye_at: None,
            hangup_ticket: None,
            answer_ticket: None,
            auth_attempts: 0,
            cancel_requested: false,
            cancel_sent: false,
        }
    }

    /// When this call needs the clock: a transfer's deadline, or our BYE after a transfer.
    pub fn next_wake(&self) -> Option<Instant> {
        [self.transfer_deadline, self.transfer_bye_at].into_iter().flatten().min()
    }

    /// Every ticket still waiting on this call.
    pub fn waiting_tickets(&self) -> Vec<Ticket> {
        let singles = [self.reply_ticket, self.cancel_ticket, self.transfer_ticket, self.hangup_ticket, self.answer_ticket];
        singles.into_iter().flatten().chain(self.control_waiting.iter().map(|(_, _, t)| *t)).collect()
    }

    pub fn facts(&self) -> CallFacts {
        let dialog = self.dialog.as_ref();
        let local_number = match self.direction {
            CallDirection::Outbound => self.invite.headers.from().ok(),
            CallDirection::Inbound => self.invite.headers.to().ok(),
        }
        .and_then(|a| a.sip_uri().and_then(|u| u.user.clone()))
        .unwrap_or_default();
        CallFacts {
            call_id: self.call_id.clone(),
            remote_number: self.remote_number.clone(),
            local_number,
            local_tag: dialog.map(|d| d.id.local_tag.clone()),
            remote_tag: dialog.map(|d| d.id.remote_tag.clone()),
            session_id: self.api_ids.session_id.clone(),
            party_id: self.api_ids.party_id.clone(),
            rc_api_call_info: self.api_call_info.clone(),
            is_conference: self.remote_number.starts_with("conf_"),
        }
    }
}

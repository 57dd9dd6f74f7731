//! Outbound calls: INVITE with digest (407), ringing, answer, failure, CANCEL.

use super::call::{Call, CallDirection, CallState};
use super::{CallEvent, CallId, DisposeReason, Event, Outcome, Pending, PhoneCore, Ticket};
use crate::error::CallError;
use sip::auth::AuthError;
use sip::builder::{self, RequestParts};
use sip::{Dialog, HeaderName, Method, NameAddr, Response, SipUri, TransactionKey, WithBody};
use std::time::Instant;

/// What an outbound call needs besides the SDP offer.
#[derive(Debug, Clone, Default)]
pub struct Dial {
    /// The number (or extension, or `conf_…`) to call.
    pub callee: String,
    /// A caller ID to present (`P-Asserted-Identity`).
    pub caller_id: Option<String>,
    /// Extra headers, added as they are.
    pub headers: Vec<(String, String)>,
}

impl PhoneCore {
    /// An id for a call about to be made (its media needs one before the INVITE exists).
    pub fn reserve_call_id(&mut self) -> CallId {
        self.new_call_id()
    }

    /// Starts call `id` (from [`reserve_call_id`](Self::reserve_call_id)) with the SDP `offer`;
    /// the ticket completes when it is answered or fails.
    pub fn call(&mut self, id: CallId, dial: &Dial, offer: &str, now: Instant) -> Result<Ticket, CallError> {
        if !self.is_registered() {
            return Err(CallError::NotRegistered);
        }
        if dial.callee.trim().is_empty() || dial.callee.contains(|c: char| c.is_whitespace() || c == '@' || c == '<' || c == '>') {
            return Err(CallError::InvalidNumber(dial.callee.clone()));
        }
        let domain = self.info.domain.clone();
        let from = NameAddr::new(SipUri::new(Some(&self.info.username), &domain)).with_param("tag", Some(&builder::new_tag(&mut self.rng)));
        let to_uri = SipUri::new(Some(&dial.callee), &domain);
        let parts = RequestParts {
            method: Method::Invite,
            uri: to_uri.clone().into(),
            from,
            to: NameAddr::new(to_uri),
            call_id: builder::new_call_id(&mut self.rng),
            cseq: builder::new_cseq(&mut self.rng),
        };
        let mut invite = builder::request(&self.local, parts, &mut self.rng);
        if let Some(id) = &dial.caller_id {
            invite.headers.push(HeaderName::from_text("P-Asserted-Identity"), format!("sip:{id}@{domain}"));
        }
        for (name, value) in &dial.headers {
            invite.headers.push(HeaderName::from_text(name), value.clone());
        }
        invite.set_body("application/sdp", offer.as_bytes());
        let ticket = self.new_ticket();
        let mut call = Call::new(CallDirection::Outbound, invite.clone(), dial.callee.clone());
        call.local_sdp = Some(offer.to_owned());
        call.answer_ticket = Some(ticket);
        self.calls.insert(id, call);
        self.emit(Event::OutboundCall(id));
        self.send_invite(id, invite, now)?;
        Ok(ticket)
    }

    fn send_invite(&mut self, id: CallId, invite: sip::Request, now: Instant) -> Result<(), CallError> {
        let key = self.tl.send_request(invite.clone(), now).map_err(|e| CallError::Internal(e.to_string()))?;
        self.pending.insert(key.clone(), Pending::Invite(id));
        if let Some(call) = self.calls.get_mut(&id) {
            call.invite = invite;
            call.invite_key = Some(key);
        }
        self.drain(now);
        Ok(())
    }

    /// Cancels an outbound call that is not answered yet.
    pub fn cancel(&mut self, id: CallId, now: Instant) -> Result<(), CallError> {
        let call = self.call_mut(id)?;
        if call.direction != CallDirection::Outbound || call.state == CallState::Answered {
            return Err(CallError::WrongState { action: "cancel", state: call.state });
        }
        call.cancel_requested = true;
        if call.state == CallState::Init {
            // RFC 3261 9.1: no CANCEL before a provisional response; send it when one comes.
            return Ok(());
        }
        call.cancel_sent = true;
        let cancel = builder::cancel(&call.invite);
        self.send_request(cancel, Pending::Cancel, now)
    }

    pub(super) fn on_invite_response(&mut self, id: CallId, key: &TransactionKey, resp: &Response, now: Instant) {
        let Some(call) = self.calls.get(&id) else { return };
        if call.invite_key.as_ref() != Some(key) {
            return;
        }
        self.learn_api_ids(id, resp);
        match resp.status {
            100 => {}
            101..=199 => self.on_invite_progress(id, resp, now),
            200..=299 => self.on_invite_success(id, resp, now),
            401 | 407 => self.on_invite_challenge(id, resp, now),
            _ => self.on_invite_failure(id, resp),
        }
    }

    /// RingCentral names the telephony session and our party in `p-rc-api-ids` on the 18x
    /// and the 200 of an outbound call (conference bring-in needs them).
    fn learn_api_ids(&mut self, id: CallId, resp: &Response) {
        let Some(value) = resp.headers.get("p-rc-api-ids") else { return };
        let ids = rc_dialect::headers::ApiIds::parse(value);
        if let Some(call) = self.calls.get_mut(&id) {
            if ids.session_id.is_some() || ids.party_id.is_some() {
                call.api_ids = ids;
            }
        }
    }

    fn on_invite_progress(&mut self, id: CallId, resp: &Response, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        if call.dialog.is_none() {
            call.dialog = Dialog::from_uac(&call.invite, resp).ok();
        }
        let first = call.state == CallState::Init;
        if first {
            call.state = CallState::Ringing;
        }
        let cancel = (call.cancel_requested && !call.cancel_sent).then(|| builder::cancel(&call.invite));
        call.cancel_sent |= cancel.is_some();
        if first {
            self.call_event(id, CallEvent::Ringing);
        }
        if let Some(cancel) = cancel {
            let _ = self.send_request(cancel, Pending::Cancel, now);
        }
    }

    fn on_invite_success(&mut self, id: CallId, resp: &Response, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        if call.state == CallState::Answered {
            let seq = call.invite.headers.cseq().map(|c| c.seq).unwrap_or_default();
            return self.resend_ack(id, seq, now);
        }
        let dialog = match call.dialog.take() {
            Some(mut d) if d.id.remote_tag == resp.headers.to().ok().and_then(|t| t.tag().map(str::to_owned)).unwrap_or_default() => {
                let _ = d.on_response(&Method::Invite, resp);
                Ok(d)
            }
            _ => Dialog::from_uac(&call.invite, resp),
        };
        let dialog = match dialog {
            Ok(d) => d,
            Err(e) => {
                // A 2xx we cannot build a dialog from: still ACK-less; fail the call clearly.
                let ticket = call.answer_ticket.take();
                if let Some(t) = ticket {
                    self.done(t, Err(CallError::Protocol(format!("unusable 200 OK: {e}"))));
                }
                return self.dispose(id, DisposeReason::Failed(resp.status));
            }
        };
        call.dialog = Some(dialog);
        call.state = CallState::Answered;
        let ticket = call.answer_ticket.take();
        let remote_sdp = (!resp.body.is_empty()).then(|| String::from_utf8_lossy(&resp.body).into_owned());
        let seq = call.invite.headers.cseq().map(|c| c.seq).unwrap_or_default();
        self.resend_ack(id, seq, now);
        self.call_event(id, CallEvent::Answered { remote_sdp });
        if let Some(t) = ticket {
            self.done(t, Ok(Outcome::Ok));
        }
        let cancelled = self.calls.get(&id).is_some_and(|c| c.cancel_requested);
        if cancelled {
            // The user cancelled but the far end answered first: hang up (RFC 3261 9.1).
            let _ = self.hangup(id, now);
        }
    }

    /// Sends the ACK for the 2xx to the INVITE with CSeq `seq` (again, for a retransmission).
    pub(super) fn resend_ack(&mut self, id: CallId, seq: u32, now: Instant) {
        let Some(dialog) = self.calls.get(&id).and_then(|c| c.dialog.as_ref()) else { return };
        let ack = dialog.ack(seq, &self.local, &mut self.rng);
        self.tl.send_stateless(ack);
        self.drain(now);
    }

    fn on_invite_challenge(&mut self, id: CallId, resp: &Response, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        call.auth_attempts += 1;
        let mut digest = sip::auth::DigestClient::new(&self.info.authorization_id, &self.info.password);
        let outcome = if call.auth_attempts > 2 { Err(AuthError::Rejected { realm: String::new() }) } else { digest.handle_challenge(resp).map(|_| ()) };
        if let Err(e) = outcome {
            let ticket = call.answer_ticket.take();
            if let Some(t) = ticket {
                self.done(t, Err(CallError::Auth(e.to_string())));
            }
            return self.fail_call(id, resp);
        }
        let mut invite = call.invite.clone();
        let seq = invite.headers.cseq().map(|c| c.seq).unwrap_or_default() + 1;
        invite.headers.set(HeaderName::CSeq, format!("{seq} INVITE"));
        invite.headers.set(HeaderName::Via, self.local.via(&mut self.rng).to_string());
        let cnonce = builder::random_token(&mut self.rng, 16);
        digest.authorize(&mut invite, &format!("sip:{}", self.info.domain), &cnonce);
        if let Err(e) = self.send_invite(id, invite, now) {
            self.fail_call_ticket(id, e);
        }
    }

    fn on_invite_failure(&mut self, id: CallId, resp: &Response) {
        if let Some(t) = self.calls.get_mut(&id).and_then(|c| c.answer_ticket.take()) {
            self.done(t, Err(CallError::rejected(resp)));
        }
        self.fail_call(id, resp);
    }

    fn fail_call(&mut self, id: CallId, resp: &Response) {
        let cancelled = self.calls.get(&id).is_some_and(|c| c.cancel_requested);
        self.call_event(id, CallEvent::Failed { status: resp.status, reason: resp.reason.clone() });
        self.dispose(id, if cancelled { DisposeReason::Local } else { DisposeReason::Failed(resp.status) });
    }
}

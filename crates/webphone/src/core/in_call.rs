//! In a call: hang-up, hold, re-INVITEs from the server, transfers and JSON call control.

use super::call::{CallDirection, CallState};
use super::{CallEvent, CallId, DisposeReason, Outcome, Pending, PhoneCore, Ticket};
use crate::error::CallError;
use crate::sdp;
use rc_dialect::control::{self, Command};
use sip::builder;
use sip::{HeaderName, NameAddr, Request, Response, SipUri, WithBody};
use std::time::{Duration, Instant};

/// How long a transfer waits for the server's BYE (the seed SDK's default).
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(10);

/// After the far end reports the transfer done (NOTIFY 2xx), how long we leave the server to
/// end our leg itself before we send our BYE.
pub const TRANSFER_BYE_DELAY: Duration = Duration::from_secs(1);

/// The status code of a `message/sipfrag` body (`SIP/2.0 200 OK`).
fn sipfrag_status(body: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(body).ok()?;
    text.trim_start().strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

impl PhoneCore {
    /// Hangs up an answered call (BYE), cancels an outbound one that rings, or declines an
    /// inbound one that rings. The ticket completes when the call is gone.
    pub fn hangup(&mut self, id: CallId, now: Instant) -> Result<Ticket, CallError> {
        let call = self.call_mut(id)?;
        match (call.state, call.direction) {
            (CallState::Answered, _) => {}
            (_, CallDirection::Outbound) => {
                self.cancel(id, now)?;
                let ticket = self.new_ticket();
                self.call_mut(id)?.hangup_ticket = Some(ticket);
                return Ok(ticket);
            }
            (_, CallDirection::Inbound) => {
                // Not answered: a plain 486 when the call has no RingCentral control, else decline.
                if call.rc.is_none() {
                    let invite = call.invite.clone();
                    self.respond(&invite, 486, now);
                    self.dispose(id, DisposeReason::Local);
                    let ticket = self.new_ticket();
                    self.done(ticket, Ok(Outcome::Ok));
                    return Ok(ticket);
                }
                return self.decline(id, now);
            }
        }
        let ticket = self.new_ticket();
        let call = answered_in(&mut self.calls, id, "hang up")?;
        call.hangup_ticket = Some(ticket);
        let dialog = call.dialog.as_mut().ok_or(CallError::NoSuchCall)?;
        let bye = dialog.new_request(sip::Method::Bye, &self.local, &mut self.rng);
        self.send_request(bye, Pending::Bye(id), now)?;
        Ok(ticket)
    }

    /// Hangs up call `id` on the phone's own initiative (a transfer done, media that cannot be
    /// trusted), unless a hang-up is already under way: its ticket, which someone may wait
    /// on, is never replaced.
    pub fn hangup_unless_ending(&mut self, id: CallId, now: Instant) {
        if self.calls.get(&id).is_some_and(|c| c.hangup_ticket.is_none()) {
            let _ = self.hangup(id, now);
        }
    }

    pub(super) fn finish_hangup(&mut self, id: CallId, _now: Instant) {
        let ticket = self.calls.get_mut(&id).and_then(|c| c.hangup_ticket.take());
        self.dispose(id, DisposeReason::Local);
        if let Some(t) = ticket {
            self.done(t, Ok(Outcome::Ok));
        }
    }

    /// Puts the call on hold (`a=sendonly` re-INVITE) or takes it off (`a=sendrecv`).
    pub fn set_hold(&mut self, id: CallId, hold: bool, now: Instant) -> Result<Ticket, CallError> {
        let ticket = self.new_ticket();
        let call = answered_in(&mut self.calls, id, if hold { "hold" } else { "unhold" })?;
        let base = call.local_sdp.clone().ok_or(CallError::Protocol("no local SDP to re-offer".into()))?;
        let mut body = if hold { sdp::with_direction(&base, "sendonly") } else { sdp::with_direction(&base, "sendrecv") };
        let version = sdp::origin_version(&base).unwrap_or(0).max(call.sdp_version) + 1;
        call.sdp_version = version;
        body = sdp::with_origin_version(&body, version);
        let dialog = call.dialog.as_mut().ok_or(CallError::NoSuchCall)?;
        let reinvite = dialog.reinvite(body.as_bytes(), &self.local, &mut self.rng);
        self.send_request(reinvite, Pending::Reinvite { call: id, ticket, hold: Some(hold) }, now)?;
        Ok(ticket)
    }

    /// Offers `sdp`, a new offer of our media (an ICE restart after a network change), in a
    /// re-INVITE; the answer comes back as [`CallEvent::RemoteAnswer`]. A held call stays held.
    pub fn reoffer(&mut self, id: CallId, sdp: &str, now: Instant) -> Result<Ticket, CallError> {
        let ticket = self.new_ticket();
        let call = answered_in(&mut self.calls, id, "re-offer")?;
        let version = sdp::origin_version(sdp).unwrap_or(0).max(call.sdp_version) + 1;
        call.sdp_version = version;
        let base = sdp::with_origin_version(sdp, version);
        call.local_sdp = Some(base.clone());
        let body = if call.held { sdp::with_direction(&base, "sendonly") } else { base };
        let dialog = call.dialog.as_mut().ok_or(CallError::NoSuchCall)?;
        let reinvite = dialog.reinvite(body.as_bytes(), &self.local, &mut self.rng);
        self.send_request(reinvite, Pending::Reinvite { call: id, ticket, hold: None }, now)?;
        Ok(ticket)
    }

    /// The answer to a re-INVITE of ours: hold/unhold (`hold` set) or a new offer (`None`).
    pub(super) fn on_reinvite_response(&mut self, id: CallId, ticket: Ticket, hold: Option<bool>, resp: &Response, now: Instant) {
        if resp.status < 200 {
            return;
        }
        if !resp.is_success() {
            return self.done(ticket, Err(CallError::rejected(resp)));
        }
        let Some(call) = self.calls.get_mut(&id) else { return };
        let seq = resp.headers.cseq().map(|c| c.seq).unwrap_or_default();
        if let Some(d) = call.dialog.as_mut() {
            let _ = d.on_response(&sip::Method::Invite, resp);
        }
        if let Some(h) = hold {
            call.held = h;
        }
        self.resend_ack(id, seq, now);
        match hold {
            Some(h) => self.call_event(id, CallEvent::Held(h)),
            None if !resp.body.is_empty() => self.call_event(id, CallEvent::RemoteAnswer(String::from_utf8_lossy(&resp.body).into_owned())),
            None => {}
        }
        self.done(ticket, Ok(Outcome::Ok));
    }

    /// A re-INVITE from the server (e.g. after a transfer): the driver answers it.
    pub(super) fn on_reinvite(&mut self, id: CallId, req: Request, now: Instant) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        let in_order = call.dialog.as_mut().map(|d| d.on_request(&req));
        match in_order {
            Some(Ok(())) => {}
            Some(Err(_)) => return self.respond(&req, 500, now),
            None => return self.respond(&req, 481, now),
        }
        if call.pending_reoffer.is_some() {
            return self.respond(&req, 491, now);
        }
        call.offer_in_answer = req.body.is_empty();
        let offer = (!req.body.is_empty()).then(|| String::from_utf8_lossy(&req.body).into_owned());
        call.pending_reoffer = Some(req);
        self.call_event(id, CallEvent::Reoffer(offer));
    }

    /// Answers the server's re-INVITE with `sdp`, or refuses it with `Err(status)` (e.g. 488).
    pub fn answer_reoffer(&mut self, id: CallId, sdp: Result<&str, u16>, now: Instant) -> Result<(), CallError> {
        let local = self.local.clone();
        let call = self.call_mut(id)?;
        let req = call.pending_reoffer.take().ok_or(CallError::WrongState { action: "answer a re-INVITE", state: call.state })?;
        let tag = call.dialog.as_ref().map(|d| d.id.local_tag.clone());
        let resp = match sdp {
            Ok(body) => {
                call.local_sdp = Some(body.to_owned());
                let mut ok = builder::response(&req, 200, tag.as_deref());
                ok.headers.push(HeaderName::Contact, NameAddr::new(local.contact.clone()).to_string());
                ok.headers.push(HeaderName::Allow, super::inbound::allow_value());
                ok.set_body("application/sdp", body.as_bytes());
                ok
            }
            Err(status) => {
                call.offer_in_answer = false;
                builder::response(&req, status, tag.as_deref())
            }
        };
        self.send_response(resp, now);
        Ok(())
    }

    /// Blind transfer to `target` (REFER); the ticket completes when the server ends this call
    /// with BYE, or fails after [`TRANSFER_TIMEOUT`].
    pub fn transfer(&mut self, id: CallId, target: &str, now: Instant) -> Result<Ticket, CallError> {
        if target.trim().is_empty() {
            return Err(CallError::InvalidNumber(target.to_owned()));
        }
        let uri = SipUri::new(Some(target), &self.info.domain);
        self.refer(id, NameAddr::new(uri), now)
    }

    /// Completes a warm transfer: the far party of `id` is connected to the far party of
    /// `other` (REFER with Replaces naming `other`'s dialog).
    pub fn complete_warm_transfer(&mut self, id: CallId, other: CallId, now: Instant) -> Result<Ticket, CallError> {
        let other_call = self.answered(other, "complete a warm transfer to")?;
        let number = other_call.remote_number.clone();
        let dialog = other_call.dialog.as_ref().ok_or(CallError::NoSuchCall)?;
        let replaces = format!("{};to-tag={};from-tag={}", dialog.id.call_id, dialog.id.remote_tag, dialog.id.local_tag);
        let domain = self.info.domain.clone();
        let uri = SipUri::new(Some(&number), &domain).with_param("transport", Some("wss")).with_header("Replaces", &replaces);
        let target = NameAddr::new(uri).with_display_name(&format!("{number}@{domain}"));
        self.refer(id, target, now)
    }

    fn refer(&mut self, id: CallId, target: NameAddr, now: Instant) -> Result<Ticket, CallError> {
        let ticket = self.new_ticket();
        let call = answered_in(&mut self.calls, id, "transfer")?;
        if call.transfer_ticket.is_some() {
            return Err(CallError::Busy("a transfer of this call is already under way"));
        }
        let dialog = call.dialog.as_mut().ok_or(CallError::NoSuchCall)?;
        let refer = dialog.refer(&target, &self.local, &mut self.rng);
        call.transfer_ticket = Some(ticket);
        call.transfer_deadline = Some(now + TRANSFER_TIMEOUT);
        self.send_request(refer, Pending::Refer { call: id }, now)?;
        Ok(ticket)
    }

    pub(super) fn on_refer_response(&mut self, id: CallId, resp: &Response, _now: Instant) {
        if resp.status >= 300 {
            self.fail_transfer(id, CallError::rejected(resp));
        }
    }

    /// A NOTIFY on call `id`: the progress of our REFER (RFC 3515 2.4.4, a `message/sipfrag`
    /// status line). A final success completes the transfer; this side then hangs up after
    /// [`TRANSFER_BYE_DELAY`] unless the server ends the call first (RingCentral does, at
    /// once; a plain SIP peer leaves it to us, RFC 5589 6.1). A final failure fails it now.
    pub(super) fn on_notify(&mut self, id: CallId, req: &Request, now: Instant) {
        self.respond(req, 200, now);
        let refer_event = req.headers.get(HeaderName::Event).is_some_and(|e| e.trim().to_ascii_lowercase().starts_with("refer"));
        let Some(status) = refer_event.then(|| sipfrag_status(&req.body)).flatten() else { return };
        let Some(call) = self.calls.get_mut(&id) else { return };
        if call.transfer_ticket.is_none() || status < 200 {
            return;
        }
        if status >= 300 {
            // The target's answer, as the sipfrag tells it (`SIP/2.0 486 Busy Here`).
            let line = String::from_utf8_lossy(&req.body).lines().next().unwrap_or_default().trim().to_owned();
            let reason = line.splitn(3, ' ').nth(2).unwrap_or_default().to_owned();
            return self.fail_transfer(id, CallError::Rejected { status, reason });
        }
        call.transfer_deadline = None;
        call.transfer_bye_at = Some(now + TRANSFER_BYE_DELAY);
        if let Some(t) = call.transfer_ticket.take() {
            self.done(t, Ok(Outcome::Ok));
        }
    }

    fn fail_transfer(&mut self, id: CallId, error: CallError) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        call.transfer_deadline = None;
        if let Some(t) = call.transfer_ticket.take() {
            self.done(t, Err(error));
        }
    }

    /// Sends a JSON call-control request (record, flip, park); the ticket completes with the
    /// server's result.
    pub fn control(&mut self, id: CallId, command: &Command, now: Instant) -> Result<Ticket, CallError> {
        let ticket = self.new_ticket();
        let call = answered_in(&mut self.calls, id, command.name())?;
        let reqid = call.next_reqid;
        call.next_reqid += 1;
        call.control_waiting.push((reqid, command.name().to_owned(), ticket));
        let dialog = call.dialog.as_mut().ok_or(CallError::NoSuchCall)?;
        let info = dialog.info(control::CONTENT_TYPE, command.to_body(reqid).as_bytes(), &self.local, &mut self.rng);
        self.send_request(info, Pending::Info { call: id, ticket }, now)?;
        Ok(ticket)
    }

    /// The server's answer to the INFO of control request `ticket`: a refusal fails that
    /// request (and no other).
    pub(super) fn on_info_response(&mut self, id: CallId, ticket: Ticket, resp: &Response) {
        if resp.status >= 300 {
            self.fail_control(id, ticket, CallError::rejected(resp));
        }
    }

    /// Control request `ticket` of call `id` failed (refused, or its INFO timed out).
    pub(super) fn fail_control(&mut self, id: CallId, ticket: Ticket, error: CallError) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        if let Some(pos) = call.control_waiting.iter().position(|(_, _, t)| *t == ticket) {
            call.control_waiting.remove(pos);
            self.done(ticket, Err(error));
        }
    }

    /// An INFO from the server: the answer to one of our control requests (matched by reqid
    /// and command), or a status the server reports on its own (answered 200 and told as an
    /// event; the requests waiting are left as they are).
    pub(super) fn on_info(&mut self, id: CallId, req: &Request, now: Instant) {
        let json = req.headers.content_type().ok().flatten().is_some_and(|c| c.is("application/json"));
        let body = control::parse(&req.body);
        // A call-control body we cannot read is refused; any other INFO is taken.
        self.respond(req, if json && body.is_err() { 400 } else { 200 }, now);
        match body {
            Ok(control::Body::Response(resp)) => self.on_control_response(id, resp),
            Ok(control::Body::Status(status)) => self.on_control_status(id, &status),
            _ => {}
        }
    }

    fn on_control_response(&mut self, id: CallId, resp: control::Response) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        let Some(pos) = call.control_waiting.iter().position(|(reqid, command, _)| resp.answers(*reqid, command)) else { return };
        let (_, _, ticket) = call.control_waiting.remove(pos);
        self.done(ticket, Ok(Outcome::Control(resp.result)));
    }

    fn on_control_status(&mut self, id: CallId, status: &control::Status) {
        let succeeded = status.result.as_ref().is_none_or(control::CommandResult::succeeded);
        let recording = match status.command.as_str() {
            "startcallrecord" => true,
            "stopcallrecord" => false,
            _ => return,
        };
        if succeeded {
            self.call_event(id, CallEvent::RecordingChanged(recording));
        }
    }

    /// A transfer of call `id` failed: its ticket fails with `error`.
    pub(super) fn fail_call_ticket(&mut self, id: CallId, error: CallError) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        let ticket = call.transfer_ticket.take();
        call.transfer_deadline = None;
        if let Some(t) = ticket {
            self.done(t, Err(error));
        }
    }

    pub(super) fn calls_timeout(&mut self, now: Instant) {
        let expired: Vec<CallId> = self.calls.iter().filter(|(_, c)| c.transfer_deadline.is_some_and(|d| now >= d)).map(|(id, _)| *id).collect();
        for id in expired {
            self.fail_transfer(id, CallError::Timeout("the transfer was not completed (no permission or wrong call state)"));
        }
        let transferred: Vec<CallId> = self.calls.iter().filter(|(_, c)| c.transfer_bye_at.is_some_and(|d| now >= d)).map(|(id, _)| *id).collect();
        for id in transferred {
            if let Some(call) = self.calls.get_mut(&id) {
                call.transfer_bye_at = None;
            }
            // The far party talks to the target now: our leg is done.
            self.hangup_unless_ending(id, now);
        }
    }

    /// The call, if it is answered.
    fn answered(&mut self, id: CallId, action: &'static str) -> Result<&mut super::call::Call, CallError> {
        answered_in(&mut self.calls, id, action)
    }
}

/// The call `id` of `calls`, if it is answered.
fn answered_in<'a>(calls: &'a mut std::collections::HashMap<CallId, super::call::Call>, id: CallId, action: &'static str) -> Result<&'a mut super::call::Call, CallError> {
    let call = calls.get_mut(&id).ok_or(CallError::NoSuchCall)?;
    if call.state != CallState::Answered {
        return Err(CallError::WrongState { action, state: call.state });
    }
    Ok(call)
}

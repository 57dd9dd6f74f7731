//! Inbound calls: the ringing INVITE, answer, and RingCentral's XML commands before answer
//! (decline, voicemail, forward, reply).

use super::call::{Call, CallDirection, CallState, InboundInfo};
use super::{CallEvent, CallId, DisposeReason, Event, Outcome, Pending, PhoneCore, Ticket};
use crate::error::CallError;
use rc_dialect::headers::{auto_answer_delay_ms, call_info, ApiIds};
use rc_dialect::reply::{CallerResponse, Reply};
use rc_dialect::{cmd, RcMessage};
use sip::builder::{self, RequestParts};
use sip::{HeaderName, Method, NameAddr, Request, SipUri, Uri, WithBody};
use std::time::{Duration, Instant};

/// The methods we take (OPTIONS' Allow, and the Allow of a 405).
pub(super) const ALLOWED: [Method; 10] = [Method::Invite, Method::Ack, Method::Cancel, Method::Bye, Method::Message, Method::Info, Method::Notify, Method::Refer, Method::Options, Method::Update];

/// The `Allow` header value: the methods we take (RFC 3261 20.5). A 2xx to an INVITE names
/// them, so a peer with session timers refreshes with a light UPDATE, not a re-INVITE.
pub(super) fn allow_value() -> String {
    ALLOWED.iter().map(Method::as_str).collect::<Vec<_>>().join(", ")
}

/// How long a text reply waits for the caller's answer once the ringing call is gone.
const REPLY_WAIT: Duration = Duration::from_secs(90);

impl PhoneCore {
    /// Every request the server sends outside the calls' own transactions.
    pub(super) fn on_request(&mut self, req: Request, now: Instant) {
        let call = req.headers.call_id().ok().and_then(|c| self.find_call(c)).filter(|id| self.tag_matches(*id, &req));
        let to_tag = req.headers.to().ok().is_some_and(|t| t.tag().is_some());
        match (&req.method, call) {
            // RFC 3261 12.2.2: a mid-dialog INVITE (To has a tag) for a call we do not have.
            (Method::Invite, None) if to_tag => self.respond(&req, 481, now),
            (Method::Invite, None) => self.on_new_invite(req, now),
            (Method::Invite, Some(id)) => self.on_reinvite(id, req, now),
            // RFC 3261 9.2: a CANCEL that matches no call.
            (Method::Cancel, None) => self.respond(&req, 481, now),
            (Method::Cancel, call) => self.on_cancel(call, &req, now),
            (Method::Bye, Some(id)) => {
                self.respond(&req, 200, now);
                self.dispose(id, DisposeReason::RemoteHangup);
            }
            (Method::Message, call) => self.on_message(call, &req, now),
            (Method::Info, Some(id)) => self.on_info(id, &req, now),
            // An UPDATE with a new offer (RingCentral sends one after a warm transfer,
            // ringcentral-web-phone PR #407) is answered like a re-INVITE, with our answer.
            (Method::Update, Some(id)) if carries_sdp(&req) => self.on_reinvite(id, req, now),
            (Method::Notify, Some(id)) => self.on_notify(id, &req, now),
            (Method::Notify | Method::Update, _) => self.respond(&req, 200, now),
            (Method::Options, _) => {
                let tag = builder::new_tag(&mut self.rng);
                let resp = builder::options_reply(&req, &ALLOWED, &["application/sdp", "x-rc/agent", "application/json"], &[], &tag);
                self.send_response(resp, now);
            }
            (Method::Bye | Method::Info | Method::Refer, None) => self.respond(&req, 481, now),
            // RFC 3515 2.4.1: exactly one Refer-To, else 400.
            (Method::Refer, Some(_)) if req.headers.count(HeaderName::ReferTo) != 1 => self.respond(&req, 400, now),
            // A method we know but do not take (REGISTER, SUBSCRIBE…): 405 with Allow (RFC 3261 8.2.1).
            (m, _) if !matches!(m, Method::Extension(_) | Method::Refer) => {
                let mut resp = builder::response(&req, 405, None);
                resp.headers.push(HeaderName::Allow, allow_value());
                self.send_response(resp, now);
            }
            _ => self.respond(&req, 501, now),
        }
    }

    fn on_new_invite(&mut self, req: Request, now: Instant) {
        if self.calls.len() >= self.opts.max_calls {
            // Each call costs a WebRTC peer: a flood of INVITEs must not build hundreds.
            return self.respond(&req, 486, now);
        }
        let sdp = req.headers.content_type().ok().flatten().is_none_or(|c| c.is("application/sdp"));
        if !req.body.is_empty() && !sdp {
            // RFC 3261 21.4.16: a body we cannot read; say what we take.
            let mut resp = builder::response(&req, 415, None);
            resp.headers.push(HeaderName::Accept, "application/sdp");
            return self.send_response(resp, now);
        }
        if !req.body.is_empty() {
            if let Err(problem) = media::sdp::check_offer(&String::from_utf8_lossy(&req.body), &self.opts.codecs) {
                return self.refuse_offer(&req, &problem.to_string(), now);
            }
        }
        let from = req.headers.from().ok();
        let remote_number = from.as_ref().and_then(|f| f.sip_uri().and_then(SipUri::user_decoded)).unwrap_or_default();
        let tag = builder::new_tag(&mut self.rng);
        let Ok(dialog) = sip::Dialog::from_uas(&req, &tag, false) else {
            return self.respond(&req, 400, now);
        };
        let get = |name: &str| req.headers.get(HeaderName::from_text(name)).map(str::to_owned);
        let id = self.new_call_id();
        let mut call = Call::new(CallDirection::Inbound, req.clone(), remote_number.clone());
        call.state = CallState::Ringing;
        call.rc = get("P-rc").and_then(|x| RcMessage::parse(&x).ok());
        call.api_ids = get("p-rc-api-ids").map(|v| ApiIds::parse(&v)).unwrap_or_default();
        call.api_call_info = get("p-rc-api-call-info").map(|v| call_info(&v)).unwrap_or_default();
        call.offer_in_answer = req.body.is_empty();
        call.dialog = Some(dialog);
        let info = InboundInfo {
            id,
            remote_number,
            remote_name: from.and_then(|f| f.display_name),
            offer: (!req.body.is_empty()).then(|| String::from_utf8_lossy(&req.body).into_owned()),
            auto_answer_after_ms: auto_answer_delay_ms(get("Alert-Info").as_deref(), get("Call-Info").as_deref()),
            rc_message: call.rc.clone(),
        };
        self.calls.insert(id, call);
        self.respond(&req, 100, now);
        let ringing = builder::response(&req, 180, Some(&tag));
        self.send_response(ringing, now);
        self.emit(Event::InboundCall(info));
        self.call_event(id, CallEvent::Ringing);
        let _ = self.send_rc_command(id, cmd::CLIENT_RECEIVE_CONFIRM, &[], None, now);
    }

    /// 488 Not Acceptable Here for an offer we cannot answer, with the reason in a Warning
    /// (RFC 3261 20.43, code 399): the caller learns why at once instead of hearing it ring.
    fn refuse_offer(&mut self, req: &Request, why: &str, now: Instant) {
        let tag = builder::new_tag(&mut self.rng);
        let mut resp = builder::response(req, 488, Some(&tag));
        resp.headers.push(HeaderName::from_text("Warning"), format!("399 softphone \"{}\"", why.replace('"', "'")));
        self.send_response(resp, now);
    }

    /// Answers a ringing inbound call with `sdp` (our answer, or our offer when the INVITE had
    /// none: then the ACK brings the answer as [`CallEvent::RemoteAnswer`]).
    pub fn answer(&mut self, id: CallId, sdp: &str, now: Instant) -> Result<(), CallError> {
        let local = self.local.clone();
        let call = self.call_mut(id)?;
        if call.direction != CallDirection::Inbound || call.state != CallState::Ringing {
            return Err(CallError::WrongState { action: "answer", state: call.state });
        }
        let tag = call.dialog.as_ref().map(|d| d.id.local_tag.clone()).unwrap_or_default();
        let mut ok = builder::response(&call.invite, 200, Some(&tag));
        ok.headers.push(HeaderName::Contact, NameAddr::new(local.contact.clone()).to_string());
        ok.headers.push(HeaderName::Allow, allow_value());
        ok.set_body("application/sdp", sdp.as_bytes());
        call.state = CallState::Answered;
        call.local_sdp = Some(sdp.to_owned());
        if let Some(d) = call.dialog.as_mut() {
            d.state = sip::DialogState::Confirmed;
        }
        self.send_response(ok, now);
        self.call_event(id, CallEvent::Answered { remote_sdp: None });
        Ok(())
    }

    /// Declines a ringing call (Cmd 12); the ticket completes when the server cancels it.
    pub fn decline(&mut self, id: CallId, now: Instant) -> Result<Ticket, CallError> {
        self.command_until_cancel(id, cmd::CLIENT_REJECT, &[], now)
    }

    /// Sends a ringing call to voicemail (Cmd 11).
    pub fn to_voicemail(&mut self, id: CallId, now: Instant) -> Result<Ticket, CallError> {
        self.command_until_cancel(id, cmd::CLIENT_VOICEMAIL, &[], now)
    }

    /// Forwards a ringing call to `target` (Cmd 10).
    pub fn forward(&mut self, id: CallId, target: &str, now: Instant) -> Result<Ticket, CallError> {
        if target.trim().is_empty() {
            return Err(CallError::InvalidNumber(target.to_owned()));
        }
        let attrs = [("FwdDly", "0".to_owned()), ("Phn", target.to_owned()), ("PhnTp", "3".to_owned())];
        self.command_until_cancel(id, cmd::CLIENT_FORWARD, &attrs, now)
    }

    /// Tells the server the user is typing a reply (Cmd 13): the caller waits longer.
    pub fn start_reply(&mut self, id: CallId, now: Instant) -> Result<Ticket, CallError> {
        self.ringing_inbound(id, "start a reply")?;
        let ticket = self.new_ticket();
        self.send_rc_command(id, cmd::CLIENT_START_REPLY, &[], Some(ticket), now)?;
        Ok(ticket)
    }

    /// Replies with a text or a preset (Cmd 14); the ticket completes with the caller's
    /// [`CallerResponse`] when the server closes the reply session (Cmd 9).
    pub fn reply(&mut self, id: CallId, reply: &Reply, now: Instant) -> Result<Ticket, CallError> {
        self.ringing_inbound(id, "reply")?;
        let ticket = self.new_ticket();
        self.send_rc_command(id, cmd::CLIENT_REPLY, &reply.attributes(), None, now)?;
        self.call_mut(id)?.reply_ticket = Some(ticket);
        Ok(ticket)
    }

    fn ringing_inbound(&mut self, id: CallId, action: &'static str) -> Result<(), CallError> {
        let call = self.call_mut(id)?;
        if call.direction != CallDirection::Inbound || call.state != CallState::Ringing {
            return Err(CallError::WrongState { action, state: call.state });
        }
        if call.rc.is_none() {
            return Err(CallError::NotRingCentral(action));
        }
        Ok(())
    }

    fn command_until_cancel(&mut self, id: CallId, command: u32, attrs: &[(&str, String)], now: Instant) -> Result<Ticket, CallError> {
        self.ringing_inbound(id, "use RingCentral call control")?;
        let ticket = self.new_ticket();
        self.send_rc_command(id, command, attrs, None, now)?;
        self.call_mut(id)?.cancel_ticket = Some(ticket);
        Ok(ticket)
    }

    /// Sends `MESSAGE sip:{P-rc From}` with command `command` about call `id`.
    fn send_rc_command(&mut self, id: CallId, command: u32, attrs: &[(&str, String)], ticket: Option<Ticket>, now: Instant) -> Result<(), CallError> {
        let call = self.calls.get(&id).ok_or(CallError::NoSuchCall)?;
        let Some(rc) = &call.rc else { return Ok(()) };
        let msg = rc.client_reply(command, &self.info.authorization_id, attrs);
        let target = msg.hdr("To").unwrap_or_default().to_owned();
        let uri = Uri::parse(&format!("sip:{target}")).map_err(|e| CallError::Protocol(format!("P-rc From \"{target}\": {e}")))?;
        let from = NameAddr::new(SipUri::new(Some(&self.info.username), &self.info.domain)).with_param("tag", Some(&builder::new_tag(&mut self.rng)));
        let parts = RequestParts {
            method: Method::Message,
            uri: uri.clone(),
            from,
            to: NameAddr::new(uri),
            call_id: call.call_id.clone(),
            cseq: builder::new_cseq(&mut self.rng),
        };
        let request = builder::message(&self.local, parts, "x-rc/agent", msg.to_string().as_bytes(), &mut self.rng);
        self.send_request(request, Pending::Message { ticket }, now)
    }

    fn on_cancel(&mut self, call: Option<CallId>, req: &Request, now: Instant) {
        self.respond(req, 200, now);
        let Some(id) = call else { return };
        let Some(c) = self.calls.get_mut(&id) else { return };
        if c.direction != CallDirection::Inbound || c.state != CallState::Ringing {
            return;
        }
        let invite = c.invite.clone();
        let ticket = c.cancel_ticket.take();
        // A text reply ends the ringing call before the caller answers it: keep waiting.
        if let (Some(t), Some(sid)) = (c.reply_ticket.take(), c.rc.as_ref().and_then(|r| r.hdr("SID"))) {
            self.orphan_replies.push((sid.to_owned(), t, now + REPLY_WAIT));
        }
        self.respond(&invite, 487, now);
        if let Some(t) = ticket {
            self.done(t, Ok(Outcome::Ok));
        }
        self.dispose(id, DisposeReason::Cancelled);
    }

    fn on_message(&mut self, call: Option<CallId>, req: &Request, now: Instant) {
        let is_rc = req.headers.content_type().ok().flatten().is_some_and(|c| c.is("x-rc/agent"));
        let parsed = RcMessage::parse(&String::from_utf8_lossy(&req.body));
        // A RingCentral message we cannot read is refused; any other MESSAGE is taken.
        self.respond(req, if is_rc && parsed.is_err() { 400 } else { 200 }, now);
        let Ok(msg) = parsed else { return };
        if !is_rc || msg.bdy("Cln").is_some_and(|c| !c.is_empty() && c != self.info.authorization_id) {
            // Meant for another device of this extension.
            return;
        }
        if msg.cmd() == Some(cmd::SESSION_CLOSE) {
            let sid = msg.hdr("SID").unwrap_or_default();
            if let Some(at) = self.orphan_replies.iter().position(|(s, _, _)| s == sid) {
                let (_, ticket, _) = self.orphan_replies.remove(at);
                self.done(ticket, Ok(Outcome::CallerResponse(CallerResponse::from_message(&msg))));
                return;
            }
            if let Some((id, ticket)) = self.reply_waiting_for(&msg, call) {
                self.calls.get_mut(&id).map(|c| c.reply_ticket.take());
                self.done(ticket, Ok(Outcome::CallerResponse(CallerResponse::from_message(&msg))));
                return;
            }
        }
        self.emit(Event::RcMessage(msg));
    }

    /// The call whose text reply this SessionClose answers (same SID).
    fn reply_waiting_for(&self, msg: &RcMessage, hint: Option<CallId>) -> Option<(CallId, Ticket)> {
        let sid = msg.hdr("SID")?;
        let matches = |c: &Call| c.reply_ticket.is_some() && c.rc.as_ref().and_then(|r| r.hdr("SID")) == Some(sid);
        let id = hint.filter(|h| self.calls.get(h).is_some_and(matches)).or_else(|| self.calls.iter().find(|(_, c)| matches(c)).map(|(id, _)| *id))?;
        Some((id, self.calls[&id].reply_ticket?))
    }

    /// The ACK of our 200: confirms the call; carries the answer when we offered in the 200.
    pub(super) fn on_ack(&mut self, ack: &Request) {
        let Some(id) = ack.headers.call_id().ok().and_then(|c| self.find_call(c)) else { return };
        let Some(call) = self.calls.get_mut(&id) else { return };
        if std::mem::take(&mut call.offer_in_answer) && !ack.body.is_empty() {
            let sdp = String::from_utf8_lossy(&ack.body).into_owned();
            self.call_event(id, CallEvent::RemoteAnswer(sdp));
        }
    }
}

impl PhoneCore {
    /// Fails text replies whose caller never answered.
    pub(super) fn replies_timeout(&mut self, now: Instant) {
        let (expired, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.orphan_replies).into_iter().partition(|(_, _, at)| now >= *at);
        self.orphan_replies = kept;
        for (_, ticket, _) in expired {
            self.done(ticket, Err(CallError::Timeout("the caller did not answer the reply")));
        }
    }
}

/// True when `req` has a body that is SDP (its Content-Type says so, or it has none).
fn carries_sdp(req: &Request) -> bool {
    !req.body.is_empty() && req.headers.content_type().ok().flatten().is_none_or(|c| c.is("application/sdp"))
}

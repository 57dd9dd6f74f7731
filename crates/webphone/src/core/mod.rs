//! The phone's protocol core, sans-IO: registration, calls and RingCentral's control messages.
//!
//! ```text
//!  driver (phone.rs) ── frames ──► PhoneCore::handle_frame ─┐
//!                    ── time  ──► PhoneCore::handle_timeout ├─► poll_output: Send(text) | Event(..)
//!                    ── user  ──► PhoneCore::register/call/answer/hold/… (return a Ticket)
//!                                                           └─► poll_timeout: when to wake next
//! ```
//!
//! The core never reads a clock and never touches media: SDP arrives with the commands that need
//! it (`call`, `answer`, `answer_reoffer`) and leaves in events (`Answered`, `Reoffer`, …), so
//! the driver owns the WebRTC peer and every test here runs on a fake clock.

pub mod call;
mod inbound;
mod in_call;
pub mod outbound;
mod register;
#[cfg(test)]
mod in_call_tests;
#[cfg(test)]
mod replay_tests;
#[cfg(test)]
mod tests;

pub use call::{CallDirection, CallId, CallState, InboundInfo};
pub use register::RegisterError;

use crate::error::CallError;
use call::Call;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rc_dialect::control::CommandResult;
use rc_dialect::reply::CallerResponse;
use rc_dialect::SipInfo;
use register::Registrar;
use sip::builder::{self, LocalEndpoint};
use sip::transaction::{Event as TxEvent, Output as TxOutput};
use sip::{Request, Response, Timers, TransactionKey, TransactionLayer};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Identifies a user command; its outcome arrives as [`Event::Done`].
pub type Ticket = u64;

/// How the core is set up.
#[derive(Debug, Clone)]
pub struct CoreOptions {
    /// The `+sip.instance` UUID (defaults to the authorizationId, as the seed SDK does).
    pub instance_id: String,
    /// User-Agent header value.
    pub user_agent: String,
    /// Registration lifetime we ask for, in seconds.
    pub register_expires: u32,
    /// Seed for the random values on the wire (tags, branches, Call-IDs); `None` uses entropy.
    pub seed: Option<u64>,
    /// Codecs our media can use: an inbound offer with none of them is refused with 488.
    pub codecs: Vec<media::codecs::AudioCodec>,
    /// No final answer to a REGISTER within this time: the connection is considered dead.
    pub register_timeout: std::time::Duration,
    /// A REGISTER refused with 5xx, 408 or 480 is sent again after about this long, doubling
    /// with each refusal up to `register_retry_max` (the server's `Retry-After` wins).
    pub register_retry_base: std::time::Duration,
    /// The longest wait between registration retries.
    pub register_retry_max: std::time::Duration,
    /// The most calls at once (each has a full WebRTC peer): a new INVITE beyond it is
    /// answered 486 Busy Here.
    pub max_calls: usize,
}

impl CoreOptions {
    /// Options with the engine's defaults for `instance_id` and `user_agent`.
    pub fn new(instance_id: &str, user_agent: &str) -> CoreOptions {
        CoreOptions {
            instance_id: instance_id.to_owned(),
            user_agent: user_agent.to_owned(),
            register_expires: 60,
            seed: None,
            codecs: media::codecs::AudioCodec::ALL.to_vec(),
            register_timeout: register::REGISTER_TIMEOUT,
            register_retry_base: std::time::Duration::from_secs(5),
            max_calls: 8,
            register_retry_max: std::time::Duration::from_secs(60),
        }
    }
}

/// What the core wants the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this SIP message as one WebSocket text frame.
    Send(String),
    /// Close the WebSocket (the server stopped answering).
    CloseConnection(String),
    /// Tell the user (and the driver, which owns media).
    Event(Event),
}

/// Things that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A SIP message arrived (the seed SDK's `message` event), as text.
    Message(String),
    /// The registration is in place for `expires` seconds.
    Registered {
        /// Lifetime the server granted.
        expires: u32,
    },
    /// The registration was removed (after `unregister`).
    Unregistered,
    /// Registering failed; the phone receives no calls.
    RegistrationFailed(RegisterError),
    /// A call is ringing in.
    InboundCall(InboundInfo),
    /// An outbound call was created (the seed SDK's `outboundCall`).
    OutboundCall(CallId),
    /// Something happened to a call.
    Call(CallId, CallEvent),
    /// A RingCentral XML message not tied to a command of ours (e.g. Cmd 7 for a call).
    RcMessage(rc_dialect::RcMessage),
    /// A command finished.
    Done(Ticket, Result<Outcome, CallError>),
}

/// What a finished command gives back.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing more than success.
    Ok,
    /// The server's answer to a JSON call-control request (record, flip, park).
    Control(CommandResult),
    /// The caller's answer to a text reply.
    CallerResponse(CallerResponse),
}

/// Events of one call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The far end is ringing (outbound) or the call is ringing here (inbound).
    Ringing,
    /// The call was answered. For an outbound call `remote_sdp` is the answer to our offer.
    Answered {
        /// The SDP answer (outbound) or `None` (inbound: the driver made the answer).
        remote_sdp: Option<String>,
    },
    /// The far end sent a new offer (re-INVITE) and waits for `answer_reoffer`; `None` when the
    /// re-INVITE has no SDP and wants our offer.
    Reoffer(Option<String>),
    /// The answer to an offer we put in a 200 (it came in the ACK).
    RemoteAnswer(String),
    /// We put the call on hold (true) or took it off (false).
    Held(bool),
    /// The server started (true) or stopped (false) recording the call on its own, not in
    /// answer to a request of ours (e.g. parking stops a recording; ringcentral-web-phone #339).
    RecordingChanged(bool),
    /// The call failed before it was answered, with the status line.
    Failed {
        /// SIP status.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// The call is over and forgotten.
    Disposed(DisposeReason),
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisposeReason {
    /// We hung up or cancelled.
    Local,
    /// The far end hung up (BYE).
    RemoteHangup,
    /// The server cancelled the ringing call (caller gave up, declined, sent to voicemail…).
    Cancelled,
    /// The call failed with this status.
    Failed(u16),
    /// No answer to a request of the call.
    Timeout,
    /// The connection to the server was lost.
    ConnectionLost,
}

/// What a pending client transaction is for.
#[derive(Debug, Clone)]
enum Pending {
    Register,
    Invite(CallId),
    Reinvite { call: CallId, ticket: Ticket, hold: Option<bool> },
    Bye(CallId),
    Refer { call: CallId },
    Info { call: CallId, ticket: Ticket },
    Message { ticket: Option<Ticket> },
    Cancel,
    /// An in-dialog OPTIONS after a reconnect: does the server still know the call?
    Probe(CallId),
    /// A BYE owed from while the connection was down; its answer changes nothing.
    OwedBye,
}

/// The protocol core of one phone.
pub struct PhoneCore {
    info: SipInfo,
    opts: CoreOptions,
    local: LocalEndpoint,
    tl: TransactionLayer,
    rng: StdRng,
    registrar: Registrar,
    calls: HashMap<CallId, Call>,
    pending: HashMap<TransactionKey, Pending>,
    next_id: u64,
    out: VecDeque<Output>,
    /// Text replies of calls that are gone, waiting for SessionClose: (SID, ticket, deadline).
    orphan_replies: Vec<(String, Ticket, Instant)>,
    /// False between [`PhoneCore::handle_disconnect`] and [`PhoneCore::handle_connected`].
    connected: bool,
    /// Set by a reconnect: once registered again, send the owed BYEs and probe the calls.
    resume_after_register: bool,
    /// BYEs of calls hung up while the connection was down, sent once it is back.
    owed_byes: Vec<Request>,
}

impl PhoneCore {
    /// A core for the account in `info`.
    pub fn new(info: SipInfo, opts: CoreOptions) -> PhoneCore {
        let mut rng = match opts.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let local = LocalEndpoint::random_ws(&mut rng, true, Some(&opts.user_agent));
        let registrar = Registrar::new(&info, &mut rng);
        PhoneCore {
            info,
            opts,
            local,
            tl: TransactionLayer::new(Timers::RELIABLE),
            rng,
            registrar,
            calls: HashMap::new(),
            pending: HashMap::new(),
            next_id: 1,
            out: VecDeque::new(),
            orphan_replies: Vec::new(),
            connected: true,
            resume_after_register: false,
            owed_byes: Vec::new(),
        }
    }

    /// The account.
    pub fn sip_info(&self) -> &SipInfo {
        &self.info
    }

    /// One frame from the WebSocket.
    pub fn handle_frame(&mut self, frame: &[u8], now: Instant) {
        self.tl.handle_input(sip::Input::Received(frame), now);
        self.drain(now);
    }

    /// Time has passed: run due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tl.handle_input(sip::Input::Timeout, now);
        self.registrar_timeout(now);
        self.calls_timeout(now);
        self.replies_timeout(now);
        self.drain(now);
    }

    /// The connection is gone: transactions on it will never be answered. Calls that were
    /// not answered yet end; answered calls keep their dialog and media and are checked with
    /// the server after [`handle_connected`](Self::handle_connected). Requests made until then
    /// fail with [`CallError::ConnectionLost`], except hang-ups, which end the call here and
    /// send their BYE once connected again.
    pub fn handle_disconnect(&mut self, now: Instant) {
        self.connected = false;
        self.resume_after_register = false;
        self.tl = TransactionLayer::new(Timers::RELIABLE);
        let pending: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        for p in pending {
            self.fail_pending(p, CallError::ConnectionLost, now);
        }
        let unanswered: Vec<CallId> = self.calls.iter().filter(|(_, c)| c.state != CallState::Answered).map(|(id, _)| *id).collect();
        for id in unanswered {
            self.dispose(id, DisposeReason::ConnectionLost);
        }
        self.registrar.connection_lost();
    }

    /// A new connection is up: register again (when registered before), then send the BYEs
    /// owed and ask the server about every call in progress (in-dialog OPTIONS; a 481 or no
    /// answer ends the call with [`DisposeReason::ConnectionLost`]).
    pub fn handle_connected(&mut self, now: Instant) {
        self.connected = true;
        if self.registrar.wants_registration() {
            self.resume_after_register = true;
            self.send_register(self.registrar.wanted(), now);
        } else {
            self.resume_calls(now);
        }
    }

    /// True while a connection is up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    fn resume_calls(&mut self, now: Instant) {
        self.resume_after_register = false;
        for bye in std::mem::take(&mut self.owed_byes) {
            let _ = self.send_request(bye, Pending::OwedBye, now);
        }
        let answered: Vec<CallId> = self.calls.iter().filter(|(_, c)| c.state == CallState::Answered).map(|(id, _)| *id).collect();
        for id in answered {
            let Some(dialog) = self.calls.get_mut(&id).and_then(|c| c.dialog.as_mut()) else { continue };
            let probe = dialog.new_request(sip::Method::Options, &self.local, &mut self.rng);
            let _ = self.send_request(probe, Pending::Probe(id), now);
        }
    }

    fn on_probe_response(&mut self, id: CallId, response: &Response) {
        if matches!(response.status, 408 | 481) {
            self.dispose(id, DisposeReason::ConnectionLost);
        }
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let replies = self.orphan_replies.iter().map(|(_, _, at)| *at).min();
        let deadlines = [self.tl.poll_timeout(), self.registrar.next_wake(), self.calls.values().filter_map(Call::next_wake).min(), replies];
        deadlines.into_iter().flatten().min()
    }

    fn new_ticket(&mut self) -> Ticket {
        self.next_id += 1;
        self.next_id
    }

    fn emit(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }

    fn done(&mut self, ticket: Ticket, result: Result<Outcome, CallError>) {
        self.emit(Event::Done(ticket, result));
    }

    fn call_event(&mut self, id: CallId, event: CallEvent) {
        self.emit(Event::Call(id, event));
    }

    /// Sends a request in a new client transaction, remembering what it is for. While the
    /// connection is down a BYE is kept for later (and its call ends here); anything else
    /// fails.
    fn send_request(&mut self, request: Request, what: Pending, now: Instant) -> Result<(), CallError> {
        if !self.connected {
            let Pending::Bye(id) = what else { return Err(CallError::ConnectionLost) };
            self.owed_byes.push(request);
            self.finish_hangup(id, now);
            return Ok(());
        }
        let key = self.tl.send_request(request, now).map_err(|e| CallError::Internal(e.to_string()))?;
        self.pending.insert(key, what);
        self.drain(now);
        Ok(())
    }

    /// Sends a response through its server transaction.
    fn send_response(&mut self, response: Response, now: Instant) {
        let _ = self.tl.send_response(response, now);
        self.drain(now);
    }

    /// Answers `request` with `status` and nothing else.
    fn respond(&mut self, request: &Request, status: u16, now: Instant) {
        let resp = builder::response(request, status, None);
        self.send_response(resp, now);
    }

    /// Moves the transaction layer's outputs out, acting on its events.
    fn drain(&mut self, now: Instant) {
        while let Some(output) = self.tl.poll_output() {
            match output {
                TxOutput::Send(message) => self.out.push_back(Output::Send(String::from_utf8_lossy(&message.to_bytes()).into_owned())),
                TxOutput::Event(event) => self.on_tx_event(event, now),
            }
        }
    }

    fn on_tx_event(&mut self, event: TxEvent, now: Instant) {
        match event {
            TxEvent::Request { request, .. } => {
                self.emit(Event::Message(String::from_utf8_lossy(&request.to_bytes()).into_owned()));
                self.on_request(request, now);
            }
            TxEvent::Ack(ack) => {
                self.emit(Event::Message(String::from_utf8_lossy(&ack.to_bytes()).into_owned()));
                self.on_ack(&ack);
            }
            TxEvent::Response { key, response } => {
                self.emit(Event::Message(String::from_utf8_lossy(&response.to_bytes()).into_owned()));
                self.on_response(key, response, now);
            }
            TxEvent::Timeout { key } => {
                if let Some(p) = self.pending.remove(&key) {
                    self.fail_pending(p, CallError::Timeout("no answer from the server"), now);
                }
            }
            TxEvent::Terminated { key } => {
                // An INVITE client transaction ends after its 2xx (Accepted state); the call
                // lives on in its dialog.
                self.pending.remove(&key);
            }
            TxEvent::StrayResponse(response) => self.on_stray_response(response, now),
            TxEvent::Malformed(_) => {}
        }
    }

    fn on_response(&mut self, key: TransactionKey, response: Response, now: Instant) {
        let Some(what) = self.pending.get(&key).cloned() else { return };
        if response.status >= 200 && !matches!(what, Pending::Invite(_)) {
            self.pending.remove(&key);
        }
        match what {
            Pending::Register => self.on_register_response(&response, now),
            Pending::Invite(id) => self.on_invite_response(id, &key, &response, now),
            Pending::Reinvite { call, ticket, hold } => self.on_reinvite_response(call, ticket, hold, &response, now),
            Pending::Bye(id) => self.finish_hangup(id, now),
            Pending::Refer { call } => self.on_refer_response(call, &response, now),
            Pending::Info { call, ticket } => self.on_info_response(call, ticket, &response),
            Pending::Message { ticket } => {
                if let Some(t) = ticket.filter(|_| response.status >= 200) {
                    let result = if response.is_success() { Ok(Outcome::Ok) } else { Err(CallError::rejected(&response)) };
                    self.done(t, result);
                }
            }
            Pending::Probe(id) => self.on_probe_response(id, &response),
            Pending::Cancel | Pending::OwedBye => {}
        }
    }

    /// A 2xx to an INVITE whose transaction is gone is a retransmission: ACK it again.
    fn on_stray_response(&mut self, response: Response, now: Instant) {
        let Ok(cseq) = response.headers.cseq() else { return };
        if !response.is_success() || cseq.method != sip::Method::Invite {
            return;
        }
        let Ok(call_id) = response.headers.call_id() else { return };
        let Some(id) = self.find_call(call_id) else { return };
        self.resend_ack(id, cseq.seq, now);
    }

    fn fail_pending(&mut self, what: Pending, error: CallError, now: Instant) {
        let lost = error == CallError::ConnectionLost;
        match what {
            Pending::Register if lost => self.registration_failed(RegisterError::NotConnected, now),
            Pending::Register => self.registration_failed(RegisterError::Timeout, now),
            // An answered call's INVITE transaction lingers (for 2xx retransmissions); the
            // call itself lives on in its dialog.
            Pending::Invite(id) if self.call_state(id) == Some(CallState::Answered) => {}
            Pending::Invite(id) if lost => self.dispose(id, DisposeReason::ConnectionLost),
            Pending::Invite(id) => self.dispose(id, DisposeReason::Timeout),
            Pending::Probe(id) => self.dispose(id, DisposeReason::ConnectionLost),
            Pending::Reinvite { ticket, .. } => self.done(ticket, Err(error)),
            Pending::Bye(id) => self.dispose(id, DisposeReason::Local),
            Pending::Refer { call } => self.fail_call_ticket(call, error),
            Pending::Info { call, ticket } => self.fail_control(call, ticket, error),
            Pending::Message { ticket: Some(t) } => self.done(t, Err(error)),
            Pending::Message { ticket: None } | Pending::Cancel | Pending::OwedBye => {}
        }
    }

    /// False when `req` names a To tag that is not ours in call `id`'s dialog (a request for
    /// another dialog with the same Call-ID must not act on this call, RFC 3261 12.2.2).
    fn tag_matches(&self, id: CallId, req: &Request) -> bool {
        let Some(theirs) = req.headers.to().ok().and_then(|t| t.tag().map(str::to_owned)) else { return true };
        match self.calls.get(&id).and_then(|c| c.dialog.as_ref()) {
            Some(dialog) => dialog.id.local_tag == theirs,
            None => true,
        }
    }

    fn find_call(&self, sip_call_id: &str) -> Option<CallId> {
        self.calls.iter().find(|(_, c)| c.call_id == sip_call_id).map(|(id, _)| *id)
    }

    fn new_call_id(&mut self) -> CallId {
        self.next_id += 1;
        CallId(self.next_id)
    }

    /// Forgets a call and tells the user, failing what was still waiting on it.
    fn dispose(&mut self, id: CallId, reason: DisposeReason) {
        let Some(call) = self.calls.remove(&id) else { return };
        for ticket in call.waiting_tickets() {
            let error = match reason {
                DisposeReason::RemoteHangup if call.transfer_ticket == Some(ticket) => None,
                _ => Some(CallError::Ended),
            };
            match error {
                None => self.done(ticket, Ok(Outcome::Ok)),
                Some(e) => self.done(ticket, Err(e)),
            }
        }
        self.call_event(id, CallEvent::Disposed(reason));
    }

    /// Every call, for the driver's bookkeeping.
    pub fn call_ids(&self) -> Vec<CallId> {
        self.calls.keys().copied().collect()
    }

    /// The state of a call, if it exists.
    pub fn call_state(&self, id: CallId) -> Option<CallState> {
        self.calls.get(&id).map(|c| c.state)
    }

    /// Facts about a call: direction, numbers, SIP ids, RingCentral ids.
    pub fn call_info(&self, id: CallId) -> Option<call::CallFacts> {
        self.calls.get(&id).map(|c| c.facts())
    }

    fn call_mut(&mut self, id: CallId) -> Result<&mut Call, CallError> {
        self.calls.get_mut(&id).ok_or(CallError::NoSuchCall)
    }

}

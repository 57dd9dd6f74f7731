//! Client transactions (RFC 3261 section 17.1, with the Accepted state of RFC 6026).

use super::{Event, Output, Timers, TransactionKey};
use crate::header::HeaderName;
use crate::message::{Request, Response};
use crate::method::Method;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// States of a client transaction (INVITE uses Calling, non-INVITE uses Trying).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// INVITE sent, nothing heard.
    Calling,
    /// Non-INVITE sent, nothing heard.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived; absorbing retransmissions.
    Completed,
    /// A 2xx to INVITE arrived; further 2xx are passed up so the caller can re-ACK.
    Accepted,
    /// Finished.
    Terminated,
}

/// One client transaction: sends a request, retransmits it, and reports its responses.
#[derive(Debug)]
pub struct ClientTransaction {
    key: TransactionKey,
    request: Request,
    ack: Option<Request>,
    state: ClientState,
    timers: Timers,
    retransmit: Option<(Instant, Duration)>,
    deadline: Option<Instant>,
}

impl ClientTransaction {
    /// Starts a transaction for `request` at `now`; queues the first send.
    pub fn start(key: TransactionKey, request: Request, timers: Timers, now: Instant, out: &mut VecDeque<Output>) -> Self {
        let invite = request.method == Method::Invite;
        out.push_back(Output::Send(request.clone().into()));
        Self {
            key,
            state: if invite { ClientState::Calling } else { ClientState::Trying },
            retransmit: timers.first_retransmit().map(|d| (now + d, d)),
            deadline: Some(now + timers.timeout()),
            request,
            ack: None,
            timers,
        }
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The request this transaction sends.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The earliest time at which [`on_timeout`](Self::on_timeout) has work to do.
    pub fn next_wake(&self) -> Option<Instant> {
        super::earliest(self.retransmit.map(|r| r.0), self.deadline)
    }

    fn is_invite(&self) -> bool {
        self.request.method == Method::Invite
    }

    /// Feeds a response that matched this transaction.
    pub fn on_response(&mut self, response: Response, now: Instant, out: &mut VecDeque<Output>) {
        use ClientState::*;
        let key = self.key.clone();
        let event = move |r: Response| Output::Event(Event::Response { key: key.clone(), response: r });
        match (self.state, response.status) {
            (Calling | Trying | Proceeding, 100..=199) => {
                self.state = Proceeding;
                if !self.is_invite() {
                    self.retransmit = self.retransmit.map(|_| (now + self.timers.t2, self.timers.t2));
                } else {
                    self.retransmit = None;
                }
                out.push_back(event(response));
            }
            (Calling | Proceeding, 200..=299) if self.is_invite() => {
                self.enter(Accepted, Some(self.timers.timeout()), now);
                out.push_back(event(response));
            }
            (Accepted, 200..=299) => out.push_back(event(response)),
            (Calling | Proceeding, _) if self.is_invite() => {
                let ack = self.ack_for(&response);
                out.push_back(Output::Send(ack.clone().into()));
                self.ack = Some(ack);
                self.enter(Completed, Some(self.timers.d()), now);
                out.push_back(event(response));
            }
            (Completed, 300..) if self.is_invite() => {
                if let Some(ack) = &self.ack {
                    out.push_back(Output::Send(ack.clone().into()));
                }
            }
            (Trying | Proceeding, _) => {
                self.enter(Completed, Some(self.timers.i_k()), now);
                out.push_back(event(response));
            }
            _ => {}
        }
        self.finish_if_due(now, out);
    }

    /// Handles timers due at `now`: retransmissions and timeouts.
    pub fn on_timeout(&mut self, now: Instant, out: &mut VecDeque<Output>) {
        if let Some((at, interval)) = self.retransmit {
            if now >= at && matches!(self.state, ClientState::Calling | ClientState::Trying | ClientState::Proceeding) {
                out.push_back(Output::Send(self.request.clone().into()));
                let next = if self.is_invite() { interval * 2 } else { (interval * 2).min(self.timers.t2) };
                self.retransmit = Some((now + next, next));
            }
        }
        if self.deadline.is_some_and(|d| now >= d) {
            if matches!(self.state, ClientState::Calling | ClientState::Trying | ClientState::Proceeding) {
                out.push_back(Output::Event(Event::Timeout { key: self.key.clone() }));
            }
            self.terminate(out);
        }
    }

    fn enter(&mut self, state: ClientState, wait: Option<Duration>, now: Instant) {
        self.state = state;
        self.retransmit = None;
        self.deadline = wait.map(|w| now + w);
    }

    fn finish_if_due(&mut self, now: Instant, out: &mut VecDeque<Output>) {
        if self.state == ClientState::Completed && self.deadline.is_some_and(|d| now >= d) {
            self.terminate(out);
        }
    }

    fn terminate(&mut self, out: &mut VecDeque<Output>) {
        if self.state != ClientState::Terminated {
            self.state = ClientState::Terminated;
            self.retransmit = None;
            self.deadline = None;
            out.push_back(Output::Event(Event::Terminated { key: self.key.clone() }));
        }
    }

    /// The ACK for a non-2xx final response (RFC 3261 section 17.1.1.3).
    fn ack_for(&self, response: &Response) -> Request {
        let mut ack = Request::new(Method::Ack, self.request.uri.clone());
        let orig = &self.request.headers;
        let copy = |ack: &mut Request, name: HeaderName| {
            if let Some(v) = orig.get(name.clone()) {
                ack.headers.push(name, v);
            }
        };
        if let Ok(via) = orig.top_via() {
            ack.headers.push(HeaderName::Via, via.to_string());
        }
        for route in orig.get_all(HeaderName::Route) {
            ack.headers.push(HeaderName::Route, route.value.clone());
        }
        copy(&mut ack, HeaderName::MaxForwards);
        copy(&mut ack, HeaderName::From);
        if let Some(to) = response.headers.get(HeaderName::To) {
            ack.headers.push(HeaderName::To, to);
        }
        copy(&mut ack, HeaderName::CallId);
        if let Ok(cseq) = orig.cseq() {
            ack.headers.push(HeaderName::CSeq, format!("{} ACK", cseq.seq));
        }
        copy(&mut ack, HeaderName::UserAgent);
        ack.headers.push(HeaderName::ContentLength, "0");
        ack
    }
}

//! Server transactions (RFC 3261 section 17.2, with the Accepted state of RFC 6026).

use super::{Event, Output, Timers, TransactionKey};
use crate::message::{Request, Response};
use crate::method::Method;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// States of a server transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Non-INVITE received, no response yet.
    Trying,
    /// A provisional response was sent (INVITE starts here).
    Proceeding,
    /// A final response was sent; INVITE waits for the ACK of a non-2xx.
    Completed,
    /// INVITE: the ACK arrived; absorbing ACK retransmissions.
    Confirmed,
    /// INVITE: a 2xx was sent; retransmitted INVITEs are absorbed.
    Accepted,
    /// Finished.
    Terminated,
}

/// One server transaction: reports a request once and answers its retransmissions.
#[derive(Debug)]
pub struct ServerTransaction {
    key: TransactionKey,
    request: Request,
    state: ServerState,
    timers: Timers,
    last_response: Option<Response>,
    retransmit: Option<(Instant, Duration)>,
    deadline: Option<Instant>,
}

impl ServerTransaction {
    /// Creates the transaction for a newly received request and reports it.
    pub fn start(key: TransactionKey, request: Request, timers: Timers, out: &mut VecDeque<Output>) -> Self {
        let invite = request.method == Method::Invite;
        out.push_back(Output::Event(Event::Request { key: key.clone(), request: request.clone() }));
        Self {
            key,
            request,
            state: if invite { ServerState::Proceeding } else { ServerState::Trying },
            timers,
            last_response: None,
            retransmit: None,
            deadline: None,
        }
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// The request that created this transaction.
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

    /// True while the transaction can still send a response.
    pub fn can_respond(&self) -> bool {
        matches!(self.state, ServerState::Trying | ServerState::Proceeding)
            || (self.state == ServerState::Accepted && self.is_invite())
    }

    /// Sends a response from the transaction user.
    pub fn respond(&mut self, response: Response, now: Instant, out: &mut VecDeque<Output>) {
        out.push_back(Output::Send(response.clone().into()));
        let status = response.status;
        self.last_response = Some(response);
        match (self.is_invite(), status) {
            (_, 100..=199) => {
                if self.state == ServerState::Trying {
                    self.state = ServerState::Proceeding;
                }
            }
            (true, 200..=299) => self.enter(ServerState::Accepted, None, Some(self.timers.timeout()), now),
            (true, _) => {
                let g = self.timers.first_retransmit().map(|d| (now + d, d));
                self.enter(ServerState::Completed, g, Some(self.timers.timeout()), now);
            }
            (false, _) => self.enter(ServerState::Completed, None, Some(self.timers.j()), now),
        }
        self.finish_if_due(now, out);
    }

    /// Feeds a retransmitted request or an ACK that matched this transaction.
    pub fn on_request(&mut self, request: &Request, now: Instant, out: &mut VecDeque<Output>) {
        if request.method == Method::Ack {
            match self.state {
                ServerState::Completed => {
                    self.enter(ServerState::Confirmed, None, Some(self.timers.i_k()), now);
                    self.finish_if_due(now, out);
                }
                // RFC 6026 section 7.1: an ACK (of the 2xx) in Accepted goes to the TU, even when
                // the peer reused the INVITE's branch for it.
                ServerState::Accepted => out.push_back(Output::Event(Event::Ack(request.clone()))),
                _ => {}
            }
            return;
        }
        let resend = match self.state {
            ServerState::Proceeding | ServerState::Completed => self.last_response.clone(),
            _ => None,
        };
        if let Some(r) = resend {
            out.push_back(Output::Send(r.into()));
        }
    }

    /// Handles timers due at `now`: response retransmissions and timeouts.
    pub fn on_timeout(&mut self, now: Instant, out: &mut VecDeque<Output>) {
        if let Some((at, interval)) = self.retransmit {
            if now >= at && self.state == ServerState::Completed {
                if let Some(r) = &self.last_response {
                    out.push_back(Output::Send(r.clone().into()));
                }
                let next = (interval * 2).min(self.timers.t2);
                self.retransmit = Some((now + next, next));
            }
        }
        if self.deadline.is_some_and(|d| now >= d) {
            if self.is_invite() && self.state == ServerState::Completed {
                out.push_back(Output::Event(Event::Timeout { key: self.key.clone() }));
            }
            self.terminate(out);
        }
    }

    fn enter(&mut self, state: ServerState, retransmit: Option<(Instant, Duration)>, wait: Option<Duration>, now: Instant) {
        self.state = state;
        self.retransmit = retransmit;
        self.deadline = wait.map(|w| now + w);
    }

    fn finish_if_due(&mut self, now: Instant, out: &mut VecDeque<Output>) {
        let waiting = matches!(self.state, ServerState::Confirmed)
            || (self.state == ServerState::Completed && !self.is_invite());
        if waiting && self.deadline.is_some_and(|d| now >= d) {
            self.terminate(out);
        }
    }

    fn terminate(&mut self, out: &mut VecDeque<Output>) {
        if self.state != ServerState::Terminated {
            self.state = ServerState::Terminated;
            self.retransmit = None;
            self.deadline = None;
            out.push_back(Output::Event(Event::Terminated { key: self.key.clone() }));
        }
    }
}

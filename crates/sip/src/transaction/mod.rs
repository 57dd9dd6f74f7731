//! The transaction layer (RFC 3261 section 17) as a sans-IO state machine.
//!
//! Feed it what arrives with [`TransactionLayer::handle_input`], tell it what the user agent
//! wants to send with [`send_request`](TransactionLayer::send_request) and
//! [`send_response`](TransactionLayer::send_response), then drain
//! [`poll_output`](TransactionLayer::poll_output) and sleep until
//! [`poll_timeout`](TransactionLayer::poll_timeout). It never reads a clock: every call takes `now`.

mod client;
mod server;
mod timers;

pub use client::{ClientState, ClientTransaction};
pub use server::{ServerState, ServerTransaction};
pub use timers::Timers;

use crate::error::ParseError;
use crate::header::{Headers, Via};
use crate::message::{Message, Request, Response};
use crate::method::Method;
use std::collections::{HashMap, VecDeque};
use std::time::Instant;

/// Identifies a transaction: the branch, the method (INVITE for its ACK) and the side.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey {
    /// Top Via branch (or an RFC 2543 substitute built from the dialog identifiers).
    pub branch: String,
    /// Method of the transaction (CSeq method; ACK maps to INVITE).
    pub method: Method,
    /// True for server transactions.
    pub server: bool,
}

/// What the layer was given.
#[derive(Debug)]
pub enum Input<'a> {
    /// Bytes of one message from the transport.
    Received(&'a [u8]),
    /// Time has passed; handle due timers.
    Timeout,
}

/// What the layer wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send this message on the transport.
    Send(Message),
    /// Tell the transaction user.
    Event(Event),
}

/// Things the transaction user must know about.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A new request arrived and has a server transaction.
    Request {
        /// Its server transaction.
        key: TransactionKey,
        /// The request.
        request: Request,
    },
    /// An ACK that belongs to no transaction (the ACK of a 2xx): for the dialog layer.
    Ack(Request),
    /// A response for a client transaction (retransmitted 2xx to INVITE included).
    Response {
        /// Its client transaction.
        key: TransactionKey,
        /// The response.
        response: Response,
    },
    /// A client transaction got no final response in time (timers B, F), or an INVITE server
    /// transaction got no ACK for its non-2xx final response (timer H).
    Timeout {
        /// The transaction.
        key: TransactionKey,
    },
    /// A transaction ended and was forgotten.
    Terminated {
        /// The transaction.
        key: TransactionKey,
    },
    /// A response that matches no client transaction.
    StrayResponse(Response),
    /// Input that is not a valid SIP message. A request readable enough to answer has already
    /// been answered (400, or 505 for another SIP version; see
    /// [`malformed_request_reply`](crate::builder::malformed_request_reply)).
    Malformed(ParseError),
}

/// Why the layer could not send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    /// The message lacks a header the transaction layer needs.
    #[error("cannot send: {0}")]
    BadMessage(#[from] ParseError),
    /// ACK is not sent through a transaction; use `send_stateless`.
    #[error("ACK for a 2xx is sent with send_stateless")]
    AckNeedsNoTransaction,
    /// A client transaction with this branch already exists.
    #[error("a transaction with branch {0} already exists")]
    DuplicateBranch(String),
    /// No server transaction matches the response.
    #[error("no server transaction for the response (branch {0})")]
    NoServerTransaction(String),
    /// The server transaction already sent its final response.
    #[error("the transaction has already sent a final response")]
    AlreadyAnswered,
}

/// The largest message [`TransactionLayer`] reads by default: real SIP messages are a few
/// kilobytes; a request larger than this is answered 513 and a response dropped.
pub const MAX_MESSAGE: usize = 256 * 1024;

/// All client and server transactions of one user agent.
#[derive(Debug)]
pub struct TransactionLayer {
    timers: Timers,
    clients: HashMap<TransactionKey, ClientTransaction>,
    servers: HashMap<TransactionKey, ServerTransaction>,
    out: VecDeque<Output>,
    max_message: usize,
}

impl Default for TransactionLayer {
    fn default() -> Self {
        Self { timers: Timers::default(), clients: HashMap::new(), servers: HashMap::new(), out: VecDeque::new(), max_message: MAX_MESSAGE }
    }
}

impl TransactionLayer {
    /// A layer using `timers`.
    pub fn new(timers: Timers) -> Self {
        Self { timers, ..Default::default() }
    }

    /// The same layer reading messages of up to `bytes` (larger requests are answered 513,
    /// larger responses dropped).
    pub fn with_max_message(mut self, bytes: usize) -> Self {
        self.max_message = bytes;
        self
    }

    /// Starts a client transaction for `request` and queues its first send.
    pub fn send_request(&mut self, request: Request, now: Instant) -> Result<TransactionKey, TransactionError> {
        if request.method == Method::Ack {
            return Err(TransactionError::AckNeedsNoTransaction);
        }
        let key = client_key(&request.headers.top_via()?, &request.headers.cseq()?.method);
        if self.clients.contains_key(&key) {
            return Err(TransactionError::DuplicateBranch(key.branch));
        }
        let tx = ClientTransaction::start(key.clone(), request, self.timers, now, &mut self.out);
        self.clients.insert(key.clone(), tx);
        Ok(key)
    }

    /// Queues a message outside any transaction (the ACK of a 2xx, or a response with no
    /// server transaction such as a late 2xx retransmission).
    pub fn send_stateless(&mut self, message: impl Into<Message>) {
        self.out.push_back(Output::Send(message.into()));
    }

    /// Sends a response through the server transaction it answers.
    pub fn send_response(&mut self, response: Response, now: Instant) -> Result<(), TransactionError> {
        let method = response.headers.cseq()?.method;
        let key = server_key(&response.headers, method)?;
        let tx = self
            .servers
            .get_mut(&key)
            .ok_or_else(|| TransactionError::NoServerTransaction(key.branch.clone()))?;
        if !tx.can_respond() {
            return Err(TransactionError::AlreadyAnswered);
        }
        tx.respond(response, now, &mut self.out);
        self.collect_terminated();
        Ok(())
    }

    /// Feeds input: a received message or the passing of time.
    pub fn handle_input(&mut self, input: Input<'_>, now: Instant) {
        match input {
            Input::Received(bytes) if bytes.len() > self.max_message => {
                let error = ParseError::new(crate::error::ParseErrorKind::TooLarge { size: bytes.len(), limit: self.max_message }, 0);
                if let Some(reply) = crate::builder::malformed_request_reply(bytes, &error) {
                    self.out.push_back(Output::Send(reply.into()));
                }
                self.out.push_back(Output::Event(Event::Malformed(error)));
            }
            Input::Received(bytes) => match Message::parse(bytes) {
                Ok(Message::Request(r)) => self.on_request(r, now),
                Ok(Message::Response(r)) => self.on_response(r, now),
                Err(e) => {
                    // A request too broken to parse still gets its 400 when it can be addressed.
                    if let Some(reply) = crate::builder::malformed_request_reply(bytes, &e) {
                        self.out.push_back(Output::Send(reply.into()));
                    }
                    self.out.push_back(Output::Event(Event::Malformed(e)));
                }
            },
            Input::Timeout => {
                for tx in self.clients.values_mut() {
                    if tx.next_wake().is_some_and(|w| w <= now) {
                        tx.on_timeout(now, &mut self.out);
                    }
                }
                for tx in self.servers.values_mut() {
                    if tx.next_wake().is_some_and(|w| w <= now) {
                        tx.on_timeout(now, &mut self.out);
                    }
                }
            }
        }
        self.collect_terminated();
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to call `handle_input(Input::Timeout, …)` next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let c = self.clients.values().filter_map(ClientTransaction::next_wake);
        let s = self.servers.values().filter_map(ServerTransaction::next_wake);
        c.chain(s).min()
    }

    /// The INVITE server transaction that a received CANCEL refers to.
    pub fn find_invite_for_cancel(&self, cancel: &Request) -> Option<&ServerTransaction> {
        let key = server_key(&cancel.headers, Method::Invite).ok()?;
        self.servers.get(&key)
    }

    /// A client transaction by key.
    pub fn client(&self, key: &TransactionKey) -> Option<&ClientTransaction> {
        self.clients.get(key)
    }

    /// A server transaction by key.
    pub fn server(&self, key: &TransactionKey) -> Option<&ServerTransaction> {
        self.servers.get(key)
    }

    /// Number of live transactions (client, server).
    pub fn len(&self) -> (usize, usize) {
        (self.clients.len(), self.servers.len())
    }

    fn on_request(&mut self, request: Request, now: Instant) {
        let method = if request.method == Method::Ack { Method::Invite } else { request.method.clone() };
        let Ok(key) = server_key(&request.headers, method) else { return };
        if let Some(tx) = self.servers.get_mut(&key) {
            tx.on_request(&request, now, &mut self.out);
        } else if request.method == Method::Ack {
            self.out.push_back(Output::Event(Event::Ack(request)));
        } else {
            let tx = ServerTransaction::start(key.clone(), request, self.timers, &mut self.out);
            self.servers.insert(key, tx);
        }
    }

    fn on_response(&mut self, response: Response, now: Instant) {
        let key = match (response.headers.top_via(), response.headers.cseq()) {
            (Ok(via), Ok(cseq)) => client_key(&via, &cseq.method),
            _ => return,
        };
        match self.clients.get_mut(&key) {
            Some(tx) => tx.on_response(response, now, &mut self.out),
            None => self.out.push_back(Output::Event(Event::StrayResponse(response))),
        }
    }

    fn collect_terminated(&mut self) {
        self.clients.retain(|_, tx| tx.state() != ClientState::Terminated);
        self.servers.retain(|_, tx| tx.state() != ServerState::Terminated);
    }
}

/// The earlier of two optional deadlines.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn client_key(via: &Via, method: &Method) -> TransactionKey {
    TransactionKey { branch: via.branch().unwrap_or_default().to_owned(), method: method.clone(), server: false }
}

/// Server-side key: branch plus sent-by (RFC 3261 section 17.2.3), or for pre-RFC 3261 peers
/// the dialog identifiers, so that such peers still get working retransmission handling.
/// Requests and their responses (and a CANCEL and its INVITE) give the same key.
fn server_key(headers: &Headers, method: Method) -> Result<TransactionKey, ParseError> {
    let via = headers.top_via()?;
    let branch = if via.has_rfc3261_branch() {
        format!("{}|{}", via.branch().unwrap_or_default(), via.sent_by())
    } else {
        let from_tag = headers.from()?.tag().unwrap_or_default().to_owned();
        let seq = headers.cseq()?.seq;
        format!("2543|{}|{from_tag}|{seq}|{}", headers.call_id()?, via.sent_by())
    };
    Ok(TransactionKey { branch, method, server: true })
}

#[cfg(test)]
mod tests;

//! Dialogs (RFC 3261 section 12): identifiers, route set, sequence numbers, remote target.

use crate::builder::{request, LocalEndpoint, RequestParts};
use crate::error::ParseError;
use crate::header::{HeaderName, NameAddr, Replaces};
use crate::message::{Request, Response, WithBody};
use crate::method::Method;
use crate::uri::Uri;
use rand::RngCore;

/// Why a message could not create or update a dialog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// A header needed by the dialog is malformed or missing.
    #[error("dialog: {0}")]
    BadMessage(#[from] ParseError),
    /// The response has no To tag, or the request no From tag.
    #[error("dialog: the {0} tag is missing")]
    MissingTag(&'static str),
    /// The message creating the dialog has no Contact.
    #[error("dialog: Contact missing")]
    MissingContact,
    /// Only 101-299 responses create dialogs.
    #[error("dialog: a {0} response does not create a dialog")]
    NotDialogCreating(u16),
    /// An in-dialog request with a CSeq not above the last one (answer 500).
    #[error("dialog: CSeq {got} is not above {last}")]
    OutOfOrder {
        /// CSeq number received.
        got: u32,
        /// Highest CSeq number seen before.
        last: u32,
    },
}

/// The identifiers of a dialog, seen from our side.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

impl DialogId {
    /// The dialog a received request belongs to (our tag is in To).
    pub fn of_received_request(r: &Request) -> Result<DialogId, DialogError> {
        let h = &r.headers;
        Ok(DialogId {
            call_id: h.call_id()?.to_owned(),
            local_tag: h.to()?.tag().unwrap_or_default().to_owned(),
            remote_tag: h.from()?.tag().unwrap_or_default().to_owned(),
        })
    }

    /// The dialog a received response belongs to (our tag is in From).
    pub fn of_received_response(r: &Response) -> Result<DialogId, DialogError> {
        let h = &r.headers;
        Ok(DialogId {
            call_id: h.call_id()?.to_owned(),
            local_tag: h.from()?.tag().unwrap_or_default().to_owned(),
            remote_tag: h.to()?.tag().unwrap_or_default().to_owned(),
        })
    }
}

/// Whether the dialog has been answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// A dialog: what is needed to send requests inside it and to check those received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Identifiers.
    pub id: DialogId,
    /// Early or confirmed.
    pub state: DialogState,
    /// Our last CSeq number.
    pub local_seq: u32,
    /// The peer's last CSeq number, once it has sent a request.
    pub remote_seq: Option<u32>,
    /// Our address (From of our requests), without tag.
    pub local_uri: NameAddr,
    /// The peer's address, without tag.
    pub remote_uri: NameAddr,
    /// Where in-dialog requests go (the peer's Contact).
    pub remote_target: Uri,
    /// Proxies to route through, in order.
    pub route_set: Vec<NameAddr>,
}

impl Dialog {
    /// The dialog our request created, from a 101-299 response that carries a To tag.
    pub fn from_uac(req: &Request, resp: &Response) -> Result<Dialog, DialogError> {
        if !(101..300).contains(&resp.status) {
            return Err(DialogError::NotDialogCreating(resp.status));
        }
        let id = DialogId::of_received_response(resp)?;
        if id.remote_tag.is_empty() {
            return Err(DialogError::MissingTag("To"));
        }
        let mut route_set = resp.headers.record_routes()?;
        route_set.reverse();
        Ok(Dialog {
            id,
            state: if resp.status < 200 { DialogState::Early } else { DialogState::Confirmed },
            local_seq: req.headers.cseq()?.seq,
            remote_seq: None,
            local_uri: without_tag(req.headers.from()?),
            remote_uri: without_tag(req.headers.to()?),
            remote_target: remote_target(resp.headers.contacts()?).unwrap_or_else(|| req.uri.clone()),
            route_set,
        })
    }

    /// The dialog a received request creates when we answer it with `local_tag`.
    pub fn from_uas(req: &Request, local_tag: &str, confirmed: bool) -> Result<Dialog, DialogError> {
        let h = &req.headers;
        let from = h.from()?;
        let remote_tag = from.tag().ok_or(DialogError::MissingTag("From"))?.to_owned();
        Ok(Dialog {
            id: DialogId { call_id: h.call_id()?.to_owned(), local_tag: local_tag.to_owned(), remote_tag },
            state: if confirmed { DialogState::Confirmed } else { DialogState::Early },
            local_seq: 0,
            remote_seq: Some(h.cseq()?.seq),
            local_uri: without_tag(h.to()?),
            remote_uri: without_tag(from),
            remote_target: remote_target(h.contacts()?).ok_or(DialogError::MissingContact)?,
            route_set: h.record_routes()?,
        })
    }

    /// A new request inside the dialog; the CSeq counts up (not for ACK and CANCEL, which use
    /// [`ack`](Self::ack) and [`crate::builder::cancel`]).
    pub fn new_request(&mut self, method: Method, local: &LocalEndpoint, rng: &mut impl RngCore) -> Request {
        if self.local_seq == 0 {
            self.local_seq = crate::builder::new_cseq(rng);
        } else {
            self.local_seq += 1;
        }
        self.build(method, self.local_seq, local, rng)
    }

    /// A re-INVITE carrying a new SDP offer (hold, unhold, ICE restart).
    pub fn reinvite(&mut self, sdp: &[u8], local: &LocalEndpoint, rng: &mut impl RngCore) -> Request {
        let mut r = self.new_request(Method::Invite, local, rng);
        r.set_body("application/sdp", sdp);
        r
    }

    /// A REFER asking the peer to call `target` (RFC 3515). For an attended transfer, put a
    /// Replaces header in the target URI ([`crate::SipUri::with_header`] and [`Dialog::replaces`]).
    pub fn refer(&mut self, target: &NameAddr, local: &LocalEndpoint, rng: &mut impl RngCore) -> Request {
        let mut r = self.new_request(Method::Refer, local, rng);
        r.headers.push(HeaderName::ReferTo, target.to_string());
        r.headers.push(HeaderName::ReferredBy, NameAddr::new(self.local_uri.uri.clone()).to_string());
        r
    }

    /// An INFO carrying `body` (RFC 6086), e.g. RingCentral's JSON call control.
    pub fn info(&mut self, content_type: &str, body: &[u8], local: &LocalEndpoint, rng: &mut impl RngCore) -> Request {
        let mut r = self.new_request(Method::Info, local, rng);
        r.set_body(content_type, body);
        r
    }

    /// The ACK for a 2xx to the INVITE with CSeq number `invite_seq` (a new transaction branch).
    pub fn ack(&self, invite_seq: u32, local: &LocalEndpoint, rng: &mut impl RngCore) -> Request {
        let mut ack = self.build(Method::Ack, invite_seq, local, rng);
        ack.headers.remove(HeaderName::Contact);
        ack
    }

    fn build(&self, method: Method, seq: u32, local: &LocalEndpoint, rng: &mut impl RngCore) -> Request {
        let (uri, routes) = self.request_target();
        let parts = RequestParts {
            method,
            uri,
            from: self.local_uri.clone().with_param("tag", Some(&self.id.local_tag)),
            to: self.remote_uri.clone().with_param("tag", Some(&self.id.remote_tag)),
            call_id: self.id.call_id.clone(),
            cseq: seq,
        };
        let mut r = request(local, parts, rng);
        for route in routes.iter().rev() {
            insert_route_after_via(&mut r, route);
        }
        r
    }

    /// Request-URI and Route headers (RFC 3261 section 12.2.1.1: loose or strict routing).
    fn request_target(&self) -> (Uri, Vec<String>) {
        let Some(first) = self.route_set.first() else {
            return (self.remote_target.clone(), Vec::new());
        };
        let loose = first.sip_uri().is_some_and(|u| u.params.has("lr"));
        if loose {
            return (self.remote_target.clone(), self.route_set.iter().map(|r| r.to_string()).collect());
        }
        let mut routes: Vec<String> = self.route_set[1..].iter().map(|r| r.to_string()).collect();
        routes.push(NameAddr::new(self.remote_target.clone()).to_string());
        (first.uri.clone(), routes)
    }

    /// Checks a request received in this dialog and updates the remote CSeq and target.
    pub fn on_request(&mut self, req: &Request) -> Result<(), DialogError> {
        let seq = req.headers.cseq()?.seq;
        if req.method != Method::Ack && req.method != Method::Cancel {
            if let Some(last) = self.remote_seq {
                if seq <= last {
                    return Err(DialogError::OutOfOrder { got: seq, last });
                }
            }
            self.remote_seq = Some(seq);
        }
        if is_target_refresh(&req.method) {
            if let Some(target) = remote_target(req.headers.contacts()?) {
                self.remote_target = target;
            }
        }
        Ok(())
    }

    /// Updates the dialog from a response to a request we sent in it (or to the initial INVITE).
    pub fn on_response(&mut self, method: &Method, resp: &Response) -> Result<(), DialogError> {
        if resp.is_success() && *method == Method::Invite {
            self.state = DialogState::Confirmed;
        }
        if resp.is_success() && is_target_refresh(method) {
            if let Some(target) = remote_target(resp.headers.contacts()?) {
                self.remote_target = target;
            }
        }
        Ok(())
    }

    /// The Replaces value naming this dialog, for an attended transfer (RFC 3891): the
    /// transfer target will see our remote tag as its local (to-) tag.
    pub fn replaces(&self) -> Replaces {
        Replaces {
            call_id: self.id.call_id.clone(),
            to_tag: self.id.remote_tag.clone(),
            from_tag: self.id.local_tag.clone(),
            early_only: false,
        }
    }
}

fn without_tag(mut a: NameAddr) -> NameAddr {
    a.params.remove("tag");
    a
}

fn remote_target(contacts: Vec<NameAddr>) -> Option<Uri> {
    contacts.into_iter().next().map(|c| c.uri)
}

fn is_target_refresh(m: &Method) -> bool {
    matches!(m, Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer)
}

fn insert_route_after_via(r: &mut Request, route: &str) {
    let mut rebuilt = crate::header::Headers::new();
    let mut inserted = false;
    for h in r.headers.iter() {
        if !inserted && h.kind != HeaderName::Via {
            rebuilt.push(HeaderName::Route, route);
            inserted = true;
        }
        rebuilt.push_raw(&h.name, h.value.clone(), h.offset);
    }
    r.headers = rebuilt;
}

#[cfg(test)]
mod tests;

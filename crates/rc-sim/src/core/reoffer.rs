//! rc-sim re-offers a client's media on its own, as RingCentral does:
//!
//! - **another media server** takes the call over (a takeover with `*83`, a failover): a
//!   re-INVITE whose offer comes from a new port, so new ICE credentials, a new DTLS
//!   certificate and fingerprint, a new address (ringcentral-web-phone #402, #314);
//! - **an UPDATE with an offer after a warm transfer** (ringcentral-web-phone PR #407), when
//!   [`super::Faults::update_after_warm_transfer`] is on. A client that answers such an UPDATE
//!   with a 200 without SDP loses the call, as reported there: rc-sim hangs it up.
//!
//! Either way the client's answer goes to the new port, which the hub then connects to the
//! leg's partner; the old port is closed.

use super::calls::Side;
use super::{endpoint, Core};
use crate::hub::{HubCommand, PortId};
use sip::{HeaderName, Method, NameAddr, Response, TransactionKey, WithBody};
use std::time::Instant;

/// A re-offer on a leg, waiting for its port's offer and then for the client's answer.
#[derive(Debug, Clone)]
pub struct Reoffer {
    /// The new port (the other media server).
    pub port: PortId,
    /// `INVITE` or `UPDATE`.
    pub method: Method,
    /// The request's client transaction, once sent.
    pub key: Option<TransactionKey>,
}

impl Core {
    /// Moves the answered call of extension `number` to another media server: a re-INVITE
    /// with a new port's offer. False when the number has no answered call with a client.
    pub fn move_media(&mut self, number: &str, now: Instant) -> bool {
        let Some((id, side)) = self.calls.answered_leg_of(number) else { return false };
        self.reoffer_leg(id, side, Method::Invite);
        self.flush(now);
        true
    }

    /// Starts a re-offer of leg `side` of call `id` in a `method` request from a new port.
    pub(super) fn reoffer_leg(&mut self, id: u64, side: Side, method: Method) {
        let port = self.new_port();
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = call.leg_mut(side);
        if leg.dialog.is_none() || leg.reoffer.is_some() {
            return;
        }
        leg.reoffer = Some(Reoffer { port, method, key: None });
        self.hub(HubCommand::Open { port, offer: None });
    }

    /// The new port of a re-offer made its offer (or failed): send it to the client.
    pub(super) fn send_reoffer(&mut self, id: u64, side: Side, port: PortId, offer: Result<String, String>, now: Instant) {
        let Ok(offer) = offer else {
            self.forget_reoffer(id, side);
            return self.hub(HubCommand::Close(port));
        };
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = call.leg_mut(side);
        let conn = leg.conn;
        let local = endpoint(&self.conns, conn);
        let (Some(dialog), Some(reoffer)) = (leg.dialog.as_mut(), leg.reoffer.as_mut()) else { return };
        let mut request = dialog.new_request(reoffer.method.clone(), &local, &mut self.rng);
        request.headers.push(HeaderName::Contact, NameAddr::new(local.contact.clone()).to_string());
        request.set_body("application/sdp", offer.as_bytes());
        let key = self.send_request(conn, request, now);
        if let Some(r) = self.calls.get_mut(id).and_then(|c| c.leg_mut(side).reoffer.as_mut()) {
            r.key = key;
        }
    }

    /// The client's answer to a re-offer on (`id`, `side`), if `key` is that re-offer's: true
    /// when it was (and is handled).
    pub(super) fn on_reoffer_response(&mut self, id: u64, side: Side, key: &TransactionKey, resp: &Response, now: Instant) -> bool {
        let Some(call) = self.calls.get_mut(id) else { return false };
        let leg = call.leg_mut(side);
        let Some(reoffer) = leg.reoffer.clone().filter(|r| r.key.as_ref() == Some(key)) else { return false };
        if resp.status < 200 {
            return true;
        }
        leg.reoffer = None;
        if resp.is_success() && reoffer.method == Method::Invite {
            let (conn, local) = (leg.conn, endpoint(&self.conns, leg.conn));
            if let Some(d) = leg.dialog.as_mut() {
                let _ = d.on_response(&Method::Invite, resp);
                let ack = d.ack(resp.headers.cseq().map(|c| c.seq).unwrap_or_default(), &local, &mut self.rng);
                self.send_stateless(conn, ack);
            }
        }
        match (resp.is_success(), resp.body.is_empty()) {
            (true, false) => self.take_new_port(id, side, reoffer.port, String::from_utf8_lossy(&resp.body).into_owned()),
            (true, true) => {
                // An offer answered without an answer: the media cannot move, the call is lost.
                self.hub(HubCommand::Close(reoffer.port));
                self.hang_up(id, now);
            }
            (false, _) => self.hub(HubCommand::Close(reoffer.port)),
        }
        true
    }

    /// The leg's media now ends at `port`, which takes `answer` and hears the leg's partner.
    fn take_new_port(&mut self, id: u64, side: Side, port: PortId, answer: String) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let partner = call.peer_of(side).and_then(|p| call.leg(p).port);
        let old = call.leg_mut(side).port.replace(port);
        self.hub(HubCommand::RemoteSdp { port, sdp: answer, is_offer: false });
        if let Some(p) = partner {
            self.hub(HubCommand::Connect(port, p));
        }
        self.close_port(old);
    }

    fn forget_reoffer(&mut self, id: u64, side: Side) {
        if let Some(call) = self.calls.get_mut(id) {
            call.leg_mut(side).reoffer = None;
        }
    }
}

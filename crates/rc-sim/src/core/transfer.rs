//! Moving a party elsewhere: cold transfer (REFER), callflip, park and retrieval.
//!
//! Every leg's media ends at its own hub port, so moving a party never renegotiates with it:
//! the kept party's leg moves into a new call, the target's devices are rung with offers from
//! new ports, and when one answers the hub connects the kept party's port to it. The kept
//! party's client sees nothing but the audio changing.

use super::calls::{Call, Leg, LegState, Side, Transfer};
use super::{endpoint, ConnId, Core};
use sip::{builder, HeaderName, Method, Request, WithBody};
use std::time::Instant;

/// The first park orbit; RingCentral's are 8xx.
const FIRST_ORBIT: u32 = 801;

impl Core {
    /// A REFER on an answered call: cold transfer of the other party to Refer-To.
    pub(super) fn on_refer(&mut self, conn: ConnId, req: &Request, now: Instant) {
        let found = req.headers.call_id().ok().and_then(|c| self.calls.find(c));
        let Some((id, side)) = found else {
            return self.respond(conn, req, 481, None, now);
        };
        let target = req.headers.refer_to().ok().flatten();
        let target_number = target.as_ref().and_then(|t| t.sip_uri()).and_then(|u| u.user_decoded());
        let replaces = target.as_ref().and_then(|t| t.embedded_replaces());
        match (target_number, replaces) {
            (Some(number), None) => {
                self.respond(conn, req, 202, None, now);
                if !self.start_transfer(id, side, &number, true, now) {
                    self.notify_transferor(id, side, 480, now);
                }
            }
            (Some(_), Some(Ok(replaces))) => self.warm_transfer(conn, id, side, &replaces, req, now),
            _ => self.respond(conn, req, 400, None, now),
        }
    }

    /// An attended transfer: the transferor talks to A in call `id` and to C in the call that
    /// `replaces` names; A and C are connected to each other and the transferor's two legs end.
    fn warm_transfer(&mut self, conn: ConnId, id: u64, side: Side, replaces: &sip::Replaces, req: &Request, now: Instant) {
        let other = self.calls.find(&replaces.call_id).filter(|(other, _)| *other != id);
        let kept = self.calls.get(id).and_then(|c| c.peer_of(side));
        let other_kept = other.and_then(|(o, s)| self.calls.get(o).and_then(|c| c.peer_of(s)));
        let (Some((other_id, other_side)), Some(kept), Some(other_kept)) = (other, kept, other_kept) else {
            // RFC 3891: the dialog to replace does not exist (or is not answered).
            return self.respond(conn, req, 481, None, now);
        };
        if self.is_bot_call(id) || self.is_bot_call(other_id) {
            return self.respond(conn, req, 488, None, now);
        }
        self.respond(conn, req, 202, None, now);
        let (Some(first), Some(second)) = (self.calls.remove(id), self.calls.remove(other_id)) else { return };
        let (a_leg, t1) = split_legs(first, kept, side);
        let (mut c_leg, t2) = split_legs(second, other_kept, other_side);
        let (a_port, c_port) = (a_leg.port, c_leg.port);
        let mut call = self.call_around(a_leg, now);
        call.anchored = true;
        call.ring_deadline = None;
        c_leg.state = LegState::Answered;
        call.callees.push(c_leg);
        call.answered = Some(0);
        let new_id = call.id;
        self.calls.insert(call);
        if self.faults.update_after_warm_transfer {
            for side in [Side::Caller, Side::Callee(0)] {
                self.reoffer_leg(new_id, side, Method::Update);
            }
        }
        if let (Some(a), Some(c)) = (a_port, c_port) {
            for p in [a, c] {
                self.hub(crate::hub::HubCommand::Music(p, false));
            }
            self.hub(crate::hub::HubCommand::Connect(a, c));
        }
        self.release_transferor(Transfer { transferor: t1, notify: true }, now);
        self.release_transferor(Transfer { transferor: t2, notify: false }, now);
    }

    /// Connects the party talking to `transferor` with the devices of `target`. False (and
    /// nothing changed) when the target has no registered device.
    pub(super) fn start_transfer(&mut self, id: u64, transferor: Side, target: &str, notify: bool, now: Instant) -> bool {
        let devices = self
            .cfg
            .extension_by_number(target)
            .map(|(ext, _)| self.registrar.bindings_for(ext, now))
            .unwrap_or_default();
        let Some(kept) = self.calls.get(id).and_then(|c| c.peer_of(transferor)) else { return false };
        if devices.is_empty() || self.is_bot_call(id) {
            return false;
        }
        let Some(old) = self.calls.remove(id) else { return false };
        let (kept_leg, transferor_leg) = split_legs(old, kept, transferor);
        let mut call = self.call_around(kept_leg, now);
        call.anchored = true;
        call.transfer = Some(Transfer { transferor: transferor_leg, notify });
        let new_id = call.id;
        self.calls.insert(call);
        for device in devices {
            self.ring_device(new_id, &device, now);
        }
        true
    }

    /// A new call whose caller side is an existing, answered leg.
    pub(super) fn call_around(&mut self, leg: Leg, now: Instant) -> Call {
        let mut call = self.new_call(leg.conn, leg.ext.unwrap_or(0), leg.invite.clone(), now);
        call.caller = leg;
        call.caller.state = LegState::Answered;
        call.caller_name = call.caller.number.clone();
        call
    }

    /// A transfer's callee answered: connect it with the kept party and let the transferor go.
    pub(super) fn transfer_answered(&mut self, id: u64, i: usize, _answer: Vec<u8>, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let Some(transfer) = call.transfer.take() else { return };
        call.answered = Some(i);
        call.ring_deadline = None;
        let leg = &mut call.callees[i];
        leg.state = LegState::Answered;
        let (conn, seq, port) = (leg.conn, leg.invite.headers.cseq().map(|c| c.seq).unwrap_or_default(), leg.port);
        let local = endpoint(&self.conns, conn);
        let ack = leg.dialog.as_ref().map(|d| d.ack(seq, &local, &mut self.rng));
        let kept = call.caller.port;
        if let Some(ack) = ack {
            self.send_stateless(conn, ack);
        }
        if let (Some(kept), Some(port)) = (kept, port) {
            self.hub(crate::hub::HubCommand::Connect(kept, port));
            self.hub(crate::hub::HubCommand::Music(kept, false));
        }
        self.cancel_forks(id, Some(i), now);
        self.tell_others_already_processed(id, i, now);
        self.release_transferor(transfer, now);
    }

    /// Tells a REFER's sender how it went (NOTIFY with a sipfrag), then hangs it up.
    fn release_transferor(&mut self, t: Transfer, now: Instant) {
        let mut leg = t.transferor;
        self.close_port(leg.port.take());
        let local = endpoint(&self.conns, leg.conn);
        let Some(dialog) = leg.dialog.as_mut() else { return };
        if t.notify {
            let notify = sipfrag_notify(dialog, 200, &local, &mut self.rng);
            self.send_request(leg.conn, notify, now);
        }
        let bye = dialog.new_request(Method::Bye, &local, &mut self.rng);
        self.send_request(leg.conn, bye, now);
    }

    fn notify_transferor(&mut self, id: u64, side: Side, status: u16, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = call.leg_mut(side);
        let conn = leg.conn;
        let local = endpoint(&self.conns, conn);
        if let Some(dialog) = leg.dialog.as_mut() {
            let notify = sipfrag_notify(dialog, status, &local, &mut self.rng);
            self.send_request(conn, notify, now);
        }
    }

    /// Every transfer callee failed: the kept party and the transferor talk again.
    pub(super) fn transfer_failed(&mut self, id: u64, now: Instant) {
        let Some(mut call) = self.calls.remove(id) else { return };
        let Some(t) = call.transfer.take() else { return };
        let mut restored = self.call_around(call.caller, now);
        restored.callees.push(t.transferor);
        restored.callees[0].state = LegState::Answered;
        restored.answered = Some(0);
        restored.ring_deadline = None;
        let new_id = restored.id;
        self.calls.insert(restored);
        if t.notify {
            self.notify_transferor(new_id, Side::Callee(0), 480, now);
        }
    }

    /// callpark: the other party waits in an orbit; the parker is released.
    pub(super) fn park(&mut self, id: u64, parker: Side) -> Option<String> {
        let kept = self.calls.get(id).and_then(|c| c.peer_of(parker))?;
        if self.is_bot_call(id) {
            return None;
        }
        let old = self.calls.remove(id)?;
        let (kept_leg, parker_leg) = split_legs(old, kept, parker);
        let orbit = (FIRST_ORBIT..).map(|n| n.to_string()).find(|o| !self.parked.contains_key(o))?;
        let mut parker_leg = parker_leg;
        self.close_port(parker_leg.port.take());
        if let Some(p) = kept_leg.port {
            self.hub(crate::hub::HubCommand::Music(p, true));
        }
        self.parked.insert(orbit.clone(), kept_leg);
        self.released.insert(parker_leg.call_id.clone(), parker_leg);
        Some(orbit)
    }

    /// An INVITE to `*8xx`: connect the caller with the party parked there; false when the
    /// orbit is empty. The retriever's offer is answered by a new port, which the hub then
    /// connects to the parked party's port.
    pub(super) fn retrieve(&mut self, conn: ConnId, caller_ext: usize, orbit: &str, req: &Request, now: Instant) -> bool {
        let Some(parked) = self.parked.remove(orbit) else { return false };
        let mut call = self.new_call(conn, caller_ext, req.clone(), now);
        call.ring_deadline = None;
        call.callees.push(parked);
        call.answered = Some(0);
        let id = call.id;
        self.calls.insert(call);
        self.caller_ringing(id, now);
        self.anchor_caller(id);
        true
    }

    /// A BYE from a party waiting in a park orbit: it gave up.
    pub(super) fn bye_of_parked(&mut self, conn: ConnId, req: &Request, now: Instant) -> bool {
        let Ok(call_id) = req.headers.call_id() else { return false };
        let Some(orbit) = self.parked.iter().find(|(_, l)| l.call_id == call_id).map(|(o, _)| o.clone()) else { return false };
        let leg = self.parked.remove(&orbit).expect("found above");
        self.close_port(leg.port);
        self.respond(conn, req, 200, None, now);
        true
    }

    /// A BYE from a leg that was already released (parker, transferor): just say 200.
    pub(super) fn bye_of_released(&mut self, conn: ConnId, req: &Request, now: Instant) -> bool {
        let Ok(call_id) = req.headers.call_id() else { return false };
        if self.released.remove(call_id).is_none() {
            return false;
        }
        self.respond(conn, req, 200, None, now);
        true
    }
}

/// Takes a call apart into the leg on `keep` and the leg on `other`.
pub(super) fn split_legs(call: Call, keep: Side, other: Side) -> (Leg, Leg) {
    let Call { caller, callees, .. } = call;
    let mut caller = Some(caller);
    let mut callees: Vec<Option<Leg>> = callees.into_iter().map(Some).collect();
    let mut take = |side: Side| {
        let leg = match side {
            Side::Caller => caller.take(),
            Side::Callee(i) => callees.get_mut(i).and_then(Option::take),
        };
        leg.expect("keep and other are two different, existing sides of the call")
    };
    let kept = take(keep);
    (kept, take(other))
}

/// A NOTIFY for the implicit REFER subscription (RFC 3515) carrying `SIP/2.0 {status}`.
fn sipfrag_notify(dialog: &mut sip::Dialog, status: u16, local: &builder::LocalEndpoint, rng: &mut rand::rngs::StdRng) -> Request {
    let mut notify = dialog.new_request(Method::Notify, local, rng);
    notify.headers.push(HeaderName::Event, "refer");
    notify.headers.push(HeaderName::SubscriptionState, "terminated;reason=noresource");
    let frag = format!("SIP/2.0 {status} {}\r\n", sip::message::reason_phrase(status));
    notify.set_body("message/sipfrag;version=2.0", frag);
    notify
}

//! Calls between clients run their media through the hub (`crate::hub`): every leg has a
//! port; rc-sim answers the caller's offer with its port's answer and offers its own port's SDP
//! to the callee, as RingCentral's media servers do. The core decides which ports are
//! connected; the hub carries the audio, plays music on hold and records.

use super::calls::{LegState, Side};
use super::registrar::Binding;
use super::{endpoint, Core, Output};
use crate::hub::{HubCommand, HubReport, PortId};
use serde::Serialize;
use sip::{builder, HeaderName, NameAddr, Request, WithBody};
use std::time::Instant;

/// A call recording the hub wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingInfo {
    /// The call (admin id) it belongs to, when known.
    pub call: u64,
    /// The WAV file.
    pub path: String,
    /// Its length in seconds.
    pub seconds: f64,
}

impl Core {
    /// Where call recordings are written.
    pub fn set_recordings_dir(&mut self, dir: std::path::PathBuf) {
        self.recordings_dir = dir;
    }

    /// The call recordings written so far.
    pub fn recordings(&self) -> &[RecordingInfo] {
        &self.recordings
    }

    pub(super) fn new_port(&mut self) -> PortId {
        self.next_port += 1;
        self.next_port
    }

    pub(super) fn hub(&mut self, command: HubCommand) {
        self.out.push_back(Output::Hub(command));
    }

    /// Anchors call `id`: its caller's offer is answered by a new port.
    pub(super) fn anchor_caller(&mut self, id: u64) {
        let port = self.new_port();
        let Some(call) = self.calls.get_mut(id) else { return };
        call.anchored = true;
        call.caller.port = Some(port);
        let body = &call.caller.invite.body;
        let offer = (!body.is_empty()).then(|| String::from_utf8_lossy(body).into_owned());
        self.hub(HubCommand::Open { port, offer });
    }

    /// Rings `device` once a new port has made the offer it will get.
    pub(super) fn ring_through_hub(&mut self, id: u64, device: Binding) {
        let port = self.new_port();
        self.pending_rings.insert(port, (id, device));
        self.hub(HubCommand::Open { port, offer: None });
    }

    /// What the hub reports.
    pub fn on_hub_report(&mut self, report: HubReport, now: Instant) {
        match report {
            HubReport::Sdp { port, result } => self.on_port_sdp(port, result, now),
            HubReport::Recorded { port, path, seconds } => {
                let call = self.calls.find_port(port).map_or(0, |(id, _)| id);
                self.recordings.push(RecordingInfo { call, path, seconds });
            }
        }
        self.flush(now);
    }

    fn on_port_sdp(&mut self, port: PortId, result: Result<String, String>, now: Instant) {
        if let Some((id, device)) = self.pending_rings.remove(&port) {
            return self.ring_with_port(id, &device, port, result, now);
        }
        if let Some((id, side)) = self.calls.find_reoffer_port(port) {
            return self.send_reoffer(id, side, port, result, now);
        }
        let Some((id, side)) = self.calls.find_port(port) else {
            return self.hub(HubCommand::Close(port));
        };
        let sdp = match result {
            Ok(sdp) => sdp,
            Err(_) => return self.port_failed(id, side, now),
        };
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = call.leg_mut(side);
        if let Some(reinvite) = leg.pending_reinvite.take() {
            return self.answer_reinvite(id, side, &reinvite, &sdp, now);
        }
        if side == Side::Caller && leg.state != LegState::Answered {
            leg.port_sdp = Some(sdp);
            if call.answered.is_some() {
                self.connect_and_answer(id, now);
            }
        }
    }

    fn ring_with_port(&mut self, id: u64, device: &Binding, port: PortId, result: Result<String, String>, now: Instant) {
        let still_ringing = self.calls.get(id).is_some_and(|c| c.answered.is_none() || c.transfer.is_some());
        match result {
            Ok(offer) if still_ringing => self.send_ringing_invite(id, device, Some((port, offer)), now),
            _ => {
                self.hub(HubCommand::Close(port));
                let nothing_left = self.calls.get(id).is_some_and(|c| c.answered.is_none() && !c.any_ringing()) && !self.pending_rings.values().any(|(c, _)| *c == id);
                if nothing_left {
                    self.give_up(id, 500, now);
                }
            }
        }
    }

    /// A port could not be made: the call cannot have media.
    fn port_failed(&mut self, id: u64, side: Side, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        if let Some(reinvite) = call.leg_mut(side).pending_reinvite.take() {
            let conn = call.leg(side).conn;
            return self.respond(conn, &reinvite, 488, None, now);
        }
        if side == Side::Caller && call.caller.state != LegState::Answered {
            self.fail_caller_with(id, 488, "Not Acceptable Here", now);
        }
    }

    /// The caller of an anchored call gets its 200 once a callee answered and its port's
    /// answer is ready; the two ports are connected.
    pub(super) fn connect_and_answer(&mut self, id: u64, now: Instant) {
        let Some(call) = self.calls.get(id) else { return };
        let Some(i) = call.answered else { return };
        let (Some(caller_port), Some(sdp)) = (call.caller.port, call.caller.port_sdp.clone()) else { return };
        if let Some(p) = call.callees[i].port {
            self.hub(HubCommand::Connect(caller_port, p));
            self.hub(HubCommand::Music(p, false));
        }
        self.answer_caller(id, sdp.into_bytes(), now);
    }

    /// A re-INVITE on an anchored leg (hold, unhold, ICE restart): its own port answers.
    pub(super) fn reinvite_port(&mut self, id: u64, side: Side, req: Request, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = call.leg_mut(side);
        let conn = leg.conn;
        let Some(port) = leg.port else { return self.respond(conn, &req, 488, None, now) };
        if leg.dialog.as_mut().is_some_and(|d| d.on_request(&req).is_err()) {
            return self.respond(conn, &req, 500, None, now);
        }
        if leg.pending_reinvite.is_some() {
            return self.respond(conn, &req, 491, None, now);
        }
        if req.body.is_empty() {
            return self.respond(conn, &req, 488, None, now);
        }
        let sdp = String::from_utf8_lossy(&req.body).into_owned();
        let holding = matches!(direction(&sdp), "sendonly" | "inactive");
        leg.pending_reinvite = Some(req);
        self.hub(HubCommand::Hold(port, holding));
        self.hub(HubCommand::RemoteSdp { port, sdp, is_offer: true });
    }

    fn answer_reinvite(&mut self, id: u64, side: Side, req: &Request, sdp: &str, now: Instant) {
        let Some(call) = self.calls.get(id) else { return };
        let leg = call.leg(side);
        let mut ok = builder::response(req, 200, Some(&leg.local_tag));
        let local = endpoint(&self.conns, leg.conn);
        ok.headers.push(HeaderName::Contact, NameAddr::new(local.contact).to_string());
        ok.set_body("application/sdp", sdp.as_bytes());
        let conn = leg.conn;
        self.send_response(conn, ok, now);
    }

    /// Closes the port of a leg that is gone.
    pub(super) fn close_port(&mut self, port: Option<PortId>) {
        if let Some(p) = port {
            self.hub(HubCommand::Close(p));
        }
    }

    /// Closes every port of a call that is over.
    pub(super) fn close_call_ports(&mut self, call: &super::calls::Call) {
        for port in std::iter::once(call.caller.port).chain(call.callees.iter().map(|l| l.port)) {
            self.close_port(port);
        }
        if let Some(t) = &call.transfer {
            self.close_port(t.transferor.port);
        }
    }

    /// startcallrecord / stopcallrecord on the leg at `side`: the hub records that leg with
    /// whoever it is connected to. False when the call's media does not pass through rc-sim.
    pub(super) fn record(&mut self, id: u64, side: Side, on: bool) -> bool {
        let Some(port) = self.calls.get(id).and_then(|c| c.leg(side).port) else { return false };
        let path = on.then(|| self.recordings_dir.join(format!("recording-{id}-{port}-{}.wav", super::unguessable())));
        self.hub(HubCommand::Record(port, path));
        true
    }
}

/// The direction attribute of the first media section (`sendrecv` when none is written).
fn direction(sdp: &str) -> &str {
    let media = sdp.find("\nm=").map_or(sdp, |at| &sdp[at..]);
    media
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix("a="))
        .find(|a| matches!(*a, "sendrecv" | "sendonly" | "recvonly" | "inactive"))
        .unwrap_or("sendrecv")
}

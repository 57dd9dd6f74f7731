//! RingCentral control: XML MESSAGEs before answer, JSON INFOs in a call.

use super::bots::BotKind;
use super::calls::{LegState, Side};
use super::{endpoint, ConnId, Core};
use rc_dialect::control::{self, CommandResult};
use rc_dialect::message::{cmd, RcMessage};
use sip::builder::{self, RequestParts};
use sip::{Method, NameAddr, Request, SipUri, WithBody};
use std::time::{Duration, Instant};

/// How much longer a call rings once the callee starts typing a reply.
const REPLY_EXTRA_RING: Duration = Duration::from_secs(60);

impl Core {
    pub(super) fn on_message(&mut self, conn: ConnId, req: &Request, now: Instant) {
        self.respond(conn, req, 200, None, now);
        let is_rc = req.headers.content_type().ok().flatten().is_some_and(|c| c.is("x-rc/agent"));
        if !is_rc {
            return;
        }
        let Ok(msg) = RcMessage::parse(&String::from_utf8_lossy(&req.body)) else { return };
        let found = req.headers.call_id().ok().and_then(|c| self.calls.find(c));
        let Some((id, Side::Callee(i))) = found else { return };
        match msg.cmd() {
            Some(cmd::CLIENT_REJECT) => self.decline_fork(id, i, now),
            Some(cmd::CLIENT_VOICEMAIL) => self.divert_to_bot(id, BotKind::Voicemail, now),
            Some(cmd::CLIENT_FORWARD) => self.forward(id, msg.bdy("Phn").unwrap_or_default(), now),
            Some(cmd::CLIENT_START_REPLY) => {
                if let Some(call) = self.calls.get_mut(id) {
                    call.ring_deadline = call.ring_deadline.map(|d| d.max(now) + REPLY_EXTRA_RING);
                }
            }
            Some(cmd::CLIENT_REPLY) => self.reply_session_close(id, i, &msg, now),
            _ => {}
        }
    }

    /// One device declines: stop ringing it; when none is left, the caller hears "declined".
    fn decline_fork(&mut self, id: u64, i: usize, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = &mut call.callees[i];
        if !matches!(leg.state, LegState::Trying | LegState::Ringing) {
            return;
        }
        leg.state = LegState::Failed;
        let (conn, cancel) = (leg.conn, builder::cancel(&leg.invite));
        self.send_request(conn, cancel, now);
        if self.calls.get(id).is_some_and(|c| !c.any_ringing() && c.answered.is_none()) {
            self.divert_to_bot(id, BotKind::Announcement, now);
        }
    }

    /// The callee forwards: stop ringing its devices and ring the target's.
    fn forward(&mut self, id: u64, target: &str, now: Instant) {
        self.cancel_forks(id, None, now);
        let devices = self
            .cfg
            .extension_by_number(target)
            .map(|(ext, _)| self.registrar.bindings_for(ext, now))
            .unwrap_or_default();
        if devices.is_empty() {
            return self.fail_caller_with(id, 480, "Forward Target Unavailable", now);
        }
        for device in devices {
            self.ring_device(id, &device, now);
        }
    }

    /// The callee replied with a text: end the call and tell the callee what the caller answered.
    fn reply_session_close(&mut self, id: u64, i: usize, reply: &RcMessage, now: Instant) {
        let Some(call) = self.calls.get(id) else { return };
        let leg = &call.callees[i];
        let cln = leg.auth_id.clone().or_else(|| leg.ext.map(|e| self.cfg.extensions[e].authorization_id.clone())).unwrap_or_default();
        let body = RcMessage {
            hdr: call.rc_header(&leg.number, cmd::SESSION_CLOSE),
            bdy: vec![
                ("Cln".into(), cln),
                ("Sts".into(), "0".into()),
                ("Resp".into(), self.reply_answer.resp.clone()),
                ("ExtNfo".into(), self.reply_answer.ext_nfo.clone()),
                ("Phn".into(), call.caller.number.clone()),
                ("Nm".into(), call.caller_name.clone()),
                ("RepTp".into(), reply.bdy("RepTp").unwrap_or("0").into()),
            ],
        };
        let (target, conn, ext) = (leg.invite.uri.clone(), leg.conn, leg.ext);
        self.fail_caller_with(id, 480, "Replied With Text", now);
        self.send_rc_to_line(ext, (conn, target), &body, now);
    }

    /// Tells the other ringing devices that device `answered` took the call (Cmd 7).
    pub(super) fn tell_others_already_processed(&mut self, id: u64, answered: usize, now: Instant) {
        let Some(call) = self.calls.get(id) else { return };
        let mut messages = Vec::new();
        for (i, leg) in call.callees.iter().enumerate() {
            if i == answered || !matches!(leg.state, LegState::Trying | LegState::Ringing) {
                continue;
            }
            let cln = leg.auth_id.clone().or_else(|| leg.ext.map(|e| self.cfg.extensions[e].authorization_id.clone())).unwrap_or_default();
            let msg = RcMessage {
                hdr: call.rc_header(&leg.number, cmd::ALREADY_PROCESSED),
                bdy: vec![
                    ("Cln".into(), cln),
                    ("IP".into(), "4294967295".into()),
                    ("Sts".into(), "0".into()),
                    ("CtrlCln".into(), String::new()),
                ],
            };
            messages.push((leg.ext, leg.conn, leg.invite.uri.clone(), msg));
        }
        for (ext, conn, target, msg) in messages {
            self.send_rc_to_line(ext, (conn, target), &msg, now);
        }
    }

    /// Sends a control message to every registered device of extension `ext`, as RingCentral
    /// does; each device keeps only those whose `Cln` is its own. Without an extension, to the
    /// one device `fallback`.
    fn send_rc_to_line(&mut self, ext: Option<usize>, fallback: (ConnId, sip::Uri), msg: &RcMessage, now: Instant) {
        let devices = ext.map(|e| self.registrar.bindings_for(e, now)).unwrap_or_default();
        if devices.is_empty() {
            return self.send_rc_message(fallback.0, fallback.1, msg, now);
        }
        for device in devices {
            let target = sip::Uri::parse(&device.contact).unwrap_or_else(|_| fallback.1.clone());
            self.send_rc_message(device.conn, target, msg, now);
        }
    }

    /// Sends an `x-rc/agent` MESSAGE to a device, as RingCentral's servers do.
    pub(super) fn send_rc_message(&mut self, conn: ConnId, target: sip::Uri, msg: &RcMessage, now: Instant) {
        let domain = self.cfg.domain.clone();
        let local = endpoint(&self.conns, conn);
        let tag = builder::new_tag(&mut self.rng);
        let to_number = msg.hdr("To").unwrap_or_default();
        let parts = RequestParts {
            method: Method::Message,
            uri: target,
            from: NameAddr::new(SipUri::new(Some("#1024016"), &domain)).with_param("tag", Some(&tag)),
            to: NameAddr::new(SipUri::new(Some(to_number), &domain)),
            call_id: builder::new_call_id(&mut self.rng),
            cseq: builder::new_cseq(&mut self.rng),
        };
        let text = msg.to_string();
        let request = builder::message(&local, parts, "x-rc/agent", text.as_bytes(), &mut self.rng);
        self.send_request(conn, request, now);
    }

    pub(super) fn on_info(&mut self, conn: ConnId, req: &Request, now: Instant) {
        let found = req.headers.call_id().ok().and_then(|c| self.calls.find(c));
        let Some((id, side)) = found else {
            return self.respond(conn, req, 481, None, now);
        };
        self.respond(conn, req, 200, None, now);
        let Ok(control::Body::Request(request)) = control::parse(&req.body) else { return };
        let target = request.target.clone().unwrap_or_default();
        let was_recording = self.calls.get(id).is_some_and(|c| c.leg(side).recording);
        let result = match request.command.as_str() {
            "callpark" => match self.park(id, side) {
                Some(orbit) => CommandResult::new(0, "Succeeded").with("park extension", orbit),
                None => CommandResult::new(1, "Nothing to park"),
            },
            "callflip" => {
                let number = self.cfg.extension_by_number(&target).map(|(_, e)| e.number.clone());
                match number {
                    Some(n) if self.calls.get(id).is_some_and(|c| c.peer_of(side).is_some()) => {
                        CommandResult::new(0, "Succeeded").with("number", format!("+{n}")).with("target", target.clone())
                    }
                    _ => CommandResult::new(1, "Flip target unavailable"),
                }
            }
            "startcallrecord" | "stopcallrecord" => match self.record(id, side, request.command == "startcallrecord") {
                true => {
                    if let Some(call) = self.calls.get_mut(id) {
                        call.leg_mut(side).recording = request.command == "startcallrecord";
                    }
                    CommandResult::new(0, "Succeeded")
                }
                false => CommandResult::new(1, "Recording is not available for this call"),
            },
            other => CommandResult::new(1, &format!("rc-sim does not support {other} yet")),
        };
        let ok = result.succeeded();
        let command = request.command.clone();
        let body = control::Response { reqid: request.reqid, command: command.clone(), result }.to_body();
        if command == "callpark" && ok {
            if was_recording {
                // Parking ends the recording, and RingCentral says so first, on its own
                // (ringcentral-web-phone #339).
                self.send_info_to_released(req, recording_stopped_status().as_bytes(), now);
            }
            self.send_info_to_released(req, body.as_bytes(), now);
            return;
        }
        self.send_info(id, side, body.as_bytes(), now);
        if command == "callflip" && ok {
            self.start_transfer(id, side, &target, false, now);
        }
    }

    /// Sends a JSON INFO to a leg that park just released (found by the request's Call-ID).
    fn send_info_to_released(&mut self, req: &Request, body: &[u8], now: Instant) {
        let Ok(call_id) = req.headers.call_id() else { return };
        let Some(leg) = self.released.get_mut(call_id) else { return };
        let conn = leg.conn;
        let local = super::endpoint(&self.conns, conn);
        let Some(dialog) = leg.dialog.as_mut() else { return };
        let mut info = dialog.new_request(Method::Info, &local, &mut self.rng);
        info.set_body(control::CONTENT_TYPE, body);
        self.send_request(conn, info, now);
    }

    /// Sends a JSON INFO on one leg's dialog.
    fn send_info(&mut self, id: u64, side: Side, body: &[u8], now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = call.leg_mut(side);
        let conn = leg.conn;
        let local = endpoint(&self.conns, conn);
        let Some(dialog) = leg.dialog.as_mut() else { return };
        let mut info = dialog.new_request(Method::Info, &local, &mut self.rng);
        info.set_body(control::CONTENT_TYPE, body);
        self.send_request(conn, info, now);
    }
}

/// The status INFO body RingCentral sends when a recording stops without being asked to, in
/// its captured form (fixture 18: pretty-printed with three spaces, ` : ` between names and
/// values; its description is cut off in the capture, so only its first words are used).
fn recording_stopped_status() -> String {
    let status = control::Status { command: "stopcallrecord".into(), reqid: 0.into(), result: Some(CommandResult::new(0, "Recording stopped")) };
    let value = serde_json::json!({ "status": status });
    ringcentral_pretty(&value, 0)
}

/// JSON written the way RingCentral's status INFOs are: three-space indents, `" : "`.
fn ringcentral_pretty(value: &serde_json::Value, depth: usize) -> String {
    use serde_json::Value;
    let indent = |d: usize| "   ".repeat(d);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let fields: Vec<String> = map.iter().map(|(k, v)| format!("{}{} : {}", indent(depth + 1), Value::String(k.clone()), ringcentral_pretty(v, depth + 1))).collect();
            format!("{{\n{}\n{}}}", fields.join(",\n"), indent(depth))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_recording_status_has_the_captured_layout() {
        let body = super::recording_stopped_status();
        assert!(body.starts_with("{\n   \"status\" : {\n      \"command\" : \"stopcallrecord\",\n"), "{body}");
        assert!(body.contains("\n      \"result\" : {\n         \"code\" : 0,\n         \"description\" : \"Recording stopped\"\n      }"), "{body}");
        let Ok(rc_dialect::control::Body::Status(s)) = rc_dialect::control::parse(body.as_bytes()) else { panic!("{body}") };
        assert_eq!(s.command, "stopcallrecord");
    }
}

//! Registration, call set-up and the in-dialog requests relayed between legs.

use super::calls::{Call, Leg, LegState, Side};
use super::registrar::{Binding, NonceState};
use super::{endpoint, ConnId, Core};
use rc_dialect::message::{cmd, RcMessage};
use sip::auth::{Algorithm, DigestChallenge, DigestCredentials};
use sip::builder::{self, RequestParts};
use sip::{Dialog, HeaderName, Method, NameAddr, Request, Response, SipUri, TransactionKey, Uri, WithBody};
use std::time::{Duration, Instant};

/// The outcome of checking a request's credentials.
enum AuthCheck {
    /// Authenticated as extension `n`.
    Ok(usize),
    /// Challenge (again), `stale` when the nonce merely expired.
    Challenge { stale: bool },
    /// Refuse, with the reason phrase to send.
    Forbidden(&'static str),
}

impl Core {
    pub(super) fn on_request(&mut self, conn: ConnId, _key: TransactionKey, req: Request, now: Instant) {
        if self.faults.stop_answering {
            return;
        }
        if self.faults.answer_503 {
            return self.respond(conn, &req, 503, None, now);
        }
        match req.method {
            Method::Register => self.on_register(conn, &req, now),
            Method::Invite => self.on_invite(conn, req, now),
            Method::Bye => self.on_bye(conn, &req, now),
            Method::Cancel => self.on_cancel(conn, &req, now),
            Method::Message => self.on_message(conn, &req, now),
            Method::Info => self.on_info(conn, &req, now),
            Method::Options => self.on_options(conn, &req, now),
            Method::Refer => self.on_refer(conn, &req, now),
            _ => self.respond(conn, &req, 501, None, now),
        }
    }

    fn authenticate(&self, req: &Request, proxy: bool, now: Instant) -> AuthCheck {
        let header = if proxy { req.headers.proxy_authorization() } else { req.headers.authorization() };
        let value = match header {
            Ok(Some(v)) => v,
            Ok(None) => return AuthCheck::Challenge { stale: false },
            Err(_) => return AuthCheck::Forbidden("Malformed Credentials"),
        };
        let Ok(creds) = DigestCredentials::from_header(&value) else {
            return AuthCheck::Forbidden("Unsupported Credentials");
        };
        let (Some((ext, _)), Some(password)) = (self.cfg.extension_by_auth_id(&creds.username), self.cfg.password_of(&creds.username)) else {
            return AuthCheck::Forbidden("Unknown User");
        };
        match self.registrar.check_nonce(&creds.nonce, now) {
            NonceState::Unknown => return AuthCheck::Challenge { stale: false },
            NonceState::Stale => return AuthCheck::Challenge { stale: true },
            NonceState::Valid => {}
        }
        if creds.realm != self.cfg.domain || !creds.verify(req.method.as_str(), password, &req.body) {
            return AuthCheck::Forbidden("Wrong Password");
        }
        AuthCheck::Ok(ext)
    }

    /// The digest user name a request authenticated with.
    fn authorization_id_of(&self, req: &Request) -> String {
        let header = req.headers.authorization().ok().flatten();
        header.and_then(|v| DigestCredentials::from_header(&v).ok()).map(|c| c.username).unwrap_or_default()
    }

    fn challenge(&mut self, conn: ConnId, req: &Request, proxy: bool, stale: bool, now: Instant) {
        let nonce = self.registrar.new_nonce(&mut self.rng, now);
        let ch = DigestChallenge {
            realm: self.cfg.domain.clone(),
            nonce,
            opaque: None,
            algorithm: Algorithm::Md5,
            qop: None,
            stale,
        };
        let (status, name) = if proxy { (407, "Proxy-Authenticate") } else { (401, "Www-Authenticate") };
        let tag = builder::new_tag(&mut self.rng);
        let mut resp = builder::response(req, status, Some(&tag));
        resp.headers.push_raw(name, ch.to_header().to_string(), 0);
        self.send_response(conn, resp, now);
    }

    fn forbid(&mut self, conn: ConnId, req: &Request, reason: &str, now: Instant) {
        let tag = builder::new_tag(&mut self.rng);
        let resp = builder::response_with_reason(req, 403, reason, Some(&tag));
        self.send_response(conn, resp, now);
    }

    fn on_register(&mut self, conn: ConnId, req: &Request, now: Instant) {
        if self.faults.ignore_register {
            return;
        }
        if self.faults.register_503 {
            return self.respond(conn, req, 503, None, now);
        }
        self.respond(conn, req, 100, None, now);
        let ext = match self.authenticate(req, false, now) {
            AuthCheck::Ok(ext) => ext,
            AuthCheck::Challenge { stale } => return self.challenge(conn, req, false, stale, now),
            AuthCheck::Forbidden(why) => return self.forbid(conn, req, why, now),
        };
        let Some(mut contact) = req.headers.contacts().ok().and_then(|c| c.into_iter().next()) else {
            return self.respond(conn, req, 400, None, now);
        };
        let asked = contact.expires().or(req.headers.expires().ok().flatten()).unwrap_or(3600);
        let instance = contact
            .params
            .get_unquoted("+sip.instance")
            .map_or_else(|| contact.uri.to_string(), |i| i.into_owned());
        let tag = builder::new_tag(&mut self.rng);
        let limit = (asked > 0).then_some(self.cfg.max_instances_per_extension);
        if let Err(refusal) = self.registrar.admit(ext, &instance, conn, limit, now) {
            let resp = builder::response_with_reason(req, refusal.status(), refusal.reason(), Some(&tag));
            return self.send_response(conn, resp, now);
        }
        if asked == 0 {
            self.registrar.remove(ext, &instance);
        } else {
            let granted = granted_expires(asked, self.cfg.max_expires_secs);
            let contact_uri = contact.uri.to_string();
            let expires_at = now + Duration::from_secs(granted.into());
            let auth_id = self.authorization_id_of(req);
            self.reattach(conn, ext, &instance);
            self.registrar.upsert(Binding { ext, instance, auth_id, conn, contact: contact_uri, expires_at });
            contact.params.set("expires", Some(&granted.to_string()));
        }
        let mut ok = builder::response(req, 200, Some(&tag));
        ok.headers.push(HeaderName::Contact, contact.to_string());
        self.send_response(conn, ok, now);
    }

    fn on_invite(&mut self, conn: ConnId, req: Request, now: Instant) {
        let Ok(call_id) = req.headers.call_id().map(str::to_owned) else { return };
        if let Some((id, side)) = self.calls.find(&call_id) {
            return self.relay_reinvite(id, side, req, now);
        }
        if self.registrar.binding_of_conn(conn, now).is_none() {
            return self.forbid(conn, &req, "Forbidden", now);
        }
        let caller_ext = match self.authenticate(&req, true, now) {
            AuthCheck::Ok(ext) => ext,
            AuthCheck::Challenge { stale } => return self.challenge(conn, &req, true, stale, now),
            AuthCheck::Forbidden(why) => return self.forbid(conn, &req, why, now),
        };
        self.respond(conn, &req, 100, None, now);
        let target = req.uri.as_sip().and_then(|u| u.user_decoded()).unwrap_or_default();
        if let Some(bot) = super::bots::BotKind::by_number(&target) {
            return self.call_bot(conn, caller_ext, bot, req, now);
        }
        if let Some(orbit) = target.strip_prefix('*') {
            if !self.retrieve(conn, caller_ext, orbit, &req, now) {
                let tag = builder::new_tag(&mut self.rng);
                self.respond(conn, &req, 404, Some(&tag), now);
            }
            return;
        }
        let Some((target_ext, _)) = self.cfg.extension_by_number(&target) else {
            let tag = builder::new_tag(&mut self.rng);
            return self.respond(conn, &req, 404, Some(&tag), now);
        };
        let devices = self.registrar.bindings_for(target_ext, now);
        if devices.is_empty() {
            let tag = builder::new_tag(&mut self.rng);
            return self.respond(conn, &req, 480, Some(&tag), now);
        }
        let call = self.new_call(conn, caller_ext, req, now);
        let id = call.id;
        self.calls.insert(call);
        self.anchor_caller(id);
        for device in devices {
            self.ring_device(id, &device, now);
        }
    }

    pub(super) fn new_call(&mut self, conn: ConnId, caller_ext: usize, invite: Request, now: Instant) -> Call {
        let hex = |rng: &mut rand::rngs::StdRng| format!("{:016x}{:016x}", rand::RngCore::next_u64(rng), rand::RngCore::next_u64(rng));
        let caller = &self.cfg.extensions[caller_ext];
        let presented = presented_caller_id(&invite).filter(|id| caller.may_present(id));
        let caller_number = presented.unwrap_or_else(|| caller.number.clone());
        let caller_name = if caller.name.is_empty() { caller_number.clone() } else { caller.name.clone() };
        let id = self.calls.next_id();
        let sid = format!("{}", 35_000_000_000_000u64 + rand::RngCore::next_u64(&mut self.rng) % 1_000_000_000_000);
        let req_guid = format!("{{{}}}", hex(&mut self.rng).to_uppercase());
        let rc_from = format!("#{}@{}:5060", 900_000 + id, self.cfg.domain);
        let session_hex = hex(&mut self.rng);
        let session_id = format!("s-{session_hex}");
        let caller_leg = Leg {
            conn,
            call_id: invite.headers.call_id().unwrap_or_default().to_owned(),
            local_tag: builder::new_tag(&mut self.rng),
            invite,
            invite_key: None,
            dialog: None,
            state: LegState::Trying,
            number: caller_number,
            ext: Some(caller_ext),
            auth_id: None,
            pending_reinvite: None,
            recording: false,
            reoffer: None,
            port: None,
            port_sdp: None,
            party_id: format!("p-{session_hex}-1"),
            api_session: session_id.clone(),
        };
        Call {
            id,
            caller: caller_leg,
            callees: Vec::new(),
            answered: None,
            sid,
            req: req_guid,
            rc_from,
            session_id,
            caller_name,
            ring_deadline: Some(now + Duration::from_secs(self.cfg.ring_timeout_secs)),
            bot: None,
            bot_target: None,
            anchored: false,
            transfer: None,
            room: None,
        }
    }

    /// Rings one registered device for call `id`: at once with the caller's SDP (bot calls),
    /// or, when the call's media is anchored, once the hub made this leg's port and offer.
    pub(super) fn ring_device(&mut self, id: u64, device: &Binding, now: Instant) {
        if self.calls.get(id).is_some_and(|c| c.anchored) {
            return self.ring_through_hub(id, device.clone());
        }
        self.send_ringing_invite(id, device, None, now);
    }

    /// Sends the RingCentral-style INVITE of call `id` to one registered device, with the
    /// port's offer when the media is anchored, else with the caller's SDP.
    pub(super) fn send_ringing_invite(&mut self, id: u64, device: &Binding, port: Option<(crate::hub::PortId, String)>, now: Instant) {
        let Some(call) = self.calls.get(id) else { return };
        let ext = self.cfg.extensions[device.ext].clone();
        let domain = self.cfg.domain.clone();
        let api_session = call.session_id.clone();
        let party = format!("p-{}-{}", api_session.trim_start_matches("s-"), call.callees.len() + 2);
        let p_rc = RcMessage {
            hdr: call.rc_header(&ext.number, cmd::INCOMING_CALL),
            bdy: vec![
                ("SrvLvl".into(), "-149699523".into()),
                ("SrvLvlExt".into(), "406".into()),
                ("Phn".into(), call.caller.number.clone()),
                ("Nm".into(), call.caller_name.clone()),
                ("ToPhn".into(), ext.number.clone()),
                ("ToNm".into(), ext.name.clone()),
                ("RecUrl".into(), String::new()),
            ],
        };
        let local = endpoint(&self.conns, device.conn);
        let tag = builder::new_tag(&mut self.rng);
        let from = NameAddr::new(SipUri::new(Some(&call.caller.number), &domain)).with_display_name(&call.caller_name).with_param("tag", Some(&tag));
        let parts = RequestParts {
            method: Method::Invite,
            uri: Uri::parse(&device.contact).unwrap_or_else(|_| SipUri::new(Some(&ext.number), &domain).into()),
            from,
            to: NameAddr::new(SipUri::new(Some(&ext.number), &domain)),
            call_id: format!("{:016x}{:016x}", rand::RngCore::next_u64(&mut self.rng), rand::RngCore::next_u64(&mut self.rng)),
            cseq: 100_000_000 + (rand::RngCore::next_u32(&mut self.rng) % 900_000_000),
        };
        let mut invite = builder::request(&local, parts, &mut self.rng);
        invite.headers.set(HeaderName::MaxForwards, "67");
        invite.headers.push_raw("p-rc-api-ids", format!("party-id={party};session-id={}", call.session_id), 0);
        invite.headers.push_raw("p-rc-api-call-info", "callAttributes=reject,send-vm", 0);
        invite.headers.push_raw("P-rc", p_rc.to_string(), 0);
        for name in [HeaderName::AlertInfo, HeaderName::CallInfo] {
            if let Some(v) = call.caller.invite.headers.get(name.clone()) {
                invite.headers.push(name, v);
            }
        }
        match &port {
            Some((_, offer)) => invite.set_body("application/sdp", offer.as_bytes()),
            None => {
                let content_type = call.caller.invite.headers.get(HeaderName::ContentType).unwrap_or("application/sdp").to_owned();
                invite.set_body(&content_type, call.caller.invite.body.clone());
            }
        }
        let call_id = invite.headers.call_id().unwrap_or_default().to_owned();
        let key = self.send_request(device.conn, invite.clone(), now);
        let leg = Leg {
            conn: device.conn,
            call_id,
            local_tag: tag,
            invite,
            invite_key: key,
            dialog: None,
            state: LegState::Trying,
            number: ext.number.clone(),
            ext: Some(device.ext),
            auth_id: Some(device.auth_id.clone()),
            pending_reinvite: None,
            recording: false,
            reoffer: None,
            port: port.map(|(p, _)| p),
            port_sdp: None,
            party_id: party,
            api_session,
        };
        if let Some(call) = self.calls.get_mut(id) {
            call.callees.push(leg);
        }
    }

    pub(super) fn on_response(&mut self, _conn: ConnId, key: TransactionKey, resp: Response, now: Instant) {
        let Ok(call_id) = resp.headers.call_id() else { return };
        let Some((id, side)) = self.calls.find(call_id) else { return };
        if self.on_reoffer_response(id, side, &key, &resp, now) || key.method != Method::Invite {
            return;
        }
        let is_initial = match side {
            Side::Callee(i) => self.calls.get(id).is_some_and(|c| c.callees[i].invite_key.as_ref() == Some(&key)),
            Side::Caller => false,
        };
        match side {
            Side::Callee(i) if is_initial => self.callee_progress(id, i, resp, now),
            _ => self.ack_reinvite_answer(id, side, resp, now),
        }
    }

    fn callee_progress(&mut self, id: u64, i: usize, resp: Response, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = &mut call.callees[i];
        match resp.status {
            100 => {}
            101..=199 => {
                leg.state = LegState::Ringing;
                leg.dialog = Dialog::from_uac(&leg.invite, &resp).ok();
                self.caller_ringing(id, now);
            }
            200..=299 => self.callee_answered(id, i, resp, now),
            status => {
                if leg.state == LegState::Failed {
                    // rc-sim already gave up on this leg (declined, forwarded, sent to voicemail):
                    // its 487 changes nothing for the caller.
                    return;
                }
                if leg.state != LegState::Answered {
                    leg.state = LegState::Failed;
                }
                if call.answered.is_none() && !call.any_ringing() {
                    self.give_up(id, status, now);
                }
            }
        }
    }

    /// No callee will answer: the caller hears `status`, or a transfer falls back.
    pub(super) fn give_up(&mut self, id: u64, status: u16, now: Instant) {
        if self.calls.get(id).is_some_and(|c| c.transfer.is_some()) {
            self.cancel_forks(id, None, now);
            self.transfer_failed(id, now);
        } else {
            self.fail_caller(id, status, now);
        }
    }

    /// Tells the caller it rings (once). The seed SDK needs a 18x before the 200.
    pub(super) fn caller_ringing(&mut self, id: u64, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        if call.caller.state != LegState::Trying {
            return;
        }
        call.caller.state = LegState::Ringing;
        let mut resp = builder::response(&call.caller.invite, 180, Some(&call.caller.local_tag));
        // As RingCentral does: the caller learns its Call Control ids from the 18x and the 200.
        resp.headers.push_raw("p-rc-api-ids", call.caller.api_ids(), 0);
        let conn = call.caller.conn;
        self.send_response(conn, resp, now);
    }

    fn callee_answered(&mut self, id: u64, i: usize, resp: Response, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        if call.answered.is_some_and(|a| a != i) {
            return self.ack_and_bye_late_fork(id, i, &resp, now);
        }
        let leg = &mut call.callees[i];
        let mut dialog = match leg.dialog.take() {
            Some(d) => d,
            None => match Dialog::from_uac(&leg.invite, &resp) {
                Ok(d) => d,
                Err(_) => return,
            },
        };
        let _ = dialog.on_response(&Method::Invite, &resp);
        if let (true, Some(port)) = (call.anchored, leg.port) {
            let sdp = String::from_utf8_lossy(&resp.body).into_owned();
            self.out.push_back(super::Output::Hub(crate::hub::HubCommand::RemoteSdp { port, sdp, is_offer: false }));
        }
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = &mut call.callees[i];
        if call.transfer.is_some() {
            leg.dialog = Some(dialog);
            return self.transfer_answered(id, i, resp.body, now);
        }
        let invite_seq = leg.invite.headers.cseq().map(|c| c.seq).unwrap_or_default();
        let local = endpoint(&self.conns, leg.conn);
        let ack = dialog.ack(invite_seq, &local, &mut self.rng);
        let (leg_conn, body) = (leg.conn, resp.body.clone());
        leg.dialog = Some(dialog);
        leg.state = LegState::Answered;
        call.answered = Some(i);
        call.ring_deadline = None;
        self.send_stateless(leg_conn, ack);
        self.tell_others_already_processed(id, i, now);
        self.cancel_forks(id, Some(i), now);
        self.caller_ringing(id, now);
        if self.calls.get(id).is_some_and(|c| c.anchored) {
            return self.connect_and_answer(id, now);
        }
        self.answer_caller(id, body, now);
    }

    pub(super) fn answer_caller(&mut self, id: u64, sdp: Vec<u8>, now: Instant) {
        if self.is_bot_caller(id) {
            if let Some(call) = self.calls.get_mut(id) {
                call.caller.state = LegState::Answered;
            }
            let sdp = String::from_utf8_lossy(&sdp).into_owned();
            return self.out.push_back(super::Output::BotRemoteSdp { call: id, sdp });
        }
        let Some(call) = self.calls.get_mut(id) else { return };
        let tag = call.caller.local_tag.clone();
        let mut ok = builder::response(&call.caller.invite, 200, Some(&tag));
        let local = endpoint(&self.conns, call.caller.conn);
        ok.headers.push(HeaderName::Contact, NameAddr::new(local.contact).to_string());
        ok.headers.push_raw("p-rc-api-ids", call.caller.api_ids(), 0);
        ok.set_body("application/sdp", sdp);
        call.caller.dialog = Dialog::from_uas(&call.caller.invite, &tag, true).ok();
        call.caller.state = LegState::Answered;
        let conn = call.caller.conn;
        self.send_response(conn, ok, now);
    }

    fn ack_and_bye_late_fork(&mut self, id: u64, i: usize, resp: &Response, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = &mut call.callees[i];
        let Ok(mut dialog) = Dialog::from_uac(&leg.invite, resp) else { return };
        let seq = leg.invite.headers.cseq().map(|c| c.seq).unwrap_or_default();
        let conn = leg.conn;
        leg.state = LegState::Failed;
        let port = leg.port.take();
        self.close_port(port);
        let local = endpoint(&self.conns, conn);
        let ack = dialog.ack(seq, &local, &mut self.rng);
        let bye = dialog.new_request(Method::Bye, &local, &mut self.rng);
        self.send_stateless(conn, ack);
        self.send_request(conn, bye, now);
    }

    /// CANCELs every callee leg still ringing, except `keep`.
    pub(super) fn cancel_forks(&mut self, id: u64, keep: Option<usize>, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let mut cancels = Vec::new();
        for (i, leg) in call.callees.iter_mut().enumerate() {
            if Some(i) != keep && matches!(leg.state, LegState::Trying | LegState::Ringing) {
                leg.state = LegState::Failed;
                cancels.push((leg.conn, builder::cancel(&leg.invite), leg.port.take()));
            }
        }
        // Devices whose port is still being made will not be rung any more.
        let unrung: Vec<crate::hub::PortId> = self.pending_rings.iter().filter(|(_, (c, _))| *c == id).map(|(p, _)| *p).collect();
        for p in unrung {
            self.pending_rings.remove(&p);
            self.close_port(Some(p));
        }
        for (conn, cancel, port) in cancels {
            self.close_port(port);
            self.send_request(conn, cancel, now);
        }
    }

    /// Ends an unanswered call with `status` toward the caller.
    pub(super) fn fail_caller(&mut self, id: u64, status: u16, now: Instant) {
        self.fail_caller_with(id, status, "", now);
    }

    /// Ends an unanswered call with `status` and a reason phrase toward the caller.
    pub(super) fn fail_caller_with(&mut self, id: u64, status: u16, reason: &str, now: Instant) {
        self.cancel_forks(id, None, now);
        let Some(call) = self.calls.remove(id) else { return };
        self.close_call_ports(&call);
        if call.bot.is_some() {
            self.out.push_back(super::Output::StopBot(id));
        }
        let resp = builder::response_with_reason(&call.caller.invite, status, reason, Some(&call.caller.local_tag));
        self.send_response(call.caller.conn, resp, now);
    }

    fn on_bye(&mut self, conn: ConnId, req: &Request, now: Instant) {
        if self.bye_of_released(conn, req, now) {
            return;
        }
        if self.bye_of_parked(conn, req, now) {
            return;
        }
        let found = req.headers.call_id().ok().and_then(|c| self.calls.find(c));
        let Some((id, side)) = found else {
            return self.respond(conn, req, 481, None, now);
        };
        self.respond(conn, req, 200, None, now);
        if self.is_bot_call(id) {
            return self.end_bot_call(id);
        }
        let Some(call) = self.calls.get(id) else { return };
        if call.room.is_some() {
            return self.end_call(id); // a party brought into a conference leaves it
        }
        match call.peer_of(side) {
            Some(peer) => {
                self.send_bye(id, peer, now);
                self.end_call(id);
            }
            None if side == Side::Caller => self.fail_caller(id, 487, now),
            None => {}
        }
    }

    /// Forgets a call that is over and closes its media ports.
    pub(super) fn end_call(&mut self, id: u64) {
        if let Some(call) = self.calls.remove(id) {
            self.close_call_ports(&call);
        }
    }

    /// Sends BYE on one leg of an answered call.
    pub(super) fn send_bye(&mut self, id: u64, side: Side, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = call.leg_mut(side);
        let conn = leg.conn;
        let local = endpoint(&self.conns, conn);
        let Some(dialog) = leg.dialog.as_mut() else { return };
        let bye = dialog.new_request(Method::Bye, &local, &mut self.rng);
        self.send_request(conn, bye, now);
    }

    fn on_cancel(&mut self, conn: ConnId, req: &Request, now: Instant) {
        let has_invite = self.conns.get(&conn).and_then(|c| c.layer.find_invite_for_cancel(req)).is_some();
        if !has_invite {
            return self.respond(conn, req, 481, None, now);
        }
        self.respond(conn, req, 200, None, now);
        let found = req.headers.call_id().ok().and_then(|c| self.calls.find(c));
        if let Some((id, Side::Caller)) = found {
            if self.calls.get(id).is_some_and(|c| c.caller.state != LegState::Answered) {
                if self.is_bot_call(id) {
                    self.out.push_back(super::Output::StopBot(id));
                }
                self.fail_caller(id, 487, now);
            }
        }
    }

    /// A re-INVITE from a client in a call: a bot answers it itself; in a call between
    /// clients the leg's hub port does.
    fn relay_reinvite(&mut self, id: u64, side: Side, req: Request, now: Instant) {
        if self.is_bot_call(id) {
            return self.reinvite_bot(id, side, req);
        }
        self.reinvite_port(id, side, req, now)
    }

    /// The answer to a re-INVITE rc-sim sent: ACK a 2xx.
    fn ack_reinvite_answer(&mut self, id: u64, side: Side, resp: Response, now: Instant) {
        if !resp.is_success() {
            return;
        }
        let Some(call) = self.calls.get_mut(id) else { return };
        let leg = call.leg_mut(side);
        let conn = leg.conn;
        let local = endpoint(&self.conns, conn);
        if let Some(d) = leg.dialog.as_mut() {
            let _ = d.on_response(&Method::Invite, &resp);
            let seq = resp.headers.cseq().map(|c| c.seq).unwrap_or_default();
            let ack = d.ack(seq, &local, &mut self.rng);
            self.send_stateless(conn, ack);
        }
        let _ = now;
    }

    /// A callee device never answered our INVITE (timer B): that fork failed.
    pub(super) fn on_tx_timeout(&mut self, _conn: ConnId, key: &TransactionKey, now: Instant) {
        let Some((id, i)) = self.calls.find_invite(key) else { return };
        let Some(call) = self.calls.get_mut(id) else { return };
        call.callees[i].state = LegState::Failed;
        if call.answered.is_none() && !call.any_ringing() {
            self.give_up(id, 408, now);
        }
    }

    pub(super) fn ring_timeouts(&mut self, now: Instant) {
        for id in self.calls.ring_expired(now) {
            self.give_up(id, 480, now);
        }
    }

    /// A connection went away: end or cancel what ran over it.
    /// An OPTIONS: 200, or 481 when it is in a dialog rc-sim does not know (a client asking
    /// after a reconnect whether its call still exists).
    fn on_options(&mut self, conn: ConnId, req: &Request, now: Instant) {
        let in_dialog = req.headers.to().ok().is_some_and(|to| to.tag().is_some());
        let known = req.headers.call_id().ok().is_some_and(|c| self.calls.find(c).is_some());
        let status = if in_dialog && !known { 481 } else { 200 };
        self.respond(conn, req, status, None, now);
    }

    /// The calls with a leg on `conn` end (all of them, or only those not answered yet when
    /// `keep_answered`, whose device may come back).
    pub(super) fn connection_lost(&mut self, conn: ConnId, keep_answered: bool, now: Instant) {
        for (id, side) in self.calls.on_conn(conn) {
            if keep_answered && self.calls.get(id).is_some_and(Call::is_answered) {
                continue;
            }
            if self.is_bot_call(id) {
                self.end_bot_call(id);
                continue;
            }
            let Some(call) = self.calls.get_mut(id) else { continue };
            match (side, call.peer_of(side)) {
                (_, Some(peer)) => {
                    self.send_bye(id, peer, now);
                    self.end_call(id);
                }
                (Side::Caller, None) => {
                    self.cancel_forks(id, None, now);
                    self.end_call(id);
                }
                (Side::Callee(i), None) => {
                    call.callees[i].state = LegState::Failed;
                    if call.answered.is_none() && !call.any_ringing() {
                        self.give_up(id, 480, now);
                    }
                }
            }
        }
    }
}

/// RingCentral grants a little less than asked (47 s for 60 s), never more than `max`.
fn granted_expires(asked: u32, max: u32) -> u32 {
    let capped = asked.min(max);
    if capped > 20 {
        capped - 13
    } else {
        capped
    }
}

/// The caller ID asked for with `P-Asserted-Identity: sip:{number}@{domain}`.
fn presented_caller_id(invite: &Request) -> Option<String> {
    let value = invite.headers.get(HeaderName::PAssertedIdentity)?;
    NameAddr::parse(value).ok()?.sip_uri()?.user_decoded()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_are_shortened_like_ringcentral() {
        assert_eq!(granted_expires(60, 3600), 47);
        assert_eq!(granted_expires(10, 3600), 10);
        assert_eq!(granted_expires(7200, 3600), 3587);
    }
}

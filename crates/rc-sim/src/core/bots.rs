//! Calls answered by media bots: the core decides, the driver runs the media.

use super::calls::{Call, LegState, Side};
use super::{ConnId, Core, Output};
use serde::Serialize;
use sip::{builder, HeaderName, NameAddr, Request, WithBody};

/// The connection id standing for a bot on the caller side (real connections count from 1).
pub(super) const BOT_CONN: ConnId = 0;

/// The leg waiting for a bot's answer to its re-INVITE.
fn pending_side(call: &Call) -> Option<Side> {
    if call.caller.pending_reinvite.is_some() {
        return Some(Side::Caller);
    }
    call.callees.iter().position(|l| l.pending_reinvite.is_some()).map(Side::Callee)
}
use std::time::Instant;

/// The media bots rc-sim can connect a caller to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BotKind {
    /// Sends back what it hears.
    Echo,
    /// Plays a steady 440 Hz tone.
    Tone,
    /// Reports the RFC 4733 digits it receives.
    Ivr,
    /// Records what it hears to a WAV file.
    Voicemail,
    /// Plays the "call declined" announcement (three rising tones), then hangs up.
    Announcement,
    /// A conference bridge: everyone who dials the same `conf_…` number hears the others.
    Conference,
}

impl BotKind {
    /// The short number that reaches this bot.
    pub fn number(self) -> &'static str {
        match self {
            BotKind::Echo => "600",
            BotKind::Tone => "601",
            BotKind::Ivr => "602",
            BotKind::Voicemail => "603",
            BotKind::Announcement => "604",
            BotKind::Conference => "conf_",
        }
    }

    /// The bot reached by dialling `number` (short form, or `*` prefix-less names too).
    pub fn by_number(number: &str) -> Option<BotKind> {
        if number.starts_with("conf_") {
            return Some(BotKind::Conference);
        }
        [BotKind::Echo, BotKind::Tone, BotKind::Ivr, BotKind::Voicemail, BotKind::Announcement]
            .into_iter()
            .find(|b| b.number() == number || format!("{b:?}").eq_ignore_ascii_case(number))
    }
}

/// Something a bot noticed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum BotEvent {
    /// The IVR bot received a DTMF digit.
    Digit {
        /// The digit.
        digit: char,
    },
    /// The voicemail bot saved a recording.
    Recorded {
        /// The WAV file.
        path: String,
        /// Seconds of audio.
        seconds: f64,
    },
    /// The bot finished what it had to say (the announcement): rc-sim hangs up.
    Finished,
    /// The bot's media failed.
    Failed {
        /// Why.
        reason: String,
    },
}

/// A bot event with the call it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotReport {
    /// The call (admin id).
    pub call: u64,
    /// The bot.
    pub bot: BotKind,
    /// What happened.
    pub event: BotEvent,
}

impl Core {
    /// Starts a call from `conn` answered by `bot`: the driver is asked for an SDP answer.
    pub(super) fn call_bot(&mut self, conn: ConnId, caller_ext: usize, bot: BotKind, invite: Request, now: Instant) {
        let mut call: Call = self.new_call(conn, caller_ext, invite, now);
        debug_assert_eq!(call.caller.state, LegState::Trying);
        call.bot = Some(bot);
        call.ring_deadline = None;
        let offer = String::from_utf8_lossy(&call.caller.invite.body).into_owned();
        let room = (bot == BotKind::Conference).then(|| call.caller.invite.uri.as_sip().and_then(|u| u.user_decoded()).unwrap_or_default());
        if let Some(token) = &room {
            self.join_conference_session(&mut call, token);
        }
        let id = call.id;
        self.calls.insert(call);
        self.out.push_back(Output::StartBot { call: id, bot, offer, room });
    }

    /// Has bot `bot` call the extension `number` (a demo or test inbound call). The bot makes
    /// its offer first; the devices ring once it arrives ([`Core::on_bot_offer`]).
    /// With `auto_answer_ms`, the INVITE asks the device to answer by itself after that many
    /// milliseconds (`Alert-Info: Auto Answer`, `Call-Info: …;Answer-After=N`).
    /// A `conf_…` number instead has the bot join that conference room (the tone bot only).
    pub fn start_caller_bot(&mut self, bot: BotKind, number: &str, auto_answer_ms: Option<u32>, now: Instant) -> Result<u64, String> {
        if number.starts_with("conf_") {
            return self.start_room_bot(bot, number, now);
        }
        let (ext, _) = self.cfg.extension_by_number(number).ok_or(format!("no extension {number}"))?;
        if self.registrar.bindings_for(ext, now).is_empty() {
            return Err(format!("extension {number} has no registered device"));
        }
        let uri: sip::Uri = sip::SipUri::new(Some(number), &self.cfg.domain).into();
        let mut invite = Request::new(sip::Method::Invite, uri);
        invite.headers.push(HeaderName::CallId, sip::builder::new_call_id(&mut self.rng));
        if let Some(ms) = auto_answer_ms {
            invite.headers.push(HeaderName::AlertInfo, "Auto Answer");
            invite.headers.push(HeaderName::CallInfo, format!("<sip:{}>;purpose=info;Answer-After={ms}", self.cfg.domain));
        }
        let mut call = self.new_call(BOT_CONN, ext, invite, now);
        call.caller.number = format!("1650555{}", bot.number());
        call.caller.ext = None;
        call.caller_name = format!("rc-sim {bot:?} bot");
        call.bot = Some(bot);
        call.bot_target = Some(ext);
        let id = call.id;
        self.calls.insert(call);
        self.out.push_back(Output::StartCallerBot { call: id, bot });
        Ok(id)
    }

    /// A calling bot made its offer (or could not): ring the target's devices with it.
    pub fn on_bot_offer(&mut self, id: u64, offer: Result<String, String>, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let (Some(bot), Some(ext)) = (call.bot, call.bot_target) else { return };
        match offer {
            Ok(sdp) => {
                call.caller.invite.set_body("application/sdp", sdp);
                for device in self.registrar.bindings_for(ext, now) {
                    self.ring_device(id, &device, now);
                }
            }
            Err(reason) => {
                self.bot_reports.push(BotReport { call: id, bot, event: BotEvent::Failed { reason } });
                self.end_bot_call(id);
            }
        }
        self.flush(now);
    }

    /// True when the caller side of call `id` is a bot.
    pub(super) fn is_bot_caller(&self, id: u64) -> bool {
        self.calls.get(id).is_some_and(|c| c.caller.conn == BOT_CONN)
    }

    /// The driver's bot answered the offer (or could not).
    pub fn on_bot_answer(&mut self, id: u64, answer: Result<String, String>, now: Instant) {
        self.bot_answered(id, answer, now);
        self.flush(now);
    }

    fn bot_answered(&mut self, id: u64, answer: Result<String, String>, now: Instant) {
        let Some(call) = self.calls.get(id) else { return };
        let Some(bot) = call.bot else { return };
        let pending = pending_side(call).is_some();
        match (answer, pending) {
            (Ok(sdp), false) => {
                self.caller_ringing(id, now);
                self.answer_caller(id, sdp.into_bytes(), now);
            }
            (Ok(sdp), true) => self.answer_bot_reinvite(id, Some(sdp), now),
            (Err(reason), false) => {
                self.bot_reports.push(BotReport { call: id, bot, event: BotEvent::Failed { reason } });
                self.fail_caller_with(id, 488, "Not Acceptable Here", now);
            }
            (Err(reason), true) => {
                self.bot_reports.push(BotReport { call: id, bot, event: BotEvent::Failed { reason } });
                self.answer_bot_reinvite(id, None, now);
            }
        }
    }

    /// Something a bot reports (digits, recordings, the end of an announcement).
    pub fn on_bot_event(&mut self, id: u64, bot: BotKind, event: BotEvent, now: Instant) {
        if event == BotEvent::Finished {
            self.send_bye(id, Side::Caller, now);
            self.end_bot_call(id);
        }
        self.bot_reports.push(BotReport { call: id, bot, event });
        self.flush(now);
    }

    /// Stops ringing the callee and connects the ringing caller to `bot` instead (voicemail
    /// after "to voicemail", the announcement after the last decline).
    pub(super) fn divert_to_bot(&mut self, id: u64, bot: BotKind, now: Instant) {
        self.cancel_forks(id, None, now);
        if self.is_bot_caller(id) {
            return self.fail_caller_with(id, 480, "Temporarily Unavailable", now);
        }
        let Some(call) = self.calls.get_mut(id) else { return };
        call.bot = Some(bot);
        call.ring_deadline = None;
        let offer = String::from_utf8_lossy(&call.caller.invite.body).into_owned();
        self.out.push_back(Output::StartBot { call: id, bot, offer, room: None });
    }

    /// Everything bots reported so far.
    pub fn bot_reports(&self) -> &[BotReport] {
        &self.bot_reports
    }

    /// A re-INVITE toward a bot (from the side `side`): the bot answers the new offer.
    pub(super) fn reinvite_bot(&mut self, id: u64, side: Side, req: Request) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let sdp = String::from_utf8_lossy(&req.body).into_owned();
        call.leg_mut(side).pending_reinvite = Some(req);
        self.out.push_back(Output::BotRemoteSdp { call: id, sdp });
    }

    fn answer_bot_reinvite(&mut self, id: u64, sdp: Option<String>, now: Instant) {
        let Some(call) = self.calls.get_mut(id) else { return };
        let Some(side) = pending_side(call) else { return };
        let leg = call.leg_mut(side);
        let Some(pending) = leg.pending_reinvite.take() else { return };
        let tag = leg.local_tag.clone();
        let conn = leg.conn;
        let resp = match sdp {
            Some(sdp) => {
                let mut ok = builder::response(&pending, 200, Some(&tag));
                let local = super::endpoint(&self.conns, conn);
                ok.headers.push(HeaderName::Contact, NameAddr::new(local.contact).to_string());
                ok.set_body("application/sdp", sdp);
                ok
            }
            None => builder::response(&pending, 488, Some(&tag)),
        };
        self.send_response(conn, resp, now);
    }

    /// Ends a bot call (the caller hung up or vanished): the driver stops the bot.
    pub(super) fn end_bot_call(&mut self, id: u64) {
        if self.calls.remove(id).is_some_and(|c| c.bot.is_some()) {
            self.out.push_back(Output::StopBot(id));
        }
    }

    /// True when call `id` is answered by a bot (and so has no callee legs).
    pub(super) fn is_bot_call(&self, id: u64) -> bool {
        self.calls.get(id).is_some_and(|c| c.bot.is_some())
    }
}


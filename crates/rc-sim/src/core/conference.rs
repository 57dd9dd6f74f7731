//! Conferences made through the REST API (`POST …/telephony/conference`) and parties brought
//! into them (`…/parties/bring-in`).
//!
//! The bridge is the conference bot's room (`crate::bots::Room`): whoever dials the
//! `conf_…` number gets a conference bot, which puts what it hears into the room and sends
//! the mix of everyone else. A party brought in keeps its leg and its hub port; the hub
//! connects that port to the room instead of to the other party
//! ([`crate::hub::HubCommand::Room`]), and the other side of the call is released with a BYE,
//! as RingCentral does. The brought-in client sees nothing but its audio changing.
//!
//! Which side joins: the party named, unless it is the host's own (the host merging its call,
//! as the RingCentral web phone's recipe does with its own `sessionId`/`partyId`); then the
//! other party joins and the host's leg is released.

use super::bots::{BotKind, BOT_CONN};
use super::calls::{Call, LegState, Side};
use super::{endpoint, Core, Output};
use serde::Serialize;
use sip::Method;
use std::time::Instant;

/// A conference the REST API made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Conference {
    /// Its telephony session id (`s-…`).
    session_id: String,
    /// The number the host dials (`conf_…`), also the bot room's name.
    token: String,
    /// The extension that made it.
    host_ext: usize,
    /// Parties numbered so far (`p-…-N`).
    parties: u32,
}

/// A conference, as `POST …/telephony/conference` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConferenceInfo {
    /// The conference's telephony session id.
    pub session_id: String,
    /// The number to dial (`conf_…`).
    pub voice_call_token: String,
}

/// A party that joined a conference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BroughtIn {
    /// Its party id in the conference session.
    pub party_id: String,
    /// The call (admin id) that now holds it.
    pub call: u64,
    /// Its number.
    pub number: String,
    /// Its name.
    pub name: String,
    /// `Inbound` or `Outbound`, as its call was for rc-sim.
    pub direction: &'static str,
}

/// Why a party could not be brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BringInError {
    /// No conference with that session id.
    NoConference,
    /// No party with that session id and party id.
    NoParty,
    /// The party's call cannot be brought in (not answered, in a conference already, answered by
    /// a bot other than the tone bot, being transferred).
    Conflict(String),
}

impl Core {
    /// Makes a conference hosted by extension `host_ext`.
    pub fn create_conference(&mut self, host_ext: usize) -> ConferenceInfo {
        let hex = format!("{:016x}{:016x}", rand::RngCore::next_u64(&mut self.rng), rand::RngCore::next_u64(&mut self.rng));
        let session_id = format!("s-{hex}");
        // RingCentral's token is a long hex string too.
        let token = format!("conf_{hex}{:08x}", rand::RngCore::next_u32(&mut self.rng));
        let info = ConferenceInfo { session_id: session_id.clone(), voice_call_token: token.clone() };
        self.conferences.insert(session_id.clone(), Conference { session_id, token, host_ext, parties: 0 });
        info
    }

    /// The next party id of conference `session_id`.
    fn conference_party(&mut self, session_id: &str) -> Option<String> {
        let conf = self.conferences.get_mut(session_id)?;
        conf.parties += 1;
        Some(format!("p-{}-{}", conf.session_id.trim_start_matches("s-"), conf.parties))
    }

    /// A caller dialled `token`: when it is a conference the REST API made, its call belongs to
    /// that session (its `p-rc-api-ids` say so).
    pub(super) fn join_conference_session(&mut self, call: &mut Call, token: &str) {
        let Some(session_id) = self.conferences.values().find(|c| c.token == token).map(|c| c.session_id.clone()) else { return };
        if let Some(party) = self.conference_party(&session_id) {
            call.session_id = session_id.clone();
            call.caller.party_id = party;
            call.caller.api_session = session_id;
        }
    }

    /// Brings the party (`session_id`, `party_id`) of an answered call into conference
    /// `conference`; the other side of that call is released (BYE).
    pub fn bring_in(&mut self, conference: &str, session_id: &str, party_id: &str, now: Instant) -> Result<BroughtIn, BringInError> {
        let conf = self.conferences.get(conference).cloned().ok_or(BringInError::NoConference)?;
        let (id, named) = self.calls.find_party(session_id, party_id).ok_or(BringInError::NoParty)?;
        let call = self.calls.get(id).ok_or(BringInError::NoParty)?;
        let conflict = |why: &str| Err(BringInError::Conflict(why.into()));
        if call.room.is_some() || call.bot == Some(BotKind::Conference) {
            return conflict("the party is in a conference already");
        }
        if call.transfer.is_some() {
            return conflict("the call is being transferred");
        }
        if call.bot.is_some() && !self.is_bot_caller(id) {
            return conflict("a call answered by one of rc-sim's bots cannot be brought into a conference");
        }
        let Some(peer) = call.peer_of(named) else { return conflict("the call is not answered") };
        let named_leg = call.leg(named);
        let named_is_host = named_leg.conn != BOT_CONN && named_leg.ext == Some(conf.host_ext);
        let (kept, released) = if named_is_host { (peer, named) } else { (named, peer) };
        let kept_leg = call.leg(kept);
        let is_bot = kept_leg.conn == BOT_CONN;
        if is_bot && call.bot != Some(BotKind::Tone) {
            return conflict("only the tone bot's calls can be brought into a conference");
        }
        if !is_bot && kept_leg.port.is_none() {
            return conflict("the party's media does not pass through rc-sim");
        }
        let direction = if kept == Side::Caller { "Outbound" } else { "Inbound" };
        let (number, name) = (kept_leg.number.clone(), kept_leg.ext.map(|e| self.cfg.extensions[e].name.clone()).unwrap_or_else(|| call.caller_name.clone()));
        let party_id = self.conference_party(&conf.session_id).ok_or(BringInError::NoConference)?;

        let old = self.calls.remove(id).expect("found above");
        let bot = old.bot;
        let (kept_leg, mut released_leg) = super::transfer::split_legs(old, kept, released);
        self.close_port(released_leg.port.take());
        let local = endpoint(&self.conns, released_leg.conn);
        if let Some(dialog) = released_leg.dialog.as_mut() {
            let bye = dialog.new_request(Method::Bye, &local, &mut self.rng);
            self.send_request(released_leg.conn, bye, now);
        }
        let mut call = self.call_around(kept_leg, now);
        call.anchored = !is_bot;
        call.ring_deadline = None;
        call.session_id = conf.session_id.clone();
        call.room = Some(conf.token.clone());
        let new_id = call.id;
        if is_bot {
            // The bot's own peer talked to the released party: it stops, and the same bot plays
            // into the room instead.
            call.bot = bot;
            self.out.push_back(Output::StopBot(id));
            self.out.push_back(Output::StartRoomBot { call: new_id, bot: BotKind::Tone, room: conf.token.clone() });
        } else if let Some(port) = call.caller.port {
            self.hub(crate::hub::HubCommand::Music(port, false));
            self.out.push_back(Output::JoinRoom { port, room: conf.token.clone() });
        }
        self.calls.insert(call);
        self.flush(now);
        Ok(BroughtIn { party_id, call: new_id, number, name, direction })
    }

    /// A bot joins conference room `token` with no call leg of its own (a participant dialling
    /// in from outside); only the tone bot, which plays its tone there.
    pub(super) fn start_room_bot(&mut self, bot: BotKind, token: &str, now: Instant) -> Result<u64, String> {
        if bot != BotKind::Tone {
            return Err(format!("only the tone bot can join a conference, not the {bot:?} bot"));
        }
        if self.cfg.extensions.is_empty() {
            return Err("rc-sim has no extensions".into());
        }
        let uri: sip::Uri = sip::SipUri::new(Some(token), &self.cfg.domain).into();
        let mut invite = sip::Request::new(Method::Invite, uri);
        invite.headers.push(sip::HeaderName::CallId, sip::builder::new_call_id(&mut self.rng));
        let mut call = self.new_call(BOT_CONN, 0, invite, now);
        call.caller.number = format!("1650555{}", bot.number());
        call.caller.ext = None;
        call.caller.state = LegState::Answered;
        call.caller_name = format!("rc-sim {bot:?} bot");
        call.bot = Some(bot);
        call.ring_deadline = None;
        call.room = Some(token.to_owned());
        self.join_conference_session(&mut call, token);
        let id = call.id;
        self.calls.insert(call);
        self.out.push_back(Output::StartRoomBot { call: id, bot, room: token.to_owned() });
        Ok(id)
    }

    /// Ends call `id` from rc-sim's side: BYE to its answered client legs, CANCEL to ringing
    /// devices, a final response to an unanswered caller, its bot stopped. False when there is
    /// no such call.
    pub fn hang_up(&mut self, id: u64, now: Instant) -> bool {
        let Some(call) = self.calls.get(id) else { return false };
        let answered = call.is_answered();
        let bot_caller = self.is_bot_caller(id);
        if !answered {
            if bot_caller {
                self.cancel_forks(id, None, now);
                self.end_bot_call(id);
            } else {
                self.fail_caller(id, 480, now);
            }
            self.flush(now);
            return true;
        }
        let mut sides = Vec::new();
        if !bot_caller {
            sides.push(Side::Caller);
        }
        if let Some(i) = call.answered {
            sides.push(Side::Callee(i));
        }
        for side in sides {
            self.send_bye(id, side, now);
        }
        if self.is_bot_call(id) {
            self.end_bot_call(id);
        } else {
            self.end_call(id);
        }
        self.flush(now);
        true
    }
}

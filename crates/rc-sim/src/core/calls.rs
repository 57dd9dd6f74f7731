//! Calls as a back-to-back user agent: one leg toward the caller, one per ringing device.

use super::ConnId;
use crate::hub::PortId;
use serde::Serialize;
use sip::{Dialog, Request, TransactionKey};
use std::collections::HashMap;
use std::time::Instant;

/// Where a leg stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LegState {
    /// INVITE sent or received, nothing else yet.
    Trying,
    /// Ringing.
    Ringing,
    /// In conversation.
    Answered,
    /// Rejected, cancelled or timed out.
    Failed,
}

/// Which leg of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The leg toward the caller.
    Caller,
    /// The leg toward ringing device number `n`.
    Callee(usize),
}

/// One leg: a dialog between rc-sim and one client.
#[derive(Debug)]
pub struct Leg {
    /// The client's connection.
    pub conn: ConnId,
    /// Call-ID on this leg.
    pub call_id: String,
    /// rc-sim's tag on this leg.
    pub local_tag: String,
    /// The INVITE: received (caller leg) or sent (callee legs).
    pub invite: Request,
    /// Our client transaction for a callee leg's INVITE.
    pub invite_key: Option<TransactionKey>,
    /// The dialog, once established.
    pub dialog: Option<Dialog>,
    /// State.
    pub state: LegState,
    /// The party's number.
    pub number: String,
    /// Index of the party's extension.
    pub ext: Option<usize>,
    /// The device's authorizationId (its `Cln`), for a rung device.
    pub auth_id: Option<String>,
    /// A re-INVITE received on this leg, waiting for its answer.
    pub pending_reinvite: Option<Request>,
    /// The media hub port terminating this leg's media (calls between clients).
    pub port: Option<PortId>,
    /// The port's SDP for this leg (the caller's answer), once the hub made it.
    pub port_sdp: Option<String>,
    /// The Call Control party id this leg's client was told (`p-rc-api-ids`).
    pub party_id: String,
    /// The Call Control session id told with it (the call's when the leg was made; a leg
    /// moved to another call by a transfer keeps it).
    pub api_session: String,
    /// This leg's client started recording the call (startcallrecord) and has not stopped.
    pub recording: bool,
    /// A re-offer rc-sim made on this leg (a move to another media server, or an UPDATE
    /// after a transfer), waiting for the client's answer.
    pub reoffer: Option<super::reoffer::Reoffer>,
}

impl Leg {
    /// The `p-rc-api-ids` value of this leg.
    pub fn api_ids(&self) -> String {
        format!("party-id={};session-id={}", self.party_id, self.api_session)
    }
}

/// A call between a caller and the devices of a callee.
#[derive(Debug)]
pub struct Call {
    /// Identifier in the admin API.
    pub id: u64,
    /// The leg toward the caller.
    pub caller: Leg,
    /// The legs toward the callee's devices.
    pub callees: Vec<Leg>,
    /// Which callee leg answered.
    pub answered: Option<usize>,
    /// RingCentral session identifier (`SID` in P-rc).
    pub sid: String,
    /// RingCentral request GUID (`Req` in P-rc).
    pub req: String,
    /// `From` in P-rc: where clients address their control MESSAGEs.
    pub rc_from: String,
    /// Call Control session id (`s-…`).
    pub session_id: String,
    /// Name shown to the callee.
    pub caller_name: String,
    /// When an unanswered call gives up.
    pub ring_deadline: Option<Instant>,
    /// The media bot answering this call, if any (then there are no callee legs).
    pub bot: Option<super::bots::BotKind>,
    /// The extension a calling bot rings.
    pub bot_target: Option<usize>,
    /// The media of this call runs through the hub (every call between clients; bots are
    /// their own media).
    pub anchored: bool,
    /// Set while the caller leg is being transferred to the callees.
    pub transfer: Option<Transfer>,
    /// The conference room (`conf_…`) this call's caller leg was brought into: its hub port
    /// hears the room and the room hears it; there are no callees.
    pub room: Option<String>,
}

/// A transfer in progress: the caller leg (already in a call) is being connected to the
/// callee devices; the transferor is told and hung up when it is done.
#[derive(Debug)]
pub struct Transfer {
    /// The leg that asked (REFER or callflip).
    pub transferor: Leg,
    /// True for REFER: the transferor gets NOTIFY with a sipfrag.
    pub notify: bool,
}

impl Call {
    /// True once the call is in conversation (a callee answered, or the bot answered the caller).
    pub fn is_answered(&self) -> bool {
        self.answered.is_some() || self.caller.state == LegState::Answered
    }

    /// The leg on `side`.
    pub fn leg(&self, side: Side) -> &Leg {
        match side {
            Side::Caller => &self.caller,
            Side::Callee(i) => &self.callees[i],
        }
    }

    /// The leg on `side`, mutable.
    pub fn leg_mut(&mut self, side: Side) -> &mut Leg {
        match side {
            Side::Caller => &mut self.caller,
            Side::Callee(i) => &mut self.callees[i],
        }
    }

    /// The `Hdr` attributes of a RingCentral control message about this call, to `to`.
    pub fn rc_header(&self, to: &str, cmd: u32) -> Vec<(String, String)> {
        vec![
            ("SID".into(), self.sid.clone()),
            ("Req".into(), self.req.clone()),
            ("From".into(), self.rc_from.clone()),
            ("To".into(), to.to_owned()),
            ("Cmd".into(), cmd.to_string()),
        ]
    }

    /// The side talking to `side` once answered.
    pub fn peer_of(&self, side: Side) -> Option<Side> {
        match side {
            Side::Caller => self.answered.map(Side::Callee),
            Side::Callee(i) if self.answered == Some(i) => Some(Side::Caller),
            Side::Callee(_) => None,
        }
    }

    /// True while some callee device is still ringing.
    pub fn any_ringing(&self) -> bool {
        self.callees.iter().any(|l| matches!(l.state, LegState::Trying | LegState::Ringing))
    }
}

/// What the admin API shows of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallInfo {
    /// Identifier.
    pub id: u64,
    /// Call Control session id.
    pub session_id: String,
    /// Caller number.
    pub from: String,
    /// Callee number.
    pub to: String,
    /// `ringing` or `answered`.
    pub state: String,
    /// Connections of the caller and of each callee device.
    pub conns: Vec<ConnId>,
}

/// All calls, found by the Call-ID of any of their legs.
#[derive(Debug, Default)]
pub struct Calls {
    calls: HashMap<u64, Call>,
    next_id: u64,
}

impl Calls {
    /// A fresh call id.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Adds a call.
    pub fn insert(&mut self, call: Call) {
        self.calls.insert(call.id, call);
    }

    /// Removes a call.
    pub fn remove(&mut self, id: u64) -> Option<Call> {
        self.calls.remove(&id)
    }

    /// A call by id.
    pub fn get(&self, id: u64) -> Option<&Call> {
        self.calls.get(&id)
    }

    /// A call by id, mutable.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Call> {
        self.calls.get_mut(&id)
    }

    /// The call and side a wire Call-ID belongs to.
    pub fn find(&self, call_id: &str) -> Option<(u64, Side)> {
        self.calls.values().find_map(|c| {
            if c.caller.call_id == call_id {
                return Some((c.id, Side::Caller));
            }
            c.callees.iter().position(|l| l.call_id == call_id).map(|i| (c.id, Side::Callee(i)))
        })
    }

    /// The call and side whose leg uses hub port `port`.
    pub fn find_port(&self, port: PortId) -> Option<(u64, Side)> {
        self.calls.values().find_map(|c| {
            if c.caller.port == Some(port) {
                return Some((c.id, Side::Caller));
            }
            c.callees.iter().position(|l| l.port == Some(port)).map(|i| (c.id, Side::Callee(i)))
        })
    }

    /// The call and side whose leg waits for a re-offer from hub port `port`.
    pub fn find_reoffer_port(&self, port: PortId) -> Option<(u64, Side)> {
        self.calls.values().find_map(|c| {
            let waits = |l: &Leg| l.reoffer.as_ref().is_some_and(|r| r.port == port);
            if waits(&c.caller) {
                return Some((c.id, Side::Caller));
            }
            c.callees.iter().position(waits).map(|i| (c.id, Side::Callee(i)))
        })
    }

    /// The answered call and side of a client leg whose party is extension `number`.
    pub fn answered_leg_of(&self, number: &str) -> Option<(u64, Side)> {
        self.calls.values().filter(|c| c.is_answered()).find_map(|c| {
            let sides = std::iter::once(Side::Caller).chain(c.answered.map(Side::Callee));
            sides.into_iter().find(|s| c.leg(*s).number.trim_start_matches('+') == number.trim_start_matches('+') && c.leg(*s).dialog.is_some()).map(|s| (c.id, s))
        })
    }

    /// The call and callee index whose INVITE client transaction is `key`.
    pub fn find_invite(&self, key: &TransactionKey) -> Option<(u64, usize)> {
        self.calls.values().find_map(|c| {
            let i = c.callees.iter().position(|l| l.invite_key.as_ref() == Some(key))?;
            Some((c.id, i))
        })
    }

    /// The call and side of the leg whose client was told `session_id` and `party_id`.
    pub fn find_party(&self, session_id: &str, party_id: &str) -> Option<(u64, Side)> {
        self.calls.values().find_map(|c| {
            let told = |l: &Leg| l.party_id == party_id && (l.api_session == session_id || c.session_id == session_id);
            if told(&c.caller) {
                return Some((c.id, Side::Caller));
            }
            c.callees.iter().position(told).map(|i| (c.id, Side::Callee(i)))
        })
    }

    /// Ids of the calls that have a leg on `conn`.
    pub fn on_conn(&self, conn: ConnId) -> Vec<(u64, Side)> {
        let mut out = Vec::new();
        for c in self.calls.values() {
            if c.caller.conn == conn {
                out.push((c.id, Side::Caller));
            }
            for (i, l) in c.callees.iter().enumerate() {
                if l.conn == conn {
                    out.push((c.id, Side::Callee(i)));
                }
            }
        }
        out
    }

    /// Moves every leg on connection `from` to `to` (a device that reconnected).
    pub fn move_conn(&mut self, from: ConnId, to: ConnId) {
        for c in self.calls.values_mut() {
            for leg in std::iter::once(&mut c.caller).chain(c.callees.iter_mut()) {
                if leg.conn == from {
                    leg.conn = to;
                }
            }
        }
    }

    /// Calls whose ringing time is over at `now`.
    pub fn ring_expired(&self, now: Instant) -> Vec<u64> {
        self.calls.values().filter(|c| c.ring_deadline.is_some_and(|d| d <= now)).map(|c| c.id).collect()
    }

    /// The earliest ring deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.calls.values().filter_map(|c| c.ring_deadline).min()
    }

    /// Admin view of every call.
    pub fn infos(&self) -> Vec<CallInfo> {
        let mut v: Vec<CallInfo> = self
            .calls
            .values()
            .map(|c| CallInfo {
                id: c.id,
                session_id: c.session_id.clone(),
                from: c.caller.number.clone(),
                to: match (c.bot, &c.room) {
                    (_, Some(room)) => room.clone(),
                    // A bot call: what was dialled (600, conf_123, or the extension a bot calls).
                    (Some(_), None) => c.caller.invite.uri.as_sip().and_then(|u| u.user_decoded()).unwrap_or_default(),
                    (None, None) => c.callees.first().map(|l| l.number.clone()).unwrap_or_default(),
                },
                state: if c.caller.state == LegState::Answered { "answered" } else { "ringing" }.into(),
                conns: std::iter::once(c.caller.conn).chain(c.callees.iter().map(|l| l.conn)).collect(),
            })
            .collect();
        v.sort_by_key(|c| c.id);
        v
    }
}

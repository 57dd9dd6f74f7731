//! What the window is told: engine events as small serialisable structs (no protocol in them).

use serde::Serialize;
use webphone::{CallEvent, PhoneEvent};

/// One event for the UI, sent on the `phone-event` channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum UiEvent {
    /// Registered; calls can be made and received.
    Registered,
    /// Not registered, with the reason.
    RegistrationFailed {
        /// Why.
        reason: String,
    },
    /// The connection to the server dropped (the phone reconnects by itself).
    Disconnected {
        /// Why.
        reason: String,
    },
    /// The next attempt to reconnect is planned.
    Reconnecting {
        /// 1 for the first attempt after the drop.
        attempt: u32,
        /// Seconds until the attempt.
        #[serde(rename = "inSeconds")]
        in_seconds: f32,
        /// Why the connection is down (or why the last attempt failed).
        reason: String,
    },
    /// The machine's network changed; calls in progress are being moved to it.
    NetworkChanged,
    /// A call's quality over the last few seconds.
    Quality {
        /// Call id.
        call: u64,
        /// Loss, jitter, round trip, bitrate and MOS.
        quality: webphone::CallQuality,
    },
    /// Connected again; registering follows.
    Reconnected {
        /// True on the backup proxy.
        backup: bool,
    },
    /// A call rings in.
    IncomingCall {
        /// Call id.
        call: u64,
        /// Caller's number.
        from: String,
        /// Caller's name, if known.
        name: Option<String>,
    },
    /// We started a call.
    OutgoingCall {
        /// Call id.
        call: u64,
        /// Who we call.
        to: String,
        /// True for our call into a conference we host: the window names it "Conference"
        /// (its number is the conference's token) and offers to invite others into it.
        conference: bool,
    },
    /// A call rings (either side).
    Ringing {
        /// Call id.
        call: u64,
    },
    /// A call is answered.
    Answered {
        /// Call id.
        call: u64,
    },
    /// Audio flows.
    Connected {
        /// Call id.
        call: u64,
    },
    /// We held (true) or resumed (false) a call.
    Held {
        /// Call id.
        call: u64,
        /// On hold.
        held: bool,
    },
    /// The server started (true) or stopped (false) recording a call on its own (parking a
    /// recorded call stops its recording).
    Recording {
        /// Call id.
        call: u64,
        /// Being recorded.
        on: bool,
    },
    /// A call failed before it was answered.
    Failed {
        /// Call id.
        call: u64,
        /// SIP status.
        status: u16,
        /// Reason phrase.
        reason: String,
    },
    /// A call is over.
    Ended {
        /// Call id.
        call: u64,
        /// Why, in words.
        reason: String,
    },
    /// The far end pressed a key.
    Digit {
        /// Call id.
        call: u64,
        /// The key.
        digit: String,
    },
    /// The call history changed.
    History,
    /// The ringtone or ringback tone started or stopped.
    Ringtone {
        /// What plays now (`ring`, `ringback`), or `null`.
        tone: Option<crate::ringer::Tone>,
    },
    /// How loud the microphone and the speaker are (0..=1), ten times a second in a call.
    Levels {
        /// Microphone peak.
        input: f32,
        /// Speaker peak.
        output: f32,
    },
    /// Debug mode: a SIP message for the log view.
    SipMessage {
        /// The message.
        line: crate::siplog::Line,
    },
    /// A `tel:`/`callto:` link was opened: the number to put in the dial field.
    Link {
        /// The number, made dialable.
        number: String,
    },
    /// A call's microphone or speaker moved to another device by itself (the one in use went
    /// away, the system default changed, or the chosen one is back).
    AudioDevice {
        /// Call id.
        call: u64,
        /// Which side, from which device to which (`null`: none works now), and why.
        change: webphone::audio::DeviceChange,
    },
    /// Something the user should read that is not about a call's audio: how an invitation
    /// to the conference went, a sign-in or history problem, a ringtone that cannot play.
    Notice {
        /// The text.
        text: String,
    },
    /// A call's media failed (only for a call: other problems are [`UiEvent::Notice`]s).
    MediaFailed {
        /// Call id.
        call: u64,
        /// Why.
        reason: String,
    },
}

/// The UI's view of an engine event; `None` for events the window does not show.
pub fn from_phone(event: &PhoneEvent) -> Option<UiEvent> {
    Some(match event {
        PhoneEvent::Registered { .. } => UiEvent::Registered,
        PhoneEvent::RegistrationFailed(e) => UiEvent::RegistrationFailed { reason: e.to_string() },
        PhoneEvent::Disconnected(why) => UiEvent::Disconnected { reason: why.clone() },
        PhoneEvent::Reconnecting { attempt, wait, reason, .. } => UiEvent::Reconnecting { attempt: *attempt, in_seconds: wait.as_secs_f32(), reason: reason.clone() },
        PhoneEvent::Reconnected { backup, .. } => UiEvent::Reconnected { backup: *backup },
        PhoneEvent::NetworkChanged(_) => UiEvent::NetworkChanged,
        PhoneEvent::CallQuality(id, quality) => UiEvent::Quality { call: id.0, quality: quality.clone() },
        // The call goes on as before: nothing to show.
        PhoneEvent::IceRestarted(_) => return None,
        PhoneEvent::InboundCall(s, info) => UiEvent::IncomingCall { call: s.id().0, from: info.remote_number.clone(), name: info.remote_name.clone() },
        // Needs the number, which only the session can tell: the event loop sends it.
        PhoneEvent::OutboundCall(_) => return None,
        PhoneEvent::MediaConnected(id) => UiEvent::Connected { call: id.0 },
        PhoneEvent::MediaFailed(id, why) => UiEvent::MediaFailed { call: id.0, reason: why.clone() },
        PhoneEvent::AutoAnswering(_, after) => UiEvent::Notice { text: format!("The call is answered automatically in {:.1} s, as the server asked (Settings: auto-answer)", after.as_secs_f32()) },
        PhoneEvent::AutoAnswerSkipped(_, why) => UiEvent::Notice { text: format!("Not answered automatically: {why}") },
        PhoneEvent::DtmfReceived(id, d) => UiEvent::Digit { call: id.0, digit: d.to_string() },
        PhoneEvent::AudioDeviceChanged(id, change) => UiEvent::AudioDevice { call: id.0, change: change.clone() },
        PhoneEvent::Call(id, e) => return from_call(id.0, e),
        // SIP traces go to the log view through the event loop, which keeps them.
        PhoneEvent::Message(_) | PhoneEvent::Unregistered | PhoneEvent::RcMessage(_) | PhoneEvent::SipTrace(_) => return None,
    })
}

fn from_call(call: u64, event: &CallEvent) -> Option<UiEvent> {
    Some(match event {
        CallEvent::Ringing => UiEvent::Ringing { call },
        CallEvent::Answered { .. } => UiEvent::Answered { call },
        CallEvent::Held(held) => UiEvent::Held { call, held: *held },
        CallEvent::RecordingChanged(on) => UiEvent::Recording { call, on: *on },
        CallEvent::Failed { status, reason } => UiEvent::Failed { call, status: *status, reason: reason.clone() },
        CallEvent::Disposed(r) => UiEvent::Ended { call, reason: ended_reason(r).into() },
        CallEvent::Reoffer(_) | CallEvent::RemoteAnswer(_) => return None,
    })
}

fn ended_reason(r: &webphone::DisposeReason) -> &'static str {
    use webphone::DisposeReason::*;
    match r {
        Local => "You ended the call",
        RemoteHangup => "The other party hung up",
        Cancelled => "The caller hung up",
        Failed(_) => "The call failed",
        Timeout => "No answer from the server",
        ConnectionLost => "The connection was lost",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_for_the_window() {
        let e = from_call(7, &CallEvent::Held(true)).unwrap();
        assert_eq!(serde_json::to_value(&e).unwrap(), serde_json::json!({ "type": "held", "call": 7, "held": true }));
        let e = from_call(7, &CallEvent::Disposed(webphone::DisposeReason::RemoteHangup)).unwrap();
        assert_eq!(serde_json::to_value(&e).unwrap()["reason"], "The other party hung up");
        assert!(from_phone(&PhoneEvent::Message("INVITE …".into())).is_none(), "raw SIP stays out of the window");
        let reconnecting = PhoneEvent::Reconnecting { attempt: 2, proxy: "127.0.0.1:1".into(), wait: std::time::Duration::from_millis(1500), reason: "refused".into() };
        let json = serde_json::to_value(from_phone(&reconnecting).unwrap()).unwrap();
        assert_eq!(json, serde_json::json!({ "type": "reconnecting", "attempt": 2, "inSeconds": 1.5, "reason": "refused" }));
        let conference = UiEvent::OutgoingCall { call: 3, to: "conf_1".into(), conference: true };
        assert_eq!(serde_json::to_value(conference).unwrap(), serde_json::json!({ "type": "outgoingCall", "call": 3, "to": "conf_1", "conference": true }));
    }
}

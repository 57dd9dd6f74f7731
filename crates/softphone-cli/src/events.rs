//! Events as JSON lines.

use std::time::{SystemTime, UNIX_EPOCH};
use webphone::{CallEvent, PhoneEvent};

/// Prints `{"event": name, "t": unix-ms, …fields}` on one line.
pub fn print(name: &str, mut fields: serde_json::Value) {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default();
    if let Some(map) = fields.as_object_mut() {
        map.insert("event".into(), name.into());
        map.insert("t".into(), t.into());
    }
    println!("{fields}");
}

/// Prints one phone event (SIP message events are left out: `--debug` shows the messages).
pub fn print_phone_event(event: &PhoneEvent) {
    use serde_json::json;
    match event {
        // `--debug` prints the messages themselves to standard error.
        PhoneEvent::Message(_) | PhoneEvent::SipTrace(_) => {}
        PhoneEvent::Registered { expires } => print("registered", json!({ "expires": expires })),
        PhoneEvent::Unregistered => print("unregistered", json!({})),
        PhoneEvent::RegistrationFailed(e) => print("registration_failed", json!({ "reason": e.to_string() })),
        PhoneEvent::Disconnected(why) => print("disconnected", json!({ "reason": why })),
        PhoneEvent::Reconnecting { attempt, proxy, wait, reason } => {
            print("reconnecting", json!({ "attempt": attempt, "proxy": proxy, "wait_ms": wait.as_millis() as u64, "reason": reason }))
        }
        PhoneEvent::Reconnected { proxy, backup } => print("reconnected", json!({ "proxy": proxy, "backup": backup })),
        PhoneEvent::NetworkChanged(c) => print("network_changed", json!({ "added": c.added, "removed": c.removed })),
        PhoneEvent::IceRestarted(id) => print("ice_restarted", json!({ "call": id.0 })),
        PhoneEvent::CallQuality(id, q) => print("quality", json!({ "call": id.0, "quality": q })),
        PhoneEvent::InboundCall(s, info) => print("inbound_call", json!({ "call": s.id().0, "from": info.remote_number, "name": info.remote_name })),
        PhoneEvent::OutboundCall(s) => print("outbound_call", json!({ "call": s.id().0 })),
        PhoneEvent::Call(id, e) => print_call_event(id.0, e),
        PhoneEvent::MediaConnected(id) => print("media_connected", json!({ "call": id.0 })),
        PhoneEvent::MediaFailed(id, why) => print("media_failed", json!({ "call": id.0, "reason": why })),
        PhoneEvent::AutoAnswering(id, after) => print("auto_answering", json!({ "call": id.0, "after_ms": after.as_millis() as u64 })),
        PhoneEvent::AutoAnswerSkipped(id, why) => print("auto_answer_skipped", json!({ "call": id.0, "reason": why })),
        PhoneEvent::DtmfReceived(id, d) => print("dtmf", json!({ "call": id.0, "digit": d.to_string() })),
        PhoneEvent::AudioDeviceChanged(id, c) => print("audio_device", json!({ "call": id.0, "input": c.input, "from": c.from, "to": c.to, "reason": c.reason })),
        PhoneEvent::RcMessage(m) => print("rc_message", json!({ "cmd": m.cmd() })),
    }
}

fn print_call_event(call: u64, e: &CallEvent) {
    use serde_json::json;
    match e {
        CallEvent::Ringing => print("ringing", json!({ "call": call })),
        CallEvent::Answered { .. } => print("answered", json!({ "call": call })),
        CallEvent::Held(h) => print(if *h { "held" } else { "unheld" }, json!({ "call": call })),
        CallEvent::RecordingChanged(on) => print("recording", json!({ "call": call, "on": on })),
        CallEvent::Failed { status, reason } => print("failed", json!({ "call": call, "status": status, "reason": reason })),
        CallEvent::Disposed(r) => print("disposed", json!({ "call": call, "reason": format!("{r:?}") })),
        CallEvent::Reoffer(_) | CallEvent::RemoteAnswer(_) => {}
    }
}

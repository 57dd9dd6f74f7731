//! The API answers we read (docs/rest-api.md), without I/O.

use serde::Deserialize;

use crate::RestError;

/// One of the extension's phone numbers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    /// The record id.
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: String,
    /// E.164, e.g. `+16505550100`.
    pub phone_number: String,
    /// `CompanyNumber`, `DirectNumber`, …
    #[serde(default)]
    pub usage_type: Option<String>,
    /// `CallerId`, `SmsSender`, …
    #[serde(default)]
    pub features: Vec<String>,
    /// `VoiceFax`, `VoiceOnly`, …
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

impl PhoneNumber {
    /// The number may be shown as caller ID.
    pub fn is_caller_id(&self) -> bool {
        self.features.iter().any(|f| f == "CallerId")
    }
}

/// The caller IDs in a `phone-number` answer: the records with the `CallerId` feature, in
/// order.
pub fn parse_caller_ids(body: &[u8]) -> Result<Vec<PhoneNumber>, RestError> {
    #[derive(Deserialize)]
    struct Records {
        records: Vec<PhoneNumber>,
    }
    let records: Records = serde_json::from_slice(body).map_err(|e| RestError::BadResponse(format!("phone numbers: {e}")))?;
    Ok(records.records.into_iter().filter(PhoneNumber::is_caller_id).collect())
}

/// A conference made by `create_conference`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conference {
    /// Its telephony session id (for `bring_in`).
    pub session_id: String,
    /// The number the host dials to join it.
    pub voice_call_token: String,
}

/// Reads the answer to `POST …/telephony/conference`.
pub fn parse_conference(body: &[u8]) -> Result<Conference, RestError> {
    #[derive(Deserialize)]
    struct Answer {
        session: Session,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Session {
        #[serde(deserialize_with = "string_or_number")]
        id: String,
        voice_call_token: String,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| RestError::BadResponse(format!("conference: {e}")))?;
    if answer.session.id.is_empty() || answer.session.voice_call_token.is_empty() {
        return Err(RestError::BadResponse("conference: empty session id or voiceCallToken".into()));
    }
    Ok(Conference { session_id: answer.session.id, voice_call_token: answer.session.voice_call_token })
}

/// A call party, as `bring_in` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The party id.
    pub id: String,
    /// `status.code`, e.g. `Answered`.
    pub status: Option<String>,
}

/// Reads the answer to `POST …/parties/bring-in`.
pub fn parse_party(body: &[u8]) -> Result<Party, RestError> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(deserialize_with = "string_or_number")]
        id: String,
        #[serde(default)]
        status: Option<Status>,
    }
    #[derive(Deserialize)]
    struct Status {
        code: Option<String>,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| RestError::BadResponse(format!("party: {e}")))?;
    Ok(Party { id: answer.id, status: answer.status.and_then(|s| s.code) })
}

/// Reads a sip-provision answer: `sipInfo[0]`, validated.
pub fn parse_sip_provision(body: &[u8]) -> Result<rc_dialect::SipInfo, RestError> {
    let bad = |why: String| RestError::BadResponse(format!("sip-provision: {why}"));
    let answer: serde_json::Value = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
    let first = answer.get("sipInfo").and_then(|v| v.as_array()).and_then(|a| a.first()).ok_or_else(|| bad("no sipInfo[0]".into()))?;
    let info = rc_dialect::SipInfo::from_json(&first.to_string()).map_err(|e| bad(e.to_string()))?;
    info.validate().map_err(|e| bad(e.to_string()))?;
    Ok(info)
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("expected a string or number id, got {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_ids_are_the_callerid_numbers() {
        let body = br#"{"records":[
            {"id":"1","phoneNumber":"+16505550100","usageType":"CompanyNumber","features":["SmsSender"],"type":"VoiceFax"},
            {"id":2,"phoneNumber":"+16505550101","usageType":"DirectNumber","features":["CallerId","SmsSender"],"type":"VoiceFax"},
            {"id":"3","phoneNumber":"+16505550102","features":["CallerId"]},
            {"id":"4","phoneNumber":"+16505550103"}],
            "paging":{"page":1,"totalPages":1}}"#;
        let ids = parse_caller_ids(body).unwrap();
        assert_eq!(ids.iter().map(|n| n.phone_number.as_str()).collect::<Vec<_>>(), ["+16505550101", "+16505550102"]);
        assert_eq!(ids[0].id, "2");
        assert_eq!(ids[0].usage_type.as_deref(), Some("DirectNumber"));
        assert_eq!(ids[0].kind.as_deref(), Some("VoiceFax"));
        assert!(matches!(parse_caller_ids(b"{}"), Err(RestError::BadResponse(_))));
    }

    #[test]
    fn conference_and_party() {
        let c = parse_conference(br#"{"session":{"id":"s-1","voiceCallToken":"conf_abc","parties":[]}}"#).unwrap();
        assert_eq!(c, Conference { session_id: "s-1".into(), voice_call_token: "conf_abc".into() });
        assert!(parse_conference(br#"{"session":{"id":"s-1","voiceCallToken":""}}"#).is_err());
        assert!(parse_conference(b"{}").is_err());
        let p = parse_party(br#"{"id":"p-2","status":{"code":"Answered"},"direction":"Inbound"}"#).unwrap();
        assert_eq!(p, Party { id: "p-2".into(), status: Some("Answered".into()) });
        assert_eq!(parse_party(br#"{"id":"p-2"}"#).unwrap().status, None);
    }

    #[test]
    fn sip_provision_answers() {
        let body = br#"{"sipInfo":[{"username":"16505550101","password":"pw-secret","authorizationId":"800000000101",
            "domain":"sip.ringcentral.com","outboundProxy":"127.0.0.1:5090","outboundProxyBackup":"127.0.0.1:5091",
            "transport":"WSS","stunServers":[],"switchBackInterval":600}],"sipFlags":{"outboundCallsEnabled":true},"device":{"id":"d1"}}"#;
        let info = parse_sip_provision(body).unwrap();
        assert_eq!(info.username, "16505550101");
        assert_eq!(info.outbound_proxy, "127.0.0.1:5090");
        assert!(!format!("{info:?}").contains("pw-secret"));
        let no_proxy = br#"{"sipInfo":[{"username":"1","password":"p","authorizationId":"a","domain":"d","outboundProxy":"nope"}]}"#;
        assert!(matches!(parse_sip_provision(no_proxy), Err(RestError::BadResponse(_))));
        assert!(matches!(parse_sip_provision(br#"{"sipInfo":[]}"#), Err(RestError::BadResponse(_))));
        assert!(matches!(parse_sip_provision(br#"{"username":"1"}"#), Err(RestError::BadResponse(_))));
    }
}

//! RingCentral's informational headers on an inbound INVITE.

/// The ids the Call Control REST API uses, from `p-rc-api-ids`
/// (`party-id=p-…-N;session-id=s-…`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiIds {
    /// Telephony session id (`s-…`).
    pub session_id: Option<String>,
    /// Party id (`p-…-N`).
    pub party_id: Option<String>,
}

impl ApiIds {
    /// Reads the header value; unknown keys are ignored.
    pub fn parse(value: &str) -> ApiIds {
        let mut ids = ApiIds::default();
        for (key, val) in pairs(value) {
            match key.to_ascii_lowercase().as_str() {
                "session-id" => ids.session_id = Some(val),
                "party-id" => ids.party_id = Some(val),
                _ => {}
            }
        }
        ids
    }
}

/// The `key=value;…` pairs of `p-rc-api-call-info`, in order (a value may itself hold `=`).
pub fn call_info(value: &str) -> Vec<(String, String)> {
    pairs(value).collect()
}

fn pairs(value: &str) -> impl Iterator<Item = (String, String)> + '_ {
    value.split(';').map(str::trim).filter(|p| !p.is_empty()).map(|p| match p.split_once('=') {
        Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
        None => (p.to_owned(), String::new()),
    })
}

/// The auto-answer delay asked for by `Alert-Info: Auto Answer` and `Call-Info: …;Answer-After=N`
/// (milliseconds), or `None` when the call does not ask to be answered automatically.
pub fn auto_answer_delay_ms(alert_info: Option<&str>, call_info: Option<&str>) -> Option<u64> {
    if !alert_info.is_some_and(|a| a.trim().eq_ignore_ascii_case("Auto Answer")) {
        return None;
    }
    let delay = call_info
        .and_then(|c| {
            let lower = c.to_ascii_lowercase();
            let at = lower.find("answer-after=")? + "answer-after=".len();
            let digits: String = c[at..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or(0);
    Some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_and_call_info() {
        let ids = ApiIds::parse("party-id=p-a0d17e323e1d4c5ab7d1f1bb5f2aa1a0-2;session-id=s-a0d17e323e1d4c5ab7d1f1bb5f2aa1a0");
        assert_eq!(ids.party_id.as_deref(), Some("p-a0d17e323e1d4c5ab7d1f1bb5f2aa1a0-2"));
        assert_eq!(ids.session_id.as_deref(), Some("s-a0d17e323e1d4c5ab7d1f1bb5f2aa1a0"));
        assert_eq!(ApiIds::parse("garbage"), ApiIds::default());
        assert_eq!(call_info("callAttributes=reject,send-vm; x=a=b"), vec![
            ("callAttributes".to_owned(), "reject,send-vm".to_owned()),
            ("x".to_owned(), "a=b".to_owned())
        ]);
    }

    #[test]
    fn reads_auto_answer() {
        assert_eq!(auto_answer_delay_ms(Some("Auto Answer"), Some("<sip:x>;purpose=info;Answer-After=1500")), Some(1500));
        assert_eq!(auto_answer_delay_ms(Some("Auto Answer"), None), Some(0));
        assert_eq!(auto_answer_delay_ms(None, Some(";Answer-After=1")), None);
        assert_eq!(auto_answer_delay_ms(Some("<http://x/ring.wav>"), None), None);
    }
}

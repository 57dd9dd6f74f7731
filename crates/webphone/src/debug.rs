//! Debug mode: every SIP message sent and received, with a timestamp, secrets redacted.

use std::time::{SystemTime, UNIX_EPOCH};

/// `text` with the `response="…"` of every (Proxy-)Authorization header replaced, so a
/// digest response (which can be attacked offline) is never printed.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let name = line.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        if name == "authorization" || name == "proxy-authorization" {
            out.push_str(&redact_response(line));
        } else {
            out.push_str(line);
        }
    }
    out
}

fn redact_response(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let Some(at) = lower.find("response=") else { return line.to_owned() };
    let start = at + "response=".len();
    let rest = &line[start..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        start + 1 + quoted.find('"').map_or(quoted.len(), |i| i + 1)
    } else {
        start + rest.find([',', '\r', '\n']).unwrap_or(rest.len())
    };
    format!("{}\"<redacted>\"{}", &line[..start], &line[end..])
}

fn timestamp() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let (secs, millis) = (now.as_secs(), now.subsec_millis());
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    format!("{h:02}:{m:02}:{s:02}.{millis:03} UTC")
}

/// One SIP message as debug mode shows it: which way, when, and its text with secrets
/// redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipTrace {
    /// We sent it (else we received it).
    pub sent: bool,
    /// When, in milliseconds since 1970.
    pub at_ms: u64,
    /// The message, digest responses redacted.
    pub text: String,
}

impl SipTrace {
    /// A trace of `bytes` (sent or received now), redacted.
    pub fn now(sent: bool, bytes: &[u8]) -> SipTrace {
        let at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default();
        SipTrace { sent, at_ms, text: redact(&String::from_utf8_lossy(bytes)) }
    }
}

/// Prints a traced message to standard error, as the seed SDK's debug mode does.
pub fn print(trace: &SipTrace) {
    let verb = if trace.sent { "Sending..." } else { "Receiving..." };
    eprintln!("{verb} ({})\n{}", timestamp(), trace.text);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_responses_are_hidden() {
        let msg = "REGISTER sip:d SIP/2.0\r\nAuthorization: Digest algorithm=MD5, username=\"802\", realm=\"d\", nonce=\"n\", uri=\"sip:d\", response=\"0123456789abcdef\"\r\nProxy-Authorization: Digest response=abc,nonce=\"x\"\r\nSubject: response=\"keep\"\r\n\r\n";
        let out = redact(msg);
        assert!(!out.contains("0123456789abcdef") && !out.contains("response=abc"), "{out}");
        assert!(out.contains("response=\"<redacted>\"\r\n") && out.contains("response=\"<redacted>\",nonce=\"x\""), "{out}");
        assert!(out.contains("Subject: response=\"keep\""));
    }
}

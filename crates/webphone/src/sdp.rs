//! The small SDP edits signalling needs: direction for hold, the `o=` version for re-offers.
//!
//! Media negotiation itself belongs to the WebRTC stack; these are text edits on a description
//! it produced, the way the seed SDK makes its hold offers. The direction edits live in
//! `media::sdp` (re-exported here), which also corrects the direction of our answers.

pub use media::sdp::{direction, with_direction};

/// The session version of the `o=` line.
pub fn origin_version(sdp: &str) -> Option<u64> {
    let origin = sdp.lines().find_map(|l| l.strip_prefix("o="))?;
    origin.split_whitespace().nth(2)?.parse().ok()
}

/// `sdp` with the `o=` session version replaced by `version`.
pub fn with_origin_version(sdp: &str, version: u64) -> String {
    let mut out = String::with_capacity(sdp.len() + 4);
    for line in sdp.lines() {
        let line = line.trim_end_matches('\r');
        match line.strip_prefix("o=") {
            Some(origin) => {
                let mut fields: Vec<String> = origin.split_whitespace().map(str::to_owned).collect();
                if fields.len() > 2 {
                    fields[2] = version.to_string();
                }
                push_line(&mut out, &format!("o={}", fields.join(" ")));
            }
            None => push_line(&mut out, line),
        }
    }
    out
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n";

    #[test]
    fn hold_rewrites_direction_and_version() {
        let held = with_origin_version(&with_direction(OFFER, "sendonly"), 3);
        assert!(held.contains("a=sendonly\r\n") && !held.contains("sendrecv"));
        assert!(held.starts_with("v=0\r\no=- 4611 3 IN IP4 127.0.0.1\r\n"));
        assert_eq!(direction(&held), "sendonly");
        assert_eq!(origin_version(&held), Some(3));
        assert_eq!(with_direction(&held, "sendrecv"), with_origin_version(OFFER, 3));
    }
}

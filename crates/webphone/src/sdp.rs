//! The small SDP edits signalling needs: direction for hold, the `o=` version for re-offers.
//!
//! Media negotiation itself belongs to the WebRTC stack; these are text edits on a description
//! it produced, the way the seed SDK makes its hold offers.

/// The directions an `a=` line can name.
const DIRECTIONS: [&str; 4] = ["sendrecv", "sendonly", "recvonly", "inactive"];

/// `sdp` with every direction attribute set to `direction` (added to each media section
/// that has none).
pub fn with_direction(sdp: &str, direction: &str) -> String {
    let mut out = String::with_capacity(sdp.len() + 16);
    let mut in_media = false;
    let mut has_direction = false;
    for line in sdp.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with("m=") {
            if in_media && !has_direction {
                push_line(&mut out, &format!("a={direction}"));
            }
            in_media = true;
            has_direction = false;
        }
        let attribute = line.strip_prefix("a=").unwrap_or_default();
        if DIRECTIONS.contains(&attribute) {
            has_direction = true;
            push_line(&mut out, &format!("a={direction}"));
        } else {
            push_line(&mut out, line);
        }
    }
    if in_media && !has_direction {
        push_line(&mut out, &format!("a={direction}"));
    }
    out
}

/// The direction of the first media section (`sendrecv` when none is written).
pub fn direction(sdp: &str) -> &str {
    let media = sdp.find("\nm=").map_or(sdp, |at| &sdp[at..]);
    media
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix("a="))
        .find(|a| DIRECTIONS.contains(a))
        .unwrap_or("sendrecv")
}

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

    #[test]
    fn adds_a_missing_direction() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/SAVPF 0\r\na=rtpmap:0 pcmu/8000\r\n";
        assert_eq!(direction(sdp), "sendrecv");
        let held = with_direction(sdp, "sendonly");
        assert!(held.ends_with("a=rtpmap:0 pcmu/8000\r\na=sendonly\r\n"), "{held}");
    }
}

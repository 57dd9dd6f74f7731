//! Small, text-level SDP edits the WebRTC stack does not do for us: media direction.
//!
//! RFC 3264 section 6.1: an answer to a `sendonly` offer is `recvonly` (or `inactive`), to a
//! `recvonly` offer `sendonly`, to an `inactive` offer `inactive`. webrtc-rs 0.21 answers
//! `sendrecv` whatever the offer says, so [`answer_direction`] corrects the text we send; the
//! stack itself keeps sending, which the caller controls (a held call sends silence).

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

/// The direction an answer must have for an offer with direction `offered`.
pub fn answer_direction(offered: &str) -> &'static str {
    match offered {
        "sendonly" => "recvonly",
        "recvonly" => "sendonly",
        "inactive" => "inactive",
        _ => "sendrecv",
    }
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
    fn directions_are_read_rewritten_and_answered() {
        let held = with_direction(OFFER, "sendonly");
        assert!(held.contains("a=sendonly\r\n") && !held.contains("sendrecv"));
        assert_eq!(direction(&held), "sendonly");
        assert_eq!(answer_direction(direction(&held)), "recvonly");
        assert_eq!(answer_direction("inactive"), "inactive");
        assert_eq!(answer_direction("sendrecv"), "sendrecv");
    }

    #[test]
    fn adds_a_missing_direction() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/SAVPF 0\r\na=rtpmap:0 pcmu/8000\r\n";
        assert_eq!(direction(sdp), "sendrecv");
        let held = with_direction(sdp, "sendonly");
        assert!(held.ends_with("a=rtpmap:0 pcmu/8000\r\na=sendonly\r\n"), "{held}");
    }
}

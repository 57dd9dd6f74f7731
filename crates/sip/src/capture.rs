//! Messages as people publish them (logs, issue threads, test fixtures) made wire-ready.
//!
//! A captured SIP message pasted into a thread or a file loses its CRLFs and often its exact
//! byte count. [`to_wire`] gives each line a CRLF again and recomputes `Content-Length` from
//! the body, so the same published text can be fed to a parser, a phone or a server.

/// `published` with CRLF line ends and a `Content-Length` (long or compact `l`) that counts
/// its body; a message without a blank line after its headers gets one.
pub fn to_wire(published: &str) -> String {
    let text = published.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").unwrap_or((text.trim_end_matches('\n'), ""));
    let body = if body.is_empty() { String::new() } else { body.replace('\n', "\r\n") };
    let mut out = String::with_capacity(text.len() + 64);
    for line in head.lines() {
        let name = line.split(':').next().unwrap_or_default().trim();
        if name.eq_ignore_ascii_case("Content-Length") || name == "l" {
            out.push_str(&format!("{name}: {}\r\n", body.len()));
        } else {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("\r\n");
    out.push_str(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::to_wire;

    #[test]
    fn line_ends_and_length_are_made_right() {
        let published = "MESSAGE sip:a@b SIP/2.0\nContent-Length:   174\nX: y\n\n<Msg/>";
        assert_eq!(to_wire(published), "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 6\r\nX: y\r\n\r\n<Msg/>");
        let sdp = "INVITE sip:a@b SIP/2.0\nl: 1\n\nv=0\no=x\n";
        assert_eq!(to_wire(sdp), "INVITE sip:a@b SIP/2.0\r\nl: 10\r\n\r\nv=0\r\no=x\r\n");
        assert_eq!(to_wire("SIP/2.0 100 Trying\nCSeq: 1 REGISTER\n"), "SIP/2.0 100 Trying\r\nCSeq: 1 REGISTER\r\n\r\n");
    }
}

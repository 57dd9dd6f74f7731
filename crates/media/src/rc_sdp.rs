//! SDP in the shape RingCentral's media servers write it, and the "shape" of a description
//! that tests compare with captured RingCentral SDP.
//!
//! A captured media-server offer (issue 16, PROTOCOL.md) has exactly these lines, in this
//! order: `v=`, `o=- {19 digits} {19 digits} IN IP4 {media ip}`, `s=SmcSip`, `c=`, `t=0 0`,
//! `m=audio {port} RTP/SAVPF …`, for each payload type its `a=rtpmap`, `a=fmtp` (when it has
//! parameters) and, for Opus, `a=rtcp-fb:{pt} ccm tmmbr`; the direction; `a=rtcp:{port+1}`;
//! `a=rtcp-mux`; `a=setup`; `a=fingerprint:sha-1`; `a=ice-ufrag`; `a=ice-pwd`; host
//! candidates for components 1 and 2 (`UDP` in capitals). It has **no** `a=mid`,
//! `a=group:BUNDLE`, `a=msid`, `a=ssrc`, `a=ice-options` or `a=end-of-candidates`.
//! [`media_server`] rewrites what webrtc-rs wrote into that shape; the stack that wrote it
//! takes answers without a mid because [`crate::AudioPeer`] gives them one on the way in
//! ([`crate::sdp::with_mids`]).


/// What [`media_server`] needs from the stack's own description.
#[derive(Debug, Default)]
struct StackSdp<'a> {
    session_id: u64,
    session_version: u64,
    port: Option<u16>,
    profile: &'a str,
    payload_types: Vec<&'a str>,
    rtpmaps: Vec<(&'a str, &'a str)>,
    fmtps: Vec<(&'a str, &'a str)>,
    direction: Option<&'a str>,
    setup: Option<&'a str>,
    ufrag: Option<&'a str>,
    pwd: Option<&'a str>,
    /// Component-1 host candidates: address, port, priority.
    hosts: Vec<(&'a str, u16, u32)>,
}

impl<'a> StackSdp<'a> {
    fn read(sdp: &'a str) -> StackSdp<'a> {
        let mut s = StackSdp::default();
        for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
            if let Some(origin) = line.strip_prefix("o=") {
                let fields: Vec<&str> = origin.split_whitespace().collect();
                s.session_id = fields.get(1).and_then(|f| f.parse().ok()).unwrap_or(0);
                s.session_version = fields.get(2).and_then(|f| f.parse().ok()).unwrap_or(0);
            } else if let Some(media) = line.strip_prefix("m=audio ") {
                let fields: Vec<&str> = media.split_whitespace().collect();
                s.port = fields.first().and_then(|p| p.parse().ok());
                s.profile = fields.get(1).copied().unwrap_or("RTP/SAVPF");
                s.payload_types = fields.iter().skip(2).copied().collect();
            } else if let Some(a) = line.strip_prefix("a=") {
                s.read_attribute(a);
            }
        }
        s
    }

    fn read_attribute(&mut self, a: &'a str) {
        let (name, value) = a.split_once(':').unwrap_or((a, ""));
        match name {
            "rtpmap" => self.rtpmaps.extend(value.split_once(' ')),
            "fmtp" => self.fmtps.extend(value.split_once(' ')),
            "setup" => self.setup = Some(value),
            "ice-ufrag" => self.ufrag = Some(value),
            "ice-pwd" => self.pwd = Some(value),
            "sendrecv" | "sendonly" | "recvonly" | "inactive" => self.direction = Some(name),
            "candidate" => self.hosts.extend(host_candidate(value)),
            _ => {}
        }
    }

    fn rtpmap(&self, pt: &str) -> Option<&'a str> {
        self.rtpmaps.iter().find(|(p, _)| *p == pt).map(|(_, n)| *n)
    }

    fn fmtp(&self, pt: &str) -> Option<&'a str> {
        self.fmtps.iter().find(|(p, _)| *p == pt).map(|(_, f)| *f)
    }

    /// The address the media server announces: its first IPv4 host candidate.
    fn address(&self) -> Option<(&'a str, u16)> {
        self.hosts.iter().find(|(ip, _, _)| ip.parse::<std::net::Ipv4Addr>().is_ok()).map(|(ip, port, _)| (*ip, *port))
    }
}

/// Address, port and priority of a component-1 host candidate (`a=candidate:` value).
fn host_candidate(value: &str) -> Option<(&str, u16, u32)> {
    let fields: Vec<&str> = value.split_whitespace().collect();
    if fields.len() < 8 || fields[1] != "1" || fields[7] != "host" || !fields[2].eq_ignore_ascii_case("udp") {
        return None;
    }
    Some((fields[4], fields[5].parse().ok()?, fields[3].parse().ok()?))
}

/// `sdp` (as webrtc-rs wrote it) rewritten line for line into a RingCentral media server's
/// shape (see the module doc), with `fingerprint_line` (e.g. `a=fingerprint:sha-1 …`) for
/// our certificate. Offers get RingCentral's `RTP/SAVPF` profile and, beside `111
/// OPUS/48000/2`, its `109 OPUS/16000`; answers keep the offer's profile and the codecs the
/// stack chose.
pub fn media_server(sdp: &str, fingerprint_line: &str, offer: bool) -> String {
    let s = StackSdp::read(sdp);
    let (ip, port) = s.address().unwrap_or(("0.0.0.0", s.port.unwrap_or(9)));
    let mut out = String::with_capacity(sdp.len());
    let mut line = |l: &str| {
        out.push_str(l);
        out.push_str("\r\n");
    };
    // Two 19-digit numbers, as RingCentral writes; the version still counts the stack's.
    let session_id = 1_000_000_000_000_000_000 + s.session_id % 8_000_000_000_000_000_000;
    let version = 1_000_000_000_000_000_000 + s.session_id.rotate_left(29) % 7_000_000_000_000_000_000 + s.session_version;
    line("v=0");
    line(&format!("o=- {session_id} {version} IN IP4 {ip}"));
    line("s=SmcSip");
    line(&format!("c=IN IP4 {ip}"));
    line("t=0 0");
    let mut payload_types = s.payload_types.clone();
    let add_opus16 = offer && payload_types.contains(&"111") && !payload_types.contains(&"109");
    if add_opus16 {
        let at = payload_types.iter().position(|p| *p == "111").unwrap_or(0);
        payload_types.insert(at, "109");
    }
    let profile = if offer { "RTP/SAVPF" } else { s.profile };
    line(&format!("m=audio {port} {profile} {}", payload_types.join(" ")));
    for pt in &payload_types {
        let (name, fmtp) = match (*pt, s.rtpmap(pt)) {
            ("109", None) if add_opus16 => ("OPUS/16000".to_owned(), Some("useinbandfec=1")),
            (_, Some(name)) => (codec_name(name), s.fmtp(pt)),
            (_, None) => continue,
        };
        line(&format!("a=rtpmap:{pt} {name}"));
        if let Some(fmtp) = fmtp.filter(|f| !f.is_empty()) {
            line(&format!("a=fmtp:{pt} {fmtp}"));
        }
        if name.starts_with("OPUS/") {
            line(&format!("a=rtcp-fb:{pt} ccm tmmbr"));
        }
    }
    line(&format!("a={}", s.direction.unwrap_or("sendrecv")));
    line(&format!("a=rtcp:{}", port.wrapping_add(1)));
    line("a=rtcp-mux");
    line(&format!("a=setup:{}", s.setup.unwrap_or("actpass")));
    line(fingerprint_line);
    line(&format!("a=ice-ufrag:{}", s.ufrag.unwrap_or_default()));
    line(&format!("a=ice-pwd:{}", s.pwd.unwrap_or_default()));
    for (ip, port, priority) in &s.hosts {
        let foundation = foundation(s.ufrag.unwrap_or_default(), ip);
        line(&format!("a=candidate:{foundation} 1 UDP {priority} {ip} {port} typ host"));
        line(&format!("a=candidate:{foundation} 2 UDP {} {ip} {} typ host", priority.saturating_sub(1), port.wrapping_add(1)));
    }
    out
}

/// `OPUS/…` in capitals, other encoding names in lower case, as RingCentral writes them.
fn codec_name(name: &str) -> String {
    let (encoding, rest) = name.split_once('/').unwrap_or((name, ""));
    let encoding = if encoding.eq_ignore_ascii_case("opus") { "OPUS".to_owned() } else { encoding.to_ascii_lowercase() };
    if rest.is_empty() {
        encoding
    } else {
        format!("{encoding}/{rest}")
    }
}

/// A 16-character candidate foundation (RingCentral's are 16 letters and digits), the same
/// for the same ICE user and address.
fn foundation(ufrag: &str, ip: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // FNV-1a, then one character per 6 bits of a running mix.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in ufrag.bytes().chain([b'/']).chain(ip.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..16)
        .map(|i| {
            h = h.rotate_left(6).wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(i);
            ALPHABET[(h % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

/// The shape of a description: one entry per line, naming what the line is and leaving out
/// the values that differ from call to call (addresses, ports, keys, ids). Two descriptions
/// with the same shape have the same lines, in the same order, with the same payload types,
/// codec names, parameters, hash algorithm and candidate components.
pub fn shape(sdp: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in sdp.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty()) {
        let (key, value) = line.split_once('=').unwrap_or((line, ""));
        let entry = match key {
            "o" => format!("o={}", origin_shape(value)),
            "c" => format!("c={}", value.split_whitespace().take(2).collect::<Vec<_>>().join(" ")),
            "m" => {
                let mut fields: Vec<&str> = value.split_whitespace().collect();
                if fields.len() > 1 {
                    fields[1] = "{port}";
                }
                format!("m={}", fields.join(" "))
            }
            "a" => attribute_shape(value),
            _ => line.to_owned(),
        };
        out.push(entry);
    }
    out
}

/// `- {n digits} {n digits} IN IP4`: the origin's form without its values.
fn origin_shape(value: &str) -> String {
    let fields: Vec<&str> = value.split_whitespace().collect();
    let digits = |i: usize| fields.get(i).map_or(0, |f| f.len());
    format!("{} {{{} digits}} {{{} digits}} {}", fields.first().unwrap_or(&""), digits(1), digits(2), fields.iter().skip(3).take(2).copied().collect::<Vec<_>>().join(" "))
}

fn attribute_shape(value: &str) -> String {
    let (name, rest) = value.split_once(':').unwrap_or((value, ""));
    match name {
        "rtcp" => "a=rtcp:{port}".into(),
        "ice-ufrag" | "ice-pwd" => format!("a={name}:{{…}}"),
        "fingerprint" => format!("a=fingerprint:{} {{…}}", rest.split_whitespace().next().unwrap_or_default()),
        "candidate" => {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let typ = f.iter().skip_while(|x| **x != "typ").nth(1).copied().unwrap_or_default();
            format!("a=candidate:{{…}} {} {} {{…}} {{ip}} {{port}} typ {typ}", f.get(1).unwrap_or(&""), f.get(2).unwrap_or(&""))
        }
        _ => format!("a={value}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RingCentral's media-server offer as captured (issue 16).
    const CAPTURED: &str = "v=0\r\no=- 7066956197903366029 7997658033229634982 IN IP4 104.245.57.182\r\ns=SmcSip\r\nc=IN IP4 104.245.57.182\r\nt=0 0\r\n\
m=audio 29768 RTP/SAVPF 109 111 18 0 8 9 96 101\r\na=rtpmap:109 OPUS/16000\r\na=fmtp:109 useinbandfec=1\r\na=rtcp-fb:109 ccm tmmbr\r\n\
a=rtpmap:111 OPUS/48000/2\r\na=fmtp:111 useinbandfec=1\r\na=rtcp-fb:111 ccm tmmbr\r\na=rtpmap:18 g729/8000\r\na=fmtp:18 annexb=no\r\n\
a=rtpmap:0 pcmu/8000\r\na=rtpmap:8 pcma/8000\r\na=rtpmap:9 g722/8000\r\na=rtpmap:96 ilbc/8000\r\na=fmtp:96 mode=20\r\n\
a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\na=rtcp:29769\r\na=rtcp-mux\r\na=setup:actpass\r\n\
a=fingerprint:sha-1 8E:C8:DB:21:CE:E5:F8:5A:F9:73:EC:08:B8:4D:5C:2A:96:BA:27:26\r\na=ice-ufrag:mqlmHMAU\r\na=ice-pwd:QTEEF1lt81VyKvJvEHhabIh9JZ\r\n\
a=candidate:Mjq5KtrBWhOTFixu 1 UDP 2130706431 104.245.57.182 29768 typ host\r\n\
a=candidate:Mjq5KtrBWhOTFixu 2 UDP 2130706430 104.245.57.182 29769 typ host\r\n";

    /// What webrtc-rs writes for a RingCentral-style peer (its lines, abridged to one of each kind).
    const STACK: &str = "v=0\r\no=- 4215775240449105457 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 18 0 8 9 96 101\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\na=mid:0\r\na=ice-ufrag:abcdEFGH\r\na=ice-pwd:pwpwpwpwpwpwpwpwpwpwpwpw\r\n\
a=rtcp-mux\r\na=rtcp-rsize\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n\
a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:96 iLBC/8000\r\na=fmtp:96 mode=20\r\n\
a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ssrc:1 cname:x\r\na=ssrc:1 msid:a b\r\na=msid:a b\r\na=sendrecv\r\na=fingerprint:sha-256 AA:BB\r\n\
a=candidate:1 1 udp 2130706431 192.0.2.7 40000 typ host\r\na=end-of-candidates\r\n";

    #[test]
    fn a_media_server_offer_has_exactly_the_captured_shape() {
        let ours = media_server(STACK, "a=fingerprint:sha-1 01:02", true);
        assert_eq!(shape(&ours), shape(CAPTURED), "\n{ours}");
        for absent in ["a=mid", "a=group", "a=msid", "a=ssrc", "end-of-candidates", "a=ice-options", "a=extmap"] {
            assert!(!ours.contains(absent), "{absent} in\n{ours}");
        }
        assert!(ours.contains("m=audio 40000 RTP/SAVPF 109 111 18 0 8 9 96 101\r\n") && ours.contains("c=IN IP4 192.0.2.7\r\n"), "{ours}");
        assert!(ours.contains("a=rtcp:40001\r\n") && ours.contains(" 2 UDP 2130706430 192.0.2.7 40001 typ host\r\n"), "{ours}");
    }

    #[test]
    fn an_answer_keeps_the_offers_profile_and_the_stacks_codecs() {
        let stack = STACK.replace("111 18 0 8 9 96 101", "0 101").replace("a=setup:actpass", "a=setup:active");
        let ours = media_server(&stack, "a=fingerprint:sha-1 01:02", false);
        assert!(ours.contains("m=audio 40000 UDP/TLS/RTP/SAVPF 0 101\r\na=rtpmap:0 pcmu/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"), "{ours}");
        assert!(ours.contains("a=setup:active\r\n") && !ours.contains("a=mid"), "{ours}");
    }

    #[test]
    fn the_origin_counts_the_stacks_versions() {
        let version = |sdp: &str| crate::sdp::origin_version(sdp).unwrap();
        let first = media_server(STACK, "a=fingerprint:sha-1 01:02", true);
        let second = media_server(&STACK.replace(" 2 IN IP4", " 3 IN IP4"), "a=fingerprint:sha-1 01:02", true);
        assert_eq!(version(&second), version(&first) + 1);
        assert_eq!(first.lines().nth(1).unwrap().split_whitespace().nth(1).unwrap().len(), 19);
    }

    #[test]
    fn shapes_tell_lines_apart_but_not_values() {
        let other_call = CAPTURED.replace("29768", "40000").replace("mqlmHMAU", "zzzz").replace("104.245.57.182", "10.0.0.1");
        assert_eq!(shape(&other_call), shape(CAPTURED));
        assert_ne!(shape(&format!("{CAPTURED}a=mid:0\r\n")), shape(CAPTURED));
        assert_ne!(shape(&CAPTURED.replace("sha-1", "sha-256")), shape(CAPTURED));
    }
}

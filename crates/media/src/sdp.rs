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

/// Why an offer cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfferProblem {
    /// There is no audio section.
    #[error("the offer has no audio")]
    NoAudio,
    /// The audio section's transport profile is not DTLS-SRTP.
    #[error("unsupported media profile \"{0}\" (DTLS-SRTP needed)")]
    Profile(String),
    /// The DTLS fingerprint is missing or unusable.
    #[error(transparent)]
    Fingerprint(#[from] crate::fingerprint::FingerprintError),
    /// None of the offered codecs is one we speak.
    #[error("no codec in common (we speak {0})")]
    NoCommonCodec(String),
}

/// Checks that an offer can be answered with `allowed` codecs before a call rings: audio
/// over DTLS-SRTP (`UDP/TLS/RTP/SAVPF` or RingCentral's `RTP/SAVPF`), a usable fingerprint,
/// a codec in common.
pub fn check_offer(sdp: &str, allowed: &[crate::codecs::AudioCodec]) -> Result<(), OfferProblem> {
    let media = sdp.lines().map(|l| l.trim_end_matches('\r')).find_map(|l| l.strip_prefix("m=audio ")).ok_or(OfferProblem::NoAudio)?;
    let profile = media.split_whitespace().nth(1).unwrap_or_default();
    if !matches!(profile, "UDP/TLS/RTP/SAVPF" | "RTP/SAVPF" | "UDP/TLS/RTP/SAVP" | "RTP/SAVP") {
        return Err(OfferProblem::Profile(profile.to_owned()));
    }
    crate::fingerprint::parse(sdp)?;
    if crate::codecs::Negotiated::from_sdp(sdp, allowed).send.is_none() {
        let names: Vec<String> = allowed.iter().map(|c| format!("{c:?}")).collect();
        return Err(OfferProblem::NoCommonCodec(names.join(", ")));
    }
    Ok(())
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

/// The direction an answer must have for an offer with direction `offered`.
pub fn answer_direction(offered: &str) -> &'static str {
    match offered {
        "sendonly" => "recvonly",
        "recvonly" => "sendonly",
        "inactive" => "inactive",
        _ => "sendrecv",
    }
}

/// `offer` with Opus at 48 kHz moved before Opus at other RTP clock rates in the audio
/// payload list. RingCentral lists `OPUS/16000` first; webrtc-rs matches offered codecs to
/// ours by name and format parameters only (not by clock rate) and keeps one offered payload
/// type per codec of ours, so without this it would answer with Opus on the 16 kHz clock.
pub fn prefer_opus_48k(offer: &str) -> String {
    let mut names: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    for l in offer.lines() {
        if let Some((p, name)) = l.trim_end_matches('\r').strip_prefix("a=rtpmap:").and_then(|r| r.split_once(' ')) {
            names.entry(p).or_insert_with(|| name.to_ascii_lowercase());
        }
    }
    let rtpmap = |pt: &str| names.get(pt).cloned();
    let mut out = String::with_capacity(offer.len());
    for line in offer.lines().map(|l| l.trim_end_matches('\r')) {
        let Some(rest) = line.strip_prefix("m=audio ") else {
            push_line(&mut out, line);
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() < 3 {
            push_line(&mut out, line);
            continue;
        }
        let pts = &fields[2..];
        let is_opus = |pt: &&str| rtpmap(pt).is_some_and(|n| n.starts_with("opus/"));
        let is_opus48 = |pt: &&str| rtpmap(pt).is_some_and(|n| n.starts_with("opus/48000"));
        let first_opus = pts.iter().position(is_opus);
        let opus48 = pts.iter().position(is_opus48);
        let mut order: Vec<&str> = pts.to_vec();
        if let (Some(first), Some(at)) = (first_opus, opus48) {
            if at > first {
                let pt = order.remove(at);
                order.insert(first, pt);
            }
        }
        push_line(&mut out, &format!("m=audio {} {} {}", fields[0], fields[1], order.join(" ")));
    }
    out
}

/// `offer` prepared for webrtc-rs, which matches offered codecs to ours by name and format
/// parameters but not by RTP clock rate, and keeps one offered payload type per codec of
/// ours: Opus at 48 kHz is moved first ([`prefer_opus_48k`]); when Opus is offered only on
/// another clock (RingCentral's `OPUS/16000`), its rtpmap is renamed `opus/48000/2` for the
/// stack and the original lines are returned, for [`restore_rtpmaps`] to put back into the
/// answer. The Opus payload is the same whatever the RTP clock; our packetiser uses the
/// clock of the restored answer.
pub fn opus_for_webrtc(offer: &str) -> (String, Vec<(String, String)>) {
    let offer = prefer_opus_48k(offer);
    let opus: Vec<(String, bool)> = offer
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix("a=rtpmap:")?.split_once(' ').map(|(p, n)| (p.to_owned(), n.to_ascii_lowercase())))
        .filter(|(_, n)| n.starts_with("opus/"))
        .map(|(p, n)| (p, n.starts_with("opus/48000")))
        .collect();
    if opus.iter().any(|(_, is48)| *is48) {
        // The stack would answer with whichever Opus it meets first: show it only 48 kHz.
        let others: Vec<&str> = opus.iter().filter(|(_, is48)| !is48).map(|(p, _)| p.as_str()).collect();
        return (without_payload_types(&offer, &others), Vec::new());
    }
    let mut renamed = Vec::new();
    let mut out = String::with_capacity(offer.len());
    for line in offer.lines().map(|l| l.trim_end_matches('\r')) {
        match line.strip_prefix("a=rtpmap:").and_then(|r| r.split_once(' ')) {
            Some((pt, name)) if name.to_ascii_lowercase().starts_with("opus/") => {
                renamed.push((pt.to_owned(), name.to_owned()));
                push_line(&mut out, &format!("a=rtpmap:{pt} opus/48000/2"));
            }
            _ => push_line(&mut out, line),
        }
    }
    (out, renamed)
}

/// `sdp` without the payload types `drop` (from the audio line and their a= lines).
fn without_payload_types(sdp: &str, drop: &[&str]) -> String {
    if drop.is_empty() {
        return sdp.to_owned();
    }
    let drop: std::collections::HashSet<&str> = drop.iter().copied().collect();
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
        let attribute_pt = ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"].iter().find_map(|p| line.strip_prefix(p)).and_then(|r| r.split([' ', '\t']).next());
        if attribute_pt.is_some_and(|pt| drop.contains(&pt)) {
            continue;
        }
        match line.strip_prefix("m=audio ") {
            Some(rest) => {
                let kept: Vec<&str> = rest.split_whitespace().enumerate().filter(|(i, f)| *i < 2 || !drop.contains(*f)).map(|(_, f)| f).collect();
                push_line(&mut out, &format!("m=audio {}", kept.join(" ")));
            }
            None => push_line(&mut out, line),
        }
    }
    out
}

/// `answer` with the rtpmap lines [`opus_for_webrtc`] renamed put back as the far end wrote them.
pub fn restore_rtpmaps(answer: &str, renamed: &[(String, String)]) -> String {
    if renamed.is_empty() {
        return answer.to_owned();
    }
    let mut out = String::with_capacity(answer.len());
    for line in answer.lines().map(|l| l.trim_end_matches('\r')) {
        let original = line.strip_prefix("a=rtpmap:").and_then(|r| r.split_once(' ')).and_then(|(pt, _)| renamed.iter().find(|(p, _)| p == pt));
        match original {
            Some((pt, name)) => push_line(&mut out, &format!("a=rtpmap:{pt} {name}")),
            None => push_line(&mut out, line),
        }
    }
    out
}

/// The `a=mid` of each media section, in order (`None` for a section without one).
pub fn mids(sdp: &str) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
        if line.starts_with("m=") {
            out.push(None);
        } else if let (Some(mid), Some(last)) = (line.strip_prefix("a=mid:"), out.last_mut()) {
            *last = Some(mid.trim().to_owned());
        }
    }
    out
}

/// True when some media section has no `a=mid`, as RingCentral's media servers and other
/// pre-BUNDLE stacks write SDP.
pub fn lacks_mids(sdp: &str) -> bool {
    mids(sdp).iter().any(Option::is_none)
}

/// `remote` with an `a=mid` at the end of each media section that has none, so that
/// webrtc-rs (which refuses such sections) can take it: the mid of our own description's
/// section at the same index (`ours`), else the section's index, as JSEP does (RFC 8829
/// 5.8: a missing mid is the m-line index). Without a group line one is added naming every
/// mid: webrtc-rs answers port 0 (a rejected section) for each mid outside the offer's
/// BUNDLE group, even when there is no group at all. Our answer loses both again
/// ([`without_mids`]).
pub fn with_mids(remote: &str, ours: &[Option<String>]) -> String {
    let mid_for = |index: usize| ours.get(index).cloned().flatten().unwrap_or_else(|| index.to_string());
    let mut out = String::with_capacity(remote.len() + 16);
    let (mut section, mut has_mid) = (None::<usize>, true);
    let needs_group = !remote.lines().any(|l| l.starts_with("a=group:"));
    for line in remote.lines().map(|l| l.trim_end_matches('\r')) {
        if line.starts_with("m=") {
            if section.is_none() && needs_group {
                let all: Vec<String> = mids(remote).into_iter().enumerate().map(|(i, m)| m.unwrap_or_else(|| mid_for(i))).collect();
                push_line(&mut out, &format!("a=group:BUNDLE {}", all.join(" ")));
            }
            if let (Some(i), false) = (section, has_mid) {
                push_line(&mut out, &format!("a=mid:{}", mid_for(i)));
            }
            section = Some(section.map_or(0, |i| i + 1));
            has_mid = false;
        }
        has_mid |= line.starts_with("a=mid:");
        push_line(&mut out, line);
    }
    if let (Some(i), false) = (section, has_mid) {
        push_line(&mut out, &format!("a=mid:{}", mid_for(i)));
    }
    out
}

/// The transport profile of the first audio section (`RTP/SAVPF`, `UDP/TLS/RTP/SAVPF`…).
pub fn audio_profile(sdp: &str) -> Option<&str> {
    sdp.lines().find_map(|l| l.trim_end_matches('\r').strip_prefix("m=audio "))?.split_whitespace().nth(1)
}

/// `sdp` with `profile` in its audio sections. An answer uses the offer's profile (RFC 3264
/// 6); webrtc-rs writes `UDP/TLS/RTP/SAVPF` whatever was offered, and RingCentral offers
/// `RTP/SAVPF`.
pub fn with_audio_profile(sdp: &str, profile: &str) -> String {
    let mut out = String::with_capacity(sdp.len() + 8);
    for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
        match line.strip_prefix("m=audio ") {
            Some(rest) => {
                let mut fields: Vec<&str> = rest.split_whitespace().collect();
                if fields.len() > 1 {
                    fields[1] = profile;
                }
                push_line(&mut out, &format!("m=audio {}", fields.join(" ")));
            }
            None => push_line(&mut out, line),
        }
    }
    out
}

/// `sdp` with its first IPv4 host candidate as the default destination in `m=` and `c=`
/// (RFC 8839 4.2.1.1), as browsers write a gathered description; webrtc-rs leaves `9` and
/// `0.0.0.0`, which a media server that looks at them before ICE takes as "no address".
pub fn with_default_candidate(sdp: &str) -> String {
    let host = sdp.lines().filter_map(|l| l.trim_end_matches('\r').strip_prefix("a=candidate:")).find_map(|c| {
        let f: Vec<&str> = c.split_whitespace().collect();
        (f.len() >= 8 && f[1] == "1" && f[7] == "host" && f[4].parse::<std::net::Ipv4Addr>().is_ok()).then(|| (f[4], f[5]))
    });
    let Some((ip, port)) = host else { return sdp.to_owned() };
    let mut out = String::with_capacity(sdp.len() + 16);
    let mut in_media = false;
    for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
        if let Some(rest) = line.strip_prefix("m=audio ") {
            in_media = true;
            let mut fields: Vec<&str> = rest.split_whitespace().collect();
            if fields.first().is_some_and(|p| *p != "0") {
                fields[0] = port;
            }
            push_line(&mut out, &format!("m=audio {}", fields.join(" ")));
        } else if in_media && line.starts_with("c=IN IP4 ") {
            push_line(&mut out, &format!("c=IN IP4 {ip}"));
        } else {
            push_line(&mut out, line);
        }
    }
    out
}

/// `sdp` without `a=mid` and `a=group` lines: our answer to an offer that has no mid (RFC
/// 5888 9.1 and RFC 8843 7.3: the answerer does not add grouping the offerer did not use).
pub fn without_mids(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.lines().map(|l| l.trim_end_matches('\r')) {
        if !(line.starts_with("a=mid:") || line.starts_with("a=group:")) {
            push_line(&mut out, line);
        }
    }
    out
}

/// `remote` with its direction written out in every media section that has none: the
/// session-level one, else `sendrecv` (RFC 4566 6, RFC 3264 5.1). Linphone writes no
/// direction in a call that is not on hold; webrtc-rs skips a remote section without one
/// (its answer then has no media section at all, and an answer's section is never bound).
pub fn with_explicit_directions(remote: &str) -> String {
    let session = remote
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .take_while(|l| !l.starts_with("m="))
        .filter_map(|l| l.strip_prefix("a="))
        .find(|a| DIRECTIONS.contains(a))
        .unwrap_or("sendrecv");
    let mut out = String::with_capacity(remote.len() + 16);
    let mut section: Option<(String, bool)> = None;
    let flush = |out: &mut String, section: &mut Option<(String, bool)>| {
        if let Some((text, has_direction)) = section.take() {
            out.push_str(&text);
            if !has_direction {
                push_line(out, &format!("a={session}"));
            }
        }
    };
    for line in remote.lines().map(|l| l.trim_end_matches('\r')) {
        if line.starts_with("m=") {
            flush(&mut out, &mut section);
            section = Some((String::new(), false));
        }
        match section.as_mut() {
            Some((text, has_direction)) => {
                *has_direction |= line.strip_prefix("a=").is_some_and(|a| DIRECTIONS.contains(&a));
                push_line(text, line);
            }
            None => push_line(&mut out, line),
        }
    }
    flush(&mut out, &mut section);
    out
}

/// `remote` without the candidates of components other than 1 (RTCP) in media sections that
/// have `a=rtcp-mux`: with RTP and RTCP on one port only component 1 is used (RFC 5761
/// 5.1.3, RFC 8445 5.1.1.1); an offerer lists RTCP candidates only in case the answerer
/// refuses multiplexing, which we never do. webrtc-rs takes every candidate as one more
/// address of the one component and checks it too; Linphone 5.1 (whose offers list
/// `a=candidate:1 2 UDP … {port+1} typ host`) then learns a peer-reflexive candidate for its
/// component 2 from our check and crashes while nominating (`segfault … in
/// libbctoolbox.so.1`).
pub fn without_rtcp_candidates(remote: &str) -> String {
    let lines: Vec<&str> = remote.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut out = String::with_capacity(remote.len());
    let mut muxed = false;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("m=") {
            muxed = lines[i + 1..].iter().take_while(|l| !l.starts_with("m=")).any(|l| *l == "a=rtcp-mux");
        }
        let component = line.strip_prefix("a=candidate:").and_then(|c| c.split_whitespace().nth(1));
        if !(muxed && component.is_some_and(|c| c != "1")) {
            push_line(&mut out, line);
        }
    }
    out
}

/// `offer` with telephone-event at 8000 Hz (payload type `pt`) in each audio section that
/// offers G.711 but lists telephone-event at no other rate than 48000. RFC 4733 events use the
/// clock of the audio they go with; webrtc-rs 0.21 matches our codecs by name and format
/// parameters without the clock rate, so of our two telephone-events (48000 with Opus, 8000
/// with G.711) its offers keep only the first: a far end that takes only PCMU (Linphone with
/// Opus off) then answers without telephone-event and no DTMF passes either way. The stack
/// need not know the type: we packetise DTMF ourselves and read it by the negotiated type.
pub fn with_telephone_event_8000(offer: &str, pt: u8) -> String {
    let lines: Vec<&str> = offer.lines().map(|l| l.trim_end_matches('\r')).collect();
    let pt = pt.to_string();
    let event = [format!("a=rtpmap:{pt} telephone-event/8000"), format!("a=fmtp:{pt} 0-16")];
    let mut out = String::with_capacity(offer.len() + 64);
    let mut i = 0;
    while i < lines.len() {
        let Some(fields) = lines[i].strip_prefix("m=audio ") else {
            push_line(&mut out, lines[i]);
            i += 1;
            continue;
        };
        let end = section_end(&lines, i);
        let section = &lines[i + 1..end];
        if lacks_telephone_event_8000(fields, section, &pt) {
            push_line(&mut out, &format!("{} {pt}", lines[i]));
            // After the section's last rtpmap/fmtp line, where the formats are described.
            let at = section.iter().rposition(|l| l.starts_with("a=rtpmap:") || l.starts_with("a=fmtp:")).map_or(0, |n| n + 1);
            section[..at].iter().for_each(|l| push_line(&mut out, l));
            event.iter().for_each(|l| push_line(&mut out, l));
            section[at..].iter().for_each(|l| push_line(&mut out, l));
        } else {
            lines[i..end].iter().for_each(|l| push_line(&mut out, l));
        }
        i = end;
    }
    out
}

/// True when an audio section (`fields`: its `m=audio` line after the prefix; `section`: its
/// other lines) offers G.711, no telephone-event at 8000 Hz, and does not use payload type `pt`.
fn lacks_telephone_event_8000(fields: &str, section: &[&str], pt: &str) -> bool {
    let pts: Vec<&str> = fields.split_whitespace().skip(2).collect();
    let name_of = |p: &str| section.iter().find_map(|l| l.strip_prefix("a=rtpmap:")?.split_once(' ').filter(|(q, _)| *q == p).map(|(_, n)| n.to_ascii_lowercase()));
    let g711 = pts.iter().any(|p| matches!(*p, "0" | "8") || name_of(p).is_some_and(|n| n.starts_with("pcmu/") || n.starts_with("pcma/")));
    let has_8k = pts.iter().any(|p| name_of(p).is_some_and(|n| n == "telephone-event/8000"));
    g711 && !has_8k && !pts.contains(&pt)
}

/// The index just after the media section whose `m=` line is `lines[at]`.
fn section_end(lines: &[&str], at: usize) -> usize {
    lines[at + 1..].iter().position(|l| l.starts_with("m=")).map_or(lines.len(), |n| at + 1 + n)
}

/// The static audio payload types we speak (RFC 3551 6), which may come without rtpmap.
const STATIC_AUDIO: [(&str, &str); 2] = [("0", "PCMU/8000"), ("8", "PCMA/8000")];

/// `remote` with an `a=rtpmap` line for each static payload type we speak (PCMU 0, PCMA 8)
/// that its audio sections list without one (RFC 3551 6 lets them go without; Linphone
/// writes `m=audio … 96 0 97 101` and no rtpmap for 0). webrtc-rs matches offered codecs by
/// rtpmap only, so without it G.711 is left out of the answer.
pub fn with_static_rtpmaps(remote: &str) -> String {
    let mut out = String::with_capacity(remote.len() + 32);
    let lines: Vec<&str> = remote.lines().map(|l| l.trim_end_matches('\r')).collect();
    for (i, line) in lines.iter().enumerate() {
        push_line(&mut out, line);
        let Some(rest) = line.strip_prefix("m=audio ") else { continue };
        let section = &lines[i + 1..section_end(&lines, i)];
        for pt in rest.split_whitespace().skip(2) {
            let mapped = section.iter().any(|l| l.strip_prefix("a=rtpmap:").and_then(|r| r.split_once(' ')).is_some_and(|(p, _)| p == pt));
            if let (false, Some((_, name))) = (mapped, STATIC_AUDIO.iter().find(|(p, _)| *p == pt)) {
                push_line(&mut out, &format!("a=rtpmap:{pt} {name}"));
            }
        }
    }
    out
}

/// `answer` with each payload type once in its `m=` lines and each `a=rtpmap`/`a=fmtp` line
/// once. webrtc-rs 0.21 matches offered codecs to ours by name without the clock rate, so
/// when the far end offers telephone-event at 48000 and at 8000 (Linphone: 97 and 101;
/// Chromium too) both of ours take the first and the answer lists it twice
/// (`m=audio … 96 97 97`, two `a=rtpmap:97` lines).
pub fn without_repeated_payload_types(answer: &str) -> String {
    let mut out = String::with_capacity(answer.len());
    let mut seen_attributes: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for line in answer.lines().map(|l| l.trim_end_matches('\r')) {
        if line.starts_with("m=") {
            seen_attributes.clear();
            let fields: Vec<&str> = line.split_whitespace().collect();
            let mut kept: Vec<&str> = Vec::with_capacity(fields.len());
            for (i, f) in fields.iter().enumerate() {
                if i < 3 || !kept[3..].contains(f) {
                    kept.push(f);
                }
            }
            push_line(&mut out, &kept.join(" "));
        } else if (line.starts_with("a=rtpmap:") || line.starts_with("a=fmtp:")) && !seen_attributes.insert(line) {
            continue;
        } else {
            push_line(&mut out, line);
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
    fn directions_are_read_rewritten_and_answered() {
        let held = with_direction(OFFER, "sendonly");
        assert!(held.contains("a=sendonly\r\n") && !held.contains("sendrecv"));
        assert_eq!(direction(&held), "sendonly");
        assert_eq!(answer_direction(direction(&held)), "recvonly");
        assert_eq!(answer_direction("inactive"), "inactive");
        assert_eq!(answer_direction("sendrecv"), "sendrecv");
    }

    #[test]
    fn sections_without_a_mid_get_ours_or_their_index_and_answers_lose_them() {
        let rc = "v=0\r\nm=audio 5 RTP/SAVPF 0\r\na=rtpmap:0 pcmu/8000\r\nm=audio 7 RTP/SAVPF 0\r\na=mid:x\r\n";
        assert_eq!(mids(rc), vec![None, Some("x".to_owned())]);
        assert!(lacks_mids(rc) && !lacks_mids(OFFER));
        let fixed = with_mids(rc, &[]);
        assert_eq!(fixed, "v=0\r\na=group:BUNDLE 0 x\r\nm=audio 5 RTP/SAVPF 0\r\na=rtpmap:0 pcmu/8000\r\na=mid:0\r\nm=audio 7 RTP/SAVPF 0\r\na=mid:x\r\n");
        assert!(!with_mids(&format!("a=group:LS 0\r\n{rc}"), &[]).contains("BUNDLE"), "a group the far end wrote is kept as it is");
        assert_eq!(with_audio_profile(&fixed, "RTP/SAVPF").matches("m=audio").count(), 2);
        assert_eq!(audio_profile("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"), Some("UDP/TLS/RTP/SAVPF"));
        let gathered = "c=IN IP4 0.0.0.0\r\nm=audio 9 RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=candidate:1 1 udp 1 ::1 5000 typ host\r\na=candidate:2 1 udp 1 192.0.2.7 4000 typ host\r\n";
        assert_eq!(with_default_candidate(gathered), "c=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/SAVPF 0\r\nc=IN IP4 192.0.2.7\r\na=candidate:1 1 udp 1 ::1 5000 typ host\r\na=candidate:2 1 udp 1 192.0.2.7 4000 typ host\r\n");
        assert!(with_audio_profile("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "RTP/SAVPF").starts_with("m=audio 9 RTP/SAVPF 111\r\n"));
        assert!(with_mids(rc, &[Some("audio".into())]).contains("a=mid:audio\r\n"));
        let answer = "v=0\r\na=group:BUNDLE 0\r\nm=audio 9 RTP/SAVPF 0\r\na=mid:0\r\na=sendrecv\r\n";
        assert_eq!(without_mids(answer), "v=0\r\nm=audio 9 RTP/SAVPF 0\r\na=sendrecv\r\n");
    }

    #[test]
    fn opus_48k_moves_ahead_of_opus_16k() {
        let offer = "m=audio 5 RTP/SAVPF 109 111 18 0 101\r\na=rtpmap:109 OPUS/16000\r\na=rtpmap:111 OPUS/48000/2\r\n";
        assert!(prefer_opus_48k(offer).starts_with("m=audio 5 RTP/SAVPF 111 109 18 0 101\r\n"));
        let no48 = "m=audio 5 RTP/SAVPF 109 0\r\na=rtpmap:109 OPUS/16000\r\n";
        assert_eq!(prefer_opus_48k(no48), no48);
    }

    #[test]
    fn opus_on_another_clock_is_renamed_for_the_stack_and_restored() {
        let offer = "m=audio 5 RTP/SAVPF 109 0\r\na=rtpmap:109 OPUS/16000\r\na=rtpmap:0 pcmu/8000\r\n";
        let (for_stack, renamed) = opus_for_webrtc(offer);
        assert!(for_stack.contains("a=rtpmap:109 opus/48000/2\r\n"));
        assert_eq!(renamed, vec![("109".to_owned(), "OPUS/16000".to_owned())]);
        let answer = "m=audio 9 RTP/SAVPF 109\r\na=rtpmap:109 opus/48000/2\r\n";
        assert_eq!(restore_rtpmaps(answer, &renamed), "m=audio 9 RTP/SAVPF 109\r\na=rtpmap:109 OPUS/16000\r\n");
        let both = "m=audio 5 RTP/SAVPF 109 111\r\na=rtpmap:109 OPUS/16000\r\na=fmtp:109 useinbandfec=1\r\na=rtpmap:111 OPUS/48000/2\r\n";
        let (for_stack, renamed) = opus_for_webrtc(both);
        assert!(renamed.is_empty());
        assert_eq!(for_stack, "m=audio 5 RTP/SAVPF 111\r\na=rtpmap:111 OPUS/48000/2\r\n");
    }

    #[test]
    fn offers_are_checked_before_ringing() {
        use crate::codecs::AudioCodec;
        let good = "v=0\r\nm=audio 5 RTP/SAVPF 109 0\r\na=rtpmap:109 OPUS/16000\r\na=rtpmap:0 pcmu/8000\r\na=fingerprint:sha-1 01:02\r\n";
        assert_eq!(check_offer(good, &AudioCodec::ALL), Ok(()));
        assert!(matches!(check_offer(&good.replace("a=fingerprint:sha-1 01:02\r\n", ""), &AudioCodec::ALL), Err(OfferProblem::Fingerprint(_))));
        assert_eq!(check_offer(&good.replace("RTP/SAVPF", "RTP/AVP"), &AudioCodec::ALL), Err(OfferProblem::Profile("RTP/AVP".into())));
        assert!(matches!(check_offer(good, &[AudioCodec::Pcma]), Err(OfferProblem::NoCommonCodec(_))));
        let g729 = "m=audio 5 RTP/SAVPF 18\r\na=rtpmap:18 g729/8000\r\na=fingerprint:sha-1 01:02\r\n";
        assert!(matches!(check_offer(g729, &AudioCodec::ALL), Err(OfferProblem::NoCommonCodec(_))));
        assert_eq!(check_offer("v=0\r\n", &AudioCodec::ALL), Err(OfferProblem::NoAudio));
    }

    #[test]
    fn hold_rewrites_direction_and_version() {
        let held = with_origin_version(&with_direction(OFFER, "sendonly"), 3);
        assert!(held.contains("a=sendonly\r\n") && !held.contains("sendrecv"));
        assert!(held.starts_with("v=0\r\no=- 4611 3 IN IP4 127.0.0.1\r\n"));
        assert_eq!(direction(&held), "sendonly");
        assert_eq!(origin_version(&held), Some(3));
        assert_eq!(with_direction(&held, "sendrecv"), with_origin_version(OFFER, 3));
    }

    /// Linphone's offer (interop/linphone/captured-sdp-offer.txt): no direction, no mid, ICE
    /// credentials at session level, PCMU without rtpmap, two telephone-events.
    const LINPHONE_OFFER: &str = "v=0\r\no=alice 4000 897 IN IP4 127.0.0.1\r\ns=Talk\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=ice-pwd:883d4d1ef2e942510abca8d0\r\na=ice-ufrag:40c95f32\r\nm=audio 53650 UDP/TLS/RTP/SAVPF 96 0 97 101\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\na=rtpmap:97 telephone-event/48000\r\na=rtpmap:101 telephone-event/8000\r\na=setup:actpass\r\na=rtcp-mux\r\na=candidate:1 1 UDP 2130706303 127.0.0.1 53650 typ host\r\n";

    #[test]
    fn sections_without_a_direction_get_the_session_one_or_sendrecv() {
        let fixed = with_explicit_directions(LINPHONE_OFFER);
        assert!(fixed.ends_with("typ host\r\na=sendrecv\r\n"), "{fixed}");
        assert_eq!(fixed.matches("a=sendrecv").count(), 1);
        assert_eq!(with_explicit_directions(&fixed), fixed, "a written direction is kept");
        let held = "v=0\r\na=sendonly\r\nm=audio 5 RTP/SAVPF 0\r\nm=audio 7 RTP/SAVPF 0\r\na=inactive\r\n";
        assert_eq!(with_explicit_directions(held), "v=0\r\na=sendonly\r\nm=audio 5 RTP/SAVPF 0\r\na=sendonly\r\nm=audio 7 RTP/SAVPF 0\r\na=inactive\r\n");
        assert_eq!(with_explicit_directions("v=0\r\n"), "v=0\r\n");
    }

    #[test]
    fn rtcp_candidates_are_dropped_where_rtcp_is_multiplexed() {
        let offer = format!("{LINPHONE_OFFER}a=candidate:1 2 UDP 2130706302 127.0.0.1 53651 typ host\r\n");
        assert_eq!(without_rtcp_candidates(&offer), LINPHONE_OFFER);
        let unmuxed = "m=audio 5 RTP/SAVPF 0\r\na=candidate:1 2 UDP 1 127.0.0.1 6 typ host\r\nm=audio 7 RTP/SAVPF 0\r\na=rtcp-mux\r\na=candidate:1 2 UDP 1 127.0.0.1 8 typ host\r\n";
        assert_eq!(without_rtcp_candidates(unmuxed), "m=audio 5 RTP/SAVPF 0\r\na=candidate:1 2 UDP 1 127.0.0.1 6 typ host\r\nm=audio 7 RTP/SAVPF 0\r\na=rtcp-mux\r\n");
    }

    #[test]
    fn offers_with_g711_get_telephone_event_at_8000() {
        let offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:110 telephone-event/48000\r\na=fmtp:110 0-16\r\na=sendrecv\r\n";
        let fixed = with_telephone_event_8000(offer, 126);
        assert_eq!(fixed, "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110 126\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:110 telephone-event/48000\r\na=fmtp:110 0-16\r\na=rtpmap:126 telephone-event/8000\r\na=fmtp:126 0-16\r\na=sendrecv\r\n");
        assert_eq!(with_telephone_event_8000(&fixed, 126), fixed, "added once");
        let opus_only = "m=audio 9 UDP/TLS/RTP/SAVPF 111 110\r\na=rtpmap:111 opus/48000/2\r\n";
        assert_eq!(with_telephone_event_8000(opus_only, 126), opus_only);
        assert_eq!(with_telephone_event_8000("m=audio 9 RTP/AVP 0\r\n", 101), "m=audio 9 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n");
    }

    #[test]
    fn static_payload_types_get_their_rtpmap() {
        let fixed = with_static_rtpmaps(LINPHONE_OFFER);
        assert!(fixed.contains("m=audio 53650 UDP/TLS/RTP/SAVPF 96 0 97 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 opus/48000/2\r\n"), "{fixed}");
        assert_eq!(with_static_rtpmaps(&fixed), fixed, "an rtpmap is added once");
        let both = "m=audio 5 RTP/AVP 8 0 18\r\na=rtpmap:0 pcmu/8000\r\n";
        assert_eq!(with_static_rtpmaps(both), "m=audio 5 RTP/AVP 8 0 18\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 pcmu/8000\r\n");
    }

    #[test]
    fn repeated_payload_types_are_written_once() {
        let answer = "m=audio 9 UDP/TLS/RTP/SAVPF 96 97 97\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:97 telephone-event/48000\r\na=fmtp:97 0-16\r\na=rtpmap:97 telephone-event/48000\r\na=fmtp:97 0-16\r\nm=audio 9 RTP/SAVPF 97\r\na=rtpmap:97 telephone-event/48000\r\n";
        assert_eq!(
            without_repeated_payload_types(answer),
            "m=audio 9 UDP/TLS/RTP/SAVPF 96 97\r\na=rtpmap:96 opus/48000/2\r\na=rtpmap:97 telephone-event/48000\r\na=fmtp:97 0-16\r\nm=audio 9 RTP/SAVPF 97\r\na=rtpmap:97 telephone-event/48000\r\n"
        );
    }

    #[test]
    fn adds_a_missing_direction() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 RTP/SAVPF 0\r\na=rtpmap:0 pcmu/8000\r\n";
        assert_eq!(direction(sdp), "sendrecv");
        let held = with_direction(sdp, "sendonly");
        assert!(held.ends_with("a=rtpmap:0 pcmu/8000\r\na=sendonly\r\n"), "{held}");
    }
}

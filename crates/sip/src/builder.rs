//! Building the requests and responses a user agent sends, with fresh identifiers.
//!
//! Randomness comes from the caller (`&mut impl RngCore`), so tests can use a seeded source.

use crate::header::{HeaderName, NameAddr, Via};
use crate::message::{reason_phrase, Request, Response, WithBody};
use crate::method::Method;
use crate::uri::{SipUri, Uri};
use rand::RngCore;

const ALPHANUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random lower-case letters and digits.
pub fn random_token(rng: &mut impl RngCore, len: usize) -> String {
    (0..len).map(|_| ALPHANUM[(rng.next_u32() % ALPHANUM.len() as u32) as usize] as char).collect()
}

/// A fresh RFC 3261 branch: `z9hG4bK-` and 16 random characters.
pub fn new_branch(rng: &mut impl RngCore) -> String {
    format!("{}-{}", crate::header::MAGIC_COOKIE, random_token(rng, 16))
}

/// A fresh From/To tag.
pub fn new_tag(rng: &mut impl RngCore) -> String {
    random_token(rng, 12)
}

/// A fresh Call-ID.
pub fn new_call_id(rng: &mut impl RngCore) -> String {
    random_token(rng, 24)
}

/// A random starting CSeq number (below 2^31, leaving room to count up).
pub fn new_cseq(rng: &mut impl RngCore) -> u32 {
    rng.next_u32() % 0x4000_0000 + 1
}

/// How this user agent appears on the wire: transport, Via host, Contact and User-Agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalEndpoint {
    /// Via transport, e.g. `WSS`.
    pub transport: String,
    /// Via sent-by host, e.g. `x7k2.invalid` (RFC 7118 allows a made-up host).
    pub via_host: String,
    /// Via sent-by port, if any.
    pub via_port: Option<u16>,
    /// Our Contact URI.
    pub contact: SipUri,
    /// User-Agent header value.
    pub user_agent: Option<String>,
}

impl LocalEndpoint {
    /// An endpoint with random `.invalid` names, as WebSocket clients use (RFC 7118).
    pub fn random_ws(rng: &mut impl RngCore, secure: bool, user_agent: Option<&str>) -> Self {
        let (transport, param) = if secure { ("WSS", "wss") } else { ("WS", "ws") };
        let host = format!("{}.invalid", random_token(rng, 12));
        let contact = SipUri::new(Some(&random_token(rng, 8)), &format!("{}.invalid", random_token(rng, 12)))
            .with_param("transport", Some(param));
        Self { transport: transport.into(), via_host: host, via_port: None, contact, user_agent: user_agent.map(str::to_owned) }
    }

    /// A Via with a fresh branch.
    pub fn via(&self, rng: &mut impl RngCore) -> Via {
        Via::new(&self.transport, &self.via_host, self.via_port, &new_branch(rng))
    }
}

/// What identifies a new request outside a dialog.
#[derive(Debug, Clone)]
pub struct RequestParts {
    /// Method.
    pub method: Method,
    /// Request-URI.
    pub uri: Uri,
    /// From (should carry our tag).
    pub from: NameAddr,
    /// To (no tag outside a dialog).
    pub to: NameAddr,
    /// Call-ID.
    pub call_id: String,
    /// CSeq number.
    pub cseq: u32,
}

/// Methods whose requests carry our Contact.
fn needs_contact(m: &Method) -> bool {
    matches!(m, Method::Invite | Method::Register | Method::Refer | Method::Subscribe | Method::Update | Method::Notify)
}

/// A request with Via (fresh branch), Max-Forwards, To, From, Call-ID, CSeq, Contact (where the
/// method needs one), User-Agent and Content-Length: 0.
pub fn request(local: &LocalEndpoint, parts: RequestParts, rng: &mut impl RngCore) -> Request {
    let mut r = Request::new(parts.method.clone(), parts.uri);
    let h = &mut r.headers;
    h.push(HeaderName::Via, local.via(rng).to_string());
    h.push(HeaderName::MaxForwards, "70");
    h.push(HeaderName::To, parts.to.to_string());
    h.push(HeaderName::From, parts.from.to_string());
    h.push(HeaderName::CallId, parts.call_id);
    h.push(HeaderName::CSeq, format!("{} {}", parts.cseq, parts.method));
    if needs_contact(&parts.method) {
        h.push(HeaderName::Contact, NameAddr::new(local.contact.clone()).to_string());
    }
    if let Some(ua) = &local.user_agent {
        h.push(HeaderName::UserAgent, ua.clone());
    }
    h.push(HeaderName::ContentLength, "0");
    r
}

/// What a REGISTER says: where, for whom, and for how long.
#[derive(Debug, Clone)]
pub struct Registration<'a> {
    /// Registrar URI (Request-URI), e.g. `sip:sip.ringcentral.com`.
    pub registrar: SipUri,
    /// Address of record (From and To, without tag).
    pub aor: &'a NameAddr,
    /// Call-ID, kept across refreshes.
    pub call_id: &'a str,
    /// CSeq number, counting up across refreshes.
    pub cseq: u32,
    /// Requested lifetime in seconds; 0 unregisters.
    pub expires: u32,
    /// The `+sip.instance` UUID, if any.
    pub instance_id: Option<&'a str>,
}

/// A REGISTER with the RingCentral-style Contact (`;+sip.instance="<urn:uuid:…>";expires=N`).
pub fn register(local: &LocalEndpoint, reg: Registration<'_>, rng: &mut impl RngCore) -> Request {
    let from = reg.aor.clone().with_param("tag", Some(&new_tag(rng)));
    let parts = RequestParts {
        method: Method::Register,
        uri: reg.registrar.into(),
        from,
        to: reg.aor.clone(),
        call_id: reg.call_id.to_owned(),
        cseq: reg.cseq,
    };
    let mut r = request(local, parts, rng);
    let mut contact = NameAddr::new(local.contact.clone());
    if let Some(id) = reg.instance_id {
        contact.params.set("+sip.instance", Some(&format!("\"<urn:uuid:{id}>\"")));
    }
    contact.params.set("expires", Some(&reg.expires.to_string()));
    r.headers.set(HeaderName::Contact, contact.to_string());
    r
}

/// A CANCEL for a pending INVITE (RFC 3261 section 9.1): same Request-URI, Call-ID, From, To,
/// CSeq number, top Via and Route.
pub fn cancel(invite: &Request) -> Request {
    let mut c = Request::new(Method::Cancel, invite.uri.clone());
    let src = &invite.headers;
    if let Ok(via) = src.top_via() {
        c.headers.push(HeaderName::Via, via.to_string());
    }
    for name in [HeaderName::MaxForwards, HeaderName::To, HeaderName::From, HeaderName::CallId] {
        if let Some(v) = src.get(name.clone()) {
            c.headers.push(name, v);
        }
    }
    if let Ok(cseq) = src.cseq() {
        c.headers.push(HeaderName::CSeq, format!("{} CANCEL", cseq.seq));
    }
    for route in src.get_all(HeaderName::Route) {
        c.headers.push(HeaderName::Route, route.value.clone());
    }
    if let Some(ua) = src.get(HeaderName::UserAgent) {
        c.headers.push(HeaderName::UserAgent, ua);
    }
    c.headers.push(HeaderName::ContentLength, "0");
    c
}

/// A response to `request` (RFC 3261 section 8.2.6): Via, From, To, Call-ID and CSeq copied,
/// `to_tag` added to To when it has none, Content-Length: 0. Provisional (101-199) and
/// success responses also copy Record-Route (section 12.1.1), so proxies that record-route
/// stay in the dialog's path.
pub fn response(request: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let mut r = Response::new(status);
    let src = &request.headers;
    for via in src.get_all(HeaderName::Via) {
        r.headers.push(HeaderName::Via, via.value.clone());
    }
    if let Some(from) = src.get(HeaderName::From) {
        r.headers.push(HeaderName::From, from);
    }
    let to = match (src.to(), to_tag) {
        (Ok(mut to), Some(tag)) if to.tag().is_none() && status > 100 => {
            to.set_tag(tag);
            Some(to.to_string())
        }
        _ => src.get(HeaderName::To).map(str::to_owned),
    };
    if let Some(to) = to {
        r.headers.push(HeaderName::To, to);
    }
    for name in [HeaderName::CallId, HeaderName::CSeq] {
        if let Some(v) = src.get(name.clone()) {
            r.headers.push(name, v);
        }
    }
    if (101..300).contains(&status) {
        for rr in src.get_all(HeaderName::RecordRoute) {
            r.headers.push(HeaderName::RecordRoute, rr.value.clone());
        }
    }
    r.headers.push(HeaderName::ContentLength, "0");
    r
}

/// A response with a custom reason phrase.
pub fn response_with_reason(request: &Request, status: u16, reason: &str, to_tag: Option<&str>) -> Response {
    let mut r = response(request, status, to_tag);
    r.reason = if reason.is_empty() { reason_phrase(status).to_owned() } else { reason.to_owned() };
    r
}

/// The 200 OK to an OPTIONS request, naming what we allow, accept and support.
pub fn options_reply(request: &Request, allow: &[Method], accept: &[&str], supported: &[&str], to_tag: &str) -> Response {
    let mut r = response(request, 200, Some(to_tag));
    let join = |v: Vec<&str>| v.join(", ");
    r.headers.push(HeaderName::Allow, join(allow.iter().map(Method::as_str).collect()));
    r.headers.push(HeaderName::Accept, join(accept.to_vec()));
    r.headers.push(HeaderName::Supported, join(supported.to_vec()));
    r
}

/// The 200 OK to a NOTIFY (RFC 6665): a plain response, kept as its own name for clarity.
pub fn notify_reply(request: &Request) -> Response {
    response(request, 200, None)
}

/// A MESSAGE outside a dialog (RFC 3428) carrying `body` of `content_type`.
pub fn message(local: &LocalEndpoint, parts: RequestParts, content_type: &str, body: &[u8], rng: &mut impl RngCore) -> Request {
    let mut r = request(local, RequestParts { method: Method::Message, ..parts }, rng);
    r.set_body(content_type, body);
    r
}

/// The answer a UAS owes a request it could not parse (RFC 3261 sections 8.2 and 21.4.1):
/// 400 Bad Request with the parse error in the reason phrase, or 505 for a SIP version other
/// than 2.0. Given only when enough of the input is readable to address an answer: a request
/// line (not a status line, not ACK) and Via and CSeq headers; From, To and Call-ID are copied
/// when present. Garbage, responses and ACKs get `None`: they are dropped, never answered.
///
/// Header lines are read leniently (folded lines joined, compact names known, control
/// characters dropped); a partial last line of input cut off mid-header is ignored.
pub fn malformed_request_reply(input: &[u8], error: &crate::error::ParseError) -> Option<Response> {
    let skip = input.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    let input = &input[skip..];
    let head_end = input.windows(4).position(|w| w == b"\r\n\r\n").or_else(|| input.windows(2).position(|w| w == b"\n\n"));
    let head = match head_end {
        Some(end) => &input[..end],
        // Cut off inside the headers: only lines that were complete.
        None => &input[..input.iter().rposition(|&b| b == b'\n').unwrap_or(0)],
    };
    let head = String::from_utf8_lossy(head);
    let clean = |s: &str| s.chars().filter(|c| !c.is_control() || *c == '\t').collect::<String>().trim().to_owned();
    let mut lines: Vec<String> = Vec::new();
    for line in head.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match lines.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => lines.push(line.to_owned()),
        }
    }
    let start = lines.first()?;
    let method = start.split(' ').next().unwrap_or_default();
    if start.starts_with("SIP/") || method.is_empty() || !crate::text::is_token_str(method) || method == "ACK" || !start.contains(' ') {
        return None;
    }
    let mut r = Response::new(400);
    let (mut from, mut to, mut call_id, mut cseq) = (None, None, None, None);
    for line in &lines[1..] {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = clean(value);
        match HeaderName::from_text(name.trim()) {
            HeaderName::Via => r.headers.push(HeaderName::Via, value),
            HeaderName::From => drop(from.get_or_insert(value)),
            HeaderName::To => drop(to.get_or_insert(value)),
            HeaderName::CallId => drop(call_id.get_or_insert(value)),
            HeaderName::CSeq => drop(cseq.get_or_insert(value)),
            _ => {}
        }
    }
    let cseq = cseq?;
    if r.headers.get(HeaderName::Via).is_none() || cseq.split_whitespace().nth(1).is_some_and(|m| m == "ACK") {
        return None;
    }
    for (name, value) in [(HeaderName::From, from), (HeaderName::To, to), (HeaderName::CallId, call_id), (HeaderName::CSeq, Some(cseq))] {
        if let Some(v) = value {
            r.headers.push(name, v);
        }
    }
    r.headers.push(HeaderName::ContentLength, "0");
    if matches!(error.kind, crate::error::ParseErrorKind::UnsupportedVersion(_)) {
        r.status = 505;
        r.reason = reason_phrase(505).to_owned();
    } else if matches!(error.kind, crate::error::ParseErrorKind::TooLarge { .. }) {
        r.status = 513;
        r.reason = reason_phrase(513).to_owned();
    } else {
        let why: String = clean(&error.to_string()).chars().take(200).collect();
        r.reason = format!("Bad Request ({why})");
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    fn aor() -> NameAddr {
        NameAddr::new(SipUri::new(Some("16502223333"), "sip.ringcentral.com"))
    }

    #[test]
    fn ids_are_fresh_and_well_formed() {
        let mut r = rng();
        let (a, b) = (new_branch(&mut r), new_branch(&mut r));
        assert!(a.starts_with("z9hG4bK-") && a != b);
        assert_ne!(new_tag(&mut r), new_tag(&mut r));
        assert_eq!(new_call_id(&mut r).len(), 24);
        assert!((1..0x4000_0001).contains(&new_cseq(&mut r)));
    }

    #[test]
    fn register_matches_the_ringcentral_shape() {
        let mut r = rng();
        let local = LocalEndpoint::random_ws(&mut r, true, Some("test/1"));
        let aor = aor();
        let registration = Registration {
            registrar: SipUri::new(None, "sip.ringcentral.com"),
            aor: &aor,
            call_id: "cid",
            cseq: 5,
            expires: 60,
            instance_id: Some("abc-1"),
        };
        let reg = register(&local, registration, &mut r);
        let text = String::from_utf8(reg.to_bytes()).unwrap();
        assert!(text.starts_with("REGISTER sip:sip.ringcentral.com SIP/2.0\r\nVia: SIP/2.0/WSS "), "{text}");
        let parsed = Message::parse(text.as_bytes()).unwrap();
        let contact = &parsed.contacts().unwrap()[0];
        assert_eq!(contact.params.get_unquoted("+sip.instance").unwrap(), "<urn:uuid:abc-1>");
        assert_eq!(contact.expires(), Some(60));
        assert_eq!(contact.sip_uri().unwrap().params.get("transport"), Some("wss"));
        assert!(parsed.from().unwrap().tag().is_some());
        assert!(parsed.to().unwrap().tag().is_none());
        assert_eq!(parsed.max_forwards().unwrap(), Some(70));
        assert_eq!(parsed.get("User-Agent"), Some("test/1"));
    }

    #[test]
    fn dialog_creating_responses_keep_record_route() {
        let text = "INVITE sip:b@x.invalid SIP/2.0\r\nVia: SIP/2.0/WSS p;branch=z9hG4bK-1\r\n\
Record-Route: <sip:127.0.0.1:5060;lr;r2=on>\r\nRecord-Route: <sip:127.0.0.1:8080;transport=ws;lr;r2=on>\r\n\
From: <sip:a@d>;tag=1\r\nTo: <sip:b@d>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
        let Message::Request(invite) = Message::parse(text.as_bytes()).unwrap() else { panic!() };
        for status in [180, 200] {
            let rr = response(&invite, status, Some("t")).headers.record_routes().unwrap();
            assert_eq!(rr.len(), 2, "{status} copies both Record-Route values in order");
            assert!(rr[0].to_string().contains("5060"));
        }
        for status in [100, 486] {
            assert!(response(&invite, status, Some("t")).headers.record_routes().unwrap().is_empty());
        }
    }

    #[test]
    fn cancel_and_response_copy_the_right_headers() {
        let mut r = rng();
        let local = LocalEndpoint::random_ws(&mut r, true, None);
        let parts = RequestParts {
            method: Method::Invite,
            uri: Uri::parse("sip:101@sip.ringcentral.com").unwrap(),
            from: aor().with_param("tag", Some("f1")),
            to: NameAddr::new(SipUri::new(Some("101"), "sip.ringcentral.com")),
            call_id: "c1".into(),
            cseq: 42,
        };
        let invite = request(&local, parts, &mut r);
        let c = cancel(&invite);
        assert_eq!(c.headers.top_via().unwrap(), invite.headers.top_via().unwrap());
        assert_eq!(c.headers.cseq().unwrap().seq, 42);
        assert_eq!(c.headers.get("To"), invite.headers.get("To"));
        let ringing = response(&invite, 180, Some("t9"));
        assert_eq!(ringing.headers.to().unwrap().tag(), Some("t9"));
        assert_eq!(response(&invite, 100, Some("t9")).headers.to().unwrap().tag(), None);
        Message::parse(&ringing.to_bytes()).unwrap();
        let opts = options_reply(&invite, &[Method::Invite, Method::Ack], &["application/sdp"], &["outbound"], "t");
        assert_eq!(opts.headers.allow().unwrap(), vec![Method::Invite, Method::Ack]);
    }

    #[test]
    fn malformed_requests_get_400_or_505_and_garbage_gets_nothing() {
        let reply = |text: &str| Message::parse(text.as_bytes()).err().and_then(|e| malformed_request_reply(text.as_bytes(), &e));
        // A CSeq number out of range: the fields needed to answer are copied as written.
        let bad = "OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/WSS h;branch=z9hG4bK-1\r\nVia: SIP/2.0/UDP g;branch=z9hG4bK-0\r\nf: <sip:x@d>;tag=1\r\nTo: <sip:a@b>\r\ni: c1\r\nCSeq: 99999999999 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";
        let r = reply(bad).expect("answered");
        assert_eq!(r.status, 400);
        assert!(r.reason.starts_with("Bad Request (header CSeq"), "{}", r.reason);
        let text = String::from_utf8(r.to_bytes()).unwrap();
        assert!(text.starts_with("SIP/2.0 400 Bad Request (") && !text[2..].contains("\r\n\r\n\r\n"), "{text}");
        assert_eq!(r.headers.get_all(HeaderName::Via).count(), 2);
        assert_eq!((r.headers.get("Call-ID"), r.headers.get("CSeq"), r.headers.get("From")), (Some("c1"), Some("99999999999 OPTIONS"), Some("<sip:x@d>;tag=1")));
        // Cut off in the middle of a header: the complete lines are enough.
        let cut = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/WSS h;branch=z9hG4bK-2\r\nCSeq: 1 INVITE\r\nFrom: <sip:x@d>;ta";
        let r = reply(cut).expect("answered");
        assert_eq!((r.status, r.headers.get("From")), (400, None));
        // Another SIP version: 505.
        assert_eq!(reply(&bad.replacen("SIP/2.0\r\n", "SIP/7.0\r\n", 1)).unwrap().status, 505);
        // Nothing to address, a response, an ACK, garbage: no answer.
        assert!(reply("INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/WSS h;branch=z9hG4bK-3\r\n\r\n").is_none(), "no CSeq");
        assert!(reply("SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS h;branch=z9hG4bK-4\r\nCSeq: x\r\n\r\n").is_none());
        assert!(reply(&bad.replace("OPTIONS", "ACK")).is_none());
        assert!(reply("\u{0}\u{1}garbage\r\nVia: x\r\nCSeq: 1 X\r\n\r\n").is_none());
        assert!(reply("").is_none() && reply("\r\n").is_none());
    }
}

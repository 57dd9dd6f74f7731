//! Header names (with compact forms), the ordered header list of a message, and typed access.
//!
//! Headers are stored as written: name spelling, order and value text are kept, so unknown
//! headers pass through unchanged. Typed accessors parse on demand and report errors with the
//! byte offset in the original message.

mod auth;
mod name_addr;
mod simple;
mod via;

pub use auth::AuthValue;
pub use name_addr::NameAddr;
pub use simple::{parse_token_list, CSeq, ContentType, Replaces};
pub use via::{Via, MAGIC_COOKIE};

use crate::error::{ParseError, ParseErrorKind, ParseResult};
use crate::method::Method;
use crate::text::{split_commas, Scanner};
use simple::{check_call_id, check_date, parse_number_value};
use std::fmt;

macro_rules! header_names {
    ($($variant:ident => $canon:literal $(| $compact:literal)?),* $(,)?) => {
        /// A header name. Known names compare by meaning (`v` equals `Via`), others case-insensitively.
        #[derive(Debug, Clone, Eq)]
        pub enum HeaderName {
            $(#[doc = concat!("`", $canon, "`")] $variant,)*
            /// Any other header, spelled as written.
            Other(String),
        }

        impl HeaderName {
            /// The canonical spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(HeaderName::$variant => $canon,)*
                    HeaderName::Other(s) => s,
                }
            }

            /// The name for `text`, recognising long and compact forms in any case.
            pub fn from_text(text: &str) -> HeaderName {
                $(
                    if text.eq_ignore_ascii_case($canon) $(|| text.eq_ignore_ascii_case($compact))? {
                        return HeaderName::$variant;
                    }
                )*
                HeaderName::Other(text.to_owned())
            }
        }
    };
}

header_names! {
    Via => "Via" | "v",
    From => "From" | "f",
    To => "To" | "t",
    CallId => "Call-ID" | "i",
    CSeq => "CSeq",
    Contact => "Contact" | "m",
    MaxForwards => "Max-Forwards",
    ContentLength => "Content-Length" | "l",
    ContentType => "Content-Type" | "c",
    ContentEncoding => "Content-Encoding" | "e",
    Route => "Route",
    RecordRoute => "Record-Route",
    WwwAuthenticate => "WWW-Authenticate",
    ProxyAuthenticate => "Proxy-Authenticate",
    Authorization => "Authorization",
    ProxyAuthorization => "Proxy-Authorization",
    Expires => "Expires",
    MinExpires => "Min-Expires",
    ReferTo => "Refer-To" | "r",
    ReferredBy => "Referred-By" | "b",
    Replaces => "Replaces",
    Supported => "Supported" | "k",
    Require => "Require",
    ProxyRequire => "Proxy-Require",
    Unsupported => "Unsupported",
    Allow => "Allow",
    AllowEvents => "Allow-Events" | "u",
    Event => "Event" | "o",
    SubscriptionState => "Subscription-State",
    Subject => "Subject" | "s",
    UserAgent => "User-Agent",
    Server => "Server",
    Accept => "Accept",
    Date => "Date",
    RetryAfter => "Retry-After",
    PAssertedIdentity => "P-Asserted-Identity",
    AlertInfo => "Alert-Info",
    CallInfo => "Call-Info",
    SessionExpires => "Session-Expires" | "x",
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl From<&str> for HeaderName {
    fn from(s: &str) -> Self {
        HeaderName::from_text(s)
    }
}

impl From<&HeaderName> for HeaderName {
    fn from(h: &HeaderName) -> Self {
        h.clone()
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header line: the name as written, its meaning, and the value text.
#[derive(Debug, Clone)]
pub struct Header {
    /// The name as written on the wire (`v`, `Www-Authenticate`, …).
    pub name: String,
    /// What the name means.
    pub kind: HeaderName,
    /// The value, trimmed, with line folds turned into single spaces.
    pub value: String,
    /// Byte offset of the value in the parsed message (0 for headers built in code).
    pub offset: usize,
}

impl PartialEq for Header {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.value == other.value
    }
}

impl Eq for Header {}

/// The ordered header list of a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All header lines in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    /// Appends a header; known names are written in their canonical spelling.
    pub fn push(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        let kind = name.into();
        self.0.push(Header { name: kind.as_str().to_owned(), kind, value: value.into(), offset: 0 });
    }

    /// Appends a header spelled exactly as given.
    pub fn push_raw(&mut self, name: &str, value: impl Into<String>, offset: usize) {
        let kind = HeaderName::from_text(name);
        self.0.push(Header { name: name.to_owned(), kind, value: value.into(), offset });
    }

    /// Replaces every `name` header by one with `value` (kept at the first one's place).
    pub fn set(&mut self, name: impl Into<HeaderName>, value: impl Into<String>) {
        let kind = name.into();
        match self.0.iter().position(|h| h.kind == kind) {
            Some(i) => {
                self.0[i].value = value.into();
                self.0[i].offset = 0;
                let mut seen = 0;
                self.0.retain(|h| {
                    let keep = h.kind != kind || seen == 0;
                    if h.kind == kind {
                        seen += 1;
                    }
                    keep
                });
            }
            None => self.push(kind, value),
        }
    }

    /// Writes every `name` header with the spelling `written` (some peers, such as the seed
    /// SDK, look header names up case-sensitively).
    pub fn respell(&mut self, name: impl Into<HeaderName>, written: &str) {
        let kind = name.into();
        for h in self.0.iter_mut().filter(|h| h.kind == kind) {
            h.name = written.to_owned();
        }
    }

    /// Removes every `name` header; returns how many were removed.
    pub fn remove(&mut self, name: impl Into<HeaderName>) -> usize {
        let kind = name.into();
        let before = self.0.len();
        self.0.retain(|h| h.kind != kind);
        before - self.0.len()
    }

    /// The first `name` header.
    pub fn get_header(&self, name: impl Into<HeaderName>) -> Option<&Header> {
        let kind = name.into();
        self.0.iter().find(|h| h.kind == kind)
    }

    /// The value of the first `name` header.
    pub fn get(&self, name: impl Into<HeaderName>) -> Option<&str> {
        self.get_header(name).map(|h| h.value.as_str())
    }

    /// Every `name` header in order.
    pub fn get_all(&self, name: impl Into<HeaderName>) -> impl Iterator<Item = &Header> {
        let kind = name.into();
        self.0.iter().filter(move |h| h.kind == kind)
    }

    /// How many `name` headers there are.
    pub fn count(&self, name: impl Into<HeaderName>) -> usize {
        self.get_all(name).count()
    }

    fn required(&self, kind: HeaderName, label: &'static str) -> ParseResult<&Header> {
        self.get_header(kind).ok_or(ParseError::new(ParseErrorKind::MissingHeader(label), 0))
    }

    /// All Via entries, top first.
    pub fn via(&self) -> ParseResult<Vec<Via>> {
        self.list(HeaderName::Via, Via::parse)
    }

    /// The topmost Via entry.
    pub fn top_via(&self) -> ParseResult<Via> {
        let h = self.required(HeaderName::Via, "Via")?;
        let (at, first) = split_commas(&h.value).map_err(|e| located(e, h))?[0];
        Via::parse(first).map_err(|e| located(e.shifted(at), h))
    }

    /// The From address.
    pub fn from(&self) -> ParseResult<NameAddr> {
        self.one(self.required(HeaderName::From, "From")?, NameAddr::parse)
    }

    /// The To address.
    pub fn to(&self) -> ParseResult<NameAddr> {
        self.one(self.required(HeaderName::To, "To")?, NameAddr::parse)
    }

    /// The Call-ID.
    pub fn call_id(&self) -> ParseResult<&str> {
        let h = self.required(HeaderName::CallId, "Call-ID")?;
        check_call_id(&h.value).map_err(|e| located(e, h))?;
        Ok(h.value.as_str())
    }

    /// The CSeq.
    pub fn cseq(&self) -> ParseResult<CSeq> {
        self.one(self.required(HeaderName::CSeq, "CSeq")?, CSeq::parse)
    }

    /// All Contact addresses (empty for `Contact: *` or none).
    pub fn contacts(&self) -> ParseResult<Vec<NameAddr>> {
        if self.is_contact_star() {
            return Ok(Vec::new());
        }
        self.list(HeaderName::Contact, NameAddr::parse)
    }

    /// True for `Contact: *` (remove all bindings).
    pub fn is_contact_star(&self) -> bool {
        self.get(HeaderName::Contact).is_some_and(|v| v.trim() == "*")
    }

    /// The Route set, in order.
    pub fn routes(&self) -> ParseResult<Vec<NameAddr>> {
        self.list(HeaderName::Route, NameAddr::parse)
    }

    /// The Record-Route set, in order.
    pub fn record_routes(&self) -> ParseResult<Vec<NameAddr>> {
        self.list(HeaderName::RecordRoute, NameAddr::parse)
    }

    /// All WWW-Authenticate challenges (one per header line).
    pub fn www_authenticate(&self) -> ParseResult<Vec<AuthValue>> {
        self.each(HeaderName::WwwAuthenticate, AuthValue::parse)
    }

    /// All Proxy-Authenticate challenges (one per header line).
    pub fn proxy_authenticate(&self) -> ParseResult<Vec<AuthValue>> {
        self.each(HeaderName::ProxyAuthenticate, AuthValue::parse)
    }

    /// The Authorization credentials, if present.
    pub fn authorization(&self) -> ParseResult<Option<AuthValue>> {
        self.optional(HeaderName::Authorization, AuthValue::parse)
    }

    /// The Proxy-Authorization credentials, if present.
    pub fn proxy_authorization(&self) -> ParseResult<Option<AuthValue>> {
        self.optional(HeaderName::ProxyAuthorization, AuthValue::parse)
    }

    /// The Content-Type, if present.
    pub fn content_type(&self) -> ParseResult<Option<ContentType>> {
        self.optional(HeaderName::ContentType, ContentType::parse)
    }

    /// The Content-Length, if present.
    pub fn content_length(&self) -> ParseResult<Option<usize>> {
        self.optional(HeaderName::ContentLength, |v| parse_number_value(v, u32::MAX.into()).map(|n| n as usize))
    }

    /// The Expires value in seconds, if present.
    pub fn expires(&self) -> ParseResult<Option<u32>> {
        self.optional(HeaderName::Expires, |v| parse_number_value(v, u32::MAX.into()).map(|n| n as u32))
    }

    /// The Max-Forwards value, if present.
    pub fn max_forwards(&self) -> ParseResult<Option<u8>> {
        self.optional(HeaderName::MaxForwards, |v| parse_number_value(v, 255).map(|n| n as u8))
    }

    /// The Refer-To address, if present; see [`NameAddr`] and [`Replaces`] for an attended transfer.
    pub fn refer_to(&self) -> ParseResult<Option<NameAddr>> {
        self.optional(HeaderName::ReferTo, NameAddr::parse)
    }

    /// The Replaces header, if present.
    pub fn replaces(&self) -> ParseResult<Option<Replaces>> {
        self.optional(HeaderName::Replaces, Replaces::parse)
    }

    /// The option tags of all Supported headers.
    pub fn supported(&self) -> ParseResult<Vec<String>> {
        self.tokens(HeaderName::Supported)
    }

    /// The option tags of all Require headers.
    pub fn require(&self) -> ParseResult<Vec<String>> {
        self.tokens(HeaderName::Require)
    }

    /// The methods of all Allow headers.
    pub fn allow(&self) -> ParseResult<Vec<Method>> {
        let names = self.tokens(HeaderName::Allow)?;
        names.iter().map(|n| Method::parse(n)).collect()
    }

    fn tokens(&self, kind: HeaderName) -> ParseResult<Vec<String>> {
        let mut out = Vec::new();
        for h in self.get_all(kind) {
            out.extend(parse_token_list(&h.value).map_err(|e| located(e, h))?);
        }
        Ok(out)
    }

    fn one<T>(&self, h: &Header, parse: fn(&str) -> ParseResult<T>) -> ParseResult<T> {
        parse(&h.value).map_err(|e| located(e, h))
    }

    fn optional<T>(&self, kind: HeaderName, parse: impl Fn(&str) -> ParseResult<T>) -> ParseResult<Option<T>> {
        match self.get_header(kind) {
            Some(h) => parse(&h.value).map(Some).map_err(|e| located(e, h)),
            None => Ok(None),
        }
    }

    fn each<T>(&self, kind: HeaderName, parse: fn(&str) -> ParseResult<T>) -> ParseResult<Vec<T>> {
        self.get_all(kind).map(|h| parse(&h.value).map_err(|e| located(e, h))).collect()
    }

    fn list<T>(&self, kind: HeaderName, parse: fn(&str) -> ParseResult<T>) -> ParseResult<Vec<T>> {
        let mut out = Vec::new();
        for h in self.get_all(kind) {
            for (at, item) in split_commas(&h.value).map_err(|e| located(e, h))? {
                out.push(parse(item).map_err(|e| located(e.shifted(at), h))?);
            }
        }
        Ok(out)
    }

    /// Checks every known header's syntax and the presence and count rules of RFC 3261.
    pub(crate) fn validate(&self) -> ParseResult<()> {
        for (kind, label) in MANDATORY {
            self.required(kind.clone(), label)?;
        }
        for (kind, label) in SINGLE {
            let mut all = self.get_all(kind.clone());
            if let (Some(_), Some(second)) = (all.next(), all.next()) {
                return Err(ParseError::new(ParseErrorKind::RepeatedHeader(label), second.offset));
            }
        }
        self.via()?;
        self.from()?;
        self.to()?;
        self.call_id()?;
        self.cseq()?;
        self.check_contact_expires()?;
        self.routes()?;
        self.record_routes()?;
        self.www_authenticate()?;
        self.proxy_authenticate()?;
        self.authorization()?;
        self.proxy_authorization()?;
        self.content_type()?;
        self.content_length()?;
        self.expires()?;
        self.max_forwards()?;
        self.refer_to()?;
        self.replaces()?;
        self.supported()?;
        self.require()?;
        self.allow()?;
        self.validate_misc()
    }

    /// Contacts parse, and an `expires` parameter is delta-seconds (RFC 3261 section 20.10).
    fn check_contact_expires(&self) -> ParseResult<()> {
        for h in self.get_all(HeaderName::Contact) {
            if h.value.trim() == "*" {
                continue;
            }
            for (at, item) in split_commas(&h.value).map_err(|e| located(e, h))? {
                let contact = NameAddr::parse(item).map_err(|e| located(e.shifted(at), h))?;
                if let Some(e) = contact.params.get("expires") {
                    parse_number_value(e, u32::MAX.into()).map_err(|err| located(err.shifted(at), h))?;
                }
            }
        }
        Ok(())
    }

    fn validate_misc(&self) -> ParseResult<()> {
        for h in self.iter() {
            let result = match h.kind {
                HeaderName::Date => check_date(&h.value),
                HeaderName::MinExpires => parse_number_value(&h.value, u32::MAX.into()).map(drop),
                HeaderName::ReferredBy | HeaderName::PAssertedIdentity => NameAddr::parse(&h.value).map(drop),
                HeaderName::ProxyRequire | HeaderName::Unsupported => parse_token_list(&h.value).map(drop),
                _ => Ok(()),
            };
            result.map_err(|e| located(e, h))?;
        }
        Ok(())
    }

    /// Parses the header section (after the start line) of a message.
    pub(crate) fn parse_section(text: &str, base: usize) -> ParseResult<Headers> {
        let mut headers = Headers::new();
        let mut lines = LineIter { text, pos: 0 };
        while let Some((at, line)) = lines.next_logical() {
            let line_at = base + at;
            let colon = line.find(':').ok_or(ParseError::new(ParseErrorKind::MissingColon, line_at))?;
            let name = line[..colon].trim_end_matches([' ', '\t']);
            let mut sc = Scanner::new(name);
            if sc.token().is_err() || !sc.is_end() {
                return Err(ParseError::new(ParseErrorKind::BadHeaderName, line_at));
            }
            let raw_value = &line[colon + 1..];
            let lead = raw_value.len() - raw_value.trim_start().len();
            headers.push_raw(name, unfold(raw_value.trim()), line_at + colon + 1 + lead);
        }
        Ok(headers)
    }
}

/// The headers whose absence makes a message unusable (RFC 3261 section 8.1.1).
const MANDATORY: [(HeaderName, &str); 5] = [
    (HeaderName::Via, "Via"),
    (HeaderName::From, "From"),
    (HeaderName::To, "To"),
    (HeaderName::CallId, "Call-ID"),
    (HeaderName::CSeq, "CSeq"),
];

/// Headers that may appear at most once.
const SINGLE: [(HeaderName, &str); 9] = [
    (HeaderName::From, "From"),
    (HeaderName::To, "To"),
    (HeaderName::CallId, "Call-ID"),
    (HeaderName::CSeq, "CSeq"),
    (HeaderName::MaxForwards, "Max-Forwards"),
    (HeaderName::ContentLength, "Content-Length"),
    (HeaderName::ContentType, "Content-Type"),
    (HeaderName::Expires, "Expires"),
    (HeaderName::ReferTo, "Refer-To"),
];

fn located(e: ParseError, h: &Header) -> ParseError {
    e.in_header(h.kind.as_str(), h.offset)
}

/// Turns line folds (CRLF followed by whitespace) into single spaces.
fn unfold(value: &str) -> String {
    if !value.contains('\n') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    for (i, piece) in value.split('\n').enumerate() {
        let piece = piece.trim_end_matches('\r');
        if i == 0 {
            out.push_str(piece.trim_end());
        } else {
            out.push(' ');
            out.push_str(piece.trim());
        }
    }
    out
}

/// Iterates over logical header lines, joining folded continuation lines.
struct LineIter<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> LineIter<'a> {
    fn next_logical(&mut self) -> Option<(usize, &'a str)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut end = start;
        loop {
            let nl = self.text[end..].find('\n').map_or(self.text.len(), |i| end + i);
            let next = nl + 1;
            if next < bytes.len() && matches!(bytes[next], b' ' | b'\t') {
                end = next;
                continue;
            }
            self.pos = next.min(self.text.len());
            let line = self.text[start..nl].trim_end_matches('\r');
            return Some((start, line));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_compact_and_case() {
        assert_eq!(HeaderName::from("v"), HeaderName::Via);
        assert_eq!(HeaderName::from("cALL-id"), HeaderName::CallId);
        assert_eq!(HeaderName::from("Www-Authenticate"), HeaderName::WwwAuthenticate);
        assert_eq!(HeaderName::from("p-rc-api-ids"), HeaderName::from("P-RC-API-IDS"));
        assert_eq!(HeaderName::Other("X-A".into()).as_str(), "X-A");
    }

    #[test]
    fn section_unfolds_and_keeps_spelling() {
        let h = Headers::parse_section("TO :\r\n sip:a@b.c\r\nv:  SIP/2.0/UDP h\r\nX-Odd:  a\r\n\tb  \r\n", 10).unwrap();
        assert_eq!(h.len(), 3);
        assert_eq!(h.get("To"), Some("sip:a@b.c"));
        assert_eq!(h.iter().nth(1).unwrap().name, "v");
        assert_eq!(h.get("x-odd"), Some("a b"));
        assert_eq!(h.get_header("To").unwrap().offset, 10 + 7);
    }

    #[test]
    fn errors_carry_header_and_offset() {
        let h = Headers::parse_section("Via: SIP/2.0/WSS x;branch=z9hG4bK1\r\nCSeq: 12\r\n", 100).unwrap();
        let e = h.cseq().unwrap_err();
        assert_eq!(e.to_string(), "header CSeq: method missing at byte 144");
    }

    #[test]
    fn set_replaces_all() {
        let mut h = Headers::new();
        h.push("Route", "<sip:a>");
        h.push("X", "1");
        h.push("Route", "<sip:b>");
        h.set(HeaderName::Route, "<sip:c>");
        assert_eq!(h.count("route"), 1);
        assert_eq!(h.iter().next().unwrap().value, "<sip:c>");
        assert_eq!(h.remove("x"), 1);
        h.push("Call-ID", "a");
        h.respell(HeaderName::CallId, "Call-Id");
        assert_eq!(h.iter().last().unwrap().name, "Call-Id");
    }

    #[test]
    fn bad_header_lines() {
        assert_eq!(Headers::parse_section("NoColon\r\n", 0).unwrap_err().kind, ParseErrorKind::MissingColon);
        assert_eq!(Headers::parse_section("Bad Name: x\r\n", 0).unwrap_err().kind, ParseErrorKind::BadHeaderName);
        let big = Headers::parse_section("Contact: <sip:a@b>;expires=280297596632815\r\n", 0).unwrap();
        assert_eq!(big.check_contact_expires().unwrap_err().kind, ParseErrorKind::BadNumber);
    }
}

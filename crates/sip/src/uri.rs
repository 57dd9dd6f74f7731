//! SIP and SIPS URIs (RFC 3261 section 19.1), and any other absolute URI kept opaque.
//!
//! Parts are stored as written on the wire, escapes included, so a URI serialises back to the
//! same text; [`SipUri::user_decoded`] and friends give the unescaped values.

use crate::error::{ParseError, ParseErrorKind, ParseResult};
use crate::params::{Param, Params};
use crate::text::{check_escaped, escape, is_unreserved, unescape};
use std::fmt;

/// A URI as found in a request line or a name-addr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    /// A `sip:` or `sips:` URI.
    Sip(SipUri),
    /// Any other scheme (`tel:`, `urn:`, …), kept as scheme and opaque text.
    Other {
        /// The scheme, as written.
        scheme: String,
        /// Everything after the colon.
        rest: String,
    },
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// True for `sips:`.
    pub secure: bool,
    /// The user part, escaped as on the wire.
    pub user: Option<String>,
    /// The password part, escaped as on the wire.
    pub password: Option<String>,
    /// Host name, IPv4 address or bracketed IPv6 reference.
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters (`;transport=wss`, `;lr`), escaped as on the wire.
    pub params: Params,
    /// URI headers (`?Replaces=…`), names and values escaped as on the wire.
    pub headers: Vec<(String, String)>,
}

/// User-part characters of RFC 3261, plus `#`: RingCentral's own clients send it unescaped
/// (`MESSAGE sip:#996016@sip.ringcentral.com:5060`), and refusing it would drop their messages.
fn is_user_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,;?/#".contains(&b)
}

/// Characters we write unescaped in a user part (RFC 3261 strictly, so `#` is escaped).
fn is_user_char_strict(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,;?/".contains(&b)
}

fn is_password_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,".contains(&b)
}

fn is_param_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/:&+$".contains(&b)
}

fn is_header_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/?:+$".contains(&b)
}

fn is_uric(b: u8) -> bool {
    is_unreserved(b) || b";/?:@&=+$,%".contains(&b)
}

impl SipUri {
    /// A `sip:user@host` URI; `user` is escaped as needed.
    pub fn new(user: Option<&str>, host: &str) -> Self {
        Self {
            secure: false,
            user: user.map(|u| escape(u, is_user_char_strict)),
            password: None,
            host: host.to_owned(),
            port: None,
            params: Params::new(),
            headers: Vec::new(),
        }
    }

    /// The same URI with a parameter added (the value is escaped as needed).
    pub fn with_param(mut self, name: &str, value: Option<&str>) -> Self {
        let value = value.map(|v| escape(v, is_param_char));
        self.params.set(name, value.as_deref());
        self
    }

    /// The same URI with a URI header added (the value is escaped as needed).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((escape(name, is_header_char), escape(value, is_header_char)));
        self
    }

    /// The user part with escapes decoded.
    pub fn user_decoded(&self) -> Option<String> {
        self.user.as_deref().map(unescape)
    }

    /// The decoded value of URI header `name` (case-insensitive).
    pub fn header_decoded(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| unescape(n).eq_ignore_ascii_case(name))
            .map(|(_, v)| unescape(v))
    }

    /// The decoded value of URI parameter `name`.
    pub fn param_decoded(&self, name: &str) -> Option<String> {
        self.params.get(name).map(unescape)
    }

    /// `host[:port]`.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// Parses the text after `sip:` or `sips:`.
    fn parse_after_scheme(secure: bool, s: &str, base: usize) -> ParseResult<SipUri> {
        let (user, password, rest, rest_at) = split_userinfo(s, base)?;
        let host_end = host_end(rest);
        let (host, port) = parse_host_port(&rest[..host_end], base + rest_at)?;
        let tail = &rest[host_end..];
        let tail_at = base + rest_at + host_end;
        let (param_text, header_text) = match tail.find('?') {
            Some(q) => (&tail[..q], Some(&tail[q + 1..])),
            None => (tail, None),
        };
        let params = parse_uri_params(param_text, tail_at)?;
        let headers = match header_text {
            Some(h) => parse_uri_headers(h, tail_at + param_text.len() + 1)?,
            None => Vec::new(),
        };
        Ok(SipUri { secure, user, password, host, port, params, headers })
    }
}

type UserInfo<'a> = (Option<String>, Option<String>, &'a str, usize);

fn split_userinfo(s: &str, base: usize) -> ParseResult<UserInfo<'_>> {
    let Some(at) = s.find('@') else {
        return Ok((None, None, s, 0));
    };
    let info = &s[..at];
    let (user, password) = match info.find(':') {
        Some(c) => (&info[..c], Some(&info[c + 1..])),
        None => (info, None),
    };
    if user.is_empty() {
        return Err(ParseError::new(ParseErrorKind::BadUri("empty user"), base));
    }
    check_escaped(user, is_user_char).map_err(|e| e.shifted(base))?;
    if let Some(p) = password {
        check_escaped(p, is_password_char).map_err(|e| e.shifted(base + user.len() + 1))?;
    }
    Ok((Some(user.to_owned()), password.map(str::to_owned), &s[at + 1..], at + 1))
}

fn host_end(s: &str) -> usize {
    let from = if s.starts_with('[') { s.find(']').unwrap_or(s.len()) } else { 0 };
    s[from..].find([';', '?']).map_or(s.len(), |i| i + from)
}

/// Parses `host[:port]` as used in URIs and Via sent-by.
pub(crate) fn parse_host_port(s: &str, base: usize) -> ParseResult<(String, Option<u16>)> {
    let (host_len, port) = if s.starts_with('[') {
        let close = s.find(']').ok_or(ParseError::new(ParseErrorKind::BadHost, base))?;
        let after = &s[close + 1..];
        match after.strip_prefix(':') {
            Some(p) => (close + 1, Some(p)),
            None if after.is_empty() => (close + 1, None),
            None => return Err(ParseError::new(ParseErrorKind::BadHost, base + close + 1)),
        }
    } else {
        match s.rfind(':') {
            Some(c) => (c, Some(&s[c + 1..])),
            None => (s.len(), None),
        }
    };
    let host = &s[..host_len];
    check_host(host, base)?;
    let port = port.map(|p| parse_port(p, base + host_len + 1)).transpose()?;
    Ok((host.to_owned(), port))
}

fn check_host(host: &str, base: usize) -> ParseResult<()> {
    let ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            && !host.starts_with(['.', '-'])
    };
    if ok {
        Ok(())
    } else {
        Err(ParseError::new(ParseErrorKind::BadHost, base))
    }
}

fn parse_port(p: &str, at: usize) -> ParseResult<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(ParseErrorKind::BadNumber, at));
    }
    p.parse().map_err(|_| ParseError::new(ParseErrorKind::BadNumber, at))
}

fn parse_uri_params(s: &str, base: usize) -> ParseResult<Params> {
    let mut params = Params::new();
    if s.is_empty() {
        return Ok(params);
    }
    let mut at = base + 1;
    for part in s[1..].split(';') {
        if part.is_empty() {
            return Err(ParseError::new(ParseErrorKind::BadParam, at));
        }
        let (name, value) = match part.find('=') {
            Some(e) => (&part[..e], Some(&part[e + 1..])),
            None => (part, None),
        };
        if name.is_empty() || value == Some("") {
            return Err(ParseError::new(ParseErrorKind::BadParam, at));
        }
        check_escaped(part, |b| is_param_char(b) || b == b'=').map_err(|e| e.shifted(at))?;
        if value.is_some_and(|v| v.contains('=')) {
            return Err(ParseError::new(ParseErrorKind::BadParam, at));
        }
        params.push(Param { name: name.to_owned(), value: value.map(str::to_owned) });
        at += part.len() + 1;
    }
    Ok(params)
}

fn parse_uri_headers(s: &str, base: usize) -> ParseResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut at = base;
    for part in s.split('&') {
        let Some(eq) = part.find('=') else {
            return Err(ParseError::new(ParseErrorKind::BadUri("URI header without '='"), at));
        };
        let (name, value) = (&part[..eq], &part[eq + 1..]);
        if name.is_empty() {
            return Err(ParseError::new(ParseErrorKind::BadUri("empty URI header name"), at));
        }
        check_escaped(name, is_header_char).map_err(|e| e.shifted(at))?;
        check_escaped(value, is_header_char).map_err(|e| e.shifted(at + eq + 1))?;
        out.push((name.to_owned(), value.to_owned()));
        at += part.len() + 1;
    }
    Ok(out)
}

impl Uri {
    /// Parses a complete URI; `text` must hold nothing else.
    pub fn parse(text: &str) -> ParseResult<Uri> {
        let colon = text
            .find(':')
            .ok_or(ParseError::new(ParseErrorKind::BadUri("no scheme"), 0))?;
        let scheme = &text[..colon];
        let valid_scheme = scheme.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        if !valid_scheme {
            return Err(ParseError::new(ParseErrorKind::BadUri("bad scheme"), 0));
        }
        let rest = &text[colon + 1..];
        if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
            let secure = scheme.len() == 4;
            return SipUri::parse_after_scheme(secure, rest, colon + 1).map(Uri::Sip);
        }
        if rest.is_empty() {
            return Err(ParseError::new(ParseErrorKind::BadUri("empty after scheme"), colon + 1));
        }
        if let Some(i) = rest.bytes().position(|b| !is_uric(b)) {
            let c = rest[i..].chars().next().unwrap_or('?');
            return Err(ParseError::new(ParseErrorKind::UnexpectedChar(c), colon + 1 + i));
        }
        Ok(Uri::Other { scheme: scheme.to_owned(), rest: rest.to_owned() })
    }

    /// The SIP URI inside, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other { .. } => None,
        }
    }

    /// The SIP URI inside, mutable, if this is one.
    pub fn as_sip_mut(&mut self) -> Option<&mut SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other { .. } => None,
        }
    }
}

impl From<SipUri> for Uri {
    fn from(u: SipUri) -> Self {
        Uri::Sip(u)
    }
}

impl std::str::FromStr for Uri {
    type Err = ParseError;
    fn from_str(s: &str) -> ParseResult<Uri> {
        Uri::parse(s)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)?;
        for (i, (n, v)) in self.headers.iter().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.fmt(f),
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri {
        Uri::parse(s).unwrap().as_sip().unwrap().clone()
    }

    #[test]
    fn parses_full_uri() {
        let u = sip("sips:alice:secret@[2001:db8::1]:5061;transport=wss;lr?Subject=hi&Priority=urgent");
        assert!(u.secure);
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("secret"));
        assert_eq!(u.host, "[2001:db8::1]");
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.params.get("transport"), Some("wss"));
        assert!(u.params.has("lr"));
        assert_eq!(u.header_decoded("subject").as_deref(), Some("hi"));
        assert_eq!(u.to_string(), "sips:alice:secret@[2001:db8::1]:5061;transport=wss;lr?Subject=hi&Priority=urgent");
    }

    #[test]
    fn user_may_hold_semicolons_and_escapes() {
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.user_decoded().as_deref(), Some("user;par=u@example.net"));
        assert!(u.params.is_empty());
        assert_eq!(sip("sip:%231024016@sip.ringcentral.com").user_decoded().as_deref(), Some("#1024016"));
        assert_eq!(sip("sip:#996016@sip.ringcentral.com:5060").user.as_deref(), Some("#996016"));
        assert_eq!(SipUri::new(Some("#1"), "h").to_string(), "sip:%231@h");
    }

    #[test]
    fn replaces_header_decodes() {
        let u = sip("sip:101@sip.ringcentral.com;transport=wss?Replaces=abc%3Bto-tag%3D1%3Bfrom-tag%3D2");
        assert_eq!(u.header_decoded("Replaces").as_deref(), Some("abc;to-tag=1;from-tag=2"));
        let built = SipUri::new(Some("101"), "sip.ringcentral.com").with_header("Replaces", "abc;to-tag=1");
        assert_eq!(built.to_string(), "sip:101@sip.ringcentral.com?Replaces=abc%3Bto-tag%3D1");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["sip:", "sip:@host", "sip:a@host:99999", "sip:a@ho st", "sip:a@host;;lr", "sip:a@host?x", "1sip:x", "sip:a%2@h", "sip:a@[::1"] {
            assert!(Uri::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn other_schemes_are_opaque() {
        let u = Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert!(matches!(u, Uri::Other { .. }));
        assert_eq!(u.to_string(), "nobodyKnowsThisScheme:totallyopaquecontent");
        assert!(Uri::parse("tel:+1-650-555").is_ok());
    }

    #[test]
    fn new_escapes_user() {
        let u = SipUri::new(Some("I have spaces"), "example.net");
        assert_eq!(u.to_string(), "sip:I%20have%20spaces@example.net");
        assert_eq!(u.user_decoded().as_deref(), Some("I have spaces"));
    }
}

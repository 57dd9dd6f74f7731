//! `name-addr` / `addr-spec` values: From, To, Contact, Route, Record-Route, Refer-To, ….

use crate::error::{ParseError, ParseErrorKind, ParseResult};
use crate::params::Params;
use crate::text::{is_token, quote, unquote, Scanner};
use crate::uri::{SipUri, Uri};
use std::fmt;

/// An address with optional display name and header parameters, e.g.
/// `"Alice" <sip:alice@example.com>;tag=1928301774`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name without quotes.
    pub display_name: Option<String>,
    /// The address.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `+sip.instance`, …), not URI parameters.
    pub params: Params,
}

impl NameAddr {
    /// An address with no display name and no parameters.
    pub fn new(uri: impl Into<Uri>) -> Self {
        Self { display_name: None, uri: uri.into(), params: Params::new() }
    }

    /// The same address with a display name.
    pub fn with_display_name(mut self, name: &str) -> Self {
        self.display_name = Some(name.to_owned());
        self
    }

    /// The same address with a header parameter set.
    pub fn with_param(mut self, name: &str, value: Option<&str>) -> Self {
        self.params.set(name, value);
        self
    }

    /// The `tag` parameter, if any.
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag")
    }

    /// Sets the `tag` parameter.
    pub fn set_tag(&mut self, tag: &str) {
        self.params.set("tag", Some(tag));
    }

    /// The `expires` parameter as seconds, if present and valid.
    pub fn expires(&self) -> Option<u32> {
        self.params.get("expires").and_then(|e| e.parse().ok())
    }

    /// The SIP URI, if the address is one.
    pub fn sip_uri(&self) -> Option<&SipUri> {
        self.uri.as_sip()
    }

    /// The Replaces header embedded in the URI (a Refer-To of an attended transfer), if any.
    pub fn embedded_replaces(&self) -> Option<ParseResult<crate::header::Replaces>> {
        let value = self.sip_uri()?.header_decoded("Replaces")?;
        Some(crate::header::Replaces::parse(&value))
    }

    /// Parses a complete header value holding one address.
    pub fn parse(text: &str) -> ParseResult<NameAddr> {
        let mut sc = Scanner::new(text);
        let na = Self::parse_from(&mut sc)?;
        sc.finish()?;
        Ok(na)
    }

    /// Parses one address (name-addr or addr-spec) and its parameters from the scanner.
    pub(crate) fn parse_from(sc: &mut Scanner<'_>) -> ParseResult<NameAddr> {
        sc.skip_ws();
        let display_name = display_name(sc)?;
        let uri = if sc.eat(b'<') { angle_uri(sc)? } else { addr_spec(sc)? };
        let params = Params::parse_header(sc)?;
        Ok(NameAddr { display_name, uri, params })
    }
}

/// Reads a display name if a `<` follows one; leaves the scanner at the `<` (or where it was).
fn display_name(sc: &mut Scanner<'_>) -> ParseResult<Option<String>> {
    let start = sc.pos();
    if sc.peek() == Some(b'"') {
        let q = sc.quoted()?;
        sc.skip_ws();
        if sc.peek() != Some(b'<') {
            return Err(sc.unexpected());
        }
        return Ok(Some(unquote(q).into_owned()));
    }
    loop {
        sc.skip_ws();
        match sc.peek() {
            Some(b'<') => {
                let text = sc.since(start).trim();
                return Ok((!text.is_empty()).then(|| text.to_owned()));
            }
            Some(b) if is_token(b) => {
                sc.token()?;
            }
            _ => {
                sc.reset(start);
                return Ok(None);
            }
        }
    }
}

fn angle_uri(sc: &mut Scanner<'_>) -> ParseResult<Uri> {
    let open = sc.pos() - 1;
    let start = sc.pos();
    let text = sc.take_while(|b| b != b'>');
    if !sc.eat(b'>') {
        return Err(ParseError::new(ParseErrorKind::UnterminatedAngle, open));
    }
    Uri::parse(text).map_err(|e| e.shifted(start))
}

fn addr_spec(sc: &mut Scanner<'_>) -> ParseResult<Uri> {
    let start = sc.pos();
    let text = sc.take_while(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b';' | b','));
    if text.is_empty() {
        return Err(sc.unexpected());
    }
    let uri = Uri::parse(text).map_err(|e| e.shifted(start))?;
    if uri.as_sip().is_some_and(|u| !u.headers.is_empty()) {
        let q = start + text.find('?').unwrap_or(0);
        return Err(ParseError::new(ParseErrorKind::BadUri("URI with headers must be in <>"), q));
    }
    Ok(uri)
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display_name {
            write!(f, "{} ", quote(d))?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

impl From<SipUri> for NameAddr {
    fn from(u: SipUri) -> Self {
        NameAddr::new(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_forms_parse() {
        let a = NameAddr::parse("\"J Rosenberg \\\\\\\"\"  <sip:jdrosen@example.com>\r\n ;\r\n tag = 98asjd8").unwrap();
        assert_eq!(a.display_name.as_deref(), Some("J Rosenberg \\\""));
        assert_eq!(a.tag(), Some("98asjd8"));
        let b = NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert_eq!(b.tag(), Some("1918181833n"));
        assert_eq!(b.display_name, None);
        let c = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(c.display_name.as_deref(), Some("caller"));
        let d = NameAddr::parse("Bob Smith <sip:bob@x.org;transport=wss>;expires=47").unwrap();
        assert_eq!(d.display_name.as_deref(), Some("Bob Smith"));
        assert_eq!(d.expires(), Some(47));
        assert_eq!(d.sip_uri().unwrap().params.get("transport"), Some("wss"));
        assert!(NameAddr::parse("isbn:2983792873").is_ok());
    }

    #[test]
    fn malformed_forms_fail() {
        assert_eq!(NameAddr::parse("\"Mr J. User <sip:j.user@example.com>").unwrap_err().kind, ParseErrorKind::UnterminatedQuote);
        assert!(NameAddr::parse("Bell, Alexander <sip:a.g.bell@example.com>;tag=43").is_err());
        assert!(NameAddr::parse("\"Watson, Thomas\" < sip:t.watson@example.org >").is_err());
        assert!(NameAddr::parse("sip:user@example.com?Route=%3Csip:sip.example.com%3E").is_err());
        assert!(NameAddr::parse("<sip:user@example.com").is_err());
        assert!(NameAddr::parse("<sip:a@b>;tag=1 junk").is_err());
    }

    #[test]
    fn display_quotes_the_name() {
        let a = NameAddr::new(SipUri::new(Some("16502223333"), "sip.ringcentral.com"))
            .with_display_name("Bob \"B\"")
            .with_param("tag", Some("abc"));
        let text = a.to_string();
        assert_eq!(text, "\"Bob \\\"B\\\"\" <sip:16502223333@sip.ringcentral.com>;tag=abc");
        assert_eq!(NameAddr::parse(&text).unwrap(), a);
    }
}

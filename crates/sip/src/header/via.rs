//! The Via header (RFC 3261 section 20.42).

use crate::error::{ParseErrorKind, ParseResult};
use crate::params::Params;
use crate::text::{is_token, Scanner};
use crate::uri::parse_host_port;
use std::fmt;

/// The branch prefix of RFC 3261 transaction identifiers.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// One Via entry: `SIP/2.0/WSS host:port;branch=z9hG4bK…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport as written (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, …).
    pub transport: String,
    /// Host of `sent-by`.
    pub host: String,
    /// Port of `sent-by`, if given.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`, …).
    pub params: Params,
}

impl Via {
    /// A Via for `transport` and `host` with the given branch.
    pub fn new(transport: &str, host: &str, port: Option<u16>, branch: &str) -> Self {
        let mut params = Params::new();
        params.set("branch", Some(branch));
        Self { transport: transport.to_owned(), host: host.to_owned(), port, params }
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch")
    }

    /// True when the branch carries the RFC 3261 magic cookie.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }

    /// `host[:port]` of sent-by.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// Parses a single Via entry (one element of a comma-separated Via value).
    pub fn parse(text: &str) -> ParseResult<Via> {
        let mut sc = Scanner::new(text);
        sc.skip_ws();
        let name = sc.token()?;
        let proto_ok = name.eq_ignore_ascii_case("SIP") && sc.eat_sep(b'/') && {
            let v = sc.token()?;
            v == "2.0"
        } && sc.eat_sep(b'/');
        if !proto_ok {
            return Err(sc.err(ParseErrorKind::BadViaProtocol));
        }
        let transport = sc.token()?.to_owned();
        if !sc.skip_ws() {
            return Err(sc.unexpected());
        }
        let (host, port) = sent_by(&mut sc)?;
        let params = Params::parse_header(&mut sc)?;
        sc.finish()?;
        Ok(Via { transport, host, port, params })
    }
}

fn sent_by(sc: &mut Scanner<'_>) -> ParseResult<(String, Option<u16>)> {
    let start = sc.pos();
    if sc.peek() == Some(b'[') {
        sc.take_while(|b| b != b']');
        sc.expect(b']')?;
    } else {
        sc.take_while(is_token);
    }
    let host_text = sc.since(start);
    let port_text = if sc.eat_sep(b':') { Some((sc.pos(), sc.take_while(|b| b.is_ascii_digit()))) } else { None };
    let joined = match port_text {
        Some((_, p)) => format!("{host_text}:{p}"),
        None => host_text.to_owned(),
    };
    parse_host_port(&joined, start)
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}{}", self.transport, self.sent_by(), self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spaced_via() {
        let v = Via::parse("SIP  /   2.0\r\n  /UDP\r\n    192.0.2.2;rport;branch=z9hG4bK-abc").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, "192.0.2.2");
        assert_eq!(v.branch(), Some("z9hG4bK-abc"));
        assert!(v.params.has("rport"));
        let w = Via::parse("SIP/2.0/WSS 104.1.2.3 : 8083 ;rport;branch=z9hG4bK1").unwrap();
        assert_eq!(w.port, Some(8083));
        assert_eq!(w.sent_by(), "104.1.2.3:8083");
        let v6 = Via::parse("SIP/2.0/TCP [2001:db8::9:1]:5060;branch=z9hG4bKx").unwrap();
        assert_eq!(v6.host, "[2001:db8::9:1]");
    }

    #[test]
    fn rejects_bad_via() {
        assert_eq!(Via::parse("SIP/3.0/UDP host").unwrap_err().kind, ParseErrorKind::BadViaProtocol);
        assert!(Via::parse("SIP/2.0/UDP").is_err());
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;").is_err());
        assert!(Via::parse("SIP/2.0/UDP host:99999").is_err());
    }

    #[test]
    fn display_round_trips() {
        let v = Via::new("WSS", "abc.invalid", None, "z9hG4bK-1");
        assert_eq!(v.to_string(), "SIP/2.0/WSS abc.invalid;branch=z9hG4bK-1");
        assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
    }
}

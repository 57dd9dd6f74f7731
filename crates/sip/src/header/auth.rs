//! The syntax of WWW-/Proxy-Authenticate challenges and (Proxy-)Authorization credentials.
//!
//! Digest computations live in [`crate::auth`]; this module only splits the header.

use crate::error::{ParseErrorKind, ParseResult};
use crate::params::{Param, Params};
use crate::text::{is_token, Scanner};
use std::fmt;

/// A challenge or credentials: `Digest realm="x", nonce="y"`, or a scheme with a token68.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthValue {
    /// Scheme, e.g. `Digest`.
    pub scheme: String,
    /// Comma-separated auth parameters, values as written (quotes kept).
    pub params: Params,
    /// A token68 blob, for schemes that use one instead of parameters.
    pub token68: Option<String>,
}

impl AuthValue {
    /// Parses one challenge or credentials header value.
    pub fn parse(text: &str) -> ParseResult<AuthValue> {
        let mut sc = Scanner::new(text);
        sc.skip_ws();
        let scheme = sc.token()?.to_owned();
        if sc.is_end() {
            return Ok(AuthValue { scheme, params: Params::new(), token68: None });
        }
        if !sc.skip_ws() {
            return Err(sc.unexpected());
        }
        let rest_at = sc.pos();
        match auth_params(&mut sc) {
            Ok(params) => Ok(AuthValue { scheme, params, token68: None }),
            Err(e) if scheme.eq_ignore_ascii_case("Digest") => Err(e),
            Err(e) => {
                sc.reset(rest_at);
                let t = sc.take_while(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b));
                if t.is_empty() || sc.finish().is_err() {
                    return Err(e);
                }
                Ok(AuthValue { scheme, params: Params::new(), token68: Some(t.to_owned()) })
            }
        }
    }

    /// True for the Digest scheme.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }
}

fn auth_params(sc: &mut Scanner<'_>) -> ParseResult<Params> {
    let mut params = Params::new();
    loop {
        let name = sc.take_while(is_token);
        if name.is_empty() {
            return Err(sc.err(ParseErrorKind::BadParam));
        }
        if !sc.eat_sep(b'=') {
            return Err(sc.unexpected());
        }
        let value = if sc.peek() == Some(b'"') { sc.quoted()? } else { sc.token()? };
        params.push(Param { name: name.to_owned(), value: Some(value.to_owned()) });
        if !sc.eat_sep(b',') {
            break;
        }
    }
    sc.finish()?;
    Ok(params)
}

impl fmt::Display for AuthValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        if let Some(t) = &self.token68 {
            return write!(f, " {t}");
        }
        for (i, p) in self.params.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{}={}", p.name, p.value.as_deref().unwrap_or(""))?;
        }
        Ok(())
    }
}

/// Redacts the `response` parameter and token68 blobs so that secrets never reach a log.
impl fmt::Debug for AuthValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self
            .params
            .iter()
            .map(|p| match p.name.to_ascii_lowercase().as_str() {
                "response" => format!("{}=<redacted>", p.name),
                _ => format!("{}={}", p.name, p.value.as_deref().unwrap_or("")),
            })
            .collect();
        f.debug_struct("AuthValue")
            .field("scheme", &self.scheme)
            .field("params", &shown)
            .field("token68", &self.token68.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rc_challenge() {
        let c = AuthValue::parse("Digest realm=\"sip.ringcentral.com\", nonce=\"Yx3\"").unwrap();
        assert!(c.is_digest());
        assert_eq!(c.params.get_unquoted("realm").unwrap(), "sip.ringcentral.com");
        assert_eq!(c.params.get_unquoted("nonce").unwrap(), "Yx3");
    }

    #[test]
    fn parses_qop_and_unknown_schemes() {
        let c = AuthValue::parse("Digest realm=\"a\",qop=\"auth,auth-int\" , algorithm=SHA-256,nc=00000001").unwrap();
        assert_eq!(c.params.get("algorithm"), Some("SHA-256"));
        assert_eq!(c.params.get("nc"), Some("00000001"));
        let u = AuthValue::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(u.params.get("opaque-data"), Some("here"));
        let b = AuthValue::parse("Bearer abc.def==").unwrap();
        assert_eq!(b.token68.as_deref(), Some("abc.def=="));
        assert!(AuthValue::parse("Digest realm=\"a\" nonce=\"b\"").is_err());
    }

    #[test]
    fn debug_redacts_response() {
        let c = AuthValue::parse("Digest username=\"1\", response=\"abcdef0123\"").unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("abcdef0123"), "{dbg}");
        assert!(dbg.contains("<redacted>"));
    }
}

//! Digest authentication (RFC 2617, RFC 7616, RFC 8760) for 401 and 407 challenges.
//!
//! [`DigestClient`] answers challenges for a user agent: it picks the strongest supported
//! challenge, counts nonce uses for `qop=auth`, and refuses to loop when the server rejects the
//! same credentials twice. [`DigestCredentials::verify`] checks an answer on the server side.
//! Passwords and responses never appear in `Debug` output.

use crate::header::{AuthValue, HeaderName};
use crate::message::{Request, Response};
use crate::params::Params;
use crate::text::quote;
use md5::{Digest, Md5};
use sha2::{Sha256, Sha512_256};
use std::fmt;

/// Why a challenge could not be answered or credentials could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The response carries no WWW-Authenticate / Proxy-Authenticate header.
    #[error("the {0} response carries no challenge")]
    NoChallenge(u16),
    /// The challenge header does not parse.
    #[error("malformed challenge: {0}")]
    Malformed(String),
    /// No challenge uses the Digest scheme with an algorithm and qop we support.
    #[error("no supported digest challenge (schemes/algorithms offered: {0})")]
    Unsupported(String),
    /// A required digest parameter is missing.
    #[error("digest parameter {0} missing")]
    MissingParam(&'static str),
    /// The server challenged again for a nonce we already answered: the password is wrong.
    #[error("credentials rejected by {realm}")]
    Rejected {
        /// Realm of the rejecting server.
        realm: String,
    },
}

/// A digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Algorithm {
    /// MD5 (RFC 2617), the default.
    Md5,
    /// MD5-sess.
    Md5Sess,
    /// SHA-256 (RFC 7616, RFC 8760).
    Sha256,
    /// SHA-256-sess.
    Sha256Sess,
    /// SHA-512-256 (RFC 7616, RFC 8760).
    Sha512_256,
    /// SHA-512-256-sess.
    Sha512_256Sess,
}

impl Algorithm {
    /// Reads an `algorithm=` value; `None` when unsupported.
    pub fn parse(s: &str) -> Option<Algorithm> {
        let known = [
            ("MD5", Algorithm::Md5),
            ("MD5-sess", Algorithm::Md5Sess),
            ("SHA-256", Algorithm::Sha256),
            ("SHA-256-sess", Algorithm::Sha256Sess),
            ("SHA-512-256", Algorithm::Sha512_256),
            ("SHA-512-256-sess", Algorithm::Sha512_256Sess),
        ];
        known.into_iter().find(|(n, _)| n.eq_ignore_ascii_case(s)).map(|(_, a)| a)
    }

    /// The name as written in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            Algorithm::Sha512_256 => "SHA-512-256",
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess | Algorithm::Sha512_256Sess)
    }

    /// Lower-case hex digest of `data`.
    pub fn hash(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex(&Md5::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex(&Sha256::digest(data)),
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => hex(&Sha512_256::digest(data)),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Quality of protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qop {
    /// Authentication of the request line.
    Auth,
    /// Authentication including the body.
    AuthInt,
}

impl Qop {
    fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

/// A parsed Digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    /// Protection realm.
    pub realm: String,
    /// Server nonce.
    pub nonce: String,
    /// Opaque value to echo.
    pub opaque: Option<String>,
    /// Hash algorithm (MD5 when absent).
    pub algorithm: Algorithm,
    /// The qop the client should use, if the server offers any we support.
    pub qop: Option<Qop>,
    /// True when the previous nonce was merely stale (retry with the new one).
    pub stale: bool,
}

impl DigestChallenge {
    /// Reads a Digest challenge; `Err(Unsupported)` for other schemes, algorithms or qops.
    pub fn from_header(v: &AuthValue) -> Result<Self, AuthError> {
        let p = digest_params(v)?;
        let algorithm = algorithm_of(p)?;
        let qop = qop_of(p)?;
        Ok(DigestChallenge {
            realm: required(p, "realm")?,
            nonce: required(p, "nonce")?,
            opaque: p.get_unquoted("opaque").map(|o| o.into_owned()),
            algorithm,
            qop,
            stale: p.get_unquoted("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The challenge as a header value (for servers).
    pub fn to_header(&self) -> AuthValue {
        let mut params = Params::new();
        params.set("realm", Some(&quote(&self.realm)));
        params.set("nonce", Some(&quote(&self.nonce)));
        if let Some(o) = &self.opaque {
            params.set("opaque", Some(&quote(o)));
        }
        if self.algorithm != Algorithm::Md5 {
            params.set("algorithm", Some(self.algorithm.as_str()));
        }
        if let Some(q) = self.qop {
            params.set("qop", Some(&quote(q.as_str())));
        }
        if self.stale {
            params.set("stale", Some("true"));
        }
        AuthValue { scheme: "Digest".into(), params, token68: None }
    }
}

/// The parameters of a Digest header; `Unsupported` for any other scheme.
fn digest_params(v: &AuthValue) -> Result<&Params, AuthError> {
    if v.is_digest() {
        Ok(&v.params)
    } else {
        Err(AuthError::Unsupported(v.scheme.clone()))
    }
}

/// The `qop` parameter, if any; `Unsupported` when it offers nothing we support.
fn qop_of(p: &Params) -> Result<Option<Qop>, AuthError> {
    match p.get_unquoted("qop") {
        None => Ok(None),
        Some(list) => pick_qop(&list).map(Some).ok_or_else(|| AuthError::Unsupported(format!("qop {list}"))),
    }
}

/// The `algorithm` parameter (MD5 when absent); `Unsupported` for an unknown one.
fn algorithm_of(p: &Params) -> Result<Algorithm, AuthError> {
    match p.get_unquoted("algorithm") {
        Some(a) => Algorithm::parse(&a).ok_or_else(|| AuthError::Unsupported(a.into_owned())),
        None => Ok(Algorithm::Md5),
    }
}

fn pick_qop(list: &str) -> Option<Qop> {
    let offered: Vec<&str> = list.split(',').map(str::trim).collect();
    if offered.iter().any(|q| q.eq_ignore_ascii_case("auth")) {
        Some(Qop::Auth)
    } else if offered.iter().any(|q| q.eq_ignore_ascii_case("auth-int")) {
        Some(Qop::AuthInt)
    } else {
        None
    }
}

fn required(p: &Params, name: &'static str) -> Result<String, AuthError> {
    p.get_unquoted(name).map(|v| v.into_owned()).ok_or(AuthError::MissingParam(name))
}

/// The inputs of one digest computation.
#[derive(Clone, Copy)]
pub struct DigestInput<'a> {
    /// Hash algorithm.
    pub algorithm: Algorithm,
    /// User name (for RingCentral: the authorizationId).
    pub username: &'a str,
    /// Realm.
    pub realm: &'a str,
    /// Password.
    pub password: &'a str,
    /// Server nonce.
    pub nonce: &'a str,
    /// Request method.
    pub method: &'a str,
    /// The digest `uri` value.
    pub uri: &'a str,
    /// `(qop, nonce count, client nonce)` when the challenge asked for a qop.
    pub qop: Option<(Qop, u32, &'a str)>,
    /// Request body, used by `auth-int`.
    pub body: &'a [u8],
}

impl DigestInput<'_> {
    /// The `response` value: `H(HA1:nonce[:nc:cnonce:qop]:HA2)`.
    pub fn response(&self) -> String {
        let h = |s: &str| self.algorithm.hash(s.as_bytes());
        let mut ha1 = h(&format!("{}:{}:{}", self.username, self.realm, self.password));
        if self.algorithm.is_session() {
            let cnonce = self.qop.map_or("", |(_, _, c)| c);
            ha1 = h(&format!("{ha1}:{}:{cnonce}", self.nonce));
        }
        let ha2 = match self.qop {
            Some((Qop::AuthInt, _, _)) => {
                h(&format!("{}:{}:{}", self.method, self.uri, self.algorithm.hash(self.body)))
            }
            _ => h(&format!("{}:{}", self.method, self.uri)),
        };
        match self.qop {
            Some((qop, nc, cnonce)) => {
                h(&format!("{ha1}:{}:{nc:08x}:{cnonce}:{}:{ha2}", self.nonce, qop.as_str()))
            }
            None => h(&format!("{ha1}:{}:{ha2}", self.nonce)),
        }
    }
}

/// Digest credentials as sent in (Proxy-)Authorization.
#[derive(Clone, PartialEq, Eq)]
pub struct DigestCredentials {
    /// Algorithm named in the credentials.
    pub algorithm: Algorithm,
    /// User name.
    pub username: String,
    /// Realm.
    pub realm: String,
    /// Nonce being answered.
    pub nonce: String,
    /// Digest URI.
    pub uri: String,
    /// The computed response.
    pub response: String,
    /// `(qop, nonce count, client nonce)` when a qop is used.
    pub qop: Option<(Qop, u32, String)>,
    /// Echoed opaque value.
    pub opaque: Option<String>,
}

impl DigestCredentials {
    /// The header value, in the order the RingCentral SDK writes it.
    pub fn to_header(&self) -> AuthValue {
        let mut p = Params::new();
        p.set("algorithm", Some(self.algorithm.as_str()));
        p.set("username", Some(&quote(&self.username)));
        p.set("realm", Some(&quote(&self.realm)));
        p.set("nonce", Some(&quote(&self.nonce)));
        p.set("uri", Some(&quote(&self.uri)));
        p.set("response", Some(&quote(&self.response)));
        if let Some((qop, nc, cnonce)) = &self.qop {
            p.set("qop", Some(qop.as_str()));
            p.set("nc", Some(&format!("{nc:08x}")));
            p.set("cnonce", Some(&quote(cnonce)));
        }
        if let Some(o) = &self.opaque {
            p.set("opaque", Some(&quote(o)));
        }
        AuthValue { scheme: "Digest".into(), params: p, token68: None }
    }

    /// Reads Digest credentials from a header value.
    pub fn from_header(v: &AuthValue) -> Result<Self, AuthError> {
        let p = digest_params(v)?;
        let algorithm = algorithm_of(p)?;
        let qop = match qop_of(p)? {
            None => None,
            Some(qop) => {
                let nc = u32::from_str_radix(&required(p, "nc")?, 16).map_err(|_| AuthError::MissingParam("nc"))?;
                Some((qop, nc, required(p, "cnonce")?))
            }
        };
        Ok(DigestCredentials {
            algorithm,
            username: required(p, "username")?,
            realm: required(p, "realm")?,
            nonce: required(p, "nonce")?,
            uri: required(p, "uri")?,
            response: required(p, "response")?,
            qop,
            opaque: p.get_unquoted("opaque").map(|o| o.into_owned()),
        })
    }

    /// True when the response matches `password` for this method and body (server side).
    pub fn verify(&self, method: &str, password: &str, body: &[u8]) -> bool {
        let expected = DigestInput {
            algorithm: self.algorithm,
            username: &self.username,
            realm: &self.realm,
            password,
            nonce: &self.nonce,
            method,
            uri: &self.uri,
            qop: self.qop.as_ref().map(|(q, nc, c)| (*q, *nc, c.as_str())),
            body,
        }
        .response();
        constant_time_eq(expected.as_bytes(), self.response.to_ascii_lowercase().as_bytes())
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl fmt::Debug for DigestCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestCredentials")
            .field("algorithm", &self.algorithm)
            .field("username", &self.username)
            .field("realm", &self.realm)
            .field("uri", &self.uri)
            .field("response", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Whether a challenge came from the registrar/UAS (401) or a proxy (407).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeKind {
    /// 401 with WWW-Authenticate, answered with Authorization.
    Www,
    /// 407 with Proxy-Authenticate, answered with Proxy-Authorization.
    Proxy,
}

/// Answers digest challenges for one user; keeps the nonce count between requests.
pub struct DigestClient {
    username: String,
    password: String,
    current: Option<(ChallengeKind, DigestChallenge)>,
    nonce_count: u32,
    answered: bool,
}

impl DigestClient {
    /// A client for `username` (RingCentral: the authorizationId) and `password`.
    pub fn new(username: &str, password: &str) -> Self {
        Self { username: username.into(), password: password.into(), current: None, nonce_count: 0, answered: false }
    }

    /// Takes the challenge of a 401 or 407 response.
    ///
    /// Fails with [`AuthError::Rejected`] when the server challenges with the nonce we already
    /// answered and does not call it stale: retrying would only repeat the failure.
    pub fn handle_challenge(&mut self, response: &Response) -> Result<ChallengeKind, AuthError> {
        let (kind, headers) = match response.status {
            401 => (ChallengeKind::Www, response.headers.www_authenticate()),
            407 => (ChallengeKind::Proxy, response.headers.proxy_authenticate()),
            s => return Err(AuthError::NoChallenge(s)),
        };
        let headers = headers.map_err(|e| AuthError::Malformed(e.to_string()))?;
        if headers.is_empty() {
            return Err(AuthError::NoChallenge(response.status));
        }
        let challenge = strongest(&headers)?;
        let same_nonce = self.current.as_ref().is_some_and(|(_, c)| c.nonce == challenge.nonce);
        if same_nonce && self.answered && !challenge.stale {
            return Err(AuthError::Rejected { realm: challenge.realm });
        }
        if !same_nonce {
            self.nonce_count = 0;
        }
        self.current = Some((kind, challenge));
        self.answered = false;
        Ok(kind)
    }

    /// Adds (Proxy-)Authorization to `request` for the last challenge, with `digest_uri` as the
    /// digest `uri` and `cnonce` as client nonce (used when the challenge asks for a qop).
    /// Returns false when no challenge has been received yet.
    pub fn authorize(&mut self, request: &mut Request, digest_uri: &str, cnonce: &str) -> bool {
        let Some((kind, ch)) = &self.current else { return false };
        let qop = ch.qop.map(|q| {
            self.nonce_count += 1;
            (q, self.nonce_count, cnonce)
        });
        let input = DigestInput {
            algorithm: ch.algorithm,
            username: &self.username,
            realm: &ch.realm,
            password: &self.password,
            nonce: &ch.nonce,
            method: request.method.as_str(),
            uri: digest_uri,
            qop,
            body: &request.body,
        };
        let creds = DigestCredentials {
            algorithm: ch.algorithm,
            username: self.username.clone(),
            realm: ch.realm.clone(),
            nonce: ch.nonce.clone(),
            uri: digest_uri.to_owned(),
            response: input.response(),
            qop: qop.map(|(q, n, c)| (q, n, c.to_owned())),
            opaque: ch.opaque.clone(),
        };
        let name = match kind {
            ChallengeKind::Www => HeaderName::Authorization,
            ChallengeKind::Proxy => HeaderName::ProxyAuthorization,
        };
        request.headers.set(name, creds.to_header().to_string());
        self.answered = true;
        true
    }

    /// Forgets the current challenge (e.g. after the request succeeded).
    pub fn reset(&mut self) {
        self.answered = false;
    }
}

impl fmt::Debug for DigestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestClient")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("challenge", &self.current)
            .field("nonce_count", &self.nonce_count)
            .finish()
    }
}

/// The strongest Digest challenge we support among those offered.
fn strongest(offered: &[AuthValue]) -> Result<DigestChallenge, AuthError> {
    let parsed: Vec<_> = offered.iter().map(DigestChallenge::from_header).collect();
    if let Some(best) = parsed.iter().filter_map(|p| p.as_ref().ok()).max_by_key(|c| strength(c.algorithm)) {
        return Ok(best.clone());
    }
    match parsed.into_iter().find_map(Result::err) {
        Some(AuthError::MissingParam(p)) => Err(AuthError::MissingParam(p)),
        _ => Err(AuthError::Unsupported(offered.iter().map(|o| o.to_string()).collect::<Vec<_>>().join(" | "))),
    }
}

fn strength(a: Algorithm) -> u8 {
    match a {
        Algorithm::Md5 | Algorithm::Md5Sess => 0,
        Algorithm::Sha256 | Algorithm::Sha256Sess => 1,
        Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn input<'a>(alg: Algorithm, realm: &'a str, password: &'a str, nonce: &'a str, cnonce: &'a str) -> DigestInput<'a> {
        DigestInput {
            algorithm: alg,
            username: "Mufasa",
            realm,
            password,
            nonce,
            method: "GET",
            uri: "/dir/index.html",
            qop: Some((Qop::Auth, 1, cnonce)),
            body: b"",
        }
    }

    #[test]
    fn rfc2617_example() {
        let i = input(Algorithm::Md5, "testrealm@host.com", "Circle Of Life", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "0a4f113b");
        assert_eq!(i.response(), "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn rfc7616_examples() {
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let md5 = input(Algorithm::Md5, "http-auth@example.org", "Circle of Life", nonce, cnonce);
        assert_eq!(md5.response(), "8ca523f5e9506fed4657c9700eebdbec");
        let sha = DigestInput { algorithm: Algorithm::Sha256, ..md5 };
        assert_eq!(sha.response(), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    }

    #[test]
    fn no_qop_matches_ringcentral_formula() {
        let i = DigestInput {
            algorithm: Algorithm::Md5,
            username: "802398808016",
            realm: "sip.ringcentral.com",
            password: "pw",
            nonce: "n1",
            method: "REGISTER",
            uri: "sip:sip.ringcentral.com",
            qop: None,
            body: b"",
        };
        let ha1 = Algorithm::Md5.hash(b"802398808016:sip.ringcentral.com:pw");
        let ha2 = Algorithm::Md5.hash(b"REGISTER:sip:sip.ringcentral.com");
        assert_eq!(i.response(), Algorithm::Md5.hash(format!("{ha1}:n1:{ha2}").as_bytes()));
    }

    fn challenge(status: u16, header: &str, value: &str) -> Response {
        let text = format!(
            "SIP/2.0 {status} X\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n{header}: {value}\r\nContent-Length: 0\r\n\r\n"
        );
        match Message::parse(text.as_bytes()).unwrap() {
            Message::Response(r) => r,
            Message::Request(_) => unreachable!(),
        }
    }

    fn register() -> Request {
        let mut r = Request::new(crate::Method::Register, crate::Uri::parse("sip:sip.ringcentral.com").unwrap());
        r.headers.push("CSeq", "2 REGISTER");
        r
    }

    #[test]
    fn client_answers_then_detects_wrong_password() {
        let mut c = DigestClient::new("802398808016", "pw");
        let r401 = challenge(401, "Www-Authenticate", "Digest realm=\"sip.ringcentral.com\", nonce=\"abc\"");
        assert_eq!(c.handle_challenge(&r401).unwrap(), ChallengeKind::Www);
        let mut req = register();
        assert!(c.authorize(&mut req, "sip:sip.ringcentral.com", "unused"));
        let sent = req.headers.authorization().unwrap().unwrap();
        let creds = DigestCredentials::from_header(&sent).unwrap();
        assert!(creds.verify("REGISTER", "pw", b""));
        assert!(!creds.verify("REGISTER", "wrong", b""));
        assert!(req.headers.get("Authorization").unwrap().starts_with("Digest algorithm=MD5, username=\"802398808016\""));
        assert_eq!(c.handle_challenge(&r401), Err(AuthError::Rejected { realm: "sip.ringcentral.com".into() }));
    }

    #[test]
    fn stale_nonce_and_nonce_counting() {
        let mut c = DigestClient::new("u", "p");
        let r407 = challenge(407, "Proxy-Authenticate", "Digest realm=\"r\", nonce=\"n\", qop=\"auth,auth-int\", algorithm=SHA-256");
        assert_eq!(c.handle_challenge(&r407).unwrap(), ChallengeKind::Proxy);
        let mut req = register();
        c.authorize(&mut req, "sip:r", "cn");
        c.authorize(&mut req, "sip:r", "cn");
        let creds = DigestCredentials::from_header(&req.headers.proxy_authorization().unwrap().unwrap()).unwrap();
        assert_eq!(creds.qop.as_ref().map(|q| q.1), Some(2));
        assert_eq!(creds.algorithm, Algorithm::Sha256);
        assert!(creds.verify("REGISTER", "p", b""));
        let stale = challenge(407, "Proxy-Authenticate", "Digest realm=\"r\", nonce=\"n\", stale=true");
        assert!(c.handle_challenge(&stale).is_ok());
    }

    #[test]
    fn prefers_the_strongest_challenge_and_reports_unsupported() {
        let text = "SIP/2.0 401 X\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"1\"\r\nWWW-Authenticate: Digest realm=\"r\", nonce=\"2\", algorithm=SHA-256\r\n\r\n";
        let Message::Response(r) = Message::parse(text.as_bytes()).unwrap() else { unreachable!() };
        let mut c = DigestClient::new("u", "p");
        c.handle_challenge(&r).unwrap();
        assert_eq!(c.current.as_ref().unwrap().1.algorithm, Algorithm::Sha256);
        let odd = challenge(401, "WWW-Authenticate", "Digest realm=\"r\", nonce=\"1\", algorithm=SHA-1");
        assert!(matches!(DigestClient::new("u", "p").handle_challenge(&odd), Err(AuthError::Unsupported(_))));
        let no_nonce = challenge(401, "WWW-Authenticate", "Digest realm=\"r\"");
        assert_eq!(DigestClient::new("u", "p").handle_challenge(&no_nonce), Err(AuthError::MissingParam("nonce")));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = DigestClient::new("user", "hunter2");
        assert!(!format!("{c:?}").contains("hunter2"));
        let creds = DigestCredentials {
            algorithm: Algorithm::Md5,
            username: "u".into(),
            realm: "r".into(),
            nonce: "n".into(),
            uri: "sip:r".into(),
            response: "deadbeef".into(),
            qop: None,
            opaque: None,
        };
        assert!(!format!("{creds:?}").contains("deadbeef"));
    }

    #[test]
    fn challenge_header_round_trips() {
        let ch = DigestChallenge {
            realm: "sip.ringcentral.com".into(),
            nonce: "abc".into(),
            opaque: None,
            algorithm: Algorithm::Md5,
            qop: None,
            stale: true,
        };
        let text = ch.to_header().to_string();
        assert_eq!(text, "Digest realm=\"sip.ringcentral.com\", nonce=\"abc\", stale=true");
        assert_eq!(DigestChallenge::from_header(&AuthValue::parse(&text).unwrap()).unwrap(), ch);
    }
}

//! The REST API's sign-in state as a sans-IO machine: apps, authorization codes and token
//! sessions (`docs/rest-api.md`). Time is an input, so tests run it on a fake clock.
//!
//! A session is one sign-in: an extension, an app, the access tokens and the refresh token
//! issued for it. Refreshing rotates the refresh token (the old one is refused after); the
//! access tokens issued before stay good until they expire. Revoking either token of a session
//! ends all of them.

use crate::config::{Config, OAuthApp};
use base64::Engine;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long an authorization code may be exchanged.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// The grant type of a JWT credential.
pub const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The scopes every token has.
pub const SCOPE: &str = "CallControl ReadAccounts VoipCalling";

/// A token endpoint error (RFC 6749 §5.2): the HTTP status and the `error` code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// 400, or 401 for `invalid_client`.
    pub status: u16,
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`.
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError { status, error, description: description.into() }
    }

    fn grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_grant", description)
    }

    fn request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_request", description)
    }
}

/// Why an access token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// It was good but its lifetime is over: refresh.
    Expired,
    /// Unknown or revoked: sign in again.
    Invalid,
}

/// How a token request authenticated its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic `client_id:client_secret`.
    Basic {
        /// The client id.
        id: String,
        /// The secret.
        secret: String,
    },
    /// `client_id` in the form, no secret (a public client).
    Public(String),
    /// Neither.
    None,
}

impl ClientAuth {
    /// From an `Authorization` header value and the form's `client_id`.
    pub fn from_request(authorization: Option<&str>, form_client_id: Option<&str>) -> ClientAuth {
        let basic = authorization.and_then(|h| {
            let (scheme, value) = h.trim().split_once(' ')?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return None;
            }
            let raw = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
            let text = String::from_utf8(raw).ok()?;
            let (id, secret) = text.split_once(':')?;
            Some(ClientAuth::Basic { id: id.to_owned(), secret: secret.to_owned() })
        });
        match (basic, form_client_id) {
            (Some(b), _) => b,
            (None, Some(id)) => ClientAuth::Public(id.to_owned()),
            (None, None) => ClientAuth::None,
        }
    }
}

/// A valid authorization request (`GET /restapi/oauth/authorize`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    /// The app.
    pub client_id: String,
    /// Where the browser goes back to.
    pub redirect_uri: String,
    /// The app's `state`, passed back.
    pub state: Option<String>,
    /// The PKCE S256 challenge.
    pub code_challenge: Option<String>,
}

/// Why an authorization request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client or the redirect URI is wrong: say so on a page, never redirect.
    Page(String),
    /// Anything else: redirect back with `error` (RFC 6749 §4.1.2.1).
    Redirect {
        /// The redirect, with `error`, `error_description` and `state`.
        location: String,
    },
}

/// What the token endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
    /// The refresh token.
    pub refresh_token: String,
    /// Its lifetime in seconds.
    pub refresh_token_expires_in: u64,
    /// The extension (index in the configuration) signed in.
    pub ext: usize,
    /// The session's endpoint id.
    pub endpoint_id: String,
}

#[derive(Debug)]
struct Code {
    request: AuthorizeRequest,
    ext: usize,
    expires: Instant,
}

#[derive(Debug)]
struct Session {
    ext: usize,
    client_id: String,
    endpoint_id: String,
}

#[derive(Debug)]
struct Issued {
    session: u64,
    expires: Instant,
}

/// Apps, codes and sessions.
pub struct OAuth {
    cfg: Config,
    codes: HashMap<String, Code>,
    /// Codes already exchanged, and the session they gave (ended if a code comes back).
    used_codes: HashMap<String, (u64, Instant)>,
    sessions: HashMap<u64, Session>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
    next_session: u64,
    rng: StdRng,
}

impl OAuth {
    /// The sign-in state of a server with `cfg`; `seed` fixes its tokens.
    pub fn new(cfg: Config, seed: u64) -> OAuth {
        OAuth {
            cfg,
            codes: HashMap::new(),
            used_codes: HashMap::new(),
            sessions: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            next_session: 0,
            rng: StdRng::seed_from_u64(seed ^ 0x5eed_0a17),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn random(&mut self, bytes: usize) -> String {
        let mut raw = vec![0u8; bytes];
        self.rng.fill_bytes(&mut raw);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    fn app(&self, client_id: &str) -> Option<&OAuthApp> {
        self.cfg.oauth.app(client_id)
    }

    /// Checks the query of `GET`/`POST /restapi/oauth/authorize`.
    pub fn check_authorize(&self, params: &[(String, String)]) -> Result<AuthorizeRequest, AuthorizeError> {
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
        let client_id = get("client_id").ok_or_else(|| AuthorizeError::Page("client_id is missing".into()))?;
        let app = self.app(client_id).ok_or_else(|| AuthorizeError::Page(format!("unknown client_id {client_id:?}")))?;
        let redirect_uri = get("redirect_uri").ok_or_else(|| AuthorizeError::Page("redirect_uri is missing".into()))?;
        if !app.allows_redirect(redirect_uri) {
            return Err(AuthorizeError::Page(format!("redirect_uri {redirect_uri:?} is not registered for this app")));
        }
        let state = get("state").map(str::to_owned);
        let fail = |error: &str, description: &str| AuthorizeError::Redirect {
            location: with_query(redirect_uri, &[("error", Some(error)), ("error_description", Some(description)), ("state", state.as_deref())]),
        };
        if get("response_type") != Some("code") {
            return Err(fail("unsupported_response_type", "response_type must be code"));
        }
        let challenge = get("code_challenge");
        match (challenge, get("code_challenge_method")) {
            (None, _) if app.client_secret.is_none() => return Err(fail("invalid_request", "a public client must use PKCE (code_challenge)")),
            (Some(_), method) if method != Some("S256") => return Err(fail("invalid_request", "code_challenge_method must be S256")),
            (Some(c), _) if c.len() != 43 || !c.bytes().all(is_base64url) => return Err(fail("invalid_request", "code_challenge must be 43 base64url characters")),
            _ => {}
        }
        Ok(AuthorizeRequest { client_id: client_id.to_owned(), redirect_uri: redirect_uri.to_owned(), state, code_challenge: challenge.map(str::to_owned) })
    }

    /// The sign-in form's answer: where to send the browser (`?code=…&state=…`, or
    /// `?error=access_denied&state=…` when `username`/`password` are not an extension's).
    pub fn sign_in(&mut self, request: &AuthorizeRequest, username: &str, password: &str, now: Instant) -> String {
        let ext = self.cfg.extension_by_number(username.trim()).filter(|(_, e)| e.login_password.as_deref().is_some_and(|p| p == password)).map(|(i, _)| i);
        let state = request.state.as_deref();
        let Some(ext) = ext else {
            return with_query(&request.redirect_uri, &[("error", Some("access_denied")), ("error_description", Some("wrong username or password")), ("state", state)]);
        };
        self.purge(now);
        let code = self.random(24);
        self.codes.insert(code.clone(), Code { request: request.clone(), ext, expires: now + CODE_LIFETIME });
        with_query(&request.redirect_uri, &[("code", Some(&code)), ("state", state)])
    }

    /// `POST /restapi/oauth/token` with the form `form`.
    pub fn token(&mut self, client: &ClientAuth, form: &[(String, String)], now: Instant) -> Result<Tokens, OAuthError> {
        let client_id = self.authenticate(client)?;
        let result = self.grant(&client_id, form, now);
        self.purge(now);
        result
    }

    fn grant(&mut self, client_id: &str, form: &[(String, String)], now: Instant) -> Result<Tokens, OAuthError> {
        let client_id = client_id.to_owned();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
        match get("grant_type") {
            Some("authorization_code") => {
                let code = get("code").ok_or_else(|| OAuthError::request("code is missing"))?;
                self.exchange_code(&client_id, code, get("redirect_uri"), get("code_verifier"), now)
            }
            Some(JWT_GRANT) => {
                let assertion = get("assertion").ok_or_else(|| OAuthError::request("assertion is missing"))?;
                let ext = self.cfg.extensions.iter().position(|e| e.jwt.as_deref() == Some(assertion)).ok_or_else(|| OAuthError::grant("Invalid JWT: no extension has this credential"))?;
                Ok(self.issue(None, ext, &client_id, now))
            }
            Some("refresh_token") => {
                let token = get("refresh_token").ok_or_else(|| OAuthError::request("refresh_token is missing"))?;
                let issued = self.refresh.get(token).ok_or_else(|| OAuthError::grant("Token not found: the refresh token is unknown, used or revoked"))?;
                if issued.expires <= now {
                    return Err(OAuthError::grant("Token is expired: the refresh token's lifetime is over"));
                }
                let session = issued.session;
                let (ext, owner) = self.sessions.get(&session).map(|s| (s.ext, s.client_id.clone())).ok_or_else(|| OAuthError::grant("Token not found"))?;
                if owner != client_id {
                    return Err(OAuthError::grant("the refresh token was issued to another client"));
                }
                self.refresh.remove(token);
                Ok(self.issue(Some(session), ext, &client_id, now))
            }
            Some(other) => Err(OAuthError::new(400, "unsupported_grant_type", format!("grant_type {other:?} is not supported"))),
            None => Err(OAuthError::request("grant_type is missing")),
        }
    }

    /// The client id a token request authenticated as.
    fn authenticate(&self, client: &ClientAuth) -> Result<String, OAuthError> {
        let bad = |why: &str| OAuthError::new(401, "invalid_client", why);
        match client {
            ClientAuth::Basic { id, secret } => match self.app(id).map(|a| a.client_secret.as_deref()) {
                None => Err(bad("unknown client")),
                Some(Some(s)) if s == secret => Ok(id.clone()),
                Some(None) if secret.is_empty() => Ok(id.clone()),
                Some(_) => Err(bad("wrong client secret")),
            },
            ClientAuth::Public(id) => match self.app(id).map(|a| a.client_secret.is_some()) {
                None => Err(bad("unknown client")),
                Some(true) => Err(bad("this client must authenticate with its secret (HTTP Basic)")),
                Some(false) => Ok(id.clone()),
            },
            ClientAuth::None => Err(bad("client authentication is required (HTTP Basic, or client_id for a public client)")),
        }
    }

    fn exchange_code(&mut self, client_id: &str, code: &str, redirect_uri: Option<&str>, verifier: Option<&str>, now: Instant) -> Result<Tokens, OAuthError> {
        let Some(c) = self.codes.remove(code) else {
            // RFC 6749 §4.1.2: a code used twice ends what it gave.
            if let Some((session, _)) = self.used_codes.remove(code) {
                self.end_session(session);
            }
            return Err(OAuthError::grant("Invalid authorization code: unknown, used or revoked"));
        };
        if c.expires <= now {
            return Err(OAuthError::grant("Authorization code is expired"));
        }
        if c.request.client_id != client_id {
            return Err(OAuthError::grant("the authorization code was issued to another client"));
        }
        if redirect_uri != Some(c.request.redirect_uri.as_str()) {
            return Err(OAuthError::grant("redirect_uri does not match the authorization request's"));
        }
        if let Some(challenge) = &c.request.code_challenge {
            let Some(verifier) = verifier else { return Err(OAuthError::grant("code_verifier is missing")) };
            if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(|b| is_base64url(b) || b == b'.' || b == b'~') {
                return Err(OAuthError::grant("code_verifier must be 43 to 128 unreserved characters"));
            }
            if &s256(verifier) != challenge {
                return Err(OAuthError::grant("code_verifier does not match the code_challenge"));
            }
        }
        let tokens = self.issue(None, c.ext, client_id, now);
        let session = self.access.get(&tokens.access_token).map(|i| i.session).unwrap_or_default();
        self.used_codes.insert(code.to_owned(), (session, c.expires));
        Ok(tokens)
    }

    /// New tokens for `session` (a new session when `None`).
    fn issue(&mut self, session: Option<u64>, ext: usize, client_id: &str, now: Instant) -> Tokens {
        let session = match session {
            Some(s) => s,
            None => {
                self.next_session += 1;
                let endpoint_id = self.random(16);
                self.sessions.insert(self.next_session, Session { ext, client_id: client_id.to_owned(), endpoint_id });
                self.next_session
            }
        };
        let (access_life, refresh_life) = (self.cfg.oauth.access_token_lifetime_secs, self.cfg.oauth.refresh_token_lifetime_secs);
        let access_token = self.random(48);
        let refresh_token = self.random(48);
        self.access.insert(access_token.clone(), Issued { session, expires: now + Duration::from_secs(access_life) });
        self.refresh.insert(refresh_token.clone(), Issued { session, expires: now + Duration::from_secs(refresh_life) });
        let endpoint_id = self.sessions.get(&session).map(|s| s.endpoint_id.clone()).unwrap_or_default();
        Tokens { access_token, expires_in: access_life, refresh_token, refresh_token_expires_in: refresh_life, ext, endpoint_id }
    }

    /// `POST /restapi/oauth/revoke`: the session of `token` (access or refresh) ends. Unknown
    /// tokens are fine (RFC 7009).
    pub fn revoke(&mut self, token: &str) {
        let session = self.access.get(token).or_else(|| self.refresh.get(token)).map(|i| i.session);
        if let Some(session) = session {
            self.end_session(session);
        }
    }

    fn end_session(&mut self, session: u64) {
        self.sessions.remove(&session);
        self.access.retain(|_, i| i.session != session);
        self.refresh.retain(|_, i| i.session != session);
    }

    /// The extension (index) whose access token this is.
    pub fn check_access(&self, token: &str, now: Instant) -> Result<usize, TokenError> {
        let issued = self.access.get(token).ok_or(TokenError::Invalid)?;
        let session = self.sessions.get(&issued.session).ok_or(TokenError::Invalid)?;
        if issued.expires <= now {
            return Err(TokenError::Expired);
        }
        Ok(session.ext)
    }

    /// Forgets what cannot be used any more. An expired access token is kept as long as a
    /// refresh token lives (it is then refused as expired, not unknown).
    fn purge(&mut self, now: Instant) {
        let keep_expired = Duration::from_secs(self.cfg.oauth.refresh_token_lifetime_secs);
        // Kept a while after they expire, to say so.
        self.codes.retain(|_, c| c.expires + CODE_LIFETIME > now);
        self.used_codes.retain(|_, (_, expires)| *expires + CODE_LIFETIME > now);
        self.refresh.retain(|_, i| i.expires > now);
        self.access.retain(|_, i| i.expires + keep_expired > now);
        let live: std::collections::HashSet<u64> = self.access.values().chain(self.refresh.values()).map(|i| i.session).collect();
        self.sessions.retain(|id, _| live.contains(id));
    }

    /// How many sessions are alive (for tests).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

/// BASE64URL(SHA-256(verifier)), the S256 challenge of a PKCE verifier (RFC 7636).
pub fn s256(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// `uri` with form-encoded `pairs` (those with a value) added to its query.
pub fn with_query(uri: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", q.finish())
}

/// A form or query string's pairs, decoded.
pub fn parse_form(text: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(text).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn short_lived() -> OAuth {
        let mut cfg = Config::demo();
        cfg.oauth.access_token_lifetime_secs = 10;
        cfg.oauth.refresh_token_lifetime_secs = 100;
        OAuth::new(cfg, 1)
    }

    fn public() -> ClientAuth {
        ClientAuth::Public(crate::config::OAuthSettings::DEMO_PUBLIC_CLIENT.into())
    }

    fn authorize_query(challenge: &str) -> Vec<(String, String)> {
        pairs(&[
            ("response_type", "code"),
            ("client_id", crate::config::OAuthSettings::DEMO_PUBLIC_CLIENT),
            ("redirect_uri", "http://127.0.0.1:4711/cb"),
            ("state", "xyz"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ])
    }

    fn code_of(location: &str) -> String {
        let query = location.split_once('?').unwrap().1;
        parse_form(query.as_bytes()).into_iter().find(|(k, _)| k == "code").map(|(_, v)| v).unwrap_or_else(|| panic!("no code in {location}"))
    }

    fn exchange(o: &mut OAuth, code: &str, verifier: &str, now: Instant) -> Result<Tokens, OAuthError> {
        let form = pairs(&[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", "http://127.0.0.1:4711/cb"), ("code_verifier", verifier)]);
        o.token(&public(), &form, now)
    }

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(s256(VERIFIER), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn pkce_code_flow_on_a_fake_clock() {
        let mut o = short_lived();
        let t0 = Instant::now();
        let req = o.check_authorize(&authorize_query(&s256(VERIFIER))).unwrap();
        let denied = o.sign_in(&req, "101", "wrong", t0);
        assert!(denied.starts_with("http://127.0.0.1:4711/cb?error=access_denied") && denied.ends_with("state=xyz"), "{denied}");
        let location = o.sign_in(&req, "101", "demo-101-login", t0);
        assert!(location.contains("&state=xyz"), "{location}");
        let code = code_of(&location);
        let tokens = exchange(&mut o, &code, VERIFIER, t0 + Duration::from_secs(59)).unwrap();
        assert_eq!((tokens.ext, tokens.expires_in, tokens.refresh_token_expires_in), (0, 10, 100));
        assert_eq!(o.check_access(&tokens.access_token, t0 + Duration::from_secs(60)), Ok(0));
        assert_eq!(o.check_access(&tokens.access_token, t0 + Duration::from_secs(69)), Err(TokenError::Expired));
        // Single use: a second exchange fails and ends the session the code gave.
        assert_eq!(exchange(&mut o, &code, VERIFIER, t0).unwrap_err().error, "invalid_grant");
        assert_eq!(o.check_access(&tokens.access_token, t0), Err(TokenError::Invalid));
    }

    #[test]
    fn codes_expire_and_need_the_right_verifier_client_and_redirect() {
        let mut o = short_lived();
        let t0 = Instant::now();
        let req = o.check_authorize(&authorize_query(&s256(VERIFIER))).unwrap();
        let late = code_of(&o.sign_in(&req, "+16505550101", "demo-101-login", t0));
        assert!(exchange(&mut o, &late, VERIFIER, t0 + CODE_LIFETIME).unwrap_err().description.contains("expired"));
        let wrong = code_of(&o.sign_in(&req, "16505550101", "demo-101-login", t0));
        let other_verifier = "A".repeat(43);
        assert!(exchange(&mut o, &wrong, &other_verifier, t0).unwrap_err().description.contains("does not match"));
        assert!(exchange(&mut o, &wrong, VERIFIER, t0).is_err(), "the code was used up by the failed try");
        let short = code_of(&o.sign_in(&req, "101", "demo-101-login", t0));
        assert!(exchange(&mut o, &short, "abc", t0).unwrap_err().description.contains("43 to 128"));
        let redirect = code_of(&o.sign_in(&req, "101", "demo-101-login", t0));
        let form = pairs(&[("grant_type", "authorization_code"), ("code", &redirect), ("redirect_uri", "http://127.0.0.1:4712/cb"), ("code_verifier", VERIFIER)]);
        assert!(o.token(&public(), &form, t0).unwrap_err().description.contains("redirect_uri"));
        let stolen = code_of(&o.sign_in(&req, "101", "demo-101-login", t0));
        let confidential = ClientAuth::Basic { id: "rc-sim-server-app".into(), secret: "rc-sim-server-app-secret".into() };
        let form = pairs(&[("grant_type", "authorization_code"), ("code", &stolen), ("redirect_uri", "http://127.0.0.1:4711/cb"), ("code_verifier", VERIFIER)]);
        assert!(o.token(&confidential, &form, t0).unwrap_err().description.contains("another client"));
    }

    #[test]
    fn authorize_requests_are_checked() {
        let o = short_lived();
        let mut q = authorize_query(&s256(VERIFIER));
        q[1].1 = "nobody".into();
        assert!(matches!(o.check_authorize(&q), Err(AuthorizeError::Page(m)) if m.contains("unknown client_id")));
        let mut q = authorize_query(&s256(VERIFIER));
        q[2].1 = "http://evil.example/cb".into();
        assert!(matches!(o.check_authorize(&q), Err(AuthorizeError::Page(m)) if m.contains("not registered")));
        let mut q = authorize_query(&s256(VERIFIER));
        q[5].1 = "plain".into();
        assert!(matches!(o.check_authorize(&q), Err(AuthorizeError::Redirect { location }) if location.contains("error=invalid_request") && location.ends_with("state=xyz")));
        let q: Vec<_> = authorize_query("").into_iter().filter(|(k, _)| !k.starts_with("code_")).collect();
        assert!(matches!(o.check_authorize(&q), Err(AuthorizeError::Redirect { location }) if location.contains("PKCE")), "a public client must use PKCE");
        let mut q = authorize_query(&s256(VERIFIER));
        q[0].1 = "token".into();
        assert!(matches!(o.check_authorize(&q), Err(AuthorizeError::Redirect { location }) if location.contains("unsupported_response_type")));
    }

    #[test]
    fn jwt_refresh_rotation_revoke_and_client_checks() {
        let mut o = short_lived();
        let t0 = Instant::now();
        let jwt = o.config().extensions[1].jwt.clone().unwrap();
        let basic = ClientAuth::from_request(Some("Basic cmMtc2ltLXNlcnZlci1hcHA6cmMtc2ltLXNlcnZlci1hcHAtc2VjcmV0"), None);
        assert_eq!(basic, ClientAuth::Basic { id: "rc-sim-server-app".into(), secret: "rc-sim-server-app-secret".into() });
        let grant = |a: &str| pairs(&[("grant_type", JWT_GRANT), ("assertion", a)]);
        assert_eq!(o.token(&basic, &grant("eyJnope"), t0).unwrap_err().error, "invalid_grant");
        let wrong_secret = ClientAuth::Basic { id: "rc-sim-server-app".into(), secret: "x".into() };
        assert_eq!(o.token(&wrong_secret, &grant(&jwt), t0).unwrap_err().status, 401);
        assert_eq!(o.token(&ClientAuth::Public("rc-sim-server-app".into()), &grant(&jwt), t0).unwrap_err().error, "invalid_client");
        assert_eq!(o.token(&ClientAuth::None, &grant(&jwt), t0).unwrap_err().error, "invalid_client");
        assert_eq!(o.token(&basic, &pairs(&[("grant_type", "password")]), t0).unwrap_err().error, "unsupported_grant_type");
        let first = o.token(&basic, &grant(&jwt), t0).unwrap();
        assert_eq!(first.ext, 1);

        let refresh = |o: &mut OAuth, token: &str, at: Instant| o.token(&basic, &pairs(&[("grant_type", "refresh_token"), ("refresh_token", token)]), at);
        let t1 = t0 + Duration::from_secs(30);
        assert_eq!(o.check_access(&first.access_token, t1), Err(TokenError::Expired));
        let second = refresh(&mut o, &first.refresh_token, t1).unwrap();
        assert_ne!(second.refresh_token, first.refresh_token);
        assert_eq!(second.endpoint_id, first.endpoint_id, "the same session");
        assert_eq!(o.check_access(&second.access_token, t1), Ok(1));
        assert_eq!(refresh(&mut o, &first.refresh_token, t1).unwrap_err().error, "invalid_grant", "rotated: the old refresh token is refused");
        let public_refresh = o.token(&public(), &pairs(&[("grant_type", "refresh_token"), ("refresh_token", &second.refresh_token)]), t1);
        assert!(public_refresh.unwrap_err().description.contains("another client"));

        let third = refresh(&mut o, &second.refresh_token, t1).unwrap();
        o.revoke(&third.refresh_token);
        assert_eq!(o.check_access(&third.access_token, t1), Err(TokenError::Invalid));
        assert_eq!(o.check_access(&second.access_token, t1), Err(TokenError::Invalid), "the whole session ends");
        o.revoke("never-issued");
        assert_eq!(o.session_count(), 0);

        let late = o.token(&basic, &grant(&jwt), t0).unwrap();
        assert!(refresh(&mut o, &late.refresh_token, t0 + Duration::from_secs(100)).unwrap_err().description.contains("expired"));
    }

    #[test]
    fn forgotten_state_is_purged() {
        let mut o = short_lived();
        let t0 = Instant::now();
        let jwt = o.config().extensions[0].jwt.clone().unwrap();
        let basic = ClientAuth::Basic { id: "rc-sim-server-app".into(), secret: "rc-sim-server-app-secret".into() };
        let old = o.token(&basic, &pairs(&[("grant_type", JWT_GRANT), ("assertion", &jwt)]), t0).unwrap();
        assert_eq!(o.check_access(&old.access_token, t0 + Duration::from_secs(50)), Err(TokenError::Expired));
        o.token(&basic, &pairs(&[("grant_type", JWT_GRANT), ("assertion", &jwt)]), t0 + Duration::from_secs(200)).unwrap();
        assert_eq!(o.session_count(), 1, "the first session's tokens are all dead and gone");
        assert_eq!(o.check_access(&old.access_token, t0 + Duration::from_secs(200)), Err(TokenError::Invalid));
    }
}

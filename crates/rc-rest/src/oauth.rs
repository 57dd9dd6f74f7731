//! OAuth 2.0 without I/O: the authorize URL, the redirect's query, token request bodies,
//! token responses and the [`Tokens`] we keep.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize};

use crate::{RedirectError, Secret};

/// Path of the sign-in page.
pub const AUTHORIZE_PATH: &str = "/restapi/oauth/authorize";
/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/restapi/oauth/token";
/// Path of the revocation endpoint.
pub const REVOKE_PATH: &str = "/restapi/oauth/revoke";
/// `grant_type` of JWT sign-in.
pub const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How early before the access token expires we refresh it (unless its lifetime is short,
/// see [`Tokens::from_response`]).
pub const REFRESH_EARLY: Duration = Duration::from_secs(60);

/// The sign-in page URL: `{base}/restapi/oauth/authorize?response_type=code&client_id=…&
/// redirect_uri=…&state=…&code_challenge=…&code_challenge_method=S256`. `base` is
/// `https://host[:port]` without a trailing slash (see [`crate::normalize_base`]).
pub fn authorize_url(base: &str, client_id: &str, redirect_uri: &str, state: &str, code_challenge: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state)
        .append_pair("code_challenge", code_challenge)
        .append_pair("code_challenge_method", crate::pkce::METHOD)
        .finish();
    format!("{}{AUTHORIZE_PATH}?{query}", base.trim_end_matches('/'))
}

/// Reads the browser's redirect back to us: a request target (`/callback?code=…&state=…`) or
/// a whole URL. Checks `state` first, then `error=`, and returns the authorization code.
pub fn parse_redirect(target: &str, expected_state: &str) -> Result<String, RedirectError> {
    let query = match target.split_once('?') {
        Some((_, q)) => q.split('#').next().unwrap_or_default(),
        None => "",
    };
    let (mut code, mut state, mut error, mut description) = (None, None, None, None);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match &*name {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    if state.as_deref() != Some(expected_state) {
        return Err(RedirectError::StateMismatch);
    }
    if let Some(error) = error {
        return Err(if error == "access_denied" {
            RedirectError::AccessDenied
        } else {
            let description = description.unwrap_or_else(|| error.clone());
            RedirectError::Failed { error, description }
        });
    }
    code.filter(|c| !c.is_empty()).ok_or(RedirectError::MissingCode)
}

/// A token request.
#[derive(Debug, Clone)]
pub enum Grant<'a> {
    /// The code from the redirect, with the PKCE verifier.
    AuthorizationCode {
        /// From [`parse_redirect`].
        code: &'a str,
        /// The same redirect URI as in the authorize URL.
        redirect_uri: &'a str,
        /// [`crate::Pkce::verifier`].
        code_verifier: &'a str,
    },
    /// JWT sign-in (service accounts) with a JWT credential.
    Jwt {
        /// The JWT credential.
        assertion: &'a str,
    },
    /// A refresh.
    RefreshToken {
        /// The current refresh token.
        refresh_token: &'a str,
    },
}

/// The form body of a token request. A public client (no secret, so no HTTP Basic
/// authentication) passes `client_id` to send it in the body.
pub fn token_form(grant: &Grant<'_>, public_client_id: Option<&str>) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    match grant {
        Grant::AuthorizationCode { code, redirect_uri, code_verifier } => {
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_verifier", code_verifier);
        }
        Grant::Jwt { assertion } => {
            form.append_pair("grant_type", JWT_GRANT).append_pair("assertion", assertion);
        }
        Grant::RefreshToken { refresh_token } => {
            form.append_pair("grant_type", "refresh_token").append_pair("refresh_token", refresh_token);
        }
    }
    if let Some(id) = public_client_id {
        form.append_pair("client_id", id);
    }
    form.finish()
}

/// The form body of a revocation. As [`token_form`] for `public_client_id`.
pub fn revoke_form(token: &str, public_client_id: Option<&str>) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token);
    if let Some(id) = public_client_id {
        form.append_pair("client_id", id);
    }
    form.finish()
}

/// The token endpoint's 200 answer.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: Secret,
    /// `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The refresh token (RingCentral issues a new one at every refresh).
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// Seconds the refresh token lives.
    #[serde(default)]
    pub refresh_token_expires_in: Option<u64>,
    /// Granted scopes, space separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// The extension id.
    #[serde(default, deserialize_with = "string_or_number")]
    pub owner_id: Option<String>,
    /// The endpoint (device) id.
    #[serde(default, deserialize_with = "string_or_number")]
    pub endpoint_id: Option<String>,
}

impl TokenResponse {
    /// Parses the body of a 200 answer.
    pub fn parse(body: &[u8]) -> Result<TokenResponse, crate::RestError> {
        let response: TokenResponse = serde_json::from_slice(body).map_err(|e| crate::RestError::BadResponse(format!("token answer: {e}")))?;
        if response.access_token.expose().is_empty() {
            return Err(crate::RestError::BadResponse("token answer: empty access_token".into()));
        }
        if let Some(kind) = &response.token_type {
            if !kind.eq_ignore_ascii_case("bearer") {
                return Err(crate::RestError::BadResponse(format!("token answer: token_type \"{kind}\", expected bearer")));
            }
        }
        Ok(response)
    }
}

/// Ids may come as strings or numbers; we keep strings.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The tokens of a signed-in session, with wall-clock expiry times (`SystemTime`, so a
/// laptop's sleep counts, and they can be kept in the keychain: the serialized form holds the
/// tokens in clear and is for the keychain only). `Debug` redacts the tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// The bearer token.
    pub access_token: Secret,
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// When to refresh: [`REFRESH_EARLY`] before `expires_at`, or half the lifetime before it
    /// when the lifetime is under two minutes.
    pub refresh_at: SystemTime,
    /// The refresh token, if one was issued.
    pub refresh_token: Option<Secret>,
    /// When the refresh token expires, if known.
    pub refresh_expires_at: Option<SystemTime>,
    /// Granted scopes.
    pub scope: Option<String>,
    /// The extension id.
    pub owner_id: Option<String>,
    /// The endpoint id.
    pub endpoint_id: Option<String>,
}

impl Tokens {
    /// Tokens from a token answer received at `now`.
    pub fn from_response(response: TokenResponse, now: SystemTime) -> Tokens {
        let lifetime = Duration::from_secs(response.expires_in);
        let early = REFRESH_EARLY.min(lifetime / 2);
        Tokens {
            access_token: response.access_token,
            expires_at: now + lifetime,
            refresh_at: now + (lifetime - early),
            refresh_token: response.refresh_token,
            refresh_expires_at: response.refresh_token_expires_in.map(|s| now + Duration::from_secs(s)),
            scope: response.scope,
            owner_id: response.owner_id,
            endpoint_id: response.endpoint_id,
        }
    }

    /// The tokens after a refresh answered at `now`: everything new, but the old refresh
    /// token (and ids) are kept when the answer has none.
    pub fn refreshed(&self, response: TokenResponse, now: SystemTime) -> Tokens {
        let keep_refresh = response.refresh_token.is_none();
        let mut tokens = Tokens::from_response(response, now);
        if keep_refresh {
            tokens.refresh_token = self.refresh_token.clone();
            tokens.refresh_expires_at = self.refresh_expires_at;
        }
        tokens.owner_id = tokens.owner_id.or_else(|| self.owner_id.clone());
        tokens.endpoint_id = tokens.endpoint_id.or_else(|| self.endpoint_id.clone());
        tokens.scope = tokens.scope.or_else(|| self.scope.clone());
        tokens
    }

    /// Time to refresh (a minute before expiry; see [`Tokens::refresh_at`]).
    pub fn needs_refresh(&self, now: SystemTime) -> bool {
        now >= self.refresh_at
    }

    /// The access token has expired.
    pub fn access_expired(&self, now: SystemTime) -> bool {
        now >= self.expires_at
    }

    /// There is a refresh token and it has not expired.
    pub fn can_refresh(&self, now: SystemTime) -> bool {
        self.refresh_token.is_some() && self.refresh_expires_at.is_none_or(|at| now < at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://platform.ringcentral.com";

    #[test]
    fn authorize_url_has_every_field() {
        let url = authorize_url(
            "https://127.0.0.1:8443/",
            "my client",
            "http://127.0.0.1:5555/callback",
            "st/ate",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        );
        assert_eq!(
            url,
            "https://127.0.0.1:8443/restapi/oauth/authorize?response_type=code&client_id=my+client\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback&state=st%2Fate\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        );
        let parsed = url::Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        assert!(pairs.contains(&("redirect_uri".into(), "http://127.0.0.1:5555/callback".into())));
        assert!(pairs.contains(&("state".into(), "st/ate".into())));
        assert!(authorize_url(BASE, "c", "r", "s", "x").starts_with("https://platform.ringcentral.com/restapi/oauth/authorize?"));
    }

    #[test]
    fn redirects() {
        assert_eq!(parse_redirect("/callback?code=U0xDMTFQMDF&state=abc", "abc").unwrap(), "U0xDMTFQMDF");
        assert_eq!(parse_redirect("http://127.0.0.1:5555/callback?state=a%2Fb&code=c%3D1", "a/b").unwrap(), "c=1");
        assert_eq!(parse_redirect("/callback?code=x&state=abd", "abc"), Err(RedirectError::StateMismatch));
        assert_eq!(parse_redirect("/callback?code=x", "abc"), Err(RedirectError::StateMismatch));
        assert_eq!(parse_redirect("/callback", "abc"), Err(RedirectError::StateMismatch));
        assert_eq!(parse_redirect("/callback?error=access_denied&state=abc", "abc"), Err(RedirectError::AccessDenied));
        // An error redirect that is not ours is a mismatch, not a denial.
        assert_eq!(parse_redirect("/callback?error=access_denied&state=evil", "abc"), Err(RedirectError::StateMismatch));
        assert_eq!(
            parse_redirect("/callback?error=server_error&error_description=Try+later&state=abc", "abc"),
            Err(RedirectError::Failed { error: "server_error".into(), description: "Try later".into() })
        );
        assert_eq!(parse_redirect("/callback?state=abc", "abc"), Err(RedirectError::MissingCode));
        assert_eq!(parse_redirect("/callback?state=abc&code=", "abc"), Err(RedirectError::MissingCode));
    }

    #[test]
    fn token_forms() {
        let code = Grant::AuthorizationCode { code: "c&1", redirect_uri: "http://127.0.0.1:1/callback", code_verifier: "v" };
        assert_eq!(
            token_form(&code, Some("id")),
            "grant_type=authorization_code&code=c%261&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback&code_verifier=v&client_id=id"
        );
        assert_eq!(
            token_form(&Grant::Jwt { assertion: "a.b.c" }, None),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c"
        );
        assert_eq!(token_form(&Grant::RefreshToken { refresh_token: "r" }, None), "grant_type=refresh_token&refresh_token=r");
        assert_eq!(revoke_form("t", Some("id")), "token=t&client_id=id");
    }

    fn response(body: &str) -> TokenResponse {
        TokenResponse::parse(body.as_bytes()).unwrap()
    }

    const ANSWER: &str = r#"{"access_token":"AT-1","token_type":"bearer","expires_in":3600,"refresh_token":"RT-1",
        "refresh_token_expires_in":604800,"scope":"VoipCalling ReadAccounts","owner_id":"101","endpoint_id":"dev-1"}"#;

    #[test]
    fn token_answers() {
        let r = response(ANSWER);
        assert_eq!(r.access_token.expose(), "AT-1");
        assert_eq!(r.expires_in, 3600);
        assert_eq!(r.refresh_token.as_ref().unwrap().expose(), "RT-1");
        assert_eq!(r.owner_id.as_deref(), Some("101"));
        let numeric = response(r#"{"access_token":"a","expires_in":60,"owner_id":12345}"#);
        assert_eq!(numeric.owner_id.as_deref(), Some("12345"));
        assert!(numeric.refresh_token.is_none());
        assert!(matches!(TokenResponse::parse(b"{}"), Err(crate::RestError::BadResponse(_))));
        assert!(matches!(TokenResponse::parse(b"<html>"), Err(crate::RestError::BadResponse(_))));
        assert!(matches!(TokenResponse::parse(br#"{"access_token":"a","token_type":"mac","expires_in":60}"#), Err(crate::RestError::BadResponse(_))));
    }

    #[test]
    fn expiry() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let s = Duration::from_secs;
        let tokens = Tokens::from_response(response(ANSWER), t0);
        assert_eq!(tokens.expires_at, t0 + s(3600));
        assert_eq!(tokens.refresh_at, t0 + s(3540));
        assert!(!tokens.needs_refresh(t0 + s(3539)));
        assert!(tokens.needs_refresh(t0 + s(3540)));
        assert!(!tokens.access_expired(t0 + s(3599)));
        assert!(tokens.access_expired(t0 + s(3600)));
        assert!(tokens.can_refresh(t0 + s(604_799)));
        assert!(!tokens.can_refresh(t0 + s(604_800)));

        // Short lifetimes (rc-sim tests) refresh half-way.
        let short = Tokens::from_response(response(r#"{"access_token":"a","expires_in":4,"refresh_token":"r"}"#), t0);
        assert_eq!(short.refresh_at, t0 + s(2));
        assert!(short.can_refresh(t0 + s(1_000_000)));

        // A refresh without a new refresh token keeps the old one.
        let t1 = t0 + s(3550);
        let again = tokens.refreshed(response(r#"{"access_token":"AT-2","expires_in":3600}"#), t1);
        assert_eq!(again.access_token.expose(), "AT-2");
        assert_eq!(again.refresh_token, tokens.refresh_token);
        assert_eq!(again.refresh_expires_at, tokens.refresh_expires_at);
        assert_eq!(again.owner_id.as_deref(), Some("101"));
        assert_eq!(again.refresh_at, t1 + s(3540));
        let rotated = tokens.refreshed(response(r#"{"access_token":"AT-3","expires_in":3600,"refresh_token":"RT-3"}"#), t1);
        assert_eq!(rotated.refresh_token.unwrap().expose(), "RT-3");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let tokens = Tokens::from_response(response(ANSWER), SystemTime::UNIX_EPOCH);
        let debug = format!("{tokens:?} {:?}", response(ANSWER));
        assert!(!debug.contains("AT-1") && !debug.contains("RT-1"), "{debug}");
        assert!(debug.contains("<redacted>"));
        // The keychain form keeps them.
        let json = serde_json::to_string(&tokens).unwrap();
        assert!(json.contains("AT-1") && json.contains("RT-1"));
        assert_eq!(serde_json::from_str::<Tokens>(&json).unwrap(), tokens);
    }
}

//! [`RcClient`]: sign-in, refresh, revocation and the API calls of docs/rest-api.md.

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use rc_dialect::SipInfo;
use tokio::sync::watch;

use crate::http::{tls_config, Https, Response};
use crate::model::{parse_caller_ids, parse_conference, parse_party, parse_sip_provision};
use crate::oauth::{revoke_form, token_form, Grant, TokenResponse, REVOKE_PATH, TOKEN_PATH};
use crate::{normalize_base, Conference, Party, PhoneNumber, Pkce, RestError, Secret, Tokens};

/// Path of sip-provision.
pub const SIP_PROVISION_PATH: &str = "/restapi/v1.0/client-info/sip-provision";
/// Path of the extension's phone numbers.
pub const PHONE_NUMBER_PATH: &str = "/restapi/v1.0/account/~/extension/~/phone-number";
/// Path that creates a conference.
pub const CONFERENCE_PATH: &str = "/restapi/v1.0/account/~/telephony/conference";
/// What sip-provision is asked for.
pub const SIP_PROVISION_BODY: &str = r#"{"sipInfo":[{"transport":"WSS"}]}"#;

/// How to reach RingCentral.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Base URL, `https://host[:port]` (see [`crate::Server`]).
    pub server: String,
    /// The app's client id.
    pub client_id: String,
    /// The client secret of a confidential client (sent by HTTP Basic authentication); `None`
    /// for a public PKCE client, which sends `client_id` in the body.
    pub client_secret: Option<Secret>,
    /// PEM of one more CA to trust besides the system's roots (rc-sim's `ca_pem`).
    /// Certificates are always verified.
    pub extra_ca_pem: Option<String>,
    /// Limit on each HTTP request (connect, TLS, answer). 30 s by default.
    pub timeout: Duration,
}

impl ClientOptions {
    /// A public client of `server` (a base URL, e.g. [`crate::Server::base_url`]).
    pub fn new(server: impl Into<String>, client_id: impl Into<String>) -> ClientOptions {
        ClientOptions {
            server: server.into(),
            client_id: client_id.into(),
            client_secret: None,
            extra_ca_pem: None,
            timeout: Duration::from_secs(30),
        }
    }
}

/// A RingCentral REST client for one user session.
///
/// Every API call first refreshes the access token when it is about to expire (a minute
/// early), and on a 401 `TokenExpired` refreshes and retries once. A 401 `TokenInvalid`, or a
/// refused refresh, ends the session: the tokens are forgotten and the call returns
/// [`RestError::TokenInvalid`]. A 429 returns [`RestError::RateLimited`] with the server's
/// `Retry-After` at once: this client never sleeps or retries on its own, the caller decides.
/// Concurrent calls share one refresh.
///
/// Watch [`RcClient::watch_tokens`] to keep the keychain up to date: RingCentral issues a new
/// refresh token at every refresh.
pub struct RcClient {
    base: String,
    client_id: String,
    client_secret: Option<Secret>,
    https: Https,
    tokens: watch::Sender<Option<Tokens>>,
    refreshing: tokio::sync::Mutex<()>,
    sip_info: std::sync::Mutex<Option<SipInfo>>,
}

impl std::fmt::Debug for RcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RcClient")
            .field("base", &self.base)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("tokens", &*self.tokens.borrow())
            .finish_non_exhaustive()
    }
}

impl RcClient {
    /// A client; checks the server URL and the extra CA. Not signed in yet.
    pub fn new(options: ClientOptions) -> Result<RcClient, RestError> {
        let base = normalize_base(&options.server)?;
        if options.client_id.trim().is_empty() {
            return Err(RestError::Config("the client id is empty".into()));
        }
        let tls = tls_config(options.extra_ca_pem.as_deref())?;
        Ok(RcClient {
            base,
            client_id: options.client_id,
            client_secret: options.client_secret,
            https: Https::new(tls, options.timeout),
            tokens: watch::Sender::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            sip_info: std::sync::Mutex::new(None),
        })
    }

    /// The base URL in use, `https://host[:port]`.
    pub fn server(&self) -> &str {
        &self.base
    }

    /// The sign-in page to open in the system browser.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str, pkce: &Pkce) -> String {
        crate::oauth::authorize_url(&self.base, &self.client_id, redirect_uri, state, pkce.challenge())
    }

    /// Trades the code from the redirect for tokens (PKCE); signs in.
    pub async fn exchange_code(&self, code: &str, verifier: &str, redirect_uri: &str) -> Result<Tokens, RestError> {
        self.sign_in(Grant::AuthorizationCode { code, redirect_uri, code_verifier: verifier }).await
    }

    /// Signs in with a JWT credential (service accounts).
    pub async fn sign_in_jwt(&self, jwt: &str) -> Result<Tokens, RestError> {
        self.sign_in(Grant::Jwt { assertion: jwt }).await
    }

    async fn sign_in(&self, grant: Grant<'_>) -> Result<Tokens, RestError> {
        let now = SystemTime::now();
        let tokens = Tokens::from_response(self.token_request(&grant).await?, now);
        let _guard = self.refreshing.lock().await;
        self.sip_info.lock().unwrap().take();
        self.tokens.send_replace(Some(tokens.clone()));
        Ok(tokens)
    }

    /// Refreshes the tokens now. A refused or expired refresh token ends the session
    /// ([`RestError::TokenInvalid`], tokens forgotten); other failures keep the tokens.
    pub async fn refresh(&self) -> Result<Tokens, RestError> {
        let _guard = self.refreshing.lock().await;
        let current = self.tokens.borrow().clone().ok_or(RestError::NotSignedIn)?;
        self.refresh_locked(current).await
    }

    /// Signs out: forgets the tokens and the cached sipInfo, then asks the server to revoke
    /// the session. The local sign-out happens even when the server cannot be reached; the
    /// error is returned for the log.
    pub async fn revoke(&self) -> Result<(), RestError> {
        let _guard = self.refreshing.lock().await;
        self.sip_info.lock().unwrap().take();
        let Some(tokens) = self.tokens.send_replace(None) else { return Ok(()) };
        let now = SystemTime::now();
        let token = if !tokens.access_expired(now) {
            tokens.access_token
        } else if let (true, Some(refresh)) = (tokens.can_refresh(now), tokens.refresh_token) {
            refresh
        } else {
            return Ok(());
        };
        let body = revoke_form(token.expose(), self.public_client_id());
        let response = self.form_post(REVOKE_PATH, body).await?;
        if response.is_success() {
            Ok(())
        } else {
            Err(error_of(&response))
        }
    }

    /// The current tokens (to store in the keychain).
    pub fn tokens(&self) -> Option<Tokens> {
        self.tokens.borrow().clone()
    }

    /// Restores tokens (from the keychain), or forgets them with `None` (without revoking).
    pub fn set_tokens(&self, tokens: Option<Tokens>) {
        self.tokens.send_replace(tokens);
    }

    /// Follows the tokens: a new value after every sign-in, refresh and sign-out (`None`),
    /// including when the session ends by itself.
    pub fn watch_tokens(&self) -> watch::Receiver<Option<Tokens>> {
        self.tokens.subscribe()
    }

    /// There are tokens (they may still turn out to be revoked).
    pub fn is_signed_in(&self) -> bool {
        self.tokens.borrow().is_some()
    }

    /// Asks for a new sipInfo (`POST /restapi/v1.0/client-info/sip-provision` with WSS),
    /// validates it and caches it.
    pub async fn sip_provision(&self) -> Result<SipInfo, RestError> {
        let body = self.api("POST", SIP_PROVISION_PATH, Some(SIP_PROVISION_BODY)).await?;
        let info = parse_sip_provision(&body)?;
        *self.sip_info.lock().unwrap() = Some(info.clone());
        Ok(info)
    }

    /// The cached sipInfo, or a new one from [`sip_provision`](Self::sip_provision).
    /// RingCentral's sipInfo may be reused for a long time; provision again when the SIP
    /// registration is refused.
    pub async fn sip_info(&self) -> Result<SipInfo, RestError> {
        if let Some(info) = self.cached_sip_info() {
            return Ok(info);
        }
        self.sip_provision().await
    }

    /// The cached sipInfo, if any.
    pub fn cached_sip_info(&self) -> Option<SipInfo> {
        self.sip_info.lock().unwrap().clone()
    }

    /// Restores (from storage) or drops the cached sipInfo.
    pub fn set_cached_sip_info(&self, info: Option<SipInfo>) {
        *self.sip_info.lock().unwrap() = info;
    }

    /// The extension's phone numbers that may be shown as caller ID.
    pub async fn caller_ids(&self) -> Result<Vec<PhoneNumber>, RestError> {
        parse_caller_ids(&self.api("GET", PHONE_NUMBER_PATH, None).await?)
    }

    /// Creates a conference; the host then dials its `voice_call_token`.
    pub async fn create_conference(&self) -> Result<Conference, RestError> {
        parse_conference(&self.api("POST", CONFERENCE_PATH, None).await?)
    }

    /// Brings the call party `party_id` of telephony session `session_id` (as in the SIP
    /// `p-rc-api-ids` header) into the conference `conference_session_id`.
    pub async fn bring_in(&self, conference_session_id: &str, session_id: &str, party_id: &str) -> Result<Party, RestError> {
        if conference_session_id.is_empty() {
            return Err(RestError::Config("empty conference session id".into()));
        }
        let mut url = url::Url::parse(&self.base).map_err(|e| RestError::Config(e.to_string()))?;
        url.path_segments_mut().map_err(|_| RestError::Config("the server URL cannot take a path".into()))?.clear().extend([
            "restapi",
            "v1.0",
            "account",
            "~",
            "telephony",
            "sessions",
            conference_session_id,
            "parties",
            "bring-in",
        ]);
        let body = serde_json::json!({ "sessionId": session_id, "partyId": party_id }).to_string();
        parse_party(&self.api("POST", url.path(), Some(&body)).await?)
    }

    // ---- internals ----

    fn public_client_id(&self) -> Option<&str> {
        self.client_secret.is_none().then_some(self.client_id.as_str())
    }

    async fn form_post(&self, path: &str, body: String) -> Result<Response, RestError> {
        let basic = self.client_secret.as_ref().map(|secret| format!("Basic {}", STANDARD.encode(format!("{}:{}", self.client_id, secret.expose()))));
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded"), ("accept", "application/json")];
        if let Some(basic) = &basic {
            headers.push(("authorization", basic));
        }
        self.https.send("POST", &format!("{}{path}", self.base), &headers, body).await
    }

    async fn token_request(&self, grant: &Grant<'_>) -> Result<TokenResponse, RestError> {
        let response = self.form_post(TOKEN_PATH, token_form(grant, self.public_client_id())).await?;
        if !response.is_success() {
            return Err(error_of(&response));
        }
        TokenResponse::parse(&response.body)
    }

    /// Refreshes `current` (the refresh lock is held). Stores and returns the new tokens.
    async fn refresh_locked(&self, current: Tokens) -> Result<Tokens, RestError> {
        let now = SystemTime::now();
        let refresh_token = match (&current.refresh_token, current.can_refresh(now)) {
            (Some(token), true) => token.clone(),
            _ => {
                self.forget(&current.access_token);
                return Err(RestError::TokenInvalid);
            }
        };
        match self.token_request(&Grant::RefreshToken { refresh_token: refresh_token.expose() }).await {
            Ok(answer) => {
                let fresh = current.refreshed(answer, now);
                let stored = self.tokens.send_if_modified(|tokens| match tokens {
                    Some(t) if t.access_token == current.access_token => {
                        *tokens = Some(fresh.clone());
                        true
                    }
                    _ => false,
                });
                if stored {
                    Ok(fresh)
                } else {
                    // Signed out (or in again) meanwhile.
                    self.tokens.borrow().clone().ok_or(RestError::NotSignedIn)
                }
            }
            Err(RestError::InvalidGrant(_) | RestError::TokenInvalid) => {
                self.forget(&current.access_token);
                Err(RestError::TokenInvalid)
            }
            Err(other) => Err(other),
        }
    }

    /// Refreshes unless someone else already replaced `old` (one refresh for many callers);
    /// returns the access token to use.
    async fn refresh_unless_changed(&self, old: &Secret) -> Result<Secret, RestError> {
        let _guard = self.refreshing.lock().await;
        let current = self.tokens.borrow().clone().ok_or(RestError::NotSignedIn)?;
        if &current.access_token != old {
            return Ok(current.access_token);
        }
        Ok(self.refresh_locked(current).await?.access_token)
    }

    /// The access token to send, refreshed first when it is about to expire.
    async fn usable_access_token(&self) -> Result<Secret, RestError> {
        let now = SystemTime::now();
        let tokens = self.tokens.borrow().clone().ok_or(RestError::NotSignedIn)?;
        if !tokens.needs_refresh(now) {
            return Ok(tokens.access_token);
        }
        match self.refresh_unless_changed(&tokens.access_token).await {
            Ok(token) => Ok(token),
            // The refresh failed for a passing reason (network, 5xx, 429) but the token has
            // not expired yet: use it.
            Err(e) if !e.needs_sign_in() && !tokens.access_expired(SystemTime::now()) => Ok(tokens.access_token),
            Err(e) => Err(e),
        }
    }

    /// Forgets the tokens if they are still the ones with this access token.
    fn forget(&self, access_token: &Secret) {
        self.tokens.send_if_modified(|tokens| {
            if tokens.as_ref().is_some_and(|t| &t.access_token == access_token) {
                *tokens = None;
                true
            } else {
                false
            }
        });
    }

    /// An API call with the bearer token, refresh-aware. Returns the 2xx body.
    async fn api(&self, method: &str, path: &str, json: Option<&str>) -> Result<Bytes, RestError> {
        let token = self.usable_access_token().await?;
        let result = match self.call(&token, method, path, json).await {
            Err(RestError::TokenExpired) => {
                let token = self.refresh_unless_changed(&token).await?;
                let again = self.call(&token, method, path, json).await;
                return self.ended_if_invalid(again, &token);
            }
            other => other,
        };
        self.ended_if_invalid(result, &token)
    }

    fn ended_if_invalid(&self, result: Result<Bytes, RestError>, token: &Secret) -> Result<Bytes, RestError> {
        if let Err(RestError::TokenInvalid) = result {
            self.forget(token);
        }
        result
    }

    async fn call(&self, token: &Secret, method: &str, path: &str, json: Option<&str>) -> Result<Bytes, RestError> {
        let bearer = format!("Bearer {}", token.expose());
        let mut headers = vec![("authorization", bearer.as_str()), ("accept", "application/json")];
        if json.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let body = Bytes::copy_from_slice(json.unwrap_or_default().as_bytes());
        let response = self.https.send(method, &format!("{}{path}", self.base), &headers, body).await?;
        if response.is_success() {
            Ok(response.body)
        } else {
            Err(error_of(&response))
        }
    }
}

fn error_of(response: &Response) -> RestError {
    RestError::from_response(response.status, response.header("retry-after"), &response.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        assert!(matches!(RcClient::new(ClientOptions::new("http://127.0.0.1:1", "id")), Err(RestError::Config(_))));
        assert!(matches!(RcClient::new(ClientOptions::new("https://127.0.0.1:1", " ")), Err(RestError::Config(_))));
        let mut bad_ca = ClientOptions::new("https://127.0.0.1:1", "id");
        bad_ca.extra_ca_pem = Some("garbage".into());
        assert!(matches!(RcClient::new(bad_ca), Err(RestError::Config(_))));
        let client = RcClient::new(ClientOptions::new("https://127.0.0.1:1/", "id")).unwrap();
        assert_eq!(client.server(), "https://127.0.0.1:1");
        assert!(!client.is_signed_in());
    }

    #[test]
    fn client_debug_hides_secrets() {
        let mut options = ClientOptions::new(crate::PRODUCTION, "client-id");
        options.client_secret = Some(Secret::new("the-client-secret"));
        assert!(!format!("{options:?}").contains("the-client-secret"));
        let client = RcClient::new(options).unwrap();
        let answer = br#"{"access_token":"the-access-token","expires_in":3600,"refresh_token":"the-refresh-token"}"#;
        client.set_tokens(Some(Tokens::from_response(TokenResponse::parse(answer).unwrap(), SystemTime::now())));
        let debug = format!("{client:?}");
        for secret in ["the-client-secret", "the-access-token", "the-refresh-token"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        assert!(debug.contains("client-id"));
    }

    #[tokio::test]
    async fn calls_without_tokens_need_sign_in() {
        let client = RcClient::new(ClientOptions::new("https://127.0.0.1:1", "id")).unwrap();
        assert_eq!(client.caller_ids().await.unwrap_err(), RestError::NotSignedIn);
        assert_eq!(client.refresh().await.unwrap_err(), RestError::NotSignedIn);
        assert_eq!(client.revoke().await, Ok(()));
    }

    #[tokio::test]
    async fn unreachable_server_is_a_network_error() {
        // A port nothing listens on (bound, then closed).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let client = RcClient::new(ClientOptions::new(format!("https://127.0.0.1:{port}"), "id")).unwrap();
        assert!(matches!(client.sign_in_jwt("a.b.c").await, Err(RestError::Network(_))));
    }
}

//! Signing in with a RingCentral account: OAuth 2.0 with PKCE in the system browser (or a JWT
//! for service accounts), the sipInfo from sip-provision, the caller IDs of the account and
//! conferences through the REST API. Tokens live in the keychain, never in the settings file.

use crate::secrets::SecretStore;
use rc_rest::{ClientOptions, LoopbackRedirect, Pkce, RcClient, RestError, Server, Tokens};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The keychain entry holding the OAuth tokens.
const TOKENS_KEY: &str = "ringcentral-oauth-tokens";

/// How long the browser sign-in may take.
const BROWSER_WAIT: Duration = Duration::from_secs(300);

/// The server setting that means the embedded demo server.
pub const DEMO_SERVER: &str = "demo";

/// Where the user signed in and with which app (kept in the settings; no secret in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedIn {
    /// `production`, `sandbox`, `demo` or a base URL.
    pub server: String,
    /// The app's client id.
    pub client_id: String,
}

/// What the window sends to sign in.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInRequest {
    /// `production`, `sandbox`, `demo` or a base URL (`https://…`).
    pub server: String,
    /// The app's client id (the demo's when empty in demo mode).
    pub client_id: String,
    /// The app's client secret (JWT sign-in needs it).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// A JWT credential: sign in without the browser (service accounts).
    #[serde(default)]
    pub jwt: Option<String>,
}

/// Where to reach the REST API: a base URL and a CA to trust besides the system's.
pub struct Endpoint {
    /// `https://…`.
    pub base_url: String,
    /// rc-sim's CA in demo mode (or `SOFTPHONE_EXTRA_CA`).
    pub extra_ca_pem: Option<String>,
}

/// The client for `request` at `endpoint`.
pub fn client(endpoint: &Endpoint, client_id: &str, client_secret: Option<&str>) -> Result<RcClient, String> {
    let mut options = ClientOptions::new(&endpoint.base_url, client_id);
    options.client_secret = client_secret.filter(|s| !s.is_empty()).map(|s| rc_rest::Secret::new(s.to_owned()));
    options.extra_ca_pem = endpoint.extra_ca_pem.clone();
    RcClient::new(options).map_err(|e| e.to_string())
}

/// The base URL of a server setting other than the demo.
pub fn base_url(server: &str) -> String {
    Server::from_setting(server).base_url().to_owned()
}

/// Signs in: with the JWT when given, else through the system browser and a loopback
/// redirect (PKCE). `open` opens a URL in the browser.
pub async fn sign_in(client: &RcClient, request: &SignInRequest, open: impl FnOnce(&str) -> Result<(), String>) -> Result<(), String> {
    if let Some(jwt) = request.jwt.as_deref().map(str::trim).filter(|j| !j.is_empty()) {
        return client.sign_in_jwt(jwt).await.map(drop).map_err(|e| e.to_string());
    }
    let redirect = LoopbackRedirect::bind().map_err(|e| format!("cannot wait for the browser's answer: {e}"))?;
    let pkce = Pkce::generate();
    open(&client.authorize_url(redirect.redirect_uri(), redirect.state(), &pkce))?;
    let code = redirect.wait(BROWSER_WAIT).await.map_err(|e| e.to_string())?;
    client.exchange_code(&code, pkce.verifier(), redirect.redirect_uri()).await.map(drop).map_err(|e| e.to_string())
}

/// Opens `url` (https, or http on loopback) in the system browser (`rc_rest::open_in_browser`:
/// the `open` crate, whose Windows, macOS and Linux paths `scripts/windows` and
/// `rc-rest/tests/browser.rs` test).
pub fn open_in_browser(url: &str) -> Result<(), String> {
    rc_rest::open_in_browser(url).map_err(|e| e.to_string())
}

/// Keeps the client's tokens in the keychain (RingCentral rotates the refresh token at every
/// refresh, so this follows every use of the client), or forgets them when the session ended.
pub fn save_tokens_of(client: &RcClient, keychain: &dyn SecretStore) {
    save_tokens(keychain, client.tokens().as_ref());
}

fn save_tokens(keychain: &dyn SecretStore, tokens: Option<&Tokens>) {
    match tokens.and_then(|t| serde_json::to_string(t).ok()) {
        Some(json) => drop(keychain.set(TOKENS_KEY, &json)),
        None => keychain.delete(TOKENS_KEY),
    }
}

/// The tokens kept in the keychain, if any.
pub fn saved_tokens(keychain: &dyn SecretStore) -> Option<Tokens> {
    serde_json::from_str(&keychain.get(TOKENS_KEY).ok()?).ok()
}

/// Forgets the saved tokens.
pub fn forget_tokens(keychain: &dyn SecretStore) {
    keychain.delete(TOKENS_KEY);
}

/// The caller IDs of the account (numbers with the CallerId feature), as dialable numbers.
pub async fn caller_ids(client: &RcClient) -> Result<Vec<String>, String> {
    let numbers = client.caller_ids().await.map_err(|e| e.to_string())?;
    Ok(numbers.into_iter().map(|n| n.phone_number).collect())
}

/// A user-facing message for a REST failure, saying what to do.
pub fn explain(e: &RestError) -> String {
    if e.needs_sign_in() {
        format!("{e}. Sign in again (Settings).")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Keychain;

    #[test]
    fn server_settings_map_to_ringcentrals_addresses() {
        assert_eq!(base_url("production"), "https://platform.ringcentral.com");
        assert_eq!(base_url("sandbox"), "https://platform.devtest.ringcentral.com");
        assert_eq!(base_url("https://rc.example.test"), "https://rc.example.test");
    }

    #[test]
    fn tokens_go_to_the_keychain_and_come_back_and_can_be_forgotten() {
        let keychain = Keychain::default();
        let response = rc_rest::oauth::TokenResponse::parse(br#"{"access_token":"at-1","token_type":"bearer","expires_in":3600,"refresh_token":"rt-1","refresh_token_expires_in":604800}"#).unwrap();
        let tokens = Tokens::from_response(response, std::time::SystemTime::now());
        save_tokens(&keychain, Some(&tokens));
        assert_eq!(saved_tokens(&keychain), Some(tokens.clone()));
        forget_tokens(&keychain);
        assert_eq!(saved_tokens(&keychain), None);
        assert!(!format!("{tokens:?}").contains("at-1"), "tokens never show in Debug output");
    }
}
